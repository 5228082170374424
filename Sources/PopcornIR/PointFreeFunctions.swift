import CLLVM

/// The functions of a module that need no migration points of their own: they can never be on
/// the stack below a migration point, so neither they nor the calls to them need anything.
///
/// A function is point-free when it is not `main`, has no explicit `popcorn_migrate_point()`,
/// has no loop, is not recursive, and calls only intrinsics, inline assembly, C library
/// functions (other than the setjmp family, whose call sites the runtime must know) and
/// point-free functions of this module. Without loops or recursion it runs a bounded number of
/// instructions of its own, so leaving it without points delays a move only as long as its C
/// library calls take (as any C library call does); a function with a loop (a hash chain walk, a
/// whole simulation step) keeps its points, and callers in other files, which cannot tell,
/// lose nothing. While it runs, no point can be reached except through a C library frame (a `qsort`
/// comparator), where the runtime waits anyway. Such a function used to pay for two points per
/// call and, through the stackmap after each point's slow-path call and the callee-saved
/// barrier after it, for saving every callee-saved register in its prologue; its callers kept
/// the values live across the call in frame slots. Small hot helpers (a hash-table lookup, a
/// type test, an allocator wrapper) are exactly such functions.
///
/// Latency stays bounded: a point-free function runs a bounded, loop-free call tree, and
/// `MigrationPoints` gives every loop of this file that calls one a point on its back edge.
///
/// The analysis is per module: a call to a function of another file is assumed to reach a point.
struct PointFreeFunctions {
    /// Marks a point-free definition for the later passes (`StackMaps` leaves calls to it alone).
    static let attribute = "popcorn-point-free"

    let library: LibraryFunctions

    /// The point-free functions among `candidates` (the module's instrumentable definitions).
    /// `hasOwnPoints` says which candidates get points whatever they call (explicit points, loops
    /// under `MigrationPolicy.loops`).
    func find(in module: LLVMModuleRef, candidates: [LLVMValueRef],
              hasOwnPoints: (LLVMValueRef) -> Bool) -> Set<UnsafeRawPointer> {
        let key = { (f: LLVMValueRef) in UnsafeRawPointer(f) }
        let candidateSet = Set(candidates.map(key))
        // Per candidate: its callees among the candidates, and whether it reaches a point anyway.
        var callees: [UnsafeRawPointer: [UnsafeRawPointer]] = [:]
        var reaches = Set<UnsafeRawPointer>()
        for function in candidates {
            var own: [UnsafeRawPointer] = []
            var cycles = CycleOracle(of: function)
            var reachesPoint = IR.name(of: function) == "main" || hasOwnPoints(function) || cycles.hasCycle()
            for instruction in IR.instructions(of: function) where !reachesPoint && LLVMIsACallInst(instruction) != nil {
                if let callee = LLVMGetCalledValue(instruction), LLVMIsAInlineAsm(callee) != nil { continue }
                if StackMaps.isIntrinsicCall(instruction) { continue }
                guard let called = IR.calledFunction(of: instruction) else { reachesPoint = true; break }
                if candidateSet.contains(key(called)) {
                    own.append(key(called))
                } else if IR.isDefinition(called) || !library.contains(IR.name(of: called)) {
                    // Defined here but not instrumentable (a runtime helper, an excluded frame),
                    // or defined elsewhere and not the C library's.
                    reachesPoint = reachesPoint || !Self.isHarmless(called)
                }
            }
            callees[key(function)] = own
            if reachesPoint { reaches.insert(key(function)) }
        }
        // Recursion needs points: a call cycle among candidates makes its members reach one.
        for function in candidates where !reaches.contains(key(function)) {
            if Self.isOnCycle(key(function), callees: callees, excluding: reaches) { reaches.insert(key(function)) }
        }
        // Whatever calls a function that reaches a point reaches one too.
        var changed = true
        while changed {
            changed = false
            for function in candidates where !reaches.contains(key(function)) {
                if callees[key(function)]!.contains(where: reaches.contains) {
                    reaches.insert(key(function))
                    changed = true
                }
            }
        }
        return candidateSet.subtracting(reaches)
    }

    /// Runtime helpers a point-free function may call: they never reach a point.
    private static func isHarmless(_ function: LLVMValueRef) -> Bool {
        let name = IR.name(of: function)
        return name == ObjectStack.initialize || name == JmpBufNotes.noteFunction
    }

    /// Whether `start` can reach itself through calls among functions not in `excluding`.
    private static func isOnCycle(_ start: UnsafeRawPointer, callees: [UnsafeRawPointer: [UnsafeRawPointer]],
                                  excluding: Set<UnsafeRawPointer>) -> Bool {
        var seen = Set<UnsafeRawPointer>()
        var work = callees[start] ?? []
        while let next = work.popLast() {
            if next == start { return true }
            guard !excluding.contains(next), seen.insert(next).inserted else { continue }
            work += callees[next] ?? []
        }
        return false
    }
}
