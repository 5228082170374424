import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Pass 1: constructs that cannot work on every ISA are errors naming the source line.
struct UnsupportedConstructTests {
    /// Debug-info boilerplate so instructions can carry `!dbg` locations in prog.c.
    static let debugInfo = """
    !llvm.dbg.cu = !{!0}
    !llvm.module.flags = !{!2}
    !0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, emissionKind: LineTablesOnly)
    !1 = !DIFile(filename: "prog.c", directory: "/src")
    !2 = !{i32 2, !"Debug Info Version", i32 3}
    !3 = distinct !DISubprogram(name: "f", scope: !1, file: !1, line: 10, type: !4, spFlags: DISPFlagDefinition, unit: !0)
    !4 = !DISubroutineType(types: !{})
    !5 = !DILocation(line: 12, column: 3, scope: !3)
    """

    /// Runs the check on IR text; returns the number of errors and the printed messages.
    func check(_ ir: String) throws -> (Int, [String]) {
        let module = try IRModule(ir: ir)
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        let engine = DiagnosticsEngine(toolName: "popcorn-cc", sink: { lines.all.append($0) })
        let count = UnsupportedConstructCheck(locator: SourceLocator(sourcePath: "fallback.c"), diagnostics: engine)
            .run(on: module.ref)
        return (count, lines.all)
    }

    @Test func inlineAssemblyIsAnErrorAtItsLine() throws {
        let (count, lines) = try check("""
        define void @f() !dbg !3 {
          call void asm sideeffect "nop", ""(), !dbg !5
          ret void
        }
        \(Self.debugInfo)
        """)
        #expect(count == 1)
        #expect(lines == ["prog.c:12:3: error: inline assembly is not supported: it cannot be lowered for every ISA"])
    }

    @Test func asmGotoIsAnError() throws {
        let (count, lines) = try check("""
        define void @f() !dbg !3 {
          callbr void asm "", "!i"() to label %a [label %b], !dbg !5
        a:
          ret void
        b:
          ret void
        }
        \(Self.debugInfo)
        """)
        #expect(count == 1)
        #expect(lines.first?.hasPrefix("prog.c:12:3: error: inline assembly") == true)
    }

    @Test func locationFallsBackToTheFunctionAndThenTheFile() throws {
        let (_, withFunction) = try check("""
        define void @f() !dbg !3 {
          call void asm sideeffect "nop", ""()
          ret void
        }
        \(Self.debugInfo)
        """)
        #expect(withFunction.first?.hasPrefix("prog.c:10: error: inline assembly") == true)
        let (_, withoutAnything) = try check("""
        define void @g() {
          call void asm sideeffect "nop", ""()
          ret void
        }
        """)
        #expect(withoutAnything == ["fallback.c: error: inline assembly is not supported: it cannot be lowered for every ISA in function 'g'"])
    }

    @Test func moduleAssemblyIsAnError() throws {
        let (count, lines) = try check("""
        module asm ".globl answer"
        module asm "answer = 42"
        """)
        #expect(count == 1)
        #expect(lines.first?.contains("file-scope inline assembly is not supported") == true)
        let (blank, _) = try check("define void @f() {\n  ret void\n}\n")
        #expect(blank == 0)
    }

    @Test func targetIntrinsicsAreErrors() throws {
        let (count, lines) = try check("""
        declare i64 @llvm.aarch64.get.fpcr()
        define i64 @f() {
          %v = call i64 @llvm.aarch64.get.fpcr()
          ret i64 %v
        }
        """)
        #expect(count == 1)
        #expect(lines.first?.contains("target-specific intrinsic 'llvm.aarch64.get.fpcr'") == true)
    }

    @Test func variadicFloatStructsAreErrorsButDoubleStructsAreNot() throws {
        let (count, lines) = try check("""
        declare void @v(i32, ...)
        define void @f([2 x float] %a, [3 x double] %b, [1 x float] %c) {
          call void (i32, ...) @v(i32 1, [3 x double] %b, [1 x float] %c)
          call void (i32, ...) @v(i32 1, [2 x float] %a)
          ret void
        }
        """)
        #expect(count == 1)
        #expect(lines.first?.contains("structure of 2 floats as a variadic argument") == true)
    }

    @Test func scanfLongDoubleConversionsAreErrors() throws {
        let (count, lines) = try check("""
        @.fmt = private constant [8 x i8] c"%d %*Lf\\00"
        @.bad = private constant [7 x i8] c"%s %Lg\\00"
        declare i32 @sscanf(ptr, ptr, ...)
        define void @f(ptr %s, ptr %x) {
          call i32 (ptr, ptr, ...) @sscanf(ptr %s, ptr @.fmt, ptr %x)
          call i32 (ptr, ptr, ...) @sscanf(ptr %s, ptr @.bad, ptr %x, ptr %x)
          ret void
        }
        """)
        #expect(count == 1)
        #expect(lines.first?.contains("'%Lg' conversion in a call to 'sscanf'") == true)
    }

    @Test func complexLongDoubleLibcCallsAreErrors() throws {
        let (count, lines) = try check("""
        declare fp128 @cabsl([2 x fp128])
        declare fp128 @sinl(fp128)
        define fp128 @f([2 x fp128] %z) {
          %a = call fp128 @cabsl([2 x fp128] %z)
          %b = call fp128 @sinl(fp128 %a)
          ret fp128 %b
        }
        """)
        #expect(count == 1)
        #expect(lines.first?.contains("call to 'cabsl' is not supported") == true)
    }

    @Test func backendReportsAndThrowsForCPrograms() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let source = directory.file("asm.c")
        try Data("""
        int add(int a, int b) {
            int r;
            __asm__ volatile("mov %w0, %w1" : "=r"(r) : "r"(a));
            return r + b;
        }
        int barrier(int x) {
            __asm__ volatile("" : "+r"(x));
            __asm__ volatile("" ::: "memory");
            return x;
        }
        """.utf8).write(to: URL(fileURLWithPath: source))
        let bitcode = directory.file("asm.bc")
        try CProgramHarness.frontend(source, output: bitcode)
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        let engine = DiagnosticsEngine(toolName: "popcorn-cc", sink: { lines.all.append($0) })
        let request = BackendRequest(bitcodePath: bitcode, sourcePath: source, optimization: .o2,
                                     output: .object, keepDebugInfo: false)
        #expect(throws: BackendError.unsupportedConstructs(count: 1)) {
            try Backend.run(request, diagnostics: engine)
        }
        // The empty barriers of `barrier` emit nothing on any ISA: accepted.
        #expect(lines.all.count == 1, "\(lines.all)")
        #expect(lines.all.first?.hasPrefix("\(source):3:") == true)
        #expect(BackendError.unsupportedConstructs(count: 2).diagnostic.description == "error: compilation stopped after 2 errors")
    }
}
