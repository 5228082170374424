import CLLVM
import CLLVMCodeGen
import Foundation

/// Code generation passes skipped on some functions of a module and run on the others
/// (`CLLVMCodeGen`, over LLVM's `OptPassGate`: the C API has no per-function control, and LLVM's
/// `-disable-…` options hold for every function of every module in the process).
///
/// The gate is installed on the module's own context (`IRModule` gives each module one), so
/// modules lowered on other threads are not affected.
struct PassGate {
    /// The string attribute that marks the functions the passes skip.
    let attribute: String
    /// LLVM's names of the passes (`Pass::getPassName`).
    let passes: [String]

    /// Runs `body` with the gate installed on `module`'s context; returns `body`'s result and how
    /// many times a pass was skipped.
    func applying<T>(to module: borrowing IRModule, _ body: () throws -> T) rethrows -> (result: T, skipped: Int) {
        let names = passes.map { strdup($0) }
        defer { names.forEach { free($0) } }
        let gate = names.map { UnsafePointer<CChar>($0) }.withUnsafeBufferPointer { buffer in
            PopcornPassGateInstall(module.ref, attribute, buffer.baseAddress, buffer.count)!
        }
        defer { PopcornPassGateRemove(gate) }
        let result = try body()
        return (result, Int(PopcornPassGateSkipCount(gate)))
    }
}
