import PopcornSupport

/// Errors of the `-cc1popcorn` back-end command line and its outputs.
public enum BackendCommandError: Error, DiagnosticConvertible, Equatable {
    case missingInput
    case missingOutput
    case extraInput(String)
    case unknownISA(String)
    case noResult(ISA)
    /// The back end already reported its errors; nothing more to say.
    case backendFailed

    public var diagnostic: Diagnostic {
        switch self {
        case .missingInput: return Diagnostic(.error, "-cc1popcorn: no bitcode input")
        case .missingOutput: return Diagnostic(.error, "-cc1popcorn: no output file (-o)")
        case let .extraInput(path): return Diagnostic(.error, "-cc1popcorn: only one input is allowed, got '\(path)' too")
        case let .unknownISA(name): return Diagnostic(.error, "-cc1popcorn: unknown ISA '\(name)'")
        case let .noResult(isa): return Diagnostic(.error, "back end produced no output for \(isa)")
        case .backendFailed: return Diagnostic(.error, "back end failed")
        }
    }
}
