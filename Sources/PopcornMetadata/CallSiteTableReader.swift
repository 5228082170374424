import Foundation
import PopcornELF

/// Reads the compiler's call-site side table (`.popcorn.callsites`, written by popcorn-cc's
/// stackmap pass) from a linked binary, as live-value annotations per call-site ID.
///
/// The linker concatenates the tables of all objects: self-delimiting, 8-aligned blocks
/// (`"PCSITES\0"`, `u32` version, `u32` record count, records), zero bytes between blocks.
/// Version 3 (popcorn-cc's `CallSiteTable`): after the header, `u32` list count and `u32 0`;
/// records `u64 id, u32 list, u32 0`, then the lists, each `u32` operand count, `u32 0` and
/// 8-byte operands `u8 kind, u8 holds (0xff none), u16 base (0xffff none), u32 size`. Version 2:
/// records `u64 id, u32 operand count, u32 0` each followed by its operands. Version 1
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
        func add(_ id: UInt64, _ annotations: [LiveValueAnnotation]) throws {
            if result[id] != nil {
                throw MetadataError.malformed(context: context, reason: "call site \(MetadataError.hex(id)) is described twice")
            }
            result[id] = annotations
        }
        while true {
            while !c.atEnd && c.bytes[c.offset] == 0 { c.offset += 1 }
            if c.atEnd { return result }
            let start = c.offset
            guard Array(try c.take(8, "block header at offset \(start)")) == magic else {
                throw MetadataError.malformed(context: context, reason: "no call-site block at offset \(start)")
            }
            let version = try c.u32("block header")
            guard (1...3).contains(version) else {
                throw MetadataError.unsupported(context: context, what: "call-site table version \(version)")
            }
            let count = try c.u32("block header")
            if version == 3 {
                let listCount = Int(try c.u32("block header"))
                _ = try c.u32("block header")
                var records: [(id: UInt64, list: Int)] = []
                for r in 0..<Int(count) {
                    let what = "call-site record \(r) of the block at offset \(start)"
                    let id = try c.u64(what)
                    let list = Int(try c.u32(what))
                    _ = try c.u32(what)
                    guard list < listCount else {
                        throw MetadataError.malformed(context: context, reason: "call site \(MetadataError.hex(id)) refers to list \(list) of \(listCount)")
                    }
                    records.append((id, list))
                }
                var lists: [[LiveValueAnnotation]] = []
                for l in 0..<listCount {
                    let what = "operand list \(l) of the block at offset \(start)"
                    let operands = Int(try c.u32(what))
                    _ = try c.u32(what)
                    lists.append(try Self.operands(operands, wide: false, from: &c, what: what, context: context))
                }
                for record in records { try add(record.id, lists[record.list]) }
                continue
            }
            for r in 0..<Int(count) {
                let what = "call-site record \(r) of the block at offset \(start)"
                let id = try c.u64(what)
                let operands = Int(try c.u32(what))
                let nameLength = Int(try c.u32(what)) // 0 in version 2
                try c.skip(nameLength, what)
                c.align(to: 8)
                try add(id, try Self.operands(operands, wide: version == 1, from: &c, what: "call site \(MetadataError.hex(id))",
                                              context: context))
            }
        }
    }

    /// `count` operands: 16 bytes each in version 1 (`wide`), else 8.
    private static func operands(_ count: Int, wide: Bool, from c: inout DataCursor, what: String,
                                 context: String) throws -> [LiveValueAnnotation] {
        try c.require(count * (wide ? 16 : 8), what)
        var annotations: [LiveValueAnnotation] = []
        annotations.reserveCapacity(count)
        for o in 0..<count {
            let kind = try c.u8(what)
            let holds = try c.u8(what)
            let base: UInt32, size: UInt64
            if wide {
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
                throw MetadataError.malformed(context: context, reason: "\(what): operand \(o) has kind \(kind)")
            }
            if base != 0xffff_ffff {
                guard base < UInt32(count) else {
                    throw MetadataError.malformed(context: context, reason: "\(what): operand \(o) has base \(base) of \(count)")
                }
                a.base = UInt16(base)
            }
            annotations.append(a)
        }
        return annotations
    }
}
