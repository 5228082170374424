import CLLVM

/// Keeps a value in a stack slot of its own while it is live across calls: the slot holds the
/// value whenever one of those calls is on the stack, the value is read back right after each of
/// them, and every use is rewritten to the nearest read.
///
/// A value kept in a register across a call is not reliably described by a stackmap placed
/// after the call: the register allocator may put a reload or copy between the call and the
/// stackmap and report that register, at an offset past the return address (floating-point
/// values on x86_64, 128-bit values on aarch64, and pointers copied into argument registers
/// were all observed), and multi-register values (`i128`, aggregates, `i1`) are not supported
/// at all. After demotion the value is dead across the call and the slot — an entry-block
/// alloca with a fixed frame offset — is recorded instead.
///
/// The slot only has to be right while a call is on the stack (the runtime may rewrite it then,
/// so the value is read back right after the call); elsewhere the value stays in registers. Where
/// paths that did and did not pass through the call meet, `SSARepair` merges the two definitions
/// in a phi. Where the value is stored is chosen by cost:
/// * right before each call it is live across, as long as no such call can run again and again
///   without the value being redefined: a store then runs at most once per call, only on paths
///   that make the call (an interpreter's dispatch loop defines its operands on every
///   instruction but calls out in few handlers; a store at each definition cost the hot path
///   several stores per instruction). Migration points' slow-path calls, which almost never run,
///   always count as such calls: the values live across a function's entry point then cost
///   nothing on the fast path;
/// * a used call result is stored right after its call (and read back at once: see `demote`);
/// * a value live across a call on a cycle that avoids its definition (a loop around the call
///   that the definition is outside of — the locals a giant interpreter function sets up before
///   its dispatch loop) makes the slot its home: stored once, right after the definition, and
///   every use reads the slot (once per block, again after each call in the block), with no reads
///   after the calls. Reads after every call merged by phis at the loop header made hundreds of
///   values the register allocator could not keep in registers: each call was followed by a
///   read and a copy into a spill slot per value (SQLite's `sqlite3VdbeExec`: about 800
///   instructions after each call), where reading at the uses costs one load per use.
struct StackSlotDemotion {
    /// What demotion made of one value.
    struct Demotion {
        /// The entry-block alloca holding the value across the calls.
        let slot: LLVMValueRef
        /// The new definitions of the value: the reads from the slot and the phis merging them.
        let versions: [LLVMValueRef]
    }

    /// The function's predecessor lists (its control flow does not change while values are demoted).
    let predecessors: SSARepair.Predecessors
    /// Which blocks repeat without passing a given block (same control flow as `predecessors`).
    var cycles: CycleOracle

    /// The function's reachable blocks in reverse post-order, and each one's position in it.
    let order: [LLVMBasicBlockRef]
    let position: [UnsafeRawPointer: Int]

    /// The function's loops, one per header (the bodies of its back edges merged), outermost first,
    /// each with its preheader when the header has exactly one predecessor outside the body.
    let loops: [(body: Set<UnsafeRawPointer>, preheader: LLVMBasicBlockRef?)]

    init(function: LLVMValueRef) {
        predecessors = SSARepair.Predecessors(of: function)
        cycles = CycleOracle(of: function)
        order = CFGEditing.reversePostOrder(of: function)
        position = Dictionary(uniqueKeysWithValues: order.enumerated().map { (UnsafeRawPointer($1), $0) })
        var bodies: [UnsafeRawPointer: (body: Set<UnsafeRawPointer>, blocks: [LLVMBasicBlockRef])] = [:]
        var headers: [LLVMBasicBlockRef] = []
        for loop in CFGEditing.loops(of: function) {
            let key = UnsafeRawPointer(loop.header)
            if bodies[key] == nil { headers.append(loop.header) }
            for block in loop.body where bodies[key, default: ([], [])].body.insert(UnsafeRawPointer(block)).inserted {
                bodies[key]!.blocks.append(block)
            }
        }
        let predecessors = self.predecessors
        loops = headers.map { header -> (body: Set<UnsafeRawPointer>, preheader: LLVMBasicBlockRef?) in
            let body = bodies[UnsafeRawPointer(header)]!.body
            let outside = predecessors[header].filter { !body.contains(UnsafeRawPointer($0)) }
            // Entered only through the header (an irreducible cycle has other ways in).
            let closed = bodies[UnsafeRawPointer(header)]!.blocks.allSatisfy { member in
                member == header || predecessors[member].allSatisfy { body.contains(UnsafeRawPointer($0)) }
            }
            return (body, closed && outside.count == 1 ? outside[0] : nil)
        }.sorted { $0.body.count > $1.body.count }
    }

