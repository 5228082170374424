import Foundation

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
public enum AtomicFile {
    /// A fresh temporary path in the destination's directory (same file system, so rename is atomic).
    public static func temporaryPath(for destination: String) -> String {
        // Split by hand: Foundation's path helpers trap on some one-character names ("v").
        let unique = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard let slash = destination.lastIndex(of: "/") else { return ".\(destination).tmp-\(unique)" }
        let dir = destination[...slash]
        let name = destination[destination.index(after: slash)...]
        return "\(dir).\(name).tmp-\(unique)"
    }

    /// Whether `path` exists and is not a regular file (or a link to one): a device such as
    /// `/dev/null`, a FIFO. Such outputs are written in place, like clang does: renaming over
    /// them would replace the device with a file.
    public static func isSpecial(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) != S_IFREG
    }

    /// Writes `data` to `path` atomically, with the given permission bits.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        if isSpecial(path) { return try writeInPlace(data, to: path) }
        let tmp = temporaryPath(for: path)
        guard FileManager.default.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: Int(mode)]) else {
            throw AtomicFileError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        try commit(tmp, to: path)
    }

    /// Moves a finished temporary file into place; removes the temporary on failure.
    public static func commit(_ temporary: String, to destination: String) throws {
        if isSpecial(destination) {
            defer { unlink(temporary) }
            guard let data = FileManager.default.contents(atPath: temporary) else {
                throw AtomicFileError.cannotCreate(path: destination, reason: "cannot read '\(temporary)'")
            }
            return try writeInPlace(data, to: destination)
        }
        if rename(temporary, destination) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicFileError.cannotRename(from: temporary, to: destination, reason: reason)
        }
    }

    /// Writes into an existing special file (device, FIFO) without replacing it.
    static func writeInPlace(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFileError.cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
                }
                offset += n
            }
        }
    }

    /// Copies a finished file (possibly on another file system) into place atomically.
    public static func install(_ source: String, to destination: String, mode: mode_t? = nil) throws {
        if isSpecial(destination) {
            guard let data = FileManager.default.contents(atPath: source) else {
                throw AtomicFileError.cannotCreate(path: destination, reason: "cannot read '\(source)'")
            }
            return try writeInPlace(data, to: destination)
        }
        let tmp = temporaryPath(for: destination)
        do {
            try FileManager.default.copyItem(atPath: source, toPath: tmp)
        } catch {
            unlink(tmp)
            throw AtomicFileError.cannotCreate(path: destination, reason: error.localizedDescription)
        }
        if let mode { chmod(tmp, mode) }
        try commit(tmp, to: destination)
    }
}
