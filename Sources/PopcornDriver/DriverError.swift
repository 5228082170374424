import PopcornSupport

/// Problems with what the command line asks for (as opposed to how it is spelled, see
/// `OptionError`): unsupported options and inputs, missing files, conflicting outputs.
/// Some cases are warnings; `diagnostic` carries the severity.
public enum DriverError: Error, DiagnosticConvertible, Equatable {
    case noInputFiles
    case noSuchFile(String)
    case unsupportedOption(String, reason: String)
    case unsupportedInput(String, reason: String)
    case unsupportedLanguage(String)
    case multipleOutputsWithOutputFile
    case standardInputNeedsLanguage
    case invalidOptimizationLevel(String)
    case invalidSaveTemps(String)
    case cc1popcornNotFirst
    case linkerInputUnused(String)
    case argumentUnused(String)
    case argumentIgnored(String, reason: String)
    case invalidValue(String, argument: String)
    case invalidBranchProtection(String, argument: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .noInputFiles:
            return Diagnostic(.error, "no input files")
        case let .noSuchFile(path):
            return Diagnostic(.error, "no such file or directory: '\(path)'")
        case let .unsupportedOption(arg, reason):
            return Diagnostic(.error, "unsupported option '\(arg)': \(reason)")
        case let .unsupportedInput(path, reason):
            return Diagnostic(.error, "unsupported input '\(path)': \(reason)")
        case let .unsupportedLanguage(language):
            return Diagnostic(.error, "language '\(language)' is not supported: popcorn-cc compiles C only (use -x c, -x cpp-output or -x none)")
        case .multipleOutputsWithOutputFile:
            return Diagnostic(.error, "cannot specify -o when generating multiple output files")
        case .standardInputNeedsLanguage:
            return Diagnostic(.error, "-E or -x required when input is from standard input")
        case let .invalidOptimizationLevel(arg):
            return Diagnostic(.error, "invalid integral value '\(arg.dropFirst(2))' in '\(arg)'")
        case let .invalidSaveTemps(value):
            return Diagnostic(.error, "invalid value '\(value)' in '-save-temps=\(value)' (expected 'cwd' or 'obj')")
        case .cc1popcornNotFirst:
            return Diagnostic(.error, "'-cc1popcorn' must be the first argument")
        case let .linkerInputUnused(path):
            return Diagnostic(.warning, "\(path): 'linker' input unused")
        case let .argumentUnused(arg):
            return Diagnostic(.warning, "argument unused during compilation: '\(arg)'")
        case let .argumentIgnored(arg, reason):
            return Diagnostic(.warning, "argument '\(arg)' ignored: \(reason)")
        case let .invalidValue(value, argument):
            return Diagnostic(.error, "invalid value '\(value)' in '\(argument)'")
        case let .invalidBranchProtection(part, argument):
            return Diagnostic(.error, "invalid branch protection option '\(part)' in '\(argument)'")
        }
    }
}
