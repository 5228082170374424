import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What popcorn's tools do on SIGINT, SIGTERM and SIGHUP, like clang: stop the children, remove
/// every temporary file and scratch directory, then die of the same signal (so the exit status
/// tells make or the shell that the tool was interrupted).
///
/// `TemporaryDirectory`, `AtomicFile.temporaryPath` and `ProcessRunner` register what they create,
/// so popcorn-cc and popcorn-ld share this one mechanism. The signal handler itself only writes
/// the signal number to a pipe (all a handler may safely do); a dedicated thread does the work:
///
/// 1. marks the process as terminating, under the lock that guards every registration and every
///    commit (`AtomicFile.commit` refuses to rename an output into place afterwards, so a link
///    that is interrupted never produces its output);
/// 2. sends the signal to every running child (ld.lld, clang, popcorn-ld) and waits, briefly,
///    until their waiting threads have reaped them — a popcorn child removes its own temporaries
///    before dying, and this process must not exit before that;
/// 3. removes the registered files and directories;
/// 4. restores the default action and re-raises the signal.
///
/// A thread that would report a child's death after step 1 parks instead of printing an error
/// and exiting 1 first. Popcorn tools started by popcorn tools also ask the kernel for SIGTERM
/// when their parent dies (`PR_SET_PDEATHSIG`), so `kill -9` of popcorn-cc cannot leave a
/// popcorn-ld that commits an output after the driver has gone.
public enum SignalCleanup {
    /// The signals cleaned up after.
    public static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// The environment variable a popcorn tool sets for the popcorn tools it starts: its PID.
    public static let parentVariable = "POPCORN_PARENT_PID"

    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var installed = false
        var terminating = false
        var directories: [String: Int] = [:]
        var files: Set<String> = []
        var children: Set<pid_t> = []
    }
    private static let state = State()
    /// The pipe's write end, read by the handler (a plain global load, no initialisation).
    nonisolated(unsafe) private static var pipeWriteEnd: Int32 = -1

    /// Installs the handlers (once per process; later calls do nothing). Signals that are ignored
    /// when the process starts (`nohup`, a background job of a shell without job control) stay
    /// ignored, as in clang.
    public static func install() {
        state.lock.lock()
        defer { state.lock.unlock() }
        if state.installed { return }
        state.installed = true
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        pipeWriteEnd = fds[1]
        let readEnd = fds[0]
        let thread = Thread { cleanupLoop(readEnd) }
        thread.name = "popcorn-signal-cleanup"
        thread.start()
        for sig in signals {
            var old = sigaction()
            sigaction(sig, nil, &old)
            // SIG_IGN is the handler value 1.
            if unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == 1 { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = write(SignalCleanup.pipeWriteEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
        dieWithParent()
    }

    /// Whether a signal has started the cleanup (nothing may be committed any more).
    public static var isTerminating: Bool { state.lock.withLock { state.terminating } }

    // MARK: Registration

    public static func register(directory path: String) {
        install()
        register { $0.directories[path, default: 0] += 1 } orRemove: { FileSystem.removeTree(path) }
    }

    /// Creates a directory with `create` (which returns its path) and registers it in one step,
    /// so an interruption cannot fall between the two.
    public static func createDirectory(_ create: () throws -> String) rethrows -> String {
        install()
        state.lock.lock()
        if state.terminating { state.lock.unlock(); park() }
        defer { state.lock.unlock() }
        let path = try create()
        state.directories[path, default: 0] += 1
        return path
    }

    public static func unregister(directory path: String) {
        state.lock.withLock {
            if let count = state.directories[path], count > 1 { state.directories[path] = count - 1 }
            else { state.directories[path] = nil }
        }
    }

    /// A file that must not survive an interruption (a temporary output).
    public static func register(file path: String) {
        install()
        register { $0.files.insert(path) } orRemove: { FileSystem.remove(path) }
    }

    public static func unregister(file path: String) {
        _ = state.lock.withLock { state.files.remove(path) }
    }

    /// Starts a child with `spawn` (which returns its PID, or nil if it could not start) and
    /// registers it; a signal cannot slip in between, so no child escapes the cleanup. Call
    /// `childExited` once it has been reaped.
    public static func spawnChild(_ spawn: () -> pid_t?) -> pid_t? {
        install()
        state.lock.lock()
        if state.terminating { state.lock.unlock(); park() }
        defer { state.lock.unlock() }
        guard let pid = spawn() else { return nil }
        state.children.insert(pid)
        return pid
    }

    /// Records that `pid` was reaped. During an interruption the calling thread parks here: the
    /// child most likely died of the same signal, and reporting that as an error (exit status 1)
    /// would hide the signal from the caller.
    public static func childExited(_ pid: pid_t) {
        let terminating = state.lock.withLock { () -> Bool in
            state.children.remove(pid)
            return state.terminating
        }
        if terminating { park() }
    }

    /// Runs `body` (a commit) unless the process is being interrupted; the cleanup cannot start
    /// while it runs, so an output is either committed before the signal or not at all.
    public static func unlessTerminating<T>(_ body: () throws -> T) rethrows -> T {
        state.lock.lock()
        if state.terminating { state.lock.unlock(); park() }
        defer { state.lock.unlock() }
        return try body()
    }

    private static func register(_ add: (State) -> Void, orRemove undo: () -> Void) {
        state.lock.lock()
        if state.terminating {
            // The cleanup has already taken its list: undo this one here, then wait to die.
            state.lock.unlock()
            undo()
            park()
        }
        add(state)
        state.lock.unlock()
    }

    // MARK: The cleanup thread

    private static func cleanupLoop(_ readEnd: Int32) {
        var byte: UInt8 = 0
        while true {
            let n = read(readEnd, &byte, 1)
            if n == 1 { break }
            if n < 0 && errno == EINTR { continue }
            return
        }
        let sig = Int32(byte)
        let (children, files, directories) = state.lock.withLock { () -> (Set<pid_t>, Set<String>, [String]) in
            state.terminating = true
            return (state.children, state.files, Array(state.directories.keys))
        }
        for pid in children { kill(pid, sig) }
        // Wait until every child has died — a popcorn child first removes its own temporaries —
        // without reaping it (its waiting thread does that, and may itself be blocked reading a
        // pipe a grandchild still holds). A child that survives the signal is killed: after 5 s,
        // or 2 s in a popcorn tool started by a popcorn tool, so that such a tool has always
        // dealt with its own children before its parent's patience ends.
        let grace: TimeInterval = getenv(parentVariable) == nil ? 5 : 2
        var pending = children
        let start = Date()
        var escalated = false
        while !pending.isEmpty && Date().timeIntervalSince(start) < grace + 2 {
            pending = pending.filter { isRunning($0) }
            if !escalated && Date().timeIntervalSince(start) > grace {
                escalated = true
                for pid in pending { kill(pid, SIGKILL) }
            }
            if !pending.isEmpty { usleep(2000) }
        }
        for path in files { FileSystem.remove(path) }
        for path in directories { FileSystem.removeTree(path) }
        signal(sig, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        // Directed at this thread, which has it unblocked: delivered before pthread_kill returns.
        // (kill(getpid()) may pick another thread, and this one could reach _exit first: the
        // process then ended with status 128+sig instead of dying of the signal.)
        pthread_kill(pthread_self(), sig)
        // Only reached if the signal cannot kill us: report it the way a shell would.
        _exit(128 + sig)
    }

    /// Whether the child `pid` has not exited yet (a zombie has; it is not reaped here).
    private static func isRunning(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        // WNOWAIT leaves the child waitable for the thread that owns it.
        let rc = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        if rc != 0 { return false } // ECHILD: already reaped
        return info._sifields._sigchld.si_pid == 0
    }

    /// Blocks the calling thread until the cleanup thread ends the process.
    private static func park() -> Never {
        while true { sleep(60) }
    }

    /// A popcorn tool started by a popcorn tool (popcorn-cc running popcorn-ld) gets SIGTERM if
    /// that parent dies, even by SIGKILL; so an orphan cannot commit an output after its driver
    /// failed. Not done for tools started by anything else: `nohup popcorn-cc … &` must survive
    /// its shell. The variable names the parent's PID, so a popcorn tool run by some other
    /// program that inherited it is not affected.
    private static func dieWithParent() {
        guard let value = getenv(parentVariable), let parent = pid_t(String(cString: value)),
              parent == getppid() else { return }
        // prctl is variadic in C, so Swift does not import it; glibc's entry point takes the
        // arguments in the same registers as this fixed signature on x86_64 and aarch64 Linux.
        guard let symbol = dlsym(nil, "prctl") else { return }
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        let setParentDeathSignal: Int32 = 1 // PR_SET_PDEATHSIG
        _ = prctl(setParentDeathSignal, UInt(SIGTERM), 0, 0, 0)
        // The parent may have died before the request: then the signal is never sent.
        if getppid() != parent { kill(getpid(), SIGTERM) }
    }
}
