import Foundation
import PopcornSupport

/// A parsed ELF64 little-endian file (relocatable object or linked binary).
///
/// Parsing validates every structure it reads (header, section and program header tables,
/// section names, section extents) so that later accessors can index without re-checking, and a
/// corrupt or truncated file yields an `ELFError` instead of a trap.
public struct ELFFile: Sendable {
    /// Where the bytes came from; used in every error message.
    public let path: String
    /// The whole file.
    public let data: Data

    /// `e_machine`.
    public var machine: UInt16
    /// `e_type` (`ET_REL` = 1, `ET_EXEC` = 2, `ET_DYN` = 3).
    public var type: UInt16
    /// `e_entry`.
    public var entry: UInt64
    /// `e_flags`.
    public var flags: UInt32
    /// The section header table, index 0 (the null section) included.
    public var sections: [ELFSection]
    /// The program header table (empty for relocatable objects).
    public var programHeaders: [ELFProgramHeader]

    /// `e_shoff` as stored.
    let sectionHeaderOffset: UInt64
    /// Index of the section-name string table after resolving the `SHN_XINDEX` escape (0 if none).
    let sectionNameTableIndex: Int

    /// The ISA of the file, or `nil` for machines the toolchain does not target.
    public var isa: ISA? { ISA(elfMachine: machine) }

    /// Reads and validates the ELF file at `path`.
    public init(contentsOf path: String) throws {
        let bytes: Data
        do {
            // Mapped, not read: only the pages the headers point at are touched, so a file whose
            // headers do not fit is rejected without reading the rest, however large it is.
            bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { String(describing: $0) }
            throw ELFError.cannotRead(path: path, reason: ELFFile.describeReadFailure(path: path) ?? reason ?? "read failed")
        }
        try self.init(data: bytes, path: path)
    }

    /// Parses `data`; `path` is only used in error messages.
    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        let r = ByteReader(data)
        func truncated(_ what: String) -> ELFError { .truncated(path: path, what: what) }
        func malformed(_ reason: String) -> ELFError { .malformed(path: path, reason: reason) }

        guard r.count >= 4, r.u32(0) == 0x464c_457f else { throw ELFError.notELF(path: path) }
        guard r.count >= UInt64(ELFConstants.headerSize) else { throw truncated("ELF header") }
        switch r.u8(4)! {
        case 2: break
        case 1: throw ELFError.unsupported(path: path, what: "32-bit ELF class")
        default: throw malformed("invalid ELF class \(r.u8(4)!)")
        }
        switch r.u8(5)! {
        case 1: break
        case 2: throw ELFError.unsupported(path: path, what: "big-endian data encoding")
        default: throw malformed("invalid data encoding \(r.u8(5)!)")
        }
        guard r.u8(6)! == 1 else { throw ELFError.unsupported(path: path, what: "ELF version \(r.u8(6)!)") }

        type = r.u16(16)!
        machine = r.u16(18)!
        entry = r.u64(24)!
        let phoff = r.u64(32)!
        let shoff = r.u64(40)!
        flags = r.u32(48)!
        let phentsize = r.u16(54)!
        let rawPhnum = r.u16(56)!
        let shentsize = r.u16(58)!
        let rawShnum = r.u16(60)!
        let rawShstrndx = r.u16(62)!
        sectionHeaderOffset = shoff

        // Section 0 carries the real counts when they do not fit in the header's 16-bit fields.
        var shnum = UInt64(rawShnum)
        var shstrndx = UInt64(rawShstrndx)
        var phnum = UInt64(rawPhnum)
        if shoff != 0 {
            guard shentsize == ELFConstants.sectionHeaderSize else {
                throw malformed("section header entry size \(shentsize) (expected \(ELFConstants.sectionHeaderSize))")
            }
            guard r.contains(offset: shoff, size: UInt64(ELFConstants.sectionHeaderSize)) else {
                throw truncated("section header table")
            }
            if rawShnum == 0 { shnum = r.u64(shoff + 32)! }
            if rawShstrndx == ELFConstants.SHN_XINDEX { shstrndx = UInt64(r.u32(shoff + 40)!) }
            if rawPhnum == ELFConstants.PN_XNUM { phnum = UInt64(r.u32(shoff + 44)!) }
        } else {
            shnum = 0
            shstrndx = 0
        }

        // Section headers, names resolved after the string table is known.
        guard let shTableSize = ByteReader.multiply(shnum, UInt64(ELFConstants.sectionHeaderSize)),
              r.contains(offset: shoff, size: shTableSize) else {
            throw truncated("section header table")
        }
        guard shstrndx == 0 || shstrndx < shnum else {
            throw malformed("section name string table index \(shstrndx) out of range (\(shnum) sections)")
        }
        sectionNameTableIndex = Int(shstrndx)

