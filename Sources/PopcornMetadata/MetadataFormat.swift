import Foundation
import PopcornSupport

/// Constants of the `.popcorn.meta` format (specified in `docs/METADATA.md` and
/// `Toolchain/include/popcorn_metadata.h`; keep all three in step).
public enum MetadataFormat {
    /// The section every final binary carries (non-allocated; the runtime reads it from the file).
    public static let sectionName = ".popcorn.meta"
    /// First 8 bytes of every blob.
    public static let magic: [UInt8] = Array("POPCMETA".utf8)
    public static let version: UInt16 = 1

    /// Sizes of the fixed-size records, in bytes.
    public static let headerSize = 96
    public static let functionSize = 32
    public static let callSiteSize = 56
    public static let liveValueSize = 32
    public static let savedRegisterSize = 8
    public static let indexEntrySize = 4
    /// Every table and every blob starts at a multiple of this.
    public static let alignment = 8

    /// Call-site flags.
    public static let siteFramePointerSaved: UInt32 = 1
    public static let siteDynamicFrame: UInt32 = 2

    /// Live-value flags.
    public static let valuePointer: UInt8 = 1
    public static let valueCFARelative: UInt8 = 2
    public static let valueDerived: UInt8 = 4
    public static let valueAlloca: UInt8 = 8
    public static let valueHoldsPointer: UInt8 = 16
    /// `base` of a live value that is not a derived pointer.
    public static let noBase: UInt16 = 0xffff

    /// The `isa` field of the header.
    public static func code(for isa: ISA) -> UInt16 {
        switch isa {
        case .x86_64: 1
        case .aarch64: 2
        }
    }

    /// The ISA of an `isa` header field.
    public static func isa(code: UInt16) -> ISA? {
        switch code {
        case 1: .x86_64
        case 2: .aarch64
        default: nil
        }
    }
}
