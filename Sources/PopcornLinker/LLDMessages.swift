import Foundation
import PopcornSupport

/// ld.lld's errors and warnings, as the user should see them.
///
/// popcorn-ld runs ld.lld on scratch copies (`/tmp/popcorn-ld-XXXXXX/x86_64/in001.o`), once per
/// ISA and twice per link (probe and final). Its messages are rewritten to name the user's
/// files (`a.o`, `libx.a(b.o)`, the output) and printed as popcorn-ld's own
/// (`popcorn-ld: error: undefined symbol: foo`), each distinct message once: the ISAs' links
/// usually report the same problem, which the user has once. Warnings are passed through even
/// when the link succeeds (`-e nosuchsym` must not be silent), errors when it fails.
public final class LLDMessages: @unchecked Sendable {
    public enum Severity: Sendable, Equatable { case error, warning, other }

    /// One message: its first line without the `ld.lld: error: ` prefix, plus continuation
    /// lines (`>>> referenced by …`).
    public struct Message: Sendable, Equatable {
        public var severity: Severity
        public var text: String
    }

    /// Scratch path → the name to show, longest first so `lib002.a(m.o)` wins over `lib002.a`.
    private let replacements: [(String, String)]
    private let lock = NSLock()
    private var seen: Set<String> = []

    public init(displayNames: [String: String]) {
        replacements = displayNames.sorted { $0.key.count != $1.key.count ? $0.key.count > $1.key.count : $0.key < $1.key }
            .map { ($0.key, $0.value) }
    }

    /// Replaces every scratch path in `text` with the user's name for it.
    public func rename(_ text: String) -> String {
        var result = text
        for (scratch, shown) in replacements where result.contains(scratch) {
            result = result.replacingOccurrences(of: scratch, with: shown)
        }
        return result
    }

    /// Splits ld.lld's stderr into messages. A message starts with `<tool>: error: ` or
    /// `<tool>: warning: ` (the tool is ld.lld under any name); other lines continue it.
    public static func parse(_ output: String, tool: String) -> [Message] {
        let prefixes = Set([Path.baseName(tool), "ld.lld"])
        var messages: [Message] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: true) {
            var started: Message?
            for prefix in prefixes {
                for (severity, word) in [(Severity.error, "error"), (.warning, "warning")] {
                    let head = "\(prefix): \(word): "
                    if line.hasPrefix(head) { started = Message(severity: severity, text: String(line.dropFirst(head.count))) }
                }
            }
            if let started {
                messages.append(started)
            } else if messages.isEmpty {
                messages.append(Message(severity: .other, text: String(line)))
            } else {
                messages[messages.count - 1].text += "\n" + line
            }
        }
        return messages
    }

    /// Whether ld.lld's message is about popcorn's own linker script rather than the user's
    /// program: the script starts output sections at the layout's addresses, which need not be
    /// multiples of the largest input alignment (every input section has its own aligned
    /// `. = address`, and pass 8 verifies each one), so lld's "address (0x…) of section .text is
    /// not a multiple of alignment (16)" says nothing the user can act on.
    public static func isScriptArtefact(_ message: Message) -> Bool {
        message.severity == .warning && message.text.hasPrefix("address (0x")
            && message.text.contains(") of section ") && message.text.contains(" is not a multiple of alignment (")
    }

    /// What makes two messages the same: the first line and the set of `>>>` entries. The ISAs'
    /// links list the same references in different orders (`>>> referenced by a.c` /
    /// `>>>   a.o:(main)` pairs), and the user should see the problem once.
    static func identity(of text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first else { return text }
        var entries: [String] = []
        for line in lines.dropFirst() {
            // `>>> referenced by x.c` starts an entry; `>>>               x.o:(main)` continues it.
            let startsEntry = line.hasPrefix(">>> ") && !line.hasPrefix(">>>  ")
            if startsEntry || entries.isEmpty { entries.append(String(line)) }
            else { entries[entries.count - 1] += "\n" + line }
        }
        return ([String(first)] + entries.sorted()).joined(separator: "\n")
    }

    /// Reports the messages of one ld.lld run that have not been reported yet; returns how many
    /// errors the run printed (including ones already reported by another run).
    @discardableResult
    public func report(_ output: String, tool: String, to diagnostics: DiagnosticsEngine) -> Int {
        var errors = 0
        for message in Self.parse(output, tool: tool) where !Self.isScriptArtefact(message) {
            let text = rename(message.text)
            if message.severity == .error { errors += 1 }
            let fresh = lock.withLock { seen.insert("\(message.severity):" + Self.identity(of: text)).inserted }
            guard fresh else { continue }
            switch message.severity {
            case .error: diagnostics.error(text)
            case .warning: diagnostics.warning(text)
            case .other: diagnostics.remark(text)
            }
        }
        return errors
    }
}
