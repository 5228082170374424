import CLLVM
import PopcornSupport

/// Per-ISA pass: applies `ControlFlowProtection` the way clang's IR would carry it for that
/// ISA, as module flags (which give the object its `.note.gnu.property`) and function
/// attributes (which make the code generator emit landing pads and signing).
///
/// * x86_64, indirect branch tracking: module flag `cf-protection-branch`; the X86 back end
///   then puts `endbr64` at every function entry and indirect-branch target.
/// * aarch64, BTI: module flag and function attribute `branch-target-enforcement` (`bti c`,
///   `bti j` landing pads).
/// * aarch64, return-address signing: attributes `sign-return-address` and
///   `sign-return-address-key` — but only on functions without stackmaps. A function with a
///   stackmap can be on the stack when a migration transforms it, and the runtime then
///   rewrites its saved return address with the other ISA's; a PAC-signed return address
///   cannot be rewritten (the runtime cannot sign for the new frame), so `autiasp` would fault.
///   Functions without stackmaps are never on the stack during a transformation (the runtime
///   defers the migration while one is), so signing them is safe. The `sign-return-address`
///   module flag (PAC in the property note) is set only when every definition is signed.
///
/// Landing pads and calls of `returns_twice` functions (`setjmp`, `sigsetjmp`, `vfork`): a
/// longjmp returns through an indirect branch, so IBT and BTI put a landing pad (`endbr64`,
/// `bti j`) right after such a call — between the call and its stackmap, where the return
/// address must be for the call site to be migratable, and where the runtime maps `jmp_buf`
/// return addresses. Such calls keep their stackmap instead: on aarch64 the functions that make
/// them get no BTI, on x86_64 (where landing pads are per module) a module with one gets no IBT.
/// The property note claims a feature only when every function has it, so the linker — which
/// keeps a feature only when every input has it — never enables it for code that lacks it.
///
/// Each mechanism is silently absent on the ISA that does not have it, as in a cross build.
struct ControlFlowProtectionLowering {
    let isa: ISA
    let protection: ControlFlowProtection

    func run(on module: LLVMModuleRef) {
        switch isa {
        case .x86_64:
            let definitions = IR.functions(of: module).filter(IR.isDefinition)
            if protection.indirectBranchTracking && !definitions.contains(where: Self.callsReturnsTwice) {
                addFlag("cf-protection-branch", to: module)
            }
        case .aarch64:
            applyAArch64(to: module)
        }
    }

    private func applyAArch64(to module: LLVMModuleRef) {
        let definitions = IR.functions(of: module).filter(IR.isDefinition)
        if protection.branchTargetIdentification {
            var everyFunction = true
            for function in definitions {
                if Self.callsReturnsTwice(function) { everyFunction = false; continue }
                setAttribute("branch-target-enforcement", "", on: function)
            }
            if everyFunction { addFlag("branch-target-enforcement", to: module) }
        }
        guard let scope = protection.returnAddressSigning else { return }
        var signedAll = true
        for function in definitions {
            guard !Self.canBeTransformed(function) else { signedAll = false; continue }
            setAttribute("sign-return-address", scope.rawValue, on: function)
            setAttribute("sign-return-address-key", protection.signWithBKey ? "b_key" : "a_key", on: function)
        }
        if signedAll && !definitions.isEmpty {
            addFlag("sign-return-address", to: module)
            if scope == .all { addFlag("sign-return-address-all", to: module) }
            if protection.signWithBKey { addFlag("sign-return-address-with-bkey", to: module) }
        }
    }

    /// Whether a frame of `function` can be on the stack during a stack transformation: it
    /// has a stackmap (every call that can be live at a migration point has one).
    static func canBeTransformed(_ function: LLVMValueRef) -> Bool {
        IR.instructions(of: function).contains { instruction in
            LLVMIsACallInst(instruction) != nil && IR.calleeName(of: instruction) == StackMaps.intrinsic
        }
    }

    /// Whether `function` calls a `returns_twice` function (by call-site or callee attribute).
    static func callsReturnsTwice(_ function: LLVMValueRef) -> Bool {
        let kind = LLVMGetEnumAttributeKindForName("returns_twice", "returns_twice".utf8.count)
        let index = LLVMAttributeIndex.max
        return IR.instructions(of: function).contains { instruction in
            guard LLVMIsACallInst(instruction) != nil else { return false }
            if LLVMGetCallSiteEnumAttribute(instruction, index, kind) != nil { return true }
            guard let callee = IR.calledFunction(of: instruction) else { return false }
            return LLVMGetEnumAttributeAtIndex(callee, index, kind) != nil
        }
    }

    private func addFlag(_ key: String, to module: LLVMModuleRef) {
        let context = LLVMGetModuleContext(module)!
        let one = LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(context), 1, 0))
        // clang uses `Min` (8), which the C API cannot spell; `Override` behaves the same for
        // a module that has the flag once, and the portable module never has it.
        LLVMAddModuleFlag(module, LLVMModuleFlagBehaviorOverride, key, key.utf8.count, one)
    }

    private func setAttribute(_ key: String, _ value: String, on function: LLVMValueRef) {
        let context = LLVMGetModuleContext(LLVMGetGlobalParent(function))!
        let index = LLVMAttributeIndex.max // the function itself
        LLVMRemoveStringAttributeAtIndex(function, index, key, UInt32(key.utf8.count))
        LLVMAddAttributeAtIndex(function, index, LLVMCreateStringAttribute(context, key, UInt32(key.utf8.count),
                                                                          value, UInt32(value.utf8.count)))
    }
}
