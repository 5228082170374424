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

    public static func script(for sections: [PlannedOutputSection], isa: ISA) -> String {
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
            var head = "  \(section.name)"
            if let address = section.address { head += " \(hex(address))" }
            head += " :"
            if let alignment = section.alignment { head += " ALIGN(\(alignment))" }
            out += head + "\n  {\n"
            for placement in section.placements {
                // Whole sections keep their pieces contiguous (crti/crtn `.init` falls through).
                if !section.isWhole || placement == section.placements.first {
                    out += "    . = \(hex(placement.address));\n"
                }
                let patterns = placement.patterns.map(\.description)
                if section.isWhole {
                    out += patterns.map { "    KEEP(\($0))\n" }.joined()
                } else {
                    out += "    " + patterns.joined(separator: " ") + "\n"
                }
            }
            if let end = section.endAddress { out += "    . = \(hex(end));\n" }
            out += "  } \(segments(for: section.region))\n"
        }
        out += "}\n"
        return out
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
