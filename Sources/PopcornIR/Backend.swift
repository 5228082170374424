import CLLVM
import Foundation
import PopcornSupport

/// The popcorn backend: portable passes on the frontend's module, then lowering for each ISA.
public enum Backend {
    /// Runs the popcorn passes and lowers for each ISA. `.object`/`.assembly`: one entry per ISA.
    /// `.llvmIR`/`.bitcode`: one entry keyed `ISA.host` holding the portable module after the passes.
    /// Unsupported constructs are reported to `diagnostics` as `file:line: error: …` (line from debug
    /// locations; function name when there is none) and then `BackendError` is thrown. With a
    /// `timer`, every pass and each ISA's code generation is timed (`-ftime-report`).
    public static func run(_ request: BackendRequest, diagnostics: DiagnosticsEngine, timer: PassTimer? = nil) throws -> [ISA: Data] {
        LLVMTargets.initialize()
        let portable = try portableModule(request, diagnostics: diagnostics, timer: timer)
        switch request.output {
        case .llvmIR:
            return [ISA.host: Data(portable.text.utf8)]
        case .bitcode:
            return [ISA.host: portable.bitcode()]
        case .object, .assembly:
            // A function whose statepoints carry something their records do not name, on any ISA,
            // is instrumented again with stackmaps and slots only, on every ISA (the records must
            // be the same on all): the portable passes run again from the frontend's module. Each
            // round removes functions from the statepoint form, so it ends.
            // A spill slot still live across a stackmap's call after the strict re-emission
            // (`lowerOne`) is not refused here: it is what builds before the slot check produced,
            // and refusing it (or compiling the function without points) stopped the portable C
            // library's build and the moves of zstd (docs/HAZARDS.md H3, "Spill slots").
            var slotOnly: Set<String> = []
            var bitcode = portable.bitcode()
            while true {
                let lowered = try lowerChecked(bitcode, name: request.sourcePath, isas: request.isas,
                                               optimization: request.optimization, assembly: request.output == .assembly,
                                               protection: request.protection, libc: request.libc, timer: timer)
                let fallback = lowered.hiddenAcrossStatepoints.subtracting(slotOnly)
                if lowered.hiddenAcrossStatepoints.isEmpty { return lowered.outputs }
                guard !fallback.isEmpty else {
                    throw BackendError.codeGeneration(isa: "portable", reason: "statepoints remain in '\(lowered.hiddenAcrossStatepoints.sorted()[0])' after it was instrumented with stackmaps only")
                }
                slotOnly.formUnion(fallback)
                bitcode = try portableModule(request, slotOnly: slotOnly, diagnostics: diagnostics, timer: timer).bitcode()
            }
        }
    }

    /// The portable passes (`PortablePasses`, in their declared order) on `module`.
    /// The frontend's module of `request` after the portable passes.
    static func portableModule(_ request: BackendRequest, slotOnly: Set<String> = [],
                               diagnostics: DiagnosticsEngine, timer: PassTimer?) throws -> IRModule {
        let module: IRModule
        do {
            module = try IRModule(bitcodeFile: request.bitcodePath)
        } catch let error as IRError {
            throw BackendError(error, isa: "portable")
        }
        try preparePortable(module, sourcePath: request.sourcePath, keepDebugInfo: request.keepDebugInfo,
                            migration: request.migrationPolicy, libc: request.libc, statepoints: request.statepoints,
                            slotOnly: slotOnly, diagnostics: diagnostics, timer: timer)
        return module
    }

