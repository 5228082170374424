import Foundation
import PopcornSupport
import Testing
@testable import PopcornDriver

/// Real compiles through clang-19, the back end, the container and popcorn-ld. These need the
/// installed tools and the staged runtime (`make runtime`); when something is missing they
/// fail with a message saying what, rather than being skipped.
@Suite(.serialized) struct EndToEndDriverTests {
    /// `<repo>/build/lib/popcorn`, where `make` stages the runtime.
    static let stagedRuntime: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.appendingPathComponent("build/lib/popcorn").path
    }()

    private func compile(_ args: [String]) -> (Int32, [String]) {
        final class Lines: @unchecked Sendable { var lines: [String] = [] }
        let captured = Lines()
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-cc") { captured.lines.append($0) }
        let status = Driver.run(args, diagnostics: diagnostics) { _ in }
        return (status, captured.lines)
    }

    @Test func compilesToAMultiISAObject() throws {
        _ = try Toolchain().path(of: .clang)
        let dir = try TemporaryDirectory()
        let src = dir.file("m.c")
        try "int main(void){return 0;}\n".write(toFile: src, atomically: true, encoding: .utf8)
        let obj = dir.file("m.o")
        let (status, diagnostics) = compile(["-O2", "-MMD", "-c", src, "-o", obj])
        #expect(status == 0, "\(diagnostics)")
        let data = try #require(FileManager.default.contents(atPath: obj))
        #expect(data.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]))
        #expect(data.range(of: Data("POPCORN-OBJECT".utf8)) != nil)
        let rule = try String(contentsOfFile: dir.file("m.d"), encoding: .utf8)
        #expect(rule.hasPrefix(obj + ": " + src))
        // Only the outputs: the bitcode and the staged rule lived in the private directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["m.c", "m.d", "m.o"])
    }

    @Test func frontendErrorsLeaveNoOutput() throws {
        let dir = try TemporaryDirectory()
        let src = dir.file("bad.c")
        try "int main(void){return undeclared;}\n".write(toFile: src, atomically: true, encoding: .utf8)
        let (status, _) = compile(["-c", src, "-o", dir.file("bad.o"), "-MD"])
        #expect(status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bad.c"])
    }

    @Test func linksAndRunsOnEveryISA() throws {
        let toolchain = Toolchain()
        let linker = try toolchain.popcornTool("popcorn-ld")
        if ProcessInfo.processInfo.environment["POPCORN_RUNTIME_DIR"] == nil {
            setenv("POPCORN_RUNTIME_DIR", Self.stagedRuntime, 1)
        }
        let runtime = ProcessInfo.processInfo.environment["POPCORN_RUNTIME_DIR"]!
        for isa in ISA.allCases {
            try #require(FileManager.default.fileExists(atPath: "\(runtime)/\(isa.rawValue)/libpopcorn.a"),
                         "the popcorn runtime is not staged in \(runtime): run 'make runtime' first")
        }
        let dir = try TemporaryDirectory()
        let src = dir.file("m.c")
        try "int main(void){return 0;}\n".write(toFile: src, atomically: true, encoding: .utf8)
        let app = dir.file("app")
        let (status, diagnostics) = compile(["-O2", src, "-o", app])
        #expect(status == 0, "linking with \(linker): \(diagnostics)")
        for isa in ISA.allCases {
            let binary = isa.siblingPath(of: app)
            let result: ProcessResult
            if let emulator = isa.emulator {
                let qemu = try toolchain.path(of: .qemuAArch64)
                #expect(emulator.hasPrefix("qemu"))
                result = try ProcessRunner.run(qemu, [binary])
            } else {
                result = try ProcessRunner.run(binary, [])
            }
            #expect(result.status == 0, "\(isa): \(result.stderrText)")
        }
    }
}
