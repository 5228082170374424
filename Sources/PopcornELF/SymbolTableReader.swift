import Foundation

/// Decodes one `SHT_SYMTAB` section, resolving names, `SHN_XINDEX` and `STT_FILE` scopes.
struct SymbolTableReader {
    let file: ELFFile
    let table: ELFSection

    /// Every symbol after the null one; with `globalsOnly`, only those from the table's first
    /// non-local one on (`sh_info`: ELF puts every local symbol first), without reading the
    /// locals' names — most of a large object's symbols are section symbols and statics.
    func read(globalsOnly: Bool = false) throws -> [ELFSymbol] {
        let path = file.path
        let r = ByteReader(file.data)
        func malformed(_ reason: String) -> ELFError { .malformed(path: path, reason: reason) }

        let entrySize = UInt64(ELFConstants.symbolSize)
        guard table.entrySize == entrySize else {
            throw malformed("symbol table entry size \(table.entrySize) (expected \(entrySize))")
        }
        guard table.size % entrySize == 0 else {
            throw malformed("symbol table size \(table.size) is not a multiple of \(entrySize)")
        }
        guard Int(table.link) < file.sections.count, table.link != 0,
              file.sections[Int(table.link)].type == ELFConstants.SHT_STRTAB else {
            throw malformed("symbol table links to section \(table.link), which is not a string table")
        }
        let strtab = file.sections[Int(table.link)]
        guard let strtabEnd = ByteReader.add(strtab.offset, strtab.size) else {
            throw malformed("string table extent overflows")
        }

        // SHT_SYMTAB_SHNDX holds the real section index of symbols whose st_shndx is SHN_XINDEX.
        let shndxTable = file.sections.first { $0.type == ELFConstants.SHT_SYMTAB_SHNDX && Int($0.link) == table.index }

        let count = table.size / entrySize
        let first = globalsOnly ? max(UInt64(table.info), 1) : 1
        guard first <= max(count, 1) else {
            throw malformed("symbol table's first global symbol \(table.info) is past its \(count) symbols")
        }
        var result: [ELFSymbol] = []
        result.reserveCapacity(Int(max(count, 1) - first))
        var scope: String? = nil
        for i in first..<max(count, 1) {
            let e = table.offset + i * entrySize
            let nameOffset = r.u32(e)!
            let info = r.u8(e + 4)!
            let shndx = r.u16(e + 6)!
            guard let start = ByteReader.add(strtab.offset, UInt64(nameOffset)),
                  let name = r.cString(at: start, limit: strtabEnd) else {
                throw malformed("invalid symbol name offset \(nameOffset) for symbol \(i)")
            }
            var resolved = UInt32(shndx)
            if shndx == ELFConstants.SHN_XINDEX {
                guard let shndxTable, i * 4 < shndxTable.size, let x = r.u32(shndxTable.offset + i * 4) else {
                    throw malformed("symbol \(i) ('\(name)') uses SHN_XINDEX without an extended index table entry")
                }
                resolved = x
            }
            let type = info & 0xf
            let binding = info >> 4
            if type == ELFConstants.STT_FILE { scope = name }
            result.append(ELFSymbol(name: name, value: r.u64(e + 8)!, size: r.u64(e + 16)!, type: type,
                                    binding: binding, sectionIndex: shndx, resolvedSectionIndex: resolved,
                                    other: r.u8(e + 5)!,
                                    fileScope: binding == ELFConstants.STB_LOCAL && type != ELFConstants.STT_FILE ? scope : nil))
        }
        return result
    }
}
