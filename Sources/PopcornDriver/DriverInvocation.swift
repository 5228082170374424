import Foundation
import PopcornIR
import PopcornSupport

/// The meaning of a parsed command line: which stage to stop after, the inputs, the outputs
/// and the arguments destined for each tool. Building it reads no tool and runs nothing; it
/// only checks that the inputs exist.
public struct DriverInvocation: Sendable {
    /// The last stage to run.
    public enum Mode: Sendable, Equatable { case preprocess, syntaxOnly, assemble, compile, link }

    /// Requests answered without compiling anything.
    public enum ImmediateAction: Sendable, Equatable {
        case help, version, dumpMachine, dumpVersion
        case printProgramName(String), printFileName(String)
        case printSearchDirectories, printLibgccFileName, printMultiOSDirectory, printMultiDirectory
        case printMultiLib, printResourceDirectory, printRuntimeDirectory, printTargetTriple
    }

    /// Where `-save-temps` keeps intermediate files.
    public enum SaveTemps: String, Sendable, Equatable { case cwd, obj }

    /// One entry of the link line, in command-line order.
    public enum LinkItem: Sendable, Equatable {
        case input(InputFile)
        case arguments([String])
    }

    public var mode: Mode = .link
    public var emitLLVM = false
    /// `-o`, as written (`-` is standard output).
    public var outputPath: String?
    /// The `-O` flag forwarded to the frontend.
    public var frontendOptimization = "-O0"
    /// The back end's level (`0`…`3`, `s`, `z`), as `-cc1popcorn -O<level>` takes it.
    public var backendOptimization = "0"
    /// `-fpopcorn-migration=`: where the back end inserts migration points.
    public var migrationPolicy: MigrationPolicy = .entry
    /// `-fpopcorn-libc=`: the C library compiled against and linked.
    public var libc: LibcModel = .default
    /// `-ftime-report`: the frontend and the back end report their passes' times.
    public var timeReport = false
    /// `-fcf-protection`, `-mbranch-protection=`: applied by the back end per ISA.
    public var protection = ControlFlowProtection.none
    /// `-g…` flags forwarded to the frontend; empty means no debug information was requested.
    public var debugArguments: [String] = []
    /// User arguments for clang, in command-line order.
    public var frontendArguments: [String] = []
    /// Every input, in order; compiled inputs carry their language.
    public var inputs: [InputFile] = []
    /// Inputs, `-l`, `-L` and linker arguments in command-line order.
    public var linkItems: [LinkItem] = []
    public var dependencies = DependencySettings()
    public var saveTemps: SaveTemps?
    public var verbose = false
    public var printJobsOnly = false
    public var searchMuslHeaders = true
    public var searchCompilerHeaders = true
    /// `-w` and `-Werror` also govern the driver's own warnings.
    public var suppressWarnings = false
    public var warningsAsErrors = false
    public var immediateActions: [ImmediateAction] = []
    /// Errors and warnings found while interpreting the command line.
    public var diagnostics: [DriverError] = []

    public var hasErrors: Bool { diagnostics.contains { $0.diagnostic.severity >= .error } }
    public var compiledInputs: [InputFile] { inputs.filter { $0.type.isCompiled } }
    public var keepDebugInfo: Bool { !debugArguments.isEmpty }

    public init() {}

