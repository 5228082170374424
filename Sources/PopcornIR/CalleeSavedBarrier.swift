import CLLVM
import PopcornSupport

/// Per-ISA lowering: right after every stackmap, an empty inline-asm statement that clobbers every
/// callee-saved register the metadata would otherwise have to describe.
///
/// Why: LLVM 19's *Machine Late Instructions Cleanup* runs unconditionally and deletes a
/// rematerialisable definition (a frame address `lea -0x20(%rbp), %rbx`, a constant, a global's
/// address) when an identical definition in a dominating block left the same register holding
/// that value and nothing clobbered it in between. A call preserves callee-saved registers, so
/// the deletion may span an instrumented call: the register is then relied on across the call,
/// where no stackmap describes it (hidden state; seen on x86_64 with a signal set's address kept
/// in rbx across C library calls — which have no stackmaps — and reused after a program call).
/// The clobber makes every callee-saved register dead at the stackmap, so nothing can be carried
/// across the call in one: the register allocator must rematerialise after it. Values that are
/// really live across the call are in frame slots already (`StackSlotDemotion`), so the clobber
/// costs only the prologue saving those registers.
///
/// The barrier is also `convergent`, which keeps the block of a call and its stackmap from being
/// copied: at -O3 the machine tail duplicator copied such a block into each predecessor, giving
/// two stackmap records with one call-site ID, and popcorn-ld refused the link ("id is not
/// unique"; torture pr61673, 980605-1). Convergent instructions are never tail-duplicated.
///
/// Functions in `exempt` get the convergent statement without clobbers: `Backend` leaves the
/// barrier out of small functions whose only calls are migration points (saving every callee-saved
/// register on each call doubled the cost of an interpreter's table lookup) and keeps that only
/// where the emitted object's CFI shows the function saves no callee-saved register, so it writes
/// none and cannot keep a value of its own in one (`CalleeSavedRegisterUse`); the others are
/// compiled again with the barrier.
struct CalleeSavedBarrier {
    let isa: ISA
    /// Functions (by name) compiled without the clobbers.
    var exempt: Set<String> = []

    /// Functions worth trying without the barrier: every call they make is a migration point's slow
    /// path (nothing else is live across a call in a register-hungry way) and they are small enough
    /// that the register allocator usually gets by with caller-saved registers.
    static func candidates(in module: LLVMModuleRef) -> Set<String> {
        var names: Set<String> = []
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            let instructions = IR.instructions(of: function)
            guard instructions.count <= candidateSizeLimit else { continue }
            var points = 0
            var onlyPoints = true
            for call in instructions where LLVMIsACallInst(call) != nil || LLVMIsAInvokeInst(call) != nil {
                let callee = IR.calleeName(of: call)
                if callee == MigrationPoints.slowPath { points += 1; continue }
                if let callee = LLVMGetCalledValue(call), LLVMIsAInlineAsm(callee) != nil { continue }
                if let function = IR.calledFunction(of: call), LLVMGetIntrinsicID(function) != 0 || IR.name(of: function).hasPrefix("llvm.") { continue }
                onlyPoints = false
                break
            }
            if onlyPoints && points > 0 { names.insert(IR.name(of: function)) }
        }
        return names
    }

    /// IR instructions (points included) beyond which a function is not tried without the barrier.
    static let candidateSizeLimit = 400

    /// The LLVM inline-asm clobber list for the ISA's callee-saved registers (not the frame
    /// pointer and link register, which frames describe themselves).
    var clobbers: String {
        switch isa {
        case .x86_64:
            return ["rbx", "r12", "r13", "r14", "r15"].map { "~{\($0)}" }.joined(separator: ",")
        case .aarch64:
            let general = (19...28).map { "~{x\($0)}" }
            let vector = (8...15).map { "~{d\($0)}" }
            return (general + vector).joined(separator: ",")
        }
    }

    /// Inserts the barrier after every stackmap of `module`; returns how many.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var noParameters: [LLVMTypeRef?] = []
        let type = LLVMFunctionType(LLVMVoidTypeInContext(context), &noParameters, 0, 0)!
        let constraints = clobbers
        let asm = LLVMGetInlineAsm(type, "", 0, constraints, constraints.utf8.count, 1, 0, LLVMInlineAsmDialectATT, 0)!
        let fence = LLVMGetInlineAsm(type, "", 0, "", 0, 1, 0, LLVMInlineAsmDialectATT, 0)!
        let convergent = LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("convergent", 10), 0)!
        var inserted = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            let statement = exempt.contains(IR.name(of: function)) ? fence : asm
            for call in IR.instructions(of: function)
            where LLVMIsACallInst(call) != nil && IR.calleeName(of: call) == StackMaps.intrinsic {
                builder.position(after: call)
                var arguments: [LLVMValueRef?] = []
                let barrier = LLVMBuildCall2(builder.ref, type, statement, &arguments, 0, "")!
                LLVMAddCallSiteAttribute(barrier, LLVMAttributeIndex(bitPattern: -1), convergent)
                inserted += 1
            }
        }
        return inserted
    }
}
