import Foundation
import Testing
import PopcornSupport

/// Migration requests made through <popcorn.h> (Tests/Inputs/triggers/requests.c): a request is
/// served once, at the next point where the stack can move, and a request for the ISA the process
/// is already on does nothing. Output must equal the run that makes no request (NO_REQUEST=1).
@Suite(.serialized) struct MigrationTriggerTests {

    static func command(_ isa: ISA, _ arguments: String, environment: String = "") throws -> String {
        let binary = "./" + isa.siblingPath(of: "requests")
        if let emulator = isa.emulator {
            let qemu = try Harness.systemTool(emulator, package: "qemu-user")
            return "\(environment) POPCORN_STATS=1 '\(qemu)' \(binary) \(arguments)"
        }
        return "\(environment) POPCORN_STATS=1 \(binary) \(arguments)"
    }

    @Test(arguments: ["api", "sort"])
    func requestIsServedOnceFromEitherISA(_ mode: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("requests-\(mode)")
        try Harness.mustSucceed("'\(cc)' -O2 '\(Harness.root)/Tests/Inputs/triggers/requests.c' -o requests",
                                in: work.path)
        for start in ISA.allCases {
            let reference = try Harness.shell(try Self.command(start, mode, environment: "NO_REQUEST=1"), in: work.path)
            #expect(reference.succeeded, "\(mode) on \(start) without a request: \(reference.stderrText)")
            #expect(Harness.stat("migrations", in: reference.stderrText) == 0)
            let other = ISA.allCases.first { $0 != start }!
            let run = try Harness.shell(try Self.command(start, mode), in: work.path)
            #expect(run.succeeded, "\(mode) from \(start): \(run.stderrText)")
            #expect(Harness.stat("migrations", in: run.stderrText) == 1, "\(mode) from \(start): \(run.stderrText)")
            #expect(run.stderrText.contains("started on \(start.rawValue), finished on \(other.rawValue)"),
                    "\(mode) from \(start): \(run.stderrText)")
            #expect(run.stdoutText == reference.stdoutText && run.stdoutText.hasPrefix("\(mode) "), "\(mode) from \(start)")
        }
    }

    /// POPCORN_MIGRATE_AT lands while a second thread runs: one warning, and the move happens once
    /// the process is single-threaded again (after the join), from either ISA.
    @Test func requestWaitsWhileOtherThreadsRun() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("threads")
        try Harness.mustSucceed("'\(cc)' -O2 '\(Harness.root)/Tests/Inputs/triggers/threads.c' -o requests -lpthread",
                                in: work.path)
        for start in ISA.allCases {
            let other = ISA.allCases.first { $0 != start }!
            let reference = try Harness.shell(try Self.command(start, ""), in: work.path)
            #expect(reference.succeeded && Harness.stat("migrations", in: reference.stderrText) == 0)
            let run = try Harness.shell(try Self.command(start, "", environment: "POPCORN_MIGRATE_AT=50"), in: work.path)
            #expect(run.succeeded, "from \(start): \(run.stderrText)")
            #expect(run.stdoutText == reference.stdoutText)
            #expect(Harness.stat("migrations", in: run.stderrText) == 1, "from \(start): \(run.stderrText)")
            #expect(run.stderrText.contains("started on \(start.rawValue), finished on \(other.rawValue)"))
            let warnings = run.stderrText.components(separatedBy: "only single-threaded processes move").count - 1
            #expect(warnings == 1, "from \(start): \(run.stderrText)")
        }
    }
}
