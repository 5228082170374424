import Foundation
import PopcornSupport

/// The multi-ISA object container: one ELF relocatable object for the host ISA that carries
/// every other ISA's object file, zlib-compressed, in `SHF_EXCLUDE` sections
/// (`docs/OBJECT-FORMAT.md`).
///
/// Because the outer file is an ordinary object and a plain linker discards excluded sections,
/// `ar`, `nm`, `make` and even a plain `ld.lld` treat a container exactly like the host object.
public enum MultiISAObject {
    /// Name of the marker section.
    public static let markerSection = ".popcorn.object"
    /// First bytes of the marker section's contents.
    public static let markerMagic = Data("POPCORN-OBJECT\0".utf8)
    /// Format version written into the marker: 2 stores the embedded objects compressed
    /// (`SHF_COMPRESSED`, zlib); version 1 containers, stored as they are, are still read.
    public static let formatVersion: UInt32 = 2
    /// The versions `objects(in:path:)` reads.
    static let readableVersions: ClosedRange<UInt32> = 1...2

    /// Builds a container from the host object and the other ISAs' objects.
    ///
    /// The host bytes are kept verbatim; embedded objects, the marker, a rewritten section-name
    /// table and a new section header table are appended, so existing section indices (used by
    /// symbols, relocations and groups) do not change.
    /// `compressing: false` writes a version 1 container (objects stored as they are), which
    /// only tests of the reader need.
    public static func build(host: Data, embedded: [ISA: Data], compressing: Bool = true) throws -> Data {
        let hostFile = try ELFFile(data: host, path: "<host object>")
        guard hostFile.type == ELFConstants.ET_REL else {
            throw ELFError.invalidInput(path: "<host object>", reason: "not a relocatable object (e_type \(hostFile.type))")
        }
        guard let hostISA = hostFile.isa else {
            throw ELFError.invalidInput(path: "<host object>", reason: "unsupported machine \(hostFile.machine)")
        }
        guard hostFile.section(named: markerSection) == nil else {
            throw ELFError.invalidInput(path: "<host object>", reason: "already a popcorn multi-ISA object")
        }
        for (isa, object) in embedded {
            let label = "<\(isa) object>"
            guard isa != hostISA else {
                throw ELFError.invalidInput(path: label, reason: "cannot embed an object of the host ISA '\(hostISA)'")
            }
            let file = try ELFFile(data: object, path: label)
            guard file.machine == isa.elfMachine else {
                throw ELFError.invalidInput(path: label, reason: "machine \(file.machine) does not match ISA '\(isa)'")
            }
            guard file.type == ELFConstants.ET_REL else {
                throw ELFError.invalidInput(path: label, reason: "not a relocatable object (e_type \(file.type))")
            }
        }

        var out = host
        var newSections: [(name: String, offset: UInt64, size: UInt64, alignment: UInt64, flags: UInt64)] = []
        for isa in embedded.keys.sorted() {
            let stored = compressing ? try CompressedSection.compress(embedded[isa]!) : embedded[isa]!
            out.pad(toAlignment: 8)
            newSections.append((isa.containerSection, UInt64(out.count), UInt64(stored.count), 8,
                                ELFConstants.SHF_EXCLUDE | (compressing ? ELFConstants.SHF_COMPRESSED : 0)))
            out.append(stored)
        }
        var marker = markerMagic
        marker.appendLE(compressing ? formatVersion : 1)
        marker.appendLE(UInt32(embedded.count))
        out.pad(toAlignment: 4)
        newSections.append((markerSection, UInt64(out.count), UInt64(marker.count), 4, ELFConstants.SHF_EXCLUDE))
        out.append(marker)

        // The section-name table: the old one extended (its prefix stays byte-identical, which
        // matters because LLVM shares one `.strtab` between section and symbol names), or a new
        // one when the object had none.
        var names: Data
        var nameTableIndex = hostFile.sectionNameTableIndex
        var createdNameTable = false
        if nameTableIndex != 0 {
            names = try hostFile.contents(of: hostFile.sections[nameTableIndex])
        } else {
            names = Data([0])
            nameTableIndex = max(hostFile.sections.count, 1) + newSections.count
            createdNameTable = true
        }
        if names.last != 0 { names.append(0) }
        var nameOffsets: [UInt32] = []
        for section in newSections {
            guard names.count < Int(UInt32.max) else {
                throw ELFError.invalidInput(path: "<host object>", reason: "section name table too large")
            }
            nameOffsets.append(UInt32(names.count))
            names.append(contentsOf: Array(section.name.utf8) + [0])
        }
        let ownNameOffset = UInt32(names.count)
        if createdNameTable { names.append(contentsOf: Array(".shstrtab".utf8) + [0]) }
        let namesOffset = UInt64(out.count)
        out.append(names)

        // The new section header table: old entries copied verbatim except for the fields we
        // must change, then the new entries.
        out.pad(toAlignment: 8)
        let tableOffset = out.count
        let oldCount = hostFile.sections.count
        let r = ByteReader(host)
        for index in 0..<oldCount {
            let start = Int(hostFile.sectionHeaderOffset) + index * ELFConstants.sectionHeaderSize
            var entry = r.bytes(UInt64(start), UInt64(ELFConstants.sectionHeaderSize))!
            if index == nameTableIndex {
                entry.storeLE(namesOffset, at: 24)
                entry.storeLE(UInt64(names.count), at: 32)
            }
            out.append(entry)
        }
        if oldCount == 0 {
            // An object without sections still needs the null section at index 0.
            out.append(Data(count: ELFConstants.sectionHeaderSize))
        }
        for (section, nameOffset) in zip(newSections, nameOffsets) {
            out.append(sectionHeader(name: nameOffset, type: ELFConstants.SHT_PROGBITS, flags: section.flags,
                                     offset: section.offset, size: section.size, alignment: section.alignment))
        }
        if createdNameTable {
            out.append(sectionHeader(name: ownNameOffset, type: ELFConstants.SHT_STRTAB, flags: 0,
                                     offset: namesOffset, size: UInt64(names.count), alignment: 1))
        }

        // ELF header: table location and counts, with the escape values once they overflow.
        let total = max(oldCount, 1) + newSections.count + (createdNameTable ? 1 : 0)
        out.storeLE(UInt64(tableOffset), at: 40)
        out.storeLE(UInt16(ELFConstants.sectionHeaderSize), at: 58)
        let section0 = tableOffset
        if total >= Int(ELFConstants.SHN_LORESERVE) {
            out.storeLE(UInt16(0), at: 60)
            out.storeLE(UInt64(total), at: section0 + 32)
        } else {
            out.storeLE(UInt16(total), at: 60)
            out.storeLE(UInt64(0), at: section0 + 32)
        }
        if nameTableIndex >= Int(ELFConstants.SHN_LORESERVE) {
            out.storeLE(ELFConstants.SHN_XINDEX, at: 62)
            out.storeLE(UInt32(nameTableIndex), at: section0 + 40)
        } else {
            out.storeLE(UInt16(nameTableIndex), at: 62)
            out.storeLE(UInt32(0), at: section0 + 40)
        }
        return out
    }

