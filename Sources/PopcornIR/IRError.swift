import CLLVM
import Foundation
import PopcornSupport

/// Failures of the LLVM wrapper layer: reading, verifying and lowering modules.
public enum IRError: Error, DiagnosticConvertible, Equatable {
    /// A bitcode file or buffer could not be read.
    case invalidBitcode(path: String, reason: String)
    /// Textual IR could not be parsed.
    case invalidIR(name: String, reason: String)
    /// `LLVMVerifyModule` rejected a module.
    case verificationFailed(module: String, reason: String)
    /// The target registry does not know a triple.
    case unknownTarget(triple: String, reason: String)
    /// The backend failed to produce code.
    case emissionFailed(isa: String, reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case let .invalidBitcode(path, reason):
            return Diagnostic(.error, "invalid bitcode file '\(path)': \(reason)")
        case let .invalidIR(name, reason):
            return Diagnostic(.error, "invalid IR in '\(name)': \(reason)")
        case let .verificationFailed(module, reason):
            return Diagnostic(.error, "broken module '\(module)': \(reason)")
        case let .unknownTarget(triple, reason):
            return Diagnostic(.error, "unable to create target for '\(triple)': \(reason)")
        case let .emissionFailed(isa, reason):
            return Diagnostic(.error, "code generation for \(isa) failed: \(reason)")
        }
    }
}

/// Takes ownership of an LLVM-allocated message (freeing it) and returns it as a Swift string.
func consumeMessage(_ message: UnsafeMutablePointer<CChar>?) -> String {
    guard let message else { return "unknown error" }
    defer { LLVMDisposeMessage(message) }
    return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
}
