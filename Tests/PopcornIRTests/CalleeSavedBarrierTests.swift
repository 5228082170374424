import CLLVM
import Foundation
import PopcornMetadata
import PopcornSupport
import Testing
@testable import PopcornIR

/// Every stackmap is followed by a clobber of the ISA's callee-saved registers, so no register
/// value can be carried across an instrumented call (see `CalleeSavedBarrier`).
struct CalleeSavedBarrierTests {
    static let body = """
    declare void @g()
    declare void @llvm.experimental.stackmap(i64, i32, ...)
    define void @f() {
      call void @g()
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 1, i32 0)
      call void @g()
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 2, i32 0)
      call void @g()
      ret void
    }
    """

    @Test(arguments: ISA.allCases)
    func aBarrierFollowsEveryStackmap(_ isa: ISA) throws {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.body)
        #expect(CalleeSavedBarrier(isa: isa).run(on: module.ref) == 2)
        try module.verify()
        let named = module.function(named: "f")
        let f = try #require(named)
        let instructions = IR.instructions(of: f)
        for (index, call) in instructions.enumerated()
        where LLVMIsACallInst(call) != nil && IR.calleeName(of: call) == StackMaps.intrinsic {
            let next = instructions[index + 1]
            let callee = try #require(LLVMGetCalledValue(next))
            #expect(LLVMIsAInlineAsm(callee) != nil)
            var length = 0
            let constraints = String(cString: LLVMGetInlineAsmConstraintString(callee, &length))
            #expect(LLVMGetInlineAsmHasSideEffects(callee) != 0)
            let expected = isa == .x86_64 ? ["rbx", "r12", "r13", "r14", "r15"]
                                          : (19...28).map { "x\($0)" } + (8...15).map { "d\($0)" }
            #expect(constraints == expected.map { "~{\($0)}" }.joined(separator: ","))
        }
        // The calls that are not followed by a stackmap get nothing.
        #expect(instructions.filter { LLVMIsACallInst($0) != nil && LLVMIsAInlineAsm(LLVMGetCalledValue($0)) != nil }.count == 2)
    }

    /// `source` with points and stackmaps, as the portable passes leave it; with `statepoints`, the
    /// eligible calls of the functions not in `slotOnly` become statepoints.
    static func instrumented(_ source: String, library: LibraryFunctions = LibraryFunctions(names: []),
                             statepoints: Bool = false, slotOnly: Set<String> = []) throws -> IRModule {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + source)
        MigrationPoints(policy: .entryExit, library: library).run(on: module.ref)
        StackMaps(library: library, statepoints: statepoints, slotOnly: slotOnly).run(on: module.ref)
        // As the portable pipeline does: functions with records get the restricted code generation.
        CodeGenerationAttributes().run(on: module.ref)
        try module.verify()
        return module
    }

    /// A value kept in a register across a call, with a stackmap after the call that does not
    /// describe it (`carry`, hand-written: the portable passes would have put it in a slot), and a
    /// function that keeps nothing across its call (`clean`).
    static let carried = """
    declare void @g()
    declare void @llvm.experimental.stackmap(i64, i32, ...)
    define i64 @carry(i64 %x) {
      %y = mul i64 %x, 7
      call void @g()
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 1, i32 0)
      %z = add i64 %y, 1
      ret i64 %z
    }
    define void @clean(ptr %p) {
      store i64 1, ptr %p
      call void @g()
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 2, i32 0)
      ret void
    }
    """

    /// Code generation reports the callee-saved register `carry` keeps its product in across the
    /// call, and nothing for `clean`.
    @Test(arguments: ISA.allCases)
    func codeGenerationReportsRegistersLiveAcrossAStackmap(_ isa: ISA) throws {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.carried)
        let machine = try TargetMachine(isa: isa, optimization: .o2)
        ISARetargeting(isa: isa, dataLayout: machine.dataLayout).run(on: module.ref)
        let emission = try machine.emit(module, assembly: false)
        #expect(emission.stackMapsChecked == 2)
        let live = try #require(emission.liveAcrossStackMaps["carry"], "\(isa)")
        #expect(live.count == 1 && live.isSubset(of: CalleeSavedBarrier.registers(isa).map(\.dwarf)), "\(isa): \(live)")
        #expect(emission.liveAcrossStackMaps["clean"] == nil, "\(isa)")
    }

    /// The backend compiles `carry` again with the whole barrier and leaves `clean` without one (it
    /// saves no callee-saved register). On x86_64 the barrier then makes the allocator spill the
    /// product (the function saves every callee-saved register, the barrier's signature) to a stack
    /// slot that no stackmap describes either: the slot check reports it, and the file does not
    /// compile. On aarch64 the barrier does not help at all: the scheduler moves the product's only
    /// use above the barrier, so x19 still carries it across the call, and the compilation stops
    /// with an error instead of producing hidden state.
    @Test(arguments: ISA.allCases)
    func onlyFunctionsCarryingARegisterGetTheBarrier(_ isa: ISA) throws {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.carried)
        CodeGenerationAttributes().run(on: module.ref)
        let lower = {
            try Backend.lowerOne(module.bitcode(), name: "carried.ll", isa: isa, optimization: .o2,
                                 assembly: false, libc: .portable)
        }
        guard isa == .x86_64 else {
            let error = #expect(throws: BackendError.self) { try lower() }
            #expect(error?.diagnostic.message.contains("'carry' keeps x19 across an instrumented call") == true, "\(String(describing: error))")
            return
        }
        let emission = try lower()
        let saved = try CalleeSavedRegisterUse.savedRegisters(inObject: emission.output, path: "carried.o")
        #expect(saved["carry"] == Set(CalleeSavedBarrier.registers(isa).map(\.dwarf)), "\(saved)")
        #expect(saved["clean"] == [], "\(saved)")
        #expect(emission.slotsAcrossStackMaps["carry"]?.count == 1, "\(emission.slotsAcrossStackMaps)")
        #expect(emission.slotsAcrossStackMaps["clean"] == nil)
        let error = #expect(throws: BackendError.self) {
            try Backend.lower(module.bitcode(), name: "carried.ll", isas: [isa], optimization: .o2, assembly: false, libc: .portable)
        }
        #expect(error?.diagnostic.message.contains("'carry' keeps a value in a stack slot across an instrumented call") == true,
                "\(String(describing: error))")
    }

    /// After an emission, the functions that kept a callee-saved register live across a stackmap get
    /// the whole barrier (they leave the map of narrowed barriers); none left means done; one that
    /// had the whole barrier already is an error.
    @Test func functionsWithLiveRegistersGetTheWholeBarrier() throws {
        let barriers: [String: Set<UInt16>] = ["leaf": [], "loop": [], "cold": []]
        #expect(try Backend.nextBarriers(barriers, live: [:], isa: .x86_64) == nil)
        #expect(try Backend.nextBarriers(barriers, live: ["loop": [3], "cold": [12, 13]], isa: .x86_64) == ["leaf": []])
        #expect(throws: BackendError.self) { try Backend.nextBarriers(["leaf": []], live: ["whole": [3]], isa: .x86_64) }
    }

    /// The compiler's own choice on instrumented code with stackmaps only (values live across calls
    /// in frame slots):
    /// `lookup` and `calls` carry nothing in registers and save none; `sums` uses callee-saved
    /// registers in its call-free loop only, saves them, and needs no barrier either (on aarch64,
    /// integer code, none of d8–d15).
    @Test(arguments: ISA.allCases)
    func instrumentedFunctionsGoWithoutTheBarrier(_ isa: ISA) throws {
        let module = try Self.instrumented(Self.pointsOnly)
        let bitcode = module.bitcode()
        let object = try Backend.lowerOne(bitcode, name: "exempt.ll", isa: isa, optimization: .o2, assembly: false,
                                          libc: .portable).output
        let saved = try CalleeSavedRegisterUse.savedRegisters(inObject: object, path: "exempt.o")
        #expect(saved["lookup"] == [] && saved["calls"] == [], "\(saved)")
        let all = Set(CalleeSavedBarrier.registers(isa).map(\.dwarf))
        let sums = try #require(saved["sums"])
        #expect(!sums.isEmpty && sums.isSubset(of: all) && sums.isDisjoint(with: (72...79).map(UInt16.init)), "\(saved)")
        // The same module emitted with every barrier in place is what the check saved us from.
        let whole = try CalleeSavedRegisterUse.savedRegisters(inObject: try Self.withWholeBarrier(bitcode, isa: isa), path: "whole.o")
        #expect(whole["calls"] == all, "\(whole)")
    }

    /// `bitcode` lowered with the whole barrier after every stackmap.
    static func withWholeBarrier(_ bitcode: Data, isa: ISA) throws -> Data {
        let module = try IRModule(bitcode: bitcode, path: "whole.ll")
        let machine = try TargetMachine(isa: isa, optimization: .o2)
        try LoweringPasses(isa: isa, dataLayout: machine.dataLayout, protection: .none, libc: .portable).run(on: module)
        return try CodeGenerationAttributes.gate.applying(to: module) { try machine.emit(module, assembly: false) }.result.output
    }

    /// `lookup`: a hash-chain walk. `sums`: fourteen running sums over an array, all live around
    /// the loop. `calls`: calls another function. Each calls `elsewhere` (another file's function,
    /// which may reach a point), so none is point-free: all three get entry and exit points.
    static let pointsOnly = """
    declare void @elsewhere(ptr)

    define ptr @lookup(ptr %head, i64 %key) {
    entry:
      br label %walk
    walk:
      %node = phi ptr [ %head, %entry ], [ %next, %step ]
      %null = icmp eq ptr %node, null
      br i1 %null, label %done, label %check
    check:
      %k = load i64, ptr %node
      %hit = icmp eq i64 %k, %key
      br i1 %hit, label %done, label %step
    step:
      %link = getelementptr i8, ptr %node, i64 8
      %next = load ptr, ptr %link
      br label %walk
    done:
      call void @elsewhere(ptr %node)
      ret ptr %node
    }

    define void @sums(ptr %a, ptr %out, i64 %n) {
    entry:
      br label %loop
    loop:
      %i = phi i64 [ 0, %entry ], [ %i1, %loop ]
    \(Self.sumsLoop)
      %i1 = add i64 %i, 14
      %more = icmp ult i64 %i1, %n
      br i1 %more, label %loop, label %exit
    exit:
    \(Self.sumsStores)
      call void @elsewhere(ptr %out)
      ret void
    }

    define void @calls(ptr %x) {
      call void @elsewhere(ptr %x)
      call void @elsewhere(ptr %x)
      ret void
    }
    """

    static let sumsLoop = (0..<14).map { k in
        "  %s\(k) = phi i64 [ 0, %entry ], [ %t\(k), %loop ]"
    }.joined(separator: "\n") + "\n" + (0..<14).map { k in
        """
          %e\(k) = getelementptr i64, ptr %a, i64 %i
          %f\(k) = getelementptr i64, ptr %e\(k), i64 \(k)
          %v\(k) = load i64, ptr %f\(k)
          %m\(k) = mul i64 %v\(k), \(k + 3)
          %t\(k) = add i64 %s\(k), %m\(k)
        """
    }.joined(separator: "\n")

    static let sumsStores = (0..<14).map { k in
        """
          %o\(k) = getelementptr i64, ptr %out, i64 \(k)
          store i64 %t\(k), ptr %o\(k)
        """
    }.joined(separator: "\n")
}
