import CLLVM

/// Portable pass: a stackmap after every call that can be on the stack when a migration point
/// runs, describing the values live across the call.
///
/// Right after each instrumented call it inserts
/// `call void (i64, i32, ...) @llvm.experimental.stackmap(i64 <id>, i32 0, <operands>…)`, whose
/// record offset is the call's return address on every ISA. IDs come from `CallSiteID`; the
/// operands are, in order: the values live across the call (definition order), then allocas
/// whose address escapes and that exist at the call, then alloca bases of derived pointers not
/// already listed. Every operand is an entry-block alloca of constant size, so each gives
/// exactly one `Direct` (frame-relative) stackmap location: every other live value is first
/// demoted to a slot of its own (`StackSlotDemotion`), because a value kept in a register is
/// not reliably described at the return address — the register allocator may place a copy or
/// reload between the call and the stackmap and report the copy's register (seen on x86_64 for
/// pointers and every floating-point value, and on aarch64 for 128-bit values). The operands'
/// meaning goes into the `.popcorn.callsites` side table (`CallSiteTable`).
///
/// Instrumented calls: every call during which a migration point may run (`isInstrumented`,
/// `PointFreeFunctions`) — not intrinsics, inline assembly, point-free C library functions, the
/// runtime's helpers and this module's functions that reach no point — except `musttail` calls
/// (their frame is gone during the callee). `noreturn` calls are instrumented too: their
/// caller's frame is below every point the callee reaches.
struct StackMaps {
    static let intrinsic = "llvm.experimental.stackmap"

    /// Functions whose calls get no stackmap when this module only declares them.
    var library = LibraryFunctions.musl
    /// Whether eligible calls become statepoints (`Statepoints`). Off in builds: measured on
    /// SQLite's shell (x86_64, callgrind) they ran 557.8 M instructions against 529.6 M with slots
    /// everywhere (docs/MIGRATION-POINTS.md, "Statepoints").
    var statepoints = false
    /// Functions whose calls all get stackmaps and slots, none a statepoint: code generation found
    /// one of their statepoints carrying something its record does not name (`Backend.run`).
    var slotOnly: Set<String> = []

    init(library: LibraryFunctions = .musl, statepoints: Bool = false, slotOnly: Set<String> = []) {
        self.library = library
        self.statepoints = statepoints
        self.slotOnly = slotOnly
    }

