import Foundation
import PopcornSupport
@testable import PopcornELF

/// A test could not run its external tool; thrown (never swallowed) so the test fails loudly.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

/// Builds real objects and binaries with the LLVM 19 tools and musl, in a private directory.
final class TestTools {
    let dir: TemporaryDirectory
    let toolchain = Toolchain()

    init() throws { dir = try TemporaryDirectory(prefix: "popcorn-elf-test") }

    func path(_ name: String) -> String { dir.file(name) }

    func tool(_ t: Toolchain.Tool) throws -> String {
        do { return try toolchain.path(of: t) } catch {
            throw TestSetupError(description: "required tool '\(t.rawValue)' is missing (install '\(t.package)')")
        }
    }

    /// An LLVM tool that `Toolchain` does not know (llvm-readelf-19, llvm-nm-19, …).
    func llvmTool(_ name: String) throws -> String {
        for candidate in ["/usr/lib/llvm-19/bin/\(name)", "/usr/bin/\(name)-19"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestSetupError(description: "required tool '\(name)' (LLVM 19) is missing")
    }

    @discardableResult
    func run(_ tool: String, _ args: [String]) throws -> ProcessResult {
        let result = try ProcessRunner.run(tool, args)
        guard result.succeeded else {
            throw TestSetupError(description: "\(tool) \(args.joined(separator: " ")) failed: \(result.stderrText)")
        }
        return result
    }

    func write(_ name: String, _ text: String) throws -> String {
        let p = path(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    /// Compiles C (or assembly) for `isa` against musl's headers.
    func compile(_ source: String, isa: ISA, output: String, flags: [String] = []) throws -> String {
        try Toolchain.requireFile(isa.muslIncludeDir, package: isa.muslPackage)
        let out = path(output)
        try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try run(try tool(.clang), ["--target=\(isa.triple)", "-nostdinc", "-isystem", isa.muslIncludeDir,
                                   "-ffunction-sections", "-fdata-sections", "-O1", "-c", source, "-o", out] + flags)
        return out
    }

    /// Links a static musl executable.
    func linkMusl(_ objects: [String], isa: ISA, output: String) throws -> String {
        let lib = isa.muslLibDir
        try Toolchain.requireFile("\(lib)/libc.a", package: isa.muslPackage)
        try Toolchain.requireFile(isa.builtinsArchive, package: isa.builtinsPackage)
        let out = path(output)
        try run(try tool(.lld), ["-static", "-m", isa.lldEmulation, "-o", out, "\(lib)/crt1.o", "\(lib)/crti.o"]
                + objects + ["\(lib)/libc.a", isa.builtinsArchive, "\(lib)/crtn.o"])
        return out
    }

    /// Runs a binary of `isa` (under qemu for foreign ISAs) and returns its stdout.
    func execute(_ binary: String, isa: ISA) throws -> String {
        if let emulator = isa.emulator {
            let qemu = isa == .aarch64 ? try tool(.qemuAArch64) : emulator
            return try run(qemu, [binary]).stdoutText
        }
        return try run(binary, []).stdoutText
    }
}

/// A small C program with a global, a static function, a static variable, TLS and a string.
let sampleProgram = """
#include <stdio.h>
__thread int tls_value = 3;
static int counter;
static int helper(int x) { return x + counter++; }
int global_value = 5;
const char *greeting = "hello";
int main(void) { printf("%s %d %d\\n", greeting, helper(global_value), tls_value); return 0; }
"""
