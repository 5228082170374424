import Foundation
import PopcornSupport
import Testing
@testable import PopcornDriver

@Suite struct ResponseFileTests {
    @Test func gccQuotingRules() {
        let text = #"-c  "a b.c" 'it''s' x\ y "q\"uote" '' -DX="1 2"\#n-o\#tout"#
        #expect(ResponseFileExpander.tokenize(text) ==
                ["-c", "a b.c", "its", "x y", "q\"uote", "", "-DX=1 2", "-o", "out"])
    }

    @Test func backslashEscapesInsideSingleQuotesToo() {
        #expect(ResponseFileExpander.tokenize(#"'a\'b'"#) == ["a'b"])
        #expect(ResponseFileExpander.tokenize("a\\\nb") == ["a\nb"])
    }

    @Test func expandsNestedFilesRelativeToTheirDirectory() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("sub"), withIntermediateDirectories: true)
        try "-c @inner.rsp -o out.o".write(toFile: dir.file("sub/outer.rsp"), atomically: true, encoding: .utf8)
        try "-O2\n'a file.c'".write(toFile: dir.file("sub/inner.rsp"), atomically: true, encoding: .utf8)
        let out = try ResponseFileExpander().expand(["-v", "@" + dir.file("sub/outer.rsp"), "z.c"])
        #expect(out == ["-v", "-c", "-O2", "a file.c", "-o", "out.o", "z.c"])
    }

    @Test func missingFileStaysLiteral() throws {
        let out = try ResponseFileExpander().expand(["@/nonexistent/args.rsp", "@"])
        #expect(out == ["@/nonexistent/args.rsp", "@"])
    }

    @Test func recursionIsAnError() throws {
        let dir = try TemporaryDirectory()
        try "-c @b.rsp".write(toFile: dir.file("a.rsp"), atomically: true, encoding: .utf8)
        try "@a.rsp".write(toFile: dir.file("b.rsp"), atomically: true, encoding: .utf8)
        #expect(throws: OptionError.self) { try ResponseFileExpander().expand(["@" + dir.file("a.rsp")]) }
    }
}
