import Foundation
import Testing
import PopcornSupport

/// A move never loses the process and cannot be hijacked (docs/PROCESS-MOVE.md, "Which binary a
/// move runs", "Secure execution", "The point of no return"): a sibling that is not the other half
/// of the same link, or not trustworthy, or an emulator that cannot run it, gives one warning and
/// the unmoved run's output; a setuid copy run by an unprivileged user with hostile variables
/// runs no foreign code and reads no foreign checkpoint.
@Suite(.serialized) struct MoveTrustTests {
    typealias Move = ProcessMoveTests

    /// pingpong.c linked into `prog`/`prog.aarch64`, again from changed code (another optimisation
    /// level) into `other/` for stale siblings, and another program into `foreign/`.
    static func buildWithStaleCopy() throws -> TemporaryDirectory {
        let work = try Move.build("pingpong.c")
        let cc = try Harness.popcornTool("popcorn-cc")
        try Harness.mustSucceed("""
            mkdir other foreign && '\(cc)' -O1 '\(Move.directory)/pingpong.c' -o other/prog &&
            '\(cc)' -O2 '\(Move.directory)/recursion.c' -o foreign/prog
            """, in: work.path)
        return work
    }

    static func movedRun(_ work: TemporaryDirectory, isa: ISA, environment: String = "") throws -> ProcessResult {
        try Harness.shell(try Move.command(isa: isa, environment: "\(environment) POPCORN_STATS=1 POPCORN_MIGRATE_AT=50,400,900",
                                           arguments: ""), in: work.path)
    }

    /// Each way a sibling can be wrong, from each ISA: the file to spoil is the other ISA's binary.
    @Test(arguments: ISA.allCases)
    func untrustworthySiblingsAreRefused(_ isa: ISA) throws {
        let work = try Self.buildWithStaleCopy()
        let plain = try Move.pingpong(work, isa: isa, migrateAt: "")
        #expect(plain.succeeded)
        let sibling = isa == .x86_64 ? "prog.aarch64" : "prog"
        let cases: [(label: String, spoil: String, reason: String)] = [
            ("stale", "cp other/\(sibling) \(sibling)", "comes from another link"),
            ("foreign", "cp foreign/\(sibling) \(sibling)", "comes from another link"),
            ("truncated", "truncate -s $(( $(stat -c %s \(sibling)) * 6 / 10 )) \(sibling)", "truncated"),
            ("not executable", "chmod 0644 \(sibling)", "is not executable"),
            ("world-writable", "chmod 0757 \(sibling)", "is writable by others"),
            ("other owner", "chown nobody \(sibling)", "belongs to another user"),
        ]
        let pristine = "pristine-\(sibling)"
        try Harness.mustSucceed("cp -p \(sibling) \(pristine)", in: work.path)
        for item in cases {
            try Harness.mustSucceed("rm -f \(sibling) && cp -p \(pristine) \(sibling) && { \(item.spoil); }", in: work.path)
            let run = try Self.movedRun(work, isa: isa)
            Move.expectOneWarningAndSameOutput(run, plain, "\(item.label) sibling from \(isa)")
            #expect(run.stderrText.contains(item.reason), "\(item.label) from \(isa): \(run.stderrText)")
        }
    }

    /// Moving from aarch64, an unrelated `prog.x86_64` beside `prog` is passed over: the sibling of
    /// the same link is `prog`, and the move happens.
    @Test func unrelatedBinaryWithTheISANameIsPassedOver() throws {
        let work = try Self.buildWithStaleCopy()
        try Harness.mustSucceed("cp other/prog prog.x86_64", in: work.path)
        let plain = try Move.pingpong(work, isa: .aarch64, migrateAt: "")
        let run = try Self.movedRun(work, isa: .aarch64)
        #expect(run.succeeded, "\(run.stderrText)")
        #expect(!run.stderrText.contains("popcorn: warning"), "\(run.stderrText)")
        #expect(run.stderrText.hasSuffix("migrations: 3\n"), "\(run.stderrText)")
        #expect(run.stdoutText == plain.stdoutText)
    }

