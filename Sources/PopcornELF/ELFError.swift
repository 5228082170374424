import Foundation
import PopcornSupport

/// Everything that can be wrong with an ELF file or a multi-ISA object container.
///
/// Every message names the file, because the linker reports these while juggling dozens of
/// inputs and archive members (`'libc.a(printf.o)': …`).
public enum ELFError: Error, DiagnosticConvertible, Equatable {
    /// The file could not be read at all.
    case cannotRead(path: String, reason: String)
    /// The file does not start with the ELF magic bytes.
    case notELF(path: String)
    /// ELF, but not a flavour we read (32-bit, big-endian, unknown version).
    case unsupported(path: String, what: String)
    /// A structure (`what`) extends past the end of the file.
    case truncated(path: String, what: String)
    /// A field holds a value that cannot be right (bad size, bad index, bad string offset).
    case malformed(path: String, reason: String)
    /// The object is not suitable for the requested operation (e.g. not relocatable).
    case invalidInput(path: String, reason: String)
    /// `objects(in:)` was given an ELF file without the `.popcorn.object` marker.
    case notContainer(path: String)
    /// The container's marker or embedded sections are inconsistent.
    case badContainer(path: String, reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case let .cannotRead(path, reason):
            return Diagnostic(.error, "'\(path)': unable to read file: \(reason)")
        case let .notELF(path):
            return Diagnostic(.error, "'\(path)': not an ELF file")
        case let .unsupported(path, what):
            return Diagnostic(.error, "'\(path)': unsupported ELF file: \(what)")
        case let .truncated(path, what):
            return Diagnostic(.error, "'\(path)': truncated \(what)")
        case let .malformed(path, reason):
            return Diagnostic(.error, "'\(path)': malformed ELF file: \(reason)")
        case let .invalidInput(path, reason):
            return Diagnostic(.error, "'\(path)': \(reason)")
        case let .notContainer(path):
            return Diagnostic(.error, "'\(path)': not a popcorn multi-ISA object (no '.popcorn.object' section); compile it with popcorn-cc")
        case let .badContainer(path, reason):
            return Diagnostic(.error, "'\(path)': corrupt popcorn multi-ISA object: \(reason)")
        }
    }
}
