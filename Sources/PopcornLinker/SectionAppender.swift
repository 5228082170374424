import Foundation
import PopcornELF
import PopcornSupport

/// Appends a non-allocated section to a linked ELF64 little-endian file (executables included),
/// optionally removing other non-allocated sections, without moving anything that is loaded.
///
/// The metadata is only known after the final links, when every address is fixed, so the section
/// has to be added to finished binaries. Re-linking would be circular; instead everything that is
/// loaded stays where it is, byte for byte, and the non-allocated sections that follow it are
/// written again: the kept ones, the new contents, a new section-name table and a new section
/// header table. Program headers, segment contents and every address are untouched, so the
/// alignment the verifier proved still holds.
///
/// Removing is how the inputs of the metadata (`.llvm_stackmaps`, `.popcorn.callsites`) leave
/// the binaries once `.popcorn.meta` describes them: they are a third of a migratable binary.
/// Dropping local data symbols is how the names popcorn-cc gives string literals and other
/// private constants (`GeneratedSymbolNames`) leave them once the verifier has checked their
/// addresses: nothing else reads them, and they were 5 % of the Lua interpreter and the SQLite
/// shell (symbol entries and names).
public enum SectionAppender {
    /// The file with section `name` (`SHT_PROGBITS`, flags 0, `alignment`) holding `contents`,
    /// and without the non-allocated sections named in `removing` (absent ones are ignored).
    ///
    /// Symbols defined in removed sections are dropped from `.symtab` (or made absolute when
    /// relocation sections refer to symbols by index), and so are local `STT_OBJECT` symbols whose
    /// name `droppingLocalData` accepts (kept when relocations refer to symbols by index); the
    /// symbol table's string table is then written again with the names that are left, unless
    /// another section uses it too. Relocation sections for a removed section
    /// are removed with it; section links and indices are renumbered. `.comment`, rewritten with
    /// the other non-allocated sections, keeps each of its strings once (`distinctStrings`).
    ///
    /// - Throws: `LinkerError.cannotAppendSection` if the file is not an ELF64 little-endian file
    ///   with a section-name table, already has a section of that name, or a section to remove is
    ///   allocated.
    public static func appending(section name: String, contents: Data, alignment: UInt64 = 8,
                                 removing: Set<String> = [], droppingLocalData: (String) -> Bool = { _ in false },
                                 to data: Data, path: String) throws -> Data {
        func fail(_ reason: String) -> LinkerError { .cannotAppendSection(path: path, section: name, reason: reason) }
        let file: ELFFile
        do { file = try ELFFile(data: data, path: path) } catch { throw fail("\(error)") }
        guard file.section(named: name) == nil else { throw fail("the file already has one") }
        let bytes = [UInt8](data)
        let shoff = Int(readLE(bytes, 0x28, 8))
        let shentsize = Int(readLE(bytes, 0x3a, 2))
        let shnum = file.sections.count
        let shstrndx = Int(readLE(bytes, 0x3e, 2))
        // Extended numbering (more than 0xff00 sections) never happens for a static executable;
        // supporting it would mean rewriting section 0 as well.
        guard shentsize == ELFSectionHeaderLayout.size, shnum > 0, shnum + 1 < 0xff00,
              shstrndx != 0, shstrndx < 0xff00, shstrndx < shnum,
              !file.sections.contains(where: { $0.type == ELFConstants.SHT_SYMTAB_SHNDX }) else {
            throw fail("unsupported section header table layout")
        }
        let names = file.sections[shstrndx]
        guard names.type == ELFConstants.SHT_STRTAB else { throw fail("no section name string table") }

        // Sections to drop: the named ones, and relocations that apply to them.
        var removed = Set(file.sections.filter { removing.contains($0.name) && $0.index != 0 }.map(\.index))
        if let allocated = file.sections.first(where: { removed.contains($0.index) && $0.isAllocated }) {
            throw fail("cannot remove '\(allocated.name)': it is loaded")
        }
        for s in file.sections where (s.type == ELFConstants.SHT_REL || s.type == ELFConstants.SHT_RELA)
            && removed.contains(Int(s.info)) && !s.isAllocated {
            removed.insert(s.index)
        }
        var newIndex = [Int](repeating: 0, count: shnum)
        var next = 0
        for index in 0..<shnum where !removed.contains(index) {
            newIndex[index] = next
            next += 1
        }
        func remap(_ index: UInt64) -> UInt64 {
            index < UInt64(shnum) && !removed.contains(Int(index)) ? UInt64(newIndex[Int(index)]) : 0
        }

        // Everything loaded (and the headers) stays in place. lld writes non-allocated sections
        // after the segments; any that lie inside this prefix keep their offsets.
        var prefixEnd = max(0x40, Int(readLE(bytes, 0x20, 8)) + Int(readLE(bytes, 0x36, 2)) * Int(readLE(bytes, 0x38, 2)))
        for segment in file.programHeaders where segment.filesz > 0 {
            prefixEnd = max(prefixEnd, Int(segment.offset + segment.filesz))
        }
        for s in file.sections where s.isAllocated && !s.isNoBits {
            prefixEnd = max(prefixEnd, Int(s.offset + s.size))
        }
        guard prefixEnd <= bytes.count else { throw fail("segments extend past the end of the file") }
        // A symbol table there could not be rewritten in place (lld writes it after the segments).
        if !removed.isEmpty, let s = file.sections.first(where: { $0.type == ELFConstants.SHT_SYMTAB && Int($0.offset) < prefixEnd }) {
            throw fail("the symbol table '\(s.name)' lies among the loaded sections")
        }
        var out = Array(bytes[0..<prefixEnd])
        func pad(to boundary: Int) { while out.count % boundary != 0 { out.append(0) } }

        // Kept non-allocated sections after the prefix, in file order; the symbol table filtered.
        var headers: [[UInt8]] = (0..<shnum).map { Array(bytes[(shoff + $0 * shentsize)..<(shoff + ($0 + 1) * shentsize)]) }
        let symbolsByIndex = file.sections.contains { s in
            !removed.contains(s.index) && (s.type == ELFConstants.SHT_REL || s.type == ELFConstants.SHT_RELA)
                && file.sections.indices.contains(Int(s.link)) && file.sections[Int(s.link)].type == ELFConstants.SHT_SYMTAB
        }
        let moving = file.sections.filter { s in
            s.index != 0 && s.index != shstrndx && !removed.contains(s.index) && !s.isAllocated && !s.isNoBits
                && Int(s.offset) >= prefixEnd
        }.sorted { $0.offset < $1.offset }
        // Symbol tables and the string tables written again with them.
        var rewritten: [Int: [UInt8]] = [:]
        for s in moving where s.type == ELFConstants.SHT_SYMTAB {
            let link = Int(s.link)
            // A string table another section also uses keeps every name.
            let ownStrings = file.sections.indices.contains(link) && link != shstrndx
                && moving.contains { $0.index == link }
                && !file.sections.contains { $0.index != s.index && Int($0.link) == link }
            let strings = ownStrings ? [UInt8](try file.contents(of: file.sections[link])) : nil
            let filtered = try filteredSymbols([UInt8](try file.contents(of: s)), section: s, removed: removed, remap: remap,
                                               keepIndices: symbolsByIndex, strings: strings,
                                               dropping: symbolsByIndex ? { _ in false } : droppingLocalData, fail: fail)
            rewritten[s.index] = filtered.entries
            writeLE(&headers[s.index], 0x2c, UInt64(filtered.locals), 4)
            if let names = filtered.strings { rewritten[link] = names }
        }
        for s in moving {
            var body = try rewritten[s.index] ?? [UInt8](file.contents(of: s))
            if s.name == ".comment" && s.flags & (ELFConstants.SHF_MERGE | ELFConstants.SHF_STRINGS)
                == ELFConstants.SHF_MERGE | ELFConstants.SHF_STRINGS {
                body = distinctStrings(body)
            }
            pad(to: Int(max(s.alignment, 1)))
            writeLE(&headers[s.index], 0x18, UInt64(out.count), 8)
            writeLE(&headers[s.index], 0x20, UInt64(body.count), 8)
            out += body
        }

        pad(to: Int(max(alignment, 1)))
        let contentsOffset = out.count
        out += [UInt8](contents)

        // A new section-name table: the old one plus the new name (removed names become dead bytes).
        var nameTable = [UInt8](try file.contents(of: names))
        if nameTable.isEmpty { nameTable = [0] }
        if nameTable.last != 0 { nameTable.append(0) }
        let nameOffset = nameTable.count
        nameTable += Array(name.utf8) + [0]
        let nameTableOffset = out.count
        out += nameTable
        writeLE(&headers[shstrndx], 0x18, UInt64(nameTableOffset), 8)
        writeLE(&headers[shstrndx], 0x20, UInt64(nameTable.count), 8)

        pad(to: 8)
        let newTableOffset = out.count
        for index in 0..<shnum where !removed.contains(index) {
            var header = headers[index]
            let type = UInt32(readLE(header, 0x04, 4))
            writeLE(&header, 0x28, remap(readLE(header, 0x28, 4)), 4)           // sh_link
            if type == ELFConstants.SHT_REL || type == ELFConstants.SHT_RELA {  // sh_info: a section
                writeLE(&header, 0x2c, remap(readLE(header, 0x2c, 4)), 4)
            }
            out += header
        }
        var header = [UInt8](repeating: 0, count: shentsize)
        writeLE(&header, 0x00, UInt64(nameOffset), 4)
        writeLE(&header, 0x04, UInt64(ELFConstants.SHT_PROGBITS), 4)
        writeLE(&header, 0x18, UInt64(contentsOffset), 8)
        writeLE(&header, 0x20, UInt64(contents.count), 8)
        writeLE(&header, 0x30, max(alignment, 1), 8)
        out += header

        writeLE(&out, 0x28, UInt64(newTableOffset), 8)
        writeLE(&out, 0x3c, UInt64(next + 1), 2)
        writeLE(&out, 0x3e, remap(UInt64(shstrndx)), 2)
        return Data(out)
    }

