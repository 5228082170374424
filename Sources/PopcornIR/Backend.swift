import CLLVM
import Foundation
import PopcornMetadata
import PopcornSupport

/// The popcorn backend: portable passes on the frontend's module, then lowering for each ISA.
public enum Backend {
    /// Runs the popcorn passes and lowers for each ISA. `.object`/`.assembly`: one entry per ISA.
    /// `.llvmIR`/`.bitcode`: one entry keyed `ISA.host` holding the portable module after the passes.
    /// Unsupported constructs are reported to `diagnostics` as `file:line: error: …` (line from debug
    /// locations; function name when there is none) and then `BackendError` is thrown.
    public static func run(_ request: BackendRequest, diagnostics: DiagnosticsEngine) throws -> [ISA: Data] {
        LLVMTargets.initialize()
        let portable: IRModule
        do {
            portable = try IRModule(bitcodeFile: request.bitcodePath)
        } catch let error as IRError {
            throw BackendError(error, isa: "portable")
        }
        try preparePortable(portable, sourcePath: request.sourcePath, keepDebugInfo: request.keepDebugInfo,
                            migration: request.migrationPolicy, libc: request.libc, diagnostics: diagnostics)
        switch request.output {
        case .llvmIR:
            return [ISA.host: Data(portable.text.utf8)]
        case .bitcode:
            return [ISA.host: portable.bitcode()]
        case .object, .assembly:
            return try lower(portable.bitcode(), name: request.sourcePath, isas: request.isas,
                             optimization: request.optimization, assembly: request.output == .assembly,
                             protection: request.protection, libc: request.libc)
        }
    }

    /// The portable passes: removes code behind constant branches (the back ends disagree on it
    /// at -O0), rejects unsupported constructs (throwing after reporting them all),
    /// names anonymous globals, turns `-fcommon` common globals into weak definitions, assigns
    /// sections, turns constructor and destructor lists into `.init_array`/`.fini_array` arrays, strips the diagnostic-only line tables, then
    /// inserts migration points and stackmaps (docs/MIGRATION-POINTS.md), so every ISA lowers
    /// identical IR with identical call-site IDs.
    public static func preparePortable(_ module: borrowing IRModule, sourcePath: String, keepDebugInfo: Bool,
                                       migration: MigrationPolicy = .none, libc: LibcModel = .native,
                                       diagnostics: DiagnosticsEngine) throws {
        DeadBranchRemoval().run(on: module.ref)
        let check = UnsupportedConstructCheck(locator: SourceLocator(sourcePath: sourcePath), diagnostics: diagnostics, libc: libc)
        let errors = check.run(on: module.ref)
        if errors > 0 { throw BackendError.unsupportedConstructs(count: errors) }
        if libc == .native { ShimmedFunctionEntries().run(on: module.ref) }
        SymbolNaming().run(on: module.ref)
        CommonSymbolLowering().run(on: module.ref)
        SectionAssignment().run(on: module.ref)
        // After the section assignment, which leaves the arrays' explicit sections alone.
        StaticConstructorLowering().run(on: module.ref)
        // Also under `none` when the file has explicit points: stackmaps are placed then too.
        if migration != .none || LLVMGetNamedFunction(module.ref, MigrationPoints.explicitPoint).map({ LLVMGetFirstUse($0) != nil }) == true {
            let misplaced = CodeAddressCheck(locator: SourceLocator(sourcePath: sourcePath), diagnostics: diagnostics).run(on: module.ref)
            if misplaced > 0 { throw BackendError.unsupportedConstructs(count: misplaced) }
            ObjectStack().run(on: module.ref)
            UndescribableFrames(locator: SourceLocator(sourcePath: sourcePath), diagnostics: diagnostics).run(on: module.ref)
        }
        MigrationPoints(policy: migration, library: .of(libc)).run(on: module.ref)
        // Without migration points (`none` and no explicit `popcorn_migrate_point()`), this code's
        // frames are not migratable: no stackmaps, no metadata, no slot demotion — an aligned-only
        // build that costs nothing over plain code. A migration requested while such a frame is on
        // the stack is deferred by the runtime.
        if migration != .none || Self.hasMigrationPoints(module.ref) {
            StackMaps(library: .of(libc)).run(on: module.ref)
            SlotAlignment().run(on: module.ref)
            StackProtectorRemoval(diagnostics: diagnostics).run(on: module.ref)
        }
        CodeGenerationAttributes().run(on: module.ref)
        // Last: the line tables were only there so the passes above could name source lines.
        if !keepDebugInfo { module.stripDebugInfo() }
        // The frontend named the module after our temporary bitcode file; users should see their source.
        LLVMSetModuleIdentifier(module.ref, sourcePath, sourcePath.utf8.count)
    }

