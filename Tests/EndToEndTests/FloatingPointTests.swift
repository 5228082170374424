import Foundation
import Testing
import PopcornSupport

/// Floating point gives the same bits on both ISAs by default: no contraction is left to the per-ISA
/// back ends (`-ffp-contract=off` in the frontend; a user's `-ffp-contract=` opts in to
/// ISA-dependent results). Checked with `%a` output on both ISAs and in moved runs, at -O0, -O2
/// and -O3.
@Suite(.serialized) struct FloatingPointTests {
    @Test(arguments: ["-O0", "-O2", "-O3"])
    func expressionsThatInviteFusingGiveTheSameBitsEverywhere(_ level: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("fp")
        try Harness.mustSucceed("'\(cc)' \(level) '\(Harness.root)/Tests/Inputs/fp/contraction.c' -o prog", in: work.path)
        let host = try Harness.run("\(work.path)/prog", isa: .x86_64, in: work.path)
        #expect(host.succeeded && host.stdoutText.hasPrefix("0 0x1."), "\(host.stdoutText)")
        let guest = try Harness.run(ISA.aarch64.siblingPath(of: "\(work.path)/prog"), isa: .aarch64, in: work.path)
        #expect(guest.stdoutText == host.stdoutText, "\(level): the ISAs print different bits")
        for isa in ISA.allCases {
            let counted = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1", arguments: ""),
                                            in: work.path)
            let points = try #require(Harness.stat("migration points", in: counted.stderrText), "\(counted.stderrText)")
            let at = "\(points / 5),\(points / 2),\(points * 4 / 5)"
            let moved = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at)",
                                                                      arguments: ""), in: work.path)
            #expect(moved.stdoutText == host.stdoutText, "\(level) moved from \(isa): \(moved.stderrText)")
            #expect(Harness.stat("migrations", in: moved.stderrText) == 3, "\(moved.stderrText)")
        }
        // Asking for contraction is allowed; it is the user's choice of ISA-dependent results.
        try Harness.mustSucceed("'\(cc)' \(level) -ffp-contract=fast '\(Harness.root)/Tests/Inputs/fp/contraction.c' -o fused",
                                in: work.path)
    }
}
