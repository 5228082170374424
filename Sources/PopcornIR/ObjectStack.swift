import CLLVM

/// Portable pass (before migration points and stackmaps): every stack object whose address can
/// escape lives on the thread's **object stack**, at one address on every ISA
/// (docs/STACK-TRANSFORM.md, "The object stack").
///
/// A native frame is laid out by each back end on its own, so a stack object has one address on
/// x86_64 and another on aarch64; a pointer to it kept in the heap, a global, thread-local storage
/// or another object went stale after a move. Here the objects of a function whose address can
/// escape (`AllocaEscape`), and every variable-length array and `alloca()`, are given a frame on a
/// separate per-thread stack instead, laid out once in the portable IR: the same offsets on every
/// ISA, and the region itself is ordinary memory that a move carries at its address. A pointer to
/// such an object stays valid after a move wherever it is kept, nothing has to re-point it, and
/// functions with dynamic allocations get migration points. Native frames keep only what the
/// stackmaps describe (values live across calls, and objects whose address never escapes).
///
/// The frame protocol, with `__popcorn_osp` the thread's object-stack pointer (runtime,
/// object_stack.c), growing down:
///
///     top  = __popcorn_osp   (or __popcorn_object_stack_init() on a thread's first use)
///     base = (top - size) & ~(align - 1);  __popcorn_osp = base;  signal fence
///     …objects at base + offset…; dynamic allocations move __popcorn_osp further down
///     signal fence;  __popcorn_osp = top;  ret
///
/// The pointer is stored before any object is used and restored after the last use (the signal
/// fences keep the compiler from moving memory accesses across), so a signal handler running on
/// the thread allocates below every live object. `llvm.stacksave`/`llvm.stackrestore` save and
/// restore `__popcorn_osp`; after a setjmp-family call returns (a second time, from a `longjmp`
/// that skipped the epilogues of deeper frames) the pointer is reset to its value at the call.
/// Objects whose address reaches a setjmp-family call stay native: the runtime's jmp_buf registry
/// rewrites them in place with the frames they belong to.
///
/// A function that will get no migration point and reaches none (`PointFreeFunctions`, as
/// `MigrationPoints` will place them) keeps its objects in its native frame: no move happens while
/// it runs, so nothing can hold a pointer into its frame across one (a pointer kept after it
/// returns dangles on any ISA).
///
/// Pre: dead code removed (`DeadBranchRemoval`). Post: in every instrumentable function that is
/// not point-free (other than a variadic one that starts its arguments) no alloca is dynamic and
/// no alloca's address escapes, except jmp_buf storage.
struct ObjectStack {
    /// The thread's object-stack pointer (thread-local, runtime).
    static let pointer = "__popcorn_osp"
    /// Maps the calling thread's object stack and returns its top (runtime).
    static let initialize = "__popcorn_object_stack_init"
    /// Frames are aligned at least this much, like native stack frames.
    static let minimumAlignment: UInt64 = 16

    /// The functions left alone (none by default).
    var pointFree: PointFreeFunctions? = nil

