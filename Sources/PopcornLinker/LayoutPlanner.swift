import Foundation
import PopcornSupport

/// Pass 5: computes one address layout for every ISA from the probe links (pure; no tools).
/// Pre: each ISA's allocated probe output sections with their input sections. Post: every kept
/// input section has an address; groups present on every ISA share one address with a slot of
/// `max(size)` aligned to `max(alignment)`; ISA-only groups sit in disjoint per-ISA ranges;
/// within each region the order is `[host-only][common][other ISAs' only]`; the TLS block has
/// one start, alignment and internal layout on every ISA.
public struct LayoutPlanner: Sendable {
    /// Where code starts: right after the ELF and program headers at `0x400000` (64 bytes plus
    /// 56 per program header; the scripts declare at most 7), in the same page, so the headers
    /// do not cost a page of file padding.
    public var textStart: UInt64 = 0x400400
    /// Region starts are page-aligned. Every ISA uses 4 KiB pages: a migrating process keeps its
    /// address space page for page, so the page size must be the same on every ISA, and a larger
    /// alignment would cost up to 64 KiB of file padding per segment on aarch64.
    public var regionAlignment: UInt64 = LinkCommand.pageSize
    /// Output sections placed as whole units: their inputs must stay together in link order.
    public static let wholeSections: Set<String> = [".init", ".fini", ".preinit_array", ".init_array", ".fini_array"]
    /// Output sections lld synthesises from all inputs together; always per ISA.
    public static let syntheticSections: Set<String> = [".eh_frame", ".eh_frame_hdr"]
    /// Compiler tables the metadata pass reads from the file but the program never touches at
    /// run time: the final link keeps them as non-allocated sections (`(INFO)`), so they take no
    /// address space and no place in the aligned layout.
    public static let fileOnlySections: [String] = [".llvm_stackmaps", ".popcorn.callsites"]
    /// The bounds symbols of the start-up/exit function arrays, defined inside their sections.
    public static let arrayBoundSymbols: [String: (start: String, end: String)] = [
        ".preinit_array": ("__preinit_array_start", "__preinit_array_end"),
        ".init_array": ("__init_array_start", "__init_array_end"),
        ".fini_array": ("__fini_array_start", "__fini_array_end"),
    ]
    /// The output section holding the entry stubs (see `EntryStub`).
    public static let stubSection = ".popcorn.stubs"
    /// The empty executable input section that makes the stub section executable
    /// (`StubObject`), matched by this pattern.
    public static let stubPattern = SectionPattern(file: StubObject.fileName, member: nil, section: stubSection)

    public init() {}

    /// Which ISAs' address range a unit goes to.
    enum Phase: Hashable { case only(ISA), common }

