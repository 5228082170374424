import Foundation
import PopcornELF
import PopcornIR
import PopcornSupport

/// The in-process back end, as the `-cc1popcorn` job: bitcode in, multi-ISA object (or
/// per-ISA assembly, or portable IR) out.
///
/// The planner describes the step with this type and prints `arguments`; the executor parses
/// those same arguments back and runs them, so the printed command is the one that runs and
/// `popcorn-cc -cc1popcorn …` from a shell does the same thing.
public struct BackendCommand: Sendable, Equatable {
    public var bitcode: String
    /// Output path; `-` is standard output.
    public var output: String
    /// `-emit-obj`, `-emit-asm`, `-emit-llvm` or `-emit-llvm-bc`.
    public var emit: String
    /// `0`…`3`, `s` or `z`.
    public var optimization: String
    /// The C file the bitcode came from (for diagnostics and symbol naming).
    public var source: String
    public var keepDebugInfo: Bool
    /// ISAs to generate code for (`-isa`, repeatable); default all.
    public var isas: [ISA]
    /// `-fpopcorn-migration=`; written out only when it is not popcorn-cc's default.
    public var migration: MigrationPolicy
    /// `-fcf-protection=branch`, `-mbranch-protection=…`: applied per ISA while lowering.
    public var protection: ControlFlowProtection
    /// `-fpopcorn-libc=`; written out only when it is not the default (`LibcModel.default`).
    public var libc: LibcModel
    /// `-ftime-report`: each pass's time on standard error after the run.
    public var timeReport: Bool

    public init(bitcode: String, output: String, emit: String, optimization: String, source: String,
                keepDebugInfo: Bool, isas: [ISA] = ISA.allCases, migration: MigrationPolicy = .entry,
                protection: ControlFlowProtection = .none, libc: LibcModel = .default, timeReport: Bool = false) {
        self.timeReport = timeReport
        self.protection = protection
        self.libc = libc
        self.bitcode = bitcode
        self.output = output
        self.emit = emit
        self.optimization = optimization
        self.source = source
        self.keepDebugInfo = keepDebugInfo
        self.isas = isas
        self.migration = migration
    }

    // MARK: Command line

    static let outputOption = Option("-o", .separate, group: .internalOnly, help: "Output file")
    static let optimizeOption = Option("-O", .joined, group: .internalOnly, help: "Optimization level")
    static let emitObject = Option("-emit-obj", .flag, group: .internalOnly, help: "Write a multi-ISA object")
    static let emitAssembly = Option("-emit-asm", .flag, group: .internalOnly, help: "Write assembly for each ISA")
    static let emitIR = Option("-emit-llvm", .flag, group: .internalOnly, help: "Write portable LLVM IR")
    static let emitBitcode = Option("-emit-llvm-bc", .flag, group: .internalOnly, help: "Write portable LLVM bitcode")
    static let mainFile = Option("-main-file-name", .separate, group: .internalOnly, help: "The source file")
    static let keepDebug = Option("-keep-debug-info", .flag, group: .internalOnly, help: "Keep debug information")
    static let isaOption = Option("-isa", .separate, group: .internalOnly, help: "Generate code for this ISA")
    static let migrationOption = Option("-fpopcorn-migration=", .joined, group: .internalOnly, help: "Migration point policy")
    static let libcOption = Option("-fpopcorn-libc=", .joined, group: .internalOnly, help: "The C library linked: native or portable")
    static let cfProtectionOption = Option("-fcf-protection=", .joined, group: .internalOnly, help: "x86_64 indirect branch tracking")
    static let timeReportOption = Option("-ftime-report", .flag, group: .internalOnly, help: "Report each pass's time")
    static let branchProtectionOption = Option("-mbranch-protection=", .joined, group: .internalOnly, help: "aarch64 branch protection")
    /// The `-cc1popcorn` option table.
    public static let table = OptionTable([outputOption, optimizeOption, emitObject, emitAssembly, emitIR,
                                           emitBitcode, mainFile, keepDebug, isaOption, migrationOption, libcOption,
                                           cfProtectionOption, branchProtectionOption, timeReportOption])

    /// `argv` after `-cc1popcorn`.
    public var arguments: [String] {
        var args = ["-cc1popcorn", bitcode, "-o", output, "-O" + optimization, emit, "-main-file-name", source]
        if keepDebugInfo { args.append("-keep-debug-info") }
        if isas != ISA.allCases { args += isas.flatMap { ["-isa", $0.rawValue] } }
        if migration != .entry { args.append("-fpopcorn-migration=" + migration.rawValue) }
        if libc != .default { args.append(libc.option) }
        args += ProtectionFlags.backendArguments(protection)
        if timeReport { args.append("-ftime-report") }
        return args
    }

