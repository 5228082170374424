import Foundation
import PopcornELF

/// Reads the compiler's call-site side table (`.popcorn.callsites`, written by popcorn-cc's
/// stackmap pass) from a linked binary, as live-value annotations per call-site ID.
///
/// The linker concatenates the tables of all objects: self-delimiting, 8-aligned blocks
/// (`"PCSITES\0"`, `u32` version, `u32` record count, records), zero bytes between blocks.
/// Version 2 (popcorn-cc's `CallSiteTable`): a record is `u64 id, u32 operand count, u32 0`, then
/// 8-byte operands `u8 kind, u8 holds (0xff none), u16 base (0xffff none), u32 size`. Version 1
/// (objects of earlier compilers): `u64 id, u32 operand count, u32 name length, name
/// (zero-padded to 8)`, then 16-byte operands `u8 kind, u8 holds, u16 0, u32 base (0xffffffff
/// none), u64 size`. Kinds: 0 value, 1 pointer, 2 derived pointer, 3 alloca.
public enum CallSiteTableReader {
    public static let sectionName = ".popcorn.callsites"
    static let magic = Array("PCSITES\0".utf8)

    /// The annotations of `file`, or `nil` when it has no side table.
    public static func read(_ file: ELFFile) throws -> [UInt64: [LiveValueAnnotation]]? {
        guard let section = file.section(named: sectionName) else { return nil }
        let context = "'\(file.path)': \(sectionName)"
        let data: Data
        do { data = try file.contents(of: section) } catch {
            throw MetadataError.truncated(context: context, what: "section contents")
        }
        return try decode(data, context: context)
    }

    /// Decodes section bytes.
    public static func decode(_ data: Data, context: String) throws -> [UInt64: [LiveValueAnnotation]] {
        var c = DataCursor(data, context: context)
        var result: [UInt64: [LiveValueAnnotation]] = [:]
        while true {
            while !c.atEnd && c.bytes[c.offset] == 0 { c.offset += 1 }
            if c.atEnd { return result }
            let start = c.offset
            guard Array(try c.take(8, "block header at offset \(start)")) == magic else {
                throw MetadataError.malformed(context: context, reason: "no call-site block at offset \(start)")
            }
            let version = try c.u32("block header")
            guard version == 1 || version == 2 else {
                throw MetadataError.unsupported(context: context, what: "call-site table version \(version)")
            }
            let count = try c.u32("block header")
            for r in 0..<Int(count) {
                let what = "call-site record \(r) of the block at offset \(start)"
                let id = try c.u64(what)
                let operands = Int(try c.u32(what))
                let nameLength = Int(try c.u32(what)) // 0 in version 2
                try c.skip(nameLength, what)
                c.align(to: 8)
                try c.require(operands * (version == 1 ? 16 : 8), what)
                var annotations: [LiveValueAnnotation] = []
                for o in 0..<operands {
                    let kind = try c.u8(what)
                    let holds = try c.u8(what)
                    let base: UInt32, size: UInt64
                    if version == 1 {
                        _ = try c.u16(what)
                        base = try c.u32(what)
                        size = try c.u64(what)
                    } else {
                        let narrow = try c.u16(what)
                        base = narrow == 0xffff ? 0xffff_ffff : UInt32(narrow)
                        size = UInt64(try c.u32(what))
                    }
                    var a = LiveValueAnnotation()
                    switch kind {
                    case 0: break
                    case 1: a.isPointer = true
                    case 2: a.isPointer = true
                    case 3:
                        a.isAlloca = true
                        a.allocaSize = UInt32(clamping: size)
                        a.holdsPointer = holds == 1 || holds == 2
                    default:
                        throw MetadataError.malformed(context: context, reason: "call site \(MetadataError.hex(id)) operand \(o) has kind \(kind)")
                    }
                    if base != 0xffff_ffff {
                        guard base < UInt32(operands) else {
                            throw MetadataError.malformed(context: context, reason: "call site \(MetadataError.hex(id)) operand \(o) has base \(base) of \(operands)")
                        }
                        a.base = UInt16(base)
                    }
                    annotations.append(a)
                }
                if result[id] != nil {
                    throw MetadataError.malformed(context: context, reason: "call site \(MetadataError.hex(id)) is described twice")
                }
                result[id] = annotations
            }
        }
    }
}
