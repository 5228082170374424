import Foundation
import Testing
@testable import PopcornSupport

@Suite struct ProcessRunnerTests {
    @Test func capturesOutputAndStatus() throws {
        let r = try ProcessRunner.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(r.status == 3)
        #expect(r.stdoutText == "out\n")
        #expect(r.stderrText == "err\n")
    }

    @Test func missingToolIsReported() {
        #expect(throws: ProcessError.self) { try ProcessRunner.run("/nonexistent/tool", []) }
    }

    @Test func atomicWriteLeavesNoTemporary() throws {
        let dir = try TemporaryDirectory()
        try AtomicFile.write(Data("hi".utf8), to: dir.file("out"))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(names == ["out"])
    }

    @Test func isaSiblingPaths() {
        #expect(ISA.host.siblingPath(of: "app") == "app")
        for isa in ISA.foreign { #expect(isa.siblingPath(of: "app") == "app.\(isa.rawValue)") }
    }
}

@Suite struct AtomicFileTests {
    @Test(arguments: ["v", "a/v", "/tmp/x", "dir/sub/app"])
    func temporaryIsASiblingOfTheDestination(_ destination: String) {
        let tmp = AtomicFile.temporaryPath(for: destination)
        let dir = destination.contains("/") ? String(destination[...destination.lastIndex(of: "/")!]) : ""
        let name = destination.split(separator: "/").last.map(String.init)!
        #expect(tmp.hasPrefix(dir + "." + name + ".tmp-"))
        #expect(!tmp.dropFirst(dir.count).contains("/"))
    }
}

@Suite struct SpecialOutputTests {
    /// Writing to a device must not replace it (`-o /dev/null`): a rename would turn it into a file.
    @Test func devNullStaysADevice() throws {
        #expect(AtomicFile.isSpecial("/dev/null"))
        try AtomicFile.write(Data("discarded".utf8), to: "/dev/null")
        let dir = try TemporaryDirectory()
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("src")))
        try AtomicFile.install(dir.file("src"), to: "/dev/null")
        var info = stat()
        #expect(stat("/dev/null", &info) == 0)
        #expect((info.st_mode & S_IFMT) == S_IFCHR)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: "/dev")).contains { $0.hasPrefix(".null.tmp") })
    }
}
