import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// The migration point pass on IR, and programs with migration points run on both ISAs.
@Suite(.serialized) struct MigrationPointTests {
    func instrumented(_ body: String, policy: MigrationPolicy,
                      library: LibraryFunctions = LibraryFunctions(names: [])) throws -> IRModule {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + body)
        MigrationPoints(policy: policy, library: library).run(on: module.ref)
        try module.verify()
        return module
    }

    /// Functions that call only point-free code, and in loops only computing code (`kernel` calls a
    /// straight-line leaf, `comparing` the C library's `memcmp`), get no automatic points, and
    /// calls to them no stackmap; a loop calling the rest of the C library (`scanning`, `strlen`
    /// here) gets a point after that call besides entry and exit; recursion, calls elsewhere, a
    /// replaceable body and `main` keep their points.
    @Test func boundedFunctionsGetNoPointsAndTheirCallsNoRecords() throws {
        let module = try instrumented("""
        declare i32 @strlen(ptr)
        declare void @elsewhere()
        define internal i32 @leaf(i32 %x) {
          %y = mul i32 %x, %x
          ret i32 %y
        }
        define i32 @caller(ptr %s, i32 %x) {
          %a = call i32 @leaf(i32 %x)
          %b = call i32 @strlen(ptr %s)
          %c = add i32 %a, %b
          ret i32 %c
        }
        define i32 @looping(i32 %n) {
        entry:
          br label %loop
        loop:
          %i = phi i32 [ 0, %entry ], [ %next, %loop ]
          %next = add i32 %i, 1
          %done = icmp eq i32 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          %r = call i32 @caller(ptr null, i32 %i)
          ret i32 %r
        }
        define i32 @kernel(i32 %n) {
        entry:
          br label %loop
        loop:
          %i = phi i32 [ 0, %entry ], [ %next, %loop ]
          %sq = call i32 @leaf(i32 %i)
          %next = add i32 %i, 1
          %done = icmp eq i32 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i32 %sq
        }
        define i32 @scanning(ptr %s, i32 %n) {
        entry:
          br label %loop
        loop:
          %i = phi i32 [ 0, %entry ], [ %next, %loop ]
          %len = call i32 @strlen(ptr %s)
          %next = add i32 %i, %len
          %done = icmp uge i32 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i32 %i
        }
        declare i32 @memcmp(ptr, ptr, i64)
        define i32 @comparing(ptr %a, ptr %b, i32 %n) {
        entry:
          br label %loop
        loop:
          %i = phi i32 [ 0, %entry ], [ %next, %loop ]
          %d = call i32 @memcmp(ptr %a, ptr %b, i64 8)
          %next = add i32 %i, %d
          %done = icmp uge i32 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i32 %i
        }
        define i32 @recursive(i32 %n) {
          %m = sub i32 %n, 1
          %r = call i32 @recursive(i32 %m)
          ret i32 %r
        }
        define i32 @outside() {
          call void @elsewhere()
          ret i32 0
        }
        define weak i32 @replaceable() {
          ret i32 0
        }
        define i32 @main() {
          %r = call i32 @looping(i32 3)
          ret i32 %r
        }
        """, policy: .entryExit, library: Self.library)
        let text = module.text
        for (name, points) in [("leaf", 0), ("caller", 0), ("looping", 0), ("kernel", 0), ("scanning", 3), ("comparing", 0),
                               ("recursive", 2), ("outside", 2), ("replaceable", 1), ("main", 2)] {
            let definition = try #require(text.range(of: "define[^\n]* @\(name)\\(", options: .regularExpression))
            let function = text[definition.lowerBound...].components(separatedBy: "\n}\n")[0]
            #expect(pointCount(function) == points, "\(name)")
        }
        StackMaps(library: Self.library).run(on: module.ref)
        try module.verify()
        let after = module.text
        // 10 slow paths (replaceable has one instruction: its entry is its return), and the calls of
        // recursive and elsewhere; none of caller's, leaf's, looping's or strlen's.
        #expect(after.components(separatedBy: "call void (i64, i32, ...) @llvm.experimental.stackmap(").count - 1 == 12)
        #expect(!after.contains("call i32 @caller(ptr null, i32 %i)\n  call void (i64, i32, ...) @llvm.experimental.stackmap"))
    }

    /// `strlen` may be called where no point can run; `memcmp` also only computes.
    static let library = LibraryFunctions(names: ["strlen", "memcmp"], computing: ["memcmp"])

    func pointCount(_ text: String) -> Int {
        text.components(separatedBy: "call void @__popcorn_migrate_point_slow()").count - 1
    }

    static let loops = """
    declare void @g(i32)
    define i32 @tight(i32 %n) {
    entry:
      br label %loop
    loop:
      %i = phi i32 [ 0, %entry ], [ %next, %loop ]
      %sum = phi i32 [ 0, %entry ], [ %add, %loop ]
      %add = add i32 %sum, %i
      %next = add i32 %i, 1
      %done = icmp eq i32 %next, %n
      br i1 %done, label %exit, label %loop
    exit:
      ret i32 %add
    }
    define void @calling(i32 %n) {
    entry:
      br label %loop
    loop:
      %i = phi i32 [ 0, %entry ], [ %next, %latch ]
      call void @g(i32 %i)
      br label %latch
    latch:
      %next = add i32 %i, 1
      %done = icmp eq i32 %next, %n
      br i1 %done, label %exit, label %loop
    exit:
      ret void
    }
    """

    static let twoReturns = """
        declare void @elsewhere()
        define i32 @f(i32 %x) {
        entry:
          %slot = alloca i32
          store i32 %x, ptr %slot
          call void @elsewhere()
          %c = icmp sgt i32 %x, 0
          br i1 %c, label %pos, label %neg
        pos:
          ret i32 1
        neg:
          ret i32 2
        }
        """

    /// The default policy: one point, at the entry; none before the returns.
    @Test func entryPutsAPointAtEntryOnly() throws {
        let text = try instrumented(Self.twoReturns, policy: .entry).text
        #expect(pointCount(text) == 1)
        let entry = try #require(text.range(of: "entry:"))
        let afterEntry = text[entry.upperBound...].split(separator: "\n", omittingEmptySubsequences: true)
        #expect(afterEntry.dropFirst().first?.contains("load volatile") == true)
        // Each return stays alone in its block.
        let lines = text.split(separator: "\n").map(String.init)
        for (label, ret) in [("pos:", "  ret i32 1"), ("neg:", "  ret i32 2")] {
            let at = try #require(lines.firstIndex { $0.hasPrefix(label) })
            #expect(lines[at + 1] == ret, "\(label) \(lines[at + 1])")
        }
    }

    @Test func entryExitPutsAPointAtEntryAndBeforeEveryReturn() throws {
        let module = try instrumented(Self.twoReturns, policy: .entryExit)
        let text = module.text
        #expect(pointCount(text) == 3)
        #expect(text.contains("load volatile i32, ptr @__popcorn_migration_pending"))
        #expect(text.contains("!\"branch_weights\", i32 1, i32 2000"))
        #expect(text.contains("declare hidden void @__popcorn_migrate_point_slow() #"))
        // The alloca stays first in the entry block, ahead of the point.
        let entry = try #require(text.range(of: "entry:"))
        let afterEntry = text[entry.upperBound...].split(separator: "\n", omittingEmptySubsequences: true)
        #expect(afterEntry.first?.contains("alloca i32") == true)
        #expect(afterEntry.dropFirst().first?.contains("load volatile") == true)
    }

    @Test func noneKeepsOnlyExplicitPoints() throws {
        let body = """
        declare void @popcorn_migrate_point()
        define void @f() {
          call void @popcorn_migrate_point()
          ret void
        }
        """
        let none = try instrumented(body, policy: .none).text
        #expect(pointCount(none) == 1)
        #expect(!none.contains("call void @popcorn_migrate_point()"), "explicit calls become inline points")
        #expect(pointCount(try instrumented(body, policy: .entryExit).text) == 3)
        #expect(pointCount(try instrumented("define void @h() {\n  ret void\n}", policy: .none).text) == 0)
    }

    /// A move request is served by the point right after it, under every policy.
    @Test func aMoveRequestIsFollowedByAPoint() throws {
        let body = """
        declare i32 @popcorn_migrate(i32)
        define internal i32 @request(i32 %x) {
          %r = call i32 @popcorn_migrate(i32 1)
          %y = add i32 %x, %r
          ret i32 %y
        }
        """
        for policy in MigrationPolicy.allCases {
            let text = try instrumented(body, policy: policy).text
            // none: only the request's point; otherwise the entry point as well (never point-free),
            // and under entry-exit and loops the exit point.
            #expect(pointCount(text) == [.none: 1, .entry: 2][policy, default: 3], "\(policy)")
            let call = try #require(text.range(of: "call i32 @popcorn_migrate(i32 1)"))
            let next = text[call.upperBound...].split(separator: "\n").first ?? ""
            #expect(next.contains("load volatile i32, ptr @__popcorn_migration_pending"), "\(policy): \(next)")
        }
    }

    /// A `musttail` call must stay right before its `ret`: the exit point goes before the call, and
    /// a `musttail` move request gets no point after it (its frame is gone by then).
    @Test func exitPointsGoBeforeMustTailCalls() throws {
        let text = try instrumented("""
        declare i32 @other(i32)
        declare i32 @popcorn_migrate(i32)
        define i32 @forward(i32 %x) {
          %y = add i32 %x, 1
          %r = musttail call i32 @other(i32 %y)
          ret i32 %r
        }
        define i32 @request(i32 %x) {
          %r = musttail call i32 @popcorn_migrate(i32 %x)
          ret i32 %r
        }
        """, policy: .entryExit).text
        // forward: entry, and exit before its call; request: its entry is its exit (one point).
        #expect(pointCount(text) == 3)
        #expect(text.contains("musttail call i32 @other(i32 %y)\n  ret i32 %r"))
        #expect(text.contains("musttail call i32 @popcorn_migrate(i32 %x)\n  ret i32 %r"))
    }

    @Test func loopsPolicyInstrumentsOnlyLoopsWithCallsOrBigBodies() throws {
        let module = try instrumented(Self.loops, policy: .loops)
        func body(of name: String) -> String {
            let text = module.text
            let start = text.range(of: "define ")!.lowerBound
            return text[start...].components(separatedBy: "\ndefine ").first { $0.contains("@\(name)(") } ?? ""
        }
        #expect(pointCount(body(of: "tight")) == 2, "entry and exit only: the tight loop stays fast")
        #expect(pointCount(body(of: "calling")) == 3, "entry, exit and the back edge of the loop with a call")
        // The loop header's phi now comes from the block holding the latch's branch.
        let calling = body(of: "calling")
        #expect(calling.contains("[ %next, %popcorn.mp.cont"))
        // Under entry-exit, `tight` (a call-free loop) is point-free and `calling` has entry and exit.
        #expect(pointCount(try instrumented(Self.loops, policy: .entryExit).text) == 2)
    }

    @Test func bigLoopBodiesGetAPointWithoutCalls() throws {
        let adds = (0..<MigrationPoints.loopBodyBudget).map { "  %v\($0) = add i64 %i, \($0)\n  store volatile i64 %v\($0), ptr %p" }
        let module = try instrumented("""
        define void @big(ptr %p, i64 %n) {
        entry:
          br label %loop
        loop:
          %i = phi i64 [ 0, %entry ], [ %next, %loop ]
        \(adds.joined(separator: "\n"))
          %next = add i64 %i, 1
          %done = icmp eq i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret void
        }
        """, policy: .loops)
        #expect(pointCount(module.text) == 3)
    }

    static let program = """
    #include <stdio.h>
    #include <popcorn.h>

    static volatile int eight = 8;

    static void (*volatile hook)(long);

    /// A loop the optimiser keeps (its bound is read on every iteration). `work` may call a hook
    /// (an indirect call: any function), so it is not point-free: it has points of its own.
    __attribute__((noinline)) static long work(long x) {
        if (hook) hook(x);
        long values[8];
        for (int i = 0; i < eight; i++) values[i] = x * i;
        double scale = x * 0.5;
        printf("work %ld\\n", x);
        long sum = 0;
        for (int i = 0; i < 8; i++) sum += values[i];
        return sum + (long)scale;
    }

    int main(void) {
        long total = 0;
        for (long i = 0; i < 10; i++) total += work(i);
        popcorn_migrate_point();
        printf("total %ld points %llu\\n", total, popcorn_migration_points_reached() > 0 ? 1ULL : 0ULL);
        return 0;
    }
    """

    /// The program behaves as before with points and stackmaps on both ISAs, and POPCORN_STATS
    /// counts every point: main's entry, 10 × (entry + exit of `work`), the explicit point and
    /// main's exit.
    @Test func programsRunOnBothISAsAndCountPoints() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-mig-test")
        let source = directory.file("points.c")
        try AtomicFile.write(Data(Self.program.utf8), to: source)
        let bitcode = directory.file("points.bc")
        try CProgramHarness.frontend(source, output: bitcode)
        let request = BackendRequest(bitcodePath: bitcode, sourcePath: source, optimization: .o2, output: .object,
                                     keepDebugInfo: false, migrationPolicy: .entryExit)
        let engine = DiagnosticsEngine(toolName: "popcorn-cc", sink: { _ in })
        var objects: [ISA: String] = [:]
        for (isa, data) in try Backend.run(request, diagnostics: engine) {
            objects[isa] = directory.file("points.\(isa).o")
            try AtomicFile.write(data, to: objects[isa]!)
        }
        for isa in ISA.allCases {
            let executable = directory.file("points.\(isa)")
            try CProgramHarness.link([try #require(objects[isa])] + MigrationTestSupport.runtimeObjects(for: isa, in: directory),
                                     isa: isa, output: executable)
            let plain = try CProgramHarness.run(executable, isa: isa)
            #expect(plain.succeeded, "\(isa): \(plain.stderrText)")
            let expected = (0..<10).map { "work \($0)\n" }.joined() + "total 1280 points 0\n"
            #expect(plain.stdoutText == expected, "\(isa) output: \(plain.stdoutText)")
            #expect(plain.stderrText.isEmpty)

            let counted = try MigrationTestSupport.run(executable, isa: isa, environment: ["POPCORN_STATS": "1"])
            #expect(counted.stdoutText.hasSuffix("total 1280 points 1\n"))
            #expect(counted.stderrText == "migration points: 23\nmigrations: 0\n", "\(isa): \(counted.stderrText)")
        }
    }
}
