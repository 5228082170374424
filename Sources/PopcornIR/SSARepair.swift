import CLLVM

/// Restores SSA form after a value was given further definitions: every use of the value is
/// rewritten to the definition that reaches it, with phis where definitions meet.
///
/// `StackSlotDemotion` reads a value back from its slot right after each call it is live across;
/// each read is a new definition of the same value. Instead of a load before every use (which put
/// a volatile load into hot loops whose only call was a migration point outside the loop), uses
/// take the nearest read, and paths that did and did not pass through the call meet in a phi.
/// The construction is the on-demand one of Braun et al. ("Simple and Efficient Construction of
/// Static Single Assignment Form", CC 2013): walk up the predecessors from a use until a
/// definition is found, placing a phi at every join and removing the phis that turn out trivial.
/// It needs neither dominators nor dominance frontiers, which the C API does not offer.
struct SSARepair {
    /// Predecessors of every block of a function (one entry per edge, so a block reached twice
    /// from one `switch` is listed twice, as a phi needs one incoming entry per edge).
    struct Predecessors {
        private var map: [UnsafeRawPointer: [LLVMBasicBlockRef]] = [:]

        init(of function: LLVMValueRef) {
            for block in CFGEditing.blocks(of: function) {
                for successor in CFGEditing.successors(of: block) {
                    map[UnsafeRawPointer(successor), default: []].append(block)
                }
            }
        }

        subscript(_ block: LLVMBasicBlockRef) -> [LLVMBasicBlockRef] { map[UnsafeRawPointer(block)] ?? [] }
    }

    private let value: LLVMValueRef
    private let definitions: Set<UnsafeRawPointer>
    private let predecessors: Predecessors
    private let entry: LLVMBasicBlockRef
    private let builder: LLVMBuilderRef
    private var atEntry: [UnsafeRawPointer: LLVMValueRef] = [:]
    private var atEnd: [UnsafeRawPointer: LLVMValueRef] = [:]
    /// The phis placed so far (some may be removed again by `removeTrivialPhis`).
    private var phis: [LLVMValueRef] = []

    /// `value` is the original definition (an argument or an instruction of `function`);
    /// `definitions` are the new ones (instructions of the same type).
    init(value: LLVMValueRef, definitions: [LLVMValueRef], in function: LLVMValueRef, predecessors: Predecessors,
         builder: borrowing IRBuilder) {
        self.value = value
        var all = Set(definitions.map { UnsafeRawPointer($0) })
        if LLVMIsAInstruction(value) != nil { all.insert(UnsafeRawPointer(value)) }
        self.definitions = all
        self.predecessors = predecessors
        self.entry = LLVMGetEntryBasicBlock(function)!
        self.builder = builder.ref
    }

    /// The definition that reaches `instruction` (just before it).
    mutating func reachingDefinition(before instruction: LLVMValueRef) -> LLVMValueRef {
        var current = LLVMGetPreviousInstruction(instruction)
        while let c = current {
            if definitions.contains(UnsafeRawPointer(c)) { return c }
            current = LLVMGetPreviousInstruction(c)
        }
        return reachingDefinition(atEntryOf: LLVMGetInstructionParent(instruction)!)
    }

    /// The definition that reaches the end of `block` (what flows along its outgoing edges).
    mutating func reachingDefinition(atEndOf block: LLVMBasicBlockRef) -> LLVMValueRef {
        if let known = atEnd[UnsafeRawPointer(block)] { return known }
        let result: LLVMValueRef
        if let terminator = LLVMGetBasicBlockTerminator(block) {
            result = reachingDefinition(before: terminator)
        } else {
            result = reachingDefinition(atEntryOf: block)
        }
        atEnd[UnsafeRawPointer(block)] = result
        return result
    }

    private mutating func reachingDefinition(atEntryOf block: LLVMBasicBlockRef) -> LLVMValueRef {
        if let known = atEntry[UnsafeRawPointer(block)] { return known }
        if block == entry, LLVMIsAArgument(value) != nil { return value }
        let incoming = predecessors[block]
        let result: LLVMValueRef
        if incoming.isEmpty {
            // Unreachable code (or a use the original value did not dominate): any value will do.
            result = LLVMGetUndef(LLVMTypeOf(value))!
        } else if incoming.dropFirst().allSatisfy({ $0 == incoming[0] }) {
            result = reachingDefinition(atEndOf: incoming[0])
        } else {
            // Ahead of the first instruction's debug records too: a phi must not carry any.
            LLVMPositionBuilderBeforeInstrAndDbgRecords(builder, LLVMGetFirstInstruction(block)!)
            LLVMSetCurrentDebugLocation2(builder, nil)
            let phi = LLVMBuildPhi(builder, LLVMTypeOf(value), "popcorn.merge")!
            // Recorded before the operands are looked up, so a loop back to this block finds the phi.
            atEntry[UnsafeRawPointer(block)] = phi
            phis.append(phi)
            for predecessor in incoming {
                var operand: LLVMValueRef? = reachingDefinition(atEndOf: predecessor)
                var from: LLVMBasicBlockRef? = predecessor
                LLVMAddIncoming(phi, &operand, &from, 1)
            }
            result = phi
        }
        atEntry[UnsafeRawPointer(block)] = result
        return result
    }

    /// Rewrites operand `operand` of `user` (a use of the original value) to its reaching definition.
    mutating func rewrite(_ user: LLVMValueRef, operand: UInt32) {
        let reaching = LLVMIsAPHINode(user) != nil
            ? reachingDefinition(atEndOf: LLVMGetIncomingBlock(user, operand)!)
            : reachingDefinition(before: user)
        LLVMSetOperand(user, operand, reaching)
    }

    /// Removes the phis whose incoming values are all one value (or the phi itself), replacing
    /// them by that value; repeats until none is left, since a removal can make another phi
    /// trivial. Call once all rewriting is done: the lookup caches may name removed phis.
    /// Returns the phis that remain.
    mutating func removeTrivialPhis() -> [LLVMValueRef] {
        var remaining = phis
        var changed = true
        while changed {
            changed = false
            for (i, phi) in remaining.enumerated().reversed() {
                var same: LLVMValueRef?
                var trivial = true
                for k in 0..<LLVMCountIncoming(phi) {
                    let operand = LLVMGetIncomingValue(phi, k)!
                    if operand == phi || operand == same { continue }
                    if same != nil { trivial = false; break }
                    same = operand
                }
                guard trivial else { continue }
                LLVMReplaceAllUsesWith(phi, same ?? LLVMGetUndef(LLVMTypeOf(phi))!)
                LLVMInstructionEraseFromParent(phi)
                remaining.remove(at: i)
                changed = true
            }
        }
        phis = remaining
        atEntry.removeAll()
        atEnd.removeAll()
        return remaining
    }
}
