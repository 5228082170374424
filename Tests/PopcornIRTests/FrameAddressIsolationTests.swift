import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// aarch64 must not keep a frame base address in a callee-saved register across calls: the
/// IR rewrite that prevents it, and the code generated for a function with many stack slots.
@Suite(.serialized) struct FrameAddressIsolationTests {
    static let body = """
    declare void @g(ptr)
    declare void @llvm.experimental.stackmap(i64, i32, ...)
    declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
    define i64 @f(ptr %heap) {
      %a = alloca [8 x i64], align 8
      %slot = alloca i64, align 8
      store volatile i64 7, ptr %slot
      %field = getelementptr inbounds [8 x i64], ptr %a, i64 0, i64 3
      store i64 1, ptr %field
      call void @g(ptr %a)
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 1, i32 0, ptr %a, ptr %slot)
      call void @llvm.memcpy.p0.p0.i64(ptr %a, ptr %heap, i64 16, i1 false)
      %h = load i64, ptr %heap
      %v = load volatile i64, ptr %slot
      %s = add i64 %h, %v
      ret i64 %s
    }
    define i64 @leaf(ptr %p) {
      %x = alloca i64, align 8
      store i64 3, ptr %x
      %v = load i64, ptr %x
      ret i64 %v
    }
    """

    static func isolated(_ value: LLVMValueRef) -> Bool {
        guard LLVMIsACallInst(value) != nil, let callee = LLVMGetCalledValue(value) else { return false }
        return LLVMIsAInlineAsm(callee) != nil
    }

