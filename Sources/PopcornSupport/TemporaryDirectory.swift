import Foundation

/// A private scratch directory, removed when the value is released (unless `keep` is set).
///
/// Every tool run gets its own directory from `mkdtemp`, so parallel `make -j` builds never
/// share scratch files.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String
    /// Keep the directory for debugging (`-save-temps`, `POPCORN_KEEP_TEMPS=1`).
    public var keep: Bool

    public init(prefix: String = "popcorn") throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw AtomicFileError.cannotCreate(path: base, reason: String(cString: strerror(errno)))
        }
        path = String(cString: result)
        keep = ProcessInfo.processInfo.environment["POPCORN_KEEP_TEMPS"] == "1"
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit {
        if !keep { try? FileManager.default.removeItem(atPath: path) }
    }
}
