import CLLVM
import Foundation

/// Captures the diagnostics LLVM reports through a context while a module is lowered.
///
/// Without a handler, LLVM prints backend errors itself and exits the process; the toolchain
/// instead turns them into `BackendError`s that the driver reports like any other error.
final class LLVMDiagnosticCollector {
    private(set) var errors: [String] = []
    private(set) var warnings: [String] = []

    /// Installs the collector on `context`; the collector must outlive the context (`IRModule`
    /// owns both).
    func install(on context: LLVMContextRef) {
        LLVMContextSetDiagnosticHandler(context, { info, opaque in
            guard let info, let opaque else { return }
            let collector = Unmanaged<LLVMDiagnosticCollector>.fromOpaque(opaque).takeUnretainedValue()
            let message = consumeMessage(LLVMGetDiagInfoDescription(info))
            switch LLVMGetDiagInfoSeverity(info) {
            case LLVMDSError: collector.errors.append(message)
            case LLVMDSWarning: collector.warnings.append(message)
            default: break
            }
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}
