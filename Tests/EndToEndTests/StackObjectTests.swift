import Foundation
import Testing
import PopcornSupport

/// Stack objects at one address on every ISA (docs/STACK-TRANSFORM.md, "The object stack"):
/// pointers to locals kept in the heap, a global, a thread-local and another local, and
/// variable-length arrays and alloca() areas live across calls, survive a move at every migration
/// point from both ISAs and a poisoned rewrite at every point, with the output of a plain build.
@Suite(.serialized) struct StackObjectTests {
    @Test func pointersToStackObjectsSurviveEveryMove() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("stack-objects")
        let source = "\(ProcessMoveTests.directory)/stack_objects.c"
        let built = try Harness.shell("'\(cc)' -O2 '\(source)' -o prog 2>&1", in: work.path)
        #expect(built.succeeded && built.stdoutText.isEmpty, "\(built.stdoutText)")
        try Harness.mustSucceed("\(Harness.plainCC(.host)) -O2 '\(source)' -o plain", in: work.path)
        let reference = try Harness.mustSucceed("./plain", in: work.path).stdoutText
        #expect(reference.hasPrefix("total "))

        for isa in ISA.allCases {
            let counted = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1", arguments: ""),
                                            in: work.path)
            #expect(counted.stdoutText == reference, "\(isa): \(counted.stderrText)")
            let points = try #require(Harness.stat("migration points", in: counted.stderrText), "\(counted.stderrText)")
            // The recursion with dynamic allocations has one at every call's entry.
            #expect(points > 40, "the recursion with dynamic allocations must have migration points")

            // A move at every point: a chain of hops, one at each point, from this ISA.
            let every = (1..<points).map(String.init).joined(separator: ",")
            let moved = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(every)",
                                                                      arguments: ""), in: work.path)
            #expect(moved.succeeded && moved.stdoutText == reference, "hops from \(isa): \(moved.stderrText)")
            #expect(Harness.stat("migrations", in: moved.stderrText) == points - 1, "hops from \(isa): \(moved.stderrText)")

            // The stack rewritten at every point, every frame left behind overwritten with poison.
            let rewritten = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1 POPCORN_REWRITE_AT=all",
                                                                          arguments: ""), in: work.path)
            #expect(rewritten.succeeded && rewritten.stdoutText == reference, "rewrites on \(isa): \(rewritten.stderrText)")
            #expect(Harness.stat("rewrites", in: rewritten.stderrText) == points, "rewrites on \(isa): \(rewritten.stderrText)")
        }
    }
}
