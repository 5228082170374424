import PopcornSupport

/// Everything that can be wrong with an `ar` archive.
public enum ArchiveError: Error, DiagnosticConvertible, Equatable {
    case cannotRead(path: String, reason: String)
    /// The file does not start with `!<arch>\n`.
    case notArchive(path: String)
    /// A GNU thin archive (`!<thin>\n`): members live in other files, which we do not follow.
    case thinArchive(path: String)
    /// The archive ends inside a member header or member body.
    case truncated(path: String, what: String)
    /// A header field holds an impossible value.
    case malformed(path: String, reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case let .cannotRead(path, reason):
            return Diagnostic(.error, "'\(path)': unable to read archive: \(reason)")
        case let .notArchive(path):
            return Diagnostic(.error, "'\(path)': not an archive")
        case let .thinArchive(path):
            return Diagnostic(.error, "'\(path)': thin archives are not supported; recreate it without 'T' (llvm-ar rcs)")
        case let .truncated(path, what):
            return Diagnostic(.error, "'\(path)': truncated archive: \(what)")
        case let .malformed(path, reason):
            return Diagnostic(.error, "'\(path)': malformed archive: \(reason)")
        }
    }
}
