import CLLVM

/// Computes an address that is a constant offset from another value again next to each of its
/// uses, instead of carrying it across instrumented calls.
///
/// The optimiser shares one `getelementptr` between the blocks that use it and hoists it out of
/// loops: `&s->blockCRC`, computed once before a loop whose body calls a function, is then live
/// across that call. Everything live across an instrumented call lives in a stack slot of its own
/// (`StackSlotDemotion`), so every use read the address back from the slot before using it
/// (bzip2's `handle_compress`: `mov -0x98(%rbp),%rsi; mov (%rsi),%ecx` for plain code's
/// `mov 0x288(%rbx),%ecx`), and each such address cost a store before the call, a record entry at
/// every call it is live across, and a frame slot. Plain code generation sinks these addresses
/// into the blocks that use them (CodeGenPrepare), where instruction selection folds them into
/// the memory access; after demotion there is nothing left to sink.
///
/// So, before demotion, each use of such an address gets a copy of the `getelementptr` (and of
/// the constant-offset `getelementptr`s it is built on) right before it — for a phi, at the end of
/// the incoming block — and the original goes away. Its base is then live across the calls
/// instead: a value that usually is anyway (several fields of one structure), or a global or a
/// stack object, which no slot holds. The copies compute the same address from the same base, on
/// every ISA and after a move alike.
struct AddressRematerialization {
    /// Rewrites, in `function`, every constant-offset address among `live` (the values live across
    /// each instrumented call, `LiveValues.liveAcross`); returns how many addresses it rewrote.
    func run(on function: LLVMValueRef, live: [UnsafeRawPointer: [LLVMValueRef]], builder: borrowing IRBuilder) -> Int {
        var candidates = Set<UnsafeRawPointer>()
        for values in live.values {
            for value in values where Self.isConstantOffset(value) { candidates.insert(UnsafeRawPointer(value)) }
        }
        guard !candidates.isEmpty else { return 0 }
        // In the function's order, not the dictionary's: the same input gives the same output.
        let addresses = IR.instructions(of: function).filter { candidates.contains(UnsafeRawPointer($0)) }
        var rewritten = 0
        // Addresses erased because a rewritten address was built on them (the list may name both).
        var erased = Set<UnsafeRawPointer>()
        for address in addresses where !erased.contains(UnsafeRawPointer(address)) && LLVMGetFirstUse(address) != nil {
            // Copies for the uses in the incoming blocks of phis, one per block (a phi lists one
            // value per predecessor, also when it names that predecessor twice).
            var atBlockEnd: [UnsafeRawPointer: LLVMValueRef] = [:]
            for (user, operand) in IR.operandUses(of: address) {
                let copy: LLVMValueRef
                if LLVMIsAPHINode(user) != nil {
                    let incoming = LLVMGetIncomingBlock(user, operand)!
                    if let existing = atBlockEnd[UnsafeRawPointer(incoming)] {
                        copy = existing
                    } else {
                        builder.position(before: LLVMGetBasicBlockTerminator(incoming)!)
                        copy = Self.copy(address, builder: builder)
                        atBlockEnd[UnsafeRawPointer(incoming)] = copy
                    }
                } else {
                    builder.position(before: user)
                    copy = Self.copy(address, builder: builder)
                }
                LLVMSetOperand(user, operand, copy)
            }
            erased.formUnion(Self.eraseIfUnused(address))
            rewritten += 1
        }
        return rewritten
    }

    /// A `getelementptr` instruction yielding one pointer, all of whose indices are constants.
    static func isConstantOffset(_ value: LLVMValueRef) -> Bool {
        guard LLVMIsAGetElementPtrInst(value) != nil, LLVMGetTypeKind(LLVMTypeOf(value)) == LLVMPointerTypeKind else {
            return false
        }
        return (1..<LLVMGetNumOperands(value)).allSatisfy { LLVMIsAConstant(LLVMGetOperand(value, UInt32($0))) != nil }
    }

    /// A copy of `address` at the builder's position, built on copies of the constant-offset
    /// addresses it is built on, so that the chain's first non-constant-offset base is what the
    /// copy keeps live.
    private static func copy(_ address: LLVMValueRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        let base = LLVMGetOperand(address, 0)!
        let newBase = isConstantOffset(base) ? copy(base, builder: builder) : base
        let clone = LLVMInstructionClone(address)!
        LLVMSetOperand(clone, 0, newBase)
        LLVMInsertIntoBuilderWithName(builder.ref, clone, "")
        return clone
    }

    /// Erases `address` once nothing uses it, and then each constant-offset address it was built
    /// on that nothing uses any more.
    private static func eraseIfUnused(_ address: LLVMValueRef) -> [UnsafeRawPointer] {
        var erased: [UnsafeRawPointer] = []
        var current: LLVMValueRef? = address
        while let value = current, LLVMGetFirstUse(value) == nil {
            let base = LLVMGetOperand(value, 0)!
            LLVMInstructionEraseFromParent(value)
            erased.append(UnsafeRawPointer(value))
            current = isConstantOffset(base) ? base : nil
        }
        return erased
    }
}
