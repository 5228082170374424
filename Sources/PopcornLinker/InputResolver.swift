import Foundation
import PopcornSupport
import PopcornELF

/// A command-line input after resolution and classification.
public enum ResolvedInput {
    /// A popcorn multi-ISA object: every ISA's object file.
    case object(position: Int, path: String, objects: [ISA: Data])
    /// An archive of popcorn objects: members in archive order, each with every ISA's object.
    case archive(position: Int, path: String, members: [(name: String, objects: [ISA: Data])])
    /// A musl library (`-lm`, `-lpthread`, …): one archive per ISA.
    case system(name: String, paths: [ISA: String])
    case groupStart
    case groupEnd
}

/// Pass 2: finds every input and checks it is something popcorn-ld can align.
/// Pre: parsed options. Post: every input exists, is a popcorn object or an archive of them
/// (with an object for every ISA), and `-l` names are resolved to files.
public struct InputResolver {
    public var isas: [ISA]
    /// Where `-l` looks after the `-L` directories, per ISA (musl's directory by default).
    public var systemLibraryDirectory: (ISA) -> String

    public init(isas: [ISA] = ISA.allCases, systemLibraryDirectory: @escaping (ISA) -> String = { $0.muslLibDir }) {
        self.isas = isas
        self.systemLibraryDirectory = systemLibraryDirectory
    }

    public func resolve(_ options: LinkerOptions) throws -> [ResolvedInput] {
        var result: [ResolvedInput] = []
        var sawFile = false
        for (position, input) in options.inputs.enumerated() {
            switch input {
            case .groupStart: result.append(.groupStart)
            case .groupEnd: result.append(.groupEnd)
            case let .file(path):
                sawFile = true
                result.append(try classify(path: path, position: position + 1))
            case let .library(name):
                let fileName = name.hasPrefix(":") ? String(name.dropFirst()) : "lib\(name).a"
                if let found = options.libraryPaths.map({ "\($0)/\(fileName)" })
                    .first(where: { FileSystem.exists($0) }) {
                    result.append(try classify(path: found, position: position + 1))
                } else {
                    result.append(try systemLibrary(name: name, fileName: fileName, searched: options.libraryPaths))
                }
            }
        }
        if !sawFile { throw LinkerError.noInputFiles }
        return result
    }

    /// A library from musl, required for every ISA.
    private func systemLibrary(name: String, fileName: String, searched: [String]) throws -> ResolvedInput {
        var paths: [ISA: String] = [:]
        for isa in isas {
            let dir = systemLibraryDirectory(isa)
            let path = "\(dir)/\(fileName)"
            if FileSystem.exists(path) {
                paths[isa] = path
            } else if !FileSystem.exists("\(dir)/libc.a") {
                // musl itself is missing for this ISA: say which package brings it.
                throw LinkerError.systemFileMissing(path: path, package: isa.muslPackage)
            } else {
                throw LinkerError.libraryNotFound(name: name, searched: searched + [dir])
            }
        }
        return .system(name: name, paths: paths)
    }

    /// Reads one file and classifies it as a popcorn object or an archive of them. The path is
    /// used as given (bytes, relative to the working directory however deep: `FileSystem`).
    func classify(path: String, position: Int) throws -> ResolvedInput {
        guard let kind = FileSystem.kind(of: path) else { throw LinkerError.inputNotFound(path: path) }
        if kind == .directory { throw LinkerError.unreadable(path: path, reason: "is a directory") }
        let data: Data
        do { data = try FileSystem.read(path) } catch let error as FileSystemError {
            throw LinkerError.unreadable(path: path, reason: error.reason)
        }
        if ArArchive.isArchive(data) || data.starts(with: ArArchive.thinMagic) {
            let archive = try ArArchive(data: data, path: path)
            var members: [(name: String, objects: [ISA: Data])] = []
            for member in archive.members {
                guard MultiISAObject.isContainer(member.data) else {
                    throw LinkerError.notPopcornArchiveMember(archive: path, member: member.name)
                }
                let objects = try MultiISAObject.objects(in: member.data, path: "\(path)(\(member.name))")
                try requireAllISAs(objects, path: "\(path)(\(member.name))")
                members.append((member.name, objects))
            }
            return .archive(position: position, path: path, members: members)
        }
        guard MultiISAObject.isContainer(data) else { throw LinkerError.notPopcornObject(path: path) }
        let objects = try MultiISAObject.objects(in: data, path: path)
        try requireAllISAs(objects, path: path)
        return .object(position: position, path: path, objects: objects)
    }

    private func requireAllISAs(_ objects: [ISA: Data], path: String) throws {
        for isa in isas where objects[isa] == nil { throw LinkerError.missingISA(path: path, isa: isa) }
    }
}
