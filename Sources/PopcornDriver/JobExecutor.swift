import Foundation
import PopcornSupport

/// Runs planned jobs in order: external tools as child processes with the terminal as their
/// output, the back end in-process.
///
/// Like clang, a failure stops only the jobs that depend on it (by input file), so every
/// source file of a multi-file command still gets its diagnostics. Staged outputs are moved
/// into place only after their job succeeded.
public struct JobExecutor {
    public let diagnostics: DiagnosticsEngine
    /// `-v`: print each command before it runs.
    public var verbose: Bool

    public init(diagnostics: DiagnosticsEngine, verbose: Bool = false) {
        self.diagnostics = diagnostics
        self.verbose = verbose
    }

    /// Runs `jobs`; the exit status is that of the first job that failed, or 0.
    public func run(_ jobs: [Job]) -> Int32 {
        var unavailable: Set<String> = []
        var status: Int32 = 0
        for job in jobs {
            if job.inputs.contains(where: unavailable.contains) {
                unavailable.formUnion(job.outputs)
                continue
            }
            if verbose { diagnostics.remark(job.description) }
            var result = execute(job)
            if result == 0 {
                do {
                    for staged in job.stagedOutputs {
                        try AtomicFile.install(staged.temporary, to: staged.destination)
                    }
                } catch {
                    diagnostics.report(error)
                    result = 1
                }
            }
            if result != 0 {
                unavailable.formUnion(job.outputs)
                if status == 0 { status = result }
            }
        }
        return status
    }

    private func execute(_ job: Job) -> Int32 {
        if job.kind == .backend {
            // The command line starts with -cc1popcorn, exactly as printed.
            return BackendCommand.main(Array(job.arguments.dropFirst()), diagnostics: diagnostics)
        }
        do {
            let result = try ProcessRunner.run(job.tool, job.arguments, stdout: .inherit, stderr: .inherit)
            if let signal = result.signal {
                diagnostics.report(ProcessError.signaled(tool: job.tool, signal: signal))
                return 1
            }
            return result.status
        } catch {
            diagnostics.report(error)
            return 1
        }
    }
}
