import Foundation

/// How serious a diagnostic is; spelled like clang spells it.
public enum DiagnosticSeverity: String, Sendable, Comparable {
    case note, warning, error, fatal = "fatal error"

    private var rank: Int {
        switch self { case .note: 0; case .warning: 1; case .error: 2; case .fatal: 3 }
    }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// A position in a user's file, for `file:line:col:` prefixes.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file; self.line = line; self.column = column
    }
    public var description: String {
        var s = file
        if let line { s += ":\(line)"; if let column { s += ":\(column)" } }
        return s
    }
}

/// One message for the user.
public struct Diagnostic: Sendable, CustomStringConvertible {
    public var severity: DiagnosticSeverity
    public var message: String
    public var location: SourceLocation?
    public init(_ severity: DiagnosticSeverity, _ message: String, at location: SourceLocation? = nil) {
        self.severity = severity; self.message = message; self.location = location
    }
    /// `file:line: error: message`, or just `error: message` without a location.
    public var description: String {
        if let location { return "\(location): \(severity.rawValue): \(message)" }
        return "\(severity.rawValue): \(message)"
    }
}

/// An error that can describe itself the way clang does (lowercase, no trailing period).
public protocol DiagnosticConvertible: Error {
    var diagnostic: Diagnostic { get }
}

/// Collects diagnostics and prints them as `tool: error: …` (or `file:line: error: …`).
///
/// Tools report through one engine so that the exit status follows from what was reported,
/// `-w` and `-Werror` apply uniformly, and tests can inspect what would have been printed.
public final class DiagnosticsEngine: @unchecked Sendable {
    public let toolName: String
    public var suppressWarnings = false
    public var warningsAsErrors = false
    /// Where messages go; tests replace it to capture output.
    public var sink: (String) -> Void
    private let lock = NSLock()
    public private(set) var emitted: [Diagnostic] = []

    public init(toolName: String, sink: ((String) -> Void)? = nil) {
        self.toolName = toolName
        self.sink = sink ?? { message in
            // File names in messages go out as their original bytes (`Path.decode`).
            FileHandle.standardError.write(Data(Path.fileSystemBytes(message + "\n")))
        }
    }

    public var hasErrors: Bool { lock.withLock { emitted.contains { $0.severity >= .error } } }
    public var errorCount: Int { lock.withLock { emitted.filter { $0.severity >= .error }.count } }

    public func emit(_ diagnostic: Diagnostic) {
        var d = diagnostic
        if d.severity == .warning {
            if suppressWarnings { return }
            if warningsAsErrors { d.severity = .error }
        }
        // One message at a time: tools report from several threads (popcorn-ld's per-ISA
        // links), and lines must neither interleave nor race on a capturing sink.
        lock.withLock {
            emitted.append(d)
            sink(d.location == nil ? "\(toolName): \(d)" : d.description)
        }
    }

    public func error(_ message: String, at location: SourceLocation? = nil) {
        emit(Diagnostic(.error, message, at: location))
    }
    public func warning(_ message: String, at location: SourceLocation? = nil) {
        emit(Diagnostic(.warning, message, at: location))
    }
    public func note(_ message: String, at location: SourceLocation? = nil) {
        emit(Diagnostic(.note, message, at: location))
    }

    /// Reports any error: ones that know their diagnostic speak for themselves.
    public func report(_ error: Error) {
        if let d = error as? DiagnosticConvertible { emit(d.diagnostic) }
        else { self.error(String(describing: error)) }
    }

    /// Prints a line to stderr without a severity (for `-v` and progress output).
    public func remark(_ line: String) { lock.withLock { sink(line) } }
}
