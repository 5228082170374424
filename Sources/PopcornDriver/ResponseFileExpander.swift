import Foundation
import PopcornSupport

/// Expands `@file` arguments into the arguments the file contains.
///
/// Tokenising follows GCC (libiberty `buildargv`): arguments are separated by white space;
/// single and double quotes group text (the quotes are removed); a backslash makes the next
/// character literal, inside quotes too. Response files may name other response files; a
/// nested relative path is resolved against the directory of the file that names it, as clang
/// does. An `@name` that is not a readable file stays as it is, as both GCC and clang do, and
/// is then reported as a missing input.
public struct ResponseFileExpander: Sendable {
    /// Guards against response files that include themselves.
    public var maximumDepth = 64

    public init() {}

    /// Expands every `@file` in `arguments`, relative to `directory` (default: the cwd).
    public func expand(_ arguments: [String], directory: String? = nil) throws -> [String] {
        try expand(arguments, directory: directory, active: [])
    }

    private func expand(_ arguments: [String], directory: String?, active: [String]) throws -> [String] {
        var out: [String] = []
        for arg in arguments {
            guard arg.hasPrefix("@"), arg.count > 1 else { out.append(arg); continue }
            var path = String(arg.dropFirst())
            if let directory, !path.hasPrefix("/") { path = directory + "/" + path }
            guard let kind = FileSystem.kind(of: path), kind != .directory else {
                out.append(arg)
                continue
            }
            let canonical = (path as NSString).standardizingPath
            if active.contains(canonical) || active.count >= maximumDepth {
                throw OptionError.recursiveResponseFile(path: String(arg.dropFirst()))
            }
            guard let data = try? FileSystem.read(path) else {
                throw OptionError.unreadableResponseFile(path: path, reason: String(cString: strerror(errno)))
            }
            let nested = ResponseFileExpander.tokenize(Path.decode(data))
            let base = Path.directory(path)
            out += try expand(nested, directory: base.isEmpty ? nil : base, active: active + [canonical])
        }
        return out
    }

    /// Splits response-file text into arguments with GCC's quoting rules.
    public static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var inToken = false
        var escaped = false
        var quote: Character?
        for c in text {
            if escaped {
                current.append(c); escaped = false; inToken = true
            } else if c == "\\" {
                escaped = true; inToken = true
            } else if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c; inToken = true
            } else if c.isWhitespace {
                if inToken { tokens.append(current); current = ""; inToken = false }
            } else {
                current.append(c); inToken = true
            }
        }
        if inToken { tokens.append(current) }
        return tokens
    }
}
