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
/// Functions in `narrowed` get a barrier that clobbers only the registers listed for them (none:
/// the convergent statement alone). Saving every callee-saved register on each call doubled the
/// cost of an interpreter's table lookup, and is most of a small function's; what soundness needs
/// is only that the function writes no callee-saved register the barrier leaves out: then every
/// register it leaves out holds, at any instrumented call, what the callers left there (the
/// transformation carries those frame by frame), and every register the function writes is dead
/// at the call. `Backend` tries low-pressure functions whose calls are all instrumented
/// (`candidates`) without clobbers, reads from the emitted object's CFI which callee-saved
/// registers each function saves (the ABI makes it save each one it writes;
/// `CalleeSavedRegisterUse`), and compiles a function that saves some again with a barrier of
/// exactly those; should that make it save another, it gets the whole barrier.
struct CalleeSavedBarrier {
    let isa: ISA
    /// Functions (by name) whose barrier clobbers only these callee-saved registers (DWARF numbers).
    var narrowed: [String: Set<UInt16>] = [:]

    /// Functions worth trying without the barrier: every call they make is instrumented (so nothing
    /// but frame slots is live across it), nothing in them becomes a call in code generation, and
    /// the general values they keep live at once fit the caller-saved registers (`LiveValues.maximumLiveGeneralValues`). A wrong
    /// guess costs one more emission of the module, not correctness: on SQLite's amalgamation and
    /// Lua these criteria pick 300–600 functions per ISA and none of them fails the check.
    static func candidates(in module: LLVMModuleRef, isa: ISA) -> Set<String> {
        var names: Set<String> = []
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            let instructions = IR.instructions(of: function)
            guard instructions.count <= candidateSizeLimit else { continue }
            // Vector code (the loop vectoriser's) keeps its many temporaries in vector registers,
            // whose low halves v8–v15 are callee-saved on aarch64; and some instructions become
            // library calls in code generation, with values live across them.
            guard !instructions.contains(where: { LLVMGetTypeKind(LLVMTypeOf($0)) == LLVMVectorTypeKind || mayBecomeCall($0) })
            else { continue }
            var instrumented = 0
            var onlyInstrumented = true
            for (index, call) in instructions.enumerated() where LLVMIsACallInst(call) != nil || LLVMIsAInvokeInst(call) != nil {
                if IR.isInlineAsmCall(call) || IR.isIntrinsicCall(call) || CallResultPin.isPlaceholder(call) { continue }
                // Nothing is live across an instrumented call but frame slots (`StackSlotDemotion`).
                if index + 1 < instructions.count, IR.calleeName(of: instructions[index + 1]) == StackMaps.intrinsic {
                    instrumented += 1
                    continue
                }
                onlyInstrumented = false
                break
            }
            // Register pressure beyond the caller-saved registers makes the allocator take
            // callee-saved ones (and the object would be emitted twice): not worth trying.
            guard onlyInstrumented && instrumented > 0,
                  LiveValues(function: function).maximumLiveGeneralValues() <= generalRegisterBudget(isa) else { continue }
            names.insert(IR.name(of: function))
        }
        return names
    }

    /// The barriers the first emission tries: none for the `candidates`; on aarch64, the general
    /// registers x19–x28 alone for every other function with stackmaps that has no floating-point
    /// or vector value (nothing of its own to keep in d8–d15; saving them cost four pairs of
    /// stores and loads per call). The emitted object's CFI checks each guess (`Backend.settle`).
    static func initialBarriers(in module: LLVMModuleRef, isa: ISA) -> [String: Set<UInt16>] {
        var barriers: [String: Set<UInt16>] = [:]
        for name in candidates(in: module, isa: isa) { barriers[name] = [] }
        guard isa == .aarch64 else { return barriers }
        let general = Set(registers(isa).map(\.dwarf).filter { $0 < 64 })
        for function in IR.functions(of: module) where IR.isDefinition(function) && StackMaps.hasRecords(function) {
            let name = IR.name(of: function)
            if barriers[name] == nil && !usesFloatingPoint(function) { barriers[name] = general }
        }
        return barriers
    }

    /// True if an instruction of `function` or one of its operands is a floating-point or vector
    /// value, or may become a call (whose callee could use the vector registers).
    static func usesFloatingPoint(_ function: LLVMValueRef) -> Bool {
        func floating(_ type: LLVMTypeRef) -> Bool {
            switch LLVMGetTypeKind(type) {
            case LLVMHalfTypeKind, LLVMBFloatTypeKind, LLVMFloatTypeKind, LLVMDoubleTypeKind, LLVMFP128TypeKind,
                 LLVMX86_FP80TypeKind, LLVMVectorTypeKind, LLVMScalableVectorTypeKind:
                return true
            default:
                return false
            }
        }
        for instruction in IR.instructions(of: function) {
            if floating(LLVMTypeOf(instruction)) || mayBecomeCall(instruction) { return true }
            for i in 0..<LLVMGetNumOperands(instruction) {
                if let operand = LLVMGetOperand(instruction, UInt32(i)), LLVMIsABasicBlock(operand) == nil,
                   floating(LLVMTypeOf(operand)) { return true }
            }
        }
        return false
    }

    /// Instructions code generation may turn into a call: `llvm.mem*` (a `memcpy` of unknown
    /// length), floating-point intrinsics (`pow`, `exp`, …), `frem` (`fmod`), anything on `fp128`
    /// or `i128` (soft-float and 128-bit division routines), and atomic read-modify-writes
    /// (aarch64's outline atomics are `__aarch64_*` calls).
    static func mayBecomeCall(_ instruction: LLVMValueRef) -> Bool {
        if LLVMIsAAtomicRMWInst(instruction) != nil || LLVMIsAAtomicCmpXchgInst(instruction) != nil { return true }
        func wide(_ type: LLVMTypeRef) -> Bool {
            IR.isFP128(type) || (LLVMGetTypeKind(type) == LLVMIntegerTypeKind && LLVMGetIntTypeWidth(type) > 64)
        }
        if wide(LLVMTypeOf(instruction)) || LLVMGetInstructionOpcode(instruction) == LLVMFRem { return true }
        for i in 0..<LLVMGetNumOperands(instruction) {
            if let operand = LLVMGetOperand(instruction, UInt32(i)), LLVMIsABasicBlock(operand) == nil,
               wide(LLVMTypeOf(operand)) { return true }
        }
        guard LLVMIsACallInst(instruction) != nil, let callee = IR.calleeName(of: instruction), callee.hasPrefix("llvm.") else { return false }
        if callee.hasPrefix("llvm.mem") { return true }
        let kind = LLVMGetTypeKind(LLVMTypeOf(instruction))
        return kind == LLVMFloatTypeKind || kind == LLVMDoubleTypeKind || kind == LLVMFP128TypeKind
    }

    /// Integer and pointer values live at once beyond which a function is not tried without the
    /// barrier: a little under the caller-saved general registers (x86_64 9, aarch64 18), leaving
    /// room for the temporaries code generation adds. (Measured on Lua and SQLite: 10 on x86_64
    /// let through 9 functions that then saved a callee-saved register; 8 none. aarch64: none at 18.)
    static func generalRegisterBudget(_ isa: ISA) -> Int { isa == .x86_64 ? 8 : 16 }

    /// IR instructions (points included) beyond which a function is not tried without the barrier.
    static let candidateSizeLimit = 400

    /// The ISA's callee-saved registers, DWARF number and LLVM name (not the frame pointer and
    /// link register, which frames describe themselves).
    static func registers(_ isa: ISA) -> [(dwarf: UInt16, name: String)] {
        switch isa {
        case .x86_64:
            return [(3, "rbx"), (12, "r12"), (13, "r13"), (14, "r14"), (15, "r15")]
        case .aarch64:
            // d8–d15 are the low halves of v8–v15 (DWARF 72–79).
            return (19...28).map { (UInt16($0), "x\($0)") } + (8...15).map { (UInt16(64 + $0), "d\($0)") }
        }
    }

    /// The LLVM inline-asm clobber list for `registers` (DWARF numbers; all of them when nil).
    func clobbers(_ registers: Set<UInt16>? = nil) -> String {
        Self.registers(isa).filter { registers?.contains($0.dwarf) ?? true }.map { "~{\($0.name)}" }.joined(separator: ",")
    }

    /// Inserts the barrier after every stackmap of `module`; returns how many.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var noParameters: [LLVMTypeRef?] = []
        let type = LLVMFunctionType(LLVMVoidTypeInContext(context), &noParameters, 0, 0)!
        func statement(_ constraints: String) -> LLVMValueRef {
            LLVMGetInlineAsm(type, "", 0, constraints, constraints.utf8.count, 1, 0, LLVMInlineAsmDialectATT, 0)!
        }
        let whole = statement(clobbers())
        let convergent = LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("convergent", 10), 0)!
        var inserted = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            let statement = narrowed[IR.name(of: function)].map { statement(clobbers($0)) } ?? whole
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
