import Foundation
import Testing
import PopcornSupport

/// Bad input gets one clear error, a non-zero exit, and no output file.
@Suite struct BadInputTests {
    static let inputs = "\(Harness.root)/Tests/Inputs/diagnostics"

    func run(_ command: String, in dir: String) throws -> ProcessResult { try Harness.shell(command, in: dir) }

    @Test func unknownFlag() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bad")
        let r = try run("'\(cc)' --no-such-flag -c '\(Self.inputs)/hello.c' -o x.o", in: work.path)
        #expect(r.status == 1)
        #expect(r.stderrText.contains("error: unknown argument: '--no-such-flag'"), "\(r.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "\(work.path)/x.o"))
    }

    @Test func missingFile() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bad")
        let r = try run("'\(cc)' -c nothere.c -o x.o", in: work.path)
        #expect(r.status == 1)
        #expect(r.stderrText.contains("no such file or directory: 'nothere.c'"), "\(r.stderrText)")
    }

    @Test func syntaxErrorKeepsClangDiagnosticAndLeavesNoObject() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bad")
        try "stale".write(toFile: "\(work.path)/x.o", atomically: true, encoding: .utf8)
        let r = try run("'\(cc)' -c '\(Self.inputs)/syntax_error.c' -o x.o", in: work.path)
        #expect(r.status == 1)
        #expect(r.stderrText.contains("syntax_error.c:3:14: error:"), "\(r.stderrText)")
        // The previous output is untouched: nothing half-written replaced it.
        #expect((try? String(contentsOfFile: "\(work.path)/x.o", encoding: .utf8)) == "stale")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == ["x.o"])
    }

    @Test func inlineAssemblyIsRejectedWithLine() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bad")
        let r = try run("'\(cc)' -O2 -c '\(Self.inputs)/inline_asm.c' -o x.o", in: work.path)
        #expect(r.status == 1)
        #expect(r.stderrText.contains("inline_asm.c:5"), "\(r.stderrText)")
        #expect(r.stderrText.contains("error:"))
        #expect(!FileManager.default.fileExists(atPath: "\(work.path)/x.o"))
    }

    @Test func linkerRejectsPlainObjectAndLeavesNoBinary() throws {
        let ld = try Harness.popcornTool("popcorn-ld")
        let work = try Harness.scratch("bad")
        try Harness.mustSucceed("\(Harness.plainCC(.x86_64)) -c '\(Self.inputs)/hello.c' -I '\(Harness.root)/Toolchain/include' -o plain.o", in: work.path)
        let r = try run("'\(ld)' plain.o -o app", in: work.path)
        #expect(r.status == 1)
        #expect(r.stderrText.contains("plain.o"), "\(r.stderrText)")
        #expect(r.stderrText.contains("popcorn"), "\(r.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "\(work.path)/app"))
        #expect(!FileManager.default.fileExists(atPath: "\(work.path)/app.aarch64"))
    }

    @Test func linkerRejectsCorruptArchive() throws {
        let ld = try Harness.popcornTool("popcorn-ld"), cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bad")
        try Harness.mustSucceed("'\(cc)' -c '\(Self.inputs)/hello.c' -o hello.o", in: work.path)
        try Harness.mustSucceed("printf '!<arch>\\nbroken-member-header' > libbad.a", in: work.path)
        let r = try run("'\(ld)' hello.o libbad.a -o app", in: work.path)
        #expect(r.status == 1)
        #expect(r.stderrText.contains("libbad.a"), "\(r.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "\(work.path)/app"))
    }

    @Test func linkerReportsMissingLibrary() throws {
        let ld = try Harness.popcornTool("popcorn-ld"), cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bad")
        try Harness.mustSucceed("'\(cc)' -c '\(Self.inputs)/hello.c' -o hello.o", in: work.path)
        let r = try run("'\(ld)' hello.o -lnosuchlib -o app", in: work.path)
        #expect(r.status == 1)
        #expect(r.stderrText.contains("nosuchlib"), "\(r.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "\(work.path)/app"))
    }

    @Test func noTemporaryFilesAreLeftBehind() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bad")
        let tmp = try Harness.scratch("tmpdir")
        let r = try Harness.shell("TMPDIR='\(tmp.path)' '\(cc)' -O2 '\(Self.inputs)/hello.c' -o app && TMPDIR='\(tmp.path)' '\(cc)' -c '\(Self.inputs)/syntax_error.c' -o y.o; true", in: work.path)
        #expect(r.succeeded)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: work.path)) == ["app", "app.aarch64"])
    }

    /// `-o /dev/null` (compile and link) writes into the device instead of replacing it, and
    /// creates nothing beside it.
    @Test func outputToDevNullKeepsTheDevice() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("devnull")
        try Harness.mustSucceed("'\(cc)' -O2 -c '\(Self.inputs)/hello.c' -o /dev/null", in: work.path)
        try Harness.mustSucceed("'\(cc)' -O2 '\(Self.inputs)/hello.c' -o /dev/null", in: work.path)
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR, "/dev/null is no longer a device")
        #expect(!FileManager.default.fileExists(atPath: "/dev/null.aarch64"))
    }
}
