import Foundation
import PopcornELF
import PopcornMetadata
import PopcornSupport

/// Pass 9 (after verification, before `-s` relinks and the commit): the stack-transformation metadata (`.popcorn.meta`, docs/METADATA.md).
///
/// Pre: the final binaries are linked and verified (addresses are final) and still carry their
/// symbol tables, `.llvm_stackmaps`, `.eh_frame` and `.popcorn.callsites`.
/// Post: `build` has produced every ISA's table, checked across ISAs (call sites pair up by ID,
/// frames are describable); `append` has added to each binary, as a non-allocated section, the
/// table of its own ISA, and removed `.llvm_stackmaps` and `.popcorn.callsites`. A binary needs
/// another ISA's table only to move there, and then reads it from that ISA's binary (which the
/// move runs anyway, checked to come from the same link): carrying every table in every binary
/// made each one carry the metadata twice. A program without any stackmaps (compiled with
/// `-fpopcorn-migration=none`) gets tables with no call sites, so the runtime and popcorn-dump
/// can tell "no migration points" from "not a popcorn binary".
public enum MetadataPass {
    /// The section every binary receives.
    public static let sectionName = MetadataFormat.sectionName

    /// What the pass produced.
    public struct Result: Sendable, Equatable {
        /// Per ISA: the section contents that ISA's binary receives (its own table).
        public var sections: [ISA: Data]
        /// Call sites left out because their frame cannot be described (one message each).
        public var omitted: [String]
        /// Per ISA: the number of call sites and the bytes of that ISA's table.
        public var callSites: [ISA: Int]
        public var tableSizes: [ISA: Int]
    }

    /// Builds the section from the final binaries at `binaries`.
    ///
    /// A call site whose frame cannot be described on some ISA (today: popcorn-cc sometimes lets
    /// code be scheduled between a call and its stackmap, e.g. stores of a two-register return
    /// value) is left out of every table and reported in `omitted`: the program still links and
    /// runs, it just cannot migrate at that call.
    ///
    /// - Throws: `MetadataError` naming the function and call site when the metadata would be
    ///   wrong as a whole (sites that do not pair up across ISAs, malformed stackmaps or CFI).
    public static func build(binaries: [ISA: String]) throws -> Result {
        var files: [ISA: ELFFile] = [:]
        for (isa, path) in binaries { files[isa] = try ELFFile(contentsOf: path) }
        let (tables, omitted) = try MetadataBuilder.tablesOmittingUnusableSites(binaries: files)
        let blobs = try MetadataWriter.encode(tables)
        // A section of one table is that table's encoding.
        return Result(sections: blobs, omitted: omitted.map { $0.diagnostic.message },
                      callSites: Dictionary(uniqueKeysWithValues: tables.map { ($0.isa, $0.callSites.count) }),
                      tableSizes: blobs.mapValues(\.count))
    }

    /// The sections `.popcorn.meta` is built from. Once it is, nothing reads them (the runtime and
    /// popcorn-dump use `.popcorn.meta` alone), and they are larger than the metadata itself.
    public static let inputSections: Set<String> = Set(LayoutPlanner.fileOnlySections)

    /// Appends to every binary its ISA's section and removes the metadata's input sections and the
    /// symbols of generated names (`GeneratedSymbolNames`: string literals and other private
    /// constants, which the verifier has checked by then) (in place, atomically per file; nothing
    /// loaded moves).
    public static func append(_ result: Result, to binaries: [ISA: String]) throws {
        // Each binary is rewritten on its own, at the same time.
        _ = try PerISA.concurrently(Array(binaries.keys)) { isa in
            try SectionAppender.append(section: sectionName, contents: result.sections[isa]!, removing: inputSections,
                                       droppingLocalData: GeneratedSymbolNames.isGenerated, toFileAt: binaries[isa]!)
        }
    }

    /// The `-v` line for one ISA.
    public static func summary(_ result: Result, isa: ISA) -> String {
        let sites = result.callSites[isa] ?? 0
        return "\(isa): \(sites) call site\(sites == 1 ? "" : "s"), \(result.tableSizes[isa] ?? 0) bytes of metadata"
            + " (section \(sectionName): \(result.sections[isa]?.count ?? 0) bytes)"
    }
}
