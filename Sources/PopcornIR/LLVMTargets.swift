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
        // Machine CSE merges the materialisation of a global's address (aarch64 `adrp`) across
        // blocks, and machine LICM hoists constants and addresses out of loops that contain calls
        // (`mov w19, #0xab`, `adr x20, table`); both keep the result in a callee-saved register
        // across calls, where no stackmap describes it (hidden state, docs/HAZARDS.md, H3; found by
        // the poisoned rewrite mode). Without them every use rematerialises the value next to it.
        // CodeGenPrepare's branch optimisations would fold the default-only switch that ends the
        // block before each `StackMaps` split into a `br` and merge the blocks again, so that a
        // constant or frame address (`leaq -0x170(%rbp), %rbx`) is again materialised once
        // before several calls. aarch64 runs a
        // CFG simplification of its own after atomic expansion that merges those blocks too (a
        // frame address computed once, `add x19, sp, #96`, and used after three calls).
        // Constant hoisting (an IR pass of the code generator, after our passes) moves constants
        // that take several instructions to build into a common dominator, the entry block
        // (aarch64 `mov x19, #1; movk x19, #0x40, lsl #48` in Lua's interpreter loop), and
        // aarch64's constant promotion does the same with loads of vector constants.
        // x86_64's call-frame optimisation pushes stack arguments and pops them after the call
        // (`addq $0x20, %rsp`), which puts an instruction between the call and its stackmap;
        // without it the outgoing-argument area is reserved in the prologue, as on aarch64.
        // aarch64's global merging packs the internal globals of one section into a single object,
        // sorted by size, where x86_64 emits them in module order: the module's local globals share
        // a section (`SectionAssignment`), whose layout must be the same on every ISA.
        let options = ["popcorn-cc", "-disable-machine-cse", "-disable-machine-licm", "-disable-postra-machine-licm",
                       "-disable-cgp-branch-opts", "-aarch64-enable-atomic-cfg-tidy=false",
                       "-disable-constant-hoisting", "-aarch64-enable-promote-const=false", "-aarch64-enable-global-merge=false",
                       "-no-x86-call-frame-opt"]
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
