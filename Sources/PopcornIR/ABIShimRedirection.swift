import CLLVM

/// x86_64 pass 6: routes calls to libc functions whose ABI differs between the two musl
/// builds to the `__popcorn_abi_<name>` shims of the x86_64 runtime (see `ABIShims`).
///
/// Only declarations are renamed: a program that defines its own `stat` keeps calling it.
struct ABIShimRedirection {
    /// Renames the module's shimmed declarations; returns how many were redirected.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        var redirected = 0
        for function in IR.functions(of: module) where !IR.isDefinition(function) {
            guard let shim = ABIShims.shimName(for: IR.name(of: function)) else { continue }
            if let existing = LLVMGetNamedFunction(module, shim) {
                // The program already refers to the shim by name (e.g. through popcorn.h):
                // merge the two declarations.
                LLVMReplaceAllUsesWith(function, existing)
                LLVMDeleteFunction(function)
            } else {
                IR.setName(function, shim)
            }
            redirected += 1
        }
        return redirected
    }
}
