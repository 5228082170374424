import CLLVM
import PopcornSupport

/// Points a copy of the portable module at one ISA: triple, data layout and the per-function
/// CPU attributes the frontend chose for aarch64.
struct ISARetargeting {
    let isa: ISA
    /// The target machine's data layout for `isa`.
    let dataLayout: String

    func run(on module: LLVMModuleRef) {
        LLVMSetTarget(module, isa.triple)
        LLVMSetDataLayout(module, dataLayout)
        let context = LLVMGetModuleContext(module)!
        let functionIndex = LLVMAttributeIndex.max // LLVMAttributeFunctionIndex (~0U)
        // Declarations too: the x86_64 passes turn some declarations into wrapper definitions.
        for function in IR.functions(of: module) {
            // The frontend's aarch64 attributes describe the user's aarch64 target (which may
            // include -march choices); only x86_64 needs them replaced by its baseline.
            let replace = isa != .aarch64
            for (key, value) in [("target-cpu", isa.llvmCPU), ("target-features", isa.llvmFeatures),
                                 ("tune-cpu", "generic")] {
                let existing = LLVMGetStringAttributeAtIndex(function, functionIndex, key, UInt32(key.utf8.count))
                if existing != nil {
                    guard replace else { continue }
                    LLVMRemoveStringAttributeAtIndex(function, functionIndex, key, UInt32(key.utf8.count))
                } else if isa == .aarch64, key == "tune-cpu" {
                    continue
                }
                let attribute = LLVMCreateStringAttribute(context, key, UInt32(key.utf8.count),
                                                          value, UInt32(value.utf8.count))
                LLVMAddAttributeAtIndex(function, functionIndex, attribute)
            }
            if isa == .x86_64 {
                // aarch64-only code-generation switches (pointer authentication, BTI).
                for key in ["sign-return-address", "sign-return-address-key", "branch-target-enforcement",
                            "branch-protection-pauth-lr", "guarded-control-stack"] {
                    LLVMRemoveStringAttributeAtIndex(function, functionIndex, key, UInt32(key.utf8.count))
                }
            }
        }
    }
}