    /// `.comment` with each NUL-terminated string once, in first-seen order. The links run at
    /// `-O0` (string merging would take string literals out of the sections the layout places),
    /// so lld keeps every object's compiler identification: about 300 identical copies, 5–12 KB
    /// of a binary. Nothing refers into `.comment` by offset; a tail without its terminator is
    /// kept as it is.
    static func distinctStrings(_ bytes: [UInt8]) -> [UInt8] {
        var seen = Set<ArraySlice<UInt8>>(), out: [UInt8] = []
        var start = 0
        while start < bytes.count {
            guard let end = bytes[start...].firstIndex(of: 0) else {
                out += bytes[start...]
                break
            }
            let string = bytes[start...end]
            if seen.insert(string).inserted { out += string }
            start = end + 1
        }
        return out
    }

    /// A symbol table without the symbols of removed sections nor the local data symbols
    /// `dropping` names, with renumbered section indices; returns the entries, the number of
    /// local symbols (the table's `sh_info`) and, given the table's own `strings`, a string table
    /// of the names left (nil when nothing was dropped by name). With `keepIndices` (relocations
    /// refer to symbols by position) nothing is dropped: such symbols become absolute instead.
    private static func filteredSymbols(_ table: [UInt8], section: ELFSection, removed: Set<Int>,
                                        remap: (UInt64) -> UInt64, keepIndices: Bool, strings: [UInt8]?,
                                        dropping: (String) -> Bool,
                                        fail: (String) -> LinkerError) throws -> (entries: [UInt8], locals: Int, strings: [UInt8]?) {
        let size = ELFSymbolLayout.size
        guard section.entrySize == UInt64(size), table.count % size == 0 else {
            throw fail("symbol table '\(section.name)' has entries of \(section.entrySize) bytes")
        }
        func name(_ entry: [UInt8]) -> String? {
            guard let strings else { return nil }
            let start = Int(readLE(entry, 0x00, 4))
            guard start < strings.count, let end = strings[start...].firstIndex(of: 0) else { return nil }
            return String(decoding: strings[start..<end], as: UTF8.self)
        }
        var kept: [[UInt8]] = []
        var droppedByName = false
        for start in stride(from: 0, to: table.count, by: size) {
            var entry = Array(table[start..<(start + size)])
            let shndx = readLE(entry, 0x06, 2)
            if shndx != 0 && shndx < UInt64(ELFConstants.SHN_LORESERVE) {
                if removed.contains(Int(shndx)) {
                    guard keepIndices else { continue }
                    writeLE(&entry, 0x06, UInt64(ELFConstants.SHN_ABS), 2)
                } else {
                    writeLE(&entry, 0x06, remap(shndx), 2)
                }
            }
            if !keepIndices, entry[4] >> 4 == ELFConstants.STB_LOCAL, entry[4] & 0xf == ELFConstants.STT_OBJECT,
               let symbol = name(entry), dropping(symbol) {
                droppedByName = true
                continue
            }
            kept.append(entry)
        }
        // The names left, each once (the null symbol's empty name at offset 0).
        var names: [UInt8]?
        if droppedByName, strings != nil {
            var table: [UInt8] = [0]
            var offsets: [String: Int] = ["": 0]
            for i in kept.indices {
                let symbol = name(kept[i]) ?? ""
                let offset = offsets[symbol] ?? {
                    let at = table.count
                    table += Array(symbol.utf8) + [0]
                    offsets[symbol] = at
                    return at
                }()
                writeLE(&kept[i], 0x00, UInt64(offset), 4)
            }
            names = table
        }
        var out: [UInt8] = []
        var locals = 0
        for entry in kept {
            if entry[4] >> 4 == ELFConstants.STB_LOCAL { locals = out.count / size + 1 }
            out += entry
        }
        return (out, locals, names)
    }

