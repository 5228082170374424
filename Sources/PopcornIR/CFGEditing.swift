import CLLVM

/// Control-flow edits the C API lacks: splitting a block and redirecting the phis that name it.
enum CFGEditing {
    /// Moves `instruction` and everything after it in its block into a new block placed right
    /// after the original, and returns the new block. The original block is left without a
    /// terminator for the caller to finish; phis in the moved terminator's successors that named
    /// the original block now name the new one (it is their predecessor from now on).
    static func splitBlock(before instruction: LLVMValueRef, name: String,
                           builder: borrowing IRBuilder) -> LLVMBasicBlockRef {
        let head = LLVMGetInstructionParent(instruction)!
        let function = LLVMGetBasicBlockParent(head)!
        let context = LLVMGetTypeContext(LLVMTypeOf(function))!
        let tail = LLVMAppendBasicBlockInContext(context, function, name)!
        LLVMMoveBasicBlockAfter(tail, head)
        var moving: [LLVMValueRef] = []
        var current: LLVMValueRef? = instruction
        while let c = current {
            moving.append(c)
            current = LLVMGetNextInstruction(c)
        }
        builder.position(atEndOf: tail)
        for moved in moving {
            // Inserting through the builder renames the instruction, so give it its own name back.
            let name = IR.name(of: moved)
            LLVMInstructionRemoveFromParent(moved)
            LLVMInsertIntoBuilderWithName(builder.ref, moved, name)
        }
        if let terminator = LLVMGetBasicBlockTerminator(tail) {
            var seen = Set<UnsafeRawPointer>()
            for i in 0..<LLVMGetNumSuccessors(terminator) {
                let successor = LLVMGetSuccessor(terminator, i)!
                guard seen.insert(UnsafeRawPointer(successor)).inserted else { continue }
                replacePhiPredecessor(in: successor, old: head, new: tail, builder: builder)
            }
        }
        return tail
    }

    /// Puts a block of its own on the edge from `predecessor` to `block` (every branch of
    /// `predecessor`'s terminator to `block`, which is one edge for the phis) and returns it: a
    /// new block that only branches to `block`, placed before it.
    static func splitEdge(from predecessor: LLVMBasicBlockRef, to block: LLVMBasicBlockRef, name: String,
                          builder: borrowing IRBuilder) -> LLVMBasicBlockRef {
        let function = LLVMGetBasicBlockParent(block)!
        let context = LLVMGetTypeContext(LLVMTypeOf(function))!
        let middle = LLVMInsertBasicBlockInContext(context, block, name)!
        builder.position(atEndOf: middle)
        LLVMBuildBr(builder.ref, block)
        let terminator = LLVMGetBasicBlockTerminator(predecessor)!
        for i in 0..<LLVMGetNumSuccessors(terminator) where LLVMGetSuccessor(terminator, i) == block {
            LLVMSetSuccessor(terminator, i, middle)
        }
        // A switch with several cases to `block` gave its phis one entry per case, all alike;
        // the new block is a single edge.
        rebuildPhis(in: block, naming: predecessor, builder: builder) { incoming in
            var named = false
            return incoming.compactMap { entry in
                guard entry.block == predecessor else { return (entry.value, entry.block) }
                if named { return nil }
                named = true
                return (entry.value, middle)
            }
        }
        return middle
    }

    /// Rebuilds every phi of `block` that has `old` as an incoming block with `new` in its place
    /// (the C API can add incoming edges but not change them).
    static func replacePhiPredecessor(in block: LLVMBasicBlockRef, old: LLVMBasicBlockRef, new: LLVMBasicBlockRef,
                                      builder: borrowing IRBuilder) {
        rebuildPhis(in: block, naming: old, builder: builder) { incoming in
            incoming.map { ($0.value, $0.block == old ? new : $0.block) }
        }
    }

    /// Rebuilds every phi of `block` that names `predecessor` with the incoming edges `edit`
    /// returns for its current ones (in order). The C API can add incoming edges to a phi but not
    /// change or remove them, so the phi is replaced by a new one under the same name.
    static func rebuildPhis(in block: LLVMBasicBlockRef, naming predecessor: LLVMBasicBlockRef,
                            builder: borrowing IRBuilder,
                            _ edit: ([(value: LLVMValueRef, block: LLVMBasicBlockRef)]) -> [(LLVMValueRef, LLVMBasicBlockRef)]) {
        for phi in phis(of: block) {
            let incoming = (0..<LLVMCountIncoming(phi)).map { (value: LLVMGetIncomingValue(phi, $0)!, block: LLVMGetIncomingBlock(phi, $0)!) }
            guard incoming.contains(where: { $0.block == predecessor }) else { continue }
            builder.position(before: phi)
            let name = IR.name(of: phi)
            let replacement = LLVMBuildPhi(builder.ref, LLVMTypeOf(phi), "")!
            for (value, from) in edit(incoming) {
                var values: [LLVMValueRef?] = [value]
                var blocks: [LLVMBasicBlockRef?] = [from]
                LLVMAddIncoming(replacement, &values, &blocks, 1)
            }
            LLVMReplaceAllUsesWith(phi, replacement)
            LLVMInstructionEraseFromParent(phi)
            IR.setName(replacement, name)
        }
    }

