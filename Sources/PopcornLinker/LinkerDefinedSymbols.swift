import Foundation
import PopcornSupport

/// The symbols ld.lld would otherwise synthesise from each ISA's own layout, defined once for
/// every ISA instead.
///
/// lld defines `_etext`, `_edata`, `__bss_start`, `_end` (and their unprefixed and `__`
/// variants) from the ends of that ISA's output sections, and `__init_array_start` & co. at an
/// arbitrary place when there is no such array; with per-ISA address ranges these differ between
/// the binaries. The scripts define them at one address per symbol: ends of regions are the end
/// of the region's common address range (the maximum over ISAs, so for example a heap that
/// starts at `_end` starts at the same place everywhere). The array bounds are defined inside
/// the array sections themselves (`LinkerScriptWriter`), which every ISA has at one address.
enum LinkerDefinedSymbols {
    /// Region-end symbols: which region bound each one takes.
    static let regionSymbols: [(names: [String], region: Region, atEnd: Bool)] = [
        (["_etext", "etext", "__etext"], .text, true),
        (["_edata", "edata"], .data, true),
        (["__bss_start"], .bss, false),
        (["_end", "end"], .bss, true),
    ]

    /// `regionBounds`: the common start and end address of every region that was laid out.
    static func symbols(for layout: Layout, regionBounds: [Region: (start: UInt64, end: UInt64)]) -> [ISA: [ScriptSymbol]] {
        var result: [ISA: [ScriptSymbol]] = [:]
        for isa in layout.isas {
            let anchors = layout.sections[isa]!.compactMap { s in s.address.map { (s.name, $0) } }.sorted { $0.1 < $1.1 }
            guard let first = anchors.first else { continue }
            var symbols: [ScriptSymbol] = []
            for entry in regionSymbols {
                // An empty region (no bss, say) ends where the regions before it end.
                let bounds = regionBounds[entry.region]
                    ?? regionBounds.filter { $0.key < entry.region }.max { $0.key < $1.key }?.value
                guard let bounds else { continue }
                let address = entry.atEnd ? bounds.end : bounds.start
                // The last section starting at or below the address keeps the offset positive.
                let anchor = anchors.last { $0.1 <= address } ?? first
                for name in entry.names {
                    symbols.append(ScriptSymbol(name: name, address: address, section: anchor.0, sectionAddress: anchor.1))
                }
            }
            result[isa] = symbols
        }
        return result
    }
}