    /// Instruments every function of the module; returns the records in module order.
    @discardableResult
    func run(on module: LLVMModuleRef) -> [CallSiteRecord] {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        let moduleHash = SymbolNaming.moduleHash(module)
        let dataLayout = LLVMGetModuleDataLayout(module)!
        var ids = CallSiteID()
        var records: [CallSiteRecord] = []
        // Before anything is instrumented: the notes follow the setjmp calls, whose stackmaps then
        // go between the two.
        JmpBufNotes().run(on: module, including: { !UndescribableFrames.isExcluded($0) })
        // After the points are in: functions that have none and reach none need no records at their calls.
        let pointFree = PointFreeFunctions(module: module, library: library, scope: .placed)
        for function in IR.functions(of: module) where IR.isDefinition(function) && !UndescribableFrames.isExcluded(function) {
            let calls = IR.instructions(of: function).filter { Self.isInstrumented($0, pointFree: pointFree) }
            guard !calls.isEmpty else { continue }
            let functionName = IR.name(of: function)
            // Before anything reads the control flow: loop latches get edge blocks for the stores of
            // the values their loop carries (`StackSlotDemotion.edgeStores`).
            _ = StackSlotDemotion.splitLatchEdges(of: function, builder: builder)
            // Calls whose record is a statepoint carrying the live values where they are (`Statepoints`).
            // Not in a function that calls setjmp (the jmp_buf holds its callee-saved registers),
            // nor in one code generation found carrying something no record names (`slotOnly`).
            let carries = statepoints && !slotOnly.contains(functionName)
                && !IR.instructions(of: function).contains { LLVMIsACallInst($0) != nil && Self.returnsTwice($0) }
            let statepoints = Set(calls.filter { carries && Statepoints.isEligible($0) }.map { UnsafeRawPointer($0) })
            let isStatepoint = { (call: LLVMValueRef) in statepoints.contains(UnsafeRawPointer(call)) }
            // A used 32/64-bit integer, pointer or floating-point result stays in its return
            // register until the stackmap has been passed (`CallResultPin`): no slot.
            var pins: [UnsafeRawPointer: LLVMValueRef] = [:]   // call -> the pin of its result
            for call in calls where !isStatepoint(call) && LLVMIsACallInst(call) != nil && LLVMGetFirstUse(call) != nil
            && CallResultPin.isPinnable(LLVMTypeOf(call)) {
                pins[UnsafeRawPointer(call)] = CallResultPin.insert(after: call, module: module, builder: builder)
            }
            let phiSlots = Set(ConstantPhiDemotion().run(on: function, calls: calls, builder: builder).map { UnsafeRawPointer($0) })
            var analysis = LiveValues(function: function)
            var live = analysis.liveAcross(calls)
            // Constant-offset addresses are computed again at their uses rather than kept in slots.
            if AddressRematerialization().run(on: function, live: live, builder: builder) > 0 {
                analysis = LiveValues(function: function)
                live = analysis.liveAcross(calls)
            }
            let liveBefore = live
            // Every live value except the frame's own fixed slots is kept in a slot of its own across
            // the stackmap calls it is live across, and so is every used result of one: left in a
            // register, its copy out of the return register would sit between the call and the
            // stackmap and move the record's offset past the return address; stored to a slot right
            // away, it stays in the return register. Across a statepoint only the values it cannot
            // carry (`Statepoints.isCarriable`) get a slot.
            var across: [UnsafeRawPointer: [LLVMValueRef]] = [:]
            for call in calls {
                for value in live[UnsafeRawPointer(call)] ?? [] where !isStatepoint(call) || !Statepoints.isCarriable(LLVMTypeOf(value)) {
                    across[UnsafeRawPointer(value), default: []].append(call)
                }
            }
            var usedResults = Set<UnsafeRawPointer>()
            for call in calls where !isStatepoint(call) && LLVMGetTypeKind(LLVMTypeOf(call)) != LLVMVoidTypeKind
            && LLVMGetFirstUse(call) != nil && pins[UnsafeRawPointer(call)] == nil {
                usedResults.insert(UnsafeRawPointer(call))
            }
            var demoted: [UnsafeRawPointer: LLVMValueRef] = [:]
            var versions: [UnsafeRawPointer: LLVMValueRef] = [:]
            var demotion = StackSlotDemotion(function: function)
            for value in analysis.values where !Self.isFixedSlot(value) {
                let key = UnsafeRawPointer(value)
                guard across[key] != nil || usedResults.contains(key) else { continue }
                let result = demotion.demote(value, across: across[key] ?? [], isCallResult: usedResults.contains(key),
                                             in: function, builder: builder)
                demoted[UnsafeRawPointer(result.slot)] = value
                for version in result.versions { versions[UnsafeRawPointer(version)] = value }
            }
            if !demoted.isEmpty {
                analysis = LiveValues(function: function)
                live = analysis.liveAcross(calls)
            }
            // The values live across statepoints travel with them (`Statepoints.carry`).
            Statepoints.carry(live, across: calls.filter(isStatepoint), in: function, module: module, builder: builder)
            let escaped = escapedAllocas(of: function)
            // A slot's address is live wherever the slot is used — in a loop, across every call of
            // it — but the slot holds a live value only across the calls its value was live across
            // before demotion: only there is it an operand. (Listing every slot at every call gave
            // SQLite's interpreter loop about 1000 operands per call and 60% of all its records.)
            // Across statepoints too: a slot that is its value's home (read at the uses) holds it
            // across every call the value was live across, and a statepoint has to list it.
            var heldAcross: [UnsafeRawPointer: Set<UnsafeRawPointer>] = [:]
            for (call, values) in liveBefore {
                for value in values { heldAcross[UnsafeRawPointer(value), default: []].insert(call) }
            }
            var operandLists: [[LLVMValueRef]] = []
            for (ordinal, call) in calls.enumerated() {
                let callee = IR.calleeName(of: call)
                let id = ids.allocate(moduleHash: moduleHash, function: functionName, ordinal: ordinal, callee: callee)
                var operands = (live[UnsafeRawPointer(call)] ?? []).filter { value in
                    if phiSlots.contains(UnsafeRawPointer(value)) { return false } // never holds anything across a call
                    guard let original = demoted[UnsafeRawPointer(value)] else { return true }
                    return heldAcross[UnsafeRawPointer(original)]?.contains(UnsafeRawPointer(call)) == true
                }
                // A statepoint lists the stack objects; the values follow it (`Statepoints.carries`).
                let carried = isStatepoint(call) ? Statepoints.carries(after: call).map { LLVMGetOperand($0, 0)! } : []
                if isStatepoint(call) { operands = operands.filter { LLVMIsAAllocaInst($0) != nil } }
                for alloca in escaped where !operands.contains(alloca) && Self.precedes(alloca, call) {
                    operands.append(alloca)
                }
                for value in operands + carried {
                    let original = demoted[UnsafeRawPointer(value)] ?? value
                    if let base = Self.derivedBase(of: original), LLVMIsAAllocaInst(base) != nil, !operands.contains(base) {
                        operands.append(base)
                    }
                }
                var described = operands.map {
                    describe($0, demoted: demoted, versions: versions, among: operands, dataLayout: dataLayout)
                }
                if isStatepoint(call) {
                    // The record's header constants come first (the bases count them), then the
                    // stack objects, then a base and a derived location per carried value.
                    described = described.map { operand in
                        var operand = operand
                        operand.base = operand.base.map { $0 + Statepoints.headerCount }
                        return operand
                    }
                    described.insert(contentsOf: Array(repeating: CallSiteRecord.Operand(kind: .value, size: 8, base: nil, holds: nil),
                                                       count: Statepoints.headerCount), at: 0)
                    for value in carried {
                        let kind: CallSiteRecord.Kind = LLVMGetTypeKind(LLVMTypeOf(value)) == LLVMPointerTypeKind ? .pointer : .value
                        described += Array(repeating: CallSiteRecord.Operand(kind: kind, size: 8, base: nil, holds: nil), count: 2)
                    }
                }
                records.append(CallSiteRecord(id: id, function: functionName, callee: callee, operands: described))
                operandLists.append(operands)
            }
            var ends: [LLVMValueRef] = []   // the stackmaps, and the statepoint calls' last placeholders
            for (index, call) in calls.enumerated() {
                let id = records[records.count - calls.count + index].id
                if isStatepoint(call) {
                    let statepoint = Statepoints.attach(to: call, id: id, stackObjects: operandLists[index], builder: builder)
                    ends.append(Statepoints.carries(after: statepoint).last ?? statepoint)
                    continue
                }
                let stackmap = insertStackMap(after: call, id: id, operands: operandLists[index], module: module,
                                              context: context, builder: builder)
                ends.append(stackmap)
                // The pin comes right after the stackmap, ahead of the reads placed after the call.
                if let pin = pins[UnsafeRawPointer(call)] {
                    LLVMInstructionRemoveFromParent(pin)
                    builder.position(after: stackmap)
                    LLVMInsertIntoBuilder(builder.ref, pin)
                }
            }
            // Only now: splitting rebuilds phis, which the records above still refer to.
            for end in ends { Self.startBlock(after: end, builder: builder) }
        }
        if !records.isEmpty { CallSiteTable.emit(records, moduleHash: moduleHash, into: module) }
        return records
    }