    /// Moves the objects; returns the number of functions given an object frame.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let dataLayout = LLVMGetModuleDataLayout(module)!
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var changed = 0
        for function in IR.functions(of: module) where MigrationPoints.instrumentable(function)
            && !UndescribableFrames.startsVariableArguments(function) && pointFree?.isPointFree(function) != true {
            let (fixed, dynamic) = candidates(of: function)
            if fixed.isEmpty && dynamic.isEmpty && !usesStackSave(function) { continue }
            rewrite(function, fixed: fixed, dynamic: dynamic, module: module, context: context, dataLayout: dataLayout,
                    builder: builder)
            changed += 1
        }
        return changed
    }

    /// Entry-block allocas of constant size whose address escapes, and every other alloca.
    private func candidates(of function: LLVMValueRef) -> (fixed: [LLVMValueRef], dynamic: [LLVMValueRef]) {
        let entry = LLVMGetEntryBasicBlock(function)
        var fixed: [LLVMValueRef] = [], dynamic: [LLVMValueRef] = []
        for instruction in IR.instructions(of: function) where LLVMIsAAllocaInst(instruction) != nil {
            if AllocaEscape.reaches(instruction, callsOf: JmpBufNotes.setjmpFamily) { continue }
            let isFixed = LLVMGetInstructionParent(instruction) == entry
                && LLVMIsAConstantInt(LLVMGetOperand(instruction, 0)) != nil
            if !isFixed {
                dynamic.append(instruction)
            } else if AllocaEscape.escapes(instruction) {
                fixed.append(instruction)
            }
        }
        return (fixed, dynamic)
    }

    private func usesStackSave(_ function: LLVMValueRef) -> Bool {
        IR.instructions(of: function).contains { call in
            LLVMIsACallInst(call) != nil && (IR.calleeName(of: call)?.hasPrefix("llvm.stacksave") ?? false)
        }
    }

    private func rewrite(_ function: LLVMValueRef, fixed: [LLVMValueRef], dynamic: [LLVMValueRef],
                         module: LLVMModuleRef, context: LLVMContextRef, dataLayout: LLVMTargetDataRef,
                         builder: borrowing IRBuilder) {
        let ptr = LLVMPointerTypeInContext(context, 0)!
        let i8 = LLVMInt8TypeInContext(context)!
        let i64 = LLVMInt64TypeInContext(context)!
        let osp = Self.pointerGlobal(in: module, type: ptr)

        // Layout: largest alignment first, so no padding is needed between objects of one
        // alignment class; the frame size is a multiple of its alignment.
        var layout: [(alloca: LLVMValueRef, offset: UInt64)] = []
        var size: UInt64 = 0
        var alignment = Self.minimumAlignment
        for alloca in fixed.sorted(by: { Self.alignment(of: $0) > Self.alignment(of: $1) }) {
            let align = Self.alignment(of: alloca)
            size = (size + align - 1) / align * align
            layout.append((alloca, size))
            size += max(1, Self.allocatedBytes(alloca, dataLayout))
            alignment = max(alignment, align)
        }
        size = (size + alignment - 1) / alignment * alignment

        // Prologue, after the entry block's allocas (the ones that stay native keep their fixed
        // frame slots); dynamic allocations made there follow the prologue.
        let entry = LLVMGetEntryBasicBlock(function)!
        var first = LLVMGetFirstInstruction(entry)
        var entryDynamic: [LLVMValueRef] = []
        while let f = first, LLVMIsAAllocaInst(f) != nil {
            if dynamic.contains(f) { entryDynamic.append(f) }
            first = LLVMGetNextInstruction(f)
        }
        guard let insertion = first else { return }
        builder.position(before: insertion)
        let current = LLVMBuildLoad2(builder.ref, ptr, osp, "popcorn.osp")!
        let missing = LLVMBuildICmp(builder.ref, LLVMIntEQ, current, LLVMConstNull(ptr), "popcorn.osp.missing")!
        let start = CFGEditing.splitBlock(before: insertion, name: "popcorn.osp.ready", builder: builder)
        let fresh = LLVMAppendBasicBlockInContext(context, function, "popcorn.osp.first")!
        LLVMMoveBasicBlockAfter(fresh, entry)
        builder.position(atEndOf: entry)
        Self.markUnlikely(LLVMBuildCondBr(builder.ref, missing, fresh, start)!, context: context)
        builder.position(atEndOf: fresh)
        let initType = LLVMFunctionType(ptr, nil, 0, 0)!
        let initFunction = LLVMGetNamedFunction(module, Self.initialize) ?? LLVMAddFunction(module, Self.initialize, initType)!
        let made = LLVMBuildCall2(builder.ref, initType, initFunction, nil, 0, "popcorn.osp.made")!
        LLVMBuildBr(builder.ref, start)
        builder.position(before: LLVMGetFirstInstruction(start)!)
        let top = LLVMBuildPhi(builder.ref, ptr, "popcorn.osp.top")!
        var values: [LLVMValueRef?] = [current, made]
        var blocks: [LLVMBasicBlockRef?] = [entry, fresh]
        LLVMAddIncoming(top, &values, &blocks, 2)
        builder.position(after: top)

        var markers: [LLVMValueRef] = []
        var base = top
        if size > 0 {
            var offset = [LLVMConstInt(i64, UInt64(bitPattern: -Int64(size)), 1)]
            let lowered = LLVMBuildGEP2(builder.ref, i8, top, &offset, 1, "popcorn.frame.unaligned")!
            base = alignDown(lowered, to: alignment, module: module, context: context, builder: builder, name: "popcorn.frame")
            store(base, to: osp, builder: builder, context: context)
            for (alloca, objectOffset) in layout {
                var index = [LLVMConstInt(i64, objectOffset, 0)]
                let object = LLVMBuildGEP2(builder.ref, i8, base, &index, 1, "")!
                replace(alloca, with: object, markers: &markers)
            }
        }

        // Dynamic allocations: below the current pointer, where they are made (those of the entry
        // block right after the prologue, in their order).
        for alloca in entryDynamic {
            LLVMInstructionRemoveFromParent(alloca)
            LLVMInsertIntoBuilderWithName(builder.ref, alloca, "")
        }
        for alloca in dynamic {
            builder.position(before: alloca)
            let now = LLVMBuildLoad2(builder.ref, ptr, osp, "popcorn.osp.now")!
            let count = LLVMBuildZExtOrBitCast(builder.ref, LLVMGetOperand(alloca, 0), i64, "")!
            let element = LLVMConstInt(i64, LLVMABISizeOfType(dataLayout, LLVMGetAllocatedType(alloca)), 0)!
            let bytes = LLVMBuildMul(builder.ref, count, element, "")!
            var negative = [LLVMBuildNeg(builder.ref, bytes, "")]
            let lowered = LLVMBuildGEP2(builder.ref, i8, now, &negative, 1, "")!
            let align = max(Self.minimumAlignment, Self.alignment(of: alloca))
            let object = alignDown(lowered, to: align, module: module, context: context, builder: builder, name: "popcorn.dynamic")
            store(object, to: osp, builder: builder, context: context)
            replace(alloca, with: object, markers: &markers)
        }

        for instruction in IR.instructions(of: function) where LLVMIsACallInst(instruction) != nil {
            let name = IR.calleeName(of: instruction) ?? ""
            if name.hasPrefix("llvm.stacksave") {
                builder.position(before: instruction)
                let saved = LLVMBuildLoad2(builder.ref, ptr, osp, "popcorn.osp.saved")!
                LLVMReplaceAllUsesWith(instruction, saved)
                LLVMInstructionEraseFromParent(instruction)
            } else if name.hasPrefix("llvm.stackrestore") {
                builder.position(before: instruction)
                fence(builder: builder)
                store(LLVMGetOperand(instruction, 0), to: osp, builder: builder, context: context)
                LLVMInstructionEraseFromParent(instruction)
            } else if JmpBufNotes.setjmpFamily.contains(name) || Self.returnsTwice(instruction) {
                // A longjmp back here skipped the epilogues of the frames it unwound.
                builder.position(before: instruction)
                let atCall = LLVMBuildLoad2(builder.ref, ptr, osp, "popcorn.osp.setjmp")!
                builder.position(after: instruction)
                store(atCall, to: osp, builder: builder, context: context)
            }
        }
        for block in CFGEditing.blocks(of: function) {
            guard let terminator = LLVMGetBasicBlockTerminator(block), LLVMIsAReturnInst(terminator) != nil else { continue }
            builder.position(before: terminator)
            fence(builder: builder)
            store(top, to: osp, builder: builder, context: context)
        }
        for marker in markers { LLVMInstructionEraseFromParent(marker) }
    }

    /// Replaces an alloca by its object-stack address. Its lifetime markers (which must name an
    /// alloca) are collected in `markers`, to be erased once nothing is built before them.
    private func replace(_ alloca: LLVMValueRef, with object: LLVMValueRef, markers: inout [LLVMValueRef]) {
        for user in IR.instructionUsers(of: alloca) where LLVMIsACallInst(user) != nil {
            if let name = IR.calleeName(of: user), name.hasPrefix("llvm.lifetime.") { markers.append(user) }
        }
        IR.setName(object, IR.name(of: alloca))
        LLVMReplaceAllUsesWith(alloca, object)
        LLVMInstructionEraseFromParent(alloca)
    }

    /// `__popcorn_osp = value`, then a signal fence: nothing after it is moved above the store.
    private func store(_ value: LLVMValueRef, to osp: LLVMValueRef, builder: borrowing IRBuilder, context: LLVMContextRef) {
        LLVMBuildStore(builder.ref, value, osp)
        fence(builder: builder)
    }

    /// A compiler-only barrier: orders memory accesses against a signal handler on this thread.
    private func fence(builder: borrowing IRBuilder) {
        LLVMBuildFence(builder.ref, LLVMAtomicOrderingSequentiallyConsistent, 1, "")
    }

    private func alignDown(_ pointer: LLVMValueRef, to alignment: UInt64, module: LLVMModuleRef,
                           context: LLVMContextRef, builder: borrowing IRBuilder, name: String) -> LLVMValueRef {
        let i64 = LLVMInt64TypeInContext(context)!
        let ptr = LLVMPointerTypeInContext(context, 0)!
        var types: [LLVMTypeRef?] = [ptr, i64]
        let id = LLVMLookupIntrinsicID("llvm.ptrmask", 12)
        let intrinsic = LLVMGetIntrinsicDeclaration(module, id, &types, 2)!
        let type = LLVMIntrinsicGetType(context, id, &types, 2)!
        var arguments: [LLVMValueRef?] = [pointer, LLVMConstInt(i64, ~(alignment - 1), 0)]
        return LLVMBuildCall2(builder.ref, type, intrinsic, &arguments, 2, name)!
    }

    private static func allocatedBytes(_ alloca: LLVMValueRef, _ dataLayout: LLVMTargetDataRef) -> UInt64 {
        LLVMABISizeOfType(dataLayout, LLVMGetAllocatedType(alloca)) &* LLVMConstIntGetZExtValue(LLVMGetOperand(alloca, 0))
    }

    private static func alignment(of alloca: LLVMValueRef) -> UInt64 { max(1, UInt64(LLVMGetAlignment(alloca))) }

    private static func returnsTwice(_ call: LLVMValueRef) -> Bool {
        let kind = LLVMGetEnumAttributeKindForName("returns_twice", 13)
        if LLVMGetCallSiteEnumAttribute(call, LLVMAttributeIndex(bitPattern: -1), kind) != nil { return true }
        guard let callee = IR.calledFunction(of: call) else { return false }
        return LLVMGetEnumAttributeAtIndex(callee, LLVMAttributeIndex(bitPattern: -1), kind) != nil
    }

    /// The branch to the first-use path is cold.
    private static func markUnlikely(_ branch: LLVMValueRef, context: LLVMContextRef) {
        let i32 = LLVMInt32TypeInContext(context)!
        var operands: [LLVMMetadataRef?] = [
            LLVMMDStringInContext2(context, "branch_weights", 14),
            LLVMValueAsMetadata(LLVMConstInt(i32, 1, 0)),
            LLVMValueAsMetadata(LLVMConstInt(i32, 2000, 0)),
        ]
        let node = LLVMMDNodeInContext2(context, &operands, 3)!
        let kind = LLVMGetMDKindIDInContext(context, "prof", 4)
        LLVMSetMetadata(branch, kind, LLVMMetadataAsValue(context, node))
    }

    /// The declaration of `__popcorn_osp` (initial-exec: the program is linked statically).
    static func pointerGlobal(in module: LLVMModuleRef, type: LLVMTypeRef) -> LLVMValueRef {
        if let existing = LLVMGetNamedGlobal(module, pointer) { return existing }
        let global = LLVMAddGlobal(module, type, pointer)!
        LLVMSetThreadLocal(global, 1)
        LLVMSetThreadLocalMode(global, LLVMInitialExecTLSModel)
        LLVMSetLinkage(global, LLVMExternalLinkage)
        return global
    }
}