    /// Whether `data` is an ELF file carrying the container marker section.
    public static func isContainer(_ data: Data) -> Bool {
        guard let file = try? ELFFile(data: data, path: "") else { return false }
        return file.section(named: markerSection) != nil
    }

    /// The object of every ISA in the container, the host's included (the container itself,
    /// returned as-is: a plain linker ignores the excluded sections).
    public static func objects(in data: Data, path: String) throws -> [ISA: Data] {
        let file = try ELFFile(data: data, path: path)
        guard let markerSectionHeader = file.section(named: markerSection) else {
            throw ELFError.notContainer(path: path)
        }
        func bad(_ reason: String) -> ELFError { .badContainer(path: path, reason: reason) }
        guard let hostISA = file.isa else { throw bad("unsupported host machine \(file.machine)") }
        let marker = try file.contents(of: markerSectionHeader)
        let r = ByteReader(marker)
        guard marker.starts(with: markerMagic), let version = r.u32(UInt64(markerMagic.count)),
              let count = r.u32(UInt64(markerMagic.count) + 4) else {
            throw bad("invalid '\(markerSection)' marker")
        }
        guard readableVersions.contains(version) else {
            throw bad("format version \(version) is not supported (this toolchain reads versions "
                      + "\(readableVersions.lowerBound) to \(readableVersions.upperBound))")
        }

        var result: [ISA: Data] = [hostISA: data]
        let prefix = ".popcorn.isa."
        for section in file.sections where section.name.hasPrefix(prefix) {
            let isaName = String(section.name.dropFirst(prefix.count))
            guard let isa = ISA(rawValue: isaName) else { throw bad("unknown ISA '\(isaName)' in section '\(section.name)'") }
            guard isa != hostISA else { throw bad("section '\(section.name)' embeds the host ISA") }
            guard result[isa] == nil else { throw bad("duplicate section '\(section.name)'") }
            var object = try file.contents(of: section)
            if section.flags & ELFConstants.SHF_COMPRESSED != 0 {
                object = try CompressedSection.decompress(object, what: "\(path)(\(section.name))")
            }
            let inner = try ELFFile(data: object, path: "\(path)(\(isa))")
            guard inner.machine == isa.elfMachine else {
                throw bad("section '\(section.name)' holds an object for machine \(inner.machine)")
            }
            result[isa] = object
        }
        guard result.count - 1 == Int(count) else {
            throw bad("marker announces \(count) embedded objects but \(result.count - 1) are present")
        }
        return result
    }

    private static func sectionHeader(name: UInt32, type: UInt32, flags: UInt64, offset: UInt64,
                                      size: UInt64, alignment: UInt64) -> Data {
        var h = Data()
        h.appendLE(name)
        h.appendLE(type)
        h.appendLE(flags)
        h.appendLE(UInt64(0))   // sh_addr
        h.appendLE(offset)
        h.appendLE(size)
        h.appendLE(UInt32(0))   // sh_link
        h.appendLE(UInt32(0))   // sh_info
        h.appendLE(alignment)
        h.appendLE(UInt64(0))   // sh_entsize
        return h
    }
}
