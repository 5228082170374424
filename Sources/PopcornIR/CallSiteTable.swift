import CLLVM

/// The side table of call sites, emitted into each object as section `.popcorn.callsites`.
///
/// The linker concatenates the sections of all objects, so the table is a sequence of
/// self-delimiting blocks, all little-endian and 8-byte aligned:
///
/// ```
/// block:   "PCSITES\0"  u32 version (1)  u32 record count   record…
/// record:  u64 id  u32 operand count  u32 name length  name bytes, zero-padded to 8  operand…
/// operand: u8 kind  u8 holds (0xff: none)  u16 0  u32 base (0xffffffff: none)  u64 size
/// ```
///
/// A record's operands describe the locations of the stackmap record with the same ID, one to
/// one and in order (see `CallSiteRecord.Kind` for the kinds). Zero bytes between blocks are
/// padding.
enum CallSiteTable {
    static let section = ".popcorn.callsites"
    static let magic = Array("PCSITES\0".utf8)
    static let version: UInt32 = 1
    static let noBase: UInt32 = 0xffff_ffff

    /// Encodes one module's records as one block.
    static func encode(_ records: [CallSiteRecord]) -> [UInt8] {
        var bytes = magic
        append(&bytes, version)
        append(&bytes, UInt32(records.count))
        for record in records {
            append(&bytes, record.id)
            append(&bytes, UInt32(record.operands.count))
            let name = Array(record.function.utf8)
            append(&bytes, UInt32(name.count))
            bytes += name
            bytes += [UInt8](repeating: 0, count: (8 - name.count % 8) % 8)
            for operand in record.operands {
                bytes += [operand.kind.rawValue, operand.holds?.rawValue ?? 0xff, 0, 0]
                append(&bytes, operand.base.map { UInt32($0) } ?? noBase)
                append(&bytes, operand.size)
            }
        }
        return bytes
    }

    /// Adds the block as an internal constant `__popcorn.<hash>.callsites` in `.popcorn.callsites`.
    static func emit(_ records: [CallSiteRecord], moduleHash: String, into module: LLVMModuleRef) {
        let context = LLVMGetModuleContext(module)!
        let bytes = encode(records)
        let i8 = LLVMInt8TypeInContext(context)!
        var elements: [LLVMValueRef?] = bytes.map { LLVMConstInt(i8, UInt64($0), 0) }
        let initializer = elements.withUnsafeMutableBufferPointer {
            LLVMConstArray2(i8, $0.baseAddress, UInt64($0.count))!
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
