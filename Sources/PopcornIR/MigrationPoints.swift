import CLLVM

/// Portable pass: inserts migration points.
///
/// A migration point is
/// `if (__builtin_expect(__popcorn_migration_pending != 0, 0)) __popcorn_migrate_point_slow();`:
/// one volatile load of an external `i32` and a branch that is predicted not taken, with the
/// call in a block of its own. With nothing pending it costs a load and a compare; the runtime
/// does everything else in the slow path. Where points go depends on the `MigrationPolicy`;
/// calls of `popcorn_migrate_point()` always become points in place, so an explicit point is
/// indistinguishable from an automatic one (same frame shape, a stackmap after the slow call).
struct MigrationPoints {
    /// The runtime's flag: non-zero means "enter the slow path at the next point".
    static let pendingFlag = "__popcorn_migration_pending"
    /// The runtime's slow path, where a migration happens.
    static let slowPath = "__popcorn_migrate_point_slow"
    /// The explicit migration point of popcorn.h.
    static let explicitPoint = "popcorn_migrate_point"
    /// popcorn.h's request to move: a point follows each call of it, so the move happens there.
    static let moveRequest = "popcorn_migrate"

    /// Whether the module asks for points under every policy: calls of `popcorn_migrate_point()`
    /// or `popcorn_migrate()`.
    static func hasExplicitPoints(_ module: LLVMModuleRef) -> Bool {
        [explicitPoint, moveRequest].contains { (name: String) -> Bool in
            guard let function = LLVMGetNamedFunction(module, name) else { return false }
            return LLVMGetFirstUse(function) != nil
        }
    }
    /// Loops with at least this many instructions (or containing a call) get a point on their
    /// back edges under `MigrationPolicy.loops`; smaller call-free loops stay as tight as they are.
    static let loopBodyBudget = 64

    let policy: MigrationPolicy
    /// The C library functions that reach no point (as `StackMaps` is told).
    let library: LibraryFunctions

    init(policy: MigrationPolicy, library: LibraryFunctions = .musl) {
        self.policy = policy
        self.library = library
    }

