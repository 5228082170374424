import CLLVM
import PopcornSupport

/// The portable passes, in order: run once on the frontend's module so that every ISA lowers
/// identical IR with identical call-site IDs (docs/ARCHITECTURE.md, "Portable IR passes").
///
/// Removes code behind constant branches (the back ends disagree on it at -O0), rejects
/// unsupported constructs (stopping after reporting them all), names anonymous globals, turns
/// `-fcommon` common globals into weak definitions, assigns sections, turns constructor and
/// destructor lists into `.init_array`/`.fini_array` arrays, then — for migratable code — inserts
/// migration points and stackmaps (docs/MIGRATION-POINTS.md), and finally strips the line tables
/// kept only so the passes could name source lines.
struct PortablePasses {
    let sourcePath: String
    let keepDebugInfo: Bool
    let migration: MigrationPolicy
    let libc: LibcModel
    /// As `StackMaps.statepoints` and `StackMaps.slotOnly`.
    var statepoints = false
    var slotOnly: Set<String> = []
    let diagnostics: DiagnosticsEngine

    var list: [any ModulePass] {
        let locator = SourceLocator(sourcePath: sourcePath)
        let (migration, libc, diagnostics, keepDebugInfo, sourcePath) = (migration, libc, diagnostics, keepDebugInfo, sourcePath)
        let (statepoints, slotOnly) = (statepoints, slotOnly)
        // Migratable code: a policy with automatic points, or explicit ones (`popcorn_migrate_point()`
        // and `popcorn_migrate()` calls).
        let migratable: (LLVMModuleRef) -> Bool = { module in
            migration != .none || MigrationPoints.hasExplicitPoints(module)
        }
        // Without migration points (`none` and no explicit point) this code's frames are not
        // migratable: no stackmaps, no metadata, no slot demotion — an aligned-only build that
        // costs nothing over plain code; a move requested while such a frame is on the stack waits.
        let hasPoints: (LLVMModuleRef) -> Bool = { module in
            migration != .none || Backend.hasMigrationPoints(module)
        }
        return [
            Pass("dead-branch-removal") { DeadBranchRemoval().run(on: $0) },
            Pass("unsupported-construct-check") { module in
                let errors = UnsupportedConstructCheck(locator: locator, diagnostics: diagnostics, libc: libc).run(on: module)
                if errors > 0 { throw BackendError.unsupportedConstructs(count: errors) }
            },
            Pass("shimmed-function-entries", when: { _ in libc == .native }) { ShimmedFunctionEntries().run(on: $0) },
            Pass("symbol-naming") { SymbolNaming().run(on: $0) },
            Pass("common-symbol-lowering") { CommonSymbolLowering().run(on: $0) },
            Pass("section-assignment") { SectionAssignment().run(on: $0) },
            // After the section assignment, which leaves the arrays' explicit sections alone.
            Pass("static-constructor-lowering") { StaticConstructorLowering().run(on: $0) },
            Pass("code-address-check", when: migratable) { module in
                let misplaced = CodeAddressCheck(locator: locator, diagnostics: diagnostics).run(on: module)
                if misplaced > 0 { throw BackendError.unsupportedConstructs(count: misplaced) }
            },
            Pass("object-stack", when: migratable) { module in
                ObjectStack(pointFree: .beforePlacement(in: module, policy: migration, library: .of(libc))).run(on: module)
            },
            Pass("undescribable-frames", when: migratable) {
                UndescribableFrames(locator: locator, diagnostics: diagnostics).run(on: $0)
            },
            Pass("migration-points") { MigrationPoints(policy: migration, library: .of(libc)).run(on: $0) },
            Pass("stackmaps", when: hasPoints) { StackMaps(library: .of(libc), statepoints: statepoints, slotOnly: slotOnly).run(on: $0) },
            Pass("slot-alignment", when: hasPoints) { SlotAlignment().run(on: $0) },
            Pass("stack-protector-removal", when: hasPoints) { StackProtectorRemoval(diagnostics: diagnostics).run(on: $0) },
            Pass("code-generation-attributes") { CodeGenerationAttributes().run(on: $0) },
            // Last: the line tables were only there so the passes above could name source lines.
            Pass("debug-info-stripping", when: { _ in !keepDebugInfo }) { _ = LLVMStripModuleDebugInfo($0) },
            // The frontend named the module after our temporary bitcode file; users should see their source.
            Pass("module-naming") { LLVMSetModuleIdentifier($0, sourcePath, sourcePath.utf8.count) },
        ]
    }
}
