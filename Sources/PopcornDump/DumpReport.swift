import Foundation
import PopcornELF
import PopcornMetadata
import PopcornSupport

/// Everything popcorn-dump knows about one multi-ISA program: its per-ISA binaries, whether
/// they agree on symbol addresses, and their stack-transformation metadata.
public struct DumpReport: Sendable {
    /// One entry per ISA, in `ISA` order.
    public var binaries: [BinarySummary]
    public var alignment: AlignmentReport
    /// The decoded `.popcorn.meta`; `nil` when the binaries have none.
    public var callSites: CallSiteReport?
    /// What is wrong with the binaries' link identities (each must carry the same one).
    public var identityProblems: [String]

    /// Reads `primary` and its siblings `primary.<isa>` (see `ISA.siblingPath`), checking that
    /// each file holds the ISA its name promises, and compares their symbol tables.
    public init(primary: String) throws {
        var files: [ISA: ELFFile] = [:]
        for isa in ISA.allCases {
            let path = isa.siblingPath(of: primary)
            do {
                files[isa] = try ELFFile(contentsOf: path)
            } catch ELFError.cannotRead(_, "no such file or directory") where path != primary {
                throw DumpError.missingSibling(path: path, isa: isa, primary: primary)
            }
            guard files[isa]!.machine == isa.elfMachine else {
                throw DumpError.wrongISA(path: path, expected: isa, machine: files[isa]!.machine)
            }
        }
        try self.init(files: files)
    }

    /// Summarises already-read binaries.
    /// - Throws: `MetadataError` if a `.popcorn.meta` section is malformed.
    public init(files: [ISA: ELFFile]) throws {
        binaries = files.keys.sorted().map { BinarySummary(isa: $0, file: files[$0]!) }
        alignment = try AlignmentChecker.check(files)
        callSites = try CallSiteReport(files: files)
        identityProblems = DumpReport.checkIdentities(files)
    }

    /// Every binary carries a link identity, and all carry the same: the runtime moves only
    /// between binaries of one link.
    static func checkIdentities(_ files: [ISA: ELFFile]) -> [String] {
        var problems: [String] = []
        var digests: [ISA: [UInt8]] = [:]
        for (isa, file) in files.sorted(by: { $0.key < $1.key }) {
            guard let section = file.section(named: LinkIdentity.sectionName) else {
                problems.append("'\(file.path)': no '\(LinkIdentity.sectionName)' link identity (link with this popcorn-ld)")
                continue
            }
            guard let contents = try? file.contents(of: section), let digest = LinkIdentity.digest(ofSectionContents: contents) else {
                problems.append("'\(file.path)': the '\(LinkIdentity.sectionName)' section is damaged")
                continue
            }
            digests[isa] = digest
        }
        if Set(digests.values).count > 1 {
            problems.append("the binaries come from different links: " + digests.keys.sorted()
                .map { "\(files[$0]!.path) \(digests[$0]!.prefix(6).map { String(format: "%02x", $0) }.joined())" }
                .joined(separator: ", "))
        }
        return problems
    }

    /// Problems `--verify` reports besides misaligned symbols: missing or inconsistent metadata.
    public var metadataProblems: [String] {
        guard let callSites else {
            return ["no '\(MetadataFormat.sectionName)' stack transformation metadata (link with popcorn-ld)"] + identityProblems
        }
        return callSites.problems + identityProblems
    }

