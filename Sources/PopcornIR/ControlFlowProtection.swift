/// The hardware control-flow protection requested on the command line, per ISA.
///
/// The portable IR carries none of it: the frontend compiles for one target, and each
/// mechanism exists on one ISA only (`-fcf-protection` on x86_64, `-mbranch-protection` on
/// aarch64). `ControlFlowProtectionLowering` applies the settings while lowering for each ISA,
/// so a cross-ISA build with both flags gets IBT on x86_64 and BTI on aarch64 from one IR.
///
/// Shadow stacks (x86_64 SHSTK, aarch64 GCS) are deliberately not representable: migration
/// rewrites every return address on the stack, which a hardware shadow stack would refuse.
public struct ControlFlowProtection: Sendable, Hashable {
    /// Which functions sign their return address (`pac-ret` / `pac-ret+leaf`).
    public enum ReturnAddressSigning: String, Sendable, Hashable {
        /// Functions that save the link register (`pac-ret`).
        case nonLeaf = "non-leaf"
        /// Every function (`pac-ret+leaf`).
        case all
    }

    /// x86_64 indirect branch tracking: `endbr64` landing pads (`-fcf-protection=branch`).
    public var indirectBranchTracking: Bool
    /// aarch64 branch target identification: `bti` landing pads (`-mbranch-protection=bti`).
    public var branchTargetIdentification: Bool
    /// aarch64 return-address signing (`-mbranch-protection=pac-ret…`). Applied only to
    /// functions that are never on the stack when a migration transforms it (see
    /// `ControlFlowProtectionLowering`).
    public var returnAddressSigning: ReturnAddressSigning?
    /// Sign with the B key instead of the A key (`+b-key`).
    public var signWithBKey: Bool

    public init(indirectBranchTracking: Bool = false, branchTargetIdentification: Bool = false,
                returnAddressSigning: ReturnAddressSigning? = nil, signWithBKey: Bool = false) {
        self.indirectBranchTracking = indirectBranchTracking
        self.branchTargetIdentification = branchTargetIdentification
        self.returnAddressSigning = returnAddressSigning
        self.signWithBKey = signWithBKey
    }

    /// No protection: what the back end does unless asked.
    public static let none = ControlFlowProtection()

    /// Whether anything is requested.
    public var isEmpty: Bool { self == .none }
}
