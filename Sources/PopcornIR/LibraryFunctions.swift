import Foundation
import PopcornSupport

/// The functions the C library defines: calls to them get no stackmap.
///
/// A call is instrumented so that the frame making it can be rebuilt while the callee is on the
/// stack. A C library function is never compiled by popcorn-cc and has no metadata, so whenever
/// one is on the stack — `qsort` calling a comparator, a signal delivered inside `read` — the
/// runtime defers the migration until it has returned. A stackmap after a call to it could never
/// be used: it would only force the values live across the call into frame slots, grow the
/// metadata, and, where the backend expands the call inline (`floor`, `fabs`, a short `memcpy`),
/// leave a record that follows no call instruction at all.
///
/// The names are read from the symbol index (`/` member) of musl's `libc.a` for every ISA; a
/// function counts as a library function only if every ISA's library defines it. Without a
/// readable archive the set is empty and every call is instrumented, as before.
///
/// The setjmp family is the exception (`JmpBufNotes.setjmpFamily`): its return address is where
/// a `longjmp` resumes the calling frame, so it must be a call site on every ISA for the runtime to
/// rewrite a `jmp_buf` along with the stack, and the values live across it must be in frame slots.
struct LibraryFunctions: Sendable {
    let names: Set<String>
    /// Those of `names` that only compute — no system call, no lock, no callback into the program
    /// (the portable library's string, memory, character-class and maths routines): a loop calling
    /// them needs no point of its own (`PointFreeFunctions`). Empty for the native model.
    let computing: Set<String>

    init(names: Set<String>, computing: Set<String> = []) {
        self.names = names
        self.computing = computing.intersection(names)
    }

    /// musl's functions, read once per process.
    static let musl: LibraryFunctions = {
        var common: Set<String>? = nil
        for isa in ISA.allCases {
            guard let data = symbolIndexMember(of: "\(isa.muslLibDir)/libc.a"), let names = symbolIndex(of: data) else {
                return LibraryFunctions(names: [])
            }
            common = common.map { $0.intersection(names) } ?? Set(names)
        }
        return LibraryFunctions(names: common ?? [])
    }()

    /// True if calls to `name` get no stackmap (never for the setjmp family).
    /// The archive's magic, first member header and that member: all `symbolIndex` needs, without
    /// reading the rest of a multi-megabyte archive in every compile.
    static func symbolIndexMember(of path: String) -> Data? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        guard let head = try? file.read(upToCount: 68), head.count == 68,
              let size = Int(String(decoding: head[56..<66], as: UTF8.self).trimmingCharacters(in: .whitespaces)),
              size >= 0, size < 1 << 22, let body = try? file.read(upToCount: size) else { return nil }
        return head + body
    }

    /// With the portable C library, most of libc is compiled by popcorn-cc and has migration
    /// points: only the functions of its point-free objects (string routines, stdio, start-up;
    /// listed by scripts/build-libc.sh in `<runtime>/<isa>/portable/point-free-functions`) keep
    /// calls without stackmaps, and those of `computing-functions` count as computation. Without
    /// the lists every call is instrumented (and nothing of the library computes).
    static let portable: LibraryFunctions = {
        let toolchain = Toolchain()
        func common(_ list: String) -> Set<String>? {
            var result: Set<String>? = nil
            for isa in ISA.allCases {
                let path = "\(toolchain.portableLibcDirectory(for: isa))/\(list)"
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
                let names = Set(text.split(separator: "\n").map(String.init))
                result = result.map { $0.intersection(names) } ?? names
            }
            return result
        }
        guard let names = common("point-free-functions") else { return LibraryFunctions(names: []) }
        return LibraryFunctions(names: names, computing: common("computing-functions") ?? [])
    }()

    /// The functions whose calls need no stackmap when linking against `libc`.
    static func of(_ libc: LibcModel) -> LibraryFunctions { libc == .native ? musl : portable }

    func contains(_ name: String) -> Bool { names.contains(name) && !JmpBufNotes.setjmpFamily.contains(name) }

    /// True if `name` is a library function that only computes.
    func computes(_ name: String) -> Bool { computing.contains(name) && contains(name) }

    /// The names in an `ar` archive's symbol index (GNU `/` with 32-bit, or `/SYM64/` with 64-bit
    /// entries); nil if the archive has none or it is malformed.
    static func symbolIndex(of data: Data) -> [String]? {
        let bytes = [UInt8](data.prefix(1 << 22))
        let magic = Array("!<arch>\n".utf8)
        guard bytes.count >= 68, Array(bytes[0..<8]) == magic, bytes[66] == 0x60, bytes[67] == 0x0a else { return nil }
        let name = String(decoding: bytes[8..<24], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        let width: Int
        switch name {
        case "/": width = 4
        case "/SYM64/": width = 8
        default: return nil
        }
        guard let size = Int(String(decoding: bytes[56..<66], as: UTF8.self).trimmingCharacters(in: .whitespaces)),
              68 + size <= bytes.count, size >= width else { return nil }
        let body = bytes[68..<(68 + size)]
        func number(at offset: Int) -> Int {
            var value = 0
            for i in 0..<width { value = value << 8 | Int(body[body.startIndex + offset + i]) }
            return value
        }
        let count = number(at: 0)
        var cursor = width * (count + 1)
        guard count >= 0, cursor <= size else { return nil }
        var names: [String] = []
        names.reserveCapacity(count)
        for _ in 0..<count {
            guard let end = body[(body.startIndex + cursor)...].firstIndex(of: 0) else { return nil }
            names.append(String(decoding: body[(body.startIndex + cursor)..<end], as: UTF8.self))
            cursor = end - body.startIndex + 1
        }
        return names
    }
}
