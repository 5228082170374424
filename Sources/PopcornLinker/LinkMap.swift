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
        try self.init(bytes: Array(text.utf8), path: path)
    }

    /// Parses the bytes of a map file. Works on bytes, not `String`s: lld's maps of real programs
    /// are megabytes, and only names become strings.
    public init(bytes: [UInt8], path: String) throws {
        var sections: [OutputSection] = []
        // Whether symbol lines belong to the last input section (not to a script assignment).
        var inInput = false
        try bytes.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            var lineNumber = 0
            while lineStart < buffer.count {
                var lineEnd = lineStart
                while lineEnd < buffer.count && buffer[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                lineNumber += 1
                let line = lineStart..<lineEnd
                lineStart = lineEnd + 1
                if line.allSatisfy({ buffer[$0] == UInt8(ascii: " ") || buffer[$0] == UInt8(ascii: "\t") }) { continue }
                if lineNumber == 1 && Self.contains(buffer, line, "VMA") { continue }
                guard let (numbers, rest) = Self.splitColumns(buffer, line) else {
                    throw LinkerError.malformedMap(path: path, line: lineNumber, text: Self.string(buffer, line))
                }
                var body = rest.lowerBound
                while body < rest.upperBound && buffer[body] == UInt8(ascii: " ") { body += 1 }
                let indent = body - rest.lowerBound
                let name = body..<rest.upperBound
                if indent == 0 {
                    sections.append(OutputSection(name: Self.string(buffer, name), address: numbers.0, size: numbers.2,
                                                  alignment: numbers.3, inputs: []))
                    inInput = false
                } else if indent < 16 {
                    inInput = false
                    guard let input = Self.parseInput(buffer, name, numbers) else { continue }
                    guard !sections.isEmpty else {
                        throw LinkerError.malformedMap(path: path, line: lineNumber, text: Self.string(buffer, line))
                    }
                    sections[sections.count - 1].inputs.append(input)
                    inInput = true
                } else if inInput {
                    let last = sections.count - 1
                    sections[last].inputs[sections[last].inputs.count - 1].symbols
                        .append(Symbol(name: Self.string(buffer, name), address: numbers.0))
                }
            }
        }
        outputSections = sections
    }

    typealias Bytes = UnsafeBufferPointer<UInt8>
    typealias Columns = (UInt64, UInt64, UInt64, UInt64)

    static func string(_ buffer: Bytes, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
    }

    static func contains(_ buffer: Bytes, _ range: Range<Int>, _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard range.count >= pattern.count else { return false }
        return (range.lowerBound...(range.upperBound - pattern.count)).contains { start in
            pattern.indices.allSatisfy { buffer[start + $0] == pattern[$0] }
        }
    }

    /// The four numeric columns (VMA, LMA and size in hex, alignment in decimal) and the rest.
    static func splitColumns(_ buffer: Bytes, _ line: Range<Int>) -> (Columns, Range<Int>)? {
        var numbers: [UInt64] = [0, 0, 0, 0]
        var cursor = line.lowerBound
        for column in 0..<4 {
            while cursor < line.upperBound && buffer[cursor] == UInt8(ascii: " ") { cursor += 1 }
            let start = cursor
            var value: UInt64 = 0
            let radix: UInt64 = column == 3 ? 10 : 16
            while cursor < line.upperBound && buffer[cursor] != UInt8(ascii: " ") {
                guard let digit = Self.digit(buffer[cursor], radix: radix) else { return nil }
                let (times, overflow) = value.multipliedReportingOverflow(by: radix)
                guard !overflow else { return nil }
                value = times + digit
                cursor += 1
            }
            guard cursor > start else { return nil }
            numbers[column] = value
        }
        // One separator space follows the alignment column; the rest is the indented name.
        guard cursor < line.upperBound else { return nil }
        return ((numbers[0], numbers[1], numbers[2], numbers[3]), (cursor + 1)..<line.upperBound)
    }

    static func digit(_ byte: UInt8, radix: UInt64) -> UInt64? {
        let value: UInt64
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = UInt64(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
        return value < radix ? value : nil
    }

    /// The last position in `range` where `needle` starts, if any.
    static func lastRange(of needle: [UInt8], in buffer: Bytes, _ range: Range<Int>) -> Int? {
        guard range.count >= needle.count else { return nil }
        var start = range.upperBound - needle.count
        while start >= range.lowerBound {
            if needle.indices.allSatisfy({ buffer[start + $0] == needle[$0] }) { return start }
            start -= 1
        }
        return nil
    }

    /// `file:(section)`, `archive(member):(section)`, with an optional `+0x…` piece offset.
    static func parseInput(_ buffer: Bytes, _ body: Range<Int>, _ numbers: Columns) -> InputSection? {
        guard let split = lastRange(of: Array(":(".utf8), in: buffer, body) else { return nil }
        var section = (split + 2)..<body.upperBound
        guard !section.isEmpty, buffer[section.upperBound - 1] == UInt8(ascii: ")") else { return nil }
        section = section.lowerBound..<(section.upperBound - 1)
        if let plus = lastRange(of: Array("+0x".utf8), in: buffer, section) {
            section = section.lowerBound..<plus
        }
        var file = body.lowerBound..<split
        var member: String?
        if !file.isEmpty && buffer[file.upperBound - 1] == UInt8(ascii: ")") {
            // The archive path ends at the first '(' after its last '/'.
            var nameStart = file.lowerBound
            for i in file where buffer[i] == UInt8(ascii: "/") { nameStart = i + 1 }
            if let open = (nameStart..<file.upperBound).first(where: { buffer[$0] == UInt8(ascii: "(") }) {
                member = string(buffer, (open + 1)..<(file.upperBound - 1))
                file = file.lowerBound..<open
            }
        }
        return InputSection(address: numbers.0, size: numbers.2, alignment: max(numbers.3, 1),
                            file: string(buffer, file), member: member, section: string(buffer, section))
    }
}
