import Foundation
import PopcornELF
import PopcornSupport

/// Appends a non-allocated section to a linked ELF64 little-endian file (executables included)
/// without moving anything that is loaded.
///
/// The metadata is only known after the final links, when every address is fixed, so the section
/// has to be added to finished binaries. Re-linking would be circular; instead the new contents,
/// a new section-name table and a new section header table go after everything else in the file.
/// Program headers, segment contents and every address are untouched, so the alignment the
/// verifier proved still holds byte for byte.
public enum SectionAppender {
    /// The file with section `name` (`SHT_PROGBITS`, flags 0, `alignment`) holding `contents`.
    ///
    /// - Throws: `LinkerError.cannotAppendSection` if the file is not an ELF64 little-endian file
    ///   with a section-name table, or already has a section of that name.
    public static func appending(section name: String, contents: Data, alignment: UInt64 = 8,
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
              shstrndx != 0, shstrndx < 0xff00, shstrndx < shnum else {
            throw fail("unsupported section header table layout")
        }
        let names = file.sections[shstrndx]
        guard names.type == ELFConstants.SHT_STRTAB else { throw fail("no section name string table") }

        // Keep every byte up to the old header table. lld writes the table last; if anything
        // follows it (another tool's output), keep that too and leave the old table as dead bytes.
        let tableEnd = shoff + shnum * shentsize
        var out = Array(bytes[0..<(tableEnd == bytes.count ? shoff : bytes.count)])

        func pad(to boundary: Int) { while out.count % boundary != 0 { out.append(0) } }
        pad(to: Int(max(alignment, 1)))
        let contentsOffset = out.count
        out += [UInt8](contents)

        var nameTable = [UInt8](try file.contents(of: names))
        if nameTable.isEmpty { nameTable = [0] }
        if nameTable.last != 0 { nameTable.append(0) }
        let nameOffset = nameTable.count
        nameTable += Array(name.utf8) + [0]
        let nameTableOffset = out.count
        out += nameTable

        pad(to: 8)
        let newTableOffset = out.count
        for index in 0..<shnum {
            var header = Array(bytes[(shoff + index * shentsize)..<(shoff + (index + 1) * shentsize)])
            if index == shstrndx {
                writeLE(&header, 0x18, UInt64(nameTableOffset), 8)
                writeLE(&header, 0x20, UInt64(nameTable.count), 8)
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
        writeLE(&out, 0x3c, UInt64(shnum + 1), 2)
        return Data(out)
    }

    /// Appends the section to the file at `path` in place, via a temporary and an atomic rename,
    /// keeping the file's mode.
    public static func append(section name: String, contents: Data, alignment: UInt64 = 8, toFileAt path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LinkerError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        let updated = try appending(section: name, contents: contents, alignment: alignment, to: data, path: path)
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
