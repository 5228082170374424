import Foundation
import PopcornELF
import PopcornSupport
@testable import PopcornLinker

/// Builds popcorn multi-ISA objects and a tiny runtime with the stock LLVM tools, without
/// popcorn-cc: one IR from the aarch64 frontend lowered for every ISA, as the driver does.
enum Fixtures {
    struct ToolMissing: Error, CustomStringConvertible {
        var tool: String
        var description: String { "integration tests need '\(tool)'" }
    }

    static func tool(_ name: String) throws -> String {
        for dir in ["/usr/lib/llvm-19/bin", "/usr/bin", "/bin"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw ToolMissing(tool: name)
    }

    @discardableResult
    static func run(_ tool: String, _ args: [String]) throws -> ProcessResult {
        try ProcessRunner.checked(try Fixtures.tool(tool), args)
    }

    /// Compiles C source into a popcorn container at `output`.
    static func compile(_ source: String, to output: String, in dir: TemporaryDirectory) throws {
        let base = (output as NSString).lastPathComponent
        let c = dir.file("\(base).c"), bc = dir.file("\(base).bc")
        try Data(source.utf8).write(to: URL(fileURLWithPath: c))
        try run("clang-19", ["--target=aarch64-unknown-linux-musl", "-nostdinc", "-isystem", ISA.aarch64.muslIncludeDir,
                             "-O1", "-emit-llvm", "-c", "-ffunction-sections", "-fdata-sections", "-fno-pic",
                             "-fno-common", c, "-o", bc])
        var objects: [ISA: Data] = [:]
        for isa in ISA.allCases {
            let obj = dir.file("\(base).\(isa.rawValue).o")
            try run("llc-19", ["-mtriple=\(isa.triple)", "-filetype=obj", "-function-sections", "-data-sections",
                               "-relocation-model=static", bc, "-o", obj])
            objects[isa] = try Data(contentsOf: URL(fileURLWithPath: obj))
        }
        let host = objects.removeValue(forKey: ISA.host)!
        try MultiISAObject.build(host: host, embedded: objects).write(to: URL(fileURLWithPath: output))
    }

    /// A stand-in popcorn runtime: `<dir>/runtime/<isa>/libpopcorn.a` with one function.
    static func runtime(in dir: TemporaryDirectory) throws -> String {
        let root = dir.file("runtime")
        for isa in ISA.allCases {
            let sub = "\(root)/\(isa.rawValue)"
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            let c = "\(sub)/rt.c"
            try Data("int __popcorn_runtime_probe(void) { return 42; }\n".utf8).write(to: URL(fileURLWithPath: c))
            try run("clang-19", ["--target=\(isa.triple)", "-nostdinc", "-O1", "-c", "-ffunction-sections", "-fno-pic",
                                 c, "-o", "\(sub)/rt.o"])
            try run("llvm-ar-19", ["rcs", "\(sub)/libpopcorn.a", "\(sub)/rt.o"])
        }
        return root
    }

    /// Runs popcorn-ld in-process, capturing diagnostics.
    static func link(_ arguments: [String], runtime: String?) -> (status: Int32, messages: [String]) {
        var messages: [String] = []
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-ld") { messages.append($0) }
        do {
            // Stock clang's objects against Debian's musl and a stand-in runtime without a
            // portable C library: the native model.
            try Linker.run(arguments: ["-fpopcorn-libc=native"] + arguments, diagnostics: diagnostics,
                           toolchain: Toolchain(runtimeDirectory: runtime ?? "/nonexistent/popcorn-runtime"))
            return (0, messages)
        } catch {
            diagnostics.report(error)
            return (1, messages)
        }
    }

    /// Runs a linked binary natively or under its emulator.
    static func execute(_ path: String, isa: ISA) throws -> ProcessResult {
        if let emulator = isa.emulator { return try ProcessRunner.run(try tool(emulator), [path]) }
        return try ProcessRunner.run(path, [])
    }
}
