import PopcornIR

/// Reads the hardware control-flow protection flags of distribution CFLAGS into one
/// `ControlFlowProtection` that the back end applies per ISA.
///
/// The flags are the driver's, not clang's: the frontend compiles for aarch64, which refuses
/// `-fcf-protection`, and would otherwise put aarch64's attributes into the portable IR.
/// Each flag applies where its ISA has the mechanism and is silently absent elsewhere, as in a
/// cross-ISA build farm. Shadow stacks (the `return` half of `-fcf-protection`, `gcs` of
/// `-mbranch-protection`) are never applied: migration rewrites return addresses on the
/// stack, which a shadow stack would refuse. They are dropped silently from the umbrella
/// spellings (`-fcf-protection`, `=full`, `standard`) that hardening flags use, and with a
/// warning when they are all that was asked for.
struct ProtectionFlags {
    private(set) var protection = ControlFlowProtection.none
    private(set) var diagnostics: [DriverError] = []

    private static let shadowStackReason = "shadow stacks cannot be used: migration rewrites the return addresses on the stack"

    /// `-fcf-protection` (`value` nil: `full`) or `-fcf-protection=<value>`; the last one wins.
    mutating func cfProtection(_ value: String?, argument: String) {
        switch value ?? "full" {
        case "none":
            protection.indirectBranchTracking = false
        case "branch", "full":
            protection.indirectBranchTracking = true
        case "return":
            protection.indirectBranchTracking = false
            diagnostics.append(DriverError.argumentIgnored(argument, reason: Self.shadowStackReason))
        default:
            diagnostics.append(.invalidValue(value ?? "", argument: argument))
        }
    }

    /// `-mbranch-protection=<spec>`: `none`, `standard` or `bti`/`pac-ret[+leaf][+b-key]`
    /// joined by `+`, as clang parses it; the last one wins.
    mutating func branchProtection(_ spec: String, argument: String) {
        var result = protection
        result.branchTargetIdentification = false
        result.returnAddressSigning = nil
        result.signWithBKey = false
        switch spec {
        case "none":
            protection = result
            return
        case "standard":
            // clang 19: bti + pac-ret (non-leaf, A key) + gcs; the GCS shadow stack is dropped.
            result.branchTargetIdentification = true
            result.returnAddressSigning = .nonLeaf
            protection = result
            return
        default:
            break
        }
        let parts = spec.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        var i = 0
        var onlyShadowStack = true
        while i < parts.count {
            let part = parts[i]
            i += 1
            switch part {
            case "bti":
                result.branchTargetIdentification = true
                onlyShadowStack = false
            case "gcs":
                continue
            case "pac-ret":
                onlyShadowStack = false
                result.returnAddressSigning = .nonLeaf
                // Modifiers of pac-ret follow it directly.
                while i < parts.count, ["leaf", "b-key", "pc"].contains(parts[i]) {
                    switch parts[i] {
                    case "leaf": result.returnAddressSigning = .all
                    case "b-key": result.signWithBKey = true
                    default:
                        diagnostics.append(DriverError.unsupportedOption(argument, reason:
                            "'pc' (PAuth_LR) needs an Armv9.5 extension beyond the aarch64 baseline popcorn targets"))
                    }
                    i += 1
                }
            default:
                diagnostics.append(.invalidBranchProtection(part, argument: argument))
                return
            }
        }
        if onlyShadowStack {
            diagnostics.append(DriverError.argumentIgnored(argument, reason: Self.shadowStackReason))
        }
        protection = result
    }

    /// The `-cc1popcorn` spelling of `protection`; the back end parses it with the same code.
    static func backendArguments(_ protection: ControlFlowProtection) -> [String] {
        var args: [String] = []
        if protection.indirectBranchTracking { args.append("-fcf-protection=branch") }
        var parts: [String] = []
        if protection.branchTargetIdentification { parts.append("bti") }
        if let signing = protection.returnAddressSigning {
            parts.append("pac-ret")
            if signing == .all { parts.append("leaf") }
            if protection.signWithBKey { parts.append("b-key") }
        }
        if !parts.isEmpty { args.append("-mbranch-protection=" + parts.joined(separator: "+")) }
        return args
    }
}
