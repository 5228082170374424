import PopcornSupport

/// Errors in the command line itself: unknown options, missing values, bad response files.
public enum OptionError: Error, DiagnosticConvertible, Equatable {
    case unknownArgument(String)
    case missingValue(option: String)
    case recursiveResponseFile(path: String)
    case unreadableResponseFile(path: String, reason: String)
    case invalidValue(value: String, argument: String)

    public var diagnostic: Diagnostic {
        switch self {
        case let .unknownArgument(arg):
            return Diagnostic(.error, "unknown argument: '\(arg)'")
        case let .missingValue(option):
            return Diagnostic(.error, "argument to '\(option)' is missing (expected 1 value)")
        case let .recursiveResponseFile(path):
            return Diagnostic(.error, "recursive expansion of response file '@\(path)'")
        case let .unreadableResponseFile(path, reason):
            return Diagnostic(.error, "cannot read response file '\(path)': \(reason)")
        case let .invalidValue(value, argument):
            return Diagnostic(.error, "invalid value '\(value)' in '\(argument)'")
        }
    }
}
