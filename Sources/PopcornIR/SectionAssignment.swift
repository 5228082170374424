import CLLVM

/// Pass 2b: explicit sections for every defined function and global, and no mergeable constants.
///
/// The aligning linker places input sections, so everything it must give the same address on
/// every ISA needs a section named the same on every ISA. `-ffunction-sections -fdata-sections`
/// already does this in most cases, but the name it picks depends on the backend (e.g.
/// `.rodata.str1.1` for mergeable strings, `.data.rel.ro.` on some targets); making the section
/// explicit in the portable module fixes it for all ISAs. Sections the user chose with
/// `__attribute__((section))` are kept.
///
/// * Every function, and every global other ELF objects can refer to or the linker may drop or
///   fold (external, weak, COMDAT), gets a section of its own: a function's size differs per
///   ISA, so the linker pads each one to the larger size; a weak copy is chosen per symbol.
/// * The module's local globals (string literals, `static` variables and tables) share one section
///   per kind: `.rodata.`, `.data.` or `.bss.` followed by `__popcorn.<module hash>.locals`. Their
///   sizes are the same on every ISA (one IR), each gets an explicit alignment here, and a back
///   end emits the globals of a section in module order, so the section's layout is the same on
///   every ISA and one placement aligns all of them. Why: the final link's linker script costs
///   ld.lld time proportional to its section descriptions times the input sections, and string
///   literals alone were nearly half of both (SQLite: 2 511 of 5 338 descriptions).
struct SectionAssignment {
    /// Assigns sections in `module`; returns how many values got one.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let localsName = Self.localsName(moduleHash: SymbolNaming.moduleHash(module))
        let layout = LLVMGetModuleDataLayout(module)
        var assigned = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            guard IR.section(of: function) == nil, assignable(function) else { continue }
            LLVMSetSection(function, ".text.\(IR.name(of: function))")
            assigned += 1
        }
        for global in IR.globals(of: module) where IR.isDefinition(global) {
            guard assignable(global) else { continue }
            // unnamed_addr lets the backend put constants into SHF_MERGE sections, where the
            // linker may fold or move them per ISA; popcorn needs one fixed address for each.
            if LLVMIsGlobalConstant(global) != 0 { LLVMSetUnnamedAddress(global, LLVMNoUnnamedAddr) }
            guard IR.section(of: global) == nil else { continue }
            if Self.isGroupable(global) {
                // Explicit, so that no ISA's back end picks a larger preferred alignment of its own
                // (x86_64 aligns arrays of 16 bytes and more to 16) and moves the globals after it.
                if LLVMGetAlignment(global) == 0 { LLVMSetAlignment(global, LLVMPreferredAlignmentOfGlobal(layout, global)) }
                LLVMSetSection(global, Self.kindPrefix(for: global) + localsName)
            } else {
                LLVMSetSection(global, Self.section(for: global))
            }
            assigned += 1
        }
        return assigned
    }

    /// Intrinsic globals (`llvm.used`, `llvm.global_ctors`) and bodies that are never emitted
    /// (`available_externally`) keep what LLVM gives them.
    private func assignable(_ value: LLVMValueRef) -> Bool {
        !IR.name(of: value).hasPrefix("llvm.") && LLVMGetLinkage(value) != LLVMAvailableExternallyLinkage
    }

    /// The section name for a global variable of its own, according to its kind.
    static func section(for global: LLVMValueRef) -> String {
        kindPrefix(for: global) + IR.name(of: global)
    }

    /// `.tbss.`, `.tdata.`, `.rodata.`, `.bss.` or `.data.`, by the global's kind.
    static func kindPrefix(for global: LLVMValueRef) -> String {
        let initializer = LLVMGetInitializer(global)
        let zero = initializer.map { LLVMIsNull($0) != 0 } ?? true
        if LLVMIsThreadLocal(global) != 0 { return zero ? ".tbss." : ".tdata." }
        if LLVMIsGlobalConstant(global) != 0 { return ".rodata." }
        return zero ? ".bss." : ".data."
    }

    /// What follows the kind in the name of the section the module's local globals share.
    static func localsName(moduleHash: String) -> String {
        "\(SymbolNaming.prefix)\(moduleHash).locals"
    }

    /// A global that only this module refers to and that the linker keeps as it is: local linkage,
    /// no COMDAT, not thread-local (a thread-local's section is its TLS image, kept per symbol).
    static func isGroupable(_ global: LLVMValueRef) -> Bool {
        let linkage = LLVMGetLinkage(global)
        return (linkage == LLVMInternalLinkage || linkage == LLVMPrivateLinkage)
            && LLVMGetComdat(global) == nil && LLVMIsThreadLocal(global) == 0
    }
}
