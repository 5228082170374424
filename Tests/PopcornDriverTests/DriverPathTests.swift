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
                let path = Path.decoding(fileSystemBytes: bytes)
                #expect(Path.fileSystemBytes(path) == bytes, "\(bytes)")
            }
        }
        // The escape scalars themselves, validly encoded, also come back byte for byte.
        let encodedEscape = Array("a\u{10FFFE}b".utf8)
        #expect(Path.fileSystemBytes(Path.decoding(fileSystemBytes: encodedEscape)) == encodedEscape)
        #expect(!Path.isUTF8(Path.decoding(fileSystemBytes: encodedEscape)))
    }

    @Test func validUTF8IsUnchanged() {
        for name in ["a.c", "dir/ö.c", "日本.o", "", "-"] {
            #expect(Path.decoding(fileSystemBytes: Array(name.utf8)) == name)
            #expect(Path.fileSystemBytes(name) == Array(name.utf8))
            #expect(Path.isUTF8(name))
        }
        let raw = Path.decoding(fileSystemBytes: [0x6F, 0x75, 0x74, 0xFF, 0xFE])
        #expect(raw != "out\u{FFFD}\u{FFFD}")
        #expect(!Path.isUTF8(raw))
        #expect(Path.baseName("dir/" + raw) == raw)
    }

    @Test func outputsKeepTheirBytes() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-path-test")
        let name = directory.file(Path.decoding(fileSystemBytes: Array("out".utf8) + [0xFF, 0xFE]))
        try RawFile.write(Data("x".utf8), to: name)
        #expect(RawFile.exists(name))
        let listed = try ProcessRunner.checked("/bin/ls", [directory.path]).stdout
        #expect(listed == Data(Array("out".utf8) + [0xFF, 0xFE, 0x0A]))
        // Writing again replaces the file atomically.
        try RawFile.write(Data("yz".utf8), to: name)
        let size = try ProcessRunner.checked("/bin/sh", ["-c", "cat \"$1\"/out* | wc -c", "sh", directory.path]).stdoutText
        #expect(size.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
    }

    @Test func responseFilesKeepBytesAndMayHaveRawNames() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-path-test")
        let file = directory.file(Path.decoding(fileSystemBytes: Array("args".utf8) + [0xE9]))
        try RawFile.write(Data(Array("-o out".utf8) + [0xFF, 0x20] + Array("-c".utf8)), to: file)
        let expanded = try ResponseFileExpander().expand(["@" + file])
        #expect(expanded == ["-o", Path.decoding(fileSystemBytes: Array("out".utf8) + [0xFF]), "-c"])
    }

    @Test func nonUTF8NamesAreNotHandedToExternalTools() throws {
        let input = Path.decoding(fileSystemBytes: Array("in".utf8) + [0xFE] + Array(".c".utf8))
        let jobs = try Planning.jobs(["-c", input])
        let frontend = try #require(jobs.first { $0.kind == .frontend })
        // The temporary bitcode is named without the raw byte; only the input itself is raw.
        #expect(frontend.arguments.filter { !Path.isUTF8($0) } == [input])
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-cc") { lines.all.append($0) }
        #expect(JobExecutor(diagnostics: diagnostics).run([frontend]) == 1)
        #expect(lines.all == ["popcorn-cc: error: cannot pass '\(input)' to clang-19: only the built-in back end handles file names that are not UTF-8"])
    }
}
