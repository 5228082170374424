// popcorn-man <directory>: writes the section-1 manual pages of popcorn-cc, popcorn-ld and
// popcorn-dump, rendered from the same text as each tool's --help. Run by `make stage`; not
// installed itself.
import Foundation
import PopcornDriver
import PopcornDump
import PopcornLinker
import PopcornSupport

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 1, let directory = arguments.first, !directory.hasPrefix("-") else {
    FileHandle.standardError.write(Data("usage: popcorn-man <directory>\n".utf8))
    exit(2)
}
let source = "Popcorn toolchain \(Driver.version)"
let pages = [
    ManPage(name: "popcorn-cc", helpText: PopcornDriver.HelpText.render(), source: source),
    ManPage(name: "popcorn-ld", helpText: LinkerOptionParser.helpText, source: source),
    ManPage(name: "popcorn-dump", helpText: PopcornDump.HelpText.usage, source: source),
]
do {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for page in pages {
        try AtomicFile.write(Data(page.render().utf8), to: Path.join(directory, "\(page.name).1"))
    }
} catch {
    FileHandle.standardError.write(Data("popcorn-man: error: \(error)\n".utf8))
    exit(1)
}