    /// Demotes `value` (an argument or instruction of `function`) across `calls`, the
    /// instrumented calls it is live across. If `value` is itself an instrumented call whose
    /// result is used, the result is stored right after the call and read back at once, so no
    /// copy out of the return register can come between the call and its stackmap.
    mutating func demote(_ value: LLVMValueRef, across calls: [LLVMValueRef], isCallResult: Bool, in function: LLVMValueRef,
                builder: borrowing IRBuilder) -> Demotion {
        let type = LLVMTypeOf(value)!
        let entry = LLVMGetEntryBasicBlock(function)!
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        // After the existing allocas, so slots come in the order values were demoted.
        var insertion = LLVMGetFirstInstruction(entry)
        while let i = insertion, LLVMIsAAllocaInst(i) != nil { insertion = LLVMGetNextInstruction(i) }
        if let insertion { builder.position(before: insertion) } else { builder.position(atEndOf: entry) }
        let slot = LLVMBuildAlloca(builder.ref, type, "popcorn.slot")!

        // The original uses, before any of the instructions added below use the value.
        let uses = IR.operandUses(of: value)

        // Volatile loads and stores: otherwise instruction selection forwards the stored value to
        // the read and keeps it in a register across the call, or copies the call's return register
        // into another register right after the call — between the call and its stackmap, which
        // then no longer sits at the return address.
        var reads: [LLVMValueRef] = []
        let definingBlock = LLVMIsAArgument(value) != nil ? entry : LLVMGetInstructionParent(value)!
        // Live across a call in a loop it does not change in: the slot is its home (see the type's comment).
        let resident = !isCallResult && calls.contains {
            !Self.isSlowPath($0) && cycles.liesOnCycle(LLVMGetInstructionParent($0)!, avoiding: definingBlock)
        }
        let storeAtDefinition = isCallResult || resident
        // Where the slot is written otherwise: right before each call.
        let stores = storeAtDefinition ? [] : calls
        // A resident phi (a dispatch loop's carried operands) is stored where a new value flows
        // into it, not on every pass through its block (see `edgeStores`).
        if resident, LLVMIsAPHINode(value) != nil, let edges = edgeStores(of: value) {
            for (block, incoming) in edges {
                builder.position(before: LLVMGetBasicBlockTerminator(block)!)
                LLVMSetVolatile(LLVMBuildStore(builder.ref, incoming, slot), 1)
            }
            let start = CFGEditing.firstNonPhi(of: definingBlock)!
            let loads = readAtUses(value, slot: slot, type: type, uses: uses, after: start, across: calls, builder: builder)
            return Demotion(slot: slot, versions: loads)
        }
        if storeAtDefinition {
            if LLVMIsAArgument(value) != nil {
                if let insertion { builder.position(before: insertion) } else { builder.position(atEndOf: entry) }
            } else if LLVMIsAPHINode(value) != nil {
                builder.position(before: CFGEditing.firstNonPhi(of: LLVMGetInstructionParent(value)!)!)
            } else {
                builder.position(after: value)
            }
            let store = LLVMBuildStore(builder.ref, value, slot)!
            LLVMSetVolatile(store, 1)
            if resident {
                let loads = readAtUses(value, slot: slot, type: type, uses: uses, after: store, across: calls, builder: builder)
                return Demotion(slot: slot, versions: loads)
            }
            // Read back at once: the call's result is then used only by the store (see above).
            if isCallResult { reads.append(read(slot, type, builder: builder)) }
        }
        for call in calls {
            builder.position(after: call)
            reads.append(read(slot, type, builder: builder))
        }

        var repair = SSARepair(value: value, definitions: reads, in: function, predecessors: predecessors,
                               builder: builder)
        for (user, operand) in uses { repair.rewrite(user, operand: operand) }
        let readSet = Set(reads.map { UnsafeRawPointer($0) })
        for position in stores {
            let current = repair.reachingDefinition(before: position)
            // Nothing has been stored to the slot since these reads of it: it still holds the value.
            if Self.isReadsOnly(current, reads: readSet, value: value) { continue }
            builder.position(before: position)
            LLVMSetVolatile(LLVMBuildStore(builder.ref, current, slot), 1)
        }
        let merges = repair.removeTrivialPhis()
        // A read nothing uses (the value was live across the call only on paths that redefine it
        // first) would only cost a load.
        var kept: [LLVMValueRef] = []
        for read in reads {
            if LLVMGetFirstUse(read) == nil {
                LLVMInstructionEraseFromParent(read)
            } else {
                kept += sink(read, type: type, builder: builder)
            }
        }
        return Demotion(slot: slot, versions: kept + merges)
    }

