import Foundation

/// Bounds-checked little-endian reads from untrusted section bytes.
///
/// Sections come from files anyone could have written; Swift traps on out-of-range indexing and
/// on overflow, so every read checks its extent first and a failure becomes a `MetadataError`
/// naming what was being read, never a crash.
struct DataCursor {
    /// The bytes, re-based so that index 0 is the first byte.
    let bytes: [UInt8]
    /// Where reads happen next.
    var offset: Int
    /// Names the section in errors (`'app': .llvm_stackmaps`).
    let context: String
    /// Reads stop here (the end of the current entry, or of the buffer).
    var limit: Int

    init(_ data: Data, context: String, offset: Int = 0) {
        self.init(bytes: [UInt8](data), context: context, offset: offset)
    }

    /// A cursor over `bytes` (shared, not copied) that may not read past `limit`.
    init(bytes: [UInt8], context: String, offset: Int = 0, limit: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.context = context
        self.limit = min(limit ?? bytes.count, bytes.count)
    }

    var count: Int { limit }
    var remaining: Int { max(0, limit - offset) }
    var atEnd: Bool { offset >= limit }

    /// `true` when `size` bytes starting at `at` are inside the readable range.
    func contains(_ at: Int, _ size: Int) -> Bool {
        at >= 0 && size >= 0 && at <= limit && size <= limit - at
    }

    /// Throws unless `size` more bytes can be read.
    func require(_ size: Int, _ what: @autoclosure () -> String) throws {
        guard contains(offset, size) else { throw MetadataError.truncated(context: context, what: what()) }
    }

    mutating func unsigned(_ width: Int, _ what: @autoclosure () -> String) throws -> UInt64 {
        try require(width, what())
        var value: UInt64 = 0
        for i in (0..<width).reversed() { value = (value << 8) | UInt64(bytes[offset + i]) }
        offset += width
        return value
    }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 { UInt8(try unsigned(1, what())) }
    mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 { UInt16(try unsigned(2, what())) }
    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { UInt32(try unsigned(4, what())) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try unsigned(8, what()) }
    mutating func i32(_ what: @autoclosure () -> String) throws -> Int32 { Int32(bitPattern: try u32(what())) }

    /// Skips `size` bytes.
    mutating func skip(_ size: Int, _ what: @autoclosure () -> String) throws {
        try require(size, what())
        offset += size
    }

    /// Reads `size` raw bytes.
    mutating func take(_ size: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<UInt8> {
        try require(size, what())
        defer { offset += size }
        return bytes[offset..<(offset + size)]
    }

    /// Unsigned LEB128; values that do not fit in 64 bits are malformed.
    mutating func uleb(_ what: @autoclosure () -> String) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try u8(what())
            let payload = UInt64(byte & 0x7f)
            if shift >= 64 || (shift == 63 && payload > 1) {
                if payload != 0 { throw MetadataError.malformed(context: context, reason: "\(what()) does not fit in 64 bits") }
            } else {
                result |= payload << shift
            }
            shift += 7
            if byte & 0x80 == 0 { return result }
        }
    }

    /// Signed LEB128.
    mutating func sleb(_ what: @autoclosure () -> String) throws -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var byte: UInt8 = 0
        repeat {
            byte = try u8(what())
            if shift < 64 { result |= UInt64(byte & 0x7f) << shift }
            shift += 7
        } while byte & 0x80 != 0
        if shift < 64 && byte & 0x40 != 0 { result |= ~UInt64(0) << shift }
        return Int64(bitPattern: result)
    }

    /// A NUL-terminated string.
    mutating func cString(_ what: @autoclosure () -> String) throws -> String {
        guard offset < limit, let nul = bytes[offset..<limit].firstIndex(of: 0) else {
            throw MetadataError.truncated(context: context, what: what())
        }
        defer { offset = nul + 1 }
        return String(decoding: bytes[offset..<nul], as: UTF8.self)
    }

    /// Moves to the next multiple of `alignment` (a power of two).
    mutating func align(to alignment: Int) {
        let rem = offset % alignment
        if rem != 0 { offset += alignment - rem }
    }
}
