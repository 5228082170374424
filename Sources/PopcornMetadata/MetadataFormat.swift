import CPopcornMetadata
import Foundation
import PopcornSupport

/// Constants of the `.popcorn.meta` format (specified in `docs/METADATA.md`). Sizes, offsets,
/// flags, codes and the version come from `Toolchain/include/popcorn_metadata.h` — the runtime's
/// own declaration, imported as the module `CPopcornMetadata` — so the format is declared once.
public enum MetadataFormat {
    /// The section every final binary carries (non-allocated; the runtime reads it from the file).
    public static let sectionName = POPCORN_META_SECTION
    /// First 8 bytes of every blob.
    public static let magic: [UInt8] = Array(POPCORN_META_MAGIC.utf8)
    /// Version 5: pooled live values and frames (with the frame size and return-address slot),
    /// a site's live values as a bit mask over a value sequence its function's sites share,
    /// 32-bit addresses relative to `address_base`, a checksum in the header's last field, and
    /// 16-byte call sites in ID order without the IDs (the same order on every ISA names them).
    /// Earlier versions are not read.
    public static let version = UInt16(POPCORN_META_VERSION)

    /// Where the header keeps the table's checksum (the last 8 bytes of the 120-byte header).
    public static let checksumOffset = MemoryLayout<popcorn_meta_header>.offset(of: \.checksum)!

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
    public static let headerSize = MemoryLayout<popcorn_meta_header>.size
    public static let functionSize = MemoryLayout<popcorn_meta_function>.size
    public static let callSiteSize = MemoryLayout<popcorn_meta_call_site>.size
    public static let frameSize = MemoryLayout<popcorn_meta_frame>.size
    public static let liveValueSize = MemoryLayout<popcorn_meta_live_value>.size
    public static let savedRegisterSize = MemoryLayout<popcorn_meta_saved_register>.size
    public static let indexEntrySize = MemoryLayout<UInt32>.size
    /// Every table and every array starts at a multiple of this.
    public static let alignment = 8

    /// Header flags: value-list entries are 32-bit (more than 65536 distinct live values);
    /// otherwise they are 16-bit.
    public static let tableWideValueIndex = UInt32(POPCORN_META_WIDE_VALUE_INDEX)

    /// Frame flags.
    public static let siteFramePointerSaved = UInt8(POPCORN_META_SITE_FP_SAVED)
    public static let siteDynamicFrame = UInt8(POPCORN_META_SITE_DYNAMIC_FRAME)

    /// Live-value flags.
    public static let valuePointer = UInt8(POPCORN_META_VALUE_POINTER)
    public static let valueCFARelative = UInt8(POPCORN_META_VALUE_CFA_RELATIVE)
    public static let valueDerived = UInt8(POPCORN_META_VALUE_DERIVED)
    public static let valueAlloca = UInt8(POPCORN_META_VALUE_ALLOCA)
    public static let valueHoldsPointer = UInt8(POPCORN_META_VALUE_HOLDS_POINTER)
    /// `base` of a live value that is not a derived pointer.
    public static let noBase = UInt16(POPCORN_META_NO_BASE)

    /// The `isa` field of the header.
    public static func code(for isa: ISA) -> UInt16 {
        switch isa {
        case .x86_64: UInt16(POPCORN_META_ISA_X86_64)
        case .aarch64: UInt16(POPCORN_META_ISA_AARCH64)
        }
    }

    /// The ISA of an `isa` header field.
    public static func isa(code: UInt16) -> ISA? {
        ISA.allCases.first { Self.code(for: $0) == code }
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
