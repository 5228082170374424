import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors from running external tools.
public enum ProcessError: Error, DiagnosticConvertible, Equatable {
    case notFound(tool: String, package: String?)
    case spawnFailed(tool: String, errno: Int32)
    case failed(tool: String, status: Int32, output: String)
    case signaled(tool: String, signal: Int32)

    public var diagnostic: Diagnostic {
        switch self {
        case let .notFound(tool, package):
            let hint = package.map { " (install the Debian package '\($0)')" } ?? ""
            return Diagnostic(.error, "unable to find '\(tool)'\(hint)")
        case let .spawnFailed(tool, e):
            return Diagnostic(.error, "unable to execute '\(tool)': \(String(cString: strerror(e)))")
        case let .failed(tool, status, output):
            let tail = output.isEmpty ? "" : "\n" + output.trimmingCharacters(in: .newlines)
            return Diagnostic(.error, "'\(Path.baseName(tool))' failed with exit code \(status)\(tail)")
        case let .signaled(tool, sig):
            return Diagnostic(.error, "'\(Path.baseName(tool))' terminated by signal \(sig)")
        }
    }
}

/// The outcome of a finished child process.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var signal: Int32?
    public var stdout: Data
    public var stderr: Data
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    public var succeeded: Bool { status == 0 && signal == nil }
}

/// Runs external programs with `posix_spawn`, capturing or inheriting their output.
///
/// Foundation's `Process` forks a helper thread per child and is slow to start; the toolchain
/// spawns several tools per compile, so it talks to `posix_spawn` directly.
public enum ProcessRunner {
    public enum Output: Sendable { case inherit, capture, discard }

    /// Runs `executable` with `arguments` (argv[1...]) and waits for it.
    public static func run(_ executable: String, _ arguments: [String],
                           stdout: Output = .capture, stderr: Output = .capture,
                           environment: [String: String]? = nil,
                           stdin stdinPath: String? = nil) throws -> ProcessResult {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }

        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        func setUp(_ mode: Output, fd: Int32, pipeFDs: inout [Int32]) {
            switch mode {
            case .inherit: break
            case .discard: posix_spawn_file_actions_addopen(&fileActions, fd, "/dev/null", O_WRONLY, 0)
            case .capture:
                pipeFDs.withUnsafeMutableBufferPointer { _ = pipe($0.baseAddress!) }
                posix_spawn_file_actions_adddup2(&fileActions, pipeFDs[1], fd)
                posix_spawn_file_actions_addclose(&fileActions, pipeFDs[0])
                posix_spawn_file_actions_addclose(&fileActions, pipeFDs[1])
            }
        }
        setUp(stdout, fd: 1, pipeFDs: &outPipe)
        setUp(stderr, fd: 2, pipeFDs: &errPipe)
        if let stdinPath { posix_spawn_file_actions_addopen(&fileActions, 0, stdinPath, O_RDONLY, 0) }

        // Arguments and environment go to the kernel as the bytes they stand for (`Path.decode`):
        // a non-UTF-8 file name reaches the child unchanged.
        let argv = ([executable] + arguments).map { Path.duplicateCString($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = childEnvironment(environment) + [nil]
        defer { envp.forEach { free($0) } }

        // Children start with no signal blocked, whatever the spawning thread blocks: a blocked
        // SIGTERM would keep a popcorn child from cleaning up when this process stops it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        var rc: Int32 = 0
        // Registered for the signal cleanup as it starts (see `SignalCleanup`).
        let started = SignalCleanup.spawnChild {
            rc = Path.withFileSystemRepresentation(executable) { posix_spawnp(&pid, $0, &fileActions, &attributes, argv, envp) }
            return rc == 0 ? pid : nil
        }
        for fd in [outPipe[1], errPipe[1]] where fd >= 0 { close(fd) }
        if started == nil {
            for fd in [outPipe[0], errPipe[0]] where fd >= 0 { close(fd) }
            if rc == ENOENT { throw ProcessError.notFound(tool: executable, package: nil) }
            throw ProcessError.spawnFailed(tool: executable, errno: rc)
        }
        // Drain both pipes concurrently so a chatty child cannot deadlock on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box()
        var errData = Data()
        let group = DispatchGroup()
        if outPipe[0] >= 0 {
            let fd = outPipe[0]
            DispatchQueue.global().async(group: group) { outBox.data = readAll(fd) }
        }
        if errPipe[0] >= 0 { errData = readAll(errPipe[0]) }
        group.wait()
        let outData = outBox.data

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        SignalCleanup.childExited(pid)
        let exited = (status & 0x7f) == 0
        return ProcessResult(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f),
                             signal: exited ? nil : status & 0x7f, stdout: outData, stderr: errData)
    }

    /// Runs a tool and throws `ProcessError.failed` with its stderr if it does not succeed.
    @discardableResult
    public static func checked(_ executable: String, _ arguments: [String],
                               stdout: Output = .capture, environment: [String: String]? = nil) throws -> ProcessResult {
        let result = try run(executable, arguments, stdout: stdout, stderr: .capture, environment: environment)
        if let sig = result.signal { throw ProcessError.signaled(tool: executable, signal: sig) }
        if result.status != 0 {
            throw ProcessError.failed(tool: executable, status: result.status, output: result.stderrText)
        }
        return result
    }

    /// The child's environment as C strings: `environment`, or this process's own (byte for
    /// byte), plus `SignalCleanup.parentVariable` so a popcorn child dies with this process.
    private static func childEnvironment(_ environment: [String: String]?) -> [UnsafeMutablePointer<CChar>?] {
        let marker = SignalCleanup.parentVariable + "="
        var strings: [UnsafeMutablePointer<CChar>?] = []
        if let environment {
            for (key, value) in environment where key != SignalCleanup.parentVariable {
                strings.append(Path.duplicateCString(key + "=" + value))
            }
        } else {
            var entry = environ
            while let pointer = entry.pointee {
                if strncmp(pointer, marker, marker.utf8.count) != 0 { strings.append(strdup(pointer)) }
                entry += 1
            }
        }
        strings.append(strdup(marker + String(getpid())))
        return strings
    }

    private static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n > 0 { data.append(contentsOf: buffer[0..<n]) }
            else if n < 0 && errno == EINTR { continue }
            else { break }
        }
        close(fd)
        return data
    }

    /// Quotes an argument for display the way clang's `-###` does.
    public static func quote(_ arg: String) -> String {
        "\"" + arg.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
