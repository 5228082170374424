import Foundation
import PopcornSupport

/// popcorn-cc's entry point: parse, interpret, plan, then print or run the plan.
public enum Driver {
    /// The version popcorn-cc reports.
    public static let version = "0.1.0"

    /// Runs popcorn-cc with `arguments` (without argv[0]) and returns the exit status.
    public static func main(arguments: [String]) -> Int32 {
        // Paths in messages and answers go out as the bytes they came in as (`Path`'s
        // lossless decoding of argv), not as replacement characters.
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-cc") { line in
            FileHandle.standardError.write(Data(Path.fileSystemBytes(line + "\n")))
        }
        return run(arguments, diagnostics: diagnostics) { text in
            FileHandle.standardOutput.write(Data(Path.fileSystemBytes(text)))
        }
    }

    /// The command-line arguments (without argv[0]) exactly as the kernel passed them: names
    /// that are not UTF-8 are kept byte for byte (`CommandLine.arguments` would replace them).
    public static func rawArguments() -> [String] {
        (1..<Int(CommandLine.argc)).map { index in
            guard let argument = CommandLine.unsafeArgv[index] else { return "" }
            return Path.decode(UnsafeBufferPointer(start: UnsafeRawPointer(argument)
                .assumingMemoryBound(to: UInt8.self), count: strlen(argument)))
        }
    }

    /// The driver with its output channels injected: `diagnostics` receives errors, `-v` and
    /// `-###` lines (stderr), `standardOutput` the answers to `--help`, `--version`, ….
    public static func run(_ arguments: [String], diagnostics: DiagnosticsEngine,
                           toolchain: Toolchain = Toolchain(),
                           standardOutput: (String) -> Void) -> Int32 {
        // Like clang's -cc1, the back-end mode is recognised only as the first argument.
        if arguments.first == DriverOptions.cc1popcorn.spelling {
            return BackendCommand.main(Array(arguments.dropFirst()), diagnostics: diagnostics)
        }
        do {
            let expanded = try ResponseFileExpander().expand(arguments)
            let parsed = OptionParser(table: DriverOptions.table).parse(expanded)
            parsed.errors.forEach(diagnostics.report)
            let invocation = DriverInvocation(parsed.arguments)
            diagnostics.suppressWarnings = invocation.suppressWarnings
            diagnostics.warningsAsErrors = invocation.warningsAsErrors
            invocation.diagnostics.forEach(diagnostics.report)
            if diagnostics.hasErrors { return 1 }

            if !invocation.immediateActions.isEmpty {
                let answers = ImmediateActions(toolchain: toolchain, libc: invocation.libc)
                for action in invocation.immediateActions {
                    standardOutput(try answers.answer(action))
                }
                return 0
            }
            if invocation.verbose || invocation.printJobsOnly {
                diagnostics.remark(versionText(toolchain).trimmingCharacters(in: .newlines))
            }
            if invocation.inputs.isEmpty { return 0 }

            let tools = try DriverTools.locate(toolchain, needsLinker: invocation.mode == .link)
            let temporaries = try TemporaryDirectory(prefix: "popcorn-cc")
            let jobs = try JobPlanner(invocation: invocation, tools: tools,
                                      temporaryDirectory: temporaries.path).plan()
            if invocation.printJobsOnly {
                jobs.forEach { diagnostics.remark($0.description) }
                return 0
            }
            if temporaries.keep && invocation.verbose {
                diagnostics.remark("keeping temporary files in \(temporaries.path)")
            }
            return withExtendedLifetime(temporaries) {
                JobExecutor(diagnostics: diagnostics, verbose: invocation.verbose).run(jobs)
            }
        } catch {
            diagnostics.report(error)
            return 1
        }
    }

    /// `--version` and the first lines of `-v`/`-###`, in clang's layout.
    public static func versionText(_ toolchain: Toolchain) -> String {
        """
        popcorn-cc version \(version) (clang-19 frontend, LLVM 19 back end)
        Target: \(ISA.host.triple) (code for \(ISA.allCases.map(\.rawValue).joined(separator: ", ")))
        Thread model: posix
        InstalledDir: \(toolchain.binDirectory)

        """
    }
}
