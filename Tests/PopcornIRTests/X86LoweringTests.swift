import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// IR-in/IR-out tests of the per-ISA passes.
struct X86LoweringTests {
    static let aarch64Header = """
    target datalayout = "e-m:e-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128-Fn32"
    target triple = "aarch64-unknown-linux-musl"
    """

    /// Parses `body`, lowers it for `isa`, verifies it and returns the module.
    func lowered(_ body: String, for isa: ISA = .x86_64) throws -> IRModule {
        let module = try IRModule(ir: Self.aarch64Header + "\n" + body)
        let machine = try TargetMachine(isa: isa, optimization: .o2)
        try LoweringPasses(isa: isa, dataLayout: machine.dataLayout).run(on: module)
        try module.verify()
        return module
    }

    /// The argument types of the first call to `callee` in the module's text.
    func callLine(_ text: String, calling callee: String) -> String? {
        text.split(separator: "\n").first { $0.contains("call") && $0.contains("@\(callee)(") }.map(String.init)
    }

    @Test func retargetsTripleLayoutAndCPUAttributes() throws {
        let body = """
        define void @f() #0 {
          ret void
        }
        attributes #0 = { "target-cpu"="generic" "target-features"="+fp-armv8,+neon,+v8a" "sign-return-address"="all" }
        """
        let x86 = try lowered(body).text
        #expect(x86.contains("target triple = \"x86_64-unknown-linux-musl\""))
        #expect(x86.contains("\"target-cpu\"=\"x86-64\""))
        #expect(x86.contains("\"target-features\"=\"+cx8,+fxsr,+mmx,+sse,+sse2,+x87\""))
        #expect(!x86.contains("neon"))
        #expect(!x86.contains("sign-return-address"))
        let arm = try lowered(body, for: .aarch64).text
        #expect(arm.contains("target triple = \"aarch64-unknown-linux-musl\""))
        #expect(arm.contains("+fp-armv8,+neon,+v8a"))
    }

    @Test func vaStartBuildsAnAArch64VaListFromTheNativeOne() throws {
        let module = try lowered("""
        declare void @llvm.va_start.p0(ptr)
        declare void @llvm.va_copy.p0(ptr, ptr)
        declare void @llvm.va_end.p0(ptr)
        define void @f(i32 %n, ...) {
          %ap = alloca [32 x i8], align 8
          %aq = alloca [32 x i8], align 8
          call void @llvm.va_start.p0(ptr %ap)
          call void @llvm.va_copy.p0(ptr %aq, ptr %ap)
          call void @llvm.va_end.p0(ptr %aq)
          call void @llvm.va_end.p0(ptr %ap)
          ret void
        }
        """)
        let text = module.text
        #expect(text.contains("%popcorn.x86.va_list = alloca [24 x i8], align 16"))
        #expect(text.contains("call void @llvm.va_start.p0(ptr %popcorn.x86.va_list)"))
        #expect(text.contains("sub i32 %gp_offset, 48"))
        #expect(text.contains("sub i32 %fp_offset, 176"))
        #expect(text.contains("getelementptr inbounds i8, ptr %reg_save_area, i64 48"))
        #expect(text.contains("getelementptr inbounds i8, ptr %reg_save_area, i64 176"))
        #expect(text.contains("store ptr %overflow_arg_area, ptr %ap"))
        #expect(text.contains("call void @llvm.memcpy.p0.p0.i64(ptr align 8 %aq, ptr align 8 %ap, i64 32, i1 false)"))
        #expect(!text.contains("llvm.va_copy"))
        #expect(text.contains("call void @llvm.va_end.p0(ptr %ap)"))
        // aarch64 keeps its own va_start.
        let arm = try lowered(text.replacingOccurrences(of: "x86_64", with: "aarch64"), for: .aarch64).text
        #expect(arm.contains("llvm.va_start.p0(ptr %popcorn.x86.va_list)"))
    }

    @Test func pairsThatWouldStraddleRegistersAndStackArePadded() throws {
        let text = try lowered("""
        declare void @v(i32, ...)
        declare i32 @printf(ptr, ...)
        define void @f([2 x i64] %p, i128 %q, [3 x double] %h) {
          call void (i32, ...) @v(i32 1, i64 2, i64 3, i64 4, i64 5, [2 x i64] %p, i64 6)
          call void (i32, ...) @v(i32 1, i128 %q)
          call void (i32, ...) @v(i32 1, i64 2, i128 %q)
          call void (i32, ...) @v(i32 1, double 1.0, double 2.0, double 3.0, double 4.0, double 5.0, double 6.0, [3 x double] %h, double 7.0)
          call void (i32, ...) @v(i32 1, i64 2, i64 3, i64 4, i64 5, i64 6)
          call i32 (ptr, ...) @printf(ptr null, i64 2, i64 3, i64 4, i64 5, [2 x i64] %p)
          ret void
        }
        """).text
        let calls = text.split(separator: "\n").filter { $0.contains("call") }.map(String.init)
        #expect(calls.count == 6)
        // One integer register left: a dummy fills it, the pair and everything after go to the stack.
        #expect(calls[0].contains("i64 5, i64 undef, [2 x i64] %p, i64 6)"))
        // i128 after one fixed integer: starts in an even register.
        #expect(calls[1].contains("(i32 1, i64 undef, i128 %q)"))
        #expect(calls[2].contains("(i32 1, i64 2, i128 %q)"))
        // Two vector registers left for a three-double HFA.
        #expect(calls[3].contains("double 6.000000e+00, double undef, double undef, [3 x double] %h, double 7.000000e+00)"))
        #expect(!calls[4].contains("undef"))
        // libc's printf reads its arguments natively and is left alone.
        #expect(!calls[5].contains("undef"))
    }

