import Foundation
import PopcornELF

/// Decodes the entry structure of `.eh_frame` (CIEs and FDEs, LSB 5.0 / DWARF 4 format).
///
/// Supported augmentations are `z`, `R`, `P`, `L`, `S` and `B` (the combinations compilers emit:
/// `zR`, `zPLR`, …); pointer encodings are absolute, the fixed-size and LEB128 forms, optionally
/// PC-relative. Anything else is reported as unsupported rather than guessed at.
public enum EHFrameParser {
    public static let sectionName = ".eh_frame"

    /// Parses the `.eh_frame` section of a linked binary.
    public static func parse(_ file: ELFFile) throws -> EHFrame {
        guard let section = file.section(named: sectionName) else {
            throw MetadataError.missingSection(path: file.path, section: sectionName)
        }
        let context = "'\(file.path)': \(sectionName)"
        let data: Data
        do { data = try file.contents(of: section) } catch {
            throw MetadataError.truncated(context: context, what: "section contents")
        }
        return try parse(data, sectionAddress: section.address, context: context)
    }

    /// Parses section bytes loaded at `sectionAddress` (needed for PC-relative pointers).
    public static func parse(_ data: Data, sectionAddress: UInt64, context: String) throws -> EHFrame {
        var c = DataCursor(data, context: context)
        var cies: [CommonInformationEntry] = []
        var cieIndexByOffset: [Int: Int] = [:]
        var fdes: [FrameDescriptionEntry] = []

        while c.remaining >= 4 {
            let entryOffset = c.offset
            var length = UInt64(try c.u32("entry length at offset \(entryOffset)"))
            if length == 0 { break } // terminator
            if length == 0xffff_ffff { length = try c.u64("64-bit entry length at offset \(entryOffset)") }
            let is64 = c.offset - entryOffset == 12
            let bodyStart = c.offset
            guard length <= UInt64(c.remaining) else {
                throw MetadataError.truncated(context: context, what: "entry at offset \(entryOffset) (length \(length))")
            }
            let bodyEnd = bodyStart + Int(length)
            let idFieldOffset = c.offset
            let id = is64 ? try c.u64("entry id") : UInt64(try c.u32("entry id"))
            var body = DataCursor(bytes: c.bytes, context: context, offset: c.offset, limit: bodyEnd)
            if id == 0 {
                let cie = try parseCIE(&body, entryOffset: entryOffset, bodyEnd: bodyEnd)
                cieIndexByOffset[entryOffset] = cies.count
                cies.append(cie)
            } else {
                // The CIE pointer is the distance back from the field itself.
                guard id <= UInt64(idFieldOffset) else {
                    throw MetadataError.malformed(context: context, reason: "FDE at offset \(entryOffset) points before the section")
                }
                let cieOffset = idFieldOffset - Int(id)
                guard let cieIndex = cieIndexByOffset[cieOffset] else {
                    throw MetadataError.malformed(context: context, reason: "FDE at offset \(entryOffset) refers to offset \(cieOffset), which is not a CIE")
                }
                let fde = try parseFDE(&body, entryOffset: entryOffset, bodyEnd: bodyEnd, cie: cies[cieIndex],
                                       cieIndex: cieIndex, sectionAddress: sectionAddress)
                // An FDE of a discarded function is left in place with a zero start and skipped.
                if fde.length != 0 && fde.start != 0 { fdes.append(fde) }
            }
            c.offset = bodyEnd
        }
        return EHFrame(cies: cies, fdes: fdes, context: context)
    }

    private static func parseCIE(_ c: inout DataCursor, entryOffset: Int, bodyEnd: Int) throws -> CommonInformationEntry {
        let what = "CIE at offset \(entryOffset)"
        let version = try c.u8(what)
        guard version == 1 || version == 3 || version == 4 else {
            throw MetadataError.unsupported(context: c.context, what: "CIE version \(version) at offset \(entryOffset)")
        }
        let augmentation = try c.cString(what)
        if augmentation.contains("eh") { _ = try c.u64(what) }
        if version == 4 {
            let addressSize = try c.u8(what)
            _ = try c.u8(what)
            guard addressSize == 8 else {
                throw MetadataError.unsupported(context: c.context, what: "address size \(addressSize) in \(what)")
            }
        }
        let codeAlignment = try c.uleb(what)
        let dataAlignment = try c.sleb(what)
        let raRegister = version == 1 ? UInt64(try c.u8(what)) : try c.uleb(what)
        guard raRegister <= UInt64(UInt16.max) else {
            throw MetadataError.malformed(context: c.context, reason: "return address register \(raRegister) in \(what)")
        }
        var cie = CommonInformationEntry(sectionOffset: entryOffset, version: version, augmentation: augmentation,
                                         codeAlignment: codeAlignment, dataAlignment: dataAlignment,
                                         returnAddressRegister: UInt16(raRegister), pointerEncoding: DwarfPointerEncoding.absolute,
                                         lsdaEncoding: nil, hasAugmentationData: false, isSignalFrame: false, instructions: [])
        var chars = Substring(augmentation)
        if chars.first == "z" {
            cie.hasAugmentationData = true
            chars = chars.dropFirst()
            let dataLength = try c.uleb(what)
            guard dataLength <= UInt64(c.remaining) else { throw MetadataError.truncated(context: c.context, what: "augmentation data of \(what)") }
            let dataEnd = c.offset + Int(dataLength)
            for ch in chars {
                switch ch {
                case "R": cie.pointerEncoding = try c.u8(what)
                case "L": cie.lsdaEncoding = try c.u8(what)
                case "P":
                    let encoding = try c.u8(what)
                    // The personality routine's address is not needed for unwinding rules.
                    _ = try DwarfPointerEncoding.read(encoding, from: &c, baseAddress: 0, allowIndirect: true,
                                                     what: "personality pointer of \(what)")
                case "S": cie.isSignalFrame = true
                case "B": break // AArch64 branch-target identification: no data
                default:
                    // The length prefix lets us skip unknown augmentations safely.
                    c.offset = dataEnd
                }
                if c.offset >= dataEnd { break }
            }
            c.offset = dataEnd
        } else if !augmentation.isEmpty {
            throw MetadataError.unsupported(context: c.context, what: "CIE augmentation '\(augmentation)' at offset \(entryOffset)")
        }
        guard c.offset <= bodyEnd else { throw MetadataError.truncated(context: c.context, what: what) }
        cie.instructions = Array(c.bytes[c.offset..<bodyEnd])
        return cie
    }

    private static func parseFDE(_ c: inout DataCursor, entryOffset: Int, bodyEnd: Int, cie: CommonInformationEntry,
                                 cieIndex: Int, sectionAddress: UInt64) throws -> FrameDescriptionEntry {
        let what = "FDE at offset \(entryOffset)"
        let start = try DwarfPointerEncoding.read(cie.pointerEncoding, from: &c, baseAddress: sectionAddress, what: "start address of \(what)")
        // The range is a plain length: same size as the start, never relative.
        let length = try DwarfPointerEncoding.read(cie.pointerEncoding & 0x0f, from: &c, baseAddress: sectionAddress, what: "address range of \(what)")
        if cie.hasAugmentationData {
            let dataLength = try c.uleb(what)
            try c.skip(Int(clamping: dataLength), "augmentation data of \(what)")
        }
        guard c.offset <= bodyEnd else { throw MetadataError.truncated(context: c.context, what: what) }
        return FrameDescriptionEntry(sectionOffset: entryOffset, cieIndex: cieIndex, start: start, length: length,
                                     instructions: Array(c.bytes[c.offset..<bodyEnd]))
    }
}
