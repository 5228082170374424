import CLLVM
import PopcornSupport

/// Portable pass (after `StackMaps`): functions with stackmaps are compiled without the stack
/// protector, with one warning per file.
///
/// A protected frame keeps a canary in an undescribed slot and compares it, before returning, with
/// the thread's guard value (x86_64: `%fs:0x28` in the thread descriptor; aarch64 musl: the global
/// `__stack_chk_guard`). A rebuilt frame has no canary in that slot, and the two ISAs' guards
/// differ, so every protected frame on the stack would abort the program when it returns after a
/// migration. Functions without migration points keep their protection: a migration never happens
/// while one of them is on the stack.
struct StackProtectorRemoval {
    static let attributes = ["ssp", "sspstrong", "sspreq"]
    let diagnostics: DiagnosticsEngine

    /// Removes the attributes; returns the number of functions changed.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let kinds = Self.attributes.map { LLVMGetEnumAttributeKindForName($0, $0.utf8.count) }
        var changed = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) && StackMaps.hasRecords(function) {
            var protected = false
            for kind in kinds where LLVMGetEnumAttributeAtIndex(function, LLVMAttributeIndex.max, kind) != nil {
                LLVMRemoveEnumAttributeAtIndex(function, LLVMAttributeIndex.max, kind)
                protected = true
            }
            if protected { changed += 1 }
        }
        if changed > 0 {
            var length = 0
            let name = String(cString: LLVMGetSourceFileName(module, &length))
            diagnostics.warning("the stack protector is not supported in functions with migration points "
                                + "(a moved frame has no canary); disabled in \(changed) function\(changed == 1 ? "" : "s") of \(name)")
        }
        return changed
    }
}