    private static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// The human-readable report.
    public func text() -> String {
        var lines: [String] = []
        for binary in binaries {
            lines.append("\(binary.isa): \(binary.path)")
            lines.append("  entry point: \(DumpReport.hex(binary.entry))")
            lines.append("  sections:")
            let width = max(24, (binary.sections.map(\.name.count).max() ?? 0) + 2)
            func padded(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
            lines.append("    " + padded("name", width) + padded("address", 20) + padded("size", 12) + "flags")
            for s in binary.sections {
                lines.append("    " + padded(s.name, width) + padded(DumpReport.hex(s.address), 20)
                             + padded(DumpReport.hex(s.size), 12) + s.flags)
            }
            if !binary.metadata.isEmpty {
                lines.append("  popcorn metadata:")
                for m in binary.metadata { lines.append("    \(padded(m.name, width))size \(DumpReport.hex(m.size))") }
            }
        }
        lines += callSiteText()
        let count = alignment.mismatches.count
        lines.append("alignment: \(alignment.checkedSymbols) symbols checked, \(count) mismatch\(count == 1 ? "" : "es")"
                     + (alignment.isAligned ? " (aligned)" : " (NOT aligned)"))
        for m in alignment.mismatches { lines.append("  \(m)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as a JSON document.
    public func json() -> JSONValue {
        let binariesJSON: [(String, JSONValue)] = binaries.map { b in
            (b.isa.rawValue, .object([
                ("path", .string(b.path)),
                ("entry", .integer(b.entry)),
                ("sections", .array(b.sections.map { s in
                    .object([("name", .string(s.name)), ("address", .integer(s.address)),
                             ("size", .integer(s.size)), ("flags", .string(s.flags))])
                })),
                ("metadata", .array(b.metadata.map { m in
                    .object([("name", .string(m.name)), ("address", .integer(m.address)), ("size", .integer(m.size))])
                })),
            ]))
        }
        let mismatches: [JSONValue] = alignment.mismatches.map { m in
            .object([
                ("name", .string(m.name)),
                ("fileScope", m.fileScope.map(JSONValue.string) ?? .null),
                ("addresses", .object(m.addresses.keys.sorted().map { ($0.rawValue, .integer(m.addresses[$0]!)) })),
            ])
        }
        return .object([
            ("binaries", .object(binariesJSON)),
            ("callSites", .array((callSites?.entries ?? []).map { entry in
                .object([
                    ("index", .integer(entry.id)),
                    ("function", .string(entry.function)),
                    ("sites", .object(entry.sites.keys.sorted().map { ($0.rawValue, CallSiteFormatter.json(entry.sites[$0]!.site, isa: $0)) })),
                ])
            })),
            ("stackTransformMetadata", callSites.map { report in
                .object([
                    ("tables", .object(report.tables.map { table in
                        (table.isa.rawValue, .object([
                            ("sectionSize", .integer(UInt64(report.sectionSizes[table.isa] ?? 0))),
                            ("size", .integer(UInt64(report.tableSize(table.isa) ?? 0))),
                            ("functions", .integer(UInt64(table.functions.count))),
                            ("callSites", .integer(UInt64(table.callSites.count))),
                            ("siteSetHash", .integer(table.siteSetHash)),
                        ]))
                    })),
                    ("problems", .array(report.problems.map(JSONValue.string))),
                ])
            } ?? .null),
            ("alignment", .object([
                ("checkedSymbols", .integer(UInt64(alignment.checkedSymbols))),
                ("aligned", .bool(alignment.isAligned)),
                ("mismatches", .array(mismatches)),
            ])),
        ])
    }

    /// The call-site section of the text report.
    private func callSiteText() -> [String] {
        guard let report = callSites else { return ["call sites: no \(MetadataFormat.sectionName) section"] }
        let sizes = report.tables.map { "\($0.isa) \(report.sectionSizes[$0.isa] ?? 0)" }.joined(separator: ", ")
        var lines = ["call sites: \(report.entries.count) (\(MetadataFormat.sectionName) bytes: \(sizes))"]
        for entry in report.entries {
            lines.append("  #\(entry.id) in '\(entry.function)'")
            for isa in entry.sites.keys.sorted() {
                lines += CallSiteFormatter.text(entry.sites[isa]!.site, isa: isa).map { "    " + $0 }
            }
        }
        for problem in report.problems { lines.append("  problem: \(problem)") }
        return lines
    }
}
