import Foundation
import PopcornSupport

extension LayoutPlanner {
    /// A group of input sections placed as one unit, with each ISA's share.
    struct Unit {
        struct Piece {
            var size: UInt64
            var alignment: UInt64
            var patterns: [SectionPattern]
            /// The input sections of the piece with their offsets from the piece's start.
            var inputs: [(section: LinkMap.InputSection, offset: UInt64)]
        }
        var label: String
        var kind: String
        var region: Region
        var noBits: Bool
        var whole: Bool
        var synthetic: Bool
        /// The input file and archive member (`nil` file for whole and synthetic units): units
        /// are only ever paired within one file or member.
        var file: String?
        var member: String?
        var pieces: [ISA: Piece] = [:]
        var maxSize: UInt64 { pieces.values.map(\.size).max() ?? 0 }
        var maxAlignment: UInt64 { pieces.values.map(\.alignment).max() ?? 1 }
    }

    /// Groups input sections into units: one per (file, member, section) key, one per whole or
    /// synthetic output section. Units keep the order in which the host link (then the others)
    /// first mentions them, which keeps lld's input order and locality.
    static func units(_ probes: [ISA: [ProbeOutputSection]], isas: [ISA]) throws -> [Unit] {
        var units: [Unit] = []
        var index: [String: Int] = [:]
        func add(label: String, from out: ProbeOutputSection, isa: ISA, whole: Bool, synthetic: Bool,
                 size: UInt64, alignment: UInt64, pattern: [SectionPattern],
                 inputs: [(section: LinkMap.InputSection, offset: UInt64)], file: String? = nil, member: String? = nil) throws {
            if let i = index[label] {
                guard units[i].region == out.region, units[i].noBits == out.noBits else {
                    throw LinkerError.layoutConflict("'\(label)' is \(units[i].region) on one ISA but \(out.region) on \(isa)")
                }
                if var piece = units[i].pieces[isa] {
                    // More sections with the same key in one input: lld places them one after
                    // the other, each at its own alignment.
                    let offset = alignUp(piece.size, alignment)
                    piece.size = offset + size
                    piece.alignment = max(piece.alignment, alignment)
                    if piece.patterns != pattern { piece.patterns += pattern.filter { !piece.patterns.contains($0) } }
                    piece.inputs += inputs.map { ($0.section, $0.offset + offset) }
                    units[i].pieces[isa] = piece
                } else {
                    units[i].pieces[isa] = Unit.Piece(size: size, alignment: alignment, patterns: pattern, inputs: inputs)
                }
                return
            }
            index[label] = units.count
            var unit = Unit(label: label, kind: out.name, region: out.region, noBits: out.noBits,
                            whole: whole, synthetic: synthetic, file: file, member: member)
            unit.pieces[isa] = Unit.Piece(size: size, alignment: alignment, patterns: pattern, inputs: inputs)
            units.append(unit)
        }
        for isa in isas {
            for out in probes[isa] ?? [] where !fileOnlySections.contains(out.name) {
                if syntheticSections.contains(out.name) {
                    try add(label: "\(isa):\(out.name)", from: out, isa: isa, whole: true, synthetic: true,
                            size: out.size, alignment: out.alignment,
                            pattern: [SectionPattern(file: nil, member: nil, section: out.name)], inputs: [])
                } else if wholeSections.contains(out.name), out.region != .tls {
                    var patterns: [SectionPattern] = []
                    for input in out.inputs {
                        let p = pattern(for: input)
                        if patterns.last != p { patterns.append(p) }
                    }
                    // A whole section keeps lld's relative layout of its pieces.
                    try add(label: out.name, from: out, isa: isa, whole: true, synthetic: false,
                            size: out.size, alignment: out.alignment, pattern: patterns,
                            inputs: out.inputs.map { ($0, $0.address - (out.inputs.first?.address ?? 0)) })
                } else {
                    for input in out.inputs {
                        let synthetic = input.isSynthetic
                        let label = synthetic ? "\(isa):<internal>(\(input.section))" : key(input)
                        try add(label: label, from: out, isa: isa, whole: false, synthetic: synthetic,
                                size: input.size, alignment: input.alignment, pattern: [pattern(for: input)],
                                inputs: [(input, 0)], file: synthetic ? nil : input.fileBaseName, member: input.member)
                    }
                }
            }
        }
        return units
    }

    /// Array sections (`.init_array`, …) always get one statement on every ISA at one address,
    /// even where an ISA has none, so that their bounds symbols (`__init_array_start`, …) are
    /// the same everywhere; an ISA without the array gets an empty piece.
    static func addMissingArrays(_ units: inout [Unit], isas: [ISA]) {
        for kind in arrayBoundSymbols.keys.sorted() {
            let empty = Unit.Piece(size: 0, alignment: 1, patterns: [], inputs: [])
            if let i = units.firstIndex(where: { $0.whole && !$0.synthetic && $0.kind == kind }) {
                for isa in isas where units[i].pieces[isa] == nil { units[i].pieces[isa] = empty }
            } else {
                var unit = Unit(label: kind, kind: kind, region: .data, noBits: false, whole: true, synthetic: false)
                for isa in isas { unit.pieces[isa] = empty }
                units.append(unit)
            }
        }
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
}
