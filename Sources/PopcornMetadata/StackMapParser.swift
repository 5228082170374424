import Foundation
import PopcornELF

/// Decodes `.llvm_stackmaps` (format version 3, little-endian) from an ELF file.
public enum StackMapParser {
    /// The section LLVM emits stackmaps into on ELF targets.
    public static let sectionName = ".llvm_stackmaps"

    /// Decodes the `.llvm_stackmaps` section of `file`; an empty map when there is none.
    public static func parse(_ file: ELFFile) throws -> StackMap {
        guard let section = file.section(named: sectionName) else { return StackMap(functions: [], records: []) }
        let bytes: Data
        do { bytes = try file.contents(of: section) } catch {
            throw MetadataError.truncated(context: "'\(file.path)': \(sectionName)", what: "section contents")
        }
        return try parse(bytes, context: "'\(file.path)': \(sectionName)")
    }

    /// Decodes section bytes; `context` names the section in errors.
    ///
    /// Concatenated tables (one per linked object) are decoded one after another; each table
    /// is a multiple of 8 bytes long, and zero padding a linker may add between input sections
    /// is skipped.
    public static func parse(_ data: Data, context: String) throws -> StackMap {
        var cursor = DataCursor(data, context: context)
        var map = StackMap(functions: [], records: [])
        while true {
            // Skip alignment padding between input sections (a table never starts with 0).
            while !cursor.atEnd && cursor.bytes[cursor.offset] == 0 { cursor.offset += 1 }
            if cursor.atEnd { break }
            try parseTable(&cursor, into: &map)
        }
        return map
    }

    private static func parseTable(_ c: inout DataCursor, into map: inout StackMap) throws {
        let start = c.offset
        let version = try c.u8("stackmap header")
        guard version == 3 else {
            throw MetadataError.unsupported(context: c.context, what: "stackmap format version \(version) at offset \(start) (expected 3)")
        }
        try c.skip(3, "stackmap header")
        let functionCount = try c.u32("stackmap header")
        let constantCount = try c.u32("stackmap header")
        let recordCount = try c.u32("stackmap header")
        // Validate counts against the bytes left before allocating anything sized by them.
        guard UInt64(functionCount) * 24 + UInt64(constantCount) * 8 + UInt64(recordCount) * 16 <= UInt64(c.remaining) else {
            throw MetadataError.truncated(context: c.context, what: "stackmap table at offset \(start) (\(functionCount) functions, \(constantCount) constants, \(recordCount) records)")
        }

        let firstFunction = map.functions.count
        var expectedRecords: UInt64 = 0
        for i in 0..<Int(functionCount) {
            let address = try c.u64("function \(i)")
            let stackSize = try c.u64("function \(i)")
            let records = try c.u64("function \(i)")
            expectedRecords += records
            guard expectedRecords <= UInt64(recordCount) else {
                throw MetadataError.malformed(context: c.context, reason: "function record counts exceed the table's \(recordCount) records")
            }
            map.functions.append(StackMapFunction(address: address, stackSize: stackSize == UInt64.max ? nil : stackSize,
                                                  recordCount: records))
        }
        guard expectedRecords == UInt64(recordCount) else {
            throw MetadataError.malformed(context: c.context, reason: "function record counts sum to \(expectedRecords), table has \(recordCount) records")
        }
        var constants: [UInt64] = []
        constants.reserveCapacity(Int(constantCount))
        for i in 0..<Int(constantCount) { constants.append(try c.u64("constant \(i)")) }

        var function = firstFunction
        var leftInFunction = functionCount > 0 ? map.functions[function].recordCount : 0
        for r in 0..<Int(recordCount) {
            while leftInFunction == 0 {
                function += 1
                leftInFunction = map.functions[function].recordCount
            }
            leftInFunction -= 1
            map.records.append(try parseRecord(&c, index: r, function: function, constants: constants))
        }
    }

    private static func parseRecord(_ c: inout DataCursor, index r: Int, function: Int, constants: [UInt64]) throws -> StackMapRecord {
        let what = "stackmap record \(r)"
        let id = try c.u64(what)
        let offset = try c.u32(what)
        _ = try c.u16(what)
        let locationCount = try c.u16(what)
        try c.require(Int(locationCount) * 12, what)
        var locations: [StackMapLocation] = []
        locations.reserveCapacity(Int(locationCount))
        for l in 0..<Int(locationCount) {
            let rawKind = try c.u8(what)
            guard let kind = StackMapLocation.Kind(rawValue: rawKind) else {
                throw MetadataError.malformed(context: c.context, reason: "record \(r) (id \(id)) location \(l) has invalid kind \(rawKind)")
            }
            _ = try c.u8(what)
            let size = try c.u16(what)
            let register = try c.u16(what)
            _ = try c.u16(what)
            let value = try c.i32(what)
            var location = StackMapLocation(kind: kind, size: size, register: register, offset: value)
            switch kind {
            case .constant:
                // Small constants are sign-extended 32-bit values.
                location.constant = UInt64(bitPattern: Int64(value))
            case .constantIndex:
                guard value >= 0, Int(value) < constants.count else {
                    throw MetadataError.malformed(context: c.context, reason: "record \(r) (id \(id)) location \(l) refers to constant \(value) of \(constants.count)")
                }
                location.constant = constants[Int(value)]
            default: break
            }
            locations.append(location)
        }
        c.align(to: 8)
        _ = try c.u16(what)
        let liveOutCount = try c.u16(what)
        var liveOuts: [StackMapLiveOut] = []
        for _ in 0..<Int(liveOutCount) {
            let register = try c.u16(what)
            _ = try c.u8(what)
            let size = try c.u8(what)
            liveOuts.append(StackMapLiveOut(register: register, size: size))
        }
        c.align(to: 8)
        guard c.offset <= c.count else { throw MetadataError.truncated(context: c.context, what: what) }
        return StackMapRecord(id: id, functionIndex: function, instructionOffset: offset, locations: locations, liveOuts: liveOuts)
    }
}
