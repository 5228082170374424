import Foundation
import PopcornELF
import PopcornSupport

/// Decodes `.popcorn.meta` sections, checking every offset, count, index and ordering the
/// runtime relies on, so a corrupt section is an error here rather than a crash there.
public enum MetadataReader {
    /// Decodes the `.popcorn.meta` section of a binary (one table per ISA).
    public static func read(_ file: ELFFile) throws -> [StackTransformMetadata] {
        guard let section = file.section(named: MetadataFormat.sectionName) else {
            throw MetadataError.missingSection(path: file.path, section: MetadataFormat.sectionName)
        }
        let context = "'\(file.path)': \(MetadataFormat.sectionName)"
        let data: Data
        do { data = try file.contents(of: section) } catch {
            throw MetadataError.truncated(context: context, what: "section contents")
        }
        return try decodeSection(data, context: context)
    }

    /// Decodes a whole section: blobs back to back, each ISA at most once.
    public static func decodeSection(_ data: Data, context: String = MetadataFormat.sectionName) throws -> [StackTransformMetadata] {
        let bytes = [UInt8](data)
        var tables: [StackTransformMetadata] = []
        var offset = 0
        while offset < bytes.count {
            let (table, size) = try decodeBlob(bytes, at: offset, context: context)
            if tables.contains(where: { $0.isa == table.isa }) {
                throw MetadataError.malformed(context: context, reason: "two tables for \(table.isa)")
            }
            tables.append(table)
            offset += size
        }
        return tables
    }

    /// Decodes one blob (as produced by `MetadataWriter.encode`).
    public static func decode(_ data: Data, context: String = MetadataFormat.sectionName) throws -> StackTransformMetadata {
        let bytes = [UInt8](data)
        let (table, size) = try decodeBlob(bytes, at: 0, context: context)
        guard size == bytes.count else {
            throw MetadataError.malformed(context: context, reason: "\(bytes.count - size) bytes after the table")
        }
        return table
    }