    /// Where a slot-resident `phi` can be stored instead of right after it, where it is defined on
    /// every pass through its block: at the end of each block from which a value other than the
    /// phi itself flows into it — through phis of blocks that only pass it on — or nil when some
    /// such path does not allow it.
    ///
    /// SQLite's interpreter loop carries its operands in phis of the loop header: each iteration
    /// stored eight of them, though most handlers change none (their value arrives through the
    /// latch's phi as the header phi itself). On an edge where the phi itself flows in, the slot
    /// already holds it. Elsewhere the new value is stored at the end of the block it comes from,
    /// which must end in an unconditional branch (no other path sees the slot change); the blocks
    /// between that store and the phi — the latch — must contain no call (a move there would not
    /// carry the slot: the phi is not live across it) and no use of the phi but the phi passing it
    /// on (such a use would read the slot after the store). The slot then holds the phi from the
    /// start of its block, as with a store right after it.
    private func edgeStores(of phi: LLVMValueRef) -> [(block: LLVMBasicBlockRef, value: LLVMValueRef)]? {
        var stores: [(block: LLVMBasicBlockRef, value: LLVMValueRef)] = []
        var passing = Set<UnsafeRawPointer>()   // blocks whose phi passes the value on
        func endsInBranch(_ block: LLVMBasicBlockRef) -> Bool {
            guard let end = LLVMGetBasicBlockTerminator(block) else { return false }
            return LLVMIsABranchInst(end) != nil && LLVMGetNumSuccessors(end) == 1 && LLVMIsConditional(end) == 0
        }
        func uses(_ instruction: LLVMValueRef, _ value: LLVMValueRef) -> Bool {
            (0..<UInt32(LLVMGetNumOperands(instruction))).contains { LLVMGetOperand(instruction, $0) == value }
        }
        // `incoming` reaches the phi along the edge leaving `block`, as `receiver`'s operand.
        func follow(_ incoming: LLVMValueRef, from block: LLVMBasicBlockRef, into receiver: LLVMValueRef) -> Bool {
            if incoming == phi { return true }
            guard endsInBranch(block) else { return false }
            if LLVMIsAPHINode(incoming) != nil, LLVMGetInstructionParent(incoming) == block {
                guard passing.insert(UnsafeRawPointer(block)).inserted else { return false }
                for instruction in CFGEditing.instructions(of: block) {
                    if LLVMIsACallInst(instruction) != nil || LLVMIsAInvokeInst(instruction) != nil { return false }
                    if instruction != incoming && uses(instruction, phi) { return false }
                }
                for i in 0..<LLVMCountIncoming(incoming) {
                    guard follow(LLVMGetIncomingValue(incoming, i)!, from: LLVMGetIncomingBlock(incoming, i)!,
                                 into: incoming) else { return false }
                }
                return true
            }
            // A use of the phi by the branch, or by another phi on this edge, would read the slot
            // after the store.
            let end = LLVMGetBasicBlockTerminator(block)!
            if uses(end, phi) { return false }
            for other in CFGEditing.phis(of: LLVMGetSuccessor(end, 0)!) where other != receiver {
                for i in 0..<LLVMCountIncoming(other) where LLVMGetIncomingBlock(other, i) == block
                && LLVMGetIncomingValue(other, i) == phi {
                    return false
                }
            }
            stores.append((block, incoming))
            return true
        }
        for i in 0..<LLVMCountIncoming(phi) {
            guard follow(LLVMGetIncomingValue(phi, i)!, from: LLVMGetIncomingBlock(phi, i)!, into: phi) else { return nil }
        }
        return stores
    }

