import Foundation

/// A private scratch directory, removed when the value is released (unless `keep` is set) and
/// also when the process is interrupted by SIGINT, SIGTERM or SIGHUP (`SignalCleanup`).
///
/// Every tool run gets its own directory from `mkdtemp`, so parallel `make -j` builds never
/// share scratch files.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String
    /// Keep the directory for debugging (`-save-temps`, `POPCORN_KEEP_TEMPS=1`).
    public var keep: Bool {
        didSet {
            // A kept directory is kept on an interruption too: the user asked to see it.
            if keep && !oldValue { SignalCleanup.unregister(directory: path) }
            if !keep && oldValue { SignalCleanup.register(directory: path) }
        }
    }

    public init(prefix: String = "popcorn") throws {
        // TMPDIR as bytes: the directory name may be any path the kernel accepts.
        let base = getenv("TMPDIR").map { Path.decode(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Path.fileSystemBytes(Path.join(base, "\(prefix)-XXXXXX")).map { CChar(bitPattern: $0) } + [0]
        // Created and registered as one step, so an interruption cannot leave it behind.
        path = try SignalCleanup.createDirectory {
            guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw AtomicFileError.cannotCreate(path: base, reason: String(cString: strerror(errno)))
            }
            return Path.decode(cString: result)
        }
        keep = ProcessInfo.processInfo.environment["POPCORN_KEEP_TEMPS"] == "1"
        if keep { SignalCleanup.unregister(directory: path) }
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit {
        if !keep {
            FileSystem.removeTree(path)
            SignalCleanup.unregister(directory: path)
        }
    }
}
