import Foundation
import Testing
import PopcornSupport

/// Interrupted tools leave nothing behind and die of the signal (like clang); children do not
/// outlive them; temporaries of killed processes are removed by the next link.
@Suite(.serialized) struct SignalCleanupTests {
    /// An ld.lld that takes 20 s before linking: `probe` waits in every link, `final` only in the
    /// final links (those with a linker script), so a signal arrives at a known pass.
    static func slowLLD(in dir: String, stage: String) throws -> String {
        let condition = stage == "final" ? "case \" $* \" in *\" -T \"*) sleep 20;; esac" : "sleep 20"
        let path = "\(dir)/slow-ld.lld"
        // Written through a close-on-exec descriptor: Foundation's atomic write makes its
        // temporary with mkstemp, whose descriptor a process spawned meanwhile by a parallel test
        // inherits and keeps open for writing, so executing the script fails with ETXTBSY.
        try FileSystem.write(Data("#!/bin/sh\n\(condition)\nexec ld.lld-19 \"$@\"\n".utf8), to: path, mode: 0o755)
        chmod(path, 0o755)
        return path
    }

    /// A program large enough that compiling it takes a while.
    static func bigProgram(functions: Int) -> String {
        // The functions call each other in a ring: each gets its points and stackmaps (every call
        // is instrumented), and the compile takes long enough to be interrupted.
        var text = "#include <stdio.h>\n"
        for i in 0..<functions { text += "int f\(i)(int x);\n" }
        for i in 0..<functions {
            text += "static char b\(i)[32] = \"s\(i)\"; int f\(i)(int x) { return x > (1 << 30) ? f\((i + 1) % functions)(x - 1) : x * \(i) + b\(i)[0]; }\n"
        }
        text += "int main(void) { int s = 0;\n"
        for i in 0..<functions { text += "  s += f\(i)(s);\n" }
        return text + "  printf(\"%d\\n\", s); return 0; }\n"
    }

    /// A started tool. Spawned directly, with the three signals at their default action and
    /// none blocked (a test runner's own signal setup must not leak into the tool).
    final class Run {
        let pid: pid_t
        let tmp: String
        /// The tool's standard error, kept beside (not in) the checked directories.
        let log: String
        private var status: Int32?
        init(pid: pid_t, tmp: String, log: String) { self.pid = pid; self.tmp = tmp; self.log = log }

        var isRunning: Bool {
            if status != nil { return false }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid { status = raw; return false }
            return true
        }

        /// The raw wait status.
        func waitUntilExit() -> Int32 {
            if let status { return status }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            status = raw
            return raw
        }
    }

