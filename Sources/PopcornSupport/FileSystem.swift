import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed file-system call, with the path as the user spelled it.
public struct FileSystemError: Error, DiagnosticConvertible, Equatable {
    public var path: String
    public var operation: String
    public var code: Int32

    public init(path: String, operation: String, code: Int32) {
        self.path = path; self.operation = operation; self.code = code
    }

    public var reason: String { String(cString: strerror(code)) }

    public var diagnostic: Diagnostic {
        Diagnostic(.error, "cannot \(operation) '\(path)': \(reason)")
    }
}

/// POSIX file access on path bytes (see `Path.decode`).
///
/// Foundation's file APIs take paths as UTF-8 (a non-UTF-8 name cannot be opened) and some of
/// them make relative paths absolute through a fixed-size buffer (with a working directory
/// deeper than about 1 KiB, `Data(contentsOf:)` fails with "read failed"). Every call here hands
/// the kernel the path exactly as given, relative paths staying relative, so popcorn's tools
/// accept any path the kernel accepts, like ld.lld and clang.
public enum FileSystem {
    public enum Kind: Equatable, Sendable { case regular, directory, other }

    /// What `path` is (following symbolic links), or nil if it does not exist.
    public static func kind(of path: String) -> Kind? {
        var info = stat()
        let rc = Path.withFileSystemRepresentation(path) { stat($0, &info) }
        guard rc == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    public static func exists(_ path: String) -> Bool { kind(of: path) != nil }

    /// The whole contents of a file.
    public static func read(_ path: String) throws -> Data {
        let fd = Path.withFileSystemRepresentation(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw FileSystemError(path: path, operation: "open", code: errno) }
        defer { close(fd) }
        var info = stat()
        let expected = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : 0
        var data = Data(count: expected)
        var filled = 0
        while true {
            if filled == data.count { data.count += max(65536, data.count / 2) }
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(path: path, operation: "read", code: errno)
            }
            if n == 0 { break }
            filled += n
        }
        data.count = filled
        return data
    }

    /// Writes `data` to a new or truncated file with the given permission bits (umask applies).
    /// `exclusive` fails if the file exists (for temporaries: never follow someone else's file).
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644, exclusive: Bool = false) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let fd = Path.withFileSystemRepresentation(path) { open($0, flags, mode) }
        guard fd >= 0 else { throw FileSystemError(path: path, operation: "create", code: errno) }
        defer { close(fd) }
        try writeAll(data, to: fd, path: path)
    }

    /// Writes every byte of `data` to an open descriptor.
    public static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError(path: path, operation: "write", code: errno)
                }
                offset += n
            }
        }
    }

    public static func createDirectory(_ path: String, mode: mode_t = 0o755) throws {
        let rc = Path.withFileSystemRepresentation(path) { mkdir($0, mode) }
        if rc != 0 && !(errno == EEXIST && kind(of: path) == .directory) {
            throw FileSystemError(path: path, operation: "create directory", code: errno)
        }
    }

    /// The names in a directory (without `.` and `..`).
    public static func contents(ofDirectory path: String) throws -> [String] {
        guard let dir = Path.withFileSystemRepresentation(path, { opendir($0) }) else {
            throw FileSystemError(path: path, operation: "open directory", code: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Path.decode(raw.prefix(while: { $0 != 0 }))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes a file or a whole directory tree; a missing path is not an error.
    public static func removeTree(_ path: String) {
        var info = stat()
        guard Path.withFileSystemRepresentation(path, { lstat($0, &info) }) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? contents(ofDirectory: path)) ?? [] { removeTree(Path.join(path, name)) }
            _ = Path.withFileSystemRepresentation(path) { rmdir($0) }
        } else {
            _ = Path.withFileSystemRepresentation(path) { unlink($0) }
        }
    }

    public static func remove(_ path: String) {
        _ = Path.withFileSystemRepresentation(path) { unlink($0) }
    }

    /// `rename(2)`; returns the errno on failure (EXDEV tells a caller to copy instead).
    public static func rename(_ from: String, to: String) -> Int32 {
        let rc = Path.withFileSystemRepresentation(from) { source in
            Path.withFileSystemRepresentation(to) { Glibc.rename(source, $0) }
        }
        return rc == 0 ? 0 : errno
    }

    public static func setMode(_ path: String, _ mode: mode_t) {
        _ = Path.withFileSystemRepresentation(path) { chmod($0, mode) }
    }
}
