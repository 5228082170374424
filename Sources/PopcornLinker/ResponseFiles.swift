import Foundation
import PopcornSupport

/// `@file` arguments, expanded the way ld.lld expands them on Unix (LLVM's
/// `cl::ExpandResponseFiles` with GNU tokenization), so a build system that switches to
/// response files for long command lines gets the same link from popcorn-ld as from ld.lld.
///
/// * Tokens are separated by whitespace (space, tab, newline, carriage return, vertical tab,
///   form feed).
/// * A backslash makes the next character literal, outside and inside quotes alike.
/// * `'…'` and `"…"` quote; quotes end at the same character and join with adjacent text
///   (`a"b c"d` is one argument `ab cd`); an empty quoted string at the start of a token yields
///   no argument, as in LLVM.
/// * An `@file` inside a response file is expanded too, relative to the working directory (GNU
///   semantics, which lld uses); a file that includes itself is an error.
/// * `@file` naming a file that cannot be read stays an argument, as in lld (it then fails as an
///   input that does not exist).
public enum ResponseFiles {
    /// Expands every `@file` in `arguments`.
    public static func expand(_ arguments: [String]) throws -> [String] {
        try expand(arguments, including: [])
    }

    private static func expand(_ arguments: [String], including: [String]) throws -> [String] {
        var result: [String] = []
        for argument in arguments {
            guard argument.hasPrefix("@"), argument.count > 1 else { result.append(argument); continue }
            let path = String(argument.dropFirst())
            guard let data = try? FileSystem.read(path) else { result.append(argument); continue }
            if including.contains(path) { throw LinkerError.recursiveResponseFile(path: path) }
            result += try expand(tokenize(Array(data)), including: including + [path])
        }
        return result
    }

    /// Splits response-file contents into arguments (GNU rules above). Bytes are kept exactly:
    /// a token that is not UTF-8 becomes a path string that maps back to the same bytes.
    public static func tokenize(_ bytes: [UInt8]) -> [String] {
        var tokens: [String] = []
        var token: [UInt8] = []
        var index = 0
        let end = bytes.count
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        while index < end {
            if token.isEmpty {
                while index < end && isSpace(bytes[index]) { index += 1 }
                if index == end { break }
            }
            let c = bytes[index]
            if c == UInt8(ascii: "\\") && index + 1 < end {
                token.append(bytes[index + 1])
                index += 2
                continue
            }
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                index += 1
                while index < end && bytes[index] != c {
                    if bytes[index] == UInt8(ascii: "\\") && index + 1 < end { index += 1 }
                    token.append(bytes[index])
                    index += 1
                }
                // An unterminated quote ends the input; what it collected is the last argument.
                if index == end { break }
                index += 1
                continue
            }
            if isSpace(c) {
                if !token.isEmpty { tokens.append(Path.decode(token)) }
                token.removeAll()
                index += 1
                continue
            }
            token.append(c)
            index += 1
        }
        if !token.isEmpty { tokens.append(Path.decode(token)) }
        return tokens
    }
}
