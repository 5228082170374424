import Foundation
import PopcornSupport

/// The part of the address space an output section belongs to, in address order.
public enum Region: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// Executable code (RX).
    case text
    /// Read-only data (R).
    case rodata
    /// `.tdata` and `.tbss`: one TLS block, laid out identically on every ISA (start of RW).
    case tls
    /// Initialised writable data (RW).
    case data
    /// Zero-initialised writable data (RW, no file contents), last so it needs no file space.
    case bss

    public static func < (a: Region, b: Region) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["text", "rodata", "tls", "data", "bss"][rawValue] }

    /// Classifies an allocated output section from its ELF flags.
    public static func classify(executable: Bool, writable: Bool, tls: Bool, noBits: Bool) -> Region {
        if tls { return .tls }
        if executable { return .text }
        if !writable { return .rodata }
        return noBits ? .bss : .data
    }

    /// Known output sections of the region, in the order they are laid out; others follow by name.
    var kindOrder: [String] {
        switch self {
        case .text: [".init", ".fini", ".text", ".iplt"]
        case .rodata: [".rodata", ".gcc_except_table", ".eh_frame_hdr", ".eh_frame", ".rela.iplt", ".rela.plt"]
        case .tls: [".tdata", ".tbss"]
        case .data: [".preinit_array", ".init_array", ".fini_array", ".data.rel.ro", ".got", ".data", ".got.plt"]
        case .bss: [".bss"]
        }
    }
}

/// An allocated output section of a probe link, with what the layout needs to know about it.
public struct ProbeOutputSection: Sendable {
    public var name: String
    public var region: Region
    /// `SHT_NOBITS` (`.tbss` inside the TLS region).
    public var noBits: Bool
    public var size: UInt64
    public var alignment: UInt64
    public var inputs: [LinkMap.InputSection]

    public init(name: String, region: Region, noBits: Bool = false, size: UInt64, alignment: UInt64,
                inputs: [LinkMap.InputSection]) {
        self.name = name; self.region = region; self.noBits = noBits
        self.size = size; self.alignment = alignment; self.inputs = inputs
    }
}

/// An input section description in a linker script: a file (and archive member) and a section.
public struct SectionPattern: Sendable, Hashable, CustomStringConvertible {
    /// The file's base name (`in003.o`, `libc.a`); `nil` matches any file, including lld's
    /// synthetic sections.
    public var file: String?
    public var member: String?
    public var section: String

    public init(file: String?, member: String?, section: String) {
        self.file = file; self.member = member; self.section = section
    }

    /// `*/in003.o(.text.f)`, `*/lib004.a:m.o(.data)`, `*(.got)`; names with other bytes are
    /// quoted (`*/in003.o(".data.привет")`, see `token`).
    public var description: String {
        guard let file else { return "*(\(Self.token(Self.literal(section))))" }
        let filePart = "*/" + Self.literal(file) + (member.map { ":" + Self.literal($0) } ?? "")
        return "\(Self.token(filePart))(\(Self.token(Self.literal(section))))"
    }

    /// Bytes an unquoted script token may hold as they are (lld's lexer splits tokens at anything
    /// else, e.g. at every byte of a UTF-8 name). `*`, `?` and `/` appear here only as glob syntax
    /// or replacements; a pattern with an escape is always quoted.
    static let plainBytes = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-+$:*?/".utf8)

    /// A glob that matches exactly `text`, byte for byte.
    ///
    /// lld matches quoted patterns as globs too, so the glob metacharacters are escaped with a
    /// backslash. A quoted token ends at the next `"` and has no escape for it, so `"` and control
    /// bytes become `?` (exactly one byte). The map text was decoded from UTF-8 with repair, so a
    /// U+FFFD may stand for one or more bytes that were not UTF-8: it becomes `*`. Every other
    /// character is written as its own UTF-8 bytes — one `?` per character would match only
    /// one of its bytes, which is why a section named `.data.привет` once matched nothing and
    /// was left to lld's orphan placement.
    static func literal(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "*", "?", "[", "]", "\\": out += "\\" + String(scalar)
            case "\"": out += "?"
            case "\u{FFFD}": out += "*"
            default: out += scalar.value < 0x20 || scalar.value == 0x7F ? "?" : String(scalar)
            }
        }
        return out
    }

    /// `glob` as one script token: as it is when lld's lexer reads it as one token, quoted otherwise.
    static func token(_ glob: String) -> String {
        glob.utf8.allSatisfy { plainBytes.contains($0) } ? glob : "\"" + glob + "\""
    }
}

/// A group of input sections placed at one address.
public struct Placement: Sendable, Equatable {
    public var address: UInt64
    /// This ISA's size of the group (the slot reserved may be larger).
    public var size: UInt64
    public var patterns: [SectionPattern]
    /// Identity of the group across ISAs (`in003.o(.text.main)`, `libc.a(printf.lo)(.text.printf)`).
    public var label: String
    /// Whether every ISA places this group at this address.
    public var isCommon: Bool
}

/// One output section statement of an ISA's linker script.
public struct PlannedOutputSection: Sendable, Equatable {
    public var name: String
    /// Start address; `nil` for `.tbss`, which lld places right after `.tdata`.
    public var address: UInt64?
    public var region: Region
    /// Forced alignment (`ALIGN(n)`), used for the TLS block.
    public var alignment: UInt64?
    public var placements: [Placement]
    /// If set, the section is padded up to this address (TLS sections end at a common address).
    public var endAddress: UInt64?
    /// Whether the section is placed as a whole (crt `.init` pieces, `.init_array`, synthetic
    /// sections): its inputs must stay contiguous in link order with no address between them.
    public var isWhole: Bool
    /// Entry stubs written into this section (only in `LayoutPlanner.stubSection`).
    public var stubs: [EntryStub] = []
}

/// A symbol the linker script defines at a fixed address. It is written relative to one of the
/// ISA's output sections (`name = ADDR(section) + offset;`), so that it is not absolute: the
/// alignment check compares it like any other symbol.
public struct ScriptSymbol: Sendable, Equatable {
    public var name: String
    public var address: UInt64
    /// The output section the value is expressed against, and that section's address.
    public var section: String
    public var sectionAddress: UInt64
}

/// The outcome of pass 5: every ISA's output sections with fixed addresses.
public struct Layout: Sendable {
    public var isas: [ISA]
    public var sections: [ISA: [PlannedOutputSection]]
    /// Address of every common group, by label (checked against the final link maps).
    public var commonAddresses: [String: UInt64]
    /// TLS block start and alignment, identical on every ISA.
    public var tlsBlock: (start: UInt64, alignment: UInt64)?
    /// Functions redirected through entry stubs (the same list on every ISA).
    public var stubs: [EntryStub] = []
    /// Linker-defined symbols (`_etext`, `_end`, …) each ISA's script defines.
    public var scriptSymbols: [ISA: [ScriptSymbol]] = [:]
}
