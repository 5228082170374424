import Foundation
import PopcornSupport

/// Everything that can go wrong while decoding stackmaps or call frame information, building the
/// `.popcorn.meta` section, verifying it across ISAs, or reading it back.
///
/// Messages name the file and, where one is known, the function, because the linker reports
/// these for whole programs and the user needs to know which source function to look at.
public enum MetadataError: Error, DiagnosticConvertible, Equatable {
    /// A structure ended before all of its fields could be read (`context` names the section).
    case truncated(context: String, what: String)
    /// A field holds a value that cannot be right.
    case malformed(context: String, reason: String)
    /// A valid construct this toolchain does not handle (DWARF expressions, odd encodings, …).
    case unsupported(context: String, what: String)
    /// A binary lacks a section the metadata is built from.
    case missingSection(path: String, section: String)
    /// A function with call sites has no usable `.eh_frame` description.
    case noFrameInfo(isa: ISA, function: String, address: UInt64)
    /// A call site's frame cannot be described for the runtime.
    case badCallSite(isa: ISA, function: String, id: UInt64, reason: String)
    /// The binaries of different ISAs disagree about a call site or function.
    case mismatch(function: String, id: UInt64?, reason: String)
    /// `build(binaries:)` was given something other than one binary per ISA.
    case invalidInput(reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case let .truncated(context, what):
            return Diagnostic(.error, "\(context): truncated \(what)")
        case let .malformed(context, reason):
            return Diagnostic(.error, "\(context): malformed: \(reason)")
        case let .unsupported(context, what):
            return Diagnostic(.error, "\(context): unsupported \(what)")
        case let .missingSection(path, section):
            return Diagnostic(.error, "'\(path)': no '\(section)' section")
        case let .noFrameInfo(isa, function, address):
            return Diagnostic(.error, "\(isa): function '\(function)' (0x\(String(address, radix: 16))) has call sites but no call frame information in '.eh_frame'")
        case let .badCallSite(isa, function, id, reason):
            return Diagnostic(.error, "\(isa): function '\(function)': call site \(MetadataError.hex(id)): \(reason)")
        case let .mismatch(function, id, reason):
            let site = id.map { " call site \(MetadataError.hex($0)):" } ?? ""
            return Diagnostic(.error, "function '\(function)':\(site) \(reason)")
        case let .invalidInput(reason):
            return Diagnostic(.error, "stack transformation metadata: \(reason)")
        }
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
