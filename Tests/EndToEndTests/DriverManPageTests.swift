import Foundation
import PopcornSupport
import Testing

/// `make stage` generates the manual pages from each tool's `--help`; `man` can show them.
@Suite struct DriverManPageTests {
    @Test(arguments: ["popcorn-cc", "popcorn-ld", "popcorn-dump"])
    func stagedPageRendersTheHelpText(_ tool: String) throws {
        let page = "\(Harness.root)/build/share/man/man1/\(tool).1"
        #expect(FileManager.default.fileExists(atPath: page), "make stage did not generate \(page)")
        let man = try Harness.systemTool("man", package: "man-db")
        let work = try Harness.scratch("man")
        let shown = try Harness.mustSucceed("MANWIDTH=200 '\(man)' -l '\(page)' | col -b", in: work.path).stdoutText
        let help = try Harness.mustSucceed("'\(try Harness.popcornTool(tool))' --help", in: work.path).stdoutText
        // Every option the help text lists (first word of an option line) appears in the page.
        let options = help.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("-"), let word = trimmed.split(separator: " ").first else { return nil }
            return String(word.hasSuffix(",") ? word.dropLast() : word)
        }
        #expect(options.count >= 5)
        for option in options { #expect(shown.contains(option), "\(tool): \(option)") }
        #expect(shown.contains("\(tool) - "))
    }
}