    /// An emulator that cannot run the sibling is found out before the point of no return: one
    /// warning, and the process goes on (it was lost, exit 1 with no message, before the probe).
    @Test func failingEmulatorIsFoundBeforeTheExec() throws {
        let work = try Move.build("pingpong.c")
        let plain = try Move.pingpong(work, isa: .x86_64, migrateAt: "")
        for emulator in ["/bin/false", "/bin/true", "/bin/echo"] {
            let run = try Self.movedRun(work, isa: .x86_64, environment: "POPCORN_QEMU_AARCH64=\(emulator)")
            Move.expectOneWarningAndSameOutput(run, plain, "emulator \(emulator)")
            #expect(run.stderrText.contains("\(emulator) the emulator does not run the sibling"), "\(run.stderrText)")
        }
    }

    /// A restore that fails after the exec says what was lost and exits 127, never silently: the
    /// destination is handed a checkpoint of another link (a stale sibling replaced between the
    /// check and the exec is the real-world case; here the checkpoint variable names one).
    @Test func failureAfterTheExecExitsWith127AndSaysSo() throws {
        let work = try Move.build("pingpong.c")
        let run = try Harness.shell("exec 3<prog; POPCORN_CHECKPOINT_FD=3 ./prog", in: work.path)
        #expect(run.status == 127, "\(run.status): \(run.stderrText)")
        #expect(run.stderrText.contains("popcorn: error: cannot resume the migrated process"), "\(run.stderrText)")
        #expect(run.stderrText.contains("state from before the move is lost"), "\(run.stderrText)")
    }

    /// The setuid scenario: a setuid-root copy run as `nobody` with hostile variables. The
    /// attacker's emulator (named by POPCORN_QEMU_AARCH64 and first on PATH) must not run, the
    /// descriptor named by POPCORN_CHECKPOINT_FD must not be read as a checkpoint, POPCORN_STATS
    /// and POPCORN_MIGRATE_AT must do nothing; the program's own request to move still works,
    /// through the trusted emulator, and keeps its privileges.
    @Test func setuidCopyIgnoresTheCallersVariables() throws {
        try #require(getuid() == 0, "the setuid scenario needs to run as root (CI does)")
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("setuid")
        try Harness.mustSucceed("chmod 0755 . && '\(cc)' -O2 '\(ProcessMoveTests.directory)/secure_move.c' -o prog", in: work.path)
        let plain = try Harness.shell("./prog", in: work.path)
        #expect(plain.succeeded)
        #expect(plain.stderrText == "finished on aarch64 as euid 0\n", "\(plain.stderrText)")
        let marker = "\(work.path)/attacker-code-ran"
        try Harness.mustSucceed("""
            chown root:root prog prog.aarch64 && chmod 4755 prog prog.aarch64 &&
            mkdir -m 0777 evil && printf '#!/bin/sh\\ntouch \(marker)\\nexit 0\\n' > evil/qemu-aarch64 &&
            chmod 0755 evil/qemu-aarch64 && cp evil/qemu-aarch64 evil/qemu-aarch64-static &&
            printf 'POPCKPT1\\004\\000\\000\\000' > evil/checkpoint && head -c 8192 /dev/zero >> evil/checkpoint &&
            chmod 0644 evil/checkpoint
            """, in: work.path)
        let hostile = "POPCORN_QEMU_AARCH64=\(work.path)/evil/qemu-aarch64 PATH=\(work.path)/evil:/usr/bin:/bin "
            + "POPCORN_CHECKPOINT_FD=3 POPCORN_STATS=1 POPCORN_MIGRATE_AT=1 POPCORN_MIGRATE_SIGNAL=1 QEMU_STRACE=1"
        let run = try Harness.shell("env \(hostile) setpriv --reuid=nobody --regid=nogroup --clear-groups ./prog 3<evil/checkpoint",
                                    in: work.path)
        #expect(run.succeeded, "\(run.status): \(run.stderrText)")
        #expect(run.stdoutText == plain.stdoutText)
        #expect(run.stderrText == "finished on aarch64 as euid 0\n", "\(run.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the attacker's emulator ran with privileges")
    }
}
