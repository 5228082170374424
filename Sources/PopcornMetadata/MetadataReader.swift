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
        // The magic and version come first so an old table is named as such, whatever its size.
        try h.require(10, "metadata header at offset \(base)")
        guard Array(try h.take(8, "magic")) == F.magic else { throw malformed("bad magic (not popcorn metadata)") }
        let version = try h.u16("version")
        guard version == F.version else {
            throw MetadataError.unsupported(context: context, what: "metadata version \(version) (expected \(F.version); relink the program with this popcorn-ld)")
        }
        try h.require(F.headerSize - 10, "metadata header at offset \(base)")
        let isaCode = try h.u16("isa")
        guard let isa = F.isa(code: isaCode) else { throw malformed("unknown isa \(isaCode)") }
        let headerSize = Int(try h.u32("header size"))
        let totalSize = Int(try h.u32("total size"))
        let flags = try h.u32("flags")
        let siteSetHash = try h.u64("site set hash")
        let addressBase = try h.u64("address base")
        let functionCount = Int(try h.u32("function count"))
        let siteCount = Int(try h.u32("call site count"))
        let frameCount = Int(try h.u32("frame count"))
        let savedCount = Int(try h.u32("saved register count"))
        let valueCount = Int(try h.u32("live value count"))
        let listSize = Int(try h.u32("value sequence size"))
        let maskSize = Int(try h.u32("value mask size"))
        let stringsSize = Int(try h.u32("string table size"))
        let names = ["function table", "call site table", "address index", "frame table", "saved register table",
                     "live value table", "value sequences", "value masks", "string table"]
        var offsets: [Int] = []
        for name in names { offsets.append(Int(try h.u32("\(name) offset"))) }
        guard flags & ~F.tableWideValueIndex == 0 else { throw malformed("unknown flags 0x\(String(flags, radix: 16))") }
        let listEntrySize = flags & F.tableWideValueIndex != 0 ? 4 : 2
        guard headerSize >= F.headerSize else { throw malformed("header size \(headerSize)") }
        guard totalSize % F.alignment == 0, totalSize >= headerSize, totalSize <= bytes.count - base else {
            throw MetadataError.truncated(context: context, what: "table at offset \(base) (size \(totalSize), \(bytes.count - base) bytes left)")
        }
        let extents = [(functionCount, F.functionSize), (siteCount, F.callSiteSize), (siteCount, F.indexEntrySize),
                       (frameCount, F.frameSize), (savedCount, F.savedRegisterSize), (valueCount, F.liveValueSize),
                       (listSize, listEntrySize), (maskSize, 1), (stringsSize, 1)]
        for (i, (count, size)) in extents.enumerated() {
            let start = offsets[i]
            guard start >= headerSize, start <= totalSize, count <= (totalSize - start) / size else {
                throw MetadataError.truncated(context: context, what: "\(names[i]) of table at offset \(base)")
            }
            guard start % F.alignment == 0 else { throw malformed("\(names[i]) at unaligned offset \(start)") }
        }
        let blobEnd = base + totalSize
        let stored = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[base + F.checksumOffset + $1]) << (8 * UInt64($1)) }
        guard F.checksum(of: Array(bytes[base..<blobEnd])) == stored else {
            throw malformed("checksum mismatch (the table is damaged)")
        }
        func cursor(_ table: Int) -> DataCursor {
            DataCursor(bytes: bytes, context: context, offset: base + offsets[table], limit: blobEnd)
        }
        func address(_ relative: UInt32, _ what: String) throws -> UInt64 {
            let (sum, overflow) = addressBase.addingReportingOverflow(UInt64(relative))
            guard !overflow else { throw malformed("\(what): address overflows") }
            return sum
        }

        // Strings.
        let stringsStart = base + offsets[8]
        func string(at offset: UInt32) throws -> String {
            guard Int(offset) < stringsSize else { throw malformed("name offset \(offset) outside the string table") }
            var c = DataCursor(bytes: bytes, context: context, offset: stringsStart + Int(offset), limit: stringsStart + stringsSize)
            return try c.cString("name at string offset \(offset)")
        }

        var functions: [MetadataFunction] = []
        var functionSites: [(first: Int, count: Int, list: Int)] = []
        var c = cursor(0)
        for i in 0..<functionCount {
            let start = try address(try c.u32("function \(i)"), "function \(i)")
            let size = try c.u32("function \(i)")
            let name = try string(at: try c.u32("function \(i)"))
            let first = Int(try c.u32("function \(i)"))
            let count = Int(try c.u32("function \(i)"))
            let list = Int(try c.u32("function \(i)"))
            guard first <= siteCount, count <= siteCount - first else { throw malformed("function '\(name)' has call sites out of range") }
            if let previous = functions.last, previous.address >= start {
                throw malformed("functions not sorted by address at '\(name)'")
            }
            functions.append(MetadataFunction(name: name, address: start, size: UInt64(size)))
            functionSites.append((first, count, list))
        }

        var saved: [SavedRegister] = []
        c = cursor(4)
        for i in 0..<savedCount {
            let register = try c.u16("saved register \(i)")
            let size = try c.u16("saved register \(i)")
            saved.append(SavedRegister(register: register, size: size, cfaOffset: try c.i32("saved register \(i)")))
        }
        var frames: [FrameLayout] = []
        c = cursor(3)
        for i in 0..<frameCount {
            let what = "frame \(i)"
            let flags = try c.u8(what)
            let cfaRegister = UInt16(try c.u8(what))
            let nSaved = Int(try c.u16(what))
            let cfaOffset = try c.i32(what)
            let fpOffset = try c.i32(what)
            let firstSaved = Int(try c.u32(what))
            let frameSize = try c.u32(what)
            let raOffset = Int32(Int16(bitPattern: try c.u16(what)))
            _ = try c.u16(what)
            guard firstSaved <= savedCount, nSaved <= savedCount - firstSaved else { throw malformed("frame \(i) has saved registers out of range") }
            let dynamic = flags & F.siteDynamicFrame != 0
            if dynamic && frameSize != 0 { throw malformed("frame \(i) is dynamic but has a size of \(frameSize)") }
            frames.append(FrameLayout(frameSize: dynamic ? nil : frameSize, cfaRegister: cfaRegister,
                                      cfaOffset: cfaOffset, returnAddressOffset: raOffset,
                                      framePointerOffset: flags & F.siteFramePointerSaved != 0 ? fpOffset : nil,
                                      savedRegisters: Array(saved[firstSaved..<(firstSaved + nSaved)])))
        }

        // Value records; the kind-dependent fields are interpreted per site (CFA offsets need the frame).
        var records: [(kind: LiveValue.Kind, flags: UInt8, size: UInt16, register: UInt16, offset: Int32, extra: UInt32, base: UInt16)] = []
        records.reserveCapacity(valueCount)
        c = cursor(5)
        for i in 0..<valueCount {
            let rawKind = try c.u8("live value \(i)")
            guard let kind = LiveValue.Kind(rawValue: rawKind) else { throw malformed("live value \(i) has invalid kind \(rawKind)") }
            let flags = try c.u8("live value \(i)")
            let size = UInt16(try c.u8("live value \(i)"))
            let register = UInt16(try c.u8("live value \(i)"))
            let offset = try c.i32("live value \(i)")
            let extra = try c.u32("live value \(i)")
            let base = try c.u16("live value \(i)")
            _ = try c.u16("live value \(i)")
            if flags & F.valueCFARelative != 0 && kind != .direct && kind != .indirect {
                throw malformed("live value \(i) is not a frame slot but has a CFA offset")
            }
            records.append((kind, flags, size, register, offset, extra, base))
        }
        // Sequence entries: a count, then that many live-value indices (checked per site).
        var lists: [Int] = []
        lists.reserveCapacity(listSize)
        c = cursor(6)
        for i in 0..<listSize {
            lists.append(Int(listEntrySize == 4 ? try c.u32("value sequence entry \(i)") : UInt32(try c.u16("value sequence entry \(i)"))))
        }
        let masksStart = base + offsets[7]

        // The address index must be a permutation ordered by return address; each function's
        // range in it names the function of those sites (and every site has exactly one).
        var rawSites: [(returnAddress: UInt64, mask: Int, frame: Int)] = []
        rawSites.reserveCapacity(siteCount)
        c = cursor(1)
        for i in 0..<siteCount {
            let what = "call site \(i)"
            rawSites.append((try address(try c.u32(what), what), Int(try c.u32(what)), Int(try c.u32(what))))
        }
        c = cursor(2)
        var seen = [Bool](repeating: false, count: siteCount)
        var byAddress: [Int] = []
        for position in 0..<siteCount {
            let index = Int(try c.u32("address index entry \(position)"))
            guard index < siteCount, !seen[index] else { throw malformed("address index entry \(position) is invalid") }
            seen[index] = true
            if let last = byAddress.last, rawSites[last].returnAddress > rawSites[index].returnAddress {
                throw malformed("address index not sorted at entry \(position)")
            }
            byAddress.append(index)
        }
        var siteFunction = [Int?](repeating: nil, count: siteCount)
        for (f, range) in functionSites.enumerated() {
            for position in range.first..<(range.first + range.count) {
                let site = byAddress[position]
                guard siteFunction[site] == nil else { throw malformed("call site \(site) is listed by two functions") }
                let start = functions[f].address, end = start + functions[f].size
                guard rawSites[site].returnAddress > start, functions[f].size == 0 || rawSites[site].returnAddress <= end else {
                    throw malformed("function '\(functions[f].name)' lists a call site of another function")
                }
                siteFunction[site] = f
            }
        }

        // Each function's value sequence, read once for all its sites.
        var sequences: [Int: [Int]] = [:]
        func sequenceOf(_ function: Int) throws -> [Int] {
            if let known = sequences[function] { return known }
            let start = functionSites[function].list
            guard start < listSize, lists[start] < listSize - start else {
                throw malformed("function '\(functions[function].name)' has a value sequence out of range")
            }
            let sequence = Array(lists[(start + 1)..<(start + 1 + lists[start])])
            sequences[function] = sequence
            return sequence
        }
        var sites: [CallSite] = []
        sites.reserveCapacity(siteCount)
        for (i, raw) in rawSites.enumerated() {
            let site = "call site \(i)"
            guard let function = siteFunction[i] else { throw malformed("\(site) belongs to no function") }
            guard raw.frame < frameCount else { throw malformed("\(site) refers to frame \(raw.frame) of \(frameCount)") }
            let sequence = try sequenceOf(function)
            let maskBytes = (sequence.count + 7) / 8
            guard raw.mask <= maskSize, maskBytes <= maskSize - raw.mask,
                  let list = ValueMask.select(bytes[(masksStart + raw.mask)..<(masksStart + raw.mask + maskBytes)], from: sequence) else {
                throw malformed("\(site) has a value mask out of range")
            }
            let frame = frames[raw.frame]
            let nValues = list.count
            var values: [LiveValue] = []
            values.reserveCapacity(nValues)
            for (n, entry) in list.enumerated() {
                guard entry < valueCount else { throw malformed("\(site) lists live value \(entry) of \(valueCount)") }
                let r = records[entry]
                var info = LiveValueAnnotation(isPointer: r.flags & F.valuePointer != 0,
                                               isAlloca: r.flags & F.valueAlloca != 0, allocaSize: 0,
                                               holdsPointer: r.flags & F.valueHoldsPointer != 0)
                if r.flags & F.valueDerived != 0 {
                    guard Int(r.base) < nValues else { throw malformed("\(site) has a derived pointer with base \(r.base) of \(nValues)") }
                    info.base = r.base
                }
                var value = LiveValue(kind: r.kind, size: r.size, register: r.register, info: info)
                switch r.kind {
                case .constant:
                    value.constant = UInt64(UInt32(bitPattern: r.offset)) | UInt64(r.extra) << 32
                case .register, .direct, .indirect:
                    value.offset = r.offset
                    if info.isAlloca { value.info.allocaSize = r.extra }
                }
                if r.flags & F.valueCFARelative != 0 {
                    guard let cfa = F.cfaOffset(register: r.register, offset: r.offset, frame: frame, isa: isa) else {
                        throw malformed("\(site) live value \(n) is CFA-relative, but \(RegisterFile(isa).name(of: r.register)) is not at a fixed distance from the CFA")
                    }
                    value.cfaOffset = cfa
                }
                values.append(value)
            }
            // The IDs are not stored: a site's position in ID order stands for it.
            sites.append(CallSite(id: UInt64(i), returnAddress: raw.returnAddress, functionIndex: function, frame: frame, liveValues: values))
        }
        return (StackTransformMetadata(isa: isa, functions: functions, callSites: sites, decodedSiteSetHash: siteSetHash), totalSize)
    }
}