    /// `statepoints`, `slotOnly`: as `StackMaps.statepoints` and `StackMaps.slotOnly`.
    public static func preparePortable(_ module: borrowing IRModule, sourcePath: String, keepDebugInfo: Bool,
                                       migration: MigrationPolicy = .none, libc: LibcModel = .native,
                                       statepoints: Bool = false, slotOnly: Set<String> = [],
                                       diagnostics: DiagnosticsEngine, timer: PassTimer? = nil) throws {
        let passes = PortablePasses(sourcePath: sourcePath, keepDebugInfo: keepDebugInfo, migration: migration,
                                    libc: libc, statepoints: statepoints, slotOnly: slotOnly, diagnostics: diagnostics)
        try PassPipeline(passes: passes.list).run(on: module.ref, timer: timer)
    }

    /// Whether the module contains a stackmap or a (portable) statepoint.
    static func hasStackMaps(_ module: LLVMModuleRef) -> Bool {
        if let stackmap = LLVMGetNamedFunction(module, StackMaps.intrinsic), LLVMGetFirstUse(stackmap) != nil { return true }
        if let carry = LLVMGetNamedFunction(module, Statepoints.carryPlaceholder), LLVMGetFirstUse(carry) != nil { return true }
        return IR.calls(in: module).contains(where: Statepoints.isStatepointCall)
    }

    /// Whether the module calls the migration point slow path anywhere.
    static func hasMigrationPoints(_ module: LLVMModuleRef) -> Bool {
        guard let slow = LLVMGetNamedFunction(module, MigrationPoints.slowPath) else { return false }
        return LLVMGetFirstUse(slow) != nil
    }

    /// Lowers a portable module (as bitcode) for each ISA, in parallel: every ISA gets its own
    /// context and module, so the lowering threads share nothing but the immutable bitcode.
    ///
    /// A statepoint found carrying something its record does not name is an error here: only
    /// `run` can instrument the function again.
    public static func lower(_ bitcode: Data, name: String, isas: [ISA], optimization: OptimizationLevel,
                             assembly: Bool, protection: ControlFlowProtection = .none,
                             libc: LibcModel = .native, timer: PassTimer? = nil) throws -> [ISA: Data] {
        let lowered = try lowerChecked(bitcode, name: name, isas: isas, optimization: optimization, assembly: assembly,
                                       protection: protection, libc: libc, timer: timer)
        if let function = lowered.hiddenAcrossStatepoints.sorted().first {
            throw BackendError.codeGeneration(isa: "portable", reason: "a statepoint of '\(function)' carries state its record does not describe")
        }
        return try lowered.checkedOutputs()
    }

    /// What lowering a module for every ISA produced.
    struct Lowered {
        var outputs: [ISA: Data] = [:]
        /// Functions with a statepoint that code generation found carrying state its record does
        /// not name, on some ISA (`Emission.hiddenAcrossStatepoints`).
        var hiddenAcrossStatepoints: Set<String> = []
        /// Per ISA, functions that keep a spill slot live across a stackmap's call
        /// (`Emission.slotsAcrossStackMaps`).
        var slotsAcrossStackMaps: [ISA: [String: Set<UInt32>]] = [:]

        /// The outputs, once nothing is hidden in a spill slot across a stackmap: no barrier
        /// removes that (the barrier is what makes the allocator spill), so it is an error.
        func checkedOutputs() throws -> [ISA: Data] {
            for (isa, slots) in slotsAcrossStackMaps.sorted(by: { $0.key < $1.key }) {
                guard let function = slots.keys.sorted().first else { continue }
                throw BackendError.codeGeneration(isa: isa.rawValue, reason:
                    "'\(function)' keeps a value in a stack slot across an instrumented call, where no stackmap describes "
                    + "it; its frames could not be moved (-fpopcorn-migration=none compiles the file without migration points)")
            }
            return outputs
        }
    }