    /// Whether the module contains a stackmap.
    static func hasStackMaps(_ module: LLVMModuleRef) -> Bool {
        guard let stackmap = LLVMGetNamedFunction(module, StackMaps.intrinsic) else { return false }
        return LLVMGetFirstUse(stackmap) != nil
    }

    /// Whether the module calls the migration point slow path anywhere.
    static func hasMigrationPoints(_ module: LLVMModuleRef) -> Bool {
        guard let slow = LLVMGetNamedFunction(module, MigrationPoints.slowPath) else { return false }
        return LLVMGetFirstUse(slow) != nil
    }

    /// Lowers a portable module (as bitcode) for each ISA, in parallel: every ISA gets its own
    /// context and module, so the lowering threads share nothing but the immutable bitcode.
    public static func lower(_ bitcode: Data, name: String, isas: [ISA], optimization: OptimizationLevel,
                             assembly: Bool, protection: ControlFlowProtection = .none,
                             libc: LibcModel = .native) throws -> [ISA: Data] {
        LLVMTargets.initialize()
        let unique = Array(Set(isas)).sorted()
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var outputs: [ISA: Data] = [:]
            var errors: [ISA: Error] = [:]
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: unique.count) { index in
            let isa = unique[index]
            do {
                let data = try lowerOne(bitcode, name: name, isa: isa, optimization: optimization,
                                        assembly: assembly, protection: protection, libc: libc)
                results.lock.withLock { results.outputs[isa] = data }
            } catch {
                results.lock.withLock { results.errors[isa] = error }
            }
        }
        // Report the first ISA's failure in a fixed order, so messages are deterministic.
        if let isa = unique.first(where: { results.errors[$0] != nil }) { throw results.errors[isa]! }
        return results.outputs
    }

    /// Lowers one ISA: copy, per-ISA passes, verification, code generation.
    ///
    /// Small functions whose only calls are migration points are first compiled without the
    /// callee-saved barrier; those the emitted object shows saving a callee-saved register are
    /// compiled again with it (`CalleeSavedBarrier`, `CalleeSavedRegisterUse`). The other
    /// functions' code does not depend on the choice, so one more emission settles it.
    static func lowerOne(_ bitcode: Data, name: String, isa: ISA, optimization: OptimizationLevel,
                         assembly: Bool, protection: ControlFlowProtection = .none,
                         libc: LibcModel = .native) throws -> Data {
        do {
            var withoutBarrier: Set<String>? = nil
            while true {
                let module = try IRModule(bitcode: bitcode, path: name)
                let candidates = withoutBarrier ?? CalleeSavedBarrier.candidates(in: module.ref)
                let object = try emitOne(module, isa: isa, optimization: optimization, assembly: false, protection: protection,
                                         libc: libc, withoutBarrier: candidates)
                let saving = candidates.isEmpty ? []
                    : try CalleeSavedRegisterUse.functionsSavingRegisters(inObject: object, path: name).intersection(candidates)
                if !saving.isEmpty {
                    withoutBarrier = candidates.subtracting(saving)
                    continue
                }
                guard assembly else { return object }
                return try emitOne(try IRModule(bitcode: bitcode, path: name), isa: isa, optimization: optimization,
                                   assembly: true, protection: protection, libc: libc, withoutBarrier: candidates)
            }
        } catch let error as IRError {
            throw BackendError(error, isa: isa.rawValue)
        } catch let error as MetadataError {
            throw BackendError.codeGeneration(isa: isa.rawValue, reason: "emitted object unreadable: \(error)")
        }
    }

    /// The per-ISA passes, verification and one code generation of `module`.
    private static func emitOne(_ module: consuming IRModule, isa: ISA, optimization: OptimizationLevel, assembly: Bool,
                                protection: ControlFlowProtection, libc: LibcModel, withoutBarrier: Set<String>) throws -> Data {
        // Code with stackmaps is never generated by the -O0 pipeline: its fast register
        // allocator spills a call's result between the call and its stackmap (the record then
        // no longer sits at the return address, and popcorn-ld has to leave the site out).
        // The IR stays as -O0 made it; only instruction selection and register allocation
        // are those of -O1.
        let codeGeneration = optimization == .o0 && hasStackMaps(module.ref) ? .o1 : optimization
        let machine = try TargetMachine(isa: isa, optimization: codeGeneration)
        ISALowering(isa: isa, dataLayout: machine.dataLayout, protection: protection, libc: libc,
                    withoutBarrier: withoutBarrier).run(on: module)
        try module.verify()
        let data: Data
        do {
            data = try machine.emit(module, assembly: assembly)
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
        return data
    }
}
