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
/// Each mechanism is silently absent on the ISA that does not have it, as in a cross build.
struct ControlFlowProtectionLowering {
    let isa: ISA
    let protection: ControlFlowProtection

    func run(on module: LLVMModuleRef) {
        switch isa {
        case .x86_64:
            if protection.indirectBranchTracking { addFlag("cf-protection-branch", to: module) }
        case .aarch64:
            applyAArch64(to: module)
        }
    }

    private func applyAArch64(to module: LLVMModuleRef) {
        let definitions = IR.functions(of: module).filter(IR.isDefinition)
        if protection.branchTargetIdentification {
            addFlag("branch-target-enforcement", to: module)
            for function in definitions { setAttribute("branch-target-enforcement", "", on: function) }
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
