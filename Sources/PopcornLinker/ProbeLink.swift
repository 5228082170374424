import Foundation
import PopcornSupport
import PopcornELF

/// Runs ld.lld for one ISA and reads back its map and section headers.
public struct LLDRunner {
    public var lld: String
    public var diagnostics: DiagnosticsEngine
    public var verbose: Bool

    public init(lld: String, diagnostics: DiagnosticsEngine, verbose: Bool) {
        self.lld = lld; self.diagnostics = diagnostics; self.verbose = verbose
    }

    /// Runs one link; lld's own messages are passed through on failure.
    public func link(_ arguments: [String]) throws {
        if verbose { diagnostics.remark(([lld] + arguments).map(ProcessRunner.quote).joined(separator: " ")) }
        try ProcessRunner.checked(lld, arguments)
    }

    /// Pass 4: the probe link.
    /// Pre: split inputs. Post: the ISA's allocated output sections with their kept input
    /// sections (address, size, alignment), classified into regions by their ELF flags.
    public func probe(_ command: LinkCommand, in directory: String) throws -> [ProbeOutputSection] {
        let map = "\(directory)/probe.\(command.isa.rawValue).map"
        let output = "\(directory)/probe.\(command.isa.rawValue)"
        try link(command.arguments(script: nil, map: map, output: output))
        return try Self.readProbe(map: map, binary: output)
    }

    /// Joins a map with the binary's section headers: only allocated sections take address space.
    public static func readProbe(map mapPath: String, binary: String) throws -> [ProbeOutputSection] {
        let map = try readMap(mapPath)
        let elf = try ELFFile(contentsOf: binary)
        // The map names symbols but not their kind: take type and binding from the symbol table.
        struct Key: Hashable { var name: String; var value: UInt64 }
        var table: [Key: ELFSymbol] = [:]
        for symbol in try elf.symbols() where symbol.isDefined && symbol.type != ELFConstants.STT_SECTION {
            table[Key(name: symbol.name, value: symbol.value)] = symbol
        }
        var result: [ProbeOutputSection] = []
        for out in map.outputSections {
            guard let header = elf.sections.first(where: { $0.name == out.name && $0.address == out.address }),
                  header.isAllocated else { continue }
            let region = Region.classify(executable: header.isExecutable, writable: header.isWritable,
                                         tls: header.isTLS, noBits: header.isNoBits)
            var inputs = out.inputs
            for i in inputs.indices {
                for j in inputs[i].symbols.indices {
                    let mapped = inputs[i].symbols[j]
                    guard let symbol = table[Key(name: mapped.name, value: mapped.address)] else { continue }
                    inputs[i].symbols[j].type = symbol.type
                    inputs[i].symbols[j].isWeak = symbol.binding == ELFConstants.STB_WEAK
                    // Hidden symbols become local in the output but were globals of the program.
                    inputs[i].symbols[j].isGlobal = !symbol.isLocal || symbol.other & 0x3 != 0
                }
            }
            result.append(ProbeOutputSection(name: out.name, region: region, noBits: header.isNoBits,
                                             size: out.size, alignment: max(out.alignment, 1), inputs: inputs))
        }
        return result
    }

    public static func readMap(_ path: String) throws -> LinkMap {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LinkerError.unreadable(path: path, reason: "ld.lld wrote no map")
        }
        return try LinkMap(text: String(decoding: data, as: UTF8.self), path: path)
    }
}
