import PopcornSupport

/// Optimisation level as spelled after `-O`.
public enum OptimizationLevel: String, Sendable {
    case o0 = "0", o1 = "1", o2 = "2", o3 = "3", os = "s", oz = "z"
}

/// What `Backend.run` produces.
public enum BackendOutput: Sendable {
    /// One ELF relocatable object per ISA.
    case object
    /// One assembly listing per ISA.
    case assembly
    /// The portable module after the popcorn passes, as textual IR.
    case llvmIR
    /// The portable module after the popcorn passes, as bitcode.
    case bitcode
}

/// Everything the backend needs for one translation unit.
public struct BackendRequest: Sendable {
    /// The frontend's output.
    public var bitcodePath: String
    /// The user's source file, for diagnostics when debug locations are missing.
    public var sourcePath: String
    public var optimization: OptimizationLevel
    public var output: BackendOutput
    /// The ISAs to lower for (all of them by default).
    public var isas: [ISA]
    /// The user asked for `-g`; otherwise the line tables added for diagnostics are stripped.
    public var keepDebugInfo: Bool
    /// Where automatic migration points go (`-fpopcorn-migration=`). The default, `.none`,
    /// keeps programs independent of the migration runtime (stackmaps are still emitted);
    /// popcorn-cc asks for `.entry` unless told otherwise.
    public var migrationPolicy: MigrationPolicy
    /// `-fcf-protection`/`-mbranch-protection`, applied per ISA while lowering.
    public var protection: ControlFlowProtection
    /// `-fpopcorn-libc=`: the C library the code is linked against.
    public var libc: LibcModel
    /// Whether eligible instrumented calls become statepoints carrying their live values in
    /// registers (`StackMaps.statepoints`); off in popcorn-cc's builds.
    public var statepoints = false

    public init(bitcodePath: String, sourcePath: String, optimization: OptimizationLevel,
                output: BackendOutput, isas: [ISA] = ISA.allCases, keepDebugInfo: Bool,
                migrationPolicy: MigrationPolicy = .none, protection: ControlFlowProtection = .none,
                libc: LibcModel = .native) {
        self.libc = libc
        self.protection = protection
        self.bitcodePath = bitcodePath
        self.sourcePath = sourcePath
        self.optimization = optimization
        self.output = output
        self.isas = isas
        self.keepDebugInfo = keepDebugInfo
        self.migrationPolicy = migrationPolicy
    }
}
