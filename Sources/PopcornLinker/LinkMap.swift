import Foundation
import PopcornSupport

/// An ld.lld `-Map` file: output sections with the input sections they hold.
///
/// lld writes `VMA LMA Size Align Out In Symbol` columns: output sections unindented, input
/// sections indented by 8 spaces (`/d/in003.o:(.text.f)`, `/d/lib004.a(m.o):(.data)`,
/// `<internal>:(.got)`, `/d/x.o:(.eh_frame+0x14)` (a piece of a section)), the symbols each input
/// section defines by 16. Linker-script assignments (`. = 0x401040`) appear at the input level and
/// are skipped.
public struct LinkMap: Sendable {
    /// A symbol the map lists under an input section (locals included; types are not in the map,
    /// `LLDRunner.readProbe` fills them in from the probe binary's symbol table).
    public struct Symbol: Sendable, Hashable {
        public var name: String
        public var address: UInt64
        /// `STT_*` from the linked binary, `nil` if unknown.
        public var type: UInt8?
        /// Global, weak, or a hidden global the link made local: one definition program-wide.
        public var isGlobal: Bool
        /// `STB_WEAK`.
        public var isWeak: Bool

        public init(name: String, address: UInt64, type: UInt8? = nil, isGlobal: Bool = false, isWeak: Bool = false) {
            self.name = name; self.address = address; self.type = type; self.isGlobal = isGlobal; self.isWeak = isWeak
        }
    }

    public struct InputSection: Sendable, Hashable {
        public var address: UInt64
        public var size: UInt64
        public var alignment: UInt64
        /// The file as lld names it, or `<internal>` for linker-synthesised sections.
        public var file: String
        /// The archive member, for sections from archives.
        public var member: String?
        /// The input section name, without lld's `+0x…` piece offset.
        public var section: String
        /// The symbols defined in this section, in map order.
        public var symbols: [Symbol]

        public init(address: UInt64, size: UInt64, alignment: UInt64, file: String, member: String?, section: String,
                    symbols: [Symbol] = []) {
            self.address = address; self.size = size; self.alignment = alignment
            self.file = file; self.member = member; self.section = section; self.symbols = symbols
        }

        public var isSynthetic: Bool { file == "<internal>" }
        /// The file name without directories (`in003.o`, `libc.a`, `<internal>`).
        public var fileBaseName: String { Path.baseName(file) }
    }

    public struct OutputSection: Sendable {
        public var name: String
        public var address: UInt64
        public var size: UInt64
        public var alignment: UInt64
        public var inputs: [InputSection]
    }

    public var outputSections: [OutputSection]

    /// Parses map text; `path` is only used in error messages.
    public init(text: String, path: String) throws {
        var sections: [OutputSection] = []
        // Whether symbol lines belong to the last input section (not to a script assignment).
        var inInput = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Substring(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if index == 0 && line.contains("VMA") { continue }
            guard let (numbers, rest) = LinkMap.splitColumns(line) else {
                throw LinkerError.malformedMap(path: path, line: index + 1, text: String(line))
            }
            let indent = rest.prefix(while: { $0 == " " }).count
            let body = rest.dropFirst(indent)
            if indent == 0 {
                sections.append(OutputSection(name: String(body), address: numbers[0], size: numbers[2],
                                              alignment: numbers[3], inputs: []))
                inInput = false
            } else if indent < 16 {
                inInput = false
                guard let input = LinkMap.parseInput(body, numbers) else { continue }
                guard !sections.isEmpty else {
                    throw LinkerError.malformedMap(path: path, line: index + 1, text: String(line))
                }
                sections[sections.count - 1].inputs.append(input)
                inInput = true
            } else if inInput {
                let last = sections.count - 1
                sections[last].inputs[sections[last].inputs.count - 1].symbols
                    .append(Symbol(name: String(body), address: numbers[0]))
            }
        }
        outputSections = sections
    }

    /// The four numeric columns (VMA, LMA and size in hex, alignment in decimal) and the rest.
    static func splitColumns(_ line: Substring) -> ([UInt64], Substring)? {
        var numbers: [UInt64] = []
        var cursor = line.startIndex
        for column in 0..<4 {
            while cursor < line.endIndex, line[cursor] == " " { cursor = line.index(after: cursor) }
            let start = cursor
            while cursor < line.endIndex, line[cursor] != " " { cursor = line.index(after: cursor) }
            guard let value = UInt64(line[start..<cursor], radix: column == 3 ? 10 : 16) else { return nil }
            numbers.append(value)
        }
        // One separator space follows the alignment column; the rest is the indented name.
        guard cursor < line.endIndex else { return nil }
        return (numbers, line[line.index(after: cursor)...])
    }

    /// `file:(section)`, `archive(member):(section)`, with an optional `+0x…` piece offset.
    static func parseInput(_ body: Substring, _ numbers: [UInt64]) -> InputSection? {
        guard let split = body.range(of: ":(", options: .backwards) else { return nil }
        var sectionPart = body[split.upperBound...]
        guard sectionPart.hasSuffix(")") else { return nil }
        sectionPart = sectionPart.dropLast()
        if let plus = sectionPart.range(of: "+0x", options: .backwards) {
            sectionPart = sectionPart[..<plus.lowerBound]
        }
        var file = body[..<split.lowerBound]
        var member: String?
        if file.hasSuffix(")") {
            // The archive path ends at the first '(' after its last '/'.
            let nameStart = file.lastIndex(of: "/").map { file.index(after: $0) } ?? file.startIndex
            if let open = file[nameStart...].firstIndex(of: "(") {
                member = String(file[file.index(after: open)..<file.index(before: file.endIndex)])
                file = file[..<open]
            }
        }
        return InputSection(address: numbers[0], size: numbers[2], alignment: max(numbers[3], 1),
                            file: String(file), member: member, section: String(sectionPart))
    }
}
