import Foundation
import Testing
import PopcornSupport

/// Call-site IDs are stable at every optimization level: programs whose -O0 IR keeps dead code
/// behind constant branches (musl's classification macros) build, link, run alike on both ISAs
/// and migrate, at -O0, -O1, -O2, -O3, -Os and -Oz.
@Suite(.serialized) struct OptimizationLevelTests {
    /// classify.c: musl's classification macros (dead arms behind constant branches at -O0);
    /// tail_duplication.c: a call block the -O3 tail duplicator copied with its stackmap.
    @Test(arguments: ["-O0", "-O1", "-O2", "-O3", "-Os", "-Oz"], ["classify", "tail_duplication"])
    func programsLinkRunAndMigrateAtEveryLevel(_ level: String, _ program: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("optlevel")
        let built = try Harness.shell("'\(cc)' \(level) '\(Harness.root)/Tests/Inputs/optlevels/\(program).c' -o prog -lm 2>&1",
                                      in: work.path)
        #expect(built.succeeded, "\(level): \(built.stdoutText)")
        #expect(!built.stdoutText.contains("warning"), "\(level): \(built.stdoutText)")
        // The oracle: stock clang-19 and ld.lld-19 at the same level.
        try Harness.mustSucceed("\(Harness.plainCC(.host)) \(level) '\(Harness.root)/Tests/Inputs/optlevels/\(program).c' -o plain -lm",
                                in: work.path)
        let plain = try Harness.run("\(work.path)/plain", isa: .host, in: work.path)
        #expect(plain.succeeded && !plain.stdoutText.isEmpty, "\(plain.stdoutText)")
        for isa in ISA.allCases {
            let run = try Harness.run(isa.siblingPath(of: "\(work.path)/prog"), isa: isa, in: work.path)
            #expect(run.stdoutText == plain.stdoutText, "\(level) on \(isa)")
            let command = isa == .host ? "./prog" : "qemu-aarch64 ./prog.aarch64"
            let stats = try Harness.shell("POPCORN_STATS=1 \(command) 2>&1 >/dev/null", in: work.path).stdoutText
            let points = try #require(Harness.stat("migration points", in: stats), "\(level): \(stats)")
            // Two distinct points (counted from 1): a third and two thirds into the run; or main's
            // entry alone where the helpers were bounded enough to get no points of their own.
            let first = max(1, points / 3)
            let planned = points >= 2 ? [first, max(first + 1, points * 2 / 3)] : [1]
            let at = planned.map(String.init).joined(separator: ",")
            let moved = try Harness.shell("POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at) \(command) 2>err", in: work.path)
            let err = try String(contentsOfFile: "\(work.path)/err", encoding: .utf8)
            #expect(moved.stdoutText == plain.stdoutText, "\(level) moved from \(isa): \(err)")
            #expect(Harness.stat("migrations", in: err) == planned.count, "\(level) from \(isa): \(err)")
        }
    }

    /// Under -g the passes keep the debug information valid: phis they build at the top of a
    /// block come before the variable-location records there (the verifier otherwise printed
    /// "PHI Node must not have any attached DbgRecords" and dropped the information).
    @Test(arguments: ["-O0", "-O2"])
    func debugInformationSurvivesThePasses(_ level: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("debuginfo")
        let built = try Harness.shell("'\(cc)' -g \(level) -c '\(Harness.root)/Tests/Inputs/optlevels/classify.c' -o c.o 2>&1",
                                      in: work.path)
        #expect(built.succeeded && built.stdoutText.isEmpty, "\(built.stdoutText)")
        let dwarf = try Harness.mustSucceed("llvm-dwarfdump-19 --debug-info c.o", in: work.path).stdoutText
        #expect(dwarf.contains("DW_AT_name\t(\"kind\")") && dwarf.contains("DW_TAG_formal_parameter"))
    }
}