    /// Appends the section to the file at `path` in place, via a temporary and an atomic rename,
    /// keeping the file's mode.
    public static func append(section name: String, contents: Data, alignment: UInt64 = 8, removing: Set<String> = [],
                              droppingLocalData: (String) -> Bool = { _ in false }, toFileAt path: String) throws {
        let data: Data
        do { data = try FileSystem.read(path) } catch let error as FileSystemError {
            throw LinkerError.unreadable(path: path, reason: error.reason)
        }
        let updated = try appending(section: name, contents: contents, alignment: alignment, removing: removing,
                                    droppingLocalData: droppingLocalData, to: data, path: path)
        var status = stat()
        let mode = stat(path, &status) == 0 ? status.st_mode & 0o7777 : 0o755
        let temporary = AtomicFile.temporaryPath(for: path)
        try writeClosingOnExec(updated, to: temporary, mode: mode)
        try AtomicFile.commit(temporary, to: path)
    }

    /// Writes a new file with a close-on-exec descriptor. The file is an executable: if another
    /// thread of this process spawned a program while an inheritable descriptor was open for
    /// writing, the child would hold it and running the binary would fail with ETXTBSY.
    private static func writeClosingOnExec(_ data: Data, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw LinkerError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        var failure: Int32 = 0
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure != 0 {
            unlink(path)
            throw LinkerError.cannotWrite(path: path, reason: String(cString: strerror(failure)))
        }
        // `open` applied the umask; the binary keeps the mode it had.
        chmod(path, mode)
    }

    private static func readLE(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in (0..<width).reversed() { value = value << 8 | UInt64(bytes[offset + i]) }
        return value
    }

    private static func writeLE(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt64, _ width: Int) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
}

/// Sizes of the ELF64 section header the appender writes.
enum ELFSectionHeaderLayout {
    static let size = 64
}

/// Size of an ELF64 symbol table entry.
enum ELFSymbolLayout {
    static let size = 24
}
