import Foundation
import PopcornSupport

/// Part of pass 5: gives the copy of a weak zero-initialised global that lld keeps the slot a
/// common symbol would get: the largest size and alignment of all the copies.
///
/// Pre: one ISA's probe output sections, as `LLDRunner.readProbe` returns them (symbol bindings
/// filled in). Post: every input section `.bss.<name>` that defines `<name>` as a weak symbol
/// has at least the size and alignment of every other file's `.bss.<name>` section that
/// defines nothing (the copies lld did not choose); nothing else changes.
///
/// Why: `-fcommon` tentative definitions reach the linker as weak definitions, each in a section
/// named after it (`CommonSymbolLowering`, `SectionAssignment` in PopcornIR). lld resolves the
/// symbol to the first weak definition in link order, with that file's size, while a common
/// symbol gets the largest size and alignment of all its definitions: `int buf[1];` in one file
/// and `int buf[100];` in the next would otherwise share four bytes. The copies lld does not
/// choose stay in the link but list no symbol in the map (the symbol points at the chosen copy).
/// Widening the chosen copy's slot reserves the extra bytes right after it: the final script
/// puts `. = <address>` before the next section, and the gap in `.bss` is zero like the object
/// itself. A strong definition wins over the weak copies and keeps its own size, as lld gives it.
/// User-written weak globals follow the same rule; it only ever reserves more space.
enum TentativeDefinitionSizing {
    static let prefix = ".bss."

    static func widen(_ sections: [ProbeOutputSection]) -> [ProbeOutputSection] {
        // The copies that define no symbol of their name, by name: the largest size and alignment.
        var discarded: [String: (size: UInt64, alignment: UInt64)] = [:]
        for out in sections where out.noBits {
            for input in out.inputs where !input.isSynthetic && input.section.hasPrefix(prefix) {
                let name = String(input.section.dropFirst(prefix.count))
                guard !input.symbols.contains(where: { $0.name == name }) else { continue }
                let known = discarded[name] ?? (0, 1)
                discarded[name] = (max(known.size, input.size), max(known.alignment, input.alignment))
            }
        }
        guard !discarded.isEmpty else { return sections }
        var result = sections
        for o in result.indices where result[o].noBits {
            for i in result[o].inputs.indices {
                let input = result[o].inputs[i]
                guard !input.isSynthetic, input.section.hasPrefix(prefix) else { continue }
                let name = String(input.section.dropFirst(prefix.count))
                guard let widest = discarded[name],
                      input.symbols.contains(where: { $0.name == name && $0.isWeak }) else { continue }
                result[o].inputs[i].size = max(input.size, widest.size)
                result[o].inputs[i].alignment = max(input.alignment, widest.alignment)
            }
        }
        return result
    }
}
