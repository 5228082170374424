import Foundation
import PopcornSupport
import PopcornELF

/// The symbol tables of one ISA's link inputs, read once: the objects the link always loads, and
/// its archives with, per symbol, the member that would supply it. Member prediction (4a) follows
/// lld's loading rule over them; member balancing (4b) asks what a member defines.
final class LinkSymbols: @unchecked Sendable {
    /// What one object defines (globals; weak ones apart) and the strong references it makes.
    struct Symbols {
        var strong: [String] = []
        var weak: [String] = []
        var undefined: [String] = []
        var defined: [String] { strong + weak }

        init() {}

        init(_ elf: ELFFile) throws {
            for symbol in try elf.globalSymbols() where !symbol.isLocal && !symbol.name.isEmpty
                && symbol.type != ELFConstants.STT_SECTION && symbol.type != ELFConstants.STT_FILE {
                if !symbol.isDefined {
                    if symbol.binding == ELFConstants.STB_GLOBAL { undefined.append(symbol.name) }
                } else if symbol.binding == ELFConstants.STB_WEAK {
                    weak.append(symbol.name)
                } else {
                    strong.append(symbol.name)
                }
            }
        }
    }

    /// One archive: its members and, per symbol, the first member defining it.
    final class Archive {
        let baseName: String
        let path: String
        let archive: ArArchive
        /// Symbol → member position (the archive's symbol index, or the members' own tables).
        let definitions: [String: Int]
        private var cache: [Int: Symbols] = [:]

        init(path: String) throws {
            self.path = path
            baseName = Path.baseName(path)
            archive = try ArArchive(contentsOf: path)
            if let index = archive.symbolIndex {
                definitions = index
            } else {
                var definitions: [String: Int] = [:]
                for position in archive.members.indices {
                    for name in try Self.read(archive.members[position], in: path).defined where definitions[name] == nil {
                        definitions[name] = position
                    }
                }
                self.definitions = definitions
            }
        }

        func symbols(ofMember position: Int) throws -> Symbols {
            if let known = cache[position] { return known }
            let symbols = try Self.read(archive.members[position], in: path)
            cache[position] = symbols
            return symbols
        }

        func position(ofMember name: String) -> Int? { archive.members.firstIndex { $0.name == name } }

        /// A member that is not an object for this ISA defines nothing (ld.lld says so if it matters).
        private static func read(_ member: ArArchive.Member, in path: String) throws -> Symbols {
            guard let elf = try? ELFFile(data: member.data, path: "\(path)(\(member.name))") else { return Symbols() }
            return try Symbols(elf)
        }
    }

    let objects: [Symbols]
    let archives: [Archive]
    /// Names the command line makes undefined (`-u`, the runtime's roots, `-e`).
    let roots: [String]
    /// Symbol → (archive, member): the first archive on the command line that defines it.
    let lazy: [String: (archive: Int, member: Int)]

    init(_ command: LinkCommand) throws {
        var objectPaths = command.startFiles.leading
        for item in command.inputs.items {
            if case let .file(path) = item, !path.hasSuffix(".a") { objectPaths.append(path) }
        }
        objectPaths += command.extraObjects + command.startFiles.trailing
        objects = try objectPaths.map { try Symbols(ELFFile(contentsOf: $0)) }
        archives = try command.archives.map { try Archive(path: $0) }
        var roots = command.forcedSymbols
        if !command.options.noStdlib && command.runtimeArchive != nil && command.linksMigrationRuntime {
            roots += LinkCommand.runtimeRoots
        }
        if let entry = command.options.entry { roots.append(entry) }
        self.roots = roots
        var lazy: [String: (archive: Int, member: Int)] = [:]
        for (a, archive) in archives.enumerated() {
            for (name, member) in archive.definitions where lazy[name] == nil { lazy[name] = (a, member) }
        }
        self.lazy = lazy
    }

    /// The `archive(member)` key MemberBalancer and the probe maps use.
    static func key(_ archive: String, _ member: String) -> String { MemberBalancer.memberKey(archive, member) }
    static func archiveName(ofKey key: String) -> String { String(key[..<(key.firstIndex(of: "(") ?? key.endIndex)]) }

    /// lld's rule: a member is loaded when a loaded file (or the command line) has a strong
    /// undefined reference to a symbol it defines and nothing loaded defines yet. Returns the
    /// loaded members (as keys) and every global the link defines.
    func simulate(roots extra: [String]) throws -> (loaded: Set<String>, defined: Set<String>) {
        var defined: Set<String> = []
        var pending = roots + extra
        for object in objects {
            defined.formUnion(object.strong)
            defined.formUnion(object.weak)
            pending += object.undefined
        }
        var loaded: Set<String> = []
        while let name = pending.popLast() {
            guard !defined.contains(name), let (a, m) = lazy[name] else { continue }
            guard loaded.insert(Self.key(archives[a].baseName, archives[a].archive.members[m].name)).inserted else { continue }
            let symbols = try archives[a].symbols(ofMember: m)
            defined.formUnion(symbols.strong)
            defined.formUnion(symbols.weak)
            pending += symbols.undefined
        }
        return (loaded, defined)
    }

    /// The symbols of member `member` of the archive named `archive`, or `nil` if there is none.
    func symbols(archive name: String, member: String) throws -> Symbols? {
        guard let archive = archives.first(where: { $0.baseName == name }), let m = archive.position(ofMember: member) else { return nil }
        return try archive.symbols(ofMember: m)
    }

    /// A global that member `key` defines and the link does not yet, and that resolves to that
    /// member: `-u` of it loads the member.
    func symbol(toLoad key: String, notIn defined: Set<String>) throws -> String? {
        let archiveName = Self.archiveName(ofKey: key)
        guard let a = archives.firstIndex(where: { $0.baseName == archiveName }) else { return nil }
        let memberName = String(key.dropFirst(archiveName.count + 1).dropLast())
        guard let m = archives[a].position(ofMember: memberName) else { return nil }
        return try archives[a].symbols(ofMember: m).defined.first { name in
            !defined.contains(name) && lazy[name].map { $0.archive == a && $0.member == m } == true
        }
    }
}
