import Foundation
import PopcornSupport

/// `--print-layout`: a table of every placement per ISA, and per-ISA region sizes for `-v`.
public enum LayoutPrinter {
    public static func text(_ layout: Layout) -> String {
        var out = ""
        for isa in layout.isas {
            out += "\(isa):\n"
            for section in layout.sections[isa]! {
                let start = section.address.map { "0x" + String($0, radix: 16) } ?? "(follows)"
                out += "  \(section.name) \(start) [\(section.region)]\n"
                for p in section.placements {
                    let address = "0x" + String(p.address, radix: 16)
                    out += "    \(address.padding(toLength: 12, withPad: " ", startingAt: 0)) "
                        + "\(String(p.size, radix: 16).leftPadded(8)) \(p.isCommon ? "common" : "only  ") \(p.label)\n"
                }
            }
        }
        return out
    }

    /// `x86_64: 12 sections, 345 groups (300 common), text 0x1234 rodata 0x100 tls 0x10 data 0x200 bss 0x300`.
    public static func summary(_ layout: Layout, isa: ISA) -> String {
        let sections = layout.sections[isa]!
        let placements = sections.flatMap(\.placements)
        var sizes: [Region: UInt64] = [:]
        for section in sections { for p in section.placements { sizes[section.region, default: 0] += p.size } }
        let regions = Region.allCases.map { "\($0) 0x\(String(sizes[$0] ?? 0, radix: 16))" }.joined(separator: " ")
        return "\(isa): \(sections.count) output sections, \(placements.count) groups "
            + "(\(placements.filter(\.isCommon).count) common), \(regions)"
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