    /// Interprets `arguments`; `fileExists` is injectable so tests need no files.
    public init(_ arguments: [ParsedArgument],
                fileExists: (String) -> Bool = FileSystem.exists) {
        var languageOverride: InputFile.FileType?
        var sawPreprocess = false, sawSyntaxOnly = false, sawAssemble = false, sawCompile = false
        var unusedLinkArguments: [String] = []
        var unusedLinkInputs: [String] = []
        var anyInputNamed = false
        var protectionFlags = ProtectionFlags()

        func addInput(_ path: String) {
            anyInputNamed = true
            let type: InputFile.FileType
            if let languageOverride {
                type = languageOverride
            } else if path == "-" {
                type = .c
                if !sawPreprocess { diagnostics.append(.standardInputNeedsLanguage); return }
            } else {
                switch InputFile.classify(path) {
                case let .success(t): type = t
                case let .failure(error): diagnostics.append(error); return
                }
            }
            if path != "-" && !fileExists(path) { diagnostics.append(.noSuchFile(path)); return }
            let input = InputFile(path: path, type: type)
            inputs.append(input)
            linkItems.append(.input(input))
        }

        // `-E` decides how a later `-` is treated, so look for it first (clang does the same).
        sawPreprocess = arguments.contains { [DriverOptions.preprocess, DriverOptions.depsM, DriverOptions.depsMM].contains($0.option) }

        for arg in arguments {
            let option = arg.option
            switch option.destination {
            case let .rejected(reason):
                diagnostics.append(.unsupportedOption(arg.description, reason: reason)); continue
            case .ignored:
                continue
            case let .overridden(reason):
                diagnostics.append(.argumentIgnored(arg.description, reason: reason)); continue
            case .frontend:
                frontendArguments += arg.rendered
                if option == DriverOptions.noWarnings { suppressWarnings = true }
                if option == DriverOptions.werror { warningsAsErrors = true }
                continue
            case .linker:
                let rendered: [String]
                switch option {
                case DriverOptions.wl: rendered = arg.values
                case DriverOptions.xlinker: rendered = [arg.value]
                default: rendered = arg.rendered
                }
                linkItems.append(.arguments(rendered))
                if option == DriverOptions.library { unusedLinkInputs.append(arg.rendered.joined()) }
                if option == DriverOptions.libraryDir { unusedLinkArguments.append(arg.rendered.joined()) }
                continue
            case .driver:
                break
            }
            switch option {
            case OptionTable.input: addInput(arg.value)
            case DriverOptions.endOfOptions: arg.values.forEach(addInput)
            case DriverOptions.preprocess: sawPreprocess = true
            case DriverOptions.syntaxOnly: sawSyntaxOnly = true
            case DriverOptions.assemble: sawAssemble = true
            case DriverOptions.compile: sawCompile = true
            case DriverOptions.emitLLVM: emitLLVM = true
            case DriverOptions.cc1popcorn: diagnostics.append(.cc1popcornNotFirst)
            case DriverOptions.output: outputPath = arg.value
            case DriverOptions.saveTemps: saveTemps = .cwd
            case DriverOptions.saveTempsEq:
                if let kind = SaveTemps(rawValue: arg.value) { saveTemps = kind }
                else { diagnostics.append(.invalidSaveTemps(arg.value)) }
            case DriverOptions.optimize: setOptimization(arg.value)
            case DriverOptions.debug: addDebug(arg.value)
            case DriverOptions.fpopcornMigration:
                if let policy = MigrationPolicy(rawValue: arg.value) { migrationPolicy = policy }
                else { diagnostics.append(.unsupportedOption(arg.description, reason: "expected none, entry, entry-exit or loops")) }
            case DriverOptions.fpopcornLibc:
                if let model = LibcModel(rawValue: arg.value) { libc = model }
                else { diagnostics.append(.unsupportedOption(arg.description, reason: "expected native or portable")) }
            case DriverOptions.ftimeReport:
                timeReport = true
                frontendArguments.append(arg.description)
            case DriverOptions.fcfProtection: protectionFlags.cfProtection(nil, argument: arg.description)
            case DriverOptions.fcfProtectionEq: protectionFlags.cfProtection(arg.value, argument: arg.description)
            case DriverOptions.mbranchProtection: protectionFlags.branchProtection(arg.value, argument: arg.description)
            case DriverOptions.nostdinc: searchMuslHeaders = false; searchCompilerHeaders = false
            case DriverOptions.nostdlibinc: searchMuslHeaders = false
            case DriverOptions.nobuiltininc: searchCompilerHeaders = false
            case DriverOptions.language:
                switch arg.value {
                case "none": languageOverride = nil
                case "c": languageOverride = .c
                case "cpp-output": languageOverride = .preprocessedC
                default: diagnostics.append(.unsupportedLanguage(arg.value))
                }
            case DriverOptions.depsM, DriverOptions.depsMM:
                dependencies.kind = .ruleOnly
                dependencies.includeSystemHeaders = option == DriverOptions.depsM
            case DriverOptions.depsMD, DriverOptions.depsMMD:
                if dependencies.kind != .ruleOnly {
                    dependencies.kind = .sideFile
                    dependencies.includeSystemHeaders = option == DriverOptions.depsMD
                }
            case DriverOptions.depsMF: dependencies.file = arg.value
            case DriverOptions.depsMT, DriverOptions.depsMQ: dependencies.targets.append(arg.rendered)
            case DriverOptions.verbose: verbose = true
            case DriverOptions.printJobs: printJobsOnly = true
            case DriverOptions.help, DriverOptions.helpShort: immediateActions.append(.help)
            case DriverOptions.version: immediateActions.append(.version)
            case DriverOptions.dumpMachine: immediateActions.append(.dumpMachine)
            case DriverOptions.dumpVersion: immediateActions.append(.dumpVersion)
            case DriverOptions.printProgName: immediateActions.append(.printProgramName(arg.value))
            case DriverOptions.printFileName: immediateActions.append(.printFileName(arg.value))
            case DriverOptions.printSearchDirs: immediateActions.append(.printSearchDirectories)
            case DriverOptions.printLibgccFileName: immediateActions.append(.printLibgccFileName)
            case DriverOptions.printMultiOSDirectory: immediateActions.append(.printMultiOSDirectory)
            case DriverOptions.printMultiDirectory: immediateActions.append(.printMultiDirectory)
            case DriverOptions.printMultiLib: immediateActions.append(.printMultiLib)
            case DriverOptions.printResourceDir: immediateActions.append(.printResourceDirectory)
            case DriverOptions.printRuntimeDir: immediateActions.append(.printRuntimeDirectory)
            case DriverOptions.printTargetTriple, DriverOptions.printEffectiveTriple:
                immediateActions.append(.printTargetTriple)
            default:
                // Every driver-destined table entry is handled above; a new one must be too.
                assertionFailure("unhandled driver option \(option.spelling)")
            }
        }

        protection = protectionFlags.protection
        diagnostics += protectionFlags.diagnostics

        if sawPreprocess || dependencies.kind == .ruleOnly { mode = .preprocess }
        else if sawSyntaxOnly { mode = .syntaxOnly }
        else if sawAssemble { mode = .assemble }
        else if sawCompile { mode = .compile }
        else { mode = .link }

        if mode != .link {
            for input in inputs where !input.type.isCompiled { diagnostics.append(.linkerInputUnused(input.path)) }
            for library in unusedLinkInputs { diagnostics.append(.linkerInputUnused(library)) }
            for arg in unusedLinkArguments { diagnostics.append(.argumentUnused(arg)) }
            if outputPath != nil && mode != .syntaxOnly && compiledInputs.count > 1 {
                diagnostics.append(.multipleOutputsWithOutputFile)
            }
        }
        // `popcorn-cc -v` alone prints the version, like clang; inputs that were named but all
        // dropped (missing, refused) still end in "no input files", like clang.
        if immediateActions.isEmpty && inputs.isEmpty && (anyInputNamed || !(verbose || printJobsOnly)) {
            diagnostics.append(.noInputFiles)
        }
    }

    /// True when the command only asks for version information (`popcorn-cc -v`).
    public var isVersionQueryOnly: Bool {
        inputs.isEmpty && immediateActions.isEmpty && (verbose || printJobsOnly) && !hasErrors
    }

    private mutating func setOptimization(_ value: String) {
        let level: String?
        switch value {
        case "": level = "1"
        case "0", "1", "2", "3", "s", "z": level = value
        case "g": level = "1"
        case "fast": level = "3"
        default: level = Int(value).map { $0 > 3 ? "3" : String($0) }
        }
        guard let level else {
            diagnostics.append(.invalidOptimizationLevel("-O" + value)); return
        }
        backendOptimization = level
        frontendOptimization = value.isEmpty ? "-O1" : "-O" + value
    }

    private mutating func addDebug(_ value: String) {
        switch value {
        case "0", "gdb0": debugArguments = []
        default: debugArguments.append("-g" + value)
        }
    }
}
