import Foundation
import PopcornSupport

/// A System V / GNU `ar` archive as written by `llvm-ar` and GNU `ar` (BSD `#1/` long names are
/// read too). Symbol tables (`/`, `/SYM64/`, `__.SYMDEF`) and the long-name table (`//`) are
/// consumed, not reported as members.
public struct ArArchive: Sendable {
    /// One archive member.
    public struct Member: Sendable, Hashable {
        /// The member's name as recorded in the archive (no directory, no trailing `/`).
        public var name: String
        public var data: Data
        public init(name: String, data: Data) { self.name = name; self.data = data }
    }

    public static let magic = Data("!<arch>\n".utf8)
    public static let thinMagic = Data("!<thin>\n".utf8)
    private static let headerSize: UInt64 = 60

    /// Where the bytes came from; used in error messages.
    public let path: String
    /// Members in archive order; duplicate names are kept (archives may hold two `util.o`).
    public var members: [Member]
    /// The archive's GNU symbol index (`/` or `/SYM64/`): each defined global to the position in
    /// `members` of the first member the index names for it. `nil` when the archive has none
    /// (archives popcorn-ld writes, BSD archives) or one that does not decode: ld.lld does not use
    /// the index, so a damaged one must not make the archive unreadable (readers fall back to the
    /// members' own symbol tables).
    public var symbolIndex: [String: Int]?

    /// Whether `data` starts like an archive (regular or thin).
    public static func isArchive(_ data: Data) -> Bool {
        data.starts(with: magic) || data.starts(with: thinMagic)
    }

