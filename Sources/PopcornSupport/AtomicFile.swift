import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors from writing outputs.
public enum AtomicFileError: Error, DiagnosticConvertible {
    case cannotCreate(path: String, reason: String)
    case cannotRename(from: String, to: String, reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case let .cannotCreate(path, reason):
            return Diagnostic(.error, "unable to open output file '\(path)': '\(reason)'")
        case let .cannotRename(from, to, reason):
            return Diagnostic(.error, "unable to rename temporary '\(from)' to output file '\(to)': '\(reason)'")
        }
    }
}

/// Writes outputs so that a reader never sees a half-written file: data goes to a unique
/// temporary next to the destination and is renamed over it once complete.
///
/// Temporaries are named `.<name>.tmp-<pid>-<n>` and registered with `SignalCleanup`, so an
/// interrupted tool removes them; one killed outright (SIGKILL) cannot, and
/// `removeStaleTemporaries` lets the next tool writing into that directory remove the files of
/// processes that no longer exist. Paths reach the kernel as bytes (`Path.decode`).
public enum AtomicFile {
    /// A fresh temporary path in the destination's directory (same file system, so rename is
    /// atomic). It is registered for removal on SIGINT/SIGTERM/SIGHUP until it is committed or
    /// `discard`ed.
    public static func temporaryPath(for destination: String) -> String {
        // Split by hand: Foundation's path helpers trap on some one-character names ("v").
        let unique = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let path: String
        if let slash = destination.lastIndex(of: "/") {
            path = "\(destination[...slash]).\(destination[destination.index(after: slash)...]).tmp-\(unique)"
        } else {
            path = ".\(destination).tmp-\(unique)"
        }
        SignalCleanup.register(file: path)
        return path
    }

    /// Removes a temporary that will not be committed.
    public static func discard(_ temporary: String) {
        FileSystem.remove(temporary)
        SignalCleanup.unregister(file: temporary)
    }

    /// Whether `path` exists and is not a regular file (or a link to one): a device such as
    /// `/dev/null`, a FIFO. Such outputs are written in place, like clang does: renaming over
    /// them would replace the device with a file.
    public static func isSpecial(_ path: String) -> Bool {
        FileSystem.kind(of: path).map { $0 != .regular } ?? false
    }

    /// Writes `data` to `path` atomically, with the given permission bits.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        if isSpecial(path) { return try writeInPlace(data, to: path) }
        let tmp = temporaryPath(for: path)
        do {
            try FileSystem.write(data, to: tmp, mode: mode, exclusive: true)
        } catch let error as FileSystemError {
            discard(tmp)
            throw AtomicFileError.cannotCreate(path: path, reason: error.reason)
        }
        // The umask must not narrow what the caller asked for (open(2) applies it).
        FileSystem.setMode(tmp, mode)
        try commit(tmp, to: path)
    }

    /// Moves a finished temporary file into place; removes the temporary on failure. Nothing is
    /// committed once a signal has started the cleanup (the output of an interrupted run must
    /// not appear).
    public static func commit(_ temporary: String, to destination: String) throws {
        if isSpecial(destination) {
            defer { discard(temporary) }
            let data: Data
            do { data = try FileSystem.read(temporary) } catch {
                throw AtomicFileError.cannotCreate(path: destination, reason: "cannot read '\(temporary)'")
            }
            return try SignalCleanup.unlessTerminating { try writeInPlace(data, to: destination) }
        }
        let code = SignalCleanup.unlessTerminating { FileSystem.rename(temporary, to: destination) }
        if code != 0 {
            discard(temporary)
            throw AtomicFileError.cannotRename(from: temporary, to: destination, reason: String(cString: strerror(code)))
        }
        SignalCleanup.unregister(file: temporary)
    }

    /// Writes into an existing special file (device, FIFO) without replacing it.
    static func writeInPlace(_ data: Data, to path: String) throws {
        let fd = Path.withFileSystemRepresentation(path) { open($0, O_WRONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw AtomicFileError.cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        do { try FileSystem.writeAll(data, to: fd, path: path) } catch let error as FileSystemError {
            throw AtomicFileError.cannotCreate(path: path, reason: error.reason)
        }
    }

    /// Copies a finished file (possibly on another file system) into place atomically.
    public static func install(_ source: String, to destination: String, mode: mode_t? = nil) throws {
        let data: Data
        do { data = try FileSystem.read(source) } catch let error as FileSystemError {
            throw AtomicFileError.cannotCreate(path: destination, reason: "cannot read '\(source)': \(error.reason)")
        }
        if isSpecial(destination) { return try writeInPlace(data, to: destination) }
        let tmp = temporaryPath(for: destination)
        do {
            try FileSystem.write(data, to: tmp, mode: mode ?? 0o644, exclusive: true)
        } catch let error as FileSystemError {
            discard(tmp)
            throw AtomicFileError.cannotCreate(path: destination, reason: error.reason)
        }
        if let mode { FileSystem.setMode(tmp, mode) }
        try commit(tmp, to: destination)
    }

    /// The PID in a temporary's name `.<name>.tmp-<pid>-<n>`, or nil if `name` is not one.
    public static func temporaryOwner(_ name: String) -> pid_t? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards),
              marker.lowerBound > name.index(after: name.startIndex) else { return nil }
        let parts = name[marker.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let pid = pid_t(parts[0]), pid > 0, UInt32(parts[1]) != nil else { return nil }
        return pid
    }

    /// Removes temporaries in `directory` left by processes that no longer exist (killed with
    /// SIGKILL, or a crash): a live process's temporaries are never touched, so concurrent
    /// builds into one directory stay safe. Returns the names removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String) -> [String] {
        let dir = directory.isEmpty ? "." : directory
        guard let names = try? FileSystem.contents(ofDirectory: dir) else { return [] }
        var removed: [String] = []
        for name in names {
            guard let pid = temporaryOwner(name), pid != getpid() else { continue }
            // ESRCH: no such process. EPERM means it exists (another user's): leave it.
            if kill(pid, 0) == 0 || errno != ESRCH { continue }
            let path = Path.join(dir, name)
            guard FileSystem.kind(of: path) == .regular else { continue }
            FileSystem.remove(path)
            removed.append(name)
        }
        return removed
    }
}
