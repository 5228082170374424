import Foundation
import PopcornSupport
import PopcornELF

/// One ISA's link inputs after splitting, in command-line order.
public struct ISALinkInputs: Equatable, Sendable {
    public enum Item: Equatable, Sendable {
        case file(String)
        case groupStart
        case groupEnd
    }
    public var items: [Item] = []
    /// The original name of each split file (`in003.o` → `src/a.o`), for messages and maps.
    public var originalNames: [String: String] = [:]
    /// What the user calls each scratch path ld.lld may print: the split object
    /// (`<dir>/x86_64/in003.o` → `src/a.o`), the rebuilt archive (`…/lib002.a` → `libx.a`) and
    /// each of its members (`…/lib002.a(b.o.2)` → `libx.a(b.o)`), so that ld.lld's messages name
    /// the user's files (`LLDMessages`).
    public var displayNames: [String: String] = [:]
}

/// Pass 3: writes each ISA's objects and archives into a scratch directory.
/// Pre: resolved inputs. Post: `<dir>/<isa>/inNNN.o` and `<dir>/<isa>/libNNN.a` (NNN = command-line
/// position) exist for every ISA, archives with the same members in the same order; musl
/// libraries are referenced in place. File names never contain characters that are special in
/// linker-script patterns.
public enum ISASplitter {
    /// The safe scratch name for the input at `position`.
    public static func objectName(position: Int) -> String { String(format: "in%03d.o", position) }
    public static func archiveName(position: Int) -> String { String(format: "lib%03d.a", position) }

    /// Member names inside rebuilt archives: the original name, with `.N` appended to the N-th
    /// repetition of a name, so `(archive, member)` identifies one member in the link map.
    public static func uniqueMemberNames(_ names: [String]) -> [String] {
        var seen: [String: Int] = [:]
        return names.map { name in
            let count = seen[name, default: 0] + 1
            seen[name] = count
            return count == 1 ? name : "\(name).\(count)"
        }
    }

    public static func split(_ inputs: [ResolvedInput], isas: [ISA], into directory: String) throws -> [ISA: ISALinkInputs] {
        var result: [ISA: ISALinkInputs] = [:]
        for isa in isas {
            let dir = "\(directory)/\(isa.rawValue)"
            try FileSystem.createDirectory(dir)
            var link = ISALinkInputs()
            for input in inputs {
                switch input {
                case .groupStart: link.items.append(.groupStart)
                case .groupEnd: link.items.append(.groupEnd)
                case let .system(_, paths):
                    link.items.append(.file(paths[isa]!))
                case let .object(position, path, objects):
                    let name = objectName(position: position)
                    try write(objects[isa]!, to: "\(dir)/\(name)")
                    link.items.append(.file("\(dir)/\(name)"))
                    link.originalNames[name] = path
                    link.displayNames["\(dir)/\(name)"] = path
                case let .archive(position, path, members):
                    let name = archiveName(position: position)
                    let names = uniqueMemberNames(members.map(\.name))
                    let rebuilt = zip(names, members).map { ArArchive.Member(name: $0, data: $1.objects[isa]!) }
                    try write(ArArchive.write(members: rebuilt), to: "\(dir)/\(name)")
                    link.items.append(.file("\(dir)/\(name)"))
                    link.originalNames[name] = path
                    link.displayNames["\(dir)/\(name)"] = path
                    for (unique, member) in zip(names, members) {
                        link.displayNames["\(dir)/\(name)(\(unique))"] = "\(path)(\(member.name))"
                    }
                }
            }
            result[isa] = link
        }
        return result
    }

    private static func write(_ data: Data, to path: String) throws {
        do { try FileSystem.write(data, to: path) } catch let error as FileSystemError {
            throw AtomicFileError.cannotCreate(path: path, reason: error.reason)
        }
    }
}
