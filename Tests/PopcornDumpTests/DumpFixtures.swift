import Foundation
import PopcornELF
import PopcornMetadata
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

    /// An LLVM 19 tool that `Toolchain` does not know (the fixtures need llc and llvm-objcopy).
    private func llvmTool(_ name: String) throws -> String {
        for path in ["/usr/lib/llvm-19/bin/\(name)", "/usr/bin/\(name)-19"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw FixtureError(description: "required tool '\(name)' is missing (install 'llvm-19')")
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

    /// A multi-ISA object (as popcorn-cc -c writes one) of a small function, and each ISA's
    /// object in it.
    func multiISAObject() throws -> (path: String, objects: [ISA: Data]) {
        let source = try write("object.c", "int twice(int x) { return 2 * x; }\n")
        var objects: [ISA: Data] = [:]
        for isa in ISA.allCases {
            objects[isa] = try FileSystem.read(try compile(source, isa: isa, flags: []))
        }
        let path = dir.file("object.o")
        try AtomicFile.write(try MultiISAObject.build(host: objects[.host]!, embedded: objects.filter { $0.key != .host }),
                             to: path)
        return (path, objects)
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

    /// Adds the `.popcorn.meta` sections popcorn-ld would add (each binary its own ISA's table,
    /// built by `MetadataBuilder` from the binaries themselves) to `primary` and its siblings, then
    /// their link identity, with llvm-objcopy.
    func addMetadata(_ primary: String) throws {
        var files: [ISA: ELFFile] = [:]
        for isa in ISA.allCases { files[isa] = try ELFFile(contentsOf: isa.siblingPath(of: primary)) }
        let tables = try MetadataBuilder.build(binaries: files)
        let objcopy = try llvmTool("llvm-objcopy")
        for isa in ISA.allCases {
            let path = isa.siblingPath(of: primary)
            let section = dir.file("\((path as NSString).lastPathComponent).meta")
            try tables[isa]!.write(to: URL(fileURLWithPath: section))
            try run(objcopy, ["--add-section", ".popcorn.meta=\(section)", path, path])
        }
        let contents = try ISA.allCases.map { try Data(contentsOf: URL(fileURLWithPath: $0.siblingPath(of: primary))) }
        let identity = dir.file("\((primary as NSString).lastPathComponent).identity")
        try LinkIdentity.record(for: contents).write(to: URL(fileURLWithPath: identity))
        for isa in ISA.allCases {
            let path = isa.siblingPath(of: primary)
            try run(objcopy, ["--add-section", "\(LinkIdentity.sectionName)=\(identity)", path, path])
        }
    }

    /// `stackmaps` and its siblings: a freestanding program whose `work` has two call sites with
    /// stackmaps (IDs 0x51 and 0x52, the second with `%x` live across the call), functions pinned
    /// to the same addresses on every ISA, and `.popcorn.meta` added.
    func stackmapProgram() throws -> String {
        let ir = try write("stackmaps.ll", """
        declare void @llvm.experimental.stackmap(i64, i32, ...)
        define void @sink() noinline { ret void }
        define i32 @work(i32 %x) noinline {
          call void @sink()
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 81, i32 0)
          call void @sink()
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 82, i32 0, i32 %x)
          %r = add i32 %x, 1
          ret i32 %r
        }
        define i32 @entry() {
          %r = call i32 @work(i32 3)
          ret i32 %r
        }
        """)
        let script = try write("stackmaps.ld", """
        ENTRY(entry)
        SECTIONS {
          . = 0x400000;
          .text : { . = 0x400000; *(.text.entry) . = 0x400100; *(.text.work) . = 0x400200; *(.text.sink) }
          . = 0x410000;
          .eh_frame : { *(.eh_frame) }
          . = 0x420000;
          .llvm_stackmaps : { *(.llvm_stackmaps) }
          /DISCARD/ : { *(.comment) *(.note*) }
        }
        """)
        let primary = dir.file("stackmaps")
        let llc = try llvmTool("llc")
        for isa in ISA.allCases {
            let object = dir.file("stackmaps.\(isa).o")
            try run(llc, ["-mtriple=\(isa.triple)", "-filetype=obj", "-function-sections", "-relocation-model=static",
                          "-frame-pointer=all", ir, "-o", object])
            try run(try tool(.lld), ["-static", "-m", isa.lldEmulation, "-T", script, "-o", isa.siblingPath(of: primary), object])
        }
        try addMetadata(primary)
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
