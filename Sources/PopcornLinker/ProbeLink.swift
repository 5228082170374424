import Foundation
import PopcornSupport
import PopcornELF

/// Runs ld.lld for one ISA and reads back its map and section headers.
public struct LLDRunner {
    public var lld: String
    public var diagnostics: DiagnosticsEngine
    public var verbose: Bool
    /// Passes ld.lld's messages on under the user's file names, each once (`LLDMessages`).
    public var messages: LLDMessages

    public init(lld: String, diagnostics: DiagnosticsEngine, verbose: Bool, messages: LLDMessages = LLDMessages(displayNames: [:])) {
        self.lld = lld; self.diagnostics = diagnostics; self.verbose = verbose; self.messages = messages
    }

    /// Runs one link for `isa`. ld.lld's warnings are passed on even when it succeeds, its
    /// errors when it fails (then `LinkerError.lldFailed` is thrown).
    public func link(_ arguments: [String], isa: ISA) throws {
        if verbose { diagnostics.remark(([lld] + arguments).map(ProcessRunner.quote).joined(separator: " ")) }
        let result = try ProcessRunner.run(lld, arguments, stdout: .capture, stderr: .capture)
        if let signal = result.signal { throw ProcessError.signaled(tool: lld, signal: signal) }
        // Decoded byte for byte: a message may quote a file name that is not UTF-8.
        messages.report(Path.decode(result.stdout) + Path.decode(result.stderr), tool: lld, to: diagnostics)
        if result.status != 0 { throw LinkerError.lldFailed(isa: isa, status: result.status) }
    }

    /// Pass 4: the probe link.
    /// Pre: split inputs. Post: the ISA's allocated output sections with their kept input
    /// sections (address, size, alignment), classified into regions by their ELF flags.
    public func probe(_ command: LinkCommand, in directory: String) throws -> [ProbeOutputSection] {
        let map = "\(directory)/probe.\(command.isa.rawValue).map"
        let output = "\(directory)/probe.\(command.isa.rawValue)"
        try link(command.arguments(script: nil, map: map, output: output), isa: command.isa)
        return try Self.readProbe(map: map, binary: output)
    }

    /// Joins a map with the binary's section headers: only allocated sections take address space.
    public static func readProbe(map mapPath: String, binary: String) throws -> [ProbeOutputSection] {
        let map = try readMap(mapPath)
        let elf = try ELFFile(data: try FileSystem.read(binary), path: binary)
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
        guard let data = try? FileSystem.read(path) else {
            throw LinkerError.unreadable(path: path, reason: "ld.lld wrote no map")
        }
        return try LinkMap(bytes: [UInt8](data), path: path)
    }
}
