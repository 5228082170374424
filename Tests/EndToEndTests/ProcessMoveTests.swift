import Foundation
import Testing
import PopcornSupport

/// The process move (docs/PROCESS-MOVE.md): checkpoint, exec of the sibling binary and restore.
/// Programs in Tests/Inputs/migration/move_*.c print the same stdout whether they moved or not;
/// each is run unmoved (MOVE=0) and moved on every ISA (aarch64 under qemu-user), and the outputs
/// must be identical. The runtime's move counter, carried across the exec with the memory, is
/// printed to stderr so a run that silently did not move cannot pass.
@Suite(.serialized) struct ProcessMoveTests {
    static let directory = "\(Harness.root)/Tests/Inputs/migration"

    /// Builds `source` with popcorn-cc in a fresh directory; returns the directory (kept alive by
    /// the returned TemporaryDirectory).
    static func build(_ source: String, flags: String = "-O2") throws -> TemporaryDirectory {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("move")
        try Harness.mustSucceed("'\(cc)' \(flags) '\(directory)/\(source)' -o prog", in: work.path)
        return work
    }

    /// The command that runs the program on `isa` with the given environment assignments.
    static func command(isa: ISA, environment: String, arguments: String) throws -> String {
        let binary = "./" + isa.siblingPath(of: "prog")
        if let emulator = isa.emulator {
            let qemu = try Harness.systemTool(emulator, package: "qemu-user")
            return "\(environment) '\(qemu)' \(binary) \(arguments)"
        }
        return "\(environment) \(binary) \(arguments)"
    }