    /// What follows a stackmap starts a block of its own. Instruction selection materialises a
    /// constant or a frame address once per block and shares it between the block's users; one used
    /// both before and after a call would then be kept in a callee-saved register across it, where no
    /// stackmap describes it (seen: aarch64 `mov w19, #0xab` feeding several calls, x86_64 `leaq
    /// -0x170(%rbp), %rbx`). Per block, everything after the call is materialised after it.
    ///
    /// The edge is a `switch` with only a default destination rather than a `br`: CodeGenPrepare
    /// merges a block into its single predecessor whenever that ends in an unconditional `br`, and
    /// does so even with its branch optimisations off. Instruction selection turns the switch into
    /// a plain fall-through. (The machine passes that would share values across blocks again are
    /// disabled: see `LLVMTargets`.)
    static func startBlock(after stackmap: LLVMValueRef, builder: borrowing IRBuilder) {
        guard var next = LLVMGetNextInstruction(stackmap) else { return }
        // A result's pin stays with its call and stackmap (`CallResultPin`).
        if CallResultPin.isPlaceholder(next) {
            guard let after = LLVMGetNextInstruction(next) else { return }
            next = after
        }
        let head = LLVMGetInstructionParent(stackmap)!
        let tail = CFGEditing.splitBlock(before: next, name: "popcorn.after.call", builder: builder)
        builder.position(atEndOf: head)
        let context = LLVMGetTypeContext(LLVMTypeOf(LLVMGetBasicBlockParent(head)!))!
        LLVMBuildSwitch(builder.ref, LLVMConstInt(LLVMInt32TypeInContext(context), 0, 0), tail, 0)
    }

