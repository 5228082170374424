import Foundation
import PopcornSupport

/// Pass 5: computes one address layout for every ISA from the probe links (pure; no tools).
/// Pre: each ISA's allocated probe output sections with their input sections. Post: every kept
/// input section has an address; groups present on every ISA share one address with a slot of
/// `max(size)` aligned to `max(alignment)`; ISA-only groups sit in disjoint per-ISA ranges;
/// within each region the order is `[host-only][common][other ISAs' only]`; the TLS block has
/// one start, alignment and internal layout on every ISA.
public struct LayoutPlanner: Sendable {
    /// Where code starts: the page at `0x400000` holds the ELF and program headers.
    public var textStart: UInt64 = 0x401000
    /// Region starts are page-aligned. Every ISA uses 4 KiB pages: a migrating process keeps its
    /// address space page for page, so the page size must be the same on every ISA, and a larger
    /// alignment would cost up to 64 KiB of file padding per segment on aarch64.
    public var regionAlignment: UInt64 = LinkCommand.pageSize
    /// Output sections placed as whole units: their inputs must stay together in link order.
    public static let wholeSections: Set<String> = [".init", ".fini", ".preinit_array", ".init_array", ".fini_array"]
    /// Output sections lld synthesises from all inputs together; always per ISA.
    public static let syntheticSections: Set<String> = [".eh_frame", ".eh_frame_hdr"]

    public init() {}

    /// A group of input sections placed as one unit, with each ISA's share.
    struct Unit {
        struct Piece { var size: UInt64; var alignment: UInt64; var patterns: [SectionPattern] }
        var label: String
        var kind: String
        var region: Region
        var noBits: Bool
        var whole: Bool
        var synthetic: Bool
        var pieces: [ISA: Piece] = [:]
        var maxSize: UInt64 { pieces.values.map(\.size).max() ?? 0 }
        var maxAlignment: UInt64 { pieces.values.map(\.alignment).max() ?? 1 }
    }

    /// Which ISAs' address range a unit goes to.
    enum Phase: Hashable { case only(ISA), common }

    public func plan(_ probes: [ISA: [ProbeOutputSection]], host: ISA) throws -> Layout {
        let isas = [host] + probes.keys.filter { $0 != host }.sorted()
        let units = try Self.units(probes, isas: isas)
        let phases: [Phase] = [.only(host), .common] + isas.dropFirst().map { .only($0) }
        func phase(of unit: Unit) -> Phase {
            (!unit.synthetic && unit.pieces.count == isas.count) ? .common : .only(unit.pieces.keys.first!)
        }

        var sections: [ISA: [PlannedOutputSection]] = Dictionary(uniqueKeysWithValues: isas.map { ($0, []) })
        var common: [String: UInt64] = [:]
        var tlsBlock: (start: UInt64, alignment: UInt64)?
        var cursor = textStart

        // Places the units of one region phase by phase, opening an output section per
        // (phase, kind) and ISA.
        func place(_ regionUnits: [Unit], region: Region, forced: (start: UInt64?, alignment: UInt64?)? = nil) {
            let kinds = Self.orderedKinds(regionUnits.map(\.kind), region: region)
            for ph in phases {
                for kind in kinds {
                    let batch = regionUnits.filter { $0.kind == kind && phase(of: $0) == ph }
                    guard !batch.isEmpty else { continue }
                    var opened: [ISA: Int] = [:]
                    for unit in batch {
                        let address = alignUp(cursor, unit.maxAlignment)
                        let isCommon = ph == .common
                        if isCommon { common[unit.label] = address }
                        for (isa, piece) in unit.pieces {
                            let placement = Placement(address: address, size: piece.size, patterns: piece.patterns,
                                                      label: unit.label, isCommon: isCommon)
                            if let index = opened[isa] {
                                sections[isa]![index].placements.append(placement)
                            } else {
                                opened[isa] = sections[isa]!.count
                                sections[isa]!.append(PlannedOutputSection(
                                    name: kind, address: address, region: region, alignment: nil,
                                    placements: [placement], endAddress: nil, isWhole: unit.whole))
                            }
                        }
                        cursor = address + unit.maxSize
                    }
                }
            }
        }

        for region in Region.allCases {
            let regionUnits = units.filter { $0.region == region }
            switch region {
            case .text:
                place(regionUnits, region: region)
            case .rodata:
                cursor = alignUp(cursor, regionAlignment)
                place(regionUnits, region: region)
            case .tls:
                cursor = alignUp(cursor, regionAlignment)
                guard !regionUnits.isEmpty else { continue }
                let blockAlign = regionUnits.map(\.maxAlignment).max()!
                let start = alignUp(cursor, blockAlign)
                cursor = start
                tlsBlock = (start, blockAlign)
                // Every ISA gets both sections with the same start, alignment and end, so the
                // PT_TLS segments and every offset inside them agree.
                for noBits in [false, true] {
                    let part = regionUnits.filter { $0.noBits == noBits }
                    let name = noBits ? ".tbss" : ".tdata"
                    let sectionStart = cursor
                    let before = sections.mapValues(\.count)
                    place(part, region: region)
                    cursor = alignUp(cursor, blockAlign)
                    for isa in isas {
                        let added = sections[isa]![before[isa]!...].flatMap(\.placements)
                        sections[isa]!.removeSubrange(before[isa]!...)
                        sections[isa]!.append(PlannedOutputSection(
                            name: name, address: noBits ? nil : sectionStart, region: .tls, alignment: blockAlign,
                            placements: added, endAddress: cursor, isWhole: false))
                    }
                }
            case .data, .bss:
                if region == .data, tlsBlock == nil { cursor = alignUp(cursor, regionAlignment) }
                place(regionUnits, region: region)
            }
        }
        Self.disambiguateNames(&sections)
        return Layout(isas: isas, sections: sections, commonAddresses: common, tlsBlock: tlsBlock)
    }

