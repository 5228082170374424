import Foundation
import Testing
import PopcornSupport
@testable import PopcornIR

/// Which frames the metadata cannot describe: a variadic function that starts its arguments is
/// excluded from migration. Dynamically sized stack allocations no longer exclude a function:
/// they live on the object stack (`ObjectStack`), so such functions get migration points.
@Suite struct UndescribableFramesTests {
    static let program = """
    #include <stdio.h>
    void report(int);   /* another file's: it may reach a point, so work and fixed get theirs */
    static int sum(const int *a, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }
    int work(int n) {
        int buf[n];
        for (int i = 0; i < n; i++) buf[i] = i * 3;
        report(n);
        return sum(buf, n) + printf("%d\\n", n);
    }
    int fixed(int n) { int buf[4] = {n, n, n, n}; report(n); return sum(buf, 4) + printf("%d\\n", n); }
    """

    /// `program` through the frontend and the portable passes: the module's text, the diagnostics
    /// printed, and the source path.
    func prepare(_ policy: MigrationPolicy, program: String = Self.program,
                 name: String = "vla") throws -> (text: String, lines: [String], source: String) {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let source = directory.file("\(name).c")
        try AtomicFile.write(Data(program.utf8), to: source)
        let bitcode = directory.file("\(name).bc")
        try CProgramHarness.frontend(source, output: bitcode, optimization: "1")
        let module = try IRModule(bitcodeFile: bitcode)
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        let engine = DiagnosticsEngine(toolName: "popcorn-cc", sink: { lines.all.append($0) })
        try Backend.preparePortable(module, sourcePath: source, keepDebugInfo: false, migration: policy,
                                    diagnostics: engine)
        try module.verify()
        return (module.text, lines.all, source)
    }

    /// The body of one function in printed IR.
    func body(of function: String, in text: String) -> String {
        guard let start = text.range(of: "@\(function)(") else { return "" }
        let rest = text[start.lowerBound...]
        return String(rest[..<(rest.range(of: "\n}\n")?.upperBound ?? rest.endIndex)])
    }

    @Test func variableLengthArraysLiveOnTheObjectStack() throws {
        let (text, lines, _) = try prepare(.entryExit)
        #expect(lines.isEmpty, "\(lines)")
        let work = body(of: "work", in: text), fixed = body(of: "fixed", in: text)
        #expect(work.contains("__popcorn_migrate_point_slow"))
        #expect(work.contains("llvm.experimental.stackmap"))
        #expect(work.contains("@__popcorn_osp"))
        #expect(!work.contains(" = alloca i32, i64"), "the array is still a native dynamic allocation:\n\(work)")
        #expect(fixed.contains("__popcorn_migrate_point_slow"))
        #expect(fixed.contains("llvm.experimental.stackmap"))
    }

    /// A variadic function's va_list points into its own frame: excluded, without a warning.
    @Test func variadicFunctionsAreExcludedSilently() throws {
        let (text, lines, _) = try prepare(.entryExit, program: """
        #include <stdarg.h>
        #include <stdio.h>
        int say(const char *format, ...) {
            va_list list;
            va_start(list, format);
            int n = vprintf(format, list);
            va_end(list);
            return n + printf("\\n");
        }
        int loud(int n) { int t = 0; for (int i = 0; i < n; i++) t += say("%d", i); return t; }
        """, name: "variadic")
        #expect(lines.isEmpty)
        let say = body(of: "say", in: text), loud = body(of: "loud", in: text)
        #expect(!say.contains("__popcorn_migrate_point_slow") && !say.contains("llvm.experimental.stackmap"))
        #expect(loud.contains("__popcorn_migrate_point_slow") && loud.contains("llvm.experimental.stackmap"))
    }

    @Test func noWarningWithoutMigration() throws {
        let (text, lines, _) = try prepare(.none)
        #expect(lines.isEmpty)
        #expect(!text.contains("llvm.experimental.stackmap"))
    }

    /// Under `none`, a file with an explicit point still gets stackmaps, and its dynamic
    /// allocations go to the object stack all the same.
    @Test func explicitPointsUnderNoneMoveVariableLengthArrays() throws {
        let (text, lines, _) = try prepare(.none, program: """
        void popcorn_migrate_point(void);
        int use(int *p, int n);
        int work(int n) { int buf[n]; return use(buf, n); }
        int point(int n) { popcorn_migrate_point(); return use(&n, 1); }
        """, name: "vla2")
        #expect(lines.isEmpty, "\(lines)")
        #expect(body(of: "work", in: text).contains("@__popcorn_osp"))
        #expect(body(of: "point", in: text).contains("llvm.experimental.stackmap"))
    }
}
