import CLLVM
import PopcornSupport

/// The side table of call sites, emitted into each object as section `.popcorn.callsites`.
///
/// The linker concatenates the sections of all objects, so the table is a sequence of
/// self-delimiting blocks, all little-endian and 8-byte aligned:
///
/// ```
/// block:   "PCSITES\0"  u32 version (3)  u32 record count  u32 list count  u32 0
///          record × record count, then list × list count
/// record:  u64 id  u32 list  u32 0
/// list:    u32 operand count  u32 0  operand…
/// operand: u8 kind  u8 holds (0xff: none)  u16 base (0xffff: none)  u32 size
/// ```
///
/// A record's list (an index among the block's lists) describes the locations of the stackmap
/// record with the same ID, one to one and in order (see `CallSiteRecord.Kind` for the kinds);
/// `size` matters for stack objects (their size in bytes, at most 4 GiB − 1 as the metadata
/// stores it). Records with identical lists share one: most calls of a function list slots of
/// the same kinds and sizes. Zero bytes between blocks are padding. Version 1 had 16-byte
/// operands, one list per record and the function's name in every record: the table was larger
/// than the stackmaps it annotates (11 MB for SQLite's amalgamation per ISA).
enum CallSiteTable {
    static let section = ".popcorn.callsites"
    static let magic = Array("PCSITES\0".utf8)
    static let version: UInt32 = 3
    static let noBase: UInt16 = 0xffff

    /// Encodes one module's records as one block.
    static func encode(_ records: [CallSiteRecord]) -> [UInt8] {
        var lists: [[UInt8]] = [], listIndex: [[UInt8]: Int] = [:]
        var recordBytes: [UInt8] = []
        for record in records {
            var list: [UInt8] = []
            append(&list, UInt32(record.operands.count))
            append(&list, UInt32(0))
            for operand in record.operands {
                list += [operand.kind.rawValue, operand.holds?.rawValue ?? 0xff]
                append(&list, operand.base.map { UInt16(clamping: $0) } ?? noBase)
                append(&list, UInt32(clamping: operand.size))
            }
            let index: Int
            if let known = listIndex[list] {
                index = known
            } else {
                index = lists.count
                listIndex[list] = index
                lists.append(list)
            }
            append(&recordBytes, record.id)
            append(&recordBytes, UInt32(index))
            append(&recordBytes, UInt32(0))
        }
        var bytes = magic
        append(&bytes, version)
        append(&bytes, UInt32(records.count))
        append(&bytes, UInt32(lists.count))
        append(&bytes, UInt32(0))
        return bytes + recordBytes + lists.joined()
    }

    /// Adds the block as an internal constant `__popcorn.<hash>.callsites` in `.popcorn.callsites`.
    static func emit(_ records: [CallSiteRecord], moduleHash: String, into module: LLVMModuleRef) {
        let context = LLVMGetModuleContext(module)!
        let bytes = encode(records)
        // One byte-string constant (not a constant per byte: SQLite's table has millions).
        let initializer = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                LLVMConstStringInContext2(context, $0.baseAddress, $0.count, 1)!
            }
        }
        let global = LLVMAddGlobal(module, LLVMTypeOf(initializer), "\(SymbolNaming.prefix)\(moduleHash).callsites")!
        LLVMSetInitializer(global, initializer)
        LLVMSetGlobalConstant(global, 1)
        LLVMSetLinkage(global, LLVMInternalLinkage)
        LLVMSetSection(global, section)
        LLVMSetAlignment(global, 8)
    }

    /// The ISA whose object carries the table. The table describes the portable module's
    /// operands, the same for every ISA, so one copy per program suffices (popcorn-ld merges the
    /// tables of all binaries); the other ISAs' objects drop theirs (`LoweringPasses`).
    static let carrier: ISA = .x86_64

    /// Deletes the module's table; returns how many globals went.
    @discardableResult
    static func remove(from module: LLVMModuleRef) -> Int {
        let tables = IR.globals(of: module).filter { IR.section(of: $0) == section }
        for table in tables { LLVMDeleteGlobal(table) }
        return tables.count
    }

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
