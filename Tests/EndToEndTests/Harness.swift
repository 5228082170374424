import Foundation
import Testing
import PopcornSupport

/// Shared plumbing for the end-to-end tests: where the staged tools are, how to run programs on
/// each ISA, how to build the plain single-ISA reference, and an alignment check that does not
/// use any popcorn code (it reads `llvm-readelf-19` output).
enum Harness {
    /// The repository root (this file is Tests/EndToEndTests/Harness.swift).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `build/bin`, staged by `make`.
    static let binDirectory = "\(root)/build/bin"

    struct MissingTool: Error, CustomStringConvertible {
        var description: String
    }

    /// A tool's output not in the form a test reads.
    struct UnexpectedOutput: Error, CustomStringConvertible {
        var description: String
    }

    /// Path of a staged popcorn tool; a missing tool fails the test with instructions.
    static func popcornTool(_ name: String) throws -> String {
        let path = "\(binDirectory)/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingTool(description: "\(path) is missing: run `make` before `swift test` (make test does both)")
        }
        return path
    }

    /// Path of a system tool; missing tools fail loudly, naming the package to install.
    static func systemTool(_ name: String, package: String) throws -> String {
        for dir in ["/usr/bin", "/usr/lib/llvm-19/bin", "/usr/local/bin"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw MissingTool(description: "'\(name)' not found: install the Debian package '\(package)' (scripts/setup.sh does)")
    }

    /// Writes the `isa` object a popcorn object embeds to `destination`, decompressed by
    /// llvm-readelf (`-z -x` prints the section's uncompressed bytes as hex), so tests read it
    /// independently of PopcornELF. Returns false when `object` embeds none for `isa`.
    @discardableResult
    static func extractEmbeddedObject(_ object: String, isa: ISA, to destination: String) throws -> Bool {
        let readelf = try systemTool("llvm-readelf-19", package: "llvm-19")
        let dump = try ProcessRunner.run(readelf, ["-z", "-x", isa.containerSection, object])
        guard dump.succeeded, dump.stderrText.isEmpty else { return false }
        let bytes = try hexDumpBytes(dump.stdoutText)
        guard !bytes.isEmpty else { return false }
        try AtomicFile.write(Data(bytes), to: destination)
        return true
    }

    /// The bytes of an `llvm-readelf -x` hex dump. Each line is `0x` and an 8-digit offset, a
    /// space, then up to four groups of up to 8 hex digits in the 36 columns after it (a short
    /// last line is padded with spaces), then the bytes as text: read by column, since that text
    /// may itself look like hex.
    static func hexDumpBytes(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for line in text.split(separator: "\n") where line.hasPrefix("0x") {
            let characters = Array(line)
            guard characters.count > 11 else { continue }
            let digits = characters[11..<min(characters.count, 47)].filter { $0 != " " }
            guard digits.count % 2 == 0, digits.allSatisfy(\.isHexDigit) else {
                throw UnexpectedOutput(description: "unexpected llvm-readelf hex dump line: \(line)")
            }
            for index in stride(from: 0, to: digits.count, by: 2) {
                bytes.append(UInt8(String(digits[index...index + 1]), radix: 16)!)
            }
        }
        return bytes
    }

    /// The number on the runtime's POPCORN_STATS line `<name>: <number>` in `text` (stderr), or
    /// nil when there is no such line.
    static func stat(_ name: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("\(name): ") {
            return Int(line.dropFirst(name.count + 2))
        }
        return nil
    }

    /// A scratch directory that is removed afterwards.
    static func scratch(_ label: String) throws -> TemporaryDirectory {
        try TemporaryDirectory(prefix: "popcorn-e2e-\(label)")
    }

    /// Environment for running the staged tools and the example Makefiles.
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = "\(binDirectory):/usr/lib/llvm-19/bin:" + (env["PATH"] ?? "/usr/bin:/bin")
        env.removeValue(forKey: "MAKEFLAGS")
        env.removeValue(forKey: "MFLAGS")
        return env
    }

    /// Runs a command through the shell in `directory`, capturing output.
    @discardableResult
    static func shell(_ command: String, in directory: String) throws -> ProcessResult {
        try ProcessRunner.run("/bin/sh", ["-c", "cd '\(directory)' && \(command)"], environment: environment)
    }

    /// Runs a command and records a test failure (with its output) if it does not succeed.
    @discardableResult
    static func mustSucceed(_ command: String, in directory: String,
                            sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let result = try shell(command, in: directory)
        if !result.succeeded {
            Issue.record("`\(command)` failed (\(result.status)):\n\(result.stdoutText)\(result.stderrText)",
                         sourceLocation: sourceLocation)
            throw MissingTool(description: "command failed: \(command)")
        }
        return result
    }

    /// Runs a binary of the given ISA: natively for the host, under qemu-user otherwise.
    static func run(_ binary: String, isa: ISA, arguments: [String] = [], in directory: String) throws -> ProcessResult {
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        if let emulator = isa.emulator {
            let qemu = try systemTool(emulator, package: "qemu-user")
            return try shell("\(qemu) '\(binary)' \(quoted)", in: directory)
        }
        return try shell("'\(binary)' \(quoted)", in: directory)
    }

    /// The plain reference compiler for one ISA (stock clang-19 + ld.lld-19, static musl).
    static func plainCC(_ isa: ISA) -> String { "\(root)/scripts/musl-clang \(isa.rawValue)" }

    /// Copies a directory's contents to a fresh scratch directory.
    static func copy(_ source: String, to destination: String) throws {
        // -p keeps modification times: autoconf makefiles would otherwise try to regenerate
        // themselves (and need automake).
        try mustSucceed("cp -Rp '\(source)/.' '\(destination)/'", in: "/")
    }
}

