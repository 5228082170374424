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

/// File names are bytes: the kernel accepts any sequence without `/` and NUL, UTF-8 or not.
/// A Swift `String` holds only valid Unicode, so a name like `out\xff\xfe` is carried losslessly
/// by mapping each byte that is not part of valid UTF-8 to a private-use scalar,
/// U+10FF00 + byte (bytes 0x80…0xFF → U+10FF80…U+10FFFF), and back at the file-system
/// boundary. Valid UTF-8 that happens to encode one of those scalars is escaped byte by byte,
/// so decoding and encoding are exact inverses for every byte sequence.
extension Path {
    private static let rawByteBase: UInt32 = 0x10FF00
    private static let rawByteRange: ClosedRange<UInt32> = 0x10FF80...0x10FFFF

    /// The path named by `bytes` (e.g. an `argv` entry or a `readdir` name), without loss.
    public static func decoding<C: Collection>(fileSystemBytes bytes: C) -> String where C.Element == UInt8 {
        let array = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var index = 0
        func escape(_ slice: ArraySlice<UInt8>) {
            for byte in slice { scalars.append(Unicode.Scalar(rawByteBase + UInt32(byte))!) }
        }
        while index < array.count {
            var iterator = array[index...].makeIterator()
            var parser = Unicode.UTF8.ForwardParser()
            switch parser.parseScalar(from: &iterator) {
            case let .valid(encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if rawByteRange.contains(scalar.value) { escape(array[index..<(index + encoded.count)]) }
                else { scalars.append(scalar) }
                index += encoded.count
            case let .error(length):
                escape(array[index..<(index + length)])
                index += length
            case .emptyInput:
                index = array.count
            }
        }
        return String(scalars)
    }

    /// The bytes the file system sees for `path` (the inverse of `decoding(fileSystemBytes:)`).
    public static func fileSystemBytes(_ path: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.utf8.count)
        for scalar in path.unicodeScalars {
            if rawByteRange.contains(scalar.value) {
                bytes.append(UInt8(scalar.value - rawByteBase))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }

    /// Calls `body` with the NUL-terminated file-system bytes of `path`, for system calls.
    public static func withFileSystemRepresentation<R>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        let bytes = fileSystemBytes(path).map { CChar(bitPattern: $0) } + [0]
        return try bytes.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Whether `path` is valid UTF-8 on disk, so it survives tools that take `String`s.
    public static func isUTF8(_ path: String) -> Bool {
        !path.unicodeScalars.contains { rawByteRange.contains($0.value) }
    }
}
