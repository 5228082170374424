import Foundation
import PopcornSupport

/// Pass 10 (after the metadata, before the commit): the link identity (`.popcorn.identity`,
/// docs/METADATA.md "Link identity").
///
/// A process moves by exec'ing a sibling binary with its memory; the runtime must know that the
/// sibling is the other half of the same link, not a stale build or another program that happens
/// to have the right name and ELF machine. Every binary of one link gets the same 48-byte record:
/// the magic `POPCLINK`, version 1, digest size 32, and the SHA-256 of the binaries' contents in
/// ISA order (each preceded by its length as a little-endian u64), taken before the record was
/// added. Identical inputs give an identical identity (reproducible builds); any change to any
/// binary of the link gives another.
///
/// Pre: the binaries are final (metadata appended, `-s` relinks done).
/// Post: every binary carries a non-allocated `.popcorn.identity` section with the same record;
/// nothing loaded has moved.
public enum LinkIdentityPass {
    public static let sectionName = ".popcorn.identity"
    public static let magic: [UInt8] = Array("POPCLINK".utf8)
    public static let version: UInt32 = 1
    public static let recordSize = 48

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

    /// Adds the identity of `binaries` to each of them; returns the record.
    @discardableResult
    public static func write(to binaries: [ISA: String]) throws -> Data {
        let ordered = binaries.sorted { $0.key < $1.key }
        var contents: [Data] = []
        for (_, path) in ordered {
            do { contents.append(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw LinkerError.unreadable(path: path, reason: error.localizedDescription)
            }
        }
        let identity = record(for: contents)
        for (_, path) in ordered {
            try SectionAppender.append(section: sectionName, contents: identity, toFileAt: path)
        }
        return identity
    }

    /// The identity record of a linked binary, or nil when it has none (not linked by popcorn-ld,
    /// or linked before identities existed).
    public static func identity(ofSectionContents data: Data) -> [UInt8]? {
        let bytes = [UInt8](data)
        guard bytes.count == recordSize, Array(bytes[0..<8]) == magic,
              bytes[8..<12].elementsEqual([UInt8(version), 0, 0, 0]),
              bytes[12..<16].elementsEqual([UInt8(SHA256.digestSize), 0, 0, 0]) else { return nil }
        return Array(bytes[16...])
    }
}
