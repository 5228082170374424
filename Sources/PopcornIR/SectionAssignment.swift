import CLLVM

/// Pass 2b: one explicit section per defined function and global, and no mergeable constants.
///
/// The aligning linker places input sections, so every object it must give the same address on
/// every ISA needs a section of its own, named the same on every ISA. `-ffunction-sections
/// -fdata-sections` already does this in most cases, but the name it picks depends on the
/// backend (e.g. `.rodata.str1.1` for mergeable strings, `.data.rel.ro.` on some targets);
/// making the section explicit in the portable module fixes it for all ISAs. Sections the user
/// chose with `__attribute__((section))` are kept.
struct SectionAssignment {
    /// Assigns sections in `module`; returns how many values got one.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
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
            LLVMSetSection(global, Self.section(for: global))
            assigned += 1
        }
        return assigned
    }

    /// Intrinsic globals (`llvm.used`, `llvm.global_ctors`) and bodies that are never emitted
    /// (`available_externally`) keep what LLVM gives them.
    private func assignable(_ value: LLVMValueRef) -> Bool {
        !IR.name(of: value).hasPrefix("llvm.") && LLVMGetLinkage(value) != LLVMAvailableExternallyLinkage
    }

    /// The section name for a global variable according to its kind.
    static func section(for global: LLVMValueRef) -> String {
        let name = IR.name(of: global)
        let initializer = LLVMGetInitializer(global)
        let zero = initializer.map { LLVMIsNull($0) != 0 } ?? true
        if LLVMIsThreadLocal(global) != 0 { return (zero ? ".tbss." : ".tdata.") + name }
        if LLVMIsGlobalConstant(global) != 0 { return ".rodata." + name }
        return (zero ? ".bss." : ".data.") + name
    }
}