    @Test func frameAddressesOfLoadsStoresAndMemoryIntrinsicsGoThroughACopy() throws {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.body)
        let count = FrameAddressIsolation().run(on: module.ref)
        try module.verify()
        let named = module.function(named: "f")
        let f = try #require(named)
        let instructions = IR.instructions(of: f)
        // The volatile store and load of %slot, the store through %field, memcpy's destination.
        #expect(count == 4)
        for i in instructions where LLVMIsAStoreInst(i) != nil {
            #expect(Self.isolated(LLVMGetOperand(i, 1)!))
        }
        let loads = instructions.filter { LLVMIsALoadInst($0) != nil }
        #expect(loads.count == 2)
        #expect(!Self.isolated(LLVMGetOperand(loads[0], 0)!), "a load from the heap is left alone")
        #expect(Self.isolated(LLVMGetOperand(loads[1], 0)!))
        let memcpy = try #require(instructions.first { IR.calleeName(of: $0)?.hasPrefix("llvm.memcpy") == true })
        #expect(Self.isolated(LLVMGetOperand(memcpy, 0)!))
        #expect(!Self.isolated(LLVMGetOperand(memcpy, 1)!))
        // The stackmap must still name the stack objects themselves, and calls take plain addresses.
        let stackmap = try #require(instructions.first { IR.calleeName(of: $0) == "llvm.experimental.stackmap" })
        #expect(LLVMIsAAllocaInst(LLVMGetOperand(stackmap, 2)!) != nil)
        let call = try #require(instructions.first { IR.calleeName(of: $0) == "g" })
        #expect(LLVMIsAAllocaInst(LLVMGetOperand(call, 0)!) != nil)
        // Every copy sits right before the instruction it feeds: nothing lives across a call.
        for i in instructions where Self.isolated(i) {
            let users = IR.instructionUsers(of: i)
            #expect(users.count == 1 && LLVMGetNextInstruction(i) == users[0])
        }
    }

    /// Frames the local stack slot allocation cannot give a base register keep their plain
    /// accesses (with every stack object aligned to 8, which the estimate relies on); a large
    /// frame, or a 16-byte access, is still isolated.
    @Test func onlyFramesThatCouldGetABaseRegisterAreIsolated() throws {
        let body = """
        declare void @g(ptr)
        declare void @llvm.experimental.stackmap(i64, i32, ...)
        define i64 @small(i64 %x) {
          %s = alloca i32, align 4
          %t = alloca i64, align 8
          store i32 5, ptr %s, align 4
          store i64 %x, ptr %t, align 8
          call void @g(ptr null)
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 1, i32 0, ptr %s, ptr %t)
          %v = load i64, ptr %t, align 8
          %w = load i32, ptr %s, align 4
          %e = sext i32 %w to i64
          %r = add i64 %v, %e
          ret i64 %r
        }
        define i64 @large(i64 %x) {
          %big = alloca [4000 x i8], align 1
          %t = alloca i64, align 8
          store i64 %x, ptr %t, align 8
          call void @g(ptr null)
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 2, i32 0, ptr %t, ptr %big)
          %v = load i64, ptr %t, align 8
          ret i64 %v
        }
        define i64 @misaligned(i64 %x) {
          %t = alloca [2 x i64], align 8
          %p = getelementptr i8, ptr %t, i64 3
          store i64 %x, ptr %p, align 1
          call void @g(ptr null)
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 3, i32 0, ptr %t)
          %v = load i64, ptr %p, align 1
          ret i64 %v
        }
        """
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + body)
        FrameAddressIsolation().run(on: module.ref)
        try module.verify()
        let (smallFunction, largeFunction, misalignedFunction) =
            (module.function(named: "small"), module.function(named: "large"), module.function(named: "misaligned"))
        let small = IR.instructions(of: try #require(smallFunction))
        #expect(!small.contains(where: Self.isolated))
        #expect(small.filter { LLVMIsAAllocaInst($0) != nil }.allSatisfy { LLVMGetAlignment($0) >= 8 })
        #expect(IR.instructions(of: try #require(largeFunction)).contains(where: Self.isolated))
        #expect(IR.instructions(of: try #require(misalignedFunction)).contains(where: Self.isolated))
    }

    @Test func functionsWithoutStackmapsAreLeftAlone() throws {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.body)
        FrameAddressIsolation().run(on: module.ref)
        let named = module.function(named: "leaf")
        let leaf = try #require(named)
        #expect(!IR.instructions(of: leaf).contains(where: Self.isolated))
    }

    /// Many small locals live across many calls: before the rewrite, aarch64's local stack slot
    /// allocation gave this function a frame base in x19 (`sub x19, x29, #…`) used after calls.
    static let program = """
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    __attribute__((noinline)) void sink(void *p, long n) { if (n < 0) printf("%p\\n", p); }
    int main(int argc, char **argv) {
        char path[] = "frame-isolation";
        long counts[3] = {argc, 2, 3};
        long limit = argc > 1 ? atol(argv[1]) : 2000;
        double total = 0;
        for (long i = 0; i < limit; i++) {
            sink(path, i);
            sink(counts, counts[i % 3]);
            total += (double)counts[i % 3] / (double)(i + 1);
            counts[i % 3] += (long)strlen(path) + i;
            sink(&total, limit - i);
        }
        printf("%s %ld %ld %ld %.3f\\n", path, counts[0], counts[1], counts[2], total);
        return 0;
    }
    """

    /// Many scalar values live across a recursive call, in slots of their own, and no access the
    /// estimate doubts: compiled without the isolation.
    static let unisolatedProgram = """
    #include <stdio.h>
    #include <stdlib.h>
    __attribute__((noinline)) long walk(long depth, long a, long b) {
        if (depth == 0) return a ^ b;
        long x0 = a * 3, x1 = b * 5, x2 = a + b, x3 = a - b, x4 = a * b, x5 = a ^ 7, x6 = b ^ 11,
             x7 = a + 13, x8 = b + 17, x9 = a * 19, x10 = b * 23, x11 = a - 29, x12 = b - 31,
             x13 = a | 37, x14 = b | 41, x15 = a & 43, x16 = b & 47, x17 = a * 53 + b;
        long r = walk(depth - 1, x0 + x1, x2 - x3);
        r += walk(depth > 4 ? 0 : depth - 1, x4, x5);
        return r + x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11 + x12 + x13 + x14
               + x15 + x16 + x17;
    }
    int main(int argc, char **argv) {
        long depth = argc > 1 ? atol(argv[1]) : 12;
        printf("%ld\\n", walk(depth, argc, depth));
        return 0;
    }
    """

    @Test(arguments: ["frames.c", "walk.c"])
    func aarch64CodeKeepsNoFrameBaseInACalleeSavedRegister(_ name: String) throws {
        let directory = try TemporaryDirectory(prefix: "frame-isolation")
        let source = name == "frames.c" ? Self.program : Self.unisolatedProgram
        let module = try MigrationTestSupport.portable(source, name: name, in: directory)
        let assembly = try Backend.lower(module.bitcode(), name: directory.file(name), isas: [.aarch64], optimization: .o2,
                                         assembly: true)
        let text = String(decoding: try #require(assembly[.aarch64]), as: UTF8.self)
        #expect(text.contains("llvm_stackmaps") || text.contains(".Ltmp"), "the function has call sites")
        let base = try Regex(#"\b(add|sub)\s+x(19|2[0-8]),\s*(sp|x29),"#)
        let offending = text.split(separator: "\n").filter { $0.contains(base) }
        #expect(offending.isEmpty, "frame addresses in callee-saved registers: \(offending)")
    }
}
