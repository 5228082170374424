import Foundation
import PopcornSupport

/// The driver's file operations as plain system calls on the path's own bytes: atomic output
/// writes, reads of response files, existence checks.
///
/// Foundation's file APIs make relative paths absolute and give up beyond CoreFoundation's
/// 1024-byte path limit (so `popcorn-cc -c a.c` failed in a deep working directory), and they
/// see only valid UTF-8. Here a relative path stays relative — the kernel resolves it against
/// the working directory, however deep — and names are the bytes the user gave
/// (`Path.fileSystemBytes`). The protocol is `AtomicFile`'s: a unique temporary next to the
/// destination, renamed over it when complete; special files (`/dev/null`, FIFOs) are written
/// in place.
public enum RawFile {
    /// Writes `data` to `path` (`-o` value or default output), never leaving a partial file.
    static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        if isSpecial(path) { return try writeInPlace(data, to: path) }
        let temporary = AtomicFile.temporaryPath(for: path)
        let fd = Path.withFileSystemRepresentation(temporary) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw AtomicFileError.cannotCreate(path: path, reason: lastError) }
        do {
            try writeAll(data, to: fd, path: path)
            guard close(fd) == 0 else { throw AtomicFileError.cannotCreate(path: path, reason: lastError) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        try commit(temporary, to: path)
    }

    /// Moves a finished file (a staged clang output in the private temporary directory) to
    /// `destination`: by copying next to it first, since the two may be on different file systems.
    static func install(_ source: String, to destination: String) throws {
        guard let data = FileManager.default.contents(atPath: source) else {
            throw AtomicFileError.cannotCreate(path: destination, reason: "cannot read '\(source)'")
        }
        try write(data, to: destination)
    }

    private static func commit(_ temporary: String, to destination: String) throws {
        let renamed = Path.withFileSystemRepresentation(temporary) { from in
            Path.withFileSystemRepresentation(destination) { to in rename(from, to) }
        }
        if renamed != 0 {
            let reason = lastError
            unlink(temporary)
            throw AtomicFileError.cannotRename(from: temporary, to: destination, reason: reason)
        }
    }

    /// Whether `path` exists and is not a regular file, so it must be written in place.
    private static func isSpecial(_ path: String) -> Bool {
        var info = stat()
        guard Path.withFileSystemRepresentation(path, { stat($0, &info) }) == 0 else { return false }
        return (info.st_mode & S_IFMT) != S_IFREG
    }

    private static func writeInPlace(_ data: Data, to path: String) throws {
        let fd = Path.withFileSystemRepresentation(path) { open($0, O_WRONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw AtomicFileError.cannotCreate(path: path, reason: lastError) }
        defer { close(fd) }
        try writeAll(data, to: fd, path: path)
    }

    private static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError.cannotCreate(path: path, reason: lastError)
                }
                offset += n
            }
        }
    }

    /// Removes `path` (an unlinked temporary on a failure path); missing files are fine.
    private static func unlink(_ path: String) {
        _ = Path.withFileSystemRepresentation(path) { Foundation.unlink($0) }
    }

    /// `strerror(errno)`.
    private static var lastError: String { String(cString: strerror(errno)) }

    /// The contents of the regular file at `path`, or nil (with `errno` set) when it cannot be read.
    public static func contents(_ path: String) -> Data? {
        let fd = Path.withFileSystemRepresentation(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return data }
            data.append(contentsOf: buffer[..<n])
        }
    }

    /// Whether `path` names a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return Path.withFileSystemRepresentation(path) { stat($0, &info) } == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether a file exists at `path` (any type), as `stat` sees the path's bytes.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return Path.withFileSystemRepresentation(path) { stat($0, &info) } == 0
    }
}
