import CLLVM
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
}
