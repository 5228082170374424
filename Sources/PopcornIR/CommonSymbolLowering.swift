import CLLVM

/// Pass 2a, second part (after `SymbolNaming`, before `SectionAssignment`): turns common globals
/// (`-fcommon` tentative definitions) into weak definitions.
///
/// Pre: the frontend's module; with `-fcommon`, a tentative definition such as `int shared;` is
/// a `common` global (zero-initialised, no section). Post: no global has common linkage; each
/// former common global is a zero-initialised `weak` definition, so that `SectionAssignment`
/// (which must run after this pass) gives it the section `.bss.<name>` like any other global.
///
/// Why: ELF common symbols live in no input section (`SHN_COMMON`); lld allocates them itself,
/// so the aligning linker could not place them one by one at the same address on every ISA,
/// and an object with a section of its own is what it aligns. A weak definition in its own
/// section keeps what `-fcommon` promises: any number of files may define the symbol
/// tentatively, one object is shared by all of them, and a real (strong) definition elsewhere
/// wins. ld.lld keeps the first weak definition in link order; objects are linked in the same
/// order on every ISA, so it is the same copy everywhere. lld would give a common symbol the
/// largest size and alignment of all its definitions, and a weak one gets the first one's: the
/// layout widens that copy's slot to the largest size and alignment of the discarded copies
/// (`TentativeDefinitionSizing` in PopcornLinker).
struct CommonSymbolLowering {
    /// Lowers the module's common globals; returns how many there were.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        var lowered = 0
        for global in IR.globals(of: module) where LLVMGetLinkage(global) == LLVMCommonLinkage {
            LLVMSetLinkage(global, LLVMWeakAnyLinkage)
            lowered += 1
        }
        return lowered
    }
}
