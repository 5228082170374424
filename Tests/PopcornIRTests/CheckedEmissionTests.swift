import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// `TargetMachine.emit` builds LLVM's code generation pipeline itself, to add the stackmap register
/// check (`PopcornEmitCheckingStackMaps`); apart from that pass it must be the pipeline the C API
/// runs.
struct CheckedEmissionTests {
    /// Byte for byte the object `LLVMTargetMachineEmitToMemoryBuffer` writes, on both ISAs: for a
    /// module without stackmaps (`CalleeSavedBarrierTests.pointsOnly` before instrumentation: a
    /// chain walk, a loop of sums, calls; no stackmap counted) and for one with two (the check only
    /// looks).
    @Test(arguments: ISA.allCases, [false, true])
    func theObjectIsTheCAPIs(_ isa: ISA, withStackMaps: Bool) throws {
        let machine = try TargetMachine(isa: isa, optimization: .o2)
        let source = withStackMaps ? CalleeSavedBarrierTests.carried : CalleeSavedBarrierTests.pointsOnly
        func module() throws -> IRModule {
            let module = try IRModule(ir: MigrationTestSupport.header + "\n" + source)
            ISARetargeting(isa: isa, dataLayout: machine.dataLayout).run(on: module.ref)
            return module
        }
        let checked = try machine.emit(try module(), assembly: false)
        #expect(checked.stackMapsChecked == (withStackMaps ? 2 : 0))
        let plain = try module()
        var message: UnsafeMutablePointer<CChar>?
        var buffer: LLVMMemoryBufferRef?
        #expect(LLVMTargetMachineEmitToMemoryBuffer(machine.ref, plain.ref, LLVMObjectFile, &message, &buffer) == 0)
        let reference = try #require(buffer)
        defer { LLVMDisposeMemoryBuffer(reference) }
        let expected = Data(bytes: LLVMGetBufferStart(reference), count: LLVMGetBufferSize(reference))
        #expect(checked.output == expected, "\(isa): \(checked.output.count) against \(expected.count) bytes")
    }
}
