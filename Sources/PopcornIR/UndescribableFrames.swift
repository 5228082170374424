import CLLVM
import PopcornSupport

/// Portable pass (before migration points and stackmaps): finds functions whose frames the
/// stack-transformation metadata cannot describe and excludes them from migration, with a
/// `file:line: warning:` naming the construct.
///
/// Dynamically sized stack allocations (variable-length arrays, `alloca()`) are no longer among
/// them: `ObjectStack`, which runs first, puts them on the object stack, so the native frame has a
/// fixed size. A dynamic allocation left at this point would be a bug of that pass, so the check
/// stays, with its warning.
///
/// A variadic function that calls `va_start` is excluded, silently (it is an ordinary
/// construct, not a mistake worth a warning): its `va_list` holds pointers into its own register
/// save area and into its caller's outgoing arguments. The backend fills the save area in the
/// prologue and nothing describes it, and a `va_list` is an opaque byte copy for the
/// transformation, so after a rewrite the list would point into the old stack (seen in Lua's
/// `lua_pushfstring` → `luaO_pushvfstring`). With the function excluded, a migration requested
/// while the list can be in use — the variadic function, or anything it passed the list to, is
/// running — waits until the function has returned.
struct UndescribableFrames {
    /// The function attribute that marks a function as excluded from migration.
    static let attribute = "popcorn-no-migration"

    let locator: SourceLocator
    let diagnostics: DiagnosticsEngine

    /// Marks and reports the functions; returns how many were excluded.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        var excluded = 0
        for function in IR.functions(of: module) where MigrationPoints.instrumentable(function) {
            if Self.startsVariableArguments(function) {
                Self.exclude(function)
                excluded += 1
                continue
            }
            guard let alloca = Self.dynamicAlloca(in: function) else { continue }
            let name = IR.name(of: function)
            diagnostics.warning("variable-length array or alloca() in '\(name)' cannot be described for "
                                + "migration; '\(name)' is compiled without migration points",
                                at: locator.location(of: alloca))
            Self.exclude(function)
            excluded += 1
        }
        return excluded
    }

    /// Whether a function was excluded from migration by this pass.
    static func isExcluded(_ function: LLVMValueRef) -> Bool {
        let kind = Self.attribute
        return LLVMGetStringAttributeAtIndex(function, LLVMAttributeIndex(bitPattern: -1), kind, UInt32(kind.utf8.count)) != nil
    }

    static func exclude(_ function: LLVMValueRef) {
        let context = LLVMGetModuleContext(LLVMGetGlobalParent(function))
        let kind = Self.attribute
        let attribute = LLVMCreateStringAttribute(context, kind, UInt32(kind.utf8.count), "", 0)
        LLVMAddAttributeAtIndex(function, LLVMAttributeIndex(bitPattern: -1), attribute)
    }

    /// Whether `function` calls `llvm.va_start` (its own variable arguments).
    static func startsVariableArguments(_ function: LLVMValueRef) -> Bool {
        IR.instructions(of: function).contains { instruction in
            guard LLVMIsACallInst(instruction) != nil, let name = IR.calleeName(of: instruction) else { return false }
            return name == "llvm.va_start" || name.hasPrefix("llvm.va_start.")
        }
    }

    /// An alloca whose size is not a constant, or that is not in the entry block (so the backend
    /// cannot give it a fixed frame slot).
    static func dynamicAlloca(in function: LLVMValueRef) -> LLVMValueRef? {
        let entry = LLVMGetEntryBasicBlock(function)
        for instruction in IR.instructions(of: function) where LLVMIsAAllocaInst(instruction) != nil {
            let count = LLVMGetOperand(instruction, 0)!
            if LLVMIsAConstantInt(count) == nil || LLVMGetInstructionParent(instruction) != entry {
                return instruction
            }
        }
        return nil
    }
}
