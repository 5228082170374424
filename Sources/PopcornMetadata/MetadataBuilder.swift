import Foundation
import PopcornELF
import PopcornSupport

/// Builds the `.popcorn.meta` contents of a program from its linked binaries (one per ISA).
///
/// Used by popcorn-ld after the final links: each binary's stackmaps, CFI and symbol table give
/// its ISA's table; the tables are then checked against each other, so a program whose call
/// sites do not pair up across ISAs is refused at link time instead of failing at migration.
public enum MetadataBuilder {
    /// Per-ISA encoded tables (each a `.popcorn.meta` blob), after cross-ISA verification.
    ///
    /// - Parameters:
    ///   - binaries: the final linked binary of every ISA, keyed by ISA.
    ///   - annotations: per call-site ID, what the compiler knows about each live value
    ///     (pointer flag, alloca size), in stackmap operand order; `nil` reads each binary's
    ///     `.popcorn.callsites` side table (written by popcorn-cc), if it has one.
    public static func build(binaries: [ISA: ELFFile],
                             annotations: [UInt64: [LiveValueAnnotation]]? = nil) throws -> [ISA: Data] {
        var result: [ISA: Data] = [:]
        for table in try tables(binaries: binaries, annotations: annotations) {
            result[table.isa] = try MetadataWriter.encode(table)
        }
        return result
    }

    /// The section contents to add to every binary: all ISAs' tables, in ISA order.
    public static func section(binaries: [ISA: ELFFile],
                               annotations: [UInt64: [LiveValueAnnotation]]? = nil) throws -> Data {
        try MetadataWriter.section(try tables(binaries: binaries, annotations: annotations))
    }

    /// The compiler's side tables of all `binaries`, merged. popcorn-cc writes the table into one
    /// ISA's object only (it describes the portable module's operands, the same for every ISA);
    /// objects of earlier compilers carry it in every ISA's. A site described twice must be
    /// described alike. `nil` when no binary has a table.
    static func sideTable(of binaries: [ISA: ELFFile]) throws -> [UInt64: [LiveValueAnnotation]]? {
        var merged: [UInt64: [LiveValueAnnotation]]?
        for isa in binaries.keys.sorted() {
            guard let table = try CallSiteTableReader.read(binaries[isa]!) else { continue }
            try merged = (merged ?? [:]).merging(table) { first, second in
                guard first == second else {
                    throw MetadataError.invalidInput(reason: "the ISAs' call-site side tables describe a site differently")
                }
                return first
            }
        }
        return merged
    }

    /// The decoded, verified tables, in ISA order (for tools and tests).
    public static func tables(binaries: [ISA: ELFFile],
                              annotations: [UInt64: [LiveValueAnnotation]]? = nil) throws -> [StackTransformMetadata] {
        guard !binaries.isEmpty else { throw MetadataError.invalidInput(reason: "no binaries") }
        let annotations = try annotations ?? sideTable(of: binaries) ?? [:]
        var tables: [StackTransformMetadata] = []
        for (isa, file) in binaries.sorted(by: { $0.key < $1.key }) {
            guard file.isa == isa else {
                throw MetadataError.invalidInput(reason: "'\(file.path)' is not an \(isa) binary")
            }
            tables.append(try ISAMetadataBuilder(file: file, isa: isa, annotations: annotations).build())
        }
        try CrossISAVerifier.verify(tables)
        return tables
    }

    /// Like `tables(binaries:annotations:)`, but call sites whose frame cannot be described on some
    /// ISA (`MetadataError.badCallSite`: a stackmap not right after its call, a value in a
    /// clobbered register, …) are left out of every ISA's table instead of failing the build.
    /// The runtime then cannot migrate at those sites; the returned errors say which and why.
    /// Everything else (malformed sections, sites that do not pair up) still throws.
    public static func tablesOmittingUnusableSites(binaries: [ISA: ELFFile],
                                                   annotations: [UInt64: [LiveValueAnnotation]]? = nil)
        throws -> (tables: [StackTransformMetadata], omitted: [MetadataError]) {
        guard !binaries.isEmpty else { throw MetadataError.invalidInput(reason: "no binaries") }
        for (isa, file) in binaries where file.isa != isa {
            throw MetadataError.invalidInput(reason: "'\(file.path)' is not an \(isa) binary")
        }
        let annotations = try annotations ?? sideTable(of: binaries) ?? [:]
        // The ISAs' tables are independent: built at the same time, collected in ISA order.
        let built = try PerISA.concurrently(Array(binaries.keys)) { isa in
            var rejected: [(id: UInt64, error: MetadataError)] = []
            let table = try ISAMetadataBuilder(file: binaries[isa]!, isa: isa, annotations: annotations).build(rejecting: &rejected)
            return (table: table, rejected: rejected)
        }
        var tables: [StackTransformMetadata] = []
        var rejected: [(id: UInt64, error: MetadataError)] = []
        for isa in built.keys.sorted() {
            tables.append(built[isa]!.table)
            rejected += built[isa]!.rejected
        }
        let omittedIDs = Set(rejected.map(\.id))
        for i in tables.indices { tables[i].callSites.removeAll { omittedIDs.contains($0.id) } }
        try CrossISAVerifier.verify(tables)
        return (tables, rejected.map(\.error))
    }
}