    @Test func libcLongDoubleFunctionsAreWrapped() throws {
        let module = try lowered("""
        declare fp128 @sinl(fp128)
        declare void @sincosl(fp128, ptr, ptr)
        declare i32 @printf(ptr, ...)
        declare fp128 @llvm.sqrt.f128(fp128)
        define fp128 @f(fp128 %x, ptr %s, ptr %c) {
          %a = call fp128 @sinl(fp128 %x)
          call void @sincosl(fp128 %a, ptr %s, ptr %c)
          %b = call fp128 @llvm.sqrt.f128(fp128 %a)
          %r = frem fp128 %a, %b
          call i32 (ptr, ...) @printf(ptr null, fp128 %r, double 1.0)
          ret fp128 %r
        }
        """)
        let text = module.text
        #expect(text.contains("declare x86_fp80 @sinl(x86_fp80)"))
        #expect(text.contains("declare void @sincosl(x86_fp80, ptr, ptr)"))
        #expect(text.contains("declare x86_fp80 @sqrtl(x86_fp80)"))
        #expect(text.contains("declare x86_fp80 @fmodl(x86_fp80, x86_fp80)"))
        let wrapper = try #require(text.split(separator: "\n").first { $0.contains("define internal fp128 @__popcorn_x87.sinl(fp128 %0)") })
        #expect(wrapper.contains("section \".text.__popcorn_x87.sinl\""))
        #expect(text.contains("call fp128 @__popcorn_x87.sinl(fp128 %x)"))
        #expect(text.contains("call fp128 @__popcorn_x87.sqrtl("))
        #expect(!text.contains("frem"))
        #expect(!text.contains("llvm.sqrt"))
        // sincosl's outputs are converted back through x87 temporaries.
        #expect(text.contains("alloca x86_fp80"))
        #expect(text.contains("fpext x86_fp80"))
        let printf = try #require(callLine(text, calling: "printf"))
        #expect(printf.contains("(ptr null, x86_fp80 %"))
        #expect(printf.contains("double 1.000000e+00)"))
    }

    @Test func shimmedLibcFunctionsAreRedirectedOnX86Only() throws {
        let body = """
        declare i32 @stat(ptr, ptr)
        declare i32 @open(ptr, i32, ...)
        declare i32 @vprintf(ptr, ptr)
        define i32 @fstat(i32 %fd, ptr %st) {
          ret i32 0
        }
        define i32 @f(ptr %p, ptr %st, ptr %ap) {
          %a = call i32 @stat(ptr %p, ptr %st)
          %b = call i32 (ptr, i32, ...) @open(ptr %p, i32 0, i32 420)
          %c = call i32 @vprintf(ptr %p, ptr %ap)
          %d = call i32 @fstat(i32 %a, ptr %st)
          ret i32 %d
        }
        """
        let x86 = try lowered(body).text
        #expect(x86.contains("call i32 @__popcorn_abi_stat(ptr %p, ptr %st)"))
        #expect(x86.contains("call i32 (ptr, i32, ...) @__popcorn_abi_open(ptr %p, i32 0, i32 420)"))
        #expect(x86.contains("call i32 @__popcorn_abi_vprintf(ptr %p, ptr %ap)"))
        // The program's own definition of a shimmed name is its own business.
        #expect(x86.contains("call i32 @fstat("))
        let arm = try lowered(body, for: .aarch64).text
        #expect(!arm.contains("__popcorn_abi_"))
    }

    @Test func shimTableNamesEveryListedFunctionWithAReason() {
        #expect(ABIShims.table.count == 55)
        #expect(ABIShims.table.values.allSatisfy { !$0.isEmpty })
        #expect(ABIShims.shimName(for: "fcntl") == "__popcorn_abi_fcntl")
        #expect(ABIShims.shimName(for: "printf") == nil)
        #expect(LongDoubleFunction.table["modfl"] == nil, "modfl is shimmed, not wrapped")
    }
}
