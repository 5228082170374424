import Foundation
import PopcornSupport
import PopcornELF

/// popcorn-ld: links popcorn multi-ISA objects into one binary per ISA with every shared
/// function, variable, literal and TLS variable at the same address.
///
/// The link is an ordered list of passes (see docs/LINKER.md); each pass states its
/// precondition and postcondition where it is defined.
public enum Linker {
    public static let version = "popcorn-ld 1.0 (aligning linker over ld.lld 19)"
    /// Probe rounds spent making archive member selection agree (see `MemberBalancer`).
    static let maxBalancingRounds = 4

    /// Where one ISA's binary goes: `app` / `app.<isa>`; every ISA's output into a device such as
    /// `-o /dev/null` (no `/dev/null.aarch64` file is created next to it).
    static func outputPath(_ output: String, isa: ISA) -> String {
        AtomicFile.isSpecial(output) ? output : isa.siblingPath(of: output)
    }

    /// Whether any input object (or archive member) carries popcorn-cc's call-site side table,
    /// i.e. was compiled with migration points.
    static func hasCallSiteMetadata(_ inputs: ISALinkInputs) throws -> Bool {
        func objectHasTable(_ data: Data, _ path: String) -> Bool {
            (try? ELFFile(data: data, path: path))?.section(named: ".popcorn.callsites") != nil
        }
        for item in inputs.items {
            guard case let .file(path) = item, let data = try? FileSystem.read(path) else { continue }
            if ArArchive.isArchive(data) {
                if try ArArchive(data: data, path: path).members.contains(where: { objectHasTable($0.data, path) }) { return true }
            } else if objectHasTable(data, path) {
                return true
            }
        }
        return false
    }

    /// Entry point for the executable: returns the exit status.
    public static func main(arguments: [String]) -> Int32 {
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-ld")
        // Interrupted links remove their temporaries and die of the signal (`SignalCleanup`).
        SignalCleanup.install()
        do {
            try run(arguments: arguments, diagnostics: diagnostics)
            return 0
        } catch {
            diagnostics.report(error)
            return 1
        }
    }

