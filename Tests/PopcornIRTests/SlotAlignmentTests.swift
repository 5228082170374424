import CLLVM
import Testing
@testable import PopcornIR

/// Frame slots the passes create never ask for more than the 16-byte stack alignment: a function
/// whose frame must be realigned has no known frame size and loses all its call sites.
struct SlotAlignmentTests {
    @Test func overAlignedSlotsAndTheirAccessesAreCappedAtSixteen() throws {
        let module = try IRModule(ir: MigrationTestSupport.header + """

        define <16 x i64> @f(<16 x i64> %v) {
          %popcorn.phi = alloca <16 x i64>, align 128
          %user = alloca <16 x i64>, align 128
          store volatile <16 x i64> %v, ptr %popcorn.phi, align 128
          store <16 x i64> %v, ptr %user, align 128
          %r = load volatile <16 x i64>, ptr %popcorn.phi, align 128
          ret <16 x i64> %r
        }
        """)
        #expect(SlotAlignment().run(on: module.ref) == 1)
        try module.verify()
        let named = module.function(named: "f")
        let f = try #require(named)
        let instructions = IR.instructions(of: f)
        for i in instructions {
            let name = IR.name(of: i)
            if LLVMIsAAllocaInst(i) != nil {
                // Only the pass's own slot: a program's object keeps the alignment it asked for.
                #expect(LLVMGetAlignment(i) == (name == "user" ? 128 : 16), "\(name)")
            } else if LLVMIsALoadInst(i) != nil {
                #expect(LLVMGetAlignment(i) == 16)
            } else if LLVMIsAStoreInst(i) != nil {
                let toSlot = IR.name(of: LLVMGetOperand(i, 1)!) == "popcorn.phi"
                #expect(LLVMGetAlignment(i) == (toSlot ? 16 : 128))
            }
        }
    }
}
