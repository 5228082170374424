import PopcornSupport

/// One step of a compilation, fully described before anything runs: what runs, with which
/// arguments, what it reads and what it produces.
///
/// Every job has a command line that really works, including the in-process back end
/// (`popcorn-cc -cc1popcorn …`), so `-###` and `-v` output can be pasted into a shell.
public struct Job: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// clang `-E` (also `-M`/`-MM`).
        case preprocess
        /// clang `-fsyntax-only`.
        case syntaxCheck = "syntax-check"
        /// clang: C to optimized bitcode, for the aarch64 musl target every ISA shares.
        case frontend
        /// popcorn passes, per-ISA code generation and the multi-ISA container, in-process.
        case backend
        /// popcorn-ld.
        case link
    }

    /// A file the tool writes to a private temporary and the executor moves into place once
    /// the job succeeds, so a failed or interrupted build never leaves a partial file behind.
    public struct StagedOutput: Sendable, Equatable {
        public var temporary: String
        public var destination: String
        public init(temporary: String, destination: String) {
            self.temporary = temporary
            self.destination = destination
        }
    }

    public var kind: Kind
    /// Absolute path of the program (for `.backend`, popcorn-cc itself).
    public var tool: String
    /// `argv[1...]`.
    public var arguments: [String]
    /// Files read; a job whose input was produced by a failed job is skipped.
    public var inputs: [String]
    /// Files produced (temporaries or final outputs).
    public var outputs: [String]
    public var stagedOutputs: [StagedOutput]

    public init(kind: Kind, tool: String, arguments: [String], inputs: [String], outputs: [String],
                stagedOutputs: [StagedOutput] = []) {
        self.kind = kind
        self.tool = tool
        self.arguments = arguments
        self.inputs = inputs
        self.outputs = outputs
        self.stagedOutputs = stagedOutputs
    }

    public var commandLine: [String] { [tool] + arguments }

    /// The command as clang prints it for `-###` and `-v`: a leading space, then every
    /// argument in double quotes.
    public var description: String {
        " " + commandLine.map(ProcessRunner.quote).joined(separator: " ")
    }
}