    /// Inserts the points; returns how many were inserted.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var inserted = 0
        // Functions that call only point-free code get no automatic points (`PointFreeFunctions`),
        // and calls to them need no records. Under `entry` and `entry-exit` that includes leaves
        // whose loops only compute (a hash-chain walk, a string comparison, a compression kernel):
        // neither ever gave a call-free loop a point. Under `loops`, whose promise is a point in
        // every long loop, only loop-free functions qualify.
        let pointFree = PointFreeFunctions.beforePlacement(in: module, policy: policy, library: library)
        for function in IR.functions(of: module) where Self.instrumentable(function) {
            var points: [LLVMValueRef] = []
            var explicit: [LLVMValueRef] = []
            for instruction in IR.instructions(of: function) where LLVMIsACallInst(instruction) != nil {
                if IR.calleeName(of: instruction) == Self.explicitPoint,
                   LLVMGetTypeKind(LLVMTypeOf(instruction)) == LLVMVoidTypeKind {
                    explicit.append(instruction)
                }
                // `popcorn_migrate(dst)` only sets the request; the point right after the call
                // serves it there, not wherever the next point happens to be (a caller's loop may
                // run on in point-free code for a long time).
                if IR.calleeName(of: instruction) == Self.moveRequest, !Self.isMustTail(instruction),
                   let next = LLVMGetNextInstruction(instruction) {
                    points.append(next)
                }
            }
            let automatic = policy != .none && !pointFree.isPointFree(function)
            if automatic {
                let entry = LLVMGetEntryBasicBlock(function)!
                if let first = firstNonAlloca(of: entry) { points.append(first) }
                for block in CFGEditing.blocks(of: function) where policy != .entry {
                    if let terminator = LLVMGetBasicBlockTerminator(block), LLVMIsAReturnInst(terminator) != nil {
                        points.append(Self.exitPosition(of: terminator))
                    }
                }
            }
            if automatic {
                points += loopPoints(of: function, pointFree: pointFree)
            }
            var seen = Set<UnsafeRawPointer>()
            for point in points where seen.insert(UnsafeRawPointer(point)).inserted {
                insertPoint(before: point, module: module, context: context, builder: builder)
                inserted += 1
            }
            for call in explicit {
                insertPoint(before: call, module: module, context: context, builder: builder)
                LLVMInstructionEraseFromParent(call)
                inserted += 1
            }
        }
        return inserted
    }

    /// Functions whose body the program runs as its own: definitions that are emitted, except the
    /// runtime's reserved `__popcorn_` helpers (which must not recurse into the slow path).
    static func instrumentable(_ function: LLVMValueRef) -> Bool {
        guard IR.isDefinition(function), LLVMGetLinkage(function) != LLVMAvailableExternallyLinkage else { return false }
        let name = IR.name(of: function)
        return !name.hasPrefix("__popcorn_") && !name.hasPrefix("llvm.") && !UndescribableFrames.isExcluded(function)
    }

    /// Where the exit point before `ret` goes: before the `musttail` call that must stay right in
    /// front of it (with at most a bitcast between), else before the `ret` itself.
    static func exitPosition(of ret: LLVMValueRef) -> LLVMValueRef {
        var previous = LLVMGetPreviousInstruction(ret)
        if let p = previous, LLVMIsABitCastInst(p) != nil { previous = LLVMGetPreviousInstruction(p) }
        if let call = previous, LLVMIsACallInst(call) != nil, isMustTail(call) { return call }
        return ret
    }

    static func isMustTail(_ call: LLVMValueRef) -> Bool { LLVMGetTailCallKind(call) == LLVMTailCallKindMustTail }

    /// The entry point goes after the static allocas so they stay in the entry block (the backend
    /// only gives entry-block allocas fixed frame slots).
    private func firstNonAlloca(of block: LLVMBasicBlockRef) -> LLVMValueRef? {
        var current = LLVMGetFirstInstruction(block)
        while let c = current, LLVMIsAAllocaInst(c) != nil { current = LLVMGetNextInstruction(c) }
        return current
    }

    /// Where loops get points of their own (each point goes before the returned instruction).
    ///
    /// Under `loops`: the latch terminator of every loop with a call or at least `loopBodyBudget`
    /// instructions. Under `entry` and `entry-exit`: right after every call in a loop that neither
    /// reaches a point nor only computes — the C library (a `read` that may block), the runtime, a point-free
    /// function that calls either. Without it such a loop could run for ever with no point on its
    /// way, while a loop calling anything else meets its callees' entry points or runs like a
    /// call-free loop. A point there costs a load and a compare only on iterations that make such
    /// a call, which costs more (an interpreter's dispatch loop calls `memcpy` from a few handlers;
    /// a latch point would tax every instruction); the values live across it are written only on
    /// its cold path.
    private func loopPoints(of function: LLVMValueRef, pointFree: PointFreeFunctions) -> [LLVMValueRef] {
        var result: [LLVMValueRef] = []
        for loop in CFGEditing.loops(of: function) {
            var size = 0
            var hasCall = false
            for block in loop.body {
                for instruction in CFGEditing.instructions(of: block) {
                    size += 1
                    if LLVMIsACallInst(instruction) != nil, !IR.isIntrinsicCall(instruction) { hasCall = true }
                    guard policy == .entry || policy == .entryExit, LLVMIsACallInst(instruction) != nil || LLVMIsAInvokeInst(instruction) != nil,
                          !pointFree.computes(instruction), !pointFree.reachesPoint(instruction) else { continue }
                    // After the call; an invoke ends its block, so its loop's latch takes the point.
                    if let next = LLVMGetNextInstruction(instruction) {
                        result.append(next)
                    } else if let terminator = LLVMGetBasicBlockTerminator(loop.latch) {
                        result.append(terminator)
                    }
                }
            }
            if policy == .loops, hasCall || size >= Self.loopBodyBudget, let terminator = LLVMGetBasicBlockTerminator(loop.latch) {
                result.append(terminator)
            }
        }
        return result
    }

    /// Splits the block before `instruction` and puts the flag test and the cold call between.
    private func insertPoint(before instruction: LLVMValueRef, module: LLVMModuleRef, context: LLVMContextRef,
                             builder: borrowing IRBuilder) {
        let head = LLVMGetInstructionParent(instruction)!
        let function = LLVMGetBasicBlockParent(head)!
        let location = LLVMInstructionGetDebugLoc(instruction)
        let tail = CFGEditing.splitBlock(before: instruction, name: "popcorn.mp.cont", builder: builder)
        let slow = LLVMAppendBasicBlockInContext(context, function, "popcorn.mp.slow")!
        LLVMMoveBasicBlockAfter(slow, head)

        let i32 = LLVMInt32TypeInContext(context)!
        builder.position(atEndOf: head)
        LLVMSetCurrentDebugLocation2(builder.ref, location)
        let flag = Self.pendingGlobal(in: module, type: i32)
        let pending = LLVMBuildLoad2(builder.ref, i32, flag, "popcorn.pending")!
        LLVMSetVolatile(pending, 1)
        LLVMSetAlignment(pending, 4)
        let requested = LLVMBuildICmp(builder.ref, LLVMIntNE, pending, LLVMConstInt(i32, 0, 0), "popcorn.requested")!
        let branch = LLVMBuildCondBr(builder.ref, requested, slow, tail)!
        LLVMSetMetadata(branch, LLVMGetMDKindIDInContext(context, "prof", 4), Self.unlikelyWeights(context))

        builder.position(atEndOf: slow)
        let (slowType, slowFunction) = Self.slowPathFunction(in: module, context: context)
        let call = LLVMBuildCall2(builder.ref, slowType, slowFunction, nil, 0, "")!
        LLVMAddCallSiteAttribute(call, LLVMAttributeIndex.max, Self.enumAttribute("cold", context))
        LLVMBuildBr(builder.ref, tail)
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
    }

    /// `__popcorn_migration_pending`, declared once per module.
    static func pendingGlobal(in module: LLVMModuleRef, type: LLVMTypeRef) -> LLVMValueRef {
        if let existing = LLVMGetNamedGlobal(module, pendingFlag) { return existing }
        let global = LLVMAddGlobal(module, type, pendingFlag)!
        LLVMSetLinkage(global, LLVMExternalLinkage)
        // Hidden makes the reference dso_local: a direct PC-relative access instead of a GOT load
        // whose result the backend would keep in a callee-saved register (state no stackmap shows).
        LLVMSetVisibility(global, LLVMHiddenVisibility)
        LLVMSetAlignment(global, 4)
        return global
    }

    /// `void __popcorn_migrate_point_slow(void)`, declared `cold nounwind` once per module.
    static func slowPathFunction(in module: LLVMModuleRef, context: LLVMContextRef) -> (LLVMTypeRef, LLVMValueRef) {
        let type = LLVMFunctionType(LLVMVoidTypeInContext(context), nil, 0, 0)!
        if let existing = LLVMGetNamedFunction(module, slowPath) { return (type, existing) }
        let function = LLVMAddFunction(module, slowPath, type)!
        LLVMSetVisibility(function, LLVMHiddenVisibility)
        for name in ["cold", "nounwind"] {
            LLVMAddAttributeAtIndex(function, LLVMAttributeIndex.max, enumAttribute(name, context))
        }
        return (type, function)
    }

    static func enumAttribute(_ name: String, _ context: LLVMContextRef) -> LLVMAttributeRef {
        LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName(name, name.utf8.count), 0)!
    }

    /// `!{!"branch_weights", i32 1, i32 2000}`: what `__builtin_expect(x, 0)` becomes.
    private static func unlikelyWeights(_ context: LLVMContextRef) -> LLVMValueRef {
        let i32 = LLVMInt32TypeInContext(context)!
        var operands: [LLVMMetadataRef?] = [
            LLVMMDStringInContext2(context, "branch_weights", 14),
            LLVMValueAsMetadata(LLVMConstInt(i32, 1, 0)),
            LLVMValueAsMetadata(LLVMConstInt(i32, 2000, 0)),
        ]
        let node = operands.withUnsafeMutableBufferPointer { LLVMMDNodeInContext2(context, $0.baseAddress, $0.count) }
        return LLVMMetadataAsValue(context, node)!
    }
}
