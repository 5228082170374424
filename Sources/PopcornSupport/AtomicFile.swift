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

    /// Writes `data` to `path` atomically, with the given permission bits.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        let tmp = temporaryPath(for: path)
        guard FileManager.default.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: Int(mode)]) else {
            throw AtomicFileError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        try commit(tmp, to: path)
    }

    /// Moves a finished temporary file into place; removes the temporary on failure.
    public static func commit(_ temporary: String, to destination: String) throws {
        if rename(temporary, destination) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicFileError.cannotRename(from: temporary, to: destination, reason: reason)
        }
    }

    /// Copies a finished file (possibly on another file system) into place atomically.
    public static func install(_ source: String, to destination: String, mode: mode_t? = nil) throws {
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
