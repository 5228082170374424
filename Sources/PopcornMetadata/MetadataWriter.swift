import Foundation
import PopcornSupport

/// Encodes stack-transformation metadata in the `.popcorn.meta` format (version 5).
///
/// The encoding is built for size: most call sites of a function describe the same frame and
/// list mostly the same stack slots, so frames, saved-register lists and live-value records are
/// each stored once and referenced by index, and a site's values are a bit mask over one value
/// sequence its function's sites share (`ValueMask`).
public enum MetadataWriter {
    /// The contents of a `.popcorn.meta` section holding these tables: one blob per ISA, in ISA
    /// order. popcorn-ld gives each binary a section with its own ISA's table only; the runtime
    /// reads another ISA's from that ISA's binary.
    public static func section(_ tables: [StackTransformMetadata]) throws -> Data {
        section(joining: try encode(tables))
    }

    /// Each ISA's table encoded; the tables are independent, so they are encoded at the same time.
    public static func encode(_ tables: [StackTransformMetadata]) throws -> [ISA: Data] {
        let isas = tables.map(\.isa)
        guard Set(isas).count == isas.count else { throw MetadataError.invalidInput(reason: "two tables for one ISA") }
        return try PerISA.concurrently(isas) { isa in try encode(tables.first { $0.isa == isa }!) }
    }

    /// The section holding these encoded tables, in ISA order.
    public static func section(joining blobs: [ISA: Data]) -> Data {
        var out = Data()
        for isa in blobs.keys.sorted() { out.append(blobs[isa]!) }
        return out
    }

    /// The fields of one frame record; equal frames share a record.
    private struct FrameKey: Hashable {
        var flags: UInt8
        var cfaRegister: UInt16
        var cfaOffset: Int32
        var framePointerOffset: Int32
        var savedRegisters: [SavedRegister]
        var frameSize: UInt32
        var returnAddressOffset: Int16
    }

    /// The fields of one live-value record; equal values share a record.
    private struct ValueKey: Hashable {
        var kind: UInt8
        var flags: UInt8
        var size: UInt16
        var register: UInt16
        var offset: Int32
        var extra: UInt32
        var base: UInt16

        // Two words instead of seven fields: a program has tens of thousands of live values.
        func hash(into hasher: inout Hasher) {
            hasher.combine(UInt64(kind) | UInt64(flags) << 8 | UInt64(size) << 16 | UInt64(register) << 32 | UInt64(base) << 48)
            hasher.combine(UInt64(UInt32(bitPattern: offset)) | UInt64(extra) << 32)
        }
    }

