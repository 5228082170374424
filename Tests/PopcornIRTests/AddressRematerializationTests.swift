import CLLVM
import Foundation
import Testing
@testable import PopcornIR

/// Constant-offset addresses live across instrumented calls are computed again at their uses
/// (`AddressRematerialization`): no slot holds them, their base is what crosses the calls.
struct AddressRematerializationTests {
    let placement = DemotionPlacementTests()

    /// Slots made by demotion in `f` (entry-block allocas named `popcorn.slot`).
    func slots(of function: LLVMValueRef) -> [LLVMValueRef] {
        IR.instructions(of: function).filter { IR.name(of: $0).hasPrefix("popcorn.slot") }
    }

    /// The value each slot holds: what the stores into it write (reads and merges of the slot aside).
    func storedValues(in function: LLVMValueRef) -> [LLVMValueRef] {
        slots(of: function).flatMap { slot in
            IR.instructionUsers(of: slot).filter { LLVMIsAStoreInst($0) != nil }.map { LLVMGetOperand($0, 0)! }
        }
    }

    /// Two fields of one structure, addressed before a loop that calls out and used after the call:
    /// only the structure's pointer gets a slot, and each field is addressed again where it is read.
    @Test func fieldAddressesAreNotKeptInSlots() throws {
        try placement.instrumented("""
        define i64 @f(ptr %s, i64 %n) {
        entry:
          %a = getelementptr inbounds i8, ptr %s, i64 648
          %b = getelementptr inbounds i8, ptr %s, i64 16
          br label %loop
        loop:
          %i = phi i64 [ 0, %entry ], [ %next, %loop ]
          call void @g()
          %x = load i64, ptr %a
          %y = load i64, ptr %b
          %z = add i64 %x, %y
          store i64 %z, ptr %a
          %next = add i64 %i, 1
          %done = icmp eq i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %z
        }
        """) { f in
            let s = LLVMGetParam(f, 0)!
            let stored = storedValues(in: f)
            #expect(!stored.contains { LLVMIsAGetElementPtrInst($0) != nil }, "\(stored.map { IR.name(of: $0) })")
            // %s is kept for the copies, %n for the exit test, %i for the count: three slots.
            #expect(slots(of: f).count == 3)
            let afterCall = try placement.block("popcorn.after.call", of: f)
            let addresses = CFGEditing.instructions(of: afterCall).filter { LLVMIsAGetElementPtrInst($0) != nil }
            #expect(addresses.count == 3, "one copy per use")
            let offsets = addresses.map { LLVMConstIntGetSExtValue(LLVMGetOperand($0, 1)) }.sorted()
            #expect(offsets == [16, 648, 648])
            // Every copy is built on a version of %s (a read of its slot or a merge of those), not on %s's
            // original definition across the call.
            #expect(addresses.allSatisfy { LLVMGetOperand($0, 0) != s })
            #expect(!CFGEditing.instructions(of: try placement.block("entry", of: f)).contains { LLVMIsAGetElementPtrInst($0) != nil })
            placement.expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    /// A phi's use gets its copy at the end of the incoming block, one per block; a chain of
    /// constant offsets is copied whole, and the originals go away.
    @Test func phiUsesAndChainsAreCopiedAtTheEdge() throws {
        try placement.instrumented("""
        define ptr @f(ptr %s, i1 %c) {
        entry:
          %inner = getelementptr inbounds i8, ptr %s, i64 8
          %outer = getelementptr inbounds i8, ptr %inner, i64 4
          call void @g()
          br i1 %c, label %left, label %join
        left:
          call void @g()
          br label %join
        join:
          %p = phi ptr [ %outer, %entry ], [ %outer, %left ]
          ret ptr %p
        }
        """) { f in
            #expect(!IR.instructions(of: f).contains { IR.name(of: $0) == "inner" || IR.name(of: $0) == "outer" })
            #expect(!storedValues(in: f).contains { LLVMIsAGetElementPtrInst($0) != nil })
            let join = try placement.block("join", of: f)
            let phi = try #require(CFGEditing.phis(of: join).first)
            for index in 0..<LLVMCountIncoming(phi) {
                let incoming = LLVMGetIncomingBlock(phi, index)!
                let addresses = CFGEditing.instructions(of: incoming).filter { LLVMIsAGetElementPtrInst($0) != nil }
                #expect(addresses.count == 2, "the chain, once per incoming block")
                #expect(LLVMGetIncomingValue(phi, index) == addresses.last)
            }
            placement.expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    /// A variable index is not a constant offset: that address is demoted as before.
    @Test func variableOffsetsStayInSlots() throws {
        try placement.instrumented("""
        define i64 @f(ptr %s, i64 %k) {
        entry:
          %a = getelementptr inbounds i64, ptr %s, i64 %k
          call void @g()
          %x = load i64, ptr %a
          ret i64 %x
        }
        """) { f in
            #expect(storedValues(in: f).contains { LLVMIsAGetElementPtrInst($0) != nil })
            placement.expectOnlySlotsLiveAcrossCalls(f)
        }
    }
}
