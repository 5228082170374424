import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Calls whose records are statepoints carrying the live values in registers (`Statepoints`,
/// `StatepointLowering`) and the check that proves nothing else is carried across them.
struct StatepointTests {
    /// `f` keeps `%y` and `%s` across a plain call of `g` and `%y` across a variadic call.
    static let source = """
    declare void @g(i64)
    declare i32 @printf(ptr, ...)
    define i64 @f(i64 %x, ptr %s) {
      %y = mul i64 %x, 7
      call void @g(i64 %x)
      %r = call i32 (ptr, ...) @printf(ptr %s, i64 %y)
      %z = add i64 %y, 1
      ret i64 %z
    }
    """

    static func instrumented() throws -> IRModule {
        try CalleeSavedBarrierTests.instrumented(Self.source, statepoints: true)
    }

    /// The plain call becomes a portable statepoint followed by one placeholder per value live
    /// across it, every later use reads the placeholders, and its record lists the three header
    /// constants, its stack objects and a base and a derived location per value; the variadic call
    /// (and the entry point's slow path) keeps a stackmap.
    @Test func eligibleCallsCarryTheirLiveValues() throws {
        let module = try Self.instrumented()
        let named = module.function(named: "f")
        let f = try #require(named)
        let calls = IR.instructions(of: f).filter { LLVMIsACallInst($0) != nil }
        let g = try #require(calls.first { IR.calleeName(of: $0) == "g" })
        #expect(Statepoints.isStatepointCall(g))
        let carries = Statepoints.carries(after: g)
        #expect(carries.count == 2, "\(module.text)")
        let printf = try #require(calls.first { IR.calleeName(of: $0) == "printf" })
        #expect(!Statepoints.isStatepointCall(printf))
        #expect(IR.calleeName(of: try #require(LLVMGetNextInstruction(printf))) == StackMaps.intrinsic)
        // No use of %s or %y after the call reads the originals (`f` is one block until the
        // stackmaps split it; the carries are in the call's block).
        let order = IR.instructions(of: f)
        let position = { (instruction: LLVMValueRef) in order.firstIndex(of: instruction) ?? -1 }
        for carry in carries {
            let original = try #require(LLVMGetOperand(carry, 0))
            let users = IR.instructionUsers(of: original)
            #expect(users.allSatisfy { $0 == carry || position($0) <= position(g) }, "\(module.text)")
        }
        let records = try MigrationTestSupport.sideTable(of: module)
        let id = try #require(Statepoints.id(of: g))
        let record = try #require(records.first { $0.id == id })
        // The stack objects (the slots the entry point's stackmap demoted values to) come before.
        let stackObjects = Statepoints.bundle(of: g)
        #expect(stackObjects.allSatisfy { LLVMIsAAllocaInst($0) != nil })
        #expect(record.operands.count == Statepoints.headerCount + stackObjects.count + 2 * carries.count)
        #expect(record.operands.filter { $0.kind == .pointer }.count == 2, "the pointer %s, twice")
        try module.verify()
    }

    /// Lowered for each ISA, the statepoint's record starts with its three constants, and every
    /// carried value is in a callee-saved register or a frame slot; the check finds nothing.
    @Test(arguments: ISA.allCases)
    func carriedValuesAreInCalleeSavedRegistersOrSlots(_ isa: ISA) throws {
        let module = try Self.instrumented()
        let directory = try TemporaryDirectory(prefix: "popcorn-statepoint-test")
        let emission = try Backend.lowerOne(module.bitcode(), name: "sp.ll", isa: isa, optimization: .o2, assembly: false,
                                            libc: .portable)
        #expect(emission.hiddenAcrossStatepoints.isEmpty && emission.slotsAcrossStackMaps.isEmpty)
        let path = directory.file("sp.o")
        try AtomicFile.write(emission.output, to: path)
        let dump = try ProcessRunner.checked(try MigrationTestSupport.tool("llvm-readobj"), ["--stackmap", path]).stdoutText
        let calleeSaved = Set(CalleeSavedBarrier.registers(isa).map { Int($0.dwarf) })
        let records = dump.components(separatedBy: "Record ID:").dropFirst()
        let statepoints = records.filter { $0.contains("#3: Constant") && $0.contains("#1: Constant") }
        #expect(!statepoints.isEmpty, "\(dump)")
        for record in statepoints {
            for line in record.split(separator: "\n") where line.contains("Register R#") {
                let number = Int(line.components(separatedBy: "R#")[1].prefix { $0.isNumber })!
                #expect(calleeSaved.contains(number), "\(isa): \(line)")
            }
        }
    }

    static let hidden = """
    declare void @g()
    declare token @llvm.experimental.gc.statepoint.p0(i64, i32, ptr, i32, i32, ...)
    declare ptr addrspace(1) @llvm.experimental.gc.relocate.p1(token, i32, i32)
    define i64 @hide(i64 %x) gc "statepoint-example" {
      %y = mul i64 %x, 7
      %t = call token (i64, i32, ptr, i32, i32, ...) @llvm.experimental.gc.statepoint.p0(i64 5, i32 0, ptr elementtype(void ()) @g, i32 0, i32 0, i32 0, i32 0)
      %z = add i64 %y, 1
      ret i64 %z
    }
    define i64 @carry(i64 %x) gc "statepoint-example" {
      %y = mul i64 %x, 7
      %p = inttoptr i64 %y to ptr addrspace(1)
      %t = call token (i64, i32, ptr, i32, i32, ...) @llvm.experimental.gc.statepoint.p0(i64 6, i32 0, ptr elementtype(void ()) @g, i32 0, i32 0, i32 0, i32 0) [ "gc-live"(ptr addrspace(1) %p) ]
      %q = call ptr addrspace(1) @llvm.experimental.gc.relocate.p1(token %t, i32 0, i32 0)
      %w = ptrtoint ptr addrspace(1) %q to i64
      %z = add i64 %w, 1
      ret i64 %z
    }
    """

    /// A value kept across a statepoint that does not carry it is reported (`hide`); the same
    /// value carried and relocated is not (`carry`).
    @Test(arguments: ISA.allCases)
    func theCheckReportsWhatAStatepointDoesNotCarry(_ isa: ISA) throws {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.hidden)
        LLVMTargets.initialize()
        let machine = try TargetMachine(isa: isa, optimization: .o2)
        ISARetargeting(isa: isa, dataLayout: machine.dataLayout).run(on: module.ref)
        let emission = try machine.emit(module, assembly: false)
        #expect(emission.stackMapsChecked == 2)
        #expect(emission.hiddenAcrossStatepoints == ["hide"], "\(isa)")
    }
}
