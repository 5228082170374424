import PopcornSupport

/// Turns a `DriverInvocation` into the list of `Job`s that carry it out, in execution order.
///
/// Planning is pure: it names temporaries inside `temporaryDirectory` but creates nothing, so
/// `-###` and the tests see exactly what would run.
public struct JobPlanner: Sendable {
    public let invocation: DriverInvocation
    public let tools: DriverTools
    /// Private directory for intermediate files (unique per run, so `make -j` is safe).
    public let temporaryDirectory: String

    public init(invocation: DriverInvocation, tools: DriverTools, temporaryDirectory: String) {
        self.invocation = invocation
        self.tools = tools
        self.temporaryDirectory = temporaryDirectory
    }

    public func plan() throws -> [Job] {
        var jobs: [Job] = []
        var linkArguments: [String] = []
        var linkInputs: [String] = []
        for (ordinal, item) in invocation.linkItems.enumerated() {
            switch item {
            case let .arguments(args):
                linkArguments += args
            case let .input(input) where !input.type.isCompiled:
                linkArguments.append(input.path)
                linkInputs.append(input.path)
            case let .input(input):
                jobs += inputJobs(for: input, ordinal: ordinal)
                if invocation.mode == .link {
                    let object = intermediate(for: input, ordinal: ordinal, extension: "o")
                    linkArguments.append(object)
                    linkInputs.append(object)
                }
            }
        }
        if invocation.mode == .link {
            guard let linker = tools.popcornLD else {
                throw ProcessError.notFound(tool: "popcorn-ld", package: nil)
            }
            let output = invocation.outputPath ?? "a.out"
            jobs.append(Job(kind: .link, tool: linker,
                            arguments: ["-o", output] + (invocation.libc == .default ? [] : [invocation.libc.option])
                                + linkArguments + (invocation.verbose ? ["-v"] : []),
                            inputs: linkInputs, outputs: [output]))
        }
        return jobs
    }

    // MARK: Per-input jobs

    private func inputJobs(for input: InputFile, ordinal: Int) -> [Job] {
        switch invocation.mode {
        case .preprocess:
            return [preprocessJob(for: input, ordinal: ordinal)]
        case .syntaxOnly:
            var staged: [Job.StagedOutput] = []
            let args = frontendBase + dependencyArguments(for: input, ordinal: ordinal, staged: &staged)
                + ["-fsyntax-only"] + sourceArguments(input)
            return [Job(kind: .syntaxCheck, tool: tools.clang, arguments: args, inputs: [input.path],
                        outputs: [], stagedOutputs: staged)]
        case .assemble, .compile, .link:
            let bitcode = intermediate(for: input, ordinal: ordinal, extension: "bc")
            var staged: [Job.StagedOutput] = []
            let args = frontendBase + dependencyArguments(for: input, ordinal: ordinal, staged: &staged)
                + ["-emit-llvm", "-c", "-o", bitcode] + sourceArguments(input)
            let frontend = Job(kind: .frontend, tool: tools.clang, arguments: args, inputs: [input.path],
                               outputs: [bitcode], stagedOutputs: staged)
            return [frontend, backendJob(for: input, bitcode: bitcode, ordinal: ordinal)]
        }
    }

    private func preprocessJob(for input: InputFile, ordinal: Int) -> Job {
        var staged: [Job.StagedOutput] = []
        var args = frontendBase + dependencyArguments(for: input, ordinal: ordinal, staged: &staged) + ["-E"]
        // With -M/-MM the rule is the output (handled by dependencyArguments); clang then
        // writes no preprocessed text, so it gets no -o.
        if invocation.dependencies.kind != .ruleOnly, let output = invocation.outputPath, output != "-" {
            let temporary = temporaryFile(input, ordinal: ordinal, extension: "i")
            args += ["-o", temporary]
            staged.append(.init(temporary: temporary, destination: output))
        }
        args += sourceArguments(input)
        return Job(kind: .preprocess, tool: tools.clang, arguments: args, inputs: [input.path],
                   outputs: staged.map(\.destination), stagedOutputs: staged)
    }

    private func backendJob(for input: InputFile, bitcode: String, ordinal: Int) -> Job {
        let emit: String
        let output: String
        var outputs: [String]
        switch invocation.mode {
        case .assemble:
            emit = invocation.emitLLVM ? "-emit-llvm" : "-emit-asm"
            output = invocation.outputPath ?? input.stem + (invocation.emitLLVM ? ".ll" : ".s")
            outputs = [output]
            if !invocation.emitLLVM && output != "-" { outputs += ISA.foreign.map { "\(output).\($0.rawValue)" } }
        case .compile:
            emit = invocation.emitLLVM ? "-emit-llvm-bc" : "-emit-obj"
            output = invocation.outputPath ?? input.stem + (invocation.emitLLVM ? ".bc" : ".o")
            outputs = [output]
        default:
            emit = "-emit-obj"
            output = intermediate(for: input, ordinal: ordinal, extension: "o")
            outputs = [output]
        }
        let args = BackendCommand(bitcode: bitcode, output: output, emit: emit,
                                  optimization: invocation.backendOptimization, source: input.path,
                                  keepDebugInfo: invocation.keepDebugInfo,
                                  migration: invocation.migrationPolicy,
                                  protection: invocation.protection, libc: invocation.libc,
                                  timeReport: invocation.timeReport).arguments
        return Job(kind: .backend, tool: tools.popcornCC, arguments: args, inputs: [bitcode], outputs: outputs)
    }