/// An independent alignment check: reads both binaries' symbol tables with llvm-readelf and
/// compares the address of every symbol defined in both (globals by name, locals by name within
/// their STT_FILE scope).
enum IndependentAlignment {
    struct Symbol: Hashable { var key: String; var value: UInt64 }

    /// Symbols defined in the binary, keyed by name (globals) or `file::name` (locals).
    static func symbols(of binary: String) throws -> [String: [UInt64]] {
        let readelf = try Harness.systemTool("llvm-readelf-19", package: "llvm-19")
        let result = try ProcessRunner.run(readelf, ["-s", "--wide", binary])
        guard result.succeeded else {
            throw Harness.MissingTool(description: "llvm-readelf failed on \(binary): \(result.stderrText)")
        }
        var table: [String: [UInt64]] = [:]
        var scope = ""
        var inSymtab = false
        for line in result.stdoutText.split(separator: "\n") {
            if line.hasPrefix("Symbol table") { inSymtab = line.contains("'.symtab'"); continue }
            guard inSymtab else { continue }
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            // Num: Value Size Type Bind Vis Ndx Name
            guard f.count >= 7, f[0].hasSuffix(":"), let value = UInt64(f[1], radix: 16) else { continue }
            let type = f[3], bind = f[4], ndx = f[6]
            let name = f.count >= 8 ? String(f[7]) : ""
            if type == "FILE" { scope = name; continue }
            if ndx == "UND" || ndx == "ABS" || type == "SECTION" || name.isEmpty { continue }
            let key = bind == "LOCAL" ? "\(scope)::\(name)" : name
            table[key, default: []].append(value)
        }
        return table
    }

    /// Mismatching symbols between two binaries, as readable lines (empty when aligned), and the
    /// number of symbols compared.
    static func compare(_ a: String, _ b: String) throws -> (mismatches: [String], compared: Int) {
        let sa = try symbols(of: a), sb = try symbols(of: b)
        var mismatches: [String] = []
        var compared = 0
        for (key, va) in sa {
            guard let vb = sb[key] else { continue }
            compared += 1
            if va.sorted() != vb.sorted() {
                mismatches.append("\(key): \(va.map { String($0, radix: 16) }) vs \(vb.map { String($0, radix: 16) })")
            }
        }
        return (mismatches.sorted(), compared)
    }
}
