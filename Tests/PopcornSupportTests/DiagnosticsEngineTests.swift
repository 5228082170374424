import Testing
@testable import PopcornSupport

@Suite struct DiagnosticsEngineTests {
    @Test func printsClangStyleMessages() {
        var lines: [String] = []
        let engine = DiagnosticsEngine(toolName: "popcorn-cc") { lines.append($0) }
        engine.error("no input files")
        engine.warning("unused", at: SourceLocation(file: "a.c", line: 3, column: 7))
        #expect(lines == ["popcorn-cc: error: no input files", "a.c:3:7: warning: unused"])
        #expect(engine.hasErrors)
        #expect(engine.errorCount == 1)
    }

    @Test func werrorPromotesAndWSuppresses() {
        var lines: [String] = []
        let engine = DiagnosticsEngine(toolName: "t") { lines.append($0) }
        engine.warningsAsErrors = true
        engine.warning("w1")
        engine.suppressWarnings = true
        engine.warning("w2")
        #expect(lines == ["t: error: w1"])
    }
}
