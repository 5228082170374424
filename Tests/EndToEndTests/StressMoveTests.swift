import Foundation
import Testing
import PopcornSupport

/// Long chains of moves and moves requested by a signal storm (docs/PROCESS-MOVE.md, "Long
/// chains and signal storms").  Every run must finish with the unmoved run's output and the
/// number of moves the chain asked for.
@Suite(.serialized) struct StressMoveTests {
    /// 200 migration points spread over pingpong.c's run (it reaches 1754): every 8th from the 5th.
    static let chainPoints = stride(from: 5, through: 1597, by: 8).map(String.init).joined(separator: ",")

    /// 200-hop chains from each ISA, ten runs each: the set of carried mappings must not grow
    /// from hop to hop (dead initial stacks and pre-restore brk memory are left out), and the
    /// restore must never overwrite the destination's (or qemu-user's) own memory.
    @Test(arguments: ISA.allCases)
    func twoHundredHopChainsKeepTheRun(_ isa: ISA) throws {
        #expect(Self.chainPoints.split(separator: ",").count == 200)
        let work = try ProcessMoveTests.build("pingpong.c")
        let plain = try ProcessMoveTests.pingpong(work, isa: isa, migrateAt: "")
        #expect(plain.succeeded, "unmoved run failed on \(isa): \(plain.stderrText)")
        var clean = 0
        for run in 0..<10 {
            let moved = try ProcessMoveTests.pingpong(work, isa: isa, migrateAt: Self.chainPoints)
            let ok = moved.succeeded && moved.stderrText.hasSuffix("migrations: 200\n") && moved.stdoutText == plain.stdoutText
            #expect(ok, "200-hop run \(run) from \(isa) (\(moved.status)): \(moved.stderrText.suffix(600))")
            if ok { clean += 1 }
            // The mapped size of the last hop stays that of the first hops (~170 MiB): it grew by
            // 8 MiB every other hop when every initial stack was carried with room to grow.
            if let stats = ProcessMoveTests.moveStatistics(moved.stderrText) {
                #expect(stats[5] < 256 << 10, "run \(run) from \(isa) mapped \(stats[5]) KiB at its last hop")
            }
        }
        #expect(clean == 10, "\(clean) of 10 200-hop runs from \(isa) were clean")
    }

    /// The runner: starts the program with POPCORN_MIGRATE_SIGNAL=1, waits until main has started
    /// (before that SIGUSR2 has its default action), then sends SIGUSR2 every millisecond until the
    /// process is gone; prints the exit status.  bash: it reaps the child as soon as it exits,
    /// which ends the kill loop.
    static let storm = """
        rm -f out err; : > err
        POPCORN_MIGRATE_SIGNAL=1 POPCORN_STATS=1 "$@" > out 2>> err &
        pid=$!
        until grep -q started err; do sleep 0.001; done
        while kill -USR2 $pid 2>/dev/null; do sleep 0.001; done
        wait $pid
        echo "status $?"
        """

    /// SIGUSR2 every millisecond for a whole run of signal_storm.c: requests arrive between the
    /// request and the checkpoint, during the checkpoint, the exec and the restore; the process
    /// moves hundreds of times, every run from each ISA must be clean.
    @Test(arguments: ISA.allCases)
    func signalEveryMillisecondKeepsTheRun(_ isa: ISA) throws {
        let work = try ProcessMoveTests.build("signal_storm.c")
        try Self.storm.write(toFile: "\(work.path)/storm.sh", atomically: true, encoding: .utf8)
        let plain = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "", arguments: ""), in: work.path)
        #expect(plain.succeeded && plain.stdoutText.hasPrefix("rounds 120:"), "\(plain.stderrText)")
        let program = try ProcessMoveTests.command(isa: isa, environment: "", arguments: "")
        var clean = 0
        for run in 0..<5 {
            let result = try Harness.shell("bash storm.sh \(program)", in: work.path)
            let stdout = try String(contentsOfFile: "\(work.path)/out", encoding: .utf8)
            let stderr = try String(contentsOfFile: "\(work.path)/err", encoding: .utf8)
            let moves = stderr.split(separator: "\n").last.flatMap { Int($0.dropFirst("migrations: ".count)) } ?? 0
            let ok = result.stdoutText == "status 0\n" && stdout == plain.stdoutText && moves >= 10
            #expect(ok, "storm run \(run) from \(isa): \(result.stdoutText) moves \(moves)\n\(stderr.suffix(600))")
            if ok { clean += 1 }
        }
        #expect(clean == 5, "\(clean) of 5 storm runs from \(isa) were clean")
    }
}
