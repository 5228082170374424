import CLLVM
import PopcornSupport

/// The per-ISA passes applied to a copy of the portable module before code generation.
public struct ISALowering: Sendable {
    public let isa: ISA
    /// The data layout of the ISA's target machine.
    public let dataLayout: String
    /// Hardware control-flow protection to apply where this ISA has it.
    public let protection: ControlFlowProtection
    /// The C library the program links: the libc-boundary fix-ups exist only for the native one.
    public let libc: LibcModel
    /// Functions compiled without the callee-saved barrier (`CalleeSavedBarrier.exempt`).
    public var withoutBarrier: Set<String> = []

    public init(isa: ISA, dataLayout: String, protection: ControlFlowProtection = .none, libc: LibcModel = .native,
                withoutBarrier: Set<String> = []) {
        self.libc = libc
        self.withoutBarrier = withoutBarrier
        self.isa = isa
        self.dataLayout = dataLayout
        self.protection = protection
    }

    /// Retargets `module` to the ISA and, on x86_64, applies the ABI fix-ups in order:
    /// `va_start`/`va_copy`, variadic call padding, and for the native libc `long double` at the
    /// libc boundary and the shims;
    /// on aarch64, isolates frame addresses from loads and stores (`FrameAddressIsolation`).
    /// On both, every stackmap is followed by a clobber of the callee-saved registers
    /// (`CalleeSavedBarrier`) and the requested control-flow protection is applied where the
    /// ISA has it (`ControlFlowProtectionLowering`).
    public func run(on module: borrowing IRModule) {
        ISARetargeting(isa: isa, dataLayout: dataLayout).run(on: module.ref)
        CalleeSavedBarrier(isa: isa, exempt: withoutBarrier).run(on: module.ref)
        ControlFlowProtectionLowering(isa: isa, protection: protection).run(on: module.ref)
        guard isa == .x86_64 else {
            FrameAddressIsolation().run(on: module.ref)
            return
        }
        VAListLowering().run(on: module.ref)
        // Padding must see libc's real names, so it runs before the shim renaming.
        VariadicCallPadding(libc: libc).run(on: module.ref)
        // The portable libc is binary128 and aarch64's C view on every ISA: nothing to translate.
        guard libc == .native else { return }
        LongDoubleBoundary().run(on: module.ref)
        ABIShimRedirection().run(on: module.ref)
    }
}