    /// Gives every edge into a loop's latch from a block with several successors a block of its
    /// own, when the latch only merges and passes on values (phis, no call, an unconditional branch
    /// back to the header), so that `edgeStores` can store a loop-carried value changed on that
    /// path at the end of the edge's block instead of on every iteration. Runs before demotion
    /// (the control flow is fixed while values are demoted); an edge block that receives no store
    /// is empty, and code generation folds it away. Returns how many edges it split.
    static func splitLatchEdges(of function: LLVMValueRef, builder: borrowing IRBuilder) -> Int {
        var latches: [LLVMBasicBlockRef] = []
        for (latch, _) in CFGEditing.backEdges(of: function) where !latches.contains(latch) {
            guard let end = LLVMGetBasicBlockTerminator(latch), LLVMIsABranchInst(end) != nil, LLVMIsConditional(end) == 0,
                  !CFGEditing.phis(of: latch).isEmpty,
                  !CFGEditing.instructions(of: latch).contains(where: { LLVMIsACallInst($0) != nil || LLVMIsAInvokeInst($0) != nil })
            else { continue }
            latches.append(latch)
        }
        guard !latches.isEmpty else { return 0 }
        let predecessors = SSARepair.Predecessors(of: function)
        var split = 0
        for latch in latches {
            var seen = Set<UnsafeRawPointer>()
            for predecessor in predecessors[latch] where seen.insert(UnsafeRawPointer(predecessor)).inserted {
                guard let end = LLVMGetBasicBlockTerminator(predecessor), LLVMGetNumSuccessors(end) > 1,
                      LLVMIsABranchInst(end) != nil || LLVMIsASwitchInst(end) != nil else { continue }
                _ = CFGEditing.splitEdge(from: predecessor, to: latch, name: "popcorn.edge", builder: builder)
                split += 1
            }
        }
        return split
    }

    /// Whether `definition`, a reaching definition of `value` during its demotion, is one of `reads`
    /// or a merge (SSARepair's phis, through any number of them) of nothing but them. The slot then
    /// still holds the value on every path: a store is only ever placed right before a call the
    /// value is live across, and a read follows that call, so no store lies between those reads
    /// and this point. Storing it again would be a load and a store of the same slot before the
    /// call (SQLite's x86_64 shell had 1 237 such pairs).
    static func isReadsOnly(_ definition: LLVMValueRef, reads: Set<UnsafeRawPointer>, value: LLVMValueRef) -> Bool {
        var pending = [definition], seen: Set<UnsafeRawPointer> = []
        while let d = pending.popLast() {
            guard seen.insert(UnsafeRawPointer(d)).inserted, !reads.contains(UnsafeRawPointer(d)) else { continue }
            // The value itself (even a phi) was never stored; any other phi here is a merge.
            guard d != value, LLVMIsAPHINode(d) != nil else { return false }
            for i in 0..<LLVMCountIncoming(d) { pending.append(LLVMGetIncomingValue(d, i)!) }
        }
        return true
    }

