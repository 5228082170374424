import Foundation
import Testing
@testable import PopcornSupport

@Suite struct PathBytesTests {
    @Test func bytesRoundTripExactly() {
        let samples: [[UInt8]] = [
            Array("plain/ascii.o".utf8), Array("caf\u{E9}/\u{1F600}.o".utf8),
            [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x6F],            // Latin-1 é
            [0xFF, 0xFE, 0x80, 0x2F, 0xC3],                  // invalid bytes, truncated sequence
            [0xED, 0xA0, 0x80],                              // encoded surrogate (not UTF-8)
            Array("\u{10FF80}\u{10FFFF}".utf8),              // the escape range itself, as real UTF-8
        ]
        for bytes in samples {
            let path = Path.decode(bytes)
            #expect(Path.fileSystemBytes(path) == bytes, "\(bytes)")
        }
        #expect(Path.decode(Array("caf\u{E9}.o".utf8)) == "caf\u{E9}.o")
        #expect(Path.displayName(Path.decode([0x61, 0xE9])) == "a\\xe9")
    }

    @Test func fileSystemCallsUseTheBytes() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-bytes")
        let name = Path.decode([0x63, 0x61, 0x66, 0xE9, 0x2E, 0x6F])
        let path = Path.join(dir.path, name)
        try FileSystem.write(Data("x".utf8), to: path)
        #expect(try FileSystem.read(path) == Data("x".utf8))
        #expect(try FileSystem.contents(ofDirectory: dir.path) == [name])
        // The kernel sees the original byte, not U+FFFD or the escape scalar's UTF-8.
        let listed = try ProcessRunner.run("/bin/ls", [dir.path])
        #expect(listed.stdout == Data([0x63, 0x61, 0x66, 0xE9, 0x2E, 0x6F, 0x0A]))
        try AtomicFile.write(Data("y".utf8), to: path)
        #expect(try FileSystem.read(path) == Data("y".utf8))
        #expect(try FileSystem.contents(ofDirectory: dir.path) == [name])
    }

    @Test func temporaryNamesAndTheirOwners() {
        let tmp = AtomicFile.temporaryPath(for: "out/app")
        defer { AtomicFile.discard(tmp) }
        #expect(tmp.hasPrefix("out/.app.tmp-\(getpid())-"))
        #expect(AtomicFile.temporaryOwner(Path.baseName(tmp)) == getpid())
        #expect(AtomicFile.temporaryOwner(".app.tmp-123-456") == 123)
        for name in ["app.tmp-1-2", ".app.tmp-1", ".app.tmp-x-2", ".tmp-1-2", ".app.tmp-1-2-3", ".app.tmp--2"] {
            #expect(AtomicFile.temporaryOwner(name) == nil, "\(name)")
        }
    }

    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-stale")
        // A PID that existed and is gone: a child that has been reaped.
        let child = try ProcessRunner.run("/bin/sh", ["-c", "echo $$"])
        let dead = Int32(child.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))!
        let stale = ".app.tmp-\(dead)-7", live = ".app.tmp-\(getppid())-8", other = ".app.tmp-notes"
        for name in [stale, live, other, "app"] { try FileSystem.write(Data(), to: dir.file(name)) }
        #expect(AtomicFile.removeStaleTemporaries(in: dir.path) == [stale])
        #expect(Set(try FileSystem.contents(ofDirectory: dir.path)) == [live, other, "app"])
    }
}
