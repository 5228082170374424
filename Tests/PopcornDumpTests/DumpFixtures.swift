import Foundation
import PopcornSupport

struct FixtureError: Error, CustomStringConvertible { var description: String }

/// Real per-ISA binaries for popcorn-dump: an aligned pair (a freestanding program whose
/// sections a linker script pins to the same addresses on every ISA) and a misaligned pair
/// (the same musl program linked independently per ISA).
final class DumpFixtures {
    let dir: TemporaryDirectory
    private let toolchain = Toolchain()

    init() throws { dir = try TemporaryDirectory(prefix: "popcorn-dump-test") }

    private func tool(_ t: Toolchain.Tool) throws -> String {
        do { return try toolchain.path(of: t) } catch {
            throw FixtureError(description: "required tool '\(t.rawValue)' is missing (install '\(t.package)')")
        }
    }

    private func run(_ tool: String, _ args: [String]) throws {
        let result = try ProcessRunner.run(tool, args)
        guard result.succeeded else { throw FixtureError(description: "\(tool) \(args) failed: \(result.stderrText)") }
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = dir.file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func compile(_ source: String, isa: ISA, flags: [String]) throws -> String {
        let out = dir.file("\((source as NSString).lastPathComponent).\(isa).o")
        try run(try tool(.clang), ["--target=\(isa.triple)", "-nostdinc", "-isystem", isa.muslIncludeDir,
                                   "-ffunction-sections", "-fdata-sections", "-O1", "-c", source, "-o", out] + flags)
        return out
    }

    /// `aligned` and its siblings; returns the primary path.
    func alignedProgram() throws -> String {
        let source = try write("aligned.c", """
        int value = 1;
        __attribute__((noinline)) static int twice(int x) { return 2 * x; }
        int entry(void) { return twice(value); }
        """)
        let script = try write("aligned.ld", """
        ENTRY(entry)
        SECTIONS {
          . = 0x400000;
          .text : { . = 0x400000; *(.text.entry) . = 0x400100; *(.text.twice) *(.text .text.*) }
          . = 0x500000;
          .data : { *(.data.value) *(.data .data.*) }
          /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame) }
        }
        """)
        let primary = dir.file("aligned")
        for isa in ISA.allCases {
            let object = try compile(source, isa: isa, flags: ["-ffreestanding", "-fno-asynchronous-unwind-tables"])
            try run(try tool(.lld), ["-static", "-m", isa.lldEmulation, "-T", script, "-o", isa.siblingPath(of: primary), object])
        }
        return primary
    }

    /// `separate` and its siblings, linked against musl without any alignment.
    func separatelyLinkedProgram() throws -> String {
        let source = try write("separate.c", "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n")
        let primary = dir.file("separate")
        for isa in ISA.allCases {
            let lib = isa.muslLibDir
            try Toolchain.requireFile("\(lib)/libc.a", package: isa.muslPackage)
            let object = try compile(source, isa: isa, flags: [])
            try run(try tool(.lld), ["-static", "-m", isa.lldEmulation, "-o", isa.siblingPath(of: primary),
                                     "\(lib)/crt1.o", "\(lib)/crti.o", object, "\(lib)/libc.a", isa.builtinsArchive, "\(lib)/crtn.o"])
        }
        return primary
    }
}

/// Captured result of one in-process popcorn-dump run.
struct DumpRun {
    var status: Int32
    var stdout: String
    var stderr: [String]
}
