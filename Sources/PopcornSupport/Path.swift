import Foundation

/// Path splitting without Foundation's `NSString` helpers, which trap on one-character names
/// (`("v" as NSString).lastPathComponent` crashes in swift-corelibs-foundation 6.3) — and users
/// do name their outputs `-o a`.
public enum Path {
    /// Everything after the last `/` (the whole path when there is none).
    public static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Everything before the last `/` (`""` when there is none, `"/"` for a file in the root).
    public static func directory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `directory/name`, without doubling slashes.
    public static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

// MARK: - Paths as the kernel sees them
//
// A Linux path is a byte string; it need not be UTF-8 (`touch $'caf\xe9.o'`). Swift strings
// are Unicode, and `CommandLine.arguments` or `String(cString:)` replace invalid bytes with
// U+FFFD — after which the file can no longer be opened. Paths therefore cross into Swift with
// `decode` and back to the kernel with `withFileSystemRepresentation`/`fileSystemBytes`, which
// round-trip every byte string exactly: a byte that is not part of a UTF-8 sequence becomes the
// private-use scalar U+10FF00+byte (never a valid scalar of its own encoding, since the UTF-8
// of those scalars is itself escaped), so messages can still show the name and nothing is lost.
extension Path {
    /// The first scalar of the escape range (bytes 0x80–0xFF map to U+10FF80–U+10FFFF).
    static let escapeBase: UInt32 = 0x10FF00

    /// A path string for raw file-system bytes (argv, `readdir`, response files).
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let array = Array(bytes)
        // Fast path: valid UTF-8 without a scalar of the escape range (lead byte 0xF4 0x8F 0xBC–0xBF).
        if !array.contains(0xF4), let text = String(validating: array, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < array.count {
            let length = validSequenceLength(array, at: index)
            if length > 0 {
                let scalar = String(decoding: array[index..<index + length], as: UTF8.self).unicodeScalars.first!
                if scalar.value < escapeBase + 0x80 {
                    scalars.append(scalar)
                    index += length
                    continue
                }
            }
            // Not UTF-8 (or a scalar from the escape range itself): escape one byte.
            let byte = array[index]
            scalars.append(byte < 0x80 ? Unicode.Scalar(byte) : Unicode.Scalar(escapeBase + UInt32(byte))!)
            index += 1
        }
        return String(scalars)
    }

    /// A path string for a NUL-terminated C string from the system.
    public static func decode(cString: UnsafePointer<CChar>) -> String {
        decode(UnsafeBufferPointer(start: UnsafeRawPointer(cString).assumingMemoryBound(to: UInt8.self),
                                   count: strlen(cString)))
    }

    /// The bytes the kernel should see for `path` (the inverse of `decode`).
    public static func fileSystemBytes(_ path: String) -> [UInt8] {
        let utf8 = Array(path.utf8)
        if !utf8.contains(0xF4) { return utf8 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        for scalar in path.unicodeScalars {
            if scalar.value >= escapeBase + 0x80 && scalar.value <= escapeBase + 0xFF {
                bytes.append(UInt8(scalar.value - escapeBase))
            } else {
                bytes += Array(String(scalar).utf8)
            }
        }
        return bytes
    }

    /// Calls `body` with `path` as a NUL-terminated C string of its file-system bytes.
    public static func withFileSystemRepresentation<T>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        var bytes = fileSystemBytes(path).map { CChar(bitPattern: $0) }
        bytes.append(0)
        return try bytes.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Whether `path`'s file-system bytes are valid UTF-8 (no byte needed escaping).
    public static func isUTF8(_ path: String) -> Bool {
        !path.unicodeScalars.contains { $0.value >= escapeBase + 0x80 && $0.value <= escapeBase + 0xFF }
    }

    /// A copy of `path` as a C string (for argv/envp arrays); the caller frees it.
    public static func duplicateCString(_ path: String) -> UnsafeMutablePointer<CChar> {
        withFileSystemRepresentation(path) { strdup($0)! }
    }

    /// The text to print for `path`: its original bytes where they are UTF-8 and `\xNN` for the
    /// others (for places that must produce valid UTF-8, such as JSON).
    public static func displayName(_ path: String) -> String {
        var text = ""
        for scalar in path.unicodeScalars {
            if scalar.value >= escapeBase + 0x80 && scalar.value <= escapeBase + 0xFF {
                text += "\\x" + String(scalar.value - escapeBase, radix: 16, uppercase: false)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }

    /// The length of the well-formed UTF-8 sequence starting at `index`, or 0.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        return String(validating: bytes[index..<index + length], as: UTF8.self) == nil ? 0 : length
    }
}