    /// Parses the arguments that follow `-cc1popcorn`.
    public init(parsing arguments: [String]) throws {
        let parsed = OptionParser(table: BackendCommand.table).parse(arguments)
        if let first = parsed.errors.first { throw first }
        var bitcode: String?, output: String?, emit = "-emit-obj", optimization = "0", source: String?
        var keep = false
        var isas: [ISA] = []
        var migration = MigrationPolicy.entry
        var libc = LibcModel.default
        var protectionFlags = ProtectionFlags()
        var timeReport = false
        for arg in parsed.arguments {
            switch arg.option {
            case OptionTable.input:
                if bitcode != nil { throw BackendCommandError.extraInput(arg.value) }
                bitcode = arg.value
            case BackendCommand.outputOption: output = arg.value
            case BackendCommand.optimizeOption:
                guard OptimizationLevel(rawValue: arg.value) != nil else {
                    throw DriverError.invalidOptimizationLevel("-O" + arg.value)
                }
                optimization = arg.value
            case BackendCommand.emitObject, BackendCommand.emitAssembly, BackendCommand.emitIR, BackendCommand.emitBitcode:
                emit = arg.option.spelling
            case BackendCommand.mainFile: source = arg.value
            case BackendCommand.keepDebug: keep = true
            case BackendCommand.isaOption:
                guard let isa = ISA(name: arg.value) else { throw BackendCommandError.unknownISA(arg.value) }
                if !isas.contains(isa) { isas.append(isa) }
            case BackendCommand.migrationOption:
                guard let policy = MigrationPolicy(rawValue: arg.value) else {
                    throw DriverError.unsupportedOption(arg.description, reason: "expected none, entry, entry-exit or loops")
                }
                migration = policy
            case BackendCommand.libcOption:
                guard let model = LibcModel(rawValue: arg.value) else {
                    throw DriverError.unsupportedOption(arg.description, reason: "expected native or portable")
                }
                libc = model
            case BackendCommand.cfProtectionOption:
                protectionFlags.cfProtection(arg.value, argument: arg.description)
            case BackendCommand.branchProtectionOption:
                protectionFlags.branchProtection(arg.value, argument: arg.description)
            case BackendCommand.timeReportOption: timeReport = true
            default: throw OptionError.unknownArgument(arg.description)
            }
        }
        // The driver only writes what it parsed; anything else came from a hand-written command.
        if let problem = protectionFlags.diagnostics.first(where: { $0.diagnostic.severity >= .error }) { throw problem }
        guard let bitcode else { throw BackendCommandError.missingInput }
        guard let output else { throw BackendCommandError.missingOutput }
        self.init(bitcode: bitcode, output: output, emit: emit, optimization: optimization,
                  source: source ?? bitcode, keepDebugInfo: keep, isas: isas.isEmpty ? ISA.allCases : isas.sorted(),
                  migration: migration, protection: protectionFlags.protection, libc: libc, timeReport: timeReport)
    }

    // MARK: Running

    private var backendOutput: BackendOutput {
        switch emit {
        case BackendCommand.emitAssembly.spelling: return .assembly
        case BackendCommand.emitIR.spelling: return .llvmIR
        case BackendCommand.emitBitcode.spelling: return .bitcode
        default: return .object
        }
    }

    /// Runs the back end and writes the output(s) atomically. Errors the back end reports go
    /// to `diagnostics`; a failure throws.
    public func run(diagnostics: DiagnosticsEngine) throws {
        let level = OptimizationLevel(rawValue: optimization) ?? .o0
        let kind = backendOutput
        let request = BackendRequest(bitcodePath: bitcode, sourcePath: source, optimization: level,
                                     output: kind, isas: isas, keepDebugInfo: keepDebugInfo, migrationPolicy: migration,
                                     protection: protection, libc: libc)
        let timer = timeReport ? PassTimer(tool: "popcorn-cc") : nil
        defer {
            if let timer { for line in timer.text(total: timer.elapsed) { diagnostics.remark(line) } }
        }
        let results = try Backend.run(request, diagnostics: diagnostics, timer: timer)
        if diagnostics.hasErrors { throw BackendCommandError.backendFailed }
        func result(_ isa: ISA) throws -> Data {
            guard let data = results[isa] else { throw BackendCommandError.noResult(isa) }
            return data
        }
        switch kind {
        case .object:
            // The object is an ordinary ELF file for the host ISA carrying the others inside;
            // with `-isa` restricted to foreign ISAs the first requested one hosts the rest.
            let host = isas.contains(ISA.host) ? ISA.host : isas[0]
            var embedded: [ISA: Data] = [:]
            for isa in isas where isa != host { embedded[isa] = try result(isa) }
            try write(MultiISAObject.build(host: try result(host), embedded: embedded), to: output)
        case .assembly:
            let ordered = isas.filter { $0 == ISA.host } + isas.filter { $0 != ISA.host }
            if output == "-" {
                for isa in ordered { try write(try result(isa), to: "-") }
            } else {
                for isa in ordered {
                    try write(try result(isa), to: isa == ordered[0] ? output : "\(output).\(isa.rawValue)")
                }
            }
        case .llvmIR, .bitcode:
            try write(try result(ISA.host), to: output)
        }
    }

    private func write(_ data: Data, to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(data)
        } else {
            try AtomicFile.write(data, to: path)
        }
    }

    /// `popcorn-cc -cc1popcorn …`: parse, run, report; the exit status.
    public static func main(_ arguments: [String], diagnostics: DiagnosticsEngine) -> Int32 {
        do {
            try BackendCommand(parsing: arguments).run(diagnostics: diagnostics)
            return 0
        } catch BackendCommandError.backendFailed {
            return 1
        } catch {
            diagnostics.report(error)
            return 1
        }
    }
}
