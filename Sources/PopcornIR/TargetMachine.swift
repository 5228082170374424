import CLLVM
import CLLVMCodeGen
import Foundation
import PopcornSupport

/// An owning wrapper over `LLVMTargetMachineRef` configured for one ISA.
///
/// The relocation model is static and the code model small, matching the `-fno-pic -fno-pie`
/// frontend flags: popcorn binaries are linked statically at fixed, aligned addresses.
public struct TargetMachine: ~Copyable {
    let ref: LLVMTargetMachineRef
    /// The ISA this machine generates code for.
    public let isa: ISA

    public init(isa: ISA, optimization: OptimizationLevel) throws {
        LLVMTargets.initialize()
        var target: LLVMTargetRef?
        var message: UnsafeMutablePointer<CChar>?
        if LLVMGetTargetFromTriple(isa.triple, &target, &message) != 0 || target == nil {
            throw IRError.unknownTarget(triple: isa.triple, reason: consumeMessage(message))
        }
        guard let machine = LLVMCreateTargetMachine(target, isa.triple, isa.llvmCPU, isa.llvmFeatures,
                                                    optimization.codeGenLevel, LLVMRelocStatic,
                                                    LLVMCodeModelSmall) else {
            throw IRError.unknownTarget(triple: isa.triple, reason: "LLVMCreateTargetMachine failed")
        }
        self.ref = machine
        self.isa = isa
    }

    deinit { LLVMDisposeTargetMachine(ref) }

    /// The data layout string the backend expects for modules of this ISA.
    public var dataLayout: String {
        let layout = LLVMCreateTargetDataLayout(ref)
        defer { LLVMDisposeTargetData(layout) }
        return consumeMessage(LLVMCopyStringRepOfTargetData(layout))
    }

    /// Lowers `module` to an object file or assembly text in memory, and reports the callee-saved
    /// registers live across any stackmap's call (`Emission.liveAcrossStackMaps`).
    ///
    /// The module must already carry this ISA's triple and data layout. Code generation runs
    /// LLVM's codegen pipeline on the module in place, so callers hand over a module they
    /// no longer need in its current shape. `abandoning` sees each finding as it is made; when it
    /// answers true (the caller will generate the module again anyway), the functions not yet
    /// generated that have no record are cut short (those with records are still checked) and the
    /// emission comes back `abandoned`, without output.
    public func emit(_ module: borrowing IRModule, assembly: Bool,
                     abandoning: ((HiddenStateFinding) -> Bool)? = nil) throws -> Emission {
        final class Findings {
            var live: [String: Set<UInt16>] = [:]
            var slots: [String: Set<UInt32>] = [:]
            var statepoints: Set<String> = []
            let abandoning: ((HiddenStateFinding) -> Bool)?
            init(abandoning: ((HiddenStateFinding) -> Bool)?) { self.abandoning = abandoning }
        }
        let findings = Findings(abandoning: abandoning)
        let handler: PopcornHiddenStateHandler = { context, finding in
            let findings = Unmanaged<Findings>.fromOpaque(context!).takeUnretainedValue()
            let finding = finding!.pointee
            let function = String(cString: finding.function)
            let typed: HiddenStateFinding
            if finding.is_statepoint != 0 {
                findings.statepoints.insert(function)
                typed = .statepoint(function: function)
            } else if Int(finding.kind) == POPCORN_HIDDEN_STACK_SLOT {
                findings.slots[function, default: []].insert(UInt32(finding.number))
                typed = .stackSlot(function: function, slot: UInt32(finding.number))
            } else {
                let dwarf = UInt16(truncatingIfNeeded: finding.number)
                findings.live[function, default: []].insert(dwarf)
                typed = .register(function: function, dwarf: dwarf)
            }
            return findings.abandoning?(typed) == true ? 1 : 0
        }
        var message: UnsafeMutablePointer<CChar>?
        var buffer: LLVMMemoryBufferRef?
        var checked: UInt64 = 0
        var erased: UInt64 = 0
        let kind = assembly ? LLVMAssemblyFile : LLVMObjectFile
        let status = withExtendedLifetime(findings) {
            PopcornEmitCheckingStackMaps(ref, module.ref, kind, handler, Unmanaged.passUnretained(findings).toOpaque(),
                                         &checked, &erased, &message, &buffer)
        }
        if status == 2 {
            return Emission(output: Data(), liveAcrossStackMaps: findings.live, slotsAcrossStackMaps: findings.slots,
                            hiddenAcrossStatepoints: findings.statepoints, stackMapsChecked: Int(checked), abandoned: true,
                            functionsCutShort: Int(erased))
        }
        if status != 0 || buffer == nil {
            throw IRError.emissionFailed(isa: isa.rawValue, reason: consumeMessage(message))
        }
        defer { LLVMDisposeMemoryBuffer(buffer) }
        return Emission(output: Data(bytes: LLVMGetBufferStart(buffer), count: LLVMGetBufferSize(buffer)),
                        liveAcrossStackMaps: findings.live, slotsAcrossStackMaps: findings.slots,
                        hiddenAcrossStatepoints: findings.statepoints, stackMapsChecked: Int(checked))
    }
}

extension ISA {
    /// CPU name for LLVM's target machine and `target-cpu` attributes: the ISA baseline, so
    /// binaries run on any machine of that ISA (and under qemu-user).
    public var llvmCPU: String { self == .x86_64 ? "x86-64" : "generic" }

    /// Feature string for the baseline CPU.
    public var llvmFeatures: String {
        self == .x86_64 ? "+cx8,+fxsr,+mmx,+sse,+sse2,+x87" : "+fp-armv8,+neon,+outline-atomics,+v8a"
    }
}

extension OptimizationLevel {
    /// The backend's code generation level for this optimisation level.
    var codeGenLevel: LLVMCodeGenOptLevel {
        switch self {
        case .o0: return LLVMCodeGenLevelNone
        case .o1: return LLVMCodeGenLevelLess
        case .o2, .os, .oz: return LLVMCodeGenLevelDefault
        case .o3: return LLVMCodeGenLevelAggressive
        }
    }
}
