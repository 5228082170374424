import CLLVM
import Foundation
import Testing
@testable import PopcornIR

/// A slot-resident phi carried around a dispatch loop is stored where a new value flows into it,
/// not on every pass through the loop header (`StackSlotDemotion.edgeStores`).
struct ResidentPhiStoreTests {
    let placement = DemotionPlacementTests()

    static let dispatch = """
    define void @f(i64 %n) {
    entry:
      br label %head
    head:
      %v = phi i64 [ 0, %entry ], [ %next, %latch ]
      %t = icmp eq i64 %v, 1000
      br i1 %t, label %exit, label %dispatch
    dispatch:
      switch i64 %n, label %latch [ i64 1, label %change
                                    i64 2, label %inner ]
    change:
      %w = add i64 %v, 1
      br label %latch
    inner:
      %i = phi i64 [ 0, %dispatch ], [ %i1, %inner ]
      call void @g()
      %i1 = add i64 %i, %v
      %c = icmp eq i64 %i1, 100
      br i1 %c, label %latch, label %inner
    latch:
      %next = phi i64 [ %v, %dispatch ], [ %w, %change ], [ %v, %inner ]
      br label %head
    exit:
      ret void
    }
    """

    @Test func aCarriedPhiIsStoredWhereItChanges() throws {
        try placement.instrumented(Self.dispatch) { f in
            let v = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "v" })
            let head = try placement.block("head", of: f)
            #expect(placement.storesOf(v, in: head).isEmpty, "no store on every pass through the header")
            // %v's slot: where `change` stores %v + 1.
            let w = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "w" })
            let change = try #require(placement.storesOf(w, in: try placement.block("change", of: f)).first)
            let slot = LLVMGetOperand(change, 1)!
            func stores(in name: String) throws -> [LLVMValueRef] {
                CFGEditing.instructions(of: try placement.block(name, of: f)).filter {
                    LLVMIsAStoreInst($0) != nil && LLVMGetOperand($0, 1) == slot
                }
            }
            // The initial value at the end of the entry block, the new one at the end of `change`;
            // nothing where %v flows back unchanged.
            let initial = try stores(in: "entry")
            #expect(initial.count == 1 && LLVMIsAConstantInt(LLVMGetOperand(initial[0], 0)) != nil)
            #expect(try stores(in: "change").count == 1)
            #expect(try stores(in: "latch").isEmpty && stores(in: "head").isEmpty && stores(in: "dispatch").isEmpty)
            placement.expectOnlySlotsLiveAcrossCalls(f)
        }
    }

    /// A value changed on a path that reaches the latch through a conditional branch is stored on
    /// an edge block of its own (`StackSlotDemotion.splitLatchEdges`), not on every iteration.
    @Test func aChangeBehindAConditionalBranchIsStoredOnItsEdge() throws {
        let source = Self.dispatch.replacingOccurrences(of: """
              %w = add i64 %v, 1
              br label %latch
            """, with: """
              %w = add i64 %v, 1
              %odd = icmp eq i64 %w, 7
              br i1 %odd, label %latch, label %exit
            """)
        #expect(source != Self.dispatch)
        try placement.instrumented(source) { f in
            let v = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "v" })
            #expect(placement.storesOf(v, in: try placement.block("head", of: f)).isEmpty)
            let w = try #require(IR.instructions(of: f).first { IR.name(of: $0) == "w" })
            let edges = CFGEditing.blocks(of: f).filter { String(cString: LLVMGetBasicBlockName($0)).hasPrefix("popcorn.edge") }
            // Every edge into the latch from a block with several successors: `dispatch`'s switch,
            // the exit of `inner`'s loop, `change`'s branch. Only `change`'s carries a new value.
            #expect(edges.count == 3)
            #expect(edges.filter { !CFGEditing.instructions(of: $0).contains { LLVMIsAStoreInst($0) != nil } }.count == 2)
            #expect(edges.contains { !placement.storesOf(w, in: $0).isEmpty })
            placement.expectOnlySlotsLiveAcrossCalls(f)
        }
    }
}