    @Test(arguments: ISA.allCases)
    func sameISAMoveKeepsEveryKindOfState(_ isa: ISA) throws {
        let work = try Self.build("move_state.c")
        let plain = try Harness.shell(try Self.command(isa: isa, environment: "MOVE=0", arguments: "first-argument"),
                                      in: work.path)
        #expect(plain.succeeded, "unmoved run failed on \(isa): \(plain.stderrText)")
        #expect(plain.stderrText == "moves: 0\n")
        #expect(plain.stdoutText.contains("before the move: argc=2 counter=12 after\n"))
        #expect(plain.stdoutText.contains("FD_CLOEXEC kept"))

        // Several runs: each exec lands the new process at other random addresses (ASLR), so the
        // restore meets different collisions (its own stack, the vDSO, the brk area).
        for _ in 0..<3 {
            let moved = try Harness.shell(try Self.command(isa: isa, environment: "", arguments: "first-argument"),
                                          in: work.path)
            #expect(moved.succeeded, "moved run failed on \(isa) (\(moved.status)): \(moved.stderrText)")
            #expect(moved.stderrText == "moves: 1\n", "the process did not move on \(isa): \(moved.stderrText)")
            #expect(moved.stdoutText == plain.stdoutText,
                    "moved output differs on \(isa):\n--- moved\n\(moved.stdoutText)\n--- unmoved\n\(plain.stdoutText)")
        }
    }

    @Test func bufferedPartialLineIsWrittenOnceAndPidIsKept() throws {
        // stdout to a pipe is fully buffered, so the partial line printed before the move is in
        // the FILE buffer at the exec: it must come out exactly once (not lost, not duplicated).
        let work = try Self.build("move_state.c")
        let moved = try Harness.shell(try Self.command(isa: .host, environment: "", arguments: "x"), in: work.path)
        #expect(moved.succeeded)
        let occurrences = moved.stdoutText.components(separatedBy: "before the move").count - 1
        #expect(occurrences == 1, "the buffered partial line was written \(occurrences) times")
        #expect(moved.stdoutText.contains("same pid: yes"))
    }

    /// Runs pingpong.c on `isa` with `POPCORN_STATS=1` and the given `POPCORN_MIGRATE_AT` (empty:
    /// no move); returns stdout and stderr.
    static func pingpong(_ work: TemporaryDirectory, isa: ISA, migrateAt: String) throws -> ProcessResult {
        let environment = "POPCORN_STATS=1" + (migrateAt.isEmpty ? "" : " POPCORN_MIGRATE_AT=\(migrateAt)")
        return try Harness.shell(try command(isa: isa, environment: environment, arguments: ""), in: work.path)
    }

    /// Moves between ISAs at migration points in the middle of a recursion: one hop from each
    /// ISA, and there-and-back chains from each.  stdout (globals, heap lists built and freed
    /// across the moves, thread-locals whose addresses frames hold, a partial line buffered at
    /// every move, an O_CLOEXEC descriptor, clock_gettime, allocations after the moves) must be
    /// the unmoved run's, and the move counter carried through every exec must say how many
    /// hops happened.
    @Test(arguments: [(ISA.x86_64, "50"), (.aarch64, "50"), (.x86_64, "50,900"), (.aarch64, "100,1000"),
                      (.x86_64, "1,2")])
    func crossISAMoveKeepsTheRun(_ isa: ISA, _ migrateAt: String) throws {
        let work = try Self.build("pingpong.c")
        let plain = try Self.pingpong(work, isa: isa, migrateAt: "")
        #expect(plain.succeeded, "unmoved run failed on \(isa): \(plain.stderrText)")
        #expect(plain.stderrText.hasSuffix("migrations: 0\n"))
        #expect(plain.stdoutText.hasPrefix("round: 0 1 2\n"))
        #expect(plain.stdoutText.contains("tls 65385 tls-set\n"))
        #expect(plain.stdoutText.contains("cloexec fd: open yes, FD_CLOEXEC kept\n"))
        let hops = migrateAt.split(separator: ",").count
        // Several runs: ASLR places both processes differently each time.
        for _ in 0..<3 {
            let moved = try Self.pingpong(work, isa: isa, migrateAt: migrateAt)
            #expect(moved.succeeded, "run moved at \(migrateAt) from \(isa) failed (\(moved.status)): \(moved.stderrText)")
            #expect(moved.stderrText.hasSuffix("migrations: \(hops)\n"),
                    "expected \(hops) moves from \(isa) at \(migrateAt): \(moved.stderrText)")
            #expect(moved.stdoutText == plain.stdoutText,
                    "output moved at \(migrateAt) from \(isa) differs:\n--- moved\n\(moved.stdoutText)\n--- unmoved\n\(plain.stdoutText)")
            // stdout is a pipe (fully buffered): the first line was in the buffer at the moves.
            #expect(moved.stdoutText.components(separatedBy: "round:").count == 2)
        }
    }

    /// Chains of four hops (the qemu-user case used to crash: guest pages qemu left out of the
    /// guest's /proc/self/maps were not carried), several runs from each ISA.
    @Test(arguments: ISA.allCases)
    func fourHopChainsKeepTheRun(_ isa: ISA) throws {
        let work = try Self.build("pingpong.c")
        let plain = try Self.pingpong(work, isa: isa, migrateAt: "")
        #expect(plain.succeeded, "unmoved run failed on \(isa): \(plain.stderrText)")
        for run in 0..<6 {
            let moved = try Self.pingpong(work, isa: isa, migrateAt: "300,700,1200,1500")
            #expect(moved.succeeded, "4-hop run \(run) from \(isa) failed (\(moved.status)): \(moved.stderrText)")
            #expect(moved.stderrText.hasSuffix("migrations: 4\n"), "run \(run) from \(isa): \(moved.stderrText)")
            #expect(moved.stdoutText == plain.stdoutText, "4-hop run \(run) from \(isa) printed other output")
        }
    }

    /// The `migration:` statistics line of POPCORN_STATS: checkpoint, restore, total, exec and
    /// start-up (microseconds), saved and mapped KiB.
    static func moveStatistics(_ stderr: String) -> [Int]? {
        for line in stderr.split(separator: "\n") where line.hasPrefix("migration: ") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            return numbers.count == 6 ? numbers : nil
        }
        return nil
    }

    /// Only pages holding data are written: a hop of pingpong.c saves a small fraction of the
    /// mapped memory (the stack pool and large reservations are untouched), and the statistics
    /// line parses with a total equal to checkpoint plus restore.
    @Test(arguments: ISA.allCases)
    func checkpointSkipsZeroPages(_ isa: ISA) throws {
        let work = try Self.build("pingpong.c")
        let moved = try Self.pingpong(work, isa: isa, migrateAt: "300")
        #expect(moved.succeeded, "\(moved.stderrText)")
        let stats = try #require(Self.moveStatistics(moved.stderrText), "no migration line: \(moved.stderrText)")
        #expect(abs(stats[2] - (stats[0] + stats[1])) <= 1, "total is not checkpoint + restore: \(stats)")
        #expect(stats[4] > 0 && stats[4] * 16 < stats[5], "saved \(stats[4]) of \(stats[5]) KiB")
    }

    /// The heap survives a move byte for byte without being copied: the benchmark program checks
    /// its 64 MiB heap after a same-ISA move and after a move to the other ISA, and the checkpoint
    /// holds well under a MiB however much of the heap was written (the heap file is handed over,
    /// docs/LIBC.md).
    @Test(arguments: [("64", "64"), ("64", "1")])
    func heapContentsSurviveTheMove(_ heap: String, _ written: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("move-heap")
        try Harness.mustSucceed("'\(cc)' -O2 '\(Harness.root)/Tests/Inputs/bench/heap_move.c' -o prog", in: work.path)
        for (isa, environment) in [(ISA.host, "POPCORN_MIGRATE_SAME_ISA=1"), (.host, "")] {
            let run = try Harness.shell(try Self.command(isa: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=2 \(environment)",
                                                         arguments: "\(heap) \(written)"), in: work.path)
            #expect(run.succeeded, "\(environment): \(run.stderrText)")
            #expect(run.stdoutText == "heap \(heap) MiB, \(written) MiB written: intact\n")
            #expect(run.stderrText.hasSuffix("migrations: 1\n"), "\(run.stderrText)")
            let stats = try #require(Self.moveStatistics(run.stderrText), "\(run.stderrText)")
            #expect(stats[4] < 1024, "saved \(stats[4]) KiB for \(written) MiB written")
        }
    }

    /// A missing destination: exactly one warning, however many moves were asked for, and the
    /// run finishes on its own ISA with the unmoved output.
    static func expectOneWarningAndSameOutput(_ run: ProcessResult, _ plain: ProcessResult, _ what: String) {
        #expect(run.succeeded, "\(what): \(run.stderrText)")
        let warnings = run.stderrText.split(separator: "\n").filter { $0.hasPrefix("popcorn: warning: cannot migrate") }
        #expect(warnings.count == 1, "\(what): \(run.stderrText)")
        #expect(run.stderrText.hasSuffix("migrations: 0\n"), "\(what): \(run.stderrText)")
        #expect(run.stdoutText == plain.stdoutText, "\(what): output differs")
    }

    @Test(arguments: ISA.allCases)
    func missingSiblingBinaryWarnsOnceAndContinues(_ isa: ISA) throws {
        let work = try Self.build("pingpong.c")
        let plain = try Self.pingpong(work, isa: isa, migrateAt: "")
        let binary = isa.siblingPath(of: "prog")
        try Harness.mustSucceed("mkdir alone && cp '\(binary)' alone/", in: work.path)
        let command = try Self.command(isa: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=50,400,900",
                                       arguments: "").replacingOccurrences(of: "./\(binary)", with: "./alone/\(binary)")
        let run = try Harness.shell(command, in: work.path)
        Self.expectOneWarningAndSameOutput(run, plain, "no sibling of \(binary)")
        let missing = isa == .x86_64 ? "alone/prog.aarch64" : "alone/prog.x86_64"
        #expect(run.stderrText.contains("\(missing) does not exist"), "\(run.stderrText)")
    }

    /// Without address randomisation (`setarch -R`, as under a debugger) the exec'd image's own
    /// stack and the emulator's memory land exactly where the process's own are, which the
    /// restore must get back: every restart met the same collision and the move failed after the
    /// point of no return. The exec now runs randomised and the restore turns it off again.
    @Test(arguments: ISA.allCases)
    func movesWorkWithoutAddressRandomisation(_ isa: ISA) throws {
        let work = try Self.build("pingpong.c")
        let setarch = try Harness.systemTool("setarch", package: "util-linux")
        let unmoved = try Harness.shell("'\(setarch)' -R env \(try Self.command(isa: isa, environment: "", arguments: ""))",
                                        in: work.path)
        #expect(unmoved.succeeded && unmoved.stdoutText.hasSuffix("address randomisation: off\n"), "\(unmoved.stdoutText)")
        for plan in ["50", "50,900"] {
            let moved = try Harness.shell(
                "'\(setarch)' -R env \(try Self.command(isa: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(plan)", arguments: ""))",
                in: work.path)
            #expect(moved.succeeded && moved.stdoutText == unmoved.stdoutText, "from \(isa) at \(plan): \(moved.stderrText)")
            #expect(Harness.stat("migrations", in: moved.stderrText) == plan.split(separator: ",").count,
                    "from \(isa) at \(plan): \(moved.stderrText)")
        }
    }

    @Test func missingQemuWarnsOnceAndContinues() throws {
        let work = try Self.build("pingpong.c")
        let plain = try Self.pingpong(work, isa: .x86_64, migrateAt: "")
        for (environment, reason) in [("POPCORN_QEMU_AARCH64=/nonexistent/qemu-aarch64", "/nonexistent/qemu-aarch64 POPCORN_QEMU_AARCH64 does not name an executable file"),
                                      ("PATH=/nonexistent", "qemu-aarch64 not found")] {
            let run = try Harness.shell("\(environment) POPCORN_STATS=1 POPCORN_MIGRATE_AT=50,400,900 ./prog", in: work.path)
            Self.expectOneWarningAndSameOutput(run, plain, environment)
            #expect(run.stderrText.contains(reason), "\(environment): \(run.stderrText)")
        }
    }
}
