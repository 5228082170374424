import Foundation
import Testing
import PopcornSupport

/// Every requested hop happens, or the run says why (docs/PROCESS-MOVE.md, "Triggers"): a move
/// requested while a frame without metadata is on the stack (the native musl's qsort below a
/// comparator) waits, with one warning for the run, and `POPCORN_STATS=1` counts the hops that
/// never happened with the reason. (With the portable C library qsort has metadata and the move
/// happens inside the comparator: PortableLibcTests.)
@Suite(.serialized) struct DeferredMoveTests {
    @Test(arguments: ISA.allCases)
    func requestsInsideALibcCallbackWaitAndAreCounted(_ isa: ISA) throws {
        let work = try ProcessMoveTests.build("deferred.c", flags: "-O2 -fpopcorn-libc=native")
        let plain = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1", arguments: ""),
                                      in: work.path)
        #expect(plain.succeeded && plain.stdoutText.hasPrefix("sorted: 0 5012 10006\n"), "\(plain.stderrText)")
        #expect(!plain.stderrText.contains("deferred"))
        // Points 100 and 5000 are both comparator calls, inside qsort.
        let moved = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=100,5000",
                                                                  arguments: ""), in: work.path)
        #expect(moved.succeeded && moved.stdoutText == plain.stdoutText, "\(moved.stderrText)")
        let warnings = moved.stderrText.split(separator: "\n").filter { $0.hasPrefix("popcorn: warning: migration to") }
        #expect(warnings.count == 1 && warnings[0].contains("deferred: a frame without metadata is on the stack"),
                "\(moved.stderrText)")
        #expect(moved.stderrText.contains("migrations deferred: 1 (a frame without metadata is on the stack)\n"),
                "\(moved.stderrText)")
        #expect(Harness.stat("migrations", in: moved.stderrText) == 1, "\(moved.stderrText)")
    }
}
