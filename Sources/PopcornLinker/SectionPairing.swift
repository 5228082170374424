import Foundation
import PopcornSupport

/// Pairs input sections that are the same thing under different names on different ISAs.
///
/// The two ISAs' compilers (and musl's per-ISA assembly) do not always name a section alike:
/// a pointer-holding variable is `.data.rel.local.x` from one compiler and `.data.x` from the
/// other, a constant table `.data.rel.ro.local.t` or `.rodata.t`, and a function written in
/// assembly on one ISA sits in `.text` while the C version of the other ISA is in `.text.f`.
/// Matching by *(input, section name)* leaves such sections ISA-only, at different addresses.
/// A group without a partner is therefore paired with an unpaired group *of the same input file
/// or archive member* on another ISA that defines one of the same symbols, or failing that one
/// whose normalised name (`SectionPairing.normalisedName`) is the same.
enum SectionPairing {
    /// `.data.rel.ro.local.x`, `.data.rel.local.x`, `.data.rel.ro.x`, `.data.rel.x` and
    /// `.rodata.x` all become `.data.x`; other names are unchanged.
    static func normalisedName(_ section: String) -> String {
        for prefix in [".data.rel.ro.local", ".data.rel.local", ".data.rel.ro", ".data.rel", ".rodata"] {
            if section == prefix { return ".data" }
            if section.hasPrefix(prefix + ".") { return ".data" + section.dropFirst(prefix.count) }
        }
        return section
    }

    /// Where two paired groups go: the same region, or for read-only/writable/zero data the
    /// writable data region, which can hold any of them (a linker script may put any input
    /// section into any output section; zero-initialised sections then take file space).
    /// Code never pairs with data, nor TLS with anything else.
    static func mergedRegion(_ a: LayoutPlanner.Unit, _ b: LayoutPlanner.Unit) -> (region: Region, noBits: Bool, kind: String)? {
        if a.region == b.region && a.noBits == b.noBits { return (a.region, a.noBits, a.kind) }
        let dataLike: Set<Region> = [.rodata, .data, .bss]
        guard dataLike.contains(a.region), dataLike.contains(b.region) else { return nil }
        if a.region == .data { return (.data, false, a.kind) }
        if b.region == .data { return (.data, false, b.kind) }
        return (.data, false, ".data")
    }

    /// Symbols that identify a section's contents: everything the map lists except assembler
    /// temporaries and mapping symbols.
    static func identifyingSymbols(_ piece: LayoutPlanner.Unit.Piece) -> Set<String> {
        Set(piece.inputs.flatMap { $0.section.symbols.map(\.name) }.filter { !$0.hasPrefix(".L") && !$0.hasPrefix("$") })
    }

    /// Merges ISA-only units of one input into units shared by several ISAs, in place.
    static func pair(_ units: inout [LayoutPlanner.Unit], isas: [ISA]) {
        func isCandidate(_ unit: LayoutPlanner.Unit) -> Bool {
            !unit.whole && !unit.synthetic && unit.file != nil && unit.pieces.count < isas.count
        }
        var byInput: [String: [Int]] = [:]
        for (i, unit) in units.enumerated() where isCandidate(unit) {
            byInput[unit.file! + "(" + (unit.member ?? "") + ")", default: []].append(i)
        }
        var removed = Set<Int>()
        for indices in byInput.values where indices.count > 1 {
            for (position, i) in indices.enumerated() where !removed.contains(i) {
                for j in indices[(position + 1)...] where !removed.contains(j) {
                    guard units[i].pieces.count < isas.count,
                          Set(units[i].pieces.keys).isDisjoint(with: units[j].pieces.keys),
                          matches(units[i], units[j]),
                          let merged = mergedRegion(units[i], units[j]) else { continue }
                    units[i].pieces.merge(units[j].pieces) { first, _ in first }
                    units[i].label += "|" + units[j].label
                    (units[i].region, units[i].noBits, units[i].kind) = merged
                    removed.insert(j)
                }
            }
        }
        units = units.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Same symbol defined in both, or (when neither defines one the other has) the same
    /// normalised section name.
    static func matches(_ a: LayoutPlanner.Unit, _ b: LayoutPlanner.Unit) -> Bool {
        let symbolsA = a.pieces.values.reduce(into: Set<String>()) { $0.formUnion(identifyingSymbols($1)) }
        let symbolsB = b.pieces.values.reduce(into: Set<String>()) { $0.formUnion(identifyingSymbols($1)) }
        if !symbolsA.isDisjoint(with: symbolsB) { return true }
        let names = { (u: LayoutPlanner.Unit) in Set(u.pieces.values.flatMap { $0.inputs.map { normalisedName($0.section.section) } }) }
        return !names(a).isDisjoint(with: names(b))
    }
}
