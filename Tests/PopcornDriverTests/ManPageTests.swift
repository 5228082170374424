import Foundation
import PopcornSupport
import Testing
@testable import PopcornDriver

/// The roff rendering of `--help` text that `make stage` installs as manual pages.
@Suite struct ManPageTests {
    static let sample = """
    NAME
      tool - does things

    DESCRIPTION
      First line of prose,
      second line. A back\\slash and .dot
      .leading dot

    OPTIONS
      Group one:
        -a                 Alpha option
        -long-option-name-that-fills-the-column
                           Its description

      -b, --bee <v>        Bee
      -static, -Bstatic, --static accepted and ignored

    ENVIRONMENT
      TOOL_HOME     where it lives
                    (continued)

    EXAMPLES
      tool -a x    do it … now
    """

    private var page: String { ManPage(name: "tool", helpText: Self.sample, source: "Suite 1.0").render() }

    @Test func headerAndNameLine() {
        let lines = page.split(separator: "\n").map(String.init)
        #expect(lines.contains(".TH \"TOOL\" \"1\" \"\" \"Suite 1.0\" \"User Commands\""))
        let name = lines.firstIndex(of: ".SH NAME")
        #expect(name.map { lines[$0 + 1] } == "tool \\- does things")
        #expect(lines.filter { $0.hasPrefix(".SH ") } == [".SH NAME", ".SH DESCRIPTION", ".SH OPTIONS",
                                                          ".SH ENVIRONMENT", ".SH EXAMPLES"])
    }

    @Test func proseIsFilledAndEscaped() {
        #expect(page.contains(".PP\nFirst line of prose,\nsecond line. A back\\eslash and .dot\n\\&.leading dot\n"))
    }

    @Test func entriesBecomeTaggedParagraphs() {
        #expect(page.contains(".SS Group one\n"))
        #expect(page.contains(".TP\n\\fB\\-a\\fR\nAlpha option\n"))
        #expect(page.contains(".TP\n\\fB\\-long\\-option\\-name\\-that\\-fills\\-the\\-column\\fR\nIts description\n"))
        #expect(page.contains(".TP\n\\fB\\-b, \\-\\-bee <v>\\fR\nBee\n"))
        #expect(page.contains(".TP\n\\fB\\-static, \\-Bstatic, \\-\\-static\\fR\naccepted and ignored\n"))
        #expect(page.contains(".TP\n\\fBTOOL_HOME\\fR\nwhere it lives\n(continued)\n"))
        #expect(page.contains(".TP\n\\fBtool \\-a x\\fR\ndo it \\[u2026] now\n"))
    }

    /// The real page: every option `--help` lists is an entry, and groff finds nothing to warn about.
    @Test func popcornCCPageListsEveryOptionAndIsCleanRoff() throws {
        let roff = ManPage(name: "popcorn-cc", helpText: HelpText.render(), source: "Popcorn").render()
        for option in DriverOptions.all where !option.isHidden && option.group != .internalOnly {
            #expect(roff.contains(".TP\n\\fB" + ManPage.escape(option.synopsis)), "\(option.spelling)")
        }
        #expect(!roff.unicodeScalars.contains { !$0.isASCII })
        let directory = try TemporaryDirectory(prefix: "popcorn-man-test")
        let path = directory.file("popcorn-cc.1")
        try AtomicFile.write(Data(roff.utf8), to: path)
        let groff = try ProcessRunner.run("/usr/bin/groff", ["-man", "-Tutf8", "-ww", "-z", path])
        #expect(groff.succeeded)
        #expect(groff.stderrText.isEmpty, "\(groff.stderrText)")
    }
}