        struct RawSection { var nameOffset: UInt32; var section: ELFSection }
        var raw: [RawSection] = []
        raw.reserveCapacity(Int(shnum))
        for i in 0..<shnum {
            let h = shoff + i * UInt64(ELFConstants.sectionHeaderSize)
            let s = ELFSection(index: Int(i), name: "", type: r.u32(h + 4)!, flags: r.u64(h + 8)!,
                               address: r.u64(h + 16)!, offset: r.u64(h + 24)!, size: r.u64(h + 32)!,
                               alignment: r.u64(h + 48)!, link: r.u32(h + 40)!, info: r.u32(h + 44)!,
                               entrySize: r.u64(h + 56)!)
            // Index 0 reuses sh_size/sh_link/sh_info for the escape values above; it has no extent.
            if i != 0 && s.type != ELFConstants.SHT_NOBITS && s.type != ELFConstants.SHT_NULL
                && !r.contains(offset: s.offset, size: s.size) {
                throw truncated("section \(i) (offset \(s.offset), size \(s.size))")
            }
            raw.append(RawSection(nameOffset: r.u32(h)!, section: s))
        }

        var names: (offset: UInt64, size: UInt64)? = nil
        if shstrndx != 0 {
            let strtab = raw[Int(shstrndx)].section
            guard strtab.type == ELFConstants.SHT_STRTAB else {
                throw malformed("section name table (section \(shstrndx)) is not a string table")
            }
            names = (strtab.offset, strtab.size)
        }
        sections = try raw.map { entry in
            var s = entry.section
            if let names {
                guard let end = ByteReader.add(names.offset, names.size),
                      let start = ByteReader.add(names.offset, UInt64(entry.nameOffset)),
                      let name = r.cString(at: start, limit: end) else {
                    throw malformed("invalid section name offset \(entry.nameOffset) for section \(s.index)")
                }
                s.name = name
            } else if entry.nameOffset != 0 {
                throw malformed("section \(s.index) has a name but the file has no section name table")
            }
            return s
        }

        // Program headers.
        var phdrs: [ELFProgramHeader] = []
        if phnum != 0 {
            guard phentsize == ELFConstants.programHeaderSize else {
                throw malformed("program header entry size \(phentsize) (expected \(ELFConstants.programHeaderSize))")
            }
            guard let size = ByteReader.multiply(phnum, UInt64(ELFConstants.programHeaderSize)),
                  r.contains(offset: phoff, size: size) else {
                throw truncated("program header table")
            }
            for i in 0..<phnum {
                let h = phoff + i * UInt64(ELFConstants.programHeaderSize)
                phdrs.append(ELFProgramHeader(type: r.u32(h)!, flags: r.u32(h + 4)!, offset: r.u64(h + 8)!,
                                              vaddr: r.u64(h + 16)!, paddr: r.u64(h + 24)!,
                                              filesz: r.u64(h + 32)!, memsz: r.u64(h + 40)!, align: r.u64(h + 48)!))
            }
        }
        programHeaders = phdrs
    }

    /// The first section called `name`.
    public func section(named name: String) -> ELFSection? {
        sections.first { $0.name == name }
    }

    /// All sections called `name` (relocatable objects built with `-ffunction-sections` may repeat names).
    public func sections(named name: String) -> [ELFSection] {
        sections.filter { $0.name == name }
    }

    /// The file bytes of a section; empty for `SHT_NOBITS` and `SHT_NULL`.
    public func contents(of section: ELFSection) throws -> Data {
        if section.type == ELFConstants.SHT_NOBITS || section.type == ELFConstants.SHT_NULL { return Data() }
        guard let bytes = ByteReader(data).bytes(section.offset, section.size) else {
            throw ELFError.truncated(path: path, what: "section '\(section.name)'")
        }
        return bytes
    }

    /// The symbols of `.symtab` (the `SHT_SYMTAB` section), index 0 (the null symbol) excluded;
    /// an empty array when the file has no symbol table (e.g. a stripped binary).
    public func symbols() throws -> [ELFSymbol] {
        guard let symtab = sections.first(where: { $0.type == ELFConstants.SHT_SYMTAB }) else { return [] }
        return try SymbolTableReader(file: self, table: symtab).read()
    }

    /// The global and weak symbols of `.symtab` (the table's non-local part), in table order.
    public func globalSymbols() throws -> [ELFSymbol] {
        guard let symtab = sections.first(where: { $0.type == ELFConstants.SHT_SYMTAB }) else { return [] }
        return try SymbolTableReader(file: self, table: symtab).read(globalsOnly: true)
    }

    /// Whether the file has a `.symtab`.
    public var hasSymbolTable: Bool { sections.contains { $0.type == ELFConstants.SHT_SYMTAB } }

    /// A clearer reason than Foundation's for the common failures to read an input.
    private static func describeReadFailure(path: String) -> String? {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file or directory" }
        if isDirectory.boolValue { return "is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return nil
    }
}
