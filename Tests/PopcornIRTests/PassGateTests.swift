import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// The code generation restrictions hold in functions with stackmaps only (`PassGate`,
/// `CodeGenerationAttributes`): the twin of a restricted function is generated as plain code is.
struct PassGateTests {
    /// The migration flag read before and after a call, in two blocks (the switch keeps them
    /// apart until instruction selection, as `StackMaps` does). Machine CSE shares one aarch64
    /// `adrp` of the flag between the blocks and keeps it in a callee-saved register across the
    /// call; without it each block materialises the address itself.
    static func function(_ name: String, restricted: Bool) -> String {
        """
        define i32 @\(name)() \(restricted ? "#0" : "") {
          %a = load volatile i32, ptr @flag
          call void @g()
          switch i32 0, label %after []
        after:
          %b = load volatile i32, ptr @flag
          %s = add i32 %a, %b
          ret i32 %s
        }
        """
    }

    static let source = """
    \(MigrationTestSupport.header)
    @flag = external hidden global i32
    declare void @g()
    \(function("restricted", restricted: true))
    \(function("plain", restricted: false))
    attributes #0 = { "\(CodeGenerationAttributes.restrictedAttribute)" }
    """

    /// The assembly lines of each function of `text` (from its label to the next `.size`).
    static func functions(in text: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        var current: String?
        for line in text.split(separator: "\n").map(String.init) {
            if !line.hasPrefix("\t") && !line.hasPrefix(".") && line.hasSuffix(":") && !line.hasPrefix(".L") {
                current = String(line.dropLast())
                result[current!] = []
            } else if line.hasPrefix("\t.size") {
                current = nil
            } else if let name = current {
                result[name, default: []].append(line)
            }
        }
        return result
    }

    @Test func restrictedPassesAreSkippedOnlyOnMarkedFunctions() throws {
        let module = try IRModule(ir: Self.source)
        let machine = try TargetMachine(isa: .aarch64, optimization: .o2)
        let (data, skipped) = try CodeGenerationAttributes.gate.applying(to: module) {
            try machine.emit(module, assembly: true)
        }
        let functions = Self.functions(in: String(decoding: data.output, as: UTF8.self))
        let restricted = try #require(functions["restricted"])
        let plain = try #require(functions["plain"])
        let pages = { (lines: [String]) in lines.filter { $0.contains("adrp") && $0.contains("flag") }.count }
        #expect(pages(restricted) == 2, "\(restricted.joined(separator: "\n"))")
        #expect(pages(plain) == 1, "\(plain.joined(separator: "\n"))")
        // Machine CSE, both machine LICMs, constant hoisting and the CFG tidy-up, once each.
        #expect(skipped == 5)
    }

    /// On x86_64 the gate skips machine CSE, both machine LICMs, constant hoisting and the
    /// call-frame optimisation, once each, on the marked function only: every name in
    /// `restrictedPasses` is one LLVM 19 uses (with the aarch64 test above, each is seen skipped).
    @Test func x86PassNamesAreLLVMs() throws {
        let module = try IRModule(ir: Self.source)
        let machine = try TargetMachine(isa: .x86_64, optimization: .o2)
        ISARetargeting(isa: .x86_64, dataLayout: machine.dataLayout).run(on: module.ref)
        let (_, skipped) = try CodeGenerationAttributes.gate.applying(to: module) {
            try machine.emit(module, assembly: false)
        }
        #expect(skipped == 5)
    }
}