    /// True for calls that get a stackmap: calls during which a migration point may run
    /// (`PointFreeFunctions.reachesPoint`: not intrinsics, inline assembly, point-free C library
    /// functions, the runtime's helpers or this module's point-free functions), except `musttail`
    /// calls, whose caller's frame is gone while the callee runs.
    ///
    /// The setjmp family is never point-free (`LibraryFunctions.contains`): its return address is
    /// where a `longjmp` resumes. A call that never returns still has its caller's frame below the
    /// callee while the callee runs, and the callee may reach migration points before its longjmp or
    /// exit (a function of this module that always ends in a longjmp, another file's `die()`, the
    /// portable C library's siglongjmp): without a record the stack below such a point could not
    /// be walked, and every move would wait. So `noreturn` calls are instrumented like any other;
    /// the C library's point-free ones (exit, abort, longjmp) are not.
    static func isInstrumented(_ instruction: LLVMValueRef,
                               pointFree: PointFreeFunctions = PointFreeFunctions(library: LibraryFunctions(names: []))) -> Bool {
        guard LLVMIsACallInst(instruction) != nil, pointFree.reachesPoint(instruction) else { return false }
        return LLVMGetTailCallKind(instruction) != LLVMTailCallKindMustTail
    }

    /// Whether `function` calls `llvm.experimental.stackmap` or has a statepoint: only such
    /// functions have frames the runtime rebuilds.
    static func hasRecords(_ function: LLVMValueRef) -> Bool {
        IR.instructions(of: function).contains { instruction in
            LLVMIsACallInst(instruction) != nil
                && (IR.calleeName(of: instruction) == intrinsic || Statepoints.isStatepointCall(instruction))
        }
    }

    /// True for a call of the setjmp family (its return address is resumed by `longjmp`).
    static func returnsTwice(_ call: LLVMValueRef) -> Bool {
        let kind = LLVMGetEnumAttributeKindForName("returns_twice", 13)
        if LLVMGetCallSiteEnumAttribute(call, LLVMAttributeIndex.max, kind) != nil { return true }
        guard let callee = IR.calledFunction(of: call) else { return false }
        return LLVMGetEnumAttributeAtIndex(callee, LLVMAttributeIndex.max, kind) != nil
    }

    /// True if `alloca` is defined before `call` on every path: static allocas sit in the entry
    /// block, so it is enough that the call is outside that block or after the alloca in it.
    private static func precedes(_ alloca: LLVMValueRef, _ call: LLVMValueRef) -> Bool {
        let block = LLVMGetInstructionParent(alloca)!
        guard LLVMGetInstructionParent(call) == block else { return true }
        var current = LLVMGetNextInstruction(alloca)
        while let c = current {
            if c == call { return true }
            current = LLVMGetNextInstruction(c)
        }
        return false
    }

