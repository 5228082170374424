import Foundation
import PopcornSupport
@testable import PopcornIR

/// Compiles C test programs the way popcorn-cc does (aarch64 frontend → `Backend`), links each
/// ISA's object by hand against musl, runs the result natively or under qemu, and builds plain
/// clang-19 reference binaries to compare with.
enum CProgramHarness {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let toolchain = Toolchain()

    /// A C file under `Inputs/`. The programs are named `*.c.in` because SwiftPM refuses C
    /// files inside a Swift test target unless the package excludes the directory; the
    /// compiles below pass `-x c`.
    static func input(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Inputs/\(name)").path
    }

    /// The repository's `Toolchain/include` (popcorn.h), if present.
    static var popcornInclude: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Toolchain/include").path
    }

    /// The frontend command of the driver: one aarch64 compile to bitcode.
    static func frontend(_ source: String, output: String, optimization: String = "2",
                         extra: [String] = []) throws {
        let clang = try toolchain.path(of: .clang)
        var args = ["--target=aarch64-unknown-linux-musl", "-nostdinc"]
        if FileManager.default.fileExists(atPath: popcornInclude) { args += ["-isystem", popcornInclude] }
        args += ["-isystem", ISA.aarch64.muslIncludeDir, "-isystem", "/usr/lib/llvm-19/lib/clang/19/include",
                 "-D__popcorn__=1", "-fno-pic", "-fno-pie", "-ffunction-sections", "-fdata-sections",
                 "-fno-common", "-O\(optimization)", "-gline-tables-only", "-emit-llvm", "-c", "-x", "c", source, "-o", output]
        try ProcessRunner.checked(clang, args + extra)
    }

    /// Runs the whole backend on a C file; returns the per-ISA object paths.
    static func popcornObjects(_ source: String, in directory: TemporaryDirectory, optimization: String = "2",
                               diagnostics: DiagnosticsEngine? = nil) throws -> [ISA: String] {
        let bitcode = directory.file("input.bc")
        try frontend(source, output: bitcode, optimization: optimization)
        let engine = diagnostics ?? DiagnosticsEngine(toolName: "popcorn-cc", sink: { _ in })
        let request = BackendRequest(bitcodePath: bitcode, sourcePath: source,
                                     optimization: OptimizationLevel(rawValue: optimization) ?? .o2,
                                     output: .object, keepDebugInfo: false)
        let outputs = try Backend.run(request, diagnostics: engine)
        var paths: [ISA: String] = [:]
        for (isa, data) in outputs {
            let path = directory.file("popcorn.\(isa).o")
            try AtomicFile.write(data, to: path)
            paths[isa] = path
        }
        return paths
    }

    /// A plain clang-19 object for one ISA, with that ISA's own musl headers.
    static func referenceObject(_ source: String, isa: ISA, in directory: TemporaryDirectory,
                                optimization: String = "2") throws -> String {
        let output = directory.file("reference.\(isa).o")
        try ProcessRunner.checked(try toolchain.path(of: .clang), [
            "--target=\(isa.triple)", "-nostdinc", "-isystem", isa.muslIncludeDir,
            "-isystem", "/usr/lib/llvm-19/lib/clang/19/include", "-fno-pic", "-fno-pie",
            "-O\(optimization)", "-c", "-x", "c", source, "-o", output,
        ])
        return output
    }

    /// Links a static executable for one ISA against musl and the compiler builtins.
    static func link(_ objects: [String], isa: ISA, output: String) throws {
        let lib = isa.muslLibDir
        try ProcessRunner.checked(try toolchain.path(of: .lld), [
            "-m", isa.lldEmulation, "-static", "-o", output, "\(lib)/crt1.o", "\(lib)/crti.o",
        ] + objects + ["--start-group", "\(lib)/libc.a", isa.builtinsArchive, "--end-group", "\(lib)/crtn.o"])
    }

    /// Runs an executable of `isa` (under qemu if it is not the host's) and returns its result.
    static func run(_ executable: String, isa: ISA) throws -> ProcessResult {
        if let emulator = isa.emulator {
            let qemu = try toolchain.path(of: .qemuAArch64)
            precondition(emulator == "qemu-aarch64", "only aarch64 is emulated on this host")
            return try ProcessRunner.run(qemu, [executable])
        }
        return try ProcessRunner.run(executable, [])
    }

    /// Output of one program built both ways for every ISA.
    struct Outcome {
        var popcorn: [ISA: ProcessResult] = [:]
        var reference: [ISA: ProcessResult] = [:]
    }

    /// Builds `source` with the popcorn backend and with plain clang for every ISA, runs all four.
    static func buildAndRun(_ source: String, optimization: String = "2", extraObjects: [ISA: [String]] = [:]) throws -> Outcome {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let objects = try popcornObjects(source, in: directory, optimization: optimization)
        var outcome = Outcome()
        for isa in ISA.allCases {
            guard let object = objects[isa] else { throw Failure(description: "no \(isa) object") }
            let popcorn = directory.file("popcorn.\(isa)")
            try link([object] + (extraObjects[isa] ?? []), isa: isa, output: popcorn)
            outcome.popcorn[isa] = try run(popcorn, isa: isa)
            let reference = directory.file("reference.\(isa)")
            try link([try referenceObject(source, isa: isa, in: directory, optimization: optimization)]
                     + (extraObjects[isa] ?? []), isa: isa, output: reference)
            outcome.reference[isa] = try run(reference, isa: isa)
        }
        return outcome
    }
}
