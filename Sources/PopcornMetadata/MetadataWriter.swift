import Foundation
import PopcornSupport

/// Encodes stack-transformation metadata in the `.popcorn.meta` format.
public enum MetadataWriter {
    /// The contents of a `.popcorn.meta` section: one blob per ISA, in ISA order.
    ///
    /// Every binary of a program carries the same section, so the runtime finds the tables of
    /// both the ISA it leaves and the one it moves to in its own executable.
    public static func section(_ tables: [StackTransformMetadata]) throws -> Data {
        var out = Data()
        for table in tables.sorted(by: { $0.isa < $1.isa }) {
            out.append(try encode(table))
        }
        return out
    }

    /// Encodes one ISA's metadata as a self-contained blob (a multiple of 8 bytes long).
    public static func encode(_ m: StackTransformMetadata) throws -> Data {
        typealias F = MetadataFormat
        // Strings: offset 0 is the empty string; equal names share one entry.
        var strings = Data([0])
        var stringOffsets: [String: UInt32] = ["": 0]
        func intern(_ s: String) -> UInt32 {
            if let o = stringOffsets[s] { return o }
            let o = UInt32(strings.count)
            strings.append(contentsOf: Array(s.utf8) + [0])
            stringOffsets[s] = o
            return o
        }
        let nameOffsets = m.functions.map { intern($0.name) }

        let byAddress = m.indicesByReturnAddress
        // Each function's sites are contiguous in the by-address index.
        var firstSite = [Int](repeating: 0, count: m.functions.count)
        var siteCount = [Int](repeating: 0, count: m.functions.count)
        for (position, site) in byAddress.enumerated().reversed() {
            let f = m.callSites[site].functionIndex
            guard m.functions.indices.contains(f) else {
                throw MetadataError.invalidInput(reason: "call site \(MetadataError.hex(m.callSites[site].id)) refers to function \(f) of \(m.functions.count)")
            }
            firstSite[f] = position
            siteCount[f] += 1
        }

        // Saved-register lists are shared between sites with identical frames (the common case
        // for all sites of one function).
        var savedRegisters: [SavedRegister] = []
        var savedListStart: [[SavedRegister]: Int] = [:]
        var liveValueCount = 0
        for site in m.callSites {
            if savedListStart[site.frame.savedRegisters] == nil {
                savedListStart[site.frame.savedRegisters] = savedRegisters.count
                savedRegisters += site.frame.savedRegisters
            }
            liveValueCount += site.liveValues.count
        }

        func aligned(_ n: Int) -> Int { (n + F.alignment - 1) / F.alignment * F.alignment }
        let functionsOffset = F.headerSize
        let callSitesOffset = aligned(functionsOffset + m.functions.count * F.functionSize)
        let indexOffset = aligned(callSitesOffset + m.callSites.count * F.callSiteSize)
        let liveValuesOffset = aligned(indexOffset + m.callSites.count * F.indexEntrySize)
        let savedOffset = aligned(liveValuesOffset + liveValueCount * F.liveValueSize)
        let stringsOffset = aligned(savedOffset + savedRegisters.count * F.savedRegisterSize)
        let totalSize = aligned(stringsOffset + strings.count)
        guard totalSize <= Int(UInt32.max) else {
            throw MetadataError.invalidInput(reason: "metadata for \(m.isa) exceeds 4 GiB")
        }

        var out = Data(capacity: totalSize)
        let registers = RegisterFile(m.isa)
        out.append(contentsOf: F.magic)
        out.appendLE(F.version)
        out.appendLE(F.code(for: m.isa))
        out.appendLE(UInt32(F.headerSize))
        out.appendLE(UInt64(totalSize))
        out.appendLE(m.siteSetHash)
        for count in [m.functions.count, m.callSites.count, liveValueCount, savedRegisters.count, strings.count] {
            out.appendLE(UInt32(count))
        }
        out.appendLE(UInt32(0)) // flags
        for offset in [functionsOffset, callSitesOffset, indexOffset, liveValuesOffset, savedOffset, stringsOffset] {
            out.appendLE(UInt32(offset))
        }
        out.appendLE(registers.stackPointer)
        out.appendLE(registers.framePointer)
        out.appendLE(registers.returnAddress)
        out.appendLE(UInt16(0))
        out.appendLE(UInt64(0))
        assert(out.count == F.headerSize)

        for (i, f) in m.functions.enumerated() {
            out.appendLE(f.address)
            out.appendLE(f.size)
            out.appendLE(nameOffsets[i])
            out.appendLE(UInt32(firstSite[i]))
            out.appendLE(UInt32(siteCount[i]))
            out.appendLE(UInt32(0))
        }
        out.pad(to: callSitesOffset)

        var nextLiveValue = 0
        for site in m.callSites {
            guard site.liveValues.count <= Int(UInt16.max), site.frame.savedRegisters.count <= Int(UInt16.max) else {
                throw MetadataError.invalidInput(reason: "call site \(MetadataError.hex(site.id)) has too many live values")
            }
            var flags: UInt32 = 0
            if site.frame.framePointerOffset != nil { flags |= F.siteFramePointerSaved }
            if site.frame.frameSize == nil { flags |= F.siteDynamicFrame }
            out.appendLE(site.id)
            out.appendLE(site.returnAddress)
            out.appendLE(UInt32(site.functionIndex))
            out.appendLE(flags)
            out.appendLE(UInt32(nextLiveValue))
            out.appendLE(UInt16(site.liveValues.count))
            out.appendLE(UInt16(site.frame.savedRegisters.count))
            out.appendLE(UInt32(savedListStart[site.frame.savedRegisters]!))
            out.appendLE(site.frame.frameSize ?? 0)
            out.appendLE(site.frame.cfaRegister)
            out.appendLE(UInt16(0))
            out.appendLE(site.frame.cfaOffset)
            out.appendLE(site.frame.returnAddressOffset)
            out.appendLE(site.frame.framePointerOffset ?? 0)
            nextLiveValue += site.liveValues.count
        }
        out.pad(to: indexOffset)
        for i in byAddress { out.appendLE(UInt32(i)) }
        out.pad(to: liveValuesOffset)

        for site in m.callSites {
            for v in site.liveValues {
                var flags: UInt8 = 0
                if v.info.isPointer { flags |= F.valuePointer }
                if v.cfaOffset != nil { flags |= F.valueCFARelative }
                if v.info.base != nil { flags |= F.valueDerived }
                if v.info.isAlloca { flags |= F.valueAlloca }
                if v.info.holdsPointer { flags |= F.valueHoldsPointer }
                out.appendLE(v.kind.rawValue)
                out.appendLE(flags)
                out.appendLE(v.size)
                out.appendLE(v.register)
                out.appendLE(v.info.base ?? F.noBase)
                out.appendLE(v.offset)
                out.appendLE(v.cfaOffset ?? 0)
                out.appendLE(v.constant)
                out.appendLE(v.info.allocaSize)
                out.appendLE(UInt32(0))
            }
        }
        out.pad(to: savedOffset)
        for r in savedRegisters {
            out.appendLE(r.register)
            out.appendLE(r.size)
            out.appendLE(r.cfaOffset)
        }
        out.pad(to: stringsOffset)
        out.append(strings)
        out.pad(to: totalSize)
        return out
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends zero bytes up to `size`.
    mutating func pad(to size: Int) {
        if count < size { append(Data(count: size - count)) }
    }
}