    /// Groups input sections into units: one per (file, member, section) key, one per whole or
    /// synthetic output section. Units keep the order in which the host link (then the others)
    /// first mentions them, which keeps lld's input order and locality.
    static func units(_ probes: [ISA: [ProbeOutputSection]], isas: [ISA]) throws -> [Unit] {
        var units: [Unit] = []
        var index: [String: Int] = [:]
        func add(label: String, from out: ProbeOutputSection, isa: ISA, whole: Bool, synthetic: Bool,
                 size: UInt64, alignment: UInt64, pattern: [SectionPattern]) throws {
            if let i = index[label] {
                guard units[i].region == out.region, units[i].noBits == out.noBits else {
                    throw LinkerError.layoutConflict("'\(label)' is \(units[i].region) on one ISA but \(out.region) on \(isa)")
                }
                if var piece = units[i].pieces[isa] {
                    // More sections with the same key in one input: lld places them one after
                    // the other, each at its own alignment.
                    piece.size = alignUp(piece.size, alignment) + size
                    piece.alignment = max(piece.alignment, alignment)
                    if piece.patterns != pattern { piece.patterns += pattern.filter { !piece.patterns.contains($0) } }
                    units[i].pieces[isa] = piece
                } else {
                    units[i].pieces[isa] = Unit.Piece(size: size, alignment: alignment, patterns: pattern)
                }
                return
            }
            index[label] = units.count
            var unit = Unit(label: label, kind: out.name, region: out.region, noBits: out.noBits,
                            whole: whole, synthetic: synthetic)
            unit.pieces[isa] = Unit.Piece(size: size, alignment: alignment, patterns: pattern)
            units.append(unit)
        }
        for isa in isas {
            for out in probes[isa] ?? [] {
                if syntheticSections.contains(out.name) {
                    try add(label: "\(isa):\(out.name)", from: out, isa: isa, whole: true, synthetic: true,
                            size: out.size, alignment: out.alignment,
                            pattern: [SectionPattern(file: nil, member: nil, section: out.name)])
                } else if wholeSections.contains(out.name), out.region != .tls {
                    var patterns: [SectionPattern] = []
                    for input in out.inputs {
                        let p = pattern(for: input)
                        if patterns.last != p { patterns.append(p) }
                    }
                    try add(label: out.name, from: out, isa: isa, whole: true, synthetic: false,
                            size: out.size, alignment: out.alignment, pattern: patterns)
                } else {
                    for input in out.inputs {
                        let synthetic = input.isSynthetic
                        let label = synthetic ? "\(isa):<internal>(\(input.section))" : key(input)
                        try add(label: label, from: out, isa: isa, whole: false, synthetic: synthetic,
                                size: input.size, alignment: input.alignment, pattern: [pattern(for: input)])
                    }
                }
            }
        }
        return units
    }

    /// The identity of an input section across ISAs: user inputs are named by command-line
    /// position (`in003.o`), system files by base name, archive members by name.
    static func key(_ input: LinkMap.InputSection) -> String {
        input.fileBaseName + (input.member.map { "(\($0))" } ?? "") + "(\(input.section))"
    }

    static func pattern(for input: LinkMap.InputSection) -> SectionPattern {
        input.isSynthetic ? SectionPattern(file: nil, member: nil, section: input.section)
                          : SectionPattern(file: input.fileBaseName, member: input.member, section: input.section)
    }

    static func orderedKinds(_ kinds: [String], region: Region) -> [String] {
        let present = Set(kinds)
        let known = region.kindOrder.filter(present.contains)
        return known + present.subtracting(known).sorted()
    }

    /// lld merges output section statements that share a name, so an ISA-only part of a kind
    /// that also has a common part gets the ISA appended (`.text.x86_64`).
    static func disambiguateNames(_ sections: inout [ISA: [PlannedOutputSection]]) {
        for isa in Array(sections.keys) {
            var list = sections[isa]!
            let counts = Dictionary(grouping: list.indices, by: { list[$0].name })
            for (name, indices) in counts where indices.count > 1 {
                for i in indices where !list[i].placements.contains(where: \.isCommon) {
                    list[i].name = "\(name).\(isa.rawValue)"
                }
                // Several common statements of one kind cannot happen (one common phase), but
                // keep names unique whatever the input.
                var seen = Set<String>()
                for i in indices where !seen.insert(list[i].name).inserted {
                    list[i].name += ".\(i)"
                }
            }
            sections[isa] = list
        }
    }
}

@inline(__always) func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
    let a = max(alignment, 1)
    return (value + a - 1) / a * a
}
