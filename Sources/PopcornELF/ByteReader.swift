import Foundation

/// Bounds-checked little-endian reads from a byte buffer.
///
/// All offsets and sizes in an ELF file are controlled by whoever wrote the file; Swift traps on
/// out-of-range indexing and on arithmetic overflow, so every read goes through here and every
/// sum of file-controlled values uses `checkedAdd`/`checkedMultiply`. A failed check returns
/// `nil` and the caller turns it into an `ELFError` naming what was being read.
struct ByteReader {
    let data: Data

    init(_ data: Data) { self.data = data }

    var count: UInt64 { UInt64(data.count) }

    /// `true` when `[offset, offset + size)` lies inside the buffer.
    func contains(offset: UInt64, size: UInt64) -> Bool {
        guard let end = ByteReader.add(offset, size) else { return false }
        return end <= count
    }

    /// Reads `width` bytes at `offset` as a little-endian unsigned integer.
    private func read(_ offset: UInt64, width: Int) -> UInt64? {
        guard contains(offset: offset, size: UInt64(width)) else { return nil }
        // Through the raw buffer: `Data`'s subscript costs a representation switch per byte,
        // which made reading symbol tables and stackmaps most of popcorn-ld's own time.
        return data.withUnsafeBytes { raw in
            let base = Int(offset)
            var value: UInt64 = 0
            for i in (0..<width).reversed() {
                value = (value << 8) | UInt64(raw[base + i])
            }
            return value
        }
    }

    func u8(_ offset: UInt64) -> UInt8? { read(offset, width: 1).map { UInt8($0) } }
    func u16(_ offset: UInt64) -> UInt16? { read(offset, width: 2).map { UInt16($0) } }
    func u32(_ offset: UInt64) -> UInt32? { read(offset, width: 4).map { UInt32($0) } }
    func u64(_ offset: UInt64) -> UInt64? { read(offset, width: 8) }

    /// A copy of `[offset, offset + size)` with indices starting at zero, or `nil` if out of range.
    func bytes(_ offset: UInt64, _ size: UInt64) -> Data? {
        guard contains(offset: offset, size: size) else { return nil }
        let start = data.startIndex + Int(offset)
        return data.subdata(in: start..<(start + Int(size)))
    }

    /// The NUL-terminated string starting at `offset` inside `[0, limit)`, or `nil` if the
    /// offset is out of range or no terminator appears before `limit`.
    func cString(at offset: UInt64, limit: UInt64) -> String? {
        guard offset < limit, limit <= count else { return nil }
        return data.withUnsafeBytes { raw -> String? in
            guard let base = raw.baseAddress,
                  let nul = memchr(base + Int(offset), 0, Int(limit - offset)) else { return nil }
            let length = (base + Int(offset)).distance(to: UnsafeRawPointer(nul))
            return String(decoding: UnsafeRawBufferPointer(start: base + Int(offset), count: length), as: UTF8.self)
        }
    }

    static func add(_ a: UInt64, _ b: UInt64) -> UInt64? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }
}

/// Little-endian appends for writers.
extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Pads with zero bytes until `count` is a multiple of `alignment` (a power of two).
    mutating func pad(toAlignment alignment: Int) {
        let rem = count % alignment
        if rem != 0 { append(Data(count: alignment - rem)) }
    }

    /// Overwrites bytes at `offset` (relative to `startIndex`) with `value` in little-endian order.
    mutating func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { raw in
            replaceSubrange((startIndex + offset)..<(startIndex + offset + raw.count), with: raw)
        }
    }
}