    /// Runs every pass; on any error no output file is left behind.
    public static func run(arguments: [String], diagnostics: DiagnosticsEngine, toolchain: Toolchain = Toolchain()) throws {
        // 1. options
        let timer = PassTimer(tool: "popcorn-ld")
        let options = try timer.measure("1. options") { try LinkerOptionParser.parse(arguments) }
        if options.showHelp { print(LinkerOptionParser.helpText, terminator: ""); return }
        if options.showVersion {
            print(version)
            if options.inputs.isEmpty { return }
        }
        if options.verbose {
            for (option, reason) in options.noEffect { diagnostics.note("'\(option)' has no effect: \(reason)") }
        }
        let host = ISA.host
        let isas = [host] + ISA.foreign
        // 2. inputs (before anything else, so a typo in a file name is the first thing reported)
        let inputs = try timer.measure("2. inputs") { try InputResolver(isas: isas).resolve(options) }
        let lld = try toolchain.path(of: .lld)
        var runtimes: [ISA: String] = [:]
        for isa in isas {
            if options.libc == .native {
                for file in LinkCommand.systemFiles(for: isa, options: options) {
                    try Toolchain.requireFile(file.path, package: file.package)
                }
            } else {
                for file in ["crt1.o", "libc.a"] where FileSystem.exists("\(toolchain.portableLibcDirectory(for: isa))/\(file)") == false {
                    throw LinkerError.portableLibcMissing(path: "\(toolchain.portableLibcDirectory(for: isa))/\(file)")
                }
                try Toolchain.requireFile(isa.builtinsArchive, package: isa.builtinsPackage)
            }
            if !options.noStdlib {
                let runtime = toolchain.runtimeArchive(for: isa, libc: options.libc)
                guard FileSystem.exists(runtime) else { throw LinkerError.runtimeMissing(path: runtime) }
                runtimes[isa] = runtime
            }
        }

        // 3. split per ISA
        let scratch = try TemporaryDirectory(prefix: "popcorn-ld")
        let split = try timer.measure("3. split") { try ISASplitter.split(inputs, isas: isas, into: scratch.path) }
        var commands = Dictionary(uniqueKeysWithValues: isas.map {
            ($0, LinkCommand(isa: $0, inputs: split[$0]!, options: options, runtimeArchive: runtimes[$0]))
        })
        if options.libc == .portable {
            for isa in isas { commands[isa]!.portableLibcDirectory = toolchain.portableLibcDirectory(for: isa) }
        }
        // An aligned-only program (no migration points anywhere) does not need the mover.
        let migratable = try Self.hasCallSiteMetadata(split[host]!)
        for isa in isas { commands[isa]!.linksMigrationRuntime = migratable }
        // The final links write into the scratch directory (see step 7); messages name outputs.
        var displayNames: [String: String] = [:]
        for isa in isas {
            displayNames.merge(split[isa]!.displayNames) { first, _ in first }
            for name in ["probe.\(isa.rawValue)", "output.\(isa.rawValue)"] {
                displayNames[scratch.file(name)] = Self.outputPath(options.output, isa: isa)
            }
        }
        let runner = LLDRunner(lld: lld, diagnostics: diagnostics, verbose: options.verbose,
                               messages: LLDMessages(displayNames: displayNames))

        // 4a. member prediction: the user's archives (popcorn objects, split into lib<NNN>.a) and
        // the portable libc are compiled from one IR, so each of their members is loaded on every
        // ISA or on none.
        var mirrored = Set(commands[host]!.inputs.items.compactMap { item -> String? in
            guard case let .file(path) = item, path.hasSuffix(".a") else { return nil }
            return Path.baseName(path)
        })
        if options.libc == .portable { mirrored.insert("libc.a") }
        let unpredicted = commands
        let (links, predicted) = try timer.measure("4a. member prediction") {
            let links = try PerISA.concurrently(isas) { try LinkSymbols(unpredicted[$0]!) }
            return (links, try MemberPrediction.forcedSymbols(links, options: options, mirrored: mirrored))
        }
        for (isa, symbols) in predicted { commands[isa]!.forcedSymbols += symbols }

        // 4. probe links, repeated while MemberBalancer loads more members (each round can only
        // add members, and a forced member's own references may need one more round).
        let initial = commands
        var probes = try timer.measure("4. probe links") {
            try PerISA.concurrently(isas) { try runner.probe(initial[$0]!, in: scratch.path) }
        }
        try timer.measure("4b. member balancing") {
            for _ in 0..<Self.maxBalancingRounds {
                let forced = try MemberBalancer.forcedSymbols(
                    probes,
                    memberSymbols: { isa, archive, member in try links[isa]!.symbols(archive: archive, member: member)?.strong },
                    weakSymbols: { isa, archive, member in try links[isa]!.symbols(archive: archive, member: member).map { Set($0.weak) } },
                    mirroredArchives: mirrored)
                if forced.isEmpty { break }
                for (isa, symbols) in forced { commands[isa]!.forcedSymbols += symbols }
                let again = commands
                let reprobed = try PerISA.concurrently(Array(forced.keys)) { try runner.probe(again[$0]!, in: scratch.path) }
                probes.merge(reprobed) { _, new in new }
            }
        }

        // 5. layout
        let finalProbes = probes
        let layout = try timer.measure("5. layout") { try LayoutPlanner().plan(finalProbes, host: host) }
        if options.printLayout { print(LayoutPrinter.text(layout), terminator: "") }

        // 6. linker scripts
        var scripts: [ISA: String] = [:]
        try timer.measure("6. linker scripts") {
            for isa in isas {
                let path = scratch.file("\(isa.rawValue).ld")
                let script = try LinkerScriptWriter.script(for: layout.sections[isa]!, isa: isa,
                                                           symbols: layout.scriptSymbols[isa] ?? [])
                try FileSystem.write(Data(script.utf8), to: path)
                scripts[isa] = path
                if !layout.stubs.isEmpty {
                    let object = "\(scratch.path)/\(isa.rawValue)/\(StubObject.fileName)"
                    try FileSystem.write(StubObject.data(for: isa), to: object)
                    commands[isa]!.extraObjects = [object]
                }
            }
        }

        // 7. final links, into the scratch directory: verification and metadata read and rewrite
        // them there, under plain ASCII names whatever the output path is (deep, not UTF-8);
        // only the commit writes beside the output. No `.app.tmp-*` file exists until then.
        var temporaries: [ISA: String] = [:]
        var maps: [ISA: String] = [:]
        for isa in isas {
            temporaries[isa] = scratch.file("output.\(isa.rawValue)")
            maps[isa] = scratch.file("final.\(isa.rawValue).map")
        }
        let finalCommands = commands, outputs = temporaries, finalMaps = maps, finalScripts = scripts
        _ = try timer.measure("7. final links") {
            try PerISA.concurrently(isas) { isa in
                try runner.link(finalCommands[isa]!.arguments(script: finalScripts[isa]!, map: finalMaps[isa]!, output: outputs[isa]!),
                                isa: isa)
            }
        }

        // 8. verify (symbols need the unstripped binaries; -s relinks afterwards)
        let report = try timer.measure("8. verify") { try Verifier.verify(layout: layout, binaries: temporaries, maps: maps) }

        // 9. stack-transformation metadata: built from the unstripped binaries (function names
        // come from the symbol tables), appended after any -s relink, which would drop it.
        let metadata = try timer.measure("9. metadata") { try MetadataPass.build(binaries: temporaries) }
        for message in metadata.omitted {
            diagnostics.warning(message + " (call site left out of the metadata: no migration there)")
        }
        if options.stripAll {
            try timer.measure("9. strip relink") {
                for isa in isas {
                    try runner.link(commands[isa]!.arguments(script: scripts[isa]!, map: nil, output: temporaries[isa]!, strip: true),
                                    isa: isa)
                }
            }
        }
        try timer.measure("9. metadata append") { try MetadataPass.append(metadata, to: temporaries) }
        // 10. link identity: last, over the final contents of every binary
        _ = try timer.measure("10. link identity") { try LinkIdentityPass.write(to: temporaries) }
        if options.verbose {
            for isa in isas { diagnostics.remark("popcorn-ld: " + LayoutPrinter.summary(layout, isa: isa)) }
            diagnostics.remark("popcorn-ld: \(report.checkedSymbols) symbols verified at identical addresses")
            for isa in isas { diagnostics.remark("popcorn-ld: " + MetadataPass.summary(metadata, isa: isa)) }
        }

        // 11. commit: copy beside each output and rename over it. Temporaries that killed
        // popcorn processes left in that directory go first (`AtomicFile.removeStaleTemporaries`).
        try timer.measure("11. commit") {
            var directories = Set(isas.map { Path.directory(Self.outputPath(options.output, isa: $0)) })
            if let mapFile = options.mapFile { directories.insert(Path.directory(mapFile)) }
            for directory in directories where !AtomicFile.isSpecial(options.output) {
                AtomicFile.removeStaleTemporaries(in: directory)
            }
            if let mapFile = options.mapFile {
                for isa in isas { try AtomicFile.install(maps[isa]!, to: isa.siblingPath(of: mapFile), mode: 0o644) }
            }
            for isa in isas {
                try AtomicFile.install(temporaries[isa]!, to: Self.outputPath(options.output, isa: isa), mode: 0o755)
            }
        }
        if options.timeTrace { try timer.finish(file: options.timeTraceFile, diagnostics: diagnostics) }
    }
}

