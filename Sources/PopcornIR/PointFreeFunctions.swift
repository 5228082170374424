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
/// * by `MigrationPoints`, before any point exists (`Scope.computingLoops` or `.loopFree`): a
///   member gets no automatic points — a request made while it runs waits until it returns, for
///   the next point of its caller. Interpreters, B-trees and compressors call such helpers from
///   their hottest loops (a hash-chain walk, a string comparison); each of their calls then costs
///   what a plain call costs (no record, no slots, no barrier).
/// * by `StackMaps`, after the points are in (`Scope.placed`): calls to any function that ended up
///   without a point and reaches none (also under `-fpopcorn-migration=none`) get no stackmap.
///
/// Only definitions that the link cannot replace count (external, internal and private linkage):
/// a weak or `linkonce` body may lose to another file's, compiled with points.
struct PointFreeFunctions {
    /// Which functions may become members.
    enum Scope {
        /// After placement: every function that has no point and calls only point-free code.
        case placed
        /// Placement under `entry` and `entry-exit`: loops are allowed as long as every call inside
        /// one *computes* — goes to an intrinsic, inline assembly, one of the C library's computing
        /// routines (`strlen`, `memcmp`, `isalpha`, `sin`) or a computing member (one whose own
        /// calls all compute): such a loop runs like a call-free loop, which neither policy ever
        /// gives a point. A loop that calls the rest of the C library (a `read` that may block, a
        /// `qsort`) or the runtime is not: its function keeps its points and each such call in the
        /// loop is followed by a point (`MigrationPoints`).
        case computingLoops
        /// Placement under `loops`, whose promise is a point in every long loop: only functions
        /// without loops, each a straight-line stretch of code.
        case loopFree
    }

    let library: LibraryFunctions
    private(set) var members: Set<UnsafeRawPointer> = []
    /// Members that only compute (`Scope.computingLoops`): no call leaves intrinsics, inline
    /// assembly and other such members.
    private(set) var computing: Set<UnsafeRawPointer> = []

    /// The functions that `MigrationPoints` leaves without automatic points under `policy` (and
    /// that therefore never have a frame below a point): computed before the points are placed, by
    /// every pass that needs the answer early.
    static func beforePlacement(in module: LLVMModuleRef, policy: MigrationPolicy, library: LibraryFunctions) -> PointFreeFunctions {
        switch policy {
        // Only explicit points: a function without one that calls only point-free code.
        case .none: return PointFreeFunctions(module: module, library: library, scope: .placed)
        case .entry, .entryExit: return PointFreeFunctions(module: module, library: library, scope: .computingLoops)
        case .loops: return PointFreeFunctions(module: module, library: library, scope: .loopFree)
        }
    }

    /// No function of the module is a member: only the C library's and the runtime's functions are
    /// point-free (what a single call can be judged by without looking at the module).
    init(library: LibraryFunctions) {
        self.library = library
    }

    /// The point-free functions of `module` that `scope` admits.
    init(module: LLVMModuleRef, library: LibraryFunctions, scope: Scope) {
        self.library = library
        struct Candidate {
            let function: UnsafeRawPointer
            let calls: [LLVMValueRef]
            /// The calls inside a loop body (each once).
            let loopCalls: [LLVMValueRef]
        }
        var pending: [Candidate] = []
        for function in IR.functions(of: module) where IR.isDefinition(function) && Self.isFinal(function) {
            // `main` keeps its points (the program's first and last chance to move, and many runs'
            // only frame) even when it would qualify.
            if scope != .placed && IR.name(of: function) == "main" { continue }
            let loops = scope == .placed ? [] : CFGEditing.loops(of: function)
            if scope == .loopFree && !loops.isEmpty { continue }
            let calls = IR.instructions(of: function).filter(Self.isCall)
            var inLoop = Set<UnsafeRawPointer>()
            for loop in loops {
                for block in loop.body { for call in CFGEditing.instructions(of: block) where Self.isCall(call) { inLoop.insert(UnsafeRawPointer(call)) } }
            }
            pending.append(Candidate(function: UnsafeRawPointer(function), calls: calls,
                                     loopCalls: calls.filter { inLoop.contains(UnsafeRawPointer($0)) }))
        }
        // Both sets grow monotonically (more computing members admit more members), so iterating
        // to the point where neither changes gives the least fixed point of the two together.
        var changed = true
        while changed {
            changed = false
            for candidate in pending {
                if !members.contains(candidate.function),
                   candidate.calls.allSatisfy({ !reachesPoint($0) }),
                   candidate.loopCalls.allSatisfy(computes) {
                    members.insert(candidate.function)
                    changed = true
                }
                if members.contains(candidate.function), !computing.contains(candidate.function),
                   candidate.calls.allSatisfy(computes) {
                    computing.insert(candidate.function)
                    changed = true
                }
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

    /// True if `call` only computes: an intrinsic, inline assembly, a computing member or a C
    /// library function that only computes (`LibraryFunctions.computing`: no system call, no lock,
    /// nothing that reaches a point).
    func computes(_ call: LLVMValueRef) -> Bool {
        if LLVMIsACallBrInst(call) != nil || IR.isInlineAsmCall(call) || IR.isIntrinsicCall(call) { return true }
        guard let function = IR.calledFunction(of: call) else { return false }
        if computing.contains(UnsafeRawPointer(function)) { return true }
        return !IR.isDefinition(function) && library.computes(IR.name(of: function))
    }

    /// True if no migration point can run while `function` is on the stack.
    func isPointFree(_ function: LLVMValueRef) -> Bool {
        if members.contains(UnsafeRawPointer(function)) { return true }
        guard !IR.isDefinition(function) else { return false }
        let name = IR.name(of: function)
        // The slow path is where moves happen; a move request is followed by a point.
        if name == MigrationPoints.slowPath || name == MigrationPoints.moveRequest { return false }
        // The runtime's helpers (object stack, jmp_buf notes) are plain C: they never reach a point.
        // The result pin of the portable IR becomes an empty statement per ISA.
        if name.hasPrefix("__popcorn_") || name == CallResultPin.placeholder { return true }
        return library.contains(name)
    }

    private static func isCall(_ instruction: LLVMValueRef) -> Bool {
        LLVMIsACallInst(instruction) != nil || LLVMIsAInvokeInst(instruction) != nil || LLVMIsACallBrInst(instruction) != nil
    }

    /// Linkages whose definition is the one the program runs.
    private static func isFinal(_ function: LLVMValueRef) -> Bool {
        switch LLVMGetLinkage(function) {
        case LLVMExternalLinkage, LLVMInternalLinkage, LLVMPrivateLinkage: return true
        default: return false
        }
    }
}