    /// Reads the archive at `path`.
    public init(contentsOf path: String) throws {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied or not a regular file"
                                                                       : "no such file or directory"
            throw ArchiveError.cannotRead(path: path, reason: reason)
        }
        try self.init(data: bytes, path: path)
    }

    /// Parses `data`; `path` is only used in error messages.
    public init(data: Data, path: String) throws {
        self.path = path
        if data.starts(with: ArArchive.thinMagic) { throw ArchiveError.thinArchive(path: path) }
        guard data.starts(with: ArArchive.magic) else { throw ArchiveError.notArchive(path: path) }
        let r = ByteReader(data)
        var offset = UInt64(ArArchive.magic.count)
        var longNames: Data? = nil
        var members: [Member] = []
        var index: (body: Data, wide: Bool)? = nil
        var memberAtHeader: [UInt64: Int] = [:]

        while offset < r.count {
            guard let header = r.bytes(offset, ArArchive.headerSize) else {
                throw ArchiveError.truncated(path: path, what: "member header at offset \(offset)")
            }
            guard header[58] == 0x60, header[59] == 0x0a else {
                throw ArchiveError.malformed(path: path, reason: "bad member header terminator at offset \(offset)")
            }
            let rawName = ArArchive.field(header, 0, 16)
            let sizeText = ArArchive.field(header, 48, 10)
            guard !sizeText.isEmpty, sizeText.allSatisfy({ $0.isASCII && $0.isNumber }), let size = UInt64(sizeText) else {
                throw ArchiveError.malformed(path: path, reason: "invalid member size '\(sizeText)' at offset \(offset)")
            }
            let headerOffset = offset
            let bodyOffset = offset + ArArchive.headerSize
            guard var body = r.bytes(bodyOffset, size) else {
                throw ArchiveError.truncated(path: path, what: "member '\(rawName)' at offset \(offset)")
            }
            // Bodies are padded to an even length; the final pad byte may be missing.
            offset = bodyOffset + size + (size & 1)

            switch rawName {
            case "/", "/SYM64/":
                index = (body, rawName == "/SYM64/")
                continue
            case "//":
                longNames = body
                continue
            default:
                break
            }
            let name: String
            if rawName.hasPrefix("#1/") {
                // BSD: the name is stored at the start of the body.
                guard let length = UInt64(rawName.dropFirst(3)), length <= UInt64(body.count) else {
                    throw ArchiveError.malformed(path: path, reason: "invalid BSD member name '\(rawName)'")
                }
                let nameBytes = body.prefix(Int(length))
                name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                body = body.subdata(in: (body.startIndex + Int(length))..<body.endIndex)
            } else if rawName.hasPrefix("/"), let index = Int(rawName.dropFirst()) {
                name = try ArArchive.longName(at: index, in: longNames, path: path)
            } else {
                name = rawName.hasSuffix("/") ? String(rawName.dropLast()) : rawName
            }
            // BSD symbol tables are ordinary-looking members with reserved names.
            if name.hasPrefix("__.SYMDEF") { continue }
            memberAtHeader[headerOffset] = members.count
            members.append(Member(name: name, data: body))
        }
        self.members = members
        if let index {
            symbolIndex = ArArchive.symbolIndex(index.body, wide: index.wide, members: memberAtHeader)
        }
    }

    /// Decodes a GNU symbol index: a big-endian count, that many big-endian member header
    /// offsets (4 bytes, 8 in `/SYM64/`), then the symbol names, NUL-terminated, in the same order.
    /// `nil` when the index is truncated, a name is unterminated or an offset names no member.
    private static func symbolIndex(_ body: Data, wide: Bool, members: [UInt64: Int]) -> [String: Int]? {
        let bytes = [UInt8](body)
        let width = wide ? 8 : 4
        func bigEndian(at position: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[position + $1]) }
        }
        guard bytes.count >= width else { return nil }
        let count = bigEndian(at: 0)
        guard count <= UInt64(bytes.count / width), (Int(count) + 1) * width <= bytes.count else { return nil }
        var result: [String: Int] = [:]
        var name = (Int(count) + 1) * width
        for entry in 0..<Int(count) {
            guard let end = bytes[name...].firstIndex(of: 0),
                  let member = members[bigEndian(at: (entry + 1) * width)] else { return nil }
            let symbol = String(decoding: bytes[name..<end], as: UTF8.self)
            if result[symbol] == nil { result[symbol] = member }
            name = end + 1
        }
        return result
    }

    /// Serialises `members` in GNU format (long names in a `//` table, no symbol index: ld.lld
    /// builds its own index, and archives we write are only ever read by ld.lld and by us).
    /// Timestamps, owners and modes are fixed so output is reproducible.
    public static func write(members: [Member]) -> Data {
        var table = Data()
        var nameFields: [String] = []
        for member in members {
            let utf8 = Array(member.name.utf8)
            if utf8.count <= 15 && !member.name.contains("/") && !member.name.isEmpty {
                nameFields.append(member.name + "/")
            } else {
                nameFields.append("/\(table.count)")
                table.append(contentsOf: utf8)
                table.append(contentsOf: Array("/\n".utf8))
            }
        }
        var out = magic
        func appendHeader(_ name: String, size: Int) {
            func padded(_ s: String, _ width: Int) -> Data {
                var d = Data(s.utf8.prefix(width))
                d.append(Data(repeating: 0x20, count: width - d.count))
                return d
            }
            out.append(padded(name, 16))
            out.append(padded("0", 12))
            out.append(padded("0", 6))
            out.append(padded("0", 6))
            out.append(padded("644", 8))
            out.append(padded(String(size), 10))
            out.append(contentsOf: [0x60, 0x0a])
        }
        if !table.isEmpty {
            appendHeader("//", size: table.count)
            out.append(table)
            out.pad(toAlignment: 2)
        }
        for (member, field) in zip(members, nameFields) {
            appendHeader(field, size: member.data.count)
            out.append(member.data)
            if out.count % 2 != 0 { out.append(0x0a) }
        }
        return out
    }

    /// A header field as text with trailing blanks removed.
    private static func field(_ header: Data, _ start: Int, _ length: Int) -> String {
        let bytes = header[(header.startIndex + start)..<(header.startIndex + start + length)]
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.reversed().drop { $0 == " " }.reversed())
    }

    /// Looks up a GNU long name (`/123`): text in the `//` member up to `/\n`.
    private static func longName(at index: Int, in table: Data?, path: String) throws -> String {
        guard let table else {
            throw ArchiveError.malformed(path: path, reason: "member name '/\(index)' refers to a missing long-name table")
        }
        guard index >= 0, index < table.count else {
            throw ArchiveError.malformed(path: path, reason: "long member name offset \(index) out of range")
        }
        let start = table.startIndex + index
        let end = table[start...].firstIndex(of: 0x0a) ?? table.endIndex
        var bytes = table[start..<end]
        if bytes.last == UInt8(ascii: "/") { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
