import Foundation

/// Renders a tool's `--help` text as a section-1 manual page (roff, `man(7)` macros), so the
/// installed pages say exactly what `--help` says.
///
/// The help texts of popcorn-cc, popcorn-ld and popcorn-dump share one layout: section titles
/// in capitals at column 0 (`NAME`, `DESCRIPTION`, `OPTIONS`, …), indented bodies, blank lines
/// between paragraphs. Within a section, a paragraph of plain lines becomes filled text; a
/// block of entries — lines that start with an option (`-c`) or hold a term and its
/// description in columns (`POPCORN_CLANG   the clang…`), with deeper-indented continuation
/// lines — becomes a tagged list (`.TP`); a subsection title (`  Linking:`) becomes `.SS`;
/// anything else is kept verbatim (`.nf`).
public struct ManPage: Sendable {
    /// The command, as in `popcorn-cc`.
    public var name: String
    /// The text of `--help`.
    public var helpText: String
    /// Shown in the page footer, e.g. `Popcorn toolchain 0.1.0`.
    public var source: String

    public init(name: String, helpText: String, source: String) {
        self.name = name
        self.helpText = helpText
        self.source = source
    }

    /// The page, in roff.
    public func render() -> String {
        var out = ".\\\" Generated from the --help text of \(name); do not edit.\n"
        out += ".TH \"\(name.uppercased())\" \"1\" \"\" \"\(source)\" \"User Commands\"\n"
        for section in sections() {
            out += ".SH \(section.title)\n"
            if section.title == "NAME" {
                // whatis/apropos need `name \- summary` as one filled line.
                out += Self.escape(section.lines.map { $0.trimmingLeadingSpaces }.filter { !$0.isEmpty }.joined(separator: " ")) + "\n"
                continue
            }
            for block in Self.blocks(section.lines) { out += Self.render(block) }
        }
        return out
    }

    // MARK: Structure

    private struct Section { var title: String; var lines: [String] }

    private func sections() -> [Section] {
        var result: [Section] = []
        for line in helpText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if Self.isSectionTitle(line) {
                result.append(Section(title: line, lines: []))
            } else if !result.isEmpty {
                result[result.count - 1].lines.append(line)
            }
        }
        return result
    }

    private static func isSectionTitle(_ line: String) -> Bool {
        guard let first = line.first, first.isUppercase else { return false }
        return line.allSatisfy { $0.isUppercase || $0 == " " || $0 == "-" }
    }

    /// Paragraphs with their common indentation removed.
    private static func blocks(_ lines: [String]) -> [[String]] {
        var blocks: [[String]] = [[]]
        for line in lines {
            if line.allSatisfy({ $0 == " " }) {
                if !blocks[blocks.count - 1].isEmpty { blocks.append([]) }
            } else {
                blocks[blocks.count - 1].append(line)
            }
        }
        return blocks.filter { !$0.isEmpty }.map { block in
            let indent = block.map(\.indentation).min() ?? 0
            return block.map { String($0.dropFirst(indent)) }
        }
    }

    // MARK: Rendering

    private static func render(_ block: [String]) -> String {
        var lines = block
        var out = ""
        // `Compilation stages:` above indented entries.
        if let first = lines.first, first.indentation == 0, first.hasSuffix(":"), lines.count > 1,
           lines.dropFirst().allSatisfy({ $0.indentation > 0 }) {
            out += ".SS \(escape(String(first.dropLast())))\n"
            let indent = lines.dropFirst().map(\.indentation).min() ?? 0
            lines = lines.dropFirst().map { String($0.dropFirst(indent)) }
        }
        if let entries = entries(lines) {
            for (term, description) in entries {
                out += ".TP\n\\fB\(escape(term))\\fR\n"
                out += description.isEmpty ? "\n" : description.map(escape).joined(separator: "\n") + "\n"
            }
        } else if lines.allSatisfy({ $0.indentation == 0 && columnSplit($0) == nil }) {
            out += ".PP\n" + lines.map(escape).joined(separator: "\n") + "\n"
        } else {
            out += ".PP\n.nf\n" + lines.map(escape).joined(separator: "\n") + "\n.fi\n"
        }
        return out
    }

    /// The block as a list of (term, description lines), or nil when it is not one.
    private static func entries(_ lines: [String]) -> [(String, [String])]? {
        guard let first = lines.first, first.indentation == 0,
              first.hasPrefix("-") || columnSplit(first) != nil else { return nil }
        var result: [(String, [String])] = []
        for line in lines {
            if line.indentation == 0 {
                if let (term, description) = columnSplit(line) {
                    result.append((term, [description]))
                } else if line.hasPrefix("-") {
                    let (term, description) = optionSplit(line)
                    result.append((term, description.map { [$0] } ?? []))
                } else {
                    return nil
                }
            } else {
                result[result.count - 1].1.append(line.trimmingLeadingSpaces)
            }
        }
        return result
    }

    /// `term   description`: split at the first run of at least two spaces.
    private static func columnSplit(_ line: String) -> (String, String)? {
        guard let gap = line.range(of: "  ") else { return nil }
        let term = String(line[..<gap.lowerBound])
        let description = String(line[gap.upperBound...]).trimmingLeadingSpaces
        guard !term.isEmpty, !description.isEmpty else { return nil }
        return (term, description)
    }

    /// An option list that filled its column (`-static, -Bstatic, … -nopie accepted; …`): the
    /// description starts at the first word that is neither an option, nor a value
    /// (`<file>`), nor follows a comma.
    private static func optionSplit(_ line: String) -> (String, String?) {
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        for i in 1..<max(1, words.count) {
            let previous = words[i - 1], word = words[i]
            if previous.hasSuffix(",") || word.isEmpty || word.hasPrefix("-") || word.hasPrefix("<") { continue }
            return (words[..<i].joined(separator: " "), words[i...].joined(separator: " "))
        }
        return (line, nil)
    }

    /// Text safe in roff: backslashes, minus signs (so options copy as ASCII hyphens),
    /// control characters at the start of a line, non-ASCII characters.
    static func escape(_ text: String) -> String {
        var out = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        if out.hasPrefix(".") || out.hasPrefix("'") { out = "\\&" + out }
        // Non-ASCII (…, —) as named code points: troff reads bytes, not UTF-8.
        guard out.unicodeScalars.contains(where: { !$0.isASCII }) else { return out }
        return out.unicodeScalars.map { scalar in
            scalar.isASCII ? String(scalar) : "\\[u" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4) + "]"
        }.joined()
    }
}

private extension String {
    var indentation: Int { prefix { $0 == " " }.count }
    var trimmingLeadingSpaces: String { String(drop { $0 == " " }) }
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