    /// Entry-block allocas whose address (or a pointer derived from it) may outlive the
    /// instruction using it: passed to a non-intrinsic call, stored, converted to an integer,
    /// returned or used in any way other than loading, storing to it, or comparing it. A callee
    /// holding such an address may be on the stack above this frame at a migration point, so the
    /// slot is recorded at every call site even when this function no longer uses it.
    private func escapedAllocas(of function: LLVMValueRef) -> [LLVMValueRef] {
        let entry = LLVMGetEntryBasicBlock(function)!
        return CFGEditing.instructions(of: entry).filter { instruction in
            LLVMIsAAllocaInst(instruction) != nil && AllocaEscape.escapes(instruction)
        }
    }

    /// The pointer a `getelementptr`/cast chain starts from, or nil if `value` is not derived.
    static func derivedBase(of value: LLVMValueRef) -> LLVMValueRef? {
        var current = value
        while LLVMIsAGetElementPtrInst(current) != nil || LLVMIsABitCastInst(current) != nil
                || LLVMIsAAddrSpaceCastInst(current) != nil {
            current = LLVMGetOperand(current, 0)!
        }
        return current == value ? nil : current
    }

    /// True for entry-block allocas of constant size: the backend gives them fixed frame
    /// offsets, which stackmaps describe directly (no register involved).
    static func isFixedSlot(_ value: LLVMValueRef) -> Bool {
        guard LLVMIsAAllocaInst(value) != nil, let block = LLVMGetInstructionParent(value),
              let function = LLVMGetBasicBlockParent(block), LLVMGetEntryBasicBlock(function) == block else { return false }
        return LLVMIsAConstantInt(LLVMGetOperand(value, 0)) != nil
    }

    /// Describes one operand; `demoted` maps the slots made by demotion to the values they hold,
    /// `versions` the reads and merges demotion made to the values they stand for.
    private func describe(_ value: LLVMValueRef, demoted: [UnsafeRawPointer: LLVMValueRef],
                          versions: [UnsafeRawPointer: LLVMValueRef], among operands: [LLVMValueRef],
                          dataLayout: LLVMTargetDataRef) -> CallSiteRecord.Operand {
        let allocated = LLVMGetAllocatedType(value)!
        let count = LLVMGetOperand(value, 0)!
        let size = LLVMABISizeOfType(dataLayout, allocated) &* LLVMConstIntGetZExtValue(count)
        guard let original = demoted[UnsafeRawPointer(value)] else {
            return .init(kind: .alloca, size: size, base: nil, holds: nil)
        }
        // The base is recorded as its own slot if it was demoted too, or as the alloca itself.
        if let base = Self.derivedBase(of: original) {
            // After demotion the derivation may start from a read of the base's slot or a merge.
            let baseValue = versions[UnsafeRawPointer(base)] ?? base
            let index = operands.firstIndex { $0 == base || demoted[UnsafeRawPointer($0)] == baseValue }
            return .init(kind: .alloca, size: size, base: index, holds: .derivedPointer)
        }
        let holds: CallSiteRecord.Kind = LLVMGetTypeKind(LLVMTypeOf(original)) == LLVMPointerTypeKind ? .pointer : .value
        return .init(kind: .alloca, size: size, base: nil, holds: holds)
    }

    @discardableResult
    private func insertStackMap(after call: LLVMValueRef, id: UInt64, operands: [LLVMValueRef],
                                module: LLVMModuleRef, context: LLVMContextRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        let i64 = LLVMInt64TypeInContext(context)!
        let i32 = LLVMInt32TypeInContext(context)!
        var parameters: [LLVMTypeRef?] = [i64, i32]
        let type = parameters.withUnsafeMutableBufferPointer {
            LLVMFunctionType(LLVMVoidTypeInContext(context), $0.baseAddress, 2, 1)!
        }
        let function = LLVMGetNamedFunction(module, Self.intrinsic) ?? LLVMAddFunction(module, Self.intrinsic, type)!
        builder.position(after: call)
        LLVMSetCurrentDebugLocation2(builder.ref, LLVMInstructionGetDebugLoc(call))
        var arguments: [LLVMValueRef?] = [LLVMConstInt(i64, id, 0), LLVMConstInt(i32, 0, 0)] + operands
        let stackmap = arguments.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder.ref, type, function, $0.baseAddress, UInt32($0.count), "")!
        }
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        return stackmap
    }
}
