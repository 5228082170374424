import Foundation
import Testing
import PopcornSupport
@testable import PopcornLinker

@Suite struct LLDMessagesTests {
    static let scratch = "/tmp/popcorn-ld-AbCdEf"
    static let names = [
        "\(scratch)/x86_64/in001.o": "src/a.o", "\(scratch)/aarch64/in001.o": "src/a.o",
        "\(scratch)/x86_64/lib002.a": "libx.a", "\(scratch)/aarch64/lib002.a": "libx.a",
        "\(scratch)/x86_64/lib002.a(b.o.2)": "libx.a(b.o)", "\(scratch)/aarch64/lib002.a(b.o.2)": "libx.a(b.o)",
    ]

    static func output(_ isa: String) -> String {
        """
        ld.lld: error: undefined symbol: foo
        >>> referenced by a.c
        >>>               \(scratch)/\(isa)/in001.o:(main)
        >>> referenced by b.c
        >>>               \(scratch)/\(isa)/lib002.a(b.o.2):(helper)
        ld.lld: warning: cannot find entry symbol start; not setting start address
        ld.lld: warning: address (0x4004dc) of section .text is not a multiple of alignment (16)

        """
    }

    @Test func parsesMessagesWithTheirContinuationLines() {
        let messages = LLDMessages.parse(Self.output("x86_64"), tool: "/usr/lib/llvm-19/bin/ld.lld")
        #expect(messages.map(\.severity) == [.error, .warning, .warning])
        #expect(messages[0].text.hasPrefix("undefined symbol: foo\n>>> referenced by a.c\n"))
        #expect(messages[0].text.split(separator: "\n").count == 5)
        let renamed = LLDMessages.parse("ld.lld-19: warning: w\n", tool: "ld.lld-19")
        #expect(renamed == [LLDMessages.Message(severity: .warning, text: "w")])
    }

    @Test func namesTheUsersFilesAndReportsEachMessageOnce() {
        var lines: [String] = []
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-ld") { lines.append($0) }
        let messages = LLDMessages(displayNames: Self.names)
        for isa in ["x86_64", "aarch64"] {
            #expect(messages.report(Self.output(isa), tool: "ld.lld", to: diagnostics) == 1)
        }
        #expect(lines == ["""
            popcorn-ld: error: undefined symbol: foo
            >>> referenced by a.c
            >>>               src/a.o:(main)
            >>> referenced by b.c
            >>>               libx.a(b.o):(helper)
            """, "popcorn-ld: warning: cannot find entry symbol start; not setting start address"])
        #expect(!lines.joined().contains(Self.scratch))
    }

    @Test func referencesInAnotherOrderAreTheSameMessage() {
        var lines: [String] = []
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-ld") { lines.append($0) }
        let messages = LLDMessages(displayNames: [:])
        let a = ">>> referenced by a.c\n>>>               a.o:(main)", b = ">>> referenced by b.c\n>>>               b.o:(f)"
        messages.report("ld.lld: error: undefined symbol: x\n\(a)\n\(b)\n", tool: "ld.lld", to: diagnostics)
        messages.report("ld.lld: error: undefined symbol: x\n\(b)\n\(a)\n", tool: "ld.lld", to: diagnostics)
        messages.report("ld.lld: error: undefined symbol: x\n\(a)\n", tool: "ld.lld", to: diagnostics)
        #expect(lines == ["popcorn-ld: error: undefined symbol: x\n\(a)\n\(b)", "popcorn-ld: error: undefined symbol: x\n\(a)"])
    }

    @Test func scriptAlignmentWarningsAreLeftOut() {
        let message = LLDMessages.Message(severity: .warning, text: "address (0x414cfc) of section .rodata is not a multiple of alignment (32)")
        #expect(LLDMessages.isScriptArtefact(message))
        #expect(!LLDMessages.isScriptArtefact(LLDMessages.Message(severity: .warning, text: "cannot find entry symbol x")))
    }

    @Test func passTimerReportsEveryPassAndWritesAChromeTrace() throws {
        let timer = PassTimer(tool: "popcorn-ld")
        _ = timer.measure("1. options") { usleep(1000) }
        #expect(throws: LinkerError.noInputFiles) { try timer.measure("2. inputs") { throw LinkerError.noInputFiles } }
        #expect(timer.entries.map(\.name) == ["1. options", "2. inputs"])
        #expect(timer.entries[0].duration >= 1000)
        let lines = timer.text(total: timer.elapsed)
        #expect(lines.count == 3 && lines[0].hasPrefix("popcorn-ld: time: 1. options") && lines[2].contains("total"))
        let json = try JSONSerialization.jsonObject(with: timer.chromeTrace(total: 5000)) as? [String: Any]
        let events = try #require(json?["traceEvents"] as? [[String: Any]])
        #expect(events.filter { $0["ph"] as? String == "X" }.compactMap { $0["name"] as? String }
                == ["popcorn-ld", "1. options", "2. inputs"])
    }
}
