import Foundation
import PopcornSupport

/// Pass 6: writes one ISA's linker script from the layout.
/// Pre: the ISA's planned output sections, in address order, with unique names. Post: a script
/// that gives every output section a fixed address and puts `. = <address>;` before every input
/// section description, so the final link cannot place anything elsewhere.
public enum LinkerScriptWriter {
    /// The program headers the sections of a region go to.
    static func segments(for region: Region) -> String {
        switch region {
        case .text: ":text"
        case .rodata: ":rodata"
        case .tls: ":data :tls"
        case .data, .bss: ":data"
        }
    }

    public static func script(for sections: [PlannedOutputSection], isa: ISA, symbols: [ScriptSymbol] = []) throws -> String {
        let regions = Set(sections.map(\.region))
        var out = "/* popcorn-ld: aligned layout for \(isa) (generated) */\n"
        // Explicit program headers so the ELF and program headers are always loaded (musl's
        // static start-up reads PT_TLS through AT_PHDR) even when this ISA's first section does
        // not start right after them.
        out += "PHDRS\n{\n  phdr PT_PHDR PHDRS;\n  text PT_LOAD FILEHDR PHDRS;\n"
        if regions.contains(.rodata) { out += "  rodata PT_LOAD;\n" }
        if !regions.isDisjoint(with: [.tls, .data, .bss]) { out += "  data PT_LOAD;\n" }
        if regions.contains(.tls) { out += "  tls PT_TLS;\n" }
        out += "  stack PT_GNU_STACK FLAGS(6);\n}\n\nSECTIONS\n{\n"
        for section in sections {
            var head = "  \(outputName(section.name))"
            if let address = section.address { head += " \(hex(address))" }
            head += " :"
            if let alignment = section.alignment { head += " ALIGN(\(alignment))" }
            out += head + "\n  {\n"
            let bounds = LayoutPlanner.arrayBoundSymbols[section.name]
            for placement in section.placements {
                // Whole sections keep their pieces contiguous (crti/crtn `.init` falls through).
                if !section.isWhole || placement == section.placements.first {
                    out += "    . = \(hex(placement.address));\n"
                }
                if let bounds { out += "    \(symbol(bounds.start)) = .;\n" }
                let patterns = placement.patterns.map(\.description)
                if section.isWhole {
                    out += patterns.map { "    KEEP(\($0))\n" }.joined()
                } else {
                    out += "    " + patterns.joined(separator: " ") + "\n"
                }
                if let bounds {
                    out += arrayPadding(section, placement: placement, in: sections)
                    out += "    \(symbol(bounds.end)) = .;\n"
                }
            }
            out += try stubCommands(section.stubs, isa: isa)
            if let end = section.endAddress, bounds == nil { out += "    . = \(hex(end));\n" }
            out += "  } \(segments(for: section.region))\n"
        }
        for name in LayoutPlanner.fileOnlySections {
            out += "  \(name) 0 (INFO) : { KEEP(*(\(name))) }\n"
        }
        // Section-relative, so the symbols are not absolute (see `ScriptSymbol`).
        for s in symbols {
            let offset = s.address >= s.sectionAddress ? "+ \(hex(s.address - s.sectionAddress))"
                                                       : "- \(hex(s.sectionAddress - s.address))"
            out += "  \(symbol(s.name)) = ADDR(\(outputName(s.section))) \(offset);\n"
        }
        out += "}\n"
        return out
    }

    /// Each stub: its slot address, the symbol redefined *inside* the section (so that it stays
    /// a section symbol and overrides the object's definition for every reference), then the
    /// slot's 16 bytes as two little-endian `QUAD`s.
    static func stubCommands(_ stubs: [EntryStub], isa: ISA) throws -> String {
        var out = ""
        for stub in stubs {
            guard let target = stub.targets[isa] else { continue }
            let bytes = try EntryStub.encoding(isa: isa, slot: stub.slot, target: target, name: stub.name)
            let quads = stride(from: 0, to: bytes.count, by: 8).map { start in
                bytes[start..<start + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
            }
            out += "    . = \(hex(stub.slot));\n    \(symbol(stub.name)) = .;\n"
            out += "    " + quads.map { "QUAD(\(hex($0)))" }.joined(separator: " ") + "\n"
        }
        return out
    }

    /// Pads a function array that is shorter on this ISA than on another (an ISA-only
    /// constructor such as aarch64 libgcc's `lse-init.o`) up to the common end, so that its bounds
    /// agree everywhere. The padding entries point to `_init` (`_fini` for `.fini_array`), the
    /// crti/crtn prologue-epilogue pair that does nothing and that start-up already calls once;
    /// calling it again is harmless. Without start files there is no such function and the array
    /// keeps its own end (the alignment check then reports the difference).
    static func arrayPadding(_ section: PlannedOutputSection, placement: Placement, in sections: [PlannedOutputSection]) -> String {
        guard let end = section.endAddress else { return "" }
        let used = placement.address + placement.size
        let filler = section.name == ".fini_array" ? "_fini" : "_init"
        let pointerSize: UInt64 = 8
        guard end > used, (end - used) % pointerSize == 0,
              sections.contains(where: { $0.name == (filler == "_fini" ? ".fini" : ".init") }) else { return "" }
        return String(repeating: "    QUAD(\(symbol(filler)))\n", count: Int((end - used) / pointerSize))
    }

    /// An output section name in a script. Sections the user named (`__attribute__((section))`)
    /// keep their names, quoted when lld's lexer would split them (spaces, UTF-8, `*`): lld
    /// takes a quoted output section name literally. Pre: no `"` or control byte in `name`
    /// (`LayoutPlanner.scriptableName` replaced them).
    static func outputName(_ name: String) -> String {
        name.utf8.allSatisfy { SectionPattern.plainBytes.contains($0) && !"*?:/".utf8.contains($0) } ? name : "\"" + name + "\""
    }

    /// A symbol name in a script: quoted, so names with dots or other punctuation are safe.
    static func symbol(_ name: String) -> String { "\"" + name + "\"" }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