    /// Moves a read that nothing in its own block uses to the blocks that use it, one read in each
    /// right before its first use there; returns the reads that replace it (or the read itself).
    ///
    /// A read right after a call in a loop would otherwise run on every iteration even when the
    /// value is needed only on the loop's exit or on a rare path (`Examples/wordcount`: the
    /// callback and its context, used only at the end of each word). Reading later is still right:
    /// the uses take this read and no other definition, so no call the value is live across and no
    /// new definition (with its store) lies between the read and them on any path — the slot still
    /// holds the value. A block inside a cycle that avoids the read's block (a deeper loop) keeps
    /// the read where it is: it would run on every iteration there.
    private mutating func sink(_ read: LLVMValueRef, type: LLVMTypeRef, builder: borrowing IRBuilder) -> [LLVMValueRef] {
        let home = LLVMGetInstructionParent(read)!
        var uses: [(user: LLVMValueRef, operand: UInt32, block: LLVMBasicBlockRef)] = []
        var use = LLVMGetFirstUse(read)
        while let u = use {
            let user = LLVMGetUser(u)!
            for i in 0..<UInt32(LLVMGetNumOperands(user)) where LLVMGetOperand(user, i) == read
            && !uses.contains(where: { $0.user == user && $0.operand == i }) {
                let block = LLVMIsAPHINode(user) != nil ? LLVMGetIncomingBlock(user, i)! : LLVMGetInstructionParent(user)!
                uses.append((user, i, block))
            }
            use = LLVMGetNextUse(u)
        }
        var blocks: [LLVMBasicBlockRef] = []
        for u in uses where !blocks.contains(u.block) { blocks.append(u.block) }
        guard !blocks.contains(home), !blocks.contains(where: { cycles.liesOnCycle($0, avoiding: home) }) else { return [read] }
        var replacements: [LLVMValueRef] = []
        for block in blocks {
            let here = uses.filter { $0.block == block }
            // Phi uses are on the edge, so at the block's end; others at their instruction.
            var position = LLVMGetBasicBlockTerminator(block)!
            var current = LLVMGetFirstInstruction(block)
            while let c = current, c != position {
                if LLVMIsAPHINode(c) == nil, here.contains(where: { $0.user == c }) { position = c; break }
                current = LLVMGetNextInstruction(c)
            }
            builder.position(before: position)
            let moved = LLVMBuildLoad2(builder.ref, type, LLVMGetOperand(read, 0), "popcorn.reload")!
            LLVMSetVolatile(moved, 1)
            for u in here { LLVMSetOperand(u.user, u.operand, moved) }
            replacements.append(moved)
        }
        LLVMInstructionEraseFromParent(read)
        return replacements
    }