    /// Starts a staged tool with its own TMPDIR, so leftovers can be counted exactly.
    func start(_ tool: String, _ arguments: [String], in dir: String, tmp: String, lld: String? = nil) throws -> Run {
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var env = Harness.environment
        env["TMPDIR"] = tmp
        if let lld { env["POPCORN_LLD"] = lld }
        env.removeValue(forKey: SignalCleanup.parentVariable)
        let executable = try Harness.popcornTool(tool)
        // `cd` through the shell's exec keeps the PID: the signal goes to the tool itself.
        let argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\" 2>stderr.log", dir, executable] + arguments
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", nil, &attributes, cArgv, cEnv)
        guard rc == 0 else { throw Harness.MissingTool(description: "cannot start \(tool): \(String(cString: strerror(rc)))") }
        return Run(pid: pid, tmp: tmp, log: "\(dir)/stderr.log")
    }

    /// Waits (up to 60 s) until `ready` holds, failing the test if the process ends first.
    func wait(for run: Run, until ready: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if ready() { return true }
            if !run.isRunning {
                let said = (try? String(contentsOfFile: run.log, encoding: .utf8)) ?? ""
                Issue.record("the tool ended before it could be interrupted: \(said)")
                return false
            }
            usleep(10_000)
        }
        Issue.record("the tool never reached the point to interrupt")
        return false
    }

    func entries(_ dir: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] }

    /// Sends `signal`, then checks the exit status is the signal's and nothing is left over.
    func interrupt(_ run: Run, with signal: Int32, output dir: String, expected: Set<String>) {
        kill(run.pid, signal)
        let status = run.waitUntilExit()
        // Killed by the signal (not exited): the low seven bits are the signal number.
        #expect(status & 0x7F == signal, "wait status \(status)")
        #expect(entries(run.tmp).isEmpty, "left in TMPDIR: \(entries(run.tmp))")
        #expect(Set(entries(dir)) == expected, "beside the output: \(entries(dir))")
    }

    func linkInputs(_ label: String) throws -> TemporaryDirectory {
        let work = try Harness.scratch(label)
        try "int main(void) { return 0; }\n".write(toFile: work.file("main.c"), atomically: true, encoding: .utf8)
        try Harness.mustSucceed("popcorn-cc -c main.c && rm main.c && mkdir out", in: work.path)
        return work
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func interruptedProbeLinkLeavesNothing(signal: Int32) throws {
        let work = try linkInputs("sig-probe")
        let lld = try Self.slowLLD(in: work.path, stage: "probe")
        let run = try start("popcorn-ld", ["main.o", "-o", "out/app"], in: work.path, tmp: work.file("tmp"), lld: lld)
        // Mid-way: the inputs are split and ld.lld is running.
        guard wait(for: run, until: { entries(run.tmp).contains { FileManager.default.fileExists(atPath: "\(run.tmp)/\($0)/aarch64/in001.o") } })
        else { return }
        usleep(100_000)
        interrupt(run, with: signal, output: work.file("out"), expected: [])
    }

    @Test func interruptedFinalLinkLeavesNothing() throws {
        let work = try linkInputs("sig-final")
        let lld = try Self.slowLLD(in: work.path, stage: "final")
        let run = try start("popcorn-ld", ["main.o", "-o", "out/app"], in: work.path, tmp: work.file("tmp"), lld: lld)
        guard wait(for: run, until: { entries(run.tmp).contains { FileManager.default.fileExists(atPath: "\(run.tmp)/\($0)/x86_64.ld") } })
        else { return }
        usleep(100_000)
        interrupt(run, with: SIGTERM, output: work.file("out"), expected: [])
    }

    @Test func interruptedDriverStopsItsLinkerAndLeavesNothing() throws {
        let work = try linkInputs("sig-driver")
        let lld = try Self.slowLLD(in: work.path, stage: "probe")
        let run = try start("popcorn-cc", ["main.o", "-o", "out/app"], in: work.path, tmp: work.file("tmp"), lld: lld)
        guard wait(for: run, until: { entries(run.tmp).contains { $0.hasPrefix("popcorn-ld-") } }) else { return }
        usleep(200_000)
        interrupt(run, with: SIGINT, output: work.file("out"), expected: [])
    }

    @Test func interruptedCompileOfABigInputLeavesNothing() throws {
        let work = try Harness.scratch("sig-compile")
        try Self.bigProgram(functions: 400).write(toFile: work.file("big.c"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: work.file("out"), withIntermediateDirectories: true)
        let run = try start("popcorn-cc", ["-c", "big.c", "-o", "out/big.o"], in: work.path, tmp: work.file("tmp"))
        guard wait(for: run, until: { entries(run.tmp).contains { $0.hasPrefix("popcorn-cc-") } }) else { return }
        usleep(300_000)
        guard run.isRunning else { Issue.record("the compile finished before the signal"); return }
        interrupt(run, with: SIGTERM, output: work.file("out"), expected: [])
    }

    @Test func killedDriverTakesItsLinkerWithIt() throws {
        let work = try linkInputs("sig-kill")
        let lld = try Self.slowLLD(in: work.path, stage: "probe")
        let run = try start("popcorn-cc", ["main.o", "-o", "out/app"], in: work.path, tmp: work.file("tmp"), lld: lld)
        guard wait(for: run, until: { entries(run.tmp).contains { $0.hasPrefix("popcorn-ld-") } }) else { return }
        usleep(200_000)
        kill(run.pid, SIGKILL)
        _ = run.waitUntilExit()
        // popcorn-ld gets SIGTERM from the kernel (parent-death signal) and cleans up after itself;
        // popcorn-cc's own directory cannot be removed by a process killed with SIGKILL.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && entries(run.tmp).contains(where: { $0.hasPrefix("popcorn-ld-") }) { usleep(20_000) }
        #expect(!entries(run.tmp).contains { $0.hasPrefix("popcorn-ld-") }, "\(entries(run.tmp))")
        #expect(entries(work.file("out")).isEmpty, "\(entries(work.file("out")))")
    }

    @Test func staleTemporaryOfADeadProcessIsRemovedByTheNextLink() throws {
        let work = try linkInputs("sig-stale")
        let dead = try ProcessRunner.run("/bin/sh", ["-c", "echo $$"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let stale = ".app.tmp-\(dead)-12345", live = ".app.tmp-\(getpid())-1"
        for name in [stale, live] {
            try Data(repeating: 0x7F, count: 100_000).write(to: URL(fileURLWithPath: work.file("out/\(name)")))
        }
        try Harness.mustSucceed("popcorn-ld main.o -o out/app", in: work.path)
        #expect(Set(entries(work.file("out"))) == ["app", "app.aarch64", live], "\(entries(work.file("out")))")
    }
}