    private static func decodeBlob(_ bytes: [UInt8], at base: Int, context: String) throws -> (StackTransformMetadata, Int) {
        typealias F = MetadataFormat
        func malformed(_ reason: String) -> MetadataError { .malformed(context: context, reason: "table at offset \(base): \(reason)") }
        var h = DataCursor(bytes: bytes, context: context, offset: base)
        try h.require(F.headerSize, "metadata header at offset \(base)")
        guard Array(try h.take(8, "magic")) == F.magic else { throw malformed("bad magic (not popcorn metadata)") }
        let version = try h.u16("version")
        guard version == F.version else {
            throw MetadataError.unsupported(context: context, what: "metadata version \(version) (expected \(F.version))")
        }
        let isaCode = try h.u16("isa")
        guard let isa = F.isa(code: isaCode) else { throw malformed("unknown isa \(isaCode)") }
        let headerSize = Int(try h.u32("header size"))
        let totalSize64 = try h.u64("total size")
        _ = try h.u64("site set hash")
        let functionCount = Int(try h.u32("function count"))
        let siteCount = Int(try h.u32("call site count"))
        let valueCount = Int(try h.u32("live value count"))
        let savedCount = Int(try h.u32("saved register count"))
        let stringsSize = Int(try h.u32("string table size"))
        _ = try h.u32("flags")
        var offsets: [Int] = []
        for name in ["functions", "call sites", "address index", "live values", "saved registers", "string table"] {
            offsets.append(Int(try h.u32("\(name) offset")))
        }
        guard headerSize >= F.headerSize else { throw malformed("header size \(headerSize)") }
        guard totalSize64 % UInt64(F.alignment) == 0, totalSize64 >= UInt64(headerSize),
              totalSize64 <= UInt64(bytes.count - base) else {
            throw MetadataError.truncated(context: context, what: "table at offset \(base) (size \(totalSize64), \(bytes.count - base) bytes left)")
        }
        let totalSize = Int(totalSize64)
        let extents = [(functionCount, F.functionSize), (siteCount, F.callSiteSize), (siteCount, F.indexEntrySize),
                       (valueCount, F.liveValueSize), (savedCount, F.savedRegisterSize), (stringsSize, 1)]
        let names = ["function table", "call site table", "address index", "live value table", "saved register table", "string table"]
        for (i, (count, size)) in extents.enumerated() {
            let start = offsets[i]
            guard start >= headerSize, start <= totalSize, count <= (totalSize - start) / size else {
                throw MetadataError.truncated(context: context, what: "\(names[i]) of table at offset \(base)")
            }
        }
        let blobEnd = base + totalSize
        func cursor(_ table: Int) -> DataCursor {
            DataCursor(bytes: bytes, context: context, offset: base + offsets[table], limit: blobEnd)
        }

        // Strings.
        let stringsStart = base + offsets[5]
        func string(at offset: UInt32) throws -> String {
            guard Int(offset) < stringsSize else { throw malformed("name offset \(offset) outside the string table") }
            var c = DataCursor(bytes: bytes, context: context, offset: stringsStart + Int(offset), limit: stringsStart + stringsSize)
            return try c.cString("name at string offset \(offset)")
        }

        var functions: [MetadataFunction] = []
        var functionSites: [(first: Int, count: Int)] = []
        var c = cursor(0)
        for i in 0..<functionCount {
            let address = try c.u64("function \(i)")
            let size = try c.u64("function \(i)")
            let name = try string(at: try c.u32("function \(i)"))
            let first = Int(try c.u32("function \(i)"))
            let count = Int(try c.u32("function \(i)"))
            _ = try c.u32("function \(i)")
            guard first <= siteCount, count <= siteCount - first else { throw malformed("function '\(name)' has call sites out of range") }
            if let previous = functions.last, previous.address >= address {
                throw malformed("functions not sorted by address at '\(name)'")
            }
            functions.append(MetadataFunction(name: name, address: address, size: size))
            functionSites.append((first, count))
        }

        // Live values and saved registers first, so call sites can take their slices.
        var values: [LiveValue] = []
        values.reserveCapacity(valueCount)
        c = cursor(3)
        for i in 0..<valueCount {
            let rawKind = try c.u8("live value \(i)")
            guard let kind = LiveValue.Kind(rawValue: rawKind) else { throw malformed("live value \(i) has invalid kind \(rawKind)") }
            let flags = try c.u8("live value \(i)")
            let size = try c.u16("live value \(i)")
            let register = try c.u16("live value \(i)")
            let base = try c.u16("live value \(i)")
            let offset = try c.i32("live value \(i)")
            let cfaOffset = try c.i32("live value \(i)")
            let constant = try c.u64("live value \(i)")
            let allocaSize = try c.u32("live value \(i)")
            _ = try c.u32("live value \(i)")
            let info = LiveValueAnnotation(isPointer: flags & F.valuePointer != 0,
                                           base: flags & F.valueDerived != 0 ? base : nil,
                                           isAlloca: flags & F.valueAlloca != 0, allocaSize: allocaSize,
                                           holdsPointer: flags & F.valueHoldsPointer != 0)
            values.append(LiveValue(kind: kind, size: size, register: register, offset: offset,
                                    cfaOffset: flags & F.valueCFARelative != 0 ? cfaOffset : nil, constant: constant, info: info))
        }
        var saved: [SavedRegister] = []
        c = cursor(4)
        for i in 0..<savedCount {
            let register = try c.u16("saved register \(i)")
            let size = try c.u16("saved register \(i)")
            saved.append(SavedRegister(register: register, size: size, cfaOffset: try c.i32("saved register \(i)")))
        }

        var sites: [CallSite] = []
        sites.reserveCapacity(siteCount)
        c = cursor(1)
        for i in 0..<siteCount {
            let what = "call site \(i)"
            let id = try c.u64(what)
            let returnAddress = try c.u64(what)
            let function = Int(try c.u32(what))
            let flags = try c.u32(what)
            let firstValue = Int(try c.u32(what))
            let nValues = Int(try c.u16(what))
            let nSaved = Int(try c.u16(what))
            let firstSaved = Int(try c.u32(what))
            let frameSize = try c.u32(what)
            let cfaRegister = try c.u16(what)
            _ = try c.u16(what)
            let cfaOffset = try c.i32(what)
            let raOffset = try c.i32(what)
            let fpOffset = try c.i32(what)
            let site = MetadataError.hex(id)
            guard function < functionCount else { throw malformed("call site \(site) refers to function \(function) of \(functionCount)") }
            guard firstValue <= valueCount, nValues <= valueCount - firstValue else { throw malformed("call site \(site) has live values out of range") }
            guard firstSaved <= savedCount, nSaved <= savedCount - firstSaved else { throw malformed("call site \(site) has saved registers out of range") }
            if let previous = sites.last, previous.id >= id { throw malformed("call sites not sorted by id at \(site)") }
            for v in values[firstValue..<(firstValue + nValues)] {
                if let b = v.info.base, Int(b) >= nValues { throw malformed("call site \(site) has a derived pointer with base \(b) of \(nValues)") }
            }
            let frame = FrameLayout(frameSize: flags & F.siteDynamicFrame != 0 ? nil : frameSize, cfaRegister: cfaRegister,
                                    cfaOffset: cfaOffset, returnAddressOffset: raOffset,
                                    framePointerOffset: flags & F.siteFramePointerSaved != 0 ? fpOffset : nil,
                                    savedRegisters: Array(saved[firstSaved..<(firstSaved + nSaved)]))
            sites.append(CallSite(id: id, returnAddress: returnAddress, functionIndex: function, frame: frame,
                                  liveValues: Array(values[firstValue..<(firstValue + nValues)])))
        }

        // The address index must be a permutation ordered by return address, and each
        // function's range in it must hold exactly that function's sites.
        c = cursor(2)
        var seen = [Bool](repeating: false, count: siteCount)
        var byAddress: [Int] = []
        for position in 0..<siteCount {
            let index = Int(try c.u32("address index entry \(position)"))
            guard index < siteCount, !seen[index] else { throw malformed("address index entry \(position) is invalid") }
            seen[index] = true
            if let last = byAddress.last, sites[last].returnAddress > sites[index].returnAddress {
                throw malformed("address index not sorted at entry \(position)")
            }
            byAddress.append(index)
        }
        for (f, range) in functionSites.enumerated() {
            for position in range.first..<(range.first + range.count) where sites[byAddress[position]].functionIndex != f {
                throw malformed("function '\(functions[f].name)' lists a call site of another function")
            }
        }
        return (StackTransformMetadata(isa: isa, functions: functions, callSites: sites), totalSize)
    }
}
