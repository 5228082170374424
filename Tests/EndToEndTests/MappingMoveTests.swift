import Foundation
import Testing
import PopcornSupport

/// Every mapping a moving process has is carried (docs/PROCESS-MOVE.md, "What is carried"): files
/// mapped private or shared, read-only or writable, musl's mapping of the time zone file behind
/// localtime(), and MAP_SHARED anonymous memory; memory another process shares cannot move, and
/// the move is refused with one warning.  Each program is run unmoved and moved at many points
/// from both ISAs (aarch64 under qemu-user); stdout must be the unmoved run's, and the move
/// counter carried through the exec says the moves happened.
@Suite(.serialized) struct MappingMoveTests {
    /// Migration points spread over mapped_files.c's run (it reaches about 800): before the files
    /// are mapped, in every round, and chains of hops.
    static let mappedFilePoints = ["2", "60", "150", "300", "450", "600", "760", "40,200,420,640", "100,101,350,351,700"]

    static func run(_ work: TemporaryDirectory, isa: ISA, environment: String) throws -> ProcessResult {
        try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1 \(environment)",
                                                       arguments: ""), in: work.path)
    }

    static func hops(_ points: String) -> Int { points.split(separator: ",").count }

    @Test(arguments: ISA.allCases)
    func mappedFilesAndLocaltimeSurviveMoves(_ isa: ISA) throws {
        let work = try ProcessMoveTests.build("mapped_files.c")
        for zone in ["TZ=Europe/Berlin", ""] {
            let plain = try Self.run(work, isa: isa, environment: zone)
            #expect(plain.succeeded, "unmoved run failed on \(isa): \(plain.stderrText)")
            #expect(plain.stderrText.hasSuffix("migrations: 0\n"))
            let stdout = plain.stdoutText
            if zone.isEmpty {
                #expect(stdout.hasPrefix("localtime before: 2023-11-14 22:13:20 UTC\n"), "\(stdout)")
            } else {
                #expect(stdout.hasPrefix("localtime before: 2023-11-14 23:13:20 CET\n"), "\(stdout)")
                #expect(stdout.contains("localtime: 2024-05-13 00:13:20 CEST\n"), "\(stdout)")
            }
            // Writes to the file show through both shared mappings, not the private ones; the
            // private writable copy keeps its own write; protections as mapped.
            #expect(stdout.contains("round 5: file has f, mapping sees F F; private P@; anonymous 90 5 99\n"), "\(stdout)")
            #expect(stdout.contains("  protections r--p rw-p r--s rw-s rw-s r--s\n"), "\(stdout)")
            #expect(stdout.contains(", S=S\n"), "\(stdout)")
            // Without a time zone setting only the default run is moved at a few points: the
            // mapping of /etc/localtime is what matters there.
            let points = zone.isEmpty ? ["60", "300,600"] : Self.mappedFilePoints
            for at in points {
                let moved = try Self.run(work, isa: isa, environment: "\(zone) POPCORN_MIGRATE_AT=\(at)")
                #expect(moved.succeeded, "moved at \(at) from \(isa) (\(zone)) failed (\(moved.status)): \(moved.stderrText)")
                #expect(moved.stderrText.hasSuffix("migrations: \(Self.hops(at))\n"),
                        "moved at \(at) from \(isa): \(moved.stderrText)")
                #expect(moved.stdoutText == stdout,
                        "moved at \(at) from \(isa) (\(zone)):\n--- moved\n\(moved.stdoutText)\n--- unmoved\n\(stdout)")
            }
        }
    }

    /// Memory a forked child shares: every move while the child runs is refused before the exec,
    /// with exactly one warning, and the child and the parent still see each other's writes.
    /// Before the fork and after the child ended the memory is the process's alone and moves.
    @Test(arguments: ISA.allCases)
    func memorySharedWithAChildIsRefusedOnce(_ isa: ISA) throws {
        let work = try ProcessMoveTests.build("shared_fork.c")
        let expected = "child: exit 0, wrote 100 7, answered 1015\n"
        for at in ["", "3", "40,80,120,160,200", "5,190"] {
            let run = try Self.run(work, isa: isa, environment: at.isEmpty ? "" : "POPCORN_MIGRATE_AT=\(at)")
            #expect(run.succeeded, "run at '\(at)' from \(isa) failed (\(run.status)): \(run.stderrText)")
            #expect(run.stdoutText.hasPrefix(expected), "run at '\(at)' from \(isa): \(run.stdoutText)")
            #expect(run.stdoutText.hasSuffix("shared 1 100 1015 15 90, total 9456451\n"),
                    "run at '\(at)' from \(isa): \(run.stdoutText)")
            let warnings = run.stderrText.split(separator: "\n").filter { $0.hasPrefix("popcorn: warning:") }
            #expect(warnings.count == 1, "run at '\(at)' from \(isa): \(run.stderrText)")
            #expect(warnings.first?.contains("MAP_SHARED anonymous memory is shared with another process") == true,
                    "run at '\(at)' from \(isa): \(run.stderrText)")
            #expect(!run.stderrText.contains("error"), "\(run.stderrText)")
        }
        // A move before the fork carries the memory as shared memory: the child still shares it.
        let early = try Self.run(work, isa: isa, environment: "POPCORN_MIGRATE_AT=3")
        #expect(early.stderrText.contains("migrations: "), "\(early.stderrText)")
        #expect(!early.stderrText.hasSuffix("migrations: 0\n"), "the move before the fork did not happen: \(early.stderrText)")
    }
}
