import CLLVM
import PopcornSupport

/// One step of the IR pipeline: a transformation of a whole module.
///
/// popcorn-cc's passes are declared in order in two lists — `PortablePasses` (once, on the
/// portable module) and `LoweringPasses` (on each ISA's copy) — and run by `PassPipeline`, which
/// times each one for `-ftime-report`. A pass sees the module and its own configuration only:
/// what one pass leaves for a later one travels in the IR (sections, attributes, intrinsics),
/// never through another pass's helpers.
protocol ModulePass {
    /// The pass's name in `-ftime-report`.
    var name: String { get }
    /// Whether the pass runs on `module` as it is when its turn comes.
    func applies(to module: LLVMModuleRef) -> Bool
    /// Runs the pass; throws to stop the pipeline (problems in the user's program are reported to
    /// the diagnostics engine first).
    func run(_ module: LLVMModuleRef) throws
}

/// A pass of a declared list: a name, a condition, and the work (usually one pass type's `run`).
struct Pass: ModulePass {
    let name: String
    private let condition: (LLVMModuleRef) -> Bool
    private let body: (LLVMModuleRef) throws -> Void

    init(_ name: String, when condition: @escaping (LLVMModuleRef) -> Bool = { _ in true },
         _ body: @escaping (LLVMModuleRef) throws -> Void) {
        self.name = name
        self.condition = condition
        self.body = body
    }

    func applies(to module: LLVMModuleRef) -> Bool { condition(module) }
    func run(_ module: LLVMModuleRef) throws { try body(module) }
}

/// Runs a declared list of passes in order, each timed when a timer is given.
struct PassPipeline {
    let passes: [any ModulePass]
    /// Put before every pass name in the report (the ISA, for the lowering lists).
    var prefix = ""

    /// Runs every pass that applies when its turn comes.
    func run(on module: LLVMModuleRef, timer: PassTimer?) throws {
        for pass in passes where pass.applies(to: module) {
            if let timer {
                try timer.measure(prefix + pass.name) { try pass.run(module) }
            } else {
                try pass.run(module)
            }
        }
    }
}
