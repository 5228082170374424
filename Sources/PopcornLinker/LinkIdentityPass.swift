import Foundation
import PopcornMetadata
import PopcornSupport

/// Pass 10 (after the metadata, before the commit): the link identity (`.popcorn.identity`,
/// docs/METADATA.md "Link identity").
///
/// A process moves by exec'ing a sibling binary with its memory; the runtime must know that the
/// sibling is the other half of the same link, not a stale build or another program that happens
/// to have the right name and ELF machine. Every binary of one link gets the same record
/// (`LinkIdentity`). Identical inputs give an identical identity (reproducible builds); any change
/// to any binary of the link gives another.
///
/// Pre: the binaries are final (metadata appended, `-s` relinks done).
/// Post: every binary carries a non-allocated `.popcorn.identity` section with the same record;
/// nothing loaded has moved.
public enum LinkIdentityPass {
    public static let sectionName = LinkIdentity.sectionName

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
        let identity = LinkIdentity.record(for: contents)
        for (_, path) in ordered {
            try SectionAppender.append(section: sectionName, contents: identity, toFileAt: path)
        }
        return identity
    }
}
