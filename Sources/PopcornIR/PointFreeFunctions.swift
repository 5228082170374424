import CLLVM

/// Module analysis: the functions defined here from which no migration point can be reached.
///
/// A call needs a stackmap — and the values live across it frame slots, and a callee-saved
/// barrier after it — only if a migration point can run while it is on the stack. A function
/// reaches no point when it has none itself and every call it makes goes to an intrinsic, inline
/// assembly, a point-free C library function (`LibraryFunctions`), one of the runtime's helpers
/// (plain C without points; the slow path excepted) or another such function of this module.
/// The set is a least fixed point — start empty, add every function whose calls all go to
/// point-free callees, repeat until nothing changes — so a function on a call-graph cycle, whose
/// depth nothing bounds, is never in it; neither is one that calls anything indirectly or outside
/// this module (another file's functions have points of their own).
///
/// Used twice:
/// * by `MigrationPoints`, before any point exists, with `loopFree`: a function without loops
///   whose calls all stay in the set runs a bounded, straight-line stretch of code, so it gets no
///   automatic points — a request made while it runs waits at most that long, for the next point
///   of its caller. Interpreters and B-trees call such helpers from their hottest loops; each of
///   their calls then costs what a plain call costs (no record, no slots, no barrier). `main` keeps
///   its points (the program's first and last chance to move, and many runs' only frame).
/// * by `StackMaps`, after the points are in, without the loop condition: calls to any function
///   that ended up without a point and reaches none (also under `-fpopcorn-migration=none`) get
///   no stackmap.
///
/// Only definitions that the link cannot replace count (external, internal and private linkage):
/// a weak or `linkonce` body may lose to another file's, compiled with points.
struct PointFreeFunctions {
    let library: LibraryFunctions
    private(set) var members: Set<UnsafeRawPointer> = []

    /// No function of the module is a member: only the C library's and the runtime's functions are
    /// point-free (what a single call can be judged by without looking at the module).
    init(library: LibraryFunctions) {
        self.library = library
    }

    /// The point-free functions of `module`; with `loopFree`, only those without loops (and not `main`).
    init(module: LLVMModuleRef, library: LibraryFunctions, loopFree: Bool) {
        self.library = library
        var pending: [(function: UnsafeRawPointer, calls: [LLVMValueRef])] = []
        for function in IR.functions(of: module) where IR.isDefinition(function) && Self.isFinal(function) {
            if loopFree && (IR.name(of: function) == "main" || !CFGEditing.backEdges(of: function).isEmpty) { continue }
            let calls = IR.instructions(of: function).filter {
                LLVMIsACallInst($0) != nil || LLVMIsAInvokeInst($0) != nil || LLVMIsACallBrInst($0) != nil
            }
            pending.append((UnsafeRawPointer(function), calls))
        }
        var changed = true
        while changed {
            changed = false
            pending.removeAll { candidate in
                guard candidate.calls.allSatisfy({ !reachesPoint($0) }) else { return false }
                members.insert(candidate.function)
                changed = true
                return true
            }
        }
    }

    /// True if a migration point may run while `call` is on the stack (for any instruction that
    /// is not a call: false).
    func reachesPoint(_ call: LLVMValueRef) -> Bool {
        if LLVMIsACallBrInst(call) != nil { return false }                  // asm goto
        guard LLVMIsACallInst(call) != nil || LLVMIsAInvokeInst(call) != nil else { return false }
        if IR.isInlineAsmCall(call) || IR.isIntrinsicCall(call) { return false }
        guard let function = IR.calledFunction(of: call) else { return true } // indirect
        return !isPointFree(function)
    }

    /// True if no migration point can run while `function` is on the stack.
    func isPointFree(_ function: LLVMValueRef) -> Bool {
        if members.contains(UnsafeRawPointer(function)) { return true }
        guard !IR.isDefinition(function) else { return false }
        let name = IR.name(of: function)
        if name == MigrationPoints.slowPath { return false }
        // The runtime's helpers (object stack, jmp_buf notes) are plain C: they never reach a point.
        if name.hasPrefix("__popcorn_") { return true }
        return library.contains(name)
    }

    /// Linkages whose definition is the one the program runs.
    private static func isFinal(_ function: LLVMValueRef) -> Bool {
        switch LLVMGetLinkage(function) {
        case LLVMExternalLinkage, LLVMInternalLinkage, LLVMPrivateLinkage: return true
        default: return false
        }
    }
}