    /// Rewrites every use of a slot-resident `value` to a read of its slot: one read before the
    /// first use in a block that does not start with one carried in from all its predecessors,
    /// and again after each call of `calls` in the block (the runtime may have rewritten the slot
    /// during it); phi operands read at the end of their incoming block.
    /// Uses after `store` (the store right after the definition, or the first instruction after a
    /// phi stored on its incoming edges) with no call in between keep the value itself.
    /// Returns the reads.
    private func readAtUses(_ value: LLVMValueRef, slot: LLVMValueRef, type: LLVMTypeRef,
                            uses: [(user: LLVMValueRef, operand: UInt32)], after store: LLVMValueRef,
                            across calls: [LLVMValueRef], builder: borrowing IRBuilder) -> [LLVMValueRef] {
        let callSet = Set(calls.map { UnsafeRawPointer($0) })
        let callBlocks = Set(calls.map { UnsafeRawPointer(LLVMGetInstructionParent($0)!) })
        // Per block, the uses in it (non-phi users) and the phi operands whose edge leaves it.
        var inBlock: [UnsafeRawPointer: [(user: LLVMValueRef, operand: UInt32)]] = [:]
        var atEnd: [UnsafeRawPointer: [(user: LLVMValueRef, operand: UInt32)]] = [:]
        var blocks: [LLVMBasicBlockRef] = []
        for use in uses {
            let isPhi = LLVMIsAPHINode(use.user) != nil
            let block = isPhi ? LLVMGetIncomingBlock(use.user, use.operand)! : LLVMGetInstructionParent(use.user)!
            if !blocks.contains(block) { blocks.append(block) }
            if isPhi { atEnd[UnsafeRawPointer(block), default: []].append(use) }
            else { inBlock[UnsafeRawPointer(block), default: []].append(use) }
        }
        var loads: [LLVMValueRef] = []
        func load(before instruction: LLVMValueRef) -> LLVMValueRef {
            builder.position(before: instruction)
            LLVMSetCurrentDebugLocation2(builder.ref, nil)
            let read = read(slot, type, builder: builder)
            loads.append(read)
            return read
        }
        // A use inside a loop where the slot cannot change (none of `calls` in its body) and that
        // the definition is outside of takes one read at the end of the loop's preheader instead
        // of one per block and iteration: a call-free inner loop of a function whose outer loop
        // calls (bzip2's input copy inside its compression loop) would read the slot on every
        // iteration. The definition dominates the preheader (the loop's only way in), and no
        // call between that read and the uses can rewrite the slot.
        let definingBlock = LLVMIsAArgument(value) != nil ? nil : LLVMGetInstructionParent(value).map { UnsafeRawPointer($0) }
        var hoisted: [UnsafeRawPointer: LLVMValueRef] = [:]   // preheader -> its read
        func hoistedRead(for block: LLVMBasicBlockRef) -> LLVMValueRef? {
            let key = UnsafeRawPointer(block)
            for loop in loops where loop.body.contains(key) {
                guard let preheader = loop.preheader else { continue }
                if let definingBlock, loop.body.contains(definingBlock) { continue }
                guard !loop.body.contains(where: { callBlocks.contains($0) }) else { continue }
                if let read = hoisted[UnsafeRawPointer(preheader)] { return read }
                let end = LLVMGetBasicBlockTerminator(preheader)!
                if end == value { continue }   // an invoke defining the value ends the preheader
                let read = load(before: end)
                hoisted[UnsafeRawPointer(preheader)] = read
                return read
            }
            return nil
        }
        // The read (or the value itself, after its store) each block ends with when no call of
        // `calls` follows it there: a block all of whose predecessors end with the same one starts
        // with it. Every path into the block then comes from such an end with no call since that
        // read, so the slot has not changed; the read's block dominates this one. (A dispatch loop's
        // handlers take the reads of its header instead of one per block: SQLite's interpreter read
        // the same slots in block after block.) Blocks are visited in reverse post-order, so a
        // predecessor over a back edge is not known yet and the block reads for itself.
        var carried: [UnsafeRawPointer: LLVMValueRef] = [:]
        let useBlocks = Set(blocks.map { UnsafeRawPointer($0) })
        let storeBlock = UnsafeRawPointer(LLVMGetInstructionParent(store)!)
        // Other writes of the slot (`edgeStores`): a read from before one is not carried past it.
        let writes = IR.instructionUsers(of: slot).filter { $0 != store && LLVMIsAStoreInst($0) != nil && LLVMGetOperand($0, 1) == slot }
        let writeSet = Set(writes.map { UnsafeRawPointer($0) })
        let writeBlocks = Set(writes.map { UnsafeRawPointer(LLVMGetInstructionParent($0)!) })
        func inherited(_ block: LLVMBasicBlockRef) -> LLVMValueRef? {
            let index = position[UnsafeRawPointer(block)]!
            var common: LLVMValueRef? = nil
            for predecessor in predecessors[block] {
                guard let p = position[UnsafeRawPointer(predecessor)], p < index,
                      let end = carried[UnsafeRawPointer(predecessor)] else { return nil }
                if common == nil { common = end } else if common != end { return nil }
            }
            return common
        }
        var visited = Set<UnsafeRawPointer>()
        for block in order + blocks where visited.insert(UnsafeRawPointer(block)).inserted {
            let key = UnsafeRawPointer(block)
            let reachable = position[key] != nil
            if useBlocks.contains(key), let read = hoistedRead(for: block) {
                for use in (inBlock[key] ?? []) + (atEnd[key] ?? []) {
                    LLVMSetOperand(use.user, use.operand, read)
                }
                continue
            }
            var current: LLVMValueRef? = reachable ? inherited(block) : nil
            guard useBlocks.contains(key) || callBlocks.contains(key) || key == storeBlock || writeBlocks.contains(key) else {
                if let current { carried[key] = current }
                continue
            }
            let here = inBlock[key] ?? []
            let terminator = LLVMGetBasicBlockTerminator(block)
            var instruction = LLVMGetFirstInstruction(block)
            while let i = instruction {
                let next = LLVMGetNextInstruction(i)
                if i == store { current = value }
                if writeSet.contains(UnsafeRawPointer(i)) { current = nil }
                for use in here where use.user == i {
                    if current == nil { current = load(before: i) }
                    LLVMSetOperand(i, use.operand, current)
                }
                if callSet.contains(UnsafeRawPointer(i)) { current = nil }
                if i == terminator {
                    for use in atEnd[key] ?? [] {
                        if current == nil { current = load(before: i) }
                        LLVMSetOperand(use.user, use.operand, current)
                    }
                }
                instruction = next
            }
            if let current { carried[key] = current }
        }
        return loads
    }

    /// Whether `call` is a migration point's slow-path call (on a path taken only when a
    /// migration is pending).
    static func isSlowPath(_ call: LLVMValueRef) -> Bool {
        IR.calleeName(of: call) == MigrationPoints.slowPath
    }

    private func read(_ slot: LLVMValueRef, _ type: LLVMTypeRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        let load = LLVMBuildLoad2(builder.ref, type, slot, "popcorn.reload")!
        LLVMSetVolatile(load, 1)
        return load
    }
}
