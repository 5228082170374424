import CLLVM
import Foundation
import Testing
@testable import PopcornIR

/// IR in, IR out: where the stackmap pass puts slots, stores, reads and phis, so that nothing
/// undescribed is live across an instrumented call while code away from those calls stays as the
/// optimiser left it (docs/MIGRATION-POINTS.md, "Cost").
struct DemotionPlacementTests {
    static let declarations = """
    declare void @__popcorn_migrate_point_slow()
    declare void @g()
    declare i64 @h(i64)
    @__popcorn_migration_pending = external hidden global i32
    """

    /// A migration point as `MigrationPoints` inserts it, between `entry`'s allocas and `body`.
    static func point(_ label: String, then next: String) -> String {
        """
          %\(label).pending = load volatile i32, ptr @__popcorn_migration_pending
          %\(label).requested = icmp ne i32 %\(label).pending, 0
          br i1 %\(label).requested, label %\(label).slow, label %\(next)
        \(label).slow:
          call void @__popcorn_migrate_point_slow()
          br label %\(next)
        """
    }

    /// Runs the stackmap pass on `body`, verifies the result and hands back function `@f`.
    func instrumented(_ body: String, _ check: (LLVMValueRef) throws -> Void) throws {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.declarations + "\n" + body)
        StackMaps().run(on: module.ref)
        try module.verify()
        let named = module.function(named: "f")
        let f = try #require(named)
        // The module owns `f`: it has to outlive the check (a noncopyable value may otherwise be
        // destroyed right after its last use).
        try withExtendedLifetime(module) { try check(f) }
    }

    func block(_ name: String, of function: LLVMValueRef) throws -> LLVMBasicBlockRef {
        try #require(CFGEditing.blocks(of: function).first { String(cString: LLVMGetBasicBlockName($0)) == name })
    }

    func volatileAccesses(in block: LLVMBasicBlockRef) -> [LLVMValueRef] {
        CFGEditing.instructions(of: block).filter {
            (LLVMIsALoadInst($0) != nil || LLVMIsAStoreInst($0) != nil) && LLVMGetVolatile($0) != 0
        }
    }

    func storesOf(_ value: LLVMValueRef, in block: LLVMBasicBlockRef) -> [LLVMValueRef] {
        CFGEditing.instructions(of: block).filter { LLVMIsAStoreInst($0) != nil && LLVMGetOperand($0, 0) == value }
    }

    func instrumentedCalls(of function: LLVMValueRef) -> [LLVMValueRef] {
        IR.instructions(of: function).filter { StackMaps.isInstrumented($0) }
    }

    /// The invariant the poisoned rewrite tests check at run time: across every instrumented call
    /// only entry-block allocas (fixed frame slots, described by the stackmap) are live.
    func expectOnlySlotsLiveAcrossCalls(_ function: LLVMValueRef) {
        let live = LiveValues(function: function).liveAcross(instrumentedCalls(of: function))
        for (_, values) in live {
            for value in values {
                #expect(StackMaps.isFixedSlot(value), "\(IR.name(of: value)) is live across a call outside a slot")
            }
        }
    }

    /// A value read back after the calls on both arms of a branch reaches the next call as a merge
    /// of those reads: the slot still holds it, so nothing is loaded and stored back before that
    /// call; the arms, reached by the value itself, store it before their calls.
    @Test func mergedReadsAreNotStoredAgain() throws {
        try instrumented("""
        define i64 @f(i64 %a, i1 %c) {
        entry:
          br i1 %c, label %left, label %right
        right:
          %t = call i64 @h(i64 2)
          br label %join
        left:
          call void @g()
          br label %join
        join:
          call void @g()
          %r = add i64 %a, 1
          ret i64 %r
        }
        """) { f in
            for arm in ["left", "right"] {
                let stores = CFGEditing.instructions(of: try block(arm, of: f)).filter { LLVMIsAStoreInst($0) != nil }
                #expect(stores.count == 1 && LLVMGetOperand(stores[0], 0) == LLVMGetParam(f, 0), "\(arm)")
            }
            let join = try block("join", of: f)
            #expect(CFGEditing.instructions(of: join).allSatisfy { LLVMIsAStoreInst($0) == nil && LLVMIsALoadInst($0) == nil })
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    static let callFreeLoop = """
    define i64 @f(ptr %p, i64 %n) {
    entry:
    \(point("mp", then: "body"))
    body:
      br label %loop
    loop:
      %i = phi i64 [ 0, %body ], [ %next, %loop ]
      %acc = phi i64 [ 7, %body ], [ %sum, %loop ]
      %q = getelementptr i64, ptr %p, i64 %i
      %v = load i64, ptr %q
      %sum = add i64 %acc, %v
      %next = add i64 %i, 1
      %done = icmp eq i64 %next, %n
      br i1 %done, label %exit, label %loop
    exit:
      ret i64 %sum
    }
    """

    @Test func aLoopWithoutCallsKeepsItsPhisAndHasNoSlotAccess() throws {
        try instrumented(Self.callFreeLoop) { f in
            let loop = try block("loop", of: f)
            #expect(CFGEditing.phis(of: loop).count >= 2)
            #expect(volatileAccesses(in: loop).isEmpty)
            #expect(!IR.instructions(of: f).contains { IR.name(of: $0).hasPrefix("popcorn.phi") })
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    @Test func valuesLiveOnlyAcrossAMigrationPointAreStoredOnItsColdPath() throws {
        try instrumented(Self.callFreeLoop) { f in
            // %p and %n are live across the entry point: their stores sit beside the slow call only.
            let slots = IR.instructions(of: f).filter { IR.name(of: $0).hasPrefix("popcorn.slot") }
            #expect(slots.count == 2)
            let slow = try block("mp.slow", of: f)
            for slot in slots {
                let stores = IR.instructionUsers(of: slot).filter { LLVMIsAStoreInst($0) != nil }
                #expect(!stores.isEmpty)
                #expect(stores.allSatisfy { LLVMGetInstructionParent($0) == slow })
            }
            // The fast path reaches the loop with the arguments in registers: a phi merges them with
            // what the slow path read back.
            let body = try block("body", of: f)
            let merges = CFGEditing.phis(of: body).filter { IR.name(of: $0).hasPrefix("popcorn.merge") }
            #expect(merges.count == 2)
            #expect(merges.allSatisfy { phi in
                (0..<LLVMCountIncoming(phi)).contains { LLVMIsAArgument(LLVMGetIncomingValue(phi, $0)) != nil }
            })
            let entry = try block("entry", of: f)
            #expect(volatileAccesses(in: entry).count == 1)  // the flag only
        }
    }

    @Test func aConstantPhiInputFromABlockWithACallIsDemoted() throws {
        try instrumented("""
        define i64 @f(i64 %n) {
        entry:
          call void @g()
          br label %loop
        loop:
          %i = phi i64 [ 0, %entry ], [ %next, %loop ]
          %next = add i64 %i, 1
          %done = icmp eq i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %next
        }
        """) { f in
            #expect(IR.instructions(of: f).contains { IR.name(of: $0).hasPrefix("popcorn.phi") })
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    @Test func aConstantPhiInputFromABlockWithoutACallIsKept() throws {
        try instrumented("""
        define i64 @f(i64 %n) {
        entry:
          call void @g()
          br label %pre
        pre:
          br label %loop
        loop:
          %i = phi i64 [ 0, %pre ], [ %next, %loop ]
          %next = add i64 %i, 1
          %done = icmp eq i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %next
        }
        """) { f in
            #expect(!IR.instructions(of: f).contains { IR.name(of: $0).hasPrefix("popcorn.phi") })
            let loop = try block("loop", of: f)
            #expect(CFGEditing.phis(of: loop).count == 1)
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    @Test func aValueLiveAcrossAnOrdinaryCallIsStoredBeforeTheCallAndReadAfterIt() throws {
        try instrumented("""
        define i64 @f(i64 %a) {
        entry:
          %k = mul i64 %a, 3
          %before = add i64 %k, 1
          call void @g()
          %after = add i64 %k, 2
          %s = add i64 %before, %after
          ret i64 %s
        }
        """) { f in
            let k = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "k" })
            // Stored once, right before the call: only paths that make the call pay for it.
            let entry = try block("entry", of: f)
            let stores = storesOf(k, in: entry)
            #expect(stores.count == 1)
            let store = try #require(stores.first)
            // Between the store and the call only other values' stores (`%before` is live across too).
            var next = LLVMGetNextInstruction(store)
            while let n = next, LLVMIsAStoreInst(n) != nil { next = LLVMGetNextInstruction(n) }
            #expect(next.flatMap { IR.calleeName(of: $0) } == "g", "k is stored right before the call")
            // The use before the call keeps the register value; the use after it reads the slot.
            let before = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "before" })
            #expect(LLVMGetOperand(before, 0) == k)
            let after = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "after" })
            let read = try #require(LLVMGetOperand(after, 0))
            #expect(LLVMIsALoadInst(read) != nil && LLVMGetVolatile(read) != 0)
            #expect(LLVMGetOperand(read, 0) == LLVMGetOperand(store, 1))
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    /// A value the loop does not change, live across a call in the loop, lives in its slot: one
    /// store after the definition, none in the loop, and the use in the loop reads the slot after
    /// the call (no read after every call merged by a phi at the loop header).
    @Test func aLoopInvariantValueLiveAcrossTheLoopsCallsLivesInItsSlot() throws {
        try instrumented("""
        define i64 @f(i64 %a, i64 %n) {
        entry:
          %k = mul i64 %a, 3
          br label %loop
        loop:
          %i = phi i64 [ 0, %entry ], [ %next, %loop ]
          call void @g()
          %next = add i64 %i, %k
          %done = icmp uge i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %next
        }
        """) { f in
            let entry = try block("entry", of: f), loop = try block("loop", of: f)
            let k = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "k" })
            #expect(storesOf(k, in: entry).count == 1, "k is stored once, after its definition")
            #expect(storesOf(k, in: loop).isEmpty)
            #expect(CFGEditing.phis(of: loop).count == 1, "only the induction variable's phi")
            let next = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "next" })
            let read = try #require(LLVMGetOperand(next, 1))
            #expect(LLVMIsALoadInst(read) != nil && LLVMGetVolatile(read) != 0, "the use reads the slot")
            // After the call: the block that follows its stackmap.
            let home = String(cString: LLVMGetBasicBlockName(LLVMGetInstructionParent(read)!))
            #expect(home.hasPrefix("popcorn.after.call"), "the read comes after the call, in \(home)")
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    /// A resident value (`k`, live across the outer loop's call) used in a call-free inner loop is
    /// read once, at the end of the inner loop's preheader, not on every inner iteration.
    @Test func aResidentValueUsedInACallFreeInnerLoopIsReadBeforeTheLoop() throws {
        try instrumented("""
        define i64 @f(i64 %a, i64 %n) {
        entry:
          %k = mul i64 %a, 3
          br label %outer
        outer:
          %i = phi i64 [ 0, %entry ], [ %inext, %outerlatch ]
          call void @g()
          br label %inner
        inner:
          %j = phi i64 [ %i, %outer ], [ %jnext, %inner ]
          %jnext = add i64 %j, %k
          %jdone = icmp uge i64 %jnext, %n
          br i1 %jdone, label %outerlatch, label %inner
        outerlatch:
          %inext = add i64 %i, 1
          %idone = icmp uge i64 %inext, %n
          br i1 %idone, label %exit, label %outer
        exit:
          ret i64 %inext
        }
        """) { f in
            let inner = try block("inner", of: f)
            #expect(volatileAccesses(in: inner).isEmpty, "no slot access on the inner loop's iterations")
            let jnext = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "jnext" })
            let read = try #require(LLVMGetOperand(jnext, 1))
            #expect(LLVMIsALoadInst(read) != nil && LLVMGetVolatile(read) != 0, "the use reads the slot")
            // The preheader: the block that follows the outer loop's call and enters the inner loop.
            let home = String(cString: LLVMGetBasicBlockName(LLVMGetInstructionParent(read)!))
            #expect(home.hasPrefix("popcorn.after.call"), "the read comes before the inner loop, in \(home)")
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    /// A value defined on every iteration and live across a call on a rare arm only: stored on
    /// that arm, right before the call, not at its definition (an interpreter's operands).
    @Test func aValueRedefinedEachIterationIsStoredOnlyWhereTheCallIs() throws {
        try instrumented("""
        define i64 @f(ptr %p, i64 %n) {
        entry:
          br label %loop
        loop:
          %i = phi i64 [ 0, %entry ], [ %next, %latch ]
          %v = load i64, ptr %p
          %rare = icmp eq i64 %v, 7
          br i1 %rare, label %slow, label %latch
        slow:
          call void @g()
          store i64 %v, ptr %p
          br label %latch
        latch:
          %next = add i64 %i, 1
          %done = icmp uge i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %next
        }
        """) { f in
            let loop = try block("loop", of: f), slow = try block("slow", of: f)
            let v = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "v" })
            #expect(!volatileAccesses(in: loop).contains { LLVMIsAStoreInst($0) != nil },
                    "nothing is stored on the hot path")
            let call = try #require(CFGEditing.instructions(of: slow).first { IR.calleeName(of: $0) == "g" })
            let store = try #require(LLVMGetPreviousInstruction(call))
            #expect(LLVMIsAStoreInst(store) != nil && LLVMGetOperand(store, 0) == v)
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    @Test func aCallOnOneArmMergesTheReadWithTheRegisterValue() throws {
        try instrumented("""
        define i64 @f(i64 %a, i1 %c) {
        entry:
          %k = mul i64 %a, 3
          br i1 %c, label %arm, label %join
        arm:
          call void @g()
          br label %join
        join:
          %r = add i64 %k, 1
          ret i64 %r
        }
        """) { f in
            let r = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "r" })
            let merged = try #require(LLVMGetOperand(r, 0))
            #expect(LLVMIsAPHINode(merged) != nil)
            let incoming = (0..<LLVMCountIncoming(merged)).map { LLVMGetIncomingValue(merged, $0)! }
            #expect(incoming.contains { IR.name(of: $0) == "k" })
            #expect(incoming.contains { LLVMIsALoadInst($0) != nil })
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    @Test func aCallInALoopStoresLoopInvariantsOnceAndResultsRightAfterTheCall() throws {
        try instrumented("""
        define i64 @f(i64 %a, i64 %n) {
        entry:
          %k = mul i64 %a, 3
          br label %loop
        loop:
          %i = phi i64 [ 1, %entry ], [ %next, %loop ]
          %x = call i64 @h(i64 %i)
          %y = add i64 %x, %k
          %next = add i64 %i, %y
          %done = icmp ugt i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %k
        }
        """) { f in
            let entry = try block("entry", of: f)
            // %k's only store is in the entry block, outside the loop.
            let kStores = IR.instructions(of: f).filter {
                LLVMIsAStoreInst($0) != nil && IR.name(of: LLVMGetOperand($0, 0)) == "k"
            }
            #expect(kStores.count == 1)
            #expect(kStores.allSatisfy { LLVMGetInstructionParent($0) == entry })
            // The call's result goes through its pin right after the stackmap (`CallResultPin`).
            let x = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "x" })
            let stackmap = try #require(LLVMGetNextInstruction(x))
            #expect(IR.calleeName(of: stackmap) == StackMaps.intrinsic)
            let pin = try #require(LLVMGetNextInstruction(stackmap))
            #expect(CallResultPin.isPlaceholder(pin))
            #expect(IR.instructionUsers(of: x) == [pin])
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    @Test func aReadNeededOnlyOnARarePathIsMovedThere() throws {
        try instrumented("""
        define i64 @f(i64 %a, i64 %n) {
        entry:
          %k = mul i64 %a, 3
          br label %loop
        loop:
          %i = phi i64 [ 1, %entry ], [ %next, %latch ]
          %x = call i64 @h(i64 %i)
          %odd = icmp eq i64 %x, 7
          br i1 %odd, label %rare, label %latch
        rare:
          %y = call i64 @h(i64 %k)
          br label %latch
        latch:
          %next = add i64 %i, 1
          %done = icmp ugt i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %next
        }
        """) { f in
            // %k is live across the call in the loop but used only in `rare`: its slot is read there,
            // not on every iteration after the first call.
            let slot = try #require(IR.instructions(of: f).first { instruction in
                LLVMIsAStoreInst(instruction) != nil && IR.name(of: LLVMGetOperand(instruction, 0)) == "k"
            }.flatMap { LLVMGetOperand($0, 1) })
            let reads = IR.instructionUsers(of: slot).filter { LLVMIsALoadInst($0) != nil }
            let rare = try block("rare", of: f)
            #expect(reads.count == 1)
            #expect(reads.allSatisfy { LLVMGetInstructionParent($0) == rare })
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    @Test func aReadUsedInADeeperLoopStaysAfterTheCall() throws {
        try instrumented("""
        define i64 @f(i64 %a, i64 %n) {
        entry:
          %k = mul i64 %a, 3
          call void @g()
          br label %inner
        inner:
          %j = phi i64 [ %a, %entry ], [ %step, %inner ]
          %step = add i64 %j, %k
          %done = icmp ugt i64 %step, %n
          br i1 %done, label %exit, label %inner
        exit:
          ret i64 %step
        }
        """) { f in
            // Moving the read of %k into `inner` would run it on every iteration.
            let inner = try block("inner", of: f)
            #expect(volatileAccesses(in: inner).isEmpty)
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    @Test func demotionKeepsEveryValueInASlotAcrossCallsOnTrickyShapes() throws {
        // A self-loop with a call, a value defined in the loop and used after it, and a phi whose
        // incoming values come from before and after calls.
        try instrumented("""
        define i64 @f(i64 %a, ptr %p) {
        entry:
        \(Self.point("mp", then: "loop"))
        loop:
          %i = phi i64 [ 0, %entry ], [ 0, %mp.slow ], [ %next, %loop ]
          %v = load i64, ptr %p
          %w = call i64 @h(i64 %v)
          %next = add i64 %i, %w
          %more = icmp ult i64 %next, %a
          br i1 %more, label %loop, label %exit
        exit:
          %r = phi i64 [ %next, %loop ]
          %z = call i64 @h(i64 %r)
          %t = add i64 %z, %i
          %u = add i64 %t, %a
          ret i64 %u
        }
        """) { f in
            expectOnlySlotsLiveAcrossCalls(f)
        }
    }
}
