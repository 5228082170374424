import Foundation
import PopcornSupport

/// Constants of the `.popcorn.meta` format (specified in `docs/METADATA.md` and
/// `Toolchain/include/popcorn_metadata.h`; keep all three in step).
public enum MetadataFormat {
    /// The section every final binary carries (non-allocated; the runtime reads it from the file).
    public static let sectionName = ".popcorn.meta"
    /// First 8 bytes of every blob.
    public static let magic: [UInt8] = Array("POPCMETA".utf8)
    /// Version 4: pooled live values, shared value lists (each a count and the indices) and
    /// frames (with the frame size and return-address slot), 32-bit addresses relative to
    /// `address_base`, a checksum in the header's last field, and 12-byte call sites in ID order
    /// without the IDs (the same order on every ISA names them). Earlier versions are not read.
    public static let version: UInt16 = 4

    /// Where the header keeps the table's checksum (the last 8 bytes of the 112-byte header).
    public static let checksumOffset = 104

    /// The checksum of one table (`total_size` bytes, a multiple of 8): FNV-1a over its
    /// little-endian 64-bit words, the checksum field read as zero. Each step is a bijection of
    /// the running value for a fixed word and of the word for a fixed running value, so a change
    /// of any one word always changes the result. It guards against damage, identical in every
    /// copy or not; what the metadata means is checked against the binary by `popcorn-dump
    /// --verify` (docs/METADATA.md, "Integrity").
    public static func checksum(of table: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var offset = 0
        while offset + 8 <= table.count {
            var word: UInt64 = 0
            if offset != checksumOffset {
                for i in 0..<8 { word |= UInt64(table[offset + i]) << (8 * UInt64(i)) }
            }
            hash = (hash ^ word) &* 0x0000_0100_0000_01b3
            offset += 8
        }
        return hash
    }

    /// Sizes of the fixed-size records, in bytes.
    public static let headerSize = 112
    public static let functionSize = 20
    public static let callSiteSize = 12
    public static let frameSize = 24
    public static let liveValueSize = 16
    public static let savedRegisterSize = 8
    public static let indexEntrySize = 4
    /// Every table and every array starts at a multiple of this.
    public static let alignment = 8

    /// Header flags: value-list entries are 32-bit (more than 65536 distinct live values);
    /// otherwise they are 16-bit.
    public static let tableWideValueIndex: UInt32 = 1

    /// Frame flags.
    public static let siteFramePointerSaved: UInt8 = 1
    public static let siteDynamicFrame: UInt8 = 2

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

    /// The CFA-relative offset of a frame slot that the format stores as `register + offset`:
    /// the format keeps only the stackmap's offset and this rule (the one `MetadataBuilder` uses)
    /// recovers the CFA offset. `nil` when the slot is addressed from a register whose distance
    /// to the CFA is not static (the frame pointer of an SP-based frame).
    public static func cfaOffset(register: UInt16, offset: Int32, frame: FrameLayout, isa: ISA) -> Int32? {
        let wide: Int64
        if register == frame.cfaRegister {
            wide = Int64(offset) - Int64(frame.cfaOffset)
        } else if register == RegisterFile(isa).stackPointer, let size = frame.frameSize {
            wide = Int64(offset) - Int64(size)
        } else {
            return nil
        }
        return Int32(exactly: wide)
    }
}
