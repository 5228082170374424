import CPopcornMetadata
import Foundation
import PopcornSupport

/// The link identity (`.popcorn.identity`, docs/METADATA.md "Link identity"; the C view is
/// `struct popcorn_link_identity` in popcorn_metadata.h): one 48-byte record, the same in every
/// binary of one link — the magic `POPCLINK`, version 1, digest size 32, and the SHA-256 of the
/// binaries' contents in ISA order (each preceded by its length as a little-endian u64), taken
/// before the record was added.
public enum LinkIdentity {
    public static let sectionName = POPCORN_LINK_IDENTITY_SECTION
    public static let magic: [UInt8] = Array(POPCORN_LINK_IDENTITY_MAGIC.utf8)
    public static let version = UInt32(POPCORN_LINK_IDENTITY_VERSION)
    public static let recordSize = MemoryLayout<popcorn_link_identity>.size

    /// The record for binaries with these contents, in ISA order.
    public static func record(for contents: [Data]) -> Data {
        var hasher = SHA256()
        for data in contents {
            var length = UInt64(data.count).littleEndian
            withUnsafeBytes(of: &length) { hasher.update($0) }
            hasher.update(data)
        }
        var record = Data(magic)
        for field in [version, UInt32(SHA256.digestSize)] {
            var value = field.littleEndian
            withUnsafeBytes(of: &value) { record.append(contentsOf: $0) }
        }
        record.append(contentsOf: hasher.finalize())
        return record
    }

    /// The digest in a `.popcorn.identity` section's contents, or nil when they are not a record.
    public static func digest(ofSectionContents data: Data) -> [UInt8]? {
        let bytes = [UInt8](data)
        guard bytes.count == recordSize, Array(bytes[0..<8]) == magic,
              bytes[8..<12].elementsEqual([UInt8(version), 0, 0, 0]),
              bytes[12..<16].elementsEqual([UInt8(SHA256.digestSize), 0, 0, 0]) else { return nil }
        return Array(bytes[16...])
    }
}