    // MARK: Arguments

    /// What every clang job gets: the shared target, code generation settings the alignment
    /// relies on, the user's arguments, then our header directories in place of the host's.
    /// The header directories come last so a user's `-isystem` is searched before musl, as
    /// with clang, where the default system directories follow every `-isystem`.
    var frontendBase: [String] {
        // The aarch64 view without its SIMD extension: NEON intrinsics exist on one ISA only, so
        // programs that test __ARM_NEON (zstd, xxHash, many codecs) take their portable C paths.
        var args = ["--target=\(DriverTools.frontendTriple)", "-nostdinc", "-D__popcorn__=1",
                    "-U__ARM_NEON", "-U__ARM_NEON_FP",
                    // No contraction left to the back ends: the aarch64 one fuses llvm.fmuladd into
                    // one rounding, the x86_64 one does not, so `a * b + c` gave different bits on
                    // each ISA and a moved run printed neither's results. A user's -ffp-contract=
                    // comes later and wins (ISA-dependent results, documented).
                    "-ffp-contract=off",
                    // Atomics as instructions on aarch64, not calls into libgcc's outline helpers:
                    // those bring a constructor (lse-init.o) into the aarch64 link only, which
                    // shifts .init_array and every symbol after it against x86_64.
                    "-mno-outline-atomics",
                    "-fno-pic", "-fno-pie", "-ffunction-sections", "-fdata-sections", "-fno-common",
                    invocation.frontendOptimization]
        // Line tables are always produced so back-end diagnostics can name source lines; the
        // back end drops them again unless the user asked for debug information.
        args += invocation.debugArguments.isEmpty ? ["-gline-tables-only"] : invocation.debugArguments
        args += invocation.frontendArguments
        args += ["-isystem", tools.popcornIncludeDirectory]
        if invocation.searchMuslHeaders { args += ["-isystem", ISA.aarch64.muslIncludeDir] }
        if invocation.searchCompilerHeaders { args += ["-isystem", tools.resourceDirectory + "/include"] }
        // -v also makes clang show its header search list, which is what users look for.
        return args + (invocation.verbose ? ["-v"] : [])
    }

    private func sourceArguments(_ input: InputFile) -> [String] {
        ["-x", input.type.clangLanguage ?? "c", input.path]
    }

    /// `-M…` arguments for clang: the kind, the target (the user-visible output unless the user
    /// named one), and where the rule goes (a staged temporary, or standard output).
    private func dependencyArguments(for input: InputFile, ordinal: Int, staged: inout [Job.StagedOutput]) -> [String] {
        let deps = invocation.dependencies
        guard let flag = deps.clangFlag else { return [] }
        var args = [flag]
        if deps.targets.isEmpty {
            args += ["-MQ", deps.defaultTarget(input: input, userOutput: invocation.outputPath)]
        } else {
            args += deps.targets.flatMap { $0 }
        }
        let destination: String?
        switch deps.kind {
        case .ruleOnly: destination = deps.file ?? invocation.outputPath
        case .sideFile: destination = deps.file ?? deps.defaultSideFile(input: input, userOutput: invocation.outputPath)
        case .none: destination = nil
        }
        if let destination {
            if destination == "-" {
                args += ["-MF", "-"]
            } else {
                let temporary = temporaryFile(input, ordinal: ordinal, extension: "d")
                args += ["-MF", temporary]
                staged.append(.init(temporary: temporary, destination: destination))
            }
        }
        return args
    }

    // MARK: File names

    /// A private temporary: `<tmp>/<stem>-<ordinal>.<ext>` (the ordinal keeps `a/x.c` and
    /// `b/x.c` apart).
    private func temporaryFile(_ input: InputFile, ordinal: Int, extension ext: String) -> String {
        // Temporaries are passed to clang and popcorn-ld, which take UTF-8 strings: bytes of the
        // input's name that are not UTF-8 become `_` (the ordinal keeps the names unique).
        let stem = Path.isUTF8(input.stem) ? input.stem
            : String(String.UnicodeScalarView(input.stem.unicodeScalars.map { Path.isUTF8(String($0)) ? $0 : "_" }))
        return "\(temporaryDirectory)/\(stem)-\(ordinal).\(ext)"
    }

    /// An intermediate file (bitcode, or an object about to be linked): a temporary, or with
    /// `-save-temps` a kept file named like clang names it.
    private func intermediate(for input: InputFile, ordinal: Int, extension ext: String) -> String {
        switch invocation.saveTemps {
        case nil:
            return temporaryFile(input, ordinal: ordinal, extension: ext)
        case .cwd?:
            return "\(input.stem).\(ext)"
        case .obj?:
            guard let output = invocation.outputPath, output.contains("/") else { return "\(input.stem).\(ext)" }
            let dir = output[..<output.lastIndex(of: "/")!]
            return "\(dir)/\(input.stem).\(ext)"
        }
    }
}
