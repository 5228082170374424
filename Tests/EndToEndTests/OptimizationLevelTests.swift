import Foundation
import Testing
import PopcornSupport

/// Migration works at every optimisation level, not only the default -O2: Examples/wordcount built
/// with -O0, -Os and -O3 keeps every call site in the metadata, survives the poisoned rewrite at
/// every migration point on both ISAs and migrates there and back.
@Suite(.serialized) struct OptimizationLevelTests {

    @Test(arguments: ["-O0", "-Os", "-O3"])
    func wordcountMigratesAt(_ level: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc"), ld = try Harness.popcornTool("popcorn-ld")
        let work = try Harness.scratch("level\(level)")
        try Harness.copy("\(Harness.root)/Examples/wordcount", to: work.path)
        let built = try Harness.mustSucceed(
            "make clean >/dev/null && make CC='\(cc)' LD='\(ld)' AR=llvm-ar-19 CFLAGS='\(level)' 2>&1", in: work.path)
        #expect(!built.stdoutText.contains("popcorn-ld: warning"), "\(built.stdoutText)")
        for isa in ISA.allCases {
            let binary = "./" + isa.siblingPath(of: "app")
            let run = try isa.emulator.map { "'\(try Harness.systemTool($0, package: "qemu-user"))' \(binary)" } ?? binary
            let plain = try Harness.shell("POPCORN_STATS=1 \(run) 300", in: work.path)
            #expect(plain.succeeded, "\(level) on \(isa): \(plain.stderrText)")
            let points = try #require(Harness.stat("migration points", in: plain.stderrText))
            let rewritten = try Harness.shell("POPCORN_STATS=1 POPCORN_REWRITE_AT=all \(run) 300", in: work.path)
            #expect(rewritten.succeeded && rewritten.stdoutText == plain.stdoutText, "\(level) on \(isa): \(rewritten.stderrText)")
            #expect((Harness.stat("rewrites", in: rewritten.stderrText) ?? 0) > points / 2)
            let moved = try Harness.shell(
                "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(points / 3),\(points * 2 / 3) \(run) 300", in: work.path)
            #expect(moved.succeeded && moved.stdoutText == plain.stdoutText, "\(level) from \(isa): \(moved.stderrText)")
            #expect(Harness.stat("migrations", in: moved.stderrText) == 2, "\(level) from \(isa): \(moved.stderrText)")
        }
    }
}
