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

    /// `carry` twice (both keep their product in a callee-saved register across the call), and a
    /// function without stackmaps after them.
    static let carriedTwice = CalleeSavedBarrierTests.carried + """

    define i64 @carryAgain(i64 %x) {
      %y = mul i64 %x, 9
      call void @g()
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 3, i32 0)
      %z = add i64 %y, 3
      ret i64 %z
    }
    define i64 @unrecorded(i64 %x) {
      %y = mul i64 %x, %x
      ret i64 %y
    }
    """

    /// An emission the caller abandons at its first finding (`carry`, first in the module) goes on
    /// checking the functions with stackmaps — `carryAgain`'s finding is reported too, so the next
    /// emission knows both — but does not generate the one without (`unrecorded`), and writes no
    /// output. A predicate that never answers yes gives the whole object.
    @Test(arguments: ISA.allCases)
    func anAbandonedEmissionOnlyChecksWhatIsLeft(_ isa: ISA) throws {
        let machine = try TargetMachine(isa: isa, optimization: .o2)
        func module() throws -> IRModule {
            let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.carriedTwice)
            ISARetargeting(isa: isa, dataLayout: machine.dataLayout).run(on: module.ref)
            return module
        }
        let whole = try machine.emit(try module(), assembly: false)
        #expect(!whole.abandoned && !whole.output.isEmpty && whole.functionsCutShort == 0)
        #expect(Set(whole.liveAcrossStackMaps.keys) == ["carry", "carryAgain"], "\(isa): \(whole.liveAcrossStackMaps)")
        #expect(whole.stackMapsChecked == 3)

        var seen: [HiddenStateFinding] = []
        let never = try machine.emit(try module(), assembly: false) { seen.append($0); return false }
        #expect(!never.abandoned && never.output == whole.output)
        #expect(Set(seen.map { if case .register(let f, _) = $0 { f } else { "" } }) == ["carry", "carryAgain"], "\(seen)")

        let abandoned = try machine.emit(try module(), assembly: false) { _ in true }
        #expect(abandoned.abandoned && abandoned.output.isEmpty)
        #expect(Set(abandoned.liveAcrossStackMaps.keys) == ["carry", "carryAgain"], "\(isa): \(abandoned.liveAcrossStackMaps)")
        #expect(abandoned.stackMapsChecked == 3)
        #expect(abandoned.functionsCutShort == 1)
    }

    /// Which findings abandon an emission in `Backend.lowerOne`: those that change the next one.
    @Test func onlyFindingsThatChangeTheNextEmissionAbandonIt() {
        let narrowed: [String: Set<UInt16>] = ["f": []]
        #expect(Backend.forcesAnotherEmission(.register(function: "f", dwarf: 3), barriers: narrowed, strict: []))
        // `g` has the whole barrier already: the finding ends in an error, not another emission.
        #expect(!Backend.forcesAnotherEmission(.register(function: "g", dwarf: 3), barriers: narrowed, strict: []))
        #expect(Backend.forcesAnotherEmission(.stackSlot(function: "f", slot: 0), barriers: narrowed, strict: []))
        #expect(!Backend.forcesAnotherEmission(.stackSlot(function: "f", slot: 0), barriers: narrowed, strict: ["f"]))
        #expect(!Backend.forcesAnotherEmission(.statepoint(function: "f"), barriers: narrowed, strict: []))
    }
}