    /// Encodes one ISA's metadata as a self-contained blob (a multiple of 8 bytes long).
    ///
    /// - Throws: `MetadataError.invalidInput` for metadata the format cannot hold: a register
    ///   number or location size above 255, a CFA offset that disagrees with its slot's
    ///   `register + offset`, a stack object that is not a `direct` location, addresses spanning
    ///   more than 4 GiB, or a table larger than 4 GiB.
    public static func encode(_ m: StackTransformMetadata) throws -> Data {
        typealias F = MetadataFormat
        func invalid(_ reason: String) -> MetadataError { .invalidInput(reason: "\(m.isa): \(reason)") }

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

        // Addresses are stored as 32-bit distances from the lowest one.
        let addresses = m.functions.map(\.address) + m.callSites.map(\.returnAddress)
        let addressBase = addresses.min() ?? 0
        func relative(_ address: UInt64, _ what: String) throws -> UInt32 {
            guard let r = UInt32(exactly: address - addressBase) else { throw invalid("\(what) is more than 4 GiB from 0x\(String(addressBase, radix: 16))") }
            return r
        }

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

        // Frames, saved-register lists, values and value lists, each stored once.
        var frames: [FrameKey] = [], frameIndex: [FrameKey: Int] = [:]
        var savedRegisters: [SavedRegister] = [], savedStart: [[SavedRegister]: Int] = [:]
        var values: [ValueKey] = [], valueIndex: [ValueKey: Int] = [:]
        var siteFrame: [Int] = [], siteValues: [[Int]] = []
        for (previous, site) in zip(m.callSites, m.callSites.dropFirst()) where previous.id >= site.id {
            throw invalid("call sites are not in strictly increasing ID order at \(MetadataError.hex(site.id))")
        }
        for site in m.callSites {
            var label: String { "call site \(MetadataError.hex(site.id))" }
            var flags: UInt8 = 0
            if site.frame.framePointerOffset != nil { flags |= F.siteFramePointerSaved }
            if site.frame.frameSize == nil { flags |= F.siteDynamicFrame }
            guard site.frame.cfaRegister <= UInt8.max else { throw invalid("\(label): CFA register \(site.frame.cfaRegister)") }
            guard let returnAddressOffset = Int16(exactly: site.frame.returnAddressOffset) else {
                throw invalid("\(label): return address slot at CFA\(site.frame.returnAddressOffset)")
            }
            guard site.liveValues.count <= Int(UInt16.max), site.frame.savedRegisters.count <= Int(UInt16.max) else {
                throw invalid("\(label) has too many live values")
            }
            let frame = FrameKey(flags: flags, cfaRegister: site.frame.cfaRegister, cfaOffset: site.frame.cfaOffset,
                                 framePointerOffset: site.frame.framePointerOffset ?? 0, savedRegisters: site.frame.savedRegisters,
                                 frameSize: site.frame.frameSize ?? 0, returnAddressOffset: returnAddressOffset)
            // One lookup per record when it is known, two when it is new.
            if let known = frameIndex[frame] {
                siteFrame.append(known)
            } else {
                frameIndex[frame] = frames.count
                siteFrame.append(frames.count)
                frames.append(frame)
                if savedStart[frame.savedRegisters] == nil {
                    savedStart[frame.savedRegisters] = savedRegisters.count
                    savedRegisters += frame.savedRegisters
                }
            }

            var list: [Int] = []
            list.reserveCapacity(site.liveValues.count)
            for (n, v) in site.liveValues.enumerated() {
                let key = try valueKey(v, site: site, isa: m.isa) { invalid("\(label): live value \(n): \($0)") }
                if let known = valueIndex[key] {
                    list.append(known)
                } else {
                    valueIndex[key] = values.count
                    list.append(values.count)
                    values.append(key)
                }
            }
            siteValues.append(list)
        }

        // One value sequence per function, each stored once as its length followed by the
        // indices; a mask per site, each distinct mask stored once.
        var valueLists: [Int] = [], listStart: [[Int]: Int] = [:]
        var masks: [UInt8] = [], maskStart: [[UInt8]: Int] = [:]
        var siteMask = [Int](repeating: 0, count: m.callSites.count)
        var functionList = [Int](repeating: 0, count: m.functions.count)
        var sitesOfFunction = [[Int]](repeating: [], count: m.functions.count)
        for (i, site) in m.callSites.enumerated() { sitesOfFunction[site.functionIndex].append(i) }
        for (function, sites) in sitesOfFunction.enumerated() where !sites.isEmpty {
            var seen: Set<[Int]> = [], distinct: [[Int]] = []
            for i in sites where seen.insert(siteValues[i]).inserted { distinct.append(siteValues[i]) }
            let sequence = ValueMask.sequence(covering: distinct)
            let start: Int
            if let known = listStart[sequence] {
                start = known
            } else {
                start = valueLists.count
                listStart[sequence] = start
                valueLists.append(sequence.count)
                valueLists += sequence
            }
            functionList[function] = start
            for i in sites {
                let mask = ValueMask.bits(of: siteValues[i], in: sequence)
                if let known = maskStart[mask] {
                    siteMask[i] = known
                } else {
                    maskStart[mask] = masks.count
                    siteMask[i] = masks.count
                    masks += mask
                }
            }
        }
        // Narrow entries hold indices below 65536 and sequences of at most 65535 entries.
        let wideIndex = valueLists.contains { $0 > Int(UInt16.max) }
        let listEntrySize = wideIndex ? 4 : 2

        func aligned(_ n: Int) -> Int { (n + F.alignment - 1) / F.alignment * F.alignment }
        let functionsOffset = F.headerSize
        let callSitesOffset = aligned(functionsOffset + m.functions.count * F.functionSize)
        let indexOffset = aligned(callSitesOffset + m.callSites.count * F.callSiteSize)
        let framesOffset = aligned(indexOffset + m.callSites.count * F.indexEntrySize)
        let savedOffset = aligned(framesOffset + frames.count * F.frameSize)
        let valuesOffset = aligned(savedOffset + savedRegisters.count * F.savedRegisterSize)
        let listsOffset = aligned(valuesOffset + values.count * F.liveValueSize)
        let masksOffset = aligned(listsOffset + valueLists.count * listEntrySize)
        let stringsOffset = aligned(masksOffset + masks.count)
        let totalSize = aligned(stringsOffset + strings.count)
        guard totalSize <= Int(UInt32.max) else { throw invalid("metadata exceeds 4 GiB") }

        // Built as an array: `Data`'s append costs a representation switch per field.
        var out: [UInt8] = []
        out.reserveCapacity(totalSize)
        let registers = RegisterFile(m.isa)
        out.append(contentsOf: F.magic)
        out.appendLE(F.version)
        out.appendLE(F.code(for: m.isa))
        out.appendLE(UInt32(F.headerSize))
        out.appendLE(UInt32(totalSize))
        out.appendLE(wideIndex ? F.tableWideValueIndex : 0)
        out.appendLE(m.siteSetHash)
        out.appendLE(addressBase)
        for count in [m.functions.count, m.callSites.count, frames.count, savedRegisters.count, values.count,
                      valueLists.count, masks.count, strings.count] {
            out.appendLE(UInt32(count))
        }
        for offset in [functionsOffset, callSitesOffset, indexOffset, framesOffset, savedOffset, valuesOffset,
                       listsOffset, masksOffset, stringsOffset] {
            out.appendLE(UInt32(offset))
        }
        for register in [registers.stackPointer, registers.framePointer, registers.returnAddress] {
            out.appendLE(UInt8(register))
        }
        out.appendLE(UInt8(0))
        out.appendLE(UInt64(0)) // the checksum, filled in last
        assert(out.count == F.headerSize)

        for (i, f) in m.functions.enumerated() {
            guard let size = UInt32(exactly: f.size) else { throw invalid("function '\(f.name)' is larger than 4 GiB") }
            out.appendLE(try relative(f.address, "function '\(f.name)'"))
            out.appendLE(size)
            out.appendLE(nameOffsets[i])
            out.appendLE(UInt32(firstSite[i]))
            out.appendLE(UInt32(siteCount[i]))
            out.appendLE(UInt32(functionList[i]))
        }
        out.pad(to: callSitesOffset)

        // In ID order (`StackTransformMetadata` keeps them so): the position is the identity.
        for (i, site) in m.callSites.enumerated() {
            out.appendLE(try relative(site.returnAddress, "call site \(MetadataError.hex(site.id))"))
            out.appendLE(UInt32(siteMask[i]))
            out.appendLE(UInt32(siteFrame[i]))
        }
        out.pad(to: indexOffset)
        for i in byAddress { out.appendLE(UInt32(i)) }
        out.pad(to: framesOffset)

        for frame in frames {
            out.appendLE(frame.flags)
            out.appendLE(UInt8(frame.cfaRegister))
            out.appendLE(UInt16(frame.savedRegisters.count))
            out.appendLE(frame.cfaOffset)
            out.appendLE(frame.framePointerOffset)
            out.appendLE(UInt32(savedStart[frame.savedRegisters]!))
            out.appendLE(frame.frameSize)
            out.appendLE(frame.returnAddressOffset)
            out.appendLE(UInt16(0))
        }
        out.pad(to: savedOffset)
        for r in savedRegisters {
            out.appendLE(r.register)
            out.appendLE(r.size)
            out.appendLE(r.cfaOffset)
        }
        out.pad(to: valuesOffset)
        for v in values {
            out.appendLE(v.kind)
            out.appendLE(v.flags)
            out.appendLE(UInt8(v.size))
            out.appendLE(UInt8(v.register))
            out.appendLE(v.offset)
            out.appendLE(v.extra)
            out.appendLE(v.base)
            out.appendLE(UInt16(0))
        }
        out.pad(to: listsOffset)
        for entry in valueLists {
            if wideIndex { out.appendLE(UInt32(entry)) } else { out.appendLE(UInt16(entry)) }
        }
        out.pad(to: masksOffset)
        out.append(contentsOf: masks)
        out.pad(to: stringsOffset)
        out.append(contentsOf: strings)
        out.pad(to: totalSize)
        let checksum = MetadataFormat.checksum(of: out)
        out.replaceSubrange(F.checksumOffset..<F.checksumOffset + 8, with: Swift.withUnsafeBytes(of: checksum.littleEndian) { Array($0) })
        return Data(out)
    }

