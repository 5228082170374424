import CLLVM
import PopcornSupport
import Testing
@testable import PopcornIR

/// Code behind constant branches is removed before anything is instrumented, so both ISAs lower
/// the same live code (see `DeadBranchRemoval`).
struct DeadBranchRemovalTests {
    /// The shape clang -O0 gives musl's `isnan(d)`: a `sizeof` chain of constant branches whose
    /// dead arms call helpers, merged by a phi; plus a constant switch with two cases to one block.
    static let body = """
    declare i32 @float_bits(float)
    declare i64 @double_bits(double)
    declare i32 @classify(fp128)
    define i1 @isnan(double %d) {
    entry:
      br i1 false, label %float, label %notfloat
    float:
      %f = fptrunc double %d to float
      %fb = call i32 @float_bits(float %f)
      %fnan = icmp ugt i32 %fb, 2139095040
      br label %done
    notfloat:
      br i1 true, label %double, label %long
    double:
      %db = call i64 @double_bits(double %d)
      %dnan = icmp ugt i64 %db, 9218868437227405312
      br label %done
    long:
      %l = fpext double %d to fp128
      %c = call i32 @classify(fp128 %l)
      %lnan = icmp eq i32 %c, 0
      br label %done
    done:
      %r = phi i1 [ %fnan, %float ], [ %dnan, %double ], [ %lnan, %long ]
      ret i1 %r
    }
    define i32 @pick() {
    entry:
      switch i32 3, label %other [ i32 3, label %three
                                   i32 4, label %three
                                   i32 5, label %five ]
    three:
      %x = phi i32 [ 3, %entry ], [ 3, %entry ]
      ret i32 %x
    five:
      ret i32 5
    other:
      ret i32 0
    }
    """

    @Test func deadArmsAndTheirCallsAreGone() throws {
        let module = try IRModule(ir: Self.body)
        #expect(DeadBranchRemoval().run(on: module.ref) == 4) // float, long; five, other
        try module.verify()
        let isnanFunction = module.function(named: "isnan")
        let isnan = try #require(isnanFunction)
        let callees = IR.instructions(of: isnan).filter { LLVMIsACallInst($0) != nil }.compactMap(IR.calleeName(of:))
        #expect(callees == ["double_bits"])
        for instruction in IR.instructions(of: isnan) where LLVMIsAPHINode(instruction) != nil {
            #expect(LLVMCountIncoming(instruction) == 1)
        }
        let pickFunction = module.function(named: "pick")
        let pick = try #require(pickFunction)
        #expect(CFGEditing.blocks(of: pick).count == 2)
    }

    /// Code without constant branches is left exactly as it was.
    @Test func liveCodeIsUntouched() throws {
        let text = """
        declare void @g()
        define void @f(i1 %c) {
        entry:
          br i1 %c, label %a, label %b
        a:
          call void @g()
          br label %b
        b:
          ret void
        }
        """
        let module = try IRModule(ir: text)
        let before = module.text
        #expect(DeadBranchRemoval().run(on: module.ref) == 0)
        #expect(module.text == before)
    }
}
