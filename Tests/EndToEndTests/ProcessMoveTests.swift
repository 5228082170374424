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
    static func build(_ source: String) throws -> TemporaryDirectory {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("move")
        try Harness.mustSucceed("'\(cc)' -O2 '\(directory)/\(source)' -o prog", in: work.path)
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
}