    /// The record of one live value. The CFA offset of a slot is not stored: the reader derives it
    /// from `register + offset` and the frame (`MetadataFormat.cfaOffset`), so it must agree.
    private static func valueKey(_ v: LiveValue, site: CallSite, isa: ISA,
                                 invalid: (String) -> MetadataError) throws -> ValueKey {
        typealias F = MetadataFormat
        guard v.size <= UInt8.max else { throw invalid("size \(v.size)") }
        guard v.register <= UInt8.max else { throw invalid("register \(v.register)") }
        var flags: UInt8 = 0
        if v.info.isPointer { flags |= F.valuePointer }
        if v.info.base != nil { flags |= F.valueDerived }
        if v.info.isAlloca { flags |= F.valueAlloca }
        if v.info.holdsPointer { flags |= F.valueHoldsPointer }
        var offset = v.offset, extra: UInt32 = 0
        switch v.kind {
        case .constant:
            guard !v.info.isAlloca else { throw invalid("a constant cannot be a stack object") }
            offset = Int32(bitPattern: UInt32(truncatingIfNeeded: v.constant))
            extra = UInt32(truncatingIfNeeded: v.constant >> 32)
        case .register:
            guard !v.info.isAlloca else { throw invalid("a register cannot be a stack object") }
        case .direct, .indirect:
            if v.info.isAlloca { extra = v.info.allocaSize }
        }
        if let cfa = v.cfaOffset {
            guard v.kind == .direct || v.kind == .indirect,
                  F.cfaOffset(register: v.register, offset: v.offset, frame: site.frame, isa: isa) == cfa else {
                throw invalid("CFA offset \(cfa) does not follow from its location")
            }
            flags |= F.valueCFARelative
        }
        return ValueKey(kind: v.kind.rawValue, flags: flags, size: v.size, register: v.register,
                        offset: offset, extra: extra, base: v.info.base ?? F.noBase)
    }
}

extension RangeReplaceableCollection where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends zero bytes up to `size`.
    mutating func pad(to size: Int) {
        if count < size { append(contentsOf: repeatElement(0, count: size - count)) }
    }
}
