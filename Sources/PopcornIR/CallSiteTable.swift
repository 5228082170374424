import CLLVM

/// The side table of call sites, emitted into each object as section `.popcorn.callsites`.
///
/// The linker concatenates the sections of all objects, so the table is a sequence of
/// self-delimiting blocks, all little-endian and 8-byte aligned:
///
/// ```
/// block:   "PCSITES\0"  u32 version (2)  u32 record count   record…
/// record:  u64 id  u32 operand count  u32 0  operand…
/// operand: u8 kind  u8 holds (0xff: none)  u16 base (0xffff: none)  u32 size
/// ```
///
/// A record's operands describe the locations of the stackmap record with the same ID, one to
/// one and in order (see `CallSiteRecord.Kind` for the kinds); `size` matters for stack objects
/// (their size in bytes, at most 4 GiB − 1 as the metadata stores it). Zero bytes between blocks
/// are padding. Version 1 had 16-byte operands and the function's name in every record: the
/// table was larger than the stackmaps it annotates (11 MB for SQLite's amalgamation per ISA).
enum CallSiteTable {
    static let section = ".popcorn.callsites"
    static let magic = Array("PCSITES\0".utf8)
    static let version: UInt32 = 2
    static let noBase: UInt16 = 0xffff

    /// Encodes one module's records as one block.
    static func encode(_ records: [CallSiteRecord]) -> [UInt8] {
        var bytes = magic
        append(&bytes, version)
        append(&bytes, UInt32(records.count))
        for record in records {
            append(&bytes, record.id)
            append(&bytes, UInt32(record.operands.count))
            append(&bytes, UInt32(0))
            for operand in record.operands {
                bytes += [operand.kind.rawValue, operand.holds?.rawValue ?? 0xff]
                append(&bytes, operand.base.map { UInt16(clamping: $0) } ?? noBase)
                append(&bytes, UInt32(clamping: operand.size))
            }
        }
        return bytes
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

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
