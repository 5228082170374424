import CLLVM
import Foundation

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
        // Machine CSE and LICM, constant hoisting, aarch64's CFG tidy-up after atomic expansion and
        // x86_64's call-frame optimisation are skipped only in functions with stackmaps, by the
        // pass gate of `CodeGenerationAttributes` (docs/HAZARDS.md, H3, H11). What is left here
        // cannot be confined to a function:
        // CodeGenPrepare's branch optimisations would fold the default-only switch that ends the
        // block before each `StackMaps` split into a `br` and merge the blocks again, so that a
        // constant or frame address (`leaq -0x170(%rbp), %rbx`) is again materialised once
        // before several calls; they are part of a pass that every function needs.
        // aarch64's constant promotion (a module pass) turns vector constants into globals of one
        // ISA's object, loaded once and kept in a callee-saved register.
        // aarch64's global merging packs the internal globals of one section into a single object,
        // sorted by size, where x86_64 emits them in module order: the module's local globals share
        // a section (`SectionAssignment`), whose layout must be the same on every ISA.
        // Statepoints (`Statepoints`): the values they carry stay in registers (up to this many per
        // call), callee-saved ones included, rather than all going through stack slots.
        let options = ["popcorn-cc", "-disable-cgp-branch-opts", "-aarch64-enable-promote-const=false",
                       "-aarch64-enable-global-merge=false", "-max-registers-for-gc-values=\(Statepoints.registerLimit)",
                       "-fixup-allow-gcptr-in-csr"]
        var argv = options.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        argv.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                LLVMParseCommandLineOptions(Int32(options.count), $0, nil)
            }
        }
        return true
    }()

    /// Registers the x86_64 and aarch64 targets (idempotent, thread-safe).
    public static func initialize() {
        _ = registered
    }
}
