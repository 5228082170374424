import CLLVM
import PopcornSupport

/// The per-ISA passes, in order, applied to each ISA's copy of the portable module before code
/// generation (docs/ARCHITECTURE.md, docs/ABI.md).
///
/// Retargets the module to the ISA; keeps the call-site side table in one ISA's object only
/// (`CallSiteTable.carrier`); keeps used call results in their return registers past the
/// stackmaps (`CallResultPin`); after every stackmap, clobbers the callee-saved registers
/// (`CalleeSavedBarrier`, only those `narrowedBarriers` lists in the functions it names); applies the requested
/// control-flow protection where the ISA has it; on aarch64, isolates frame addresses from loads
/// and stores (`FrameAddressIsolation`); on x86_64, lowers `va_start`/`va_copy`, pads variadic
/// calls, and for the native libc translates `long double` at the libc boundary and redirects to
/// the shims; last, turns the portable statepoints into LLVM's (`StatepointLowering`).
public struct LoweringPasses: Sendable {
    public let isa: ISA
    /// The data layout of the ISA's target machine.
    public let dataLayout: String
    /// Hardware control-flow protection to apply where this ISA has it.
    public let protection: ControlFlowProtection
    /// The C library the program links: the libc-boundary fix-ups exist only for the native one.
    public let libc: LibcModel
    /// Functions whose callee-saved barrier clobbers only the registers (DWARF numbers) listed
    /// (`CalleeSavedBarrier.narrowed`).
    public var narrowedBarriers: [String: Set<UInt16>] = [:]

    public init(isa: ISA, dataLayout: String, protection: ControlFlowProtection = .none, libc: LibcModel = .native,
                narrowedBarriers: [String: Set<UInt16>] = [:]) {
        self.isa = isa
        self.dataLayout = dataLayout
        self.protection = protection
        self.libc = libc
        self.narrowedBarriers = narrowedBarriers
    }

    var list: [any ModulePass] {
        let (isa, dataLayout, protection, libc, narrowed) = (isa, dataLayout, protection, libc, narrowedBarriers)
        let x86 = isa == .x86_64
        return [
            Pass("retargeting") { ISARetargeting(isa: isa, dataLayout: dataLayout).run(on: $0) },
            Pass("side-table-removal", when: { _ in isa != CallSiteTable.carrier }) { CallSiteTable.remove(from: $0) },
            Pass("call-result-pinning") { CallResultPin.lower($0, isa: isa) },
            Pass("callee-saved-barrier") { CalleeSavedBarrier(isa: isa, narrowed: narrowed).run(on: $0) },
            Pass("control-flow-protection") { ControlFlowProtectionLowering(isa: isa, protection: protection).run(on: $0) },
            Pass("frame-address-isolation", when: { _ in !x86 }) { FrameAddressIsolation().run(on: $0) },
            Pass("va-list-lowering", when: { _ in x86 }) { VAListLowering().run(on: $0) },
            // Padding must see libc's real names, so it runs before the shim renaming.
            Pass("variadic-call-padding", when: { _ in x86 }) { VariadicCallPadding(libc: libc).run(on: $0) },
            // The portable libc is binary128 and aarch64's C view on every ISA: nothing to translate.
            Pass("long-double-boundary", when: { _ in x86 && libc == .native }) { LongDoubleBoundary().run(on: $0) },
            Pass("abi-shim-redirection", when: { _ in x86 && libc == .native }) { ABIShimRedirection().run(on: $0) },
            // Last: the passes above see the plain calls.
            Pass("statepoint-lowering") { StatepointLowering().run(on: $0) },
        ]
    }

    /// Runs the list on `module` (timed, per pass, when `timer` is given).
    public func run(on module: borrowing IRModule, timer: PassTimer? = nil) throws {
        try PassPipeline(passes: list, prefix: "\(isa.rawValue): ").run(on: module.ref, timer: timer)
    }
}
