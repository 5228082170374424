import CZlib
import Foundation

/// The contents of an `SHF_COMPRESSED` section (ELF64): an `Elf64_Chdr` — `ch_type`
/// (`ELFCOMPRESS_ZLIB`), reserved, the uncompressed size and alignment — then a zlib stream, as
/// the gABI defines it, so `llvm-readelf -z` shows the uncompressed bytes too (`llvm-objcopy`
/// decompresses only debug sections).
///
/// Multi-ISA objects store the other ISAs' objects this way: an object is half stackmap records
/// of a few distinct frame slots each, which zlib shrinks about 3x at its fastest level (Lua's
/// 1.5 MB of embedded aarch64 objects: 0.46 MB, in 27 ms).
public enum CompressedSection {
    /// zlib's fastest level: the objects are written once per compile and read once per link.
    static let level: Int32 = 1

    /// `contents` as the bytes of a compressed section with alignment `alignment`.
    public static func compress(_ contents: Data, alignment: UInt64 = 8) throws -> Data {
        var bound = compressBound(uLong(contents.count))
        var stream = [UInt8](repeating: 0, count: Int(bound))
        let status = contents.withUnsafeBytes { source in
            compress2(&stream, &bound, source.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(contents.count), level)
        }
        guard status == Z_OK else {
            throw ELFError.invalidInput(path: "<compressed section>", reason: "zlib could not compress \(contents.count) bytes (status \(status))")
        }
        var out = Data(capacity: ELFConstants.compressionHeaderSize + Int(bound))
        out.appendLE(ELFConstants.ELFCOMPRESS_ZLIB)
        out.appendLE(UInt32(0))
        out.appendLE(UInt64(contents.count))
        out.appendLE(alignment)
        out.append(contentsOf: stream[0..<Int(bound)])
        return out
    }

    /// The uncompressed contents of a compressed section's bytes; `what` names it in errors.
    /// Only zlib streams are read, and the result must have exactly the size the header states.
    public static func decompress(_ section: Data, what: String) throws -> Data {
        func bad(_ reason: String) -> ELFError { .invalidInput(path: what, reason: reason) }
        let header = ByteReader(section)
        guard section.count >= ELFConstants.compressionHeaderSize, let type = header.u32(0), let size = header.u64(8) else {
            throw bad("compressed section without a header")
        }
        guard type == ELFConstants.ELFCOMPRESS_ZLIB else { throw bad("compression type \(type) is not zlib") }
        // Deflate expands at most 1032:1, so a damaged header cannot make this allocate gigabytes.
        let streamLength = section.count - ELFConstants.compressionHeaderSize
        guard size <= UInt64(Int32.max), size <= UInt64(streamLength) * 1032 else {
            throw bad("uncompressed size \(size) is implausible for \(streamLength) bytes of zlib data")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        var produced = uLong(size)
        let status = section.withUnsafeBytes { bytes in
            uncompress(&out, &produced, bytes.baseAddress!.advanced(by: ELFConstants.compressionHeaderSize)
                .assumingMemoryBound(to: Bytef.self), uLong(streamLength))
        }
        guard status == Z_OK, produced == uLong(size) else {
            throw bad("damaged zlib stream (status \(status), \(produced) of \(size) bytes)")
        }
        return Data(out)
    }
}
