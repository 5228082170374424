import Foundation
import PopcornSupport
import Testing
@testable import PopcornDriver

/// File names as the kernel sees them: any bytes, any length of working directory.
@Suite struct DriverPathTests {
    @Test func decodingIsLosslessForAnyBytes() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 4, 7, 16, 64] {
            for _ in 0..<200 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let path = Path.decode(bytes)
                #expect(Path.fileSystemBytes(path) == bytes, "\(bytes)")
            }
        }
        // The escape scalars themselves, validly encoded, also come back byte for byte.
        let encodedEscape = Array("a\u{10FFFE}b".utf8)
        #expect(Path.fileSystemBytes(Path.decode(encodedEscape)) == encodedEscape)
        #expect(!Path.isUTF8(Path.decode(encodedEscape)))
    }

    @Test func validUTF8IsUnchanged() {
        for name in ["a.c", "dir/ö.c", "日本.o", "", "-"] {
            #expect(Path.decode(Array(name.utf8)) == name)
            #expect(Path.fileSystemBytes(name) == Array(name.utf8))
            #expect(Path.isUTF8(name))
        }
        let raw = Path.decode([0x6F, 0x75, 0x74, 0xFF, 0xFE])
        #expect(raw != "out\u{FFFD}\u{FFFD}")
        #expect(!Path.isUTF8(raw))
        #expect(Path.baseName("dir/" + raw) == raw)
    }

    @Test func outputsKeepTheirBytes() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-path-test")
        let name = directory.file(Path.decode(Array("out".utf8) + [0xFF, 0xFE]))
        try AtomicFile.write(Data("x".utf8), to: name)
        #expect(FileSystem.exists(name))
        let listed = try ProcessRunner.checked("/bin/ls", [directory.path]).stdout
        #expect(listed == Data(Array("out".utf8) + [0xFF, 0xFE, 0x0A]))
        // Writing again replaces the file atomically.
        try AtomicFile.write(Data("yz".utf8), to: name)
        let size = try ProcessRunner.checked("/bin/sh", ["-c", "cat \"$1\"/out* | wc -c", "sh", directory.path]).stdoutText
        #expect(size.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
    }

    @Test func responseFilesKeepBytesAndMayHaveRawNames() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-path-test")
        let file = directory.file(Path.decode(Array("args".utf8) + [0xE9]))
        try AtomicFile.write(Data(Array("-o out".utf8) + [0xFF, 0x20] + Array("-c".utf8)), to: file)
        let expanded = try ResponseFileExpander().expand(["@" + file])
        #expect(expanded == ["-o", Path.decode(Array("out".utf8) + [0xFF]), "-c"])
    }

    /// The frontend job carries a source name that is not UTF-8 as it is (ProcessRunner passes
    /// bytes), and names its temporaries without the raw bytes.
    @Test func nonUTF8SourceNamesReachTheFrontend() throws {
        let input = Path.decode(Array("in".utf8) + [0xFE] + Array(".c".utf8))
        let jobs = try Planning.jobs(["-c", input])
        let frontend = try #require(jobs.first { $0.kind == .frontend })
        #expect(frontend.arguments.filter { !Path.isUTF8($0) } == [input])
    }
}
