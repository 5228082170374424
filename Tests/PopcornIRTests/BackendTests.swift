import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// `Backend.run` outputs and errors.
struct BackendTests {
    func request(_ output: BackendOutput, in directory: TemporaryDirectory, keepDebugInfo: Bool = false,
                 isas: [ISA] = ISA.allCases) throws -> BackendRequest {
        let bitcode = directory.file("strings.bc")
        if !FileManager.default.fileExists(atPath: bitcode) {
            try CProgramHarness.frontend(CProgramHarness.input("strings.c.in"), output: bitcode)
        }
        return BackendRequest(bitcodePath: bitcode, sourcePath: "strings.c", optimization: .o2, output: output,
                              isas: isas, keepDebugInfo: keepDebugInfo)
    }

    let engine = DiagnosticsEngine(toolName: "popcorn-cc", sink: { _ in })

    @Test func objectsAreELFFilesForEachRequestedISA() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let outputs = try Backend.run(try request(.object, in: directory), diagnostics: engine)
        #expect(Set(outputs.keys) == Set(ISA.allCases))
        for (isa, data) in outputs {
            #expect(data.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]))
            // e_machine at offset 18, little-endian.
            #expect(UInt16(data[18]) | UInt16(data[19]) << 8 == isa.elfMachine)
        }
        let one = try Backend.run(try request(.object, in: directory, isas: [.aarch64]), diagnostics: engine)
        #expect(Array(one.keys) == [.aarch64])
    }

    /// `-ftime-report`: the portable passes in their declared order, then each ISA's lowering
    /// passes, verification and code generation, every one measured.
    @Test func theTimerSeesEveryPassInOrder() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        var request = try request(.object, in: directory)
        request.migrationPolicy = .entryExit
        request.libc = .portable
        let timer = PassTimer(tool: "popcorn-cc")
        _ = try Backend.run(request, diagnostics: engine, timer: timer)
        let names = timer.entries.map(\.name)
        let portable = names.filter { !$0.contains(": ") }
        #expect(portable == ["dead-branch-removal", "unsupported-construct-check", "symbol-naming",
                             "common-symbol-lowering", "section-assignment", "static-constructor-lowering",
                             "code-address-check", "object-stack", "undescribable-frames", "migration-points",
                             "stackmaps", "slot-alignment", "stack-protector-removal", "code-generation-attributes",
                             "debug-info-stripping", "module-naming"])
        for isa in ISA.allCases {
            let own = names.filter { $0.hasPrefix("\(isa.rawValue): ") }
            #expect(own.first == "\(isa.rawValue): retargeting" && own.contains("\(isa.rawValue): code generation"), "\(own)")
        }
        #expect(timer.text(total: timer.elapsed).last?.hasPrefix("popcorn-cc: time: total") == true)
    }

    @Test func assemblyIsTextForEachISA() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let outputs = try Backend.run(try request(.assembly, in: directory), diagnostics: engine)
        let x86 = String(decoding: try #require(outputs[.x86_64]), as: UTF8.self)
        let arm = String(decoding: try #require(outputs[.aarch64]), as: UTF8.self)
        #expect(x86.contains(".section\t.text.main"))
        #expect(x86.contains("callq\tprintf") || x86.contains("callq\tputs"))
        #expect(arm.contains("bl\tprintf") || arm.contains("bl\tputs"))
    }

    @Test func irOutputsHoldThePortableModuleUnderTheHostKey() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let ir = try Backend.run(try request(.llvmIR, in: directory), diagnostics: engine)
        #expect(Array(ir.keys) == [ISA.host])
        let text = String(decoding: try #require(ir[ISA.host]), as: UTF8.self)
        #expect(text.contains("target triple = \"aarch64-unknown-linux-musl\""))
        #expect(text.contains("section \".text.main\""))
        #expect(!text.contains("!dbg"), "line tables are stripped without -g")
        let kept = try Backend.run(try request(.llvmIR, in: directory, keepDebugInfo: true), diagnostics: engine)
        #expect(String(decoding: try #require(kept[ISA.host]), as: UTF8.self).contains("!dbg"))

        let bitcode = try Backend.run(try request(.bitcode, in: directory), diagnostics: engine)
        let module = try IRModule(bitcode: try #require(bitcode[ISA.host]), path: "out.bc")
        try module.verify()
        #expect(module.triple == "aarch64-unknown-linux-musl")
    }

    @Test func invalidBitcodeIsReported() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let path = directory.file("bad.bc")
        try Data("not bitcode".utf8).write(to: URL(fileURLWithPath: path))
        let bad = BackendRequest(bitcodePath: path, sourcePath: "bad.c", optimization: .o2, output: .object,
                                 keepDebugInfo: false)
        #expect(throws: BackendError.invalidBitcode(path: path, reason: "invalid bitcode signature")) {
            try Backend.run(bad, diagnostics: engine)
        }
        let missing = BackendRequest(bitcodePath: directory.file("missing.bc"), sourcePath: "m.c",
                                     optimization: .o2, output: .object, keepDebugInfo: false)
        do {
            _ = try Backend.run(missing, diagnostics: engine)
            Issue.record("missing file accepted")
        } catch let error as BackendError {
            #expect(error.diagnostic.description.hasPrefix("error: invalid bitcode file '\(directory.file("missing.bc"))'"))
        }
    }
}