    public func plan(_ probes: [ISA: [ProbeOutputSection]], host: ISA) throws -> Layout {
        let isas = [host] + probes.keys.filter { $0 != host }.sorted()
        // A weak tentative definition's slot is as large as its largest copy (as with -fcommon).
        let probes = probes.mapValues(TentativeDefinitionSizing.widen)
        var units = try Self.units(probes, isas: isas)
        SectionPairing.pair(&units, isas: isas)
        Self.addMissingArrays(&units, isas: isas)
        let phases: [Phase] = [.only(host), .common] + isas.dropFirst().map { .only($0) }
        func phase(of unit: Unit) -> Phase {
            (!unit.synthetic && unit.pieces.count == isas.count) ? .common : .only(unit.pieces.keys.first!)
        }

        var sections: [ISA: [PlannedOutputSection]] = Dictionary(uniqueKeysWithValues: isas.map { ($0, []) })
        var common: [String: UInt64] = [:]
        var tlsBlock: (start: UInt64, alignment: UInt64)?
        var cursor = textStart
        var placed: [String: UInt64] = [:]
        var stubs: [EntryStub] = []
        var regionBounds: [Region: (start: UInt64, end: UInt64)] = [:]

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
                        placed[unit.label] = address
                        for (isa, piece) in unit.pieces {
                            let placement = Placement(address: address, size: piece.size, patterns: piece.patterns,
                                                      label: unit.label, isCommon: isCommon)
                            if let index = opened[isa] {
                                sections[isa]![index].placements.append(placement)
                            } else {
                                opened[isa] = sections[isa]!.count
                                // Function arrays end at one address on every ISA (the writer
                                // pads shorter ones with harmless entries).
                                let isArray = unit.whole && Self.arrayBoundSymbols[kind] != nil
                                sections[isa]!.append(PlannedOutputSection(
                                    name: kind, address: address, region: region, alignment: nil,
                                    placements: [placement], endAddress: isArray ? address + unit.maxSize : nil,
                                    isWhole: unit.whole))
                            }
                        }
                        cursor = address + unit.maxSize
                    }
                }
            }
        }

        for region in Region.allCases {
            let regionUnits = units.filter { $0.region == region }
            var regionStart = cursor
            switch region {
            case .text:
                place(regionUnits, region: region)
                // Entry stubs follow all code, so adding them moves nothing they point to.
                let start = alignUp(cursor, EntryStub.slotSize)
                stubs = EntryStubPlanner.plan(regionUnits.compactMap { u in placed[u.label].map { (u, $0) } }, start: start)
                if !stubs.isEmpty {
                    cursor = start + UInt64(stubs.count) * EntryStub.slotSize
                    for isa in isas {
                        let placement = Placement(address: start, size: cursor - start, patterns: [Self.stubPattern],
                                                  label: "entry stubs", isCommon: true)
                        sections[isa]!.append(PlannedOutputSection(
                            name: Self.stubSection, address: start, region: .text, alignment: nil,
                            placements: [placement], endAddress: nil, isWhole: true, stubs: stubs))
                    }
                }
            case .rodata:
                cursor = alignUp(cursor, regionAlignment)
                regionStart = cursor
                place(regionUnits, region: region)
            case .tls:
                cursor = alignUp(cursor, regionAlignment)
                regionStart = cursor
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
                regionStart = cursor
                place(regionUnits, region: region)
            }
            regionBounds[region] = (regionStart, cursor)
        }
        Self.disambiguateNames(&sections)
        var layout = Layout(isas: isas, sections: sections, commonAddresses: common, tlsBlock: tlsBlock, stubs: stubs)
        layout.scriptSymbols = LinkerDefinedSymbols.symbols(for: layout, regionBounds: regionBounds)
        return layout
    }

    static func orderedKinds(_ kinds: [String], region: Region) -> [String] {
        let present = Set(kinds)
        let known = region.kindOrder.filter(present.contains)
        return known + present.subtracting(known).sorted()
    }

    /// lld merges output section statements that share a name, so an ISA-only part of a kind
    /// that also has a common part gets the ISA appended (`.text.x86_64`).
    /// Also makes every name writable in a script (`scriptableName`) first.
    static func disambiguateNames(_ sections: inout [ISA: [PlannedOutputSection]]) {
        for isa in Array(sections.keys) {
            var list = sections[isa]!
            for i in list.indices { list[i].name = scriptableName(list[i].name) }
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

extension LayoutPlanner {
    /// An output section name the script can state: a user's section name (from
    /// `__attribute__((section))`) with `"` or a control byte cannot be written even quoted (a
    /// quoted token ends at the next `"` and has no escapes), so each such byte becomes `_`. The
    /// output section is renamed alike on every ISA; its input sections keep their names.
    static func scriptableName(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: { $0 == "\"" || $0.value < 0x20 || $0.value == 0x7F }) else { return name }
        return String(name.unicodeScalars.map { c -> Character in
            c == "\"" || c.value < 0x20 || c.value == 0x7F ? "_" : Character(c)
        })
    }
}

@inline(__always) func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
    let a = max(alignment, 1)
    return (value + a - 1) / a * a
}