    /// `lower`, reporting the statepoints' findings instead of failing on them.
    static func lowerChecked(_ bitcode: Data, name: String, isas: [ISA], optimization: OptimizationLevel,
                             assembly: Bool, protection: ControlFlowProtection = .none,
                             libc: LibcModel = .native, timer: PassTimer? = nil) throws -> Lowered {
        LLVMTargets.initialize()
        let unique = Array(Set(isas)).sorted()
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var lowered = Lowered()
            var errors: [ISA: Error] = [:]
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: unique.count) { index in
            let isa = unique[index]
            do {
                let emission = try lowerOne(bitcode, name: name, isa: isa, optimization: optimization,
                                            assembly: assembly, protection: protection, libc: libc, timer: timer)
                results.lock.withLock {
                    results.lowered.outputs[isa] = emission.output
                    results.lowered.hiddenAcrossStatepoints.formUnion(emission.hiddenAcrossStatepoints)
                    if !emission.slotsAcrossStackMaps.isEmpty { results.lowered.slotsAcrossStackMaps[isa] = emission.slotsAcrossStackMaps }
                }
            } catch {
                results.lock.withLock { results.errors[isa] = error }
            }
        }
        // Report the first ISA's failure in a fixed order, so messages are deterministic.
        if let isa = unique.first(where: { results.errors[$0] != nil }) { throw results.errors[isa]! }
        return results.lowered
    }

    /// Lowers one ISA: copy, per-ISA passes, verification, code generation.
    ///
    /// Every function with stackmaps is first compiled without the callee-saved barrier's clobbers
    /// (the convergent statement alone). Code generation reports every callee-saved register live
    /// right after a stackmap (`Emission.liveAcrossStackMaps`): something the back end carries
    /// across an instrumented call that no record describes. Each function with one is compiled
    /// again with the whole barrier, which leaves none (`nextBarriers`). A function keeping a value
    /// in a spill slot across a stackmap's call is compiled again without the passes seen doing
    /// that (`CodeGenerationAttributes.strictPasses`). The choice for one function does not change
    /// another's code, and the records do not change, so only this ISA is emitted again.
    ///
    /// A finding that means another emission abandons the current one at once (`emit`'s
    /// `abandoning`): the functions after it are not generated, and the next emission starts with
    /// what was learnt. A module with findings costs a second code generation only up to its
    /// first finding, not to its end.
    static func lowerOne(_ bitcode: Data, name: String, isa: ISA, optimization: OptimizationLevel,
                         assembly: Bool, protection: ControlFlowProtection = .none,
                         libc: LibcModel = .native, timer: PassTimer? = nil) throws -> Emission {
        do {
            var barriers: [String: Set<UInt16>]? = nil
            var strict: Set<String> = []
            while true {
                let module = try IRModule(bitcode: bitcode, path: name)
                let current = barriers ?? CalleeSavedBarrier.initialBarriers(in: module.ref)
                CodeGenerationAttributes.markStrict(strict, in: module.ref)
                let settled = strict
                let emission = try emitOne(module, isa: isa, optimization: optimization, assembly: assembly,
                                           protection: protection, libc: libc, narrowedBarriers: current, timer: timer) {
                    Self.forcesAnotherEmission($0, barriers: current, strict: settled)
                }
                let next = try nextBarriers(current, live: emission.liveAcrossStackMaps, isa: isa)
                // Spills in functions whose barrier stays are settled now; a function given the
                // whole barrier is checked again first (the barrier changes what it spills).
                let spilled = Set(emission.slotsAcrossStackMaps.keys).subtracting(emission.liveAcrossStackMaps.keys)
                if next == nil && !emission.abandoned && spilled.isSubset(of: strict) { return emission }
                strict.formUnion(spilled)
                barriers = next ?? current
            }
        } catch let error as IRError {
            throw BackendError(error, isa: isa.rawValue)
        }
    }

    /// Whether `finding`, made in an emission with `barriers` (`nextBarriers`) and the `strict`
    /// functions, means the module is emitted again: a callee-saved register across a call of a
    /// function without the whole barrier yet, or a spill slot in one not yet strict. Findings that
    /// end in an error, and those of statepoints (which the caller settles), do not.
    static func forcesAnotherEmission(_ finding: HiddenStateFinding, barriers: [String: Set<UInt16>],
                                      strict: Set<String>) -> Bool {
        switch finding {
        case .register(let function, _): return barriers[function] != nil
        case .stackSlot(let function, _): return !strict.contains(function)
        case .statepoint: return false
        }
    }

    /// The barriers for the next emission after one with `barriers` (function → the callee-saved
    /// registers its barrier clobbers; a function not listed has the whole barrier) in which the
    /// functions of `live` kept those callee-saved registers live across a stackmap's call: `nil`
    /// when none did, otherwise the same with each of them given the whole barrier. A function that
    /// kept one with the whole barrier already is an error: no barrier removes that.
    static func nextBarriers(_ barriers: [String: Set<UInt16>], live: [String: Set<UInt16>],
                             isa: ISA) throws -> [String: Set<UInt16>]? {
        guard !live.isEmpty else { return nil }
        var next = barriers
        for function in live.keys.sorted() {
            guard next.removeValue(forKey: function) != nil else {
                let known = Dictionary(uniqueKeysWithValues: CalleeSavedBarrier.registers(isa).map { ($0.dwarf, $0.name) })
                let names = live[function]!.sorted().map { known[$0] ?? "DWARF register \($0)" }.joined(separator: ", ")
                throw BackendError.codeGeneration(isa: isa.rawValue, reason:
                    "'\(function)' keeps \(names) across an instrumented call with every callee-saved register clobbered there, "
                    + "where no stackmap describes it; its frames could not be moved (-fpopcorn-migration=none compiles the file "
                    + "without migration points)")
            }
        }
        return next
    }

    /// The per-ISA passes, verification and one code generation of `module`.
    private static func emitOne(_ module: consuming IRModule, isa: ISA, optimization: OptimizationLevel, assembly: Bool,
                                protection: ControlFlowProtection, libc: LibcModel, narrowedBarriers: [String: Set<UInt16>],
                                timer: PassTimer?, abandoning: @escaping (HiddenStateFinding) -> Bool) throws -> Emission {
        // Code with stackmaps is never generated by the -O0 pipeline: its fast register
        // allocator spills a call's result between the call and its stackmap (the record then
        // no longer sits at the return address, and popcorn-ld has to leave the site out).
        // The IR stays as -O0 made it; only instruction selection and register allocation
        // are those of -O1.
        let codeGeneration = optimization == .o0 && hasStackMaps(module.ref) ? .o1 : optimization
        let machine = try TargetMachine(isa: isa, optimization: codeGeneration)
        try LoweringPasses(isa: isa, dataLayout: machine.dataLayout, protection: protection, libc: libc,
                           narrowedBarriers: narrowedBarriers).run(on: module, timer: timer)
        try measure("\(isa.rawValue): verification", timer) { try module.verify() }
        let emission: Emission
        do {
            // Functions with stackmaps skip the passes that could keep hidden state across their
            // calls; the others are generated as plain code is (CodeGenerationAttributes).
            emission = try measure("\(isa.rawValue): code generation", timer) {
                try CodeGenerationAttributes.gate.applying(to: module) {
                    try CodeGenerationAttributes.strictGate.applying(to: module) { try machine.emit(module, assembly: assembly, abandoning: abandoning) }.result
                }.result
            }
        } catch let error as IRError {
            // The handler's message is more specific than the emitter's generic failure.
            if let first = module.diagnostics.errors.first {
                throw BackendError.codeGeneration(isa: isa.rawValue, reason: first)
            }
            throw error
        }
        if let first = module.diagnostics.errors.first {
            throw BackendError.codeGeneration(isa: isa.rawValue, reason: first)
        }
        return emission
    }

    /// `body`, timed under `name` when there is a timer.
    private static func measure<T>(_ name: String, _ timer: PassTimer?, _ body: () throws -> T) rethrows -> T {
        guard let timer else { return try body() }
        return try timer.measure(name, body)
    }
}