    /// The phis at the top of a block.
    static func phis(of block: LLVMBasicBlockRef) -> [LLVMValueRef] {
        var result: [LLVMValueRef] = []
        var current = LLVMGetFirstInstruction(block)
        while let c = current, LLVMIsAPHINode(c) != nil {
            result.append(c)
            current = LLVMGetNextInstruction(c)
        }
        return result
    }

    /// The first instruction of a block that is not a phi.
    static func firstNonPhi(of block: LLVMBasicBlockRef) -> LLVMValueRef? {
        var current = LLVMGetFirstInstruction(block)
        while let c = current, LLVMIsAPHINode(c) != nil { current = LLVMGetNextInstruction(c) }
        return current
    }

    /// Every basic block of a function, in layout order.
    static func blocks(of function: LLVMValueRef) -> [LLVMBasicBlockRef] {
        var result: [LLVMBasicBlockRef] = []
        var block = LLVMGetFirstBasicBlock(function)
        while let b = block {
            result.append(b)
            block = LLVMGetNextBasicBlock(b)
        }
        return result
    }

    /// The instructions of one block, in order.
    static func instructions(of block: LLVMBasicBlockRef) -> [LLVMValueRef] {
        var result: [LLVMValueRef] = []
        var current = LLVMGetFirstInstruction(block)
        while let c = current {
            result.append(c)
            current = LLVMGetNextInstruction(c)
        }
        return result
    }

    /// The successors of a block (empty for blocks ending in `ret` or `unreachable`).
    static func successors(of block: LLVMBasicBlockRef) -> [LLVMBasicBlockRef] {
        guard let terminator = LLVMGetBasicBlockTerminator(block) else { return [] }
        return (0..<LLVMGetNumSuccessors(terminator)).map { LLVMGetSuccessor(terminator, $0)! }
    }

    /// The blocks reachable from the entry block in reverse post-order: every block comes after
    /// each of its predecessors but those that reach it over a back edge.
    static func reversePostOrder(of function: LLVMValueRef) -> [LLVMBasicBlockRef] {
        guard let entry = LLVMGetFirstBasicBlock(function) else { return [] }
        var visited: Set<UnsafeRawPointer> = [UnsafeRawPointer(entry)]
        var postOrder: [LLVMBasicBlockRef] = []
        var stack: [(block: LLVMBasicBlockRef, successors: [LLVMBasicBlockRef], next: Int)] = [(entry, successors(of: entry), 0)]
        while let top = stack.last {
            if top.next < top.successors.count {
                stack[stack.count - 1].next += 1
                let successor = top.successors[top.next]
                if visited.insert(UnsafeRawPointer(successor)).inserted {
                    stack.append((successor, successors(of: successor), 0))
                }
            } else {
                postOrder.append(top.block)
                stack.removeLast()
            }
        }
        return postOrder.reversed()
    }

    /// The back edges of a depth-first walk from the entry block (edges to a block still on the
    /// walk's stack): every cycle of the reachable CFG contains one, so none means no loop.
    static func backEdges(of function: LLVMValueRef) -> [(latch: LLVMBasicBlockRef, header: LLVMBasicBlockRef)] {
        guard let entry = LLVMGetFirstBasicBlock(function) else { return [] }
        enum Mark { case onStack, done }
        var marks: [UnsafeRawPointer: Mark] = [:]
        var backEdges: [(latch: LLVMBasicBlockRef, header: LLVMBasicBlockRef)] = []
        var stack: [(block: LLVMBasicBlockRef, successors: [LLVMBasicBlockRef], next: Int)] = []
        marks[UnsafeRawPointer(entry)] = .onStack
        stack.append((entry, successors(of: entry), 0))
        while !stack.isEmpty {
            let top = stack.count - 1
            if stack[top].next == stack[top].successors.count {
                marks[UnsafeRawPointer(stack[top].block)] = .done
                stack.removeLast()
                continue
            }
            let successor = stack[top].successors[stack[top].next]
            stack[top].next += 1
            switch marks[UnsafeRawPointer(successor)] {
            case .onStack?: backEdges.append((stack[top].block, successor))
            case .done?: break
            case nil:
                marks[UnsafeRawPointer(successor)] = .onStack
                stack.append((successor, successors(of: successor), 0))
            }
        }
        return backEdges
    }

    /// The natural loops of `function`, one per back edge: the latch, the header and the body (the
    /// header plus every block that reaches the latch without passing through the header), blocks in
    /// function order.
    static func loops(of function: LLVMValueRef)
        -> [(latch: LLVMBasicBlockRef, header: LLVMBasicBlockRef, body: [LLVMBasicBlockRef])] {
        let edges = backEdges(of: function)
        guard !edges.isEmpty else { return [] }
        let all = blocks(of: function)
        var predecessors: [UnsafeRawPointer: [LLVMBasicBlockRef]] = [:]
        for block in all {
            for successor in successors(of: block) { predecessors[UnsafeRawPointer(successor), default: []].append(block) }
        }
        return edges.map { edge in
            var body: Set<UnsafeRawPointer> = [UnsafeRawPointer(edge.header)]
            var work = [edge.latch]
            while let block = work.popLast() {
                guard body.insert(UnsafeRawPointer(block)).inserted else { continue }
                work += predecessors[UnsafeRawPointer(block)] ?? []
            }
            return (edge.latch, edge.header, all.filter { body.contains(UnsafeRawPointer($0)) })
        }
    }
}
