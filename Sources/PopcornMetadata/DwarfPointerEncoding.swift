/// `DW_EH_PE_*` pointer encodings used in `.eh_frame`.
enum DwarfPointerEncoding {
    static let absolute: UInt8 = 0x00
    static let omit: UInt8 = 0xff
    static let pcRelative: UInt8 = 0x10

    /// Reads a pointer with `encoding` at the cursor. `baseAddress` is the run-time address of
    /// the cursor's byte 0 (for PC-relative values).
    /// `allowIndirect` accepts `DW_EH_PE_indirect` and returns the address of the pointer
    /// (enough to skip a personality routine, whose value the unwind rules do not need).
    static func read(_ encoding: UInt8, from c: inout DataCursor, baseAddress: UInt64, allowIndirect: Bool = false,
                     what: String) throws -> UInt64 {
        if encoding == omit { return 0 }
        if encoding & 0x80 != 0 && !allowIndirect {
            throw MetadataError.unsupported(context: c.context, what: "indirect pointer encoding in \(what)")
        }
        let fieldAddress = baseAddress &+ UInt64(c.offset)
        let value: UInt64
        switch encoding & 0x0f {
        case 0x00: value = try c.u64(what)
        case 0x01: value = try c.uleb(what)
        case 0x02: value = UInt64(try c.u16(what))
        case 0x03: value = UInt64(try c.u32(what))
        case 0x04: value = try c.u64(what)
        case 0x09: value = UInt64(bitPattern: try c.sleb(what))
        case 0x0a: value = UInt64(bitPattern: Int64(Int16(bitPattern: try c.u16(what))))
        case 0x0b: value = UInt64(bitPattern: Int64(try c.i32(what)))
        case 0x0c: value = try c.u64(what)
        default:
            throw MetadataError.unsupported(context: c.context, what: "pointer encoding 0x\(String(encoding, radix: 16)) in \(what)")
        }
        switch encoding & 0x70 {
        case 0x00: return value
        case pcRelative: return fieldAddress &+ value
        default:
            throw MetadataError.unsupported(context: c.context, what: "pointer encoding 0x\(String(encoding, radix: 16)) in \(what)")
        }
    }
}
