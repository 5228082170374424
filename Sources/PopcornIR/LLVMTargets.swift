import CLLVM

/// One-time registration of the LLVM targets the toolchain lowers to.
///
/// LLVM's target registry is process-global and its initialisers are not meant to race, so
/// every entry point that needs a target goes through `initialize()`, which runs them once.
public enum LLVMTargets {
    private static let registered: Bool = {
        LLVMInitializeX86TargetInfo()
        LLVMInitializeX86Target()
        LLVMInitializeX86TargetMC()
        LLVMInitializeX86AsmPrinter()
        LLVMInitializeX86AsmParser()
        LLVMInitializeAArch64TargetInfo()
        LLVMInitializeAArch64Target()
        LLVMInitializeAArch64TargetMC()
        LLVMInitializeAArch64AsmPrinter()
        LLVMInitializeAArch64AsmParser()
        return true
    }()

    /// Registers the x86_64 and aarch64 targets (idempotent, thread-safe).
    public static func initialize() {
        _ = registered
    }
}
