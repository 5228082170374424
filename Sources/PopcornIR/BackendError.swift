import PopcornSupport

/// Why `Backend.run` stopped.
public enum BackendError: Error, DiagnosticConvertible, Equatable {
    /// The frontend's output could not be read as bitcode.
    case invalidBitcode(path: String, reason: String)
    /// Unsupported constructs were reported to the diagnostics engine (with their locations).
    case unsupportedConstructs(count: Int)
    /// The popcorn passes produced a module LLVM rejects (a toolchain bug, reported as such).
    case brokenModule(isa: String, reason: String)
    /// LLVM could not create a target machine or emit code.
    case codeGeneration(isa: String, reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case let .invalidBitcode(path, reason):
            return Diagnostic(.error, "invalid bitcode file '\(path)': \(reason)")
        case let .unsupportedConstructs(count):
            return Diagnostic(.error, "compilation stopped after \(count) error\(count == 1 ? "" : "s")")
        case let .brokenModule(isa, reason):
            return Diagnostic(.error, "internal error: popcorn passes produced an invalid \(isa) module: \(reason)")
        case let .codeGeneration(isa, reason):
            return Diagnostic(.error, "code generation for \(isa) failed: \(reason)")
        }
    }

    /// Maps a wrapper-layer failure to the backend's vocabulary.
    init(_ error: IRError, isa: String) {
        switch error {
        case let .invalidBitcode(path, reason): self = .invalidBitcode(path: path, reason: reason)
        case let .invalidIR(name, reason): self = .invalidBitcode(path: name, reason: reason)
        case let .verificationFailed(_, reason): self = .brokenModule(isa: isa, reason: reason)
        case let .unknownTarget(_, reason), let .emissionFailed(_, reason):
            self = .codeGeneration(isa: isa, reason: reason)
        }
    }
}
