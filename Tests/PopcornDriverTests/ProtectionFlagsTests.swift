import PopcornIR
import Testing
@testable import PopcornDriver

/// The hardening flags of distribution CFLAGS: which ISA gets what, the last flag wins,
/// shadow stacks are never applied, and the back end receives exactly the parsed settings.
@Suite struct ProtectionFlagsTests {
    private func protection(_ args: [String]) -> (ControlFlowProtection, [DriverError]) {
        let inv = Planning.invocation(args + ["-c", "a.c"])
        return (inv.protection, inv.diagnostics)
    }

    @Test func debianAndUbuntuHardeningIsAccepted() throws {
        let flags = ["-g", "-O2", "-ffile-prefix-map=/build/pkg=.", "-fstack-protector-strong", "-Wformat",
                     "-Werror=format-security", "-fcf-protection", "-fstack-clash-protection",
                     "-mbranch-protection=standard"]
        let (p, diagnostics) = protection(flags)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(p == ControlFlowProtection(indirectBranchTracking: true, branchTargetIdentification: true,
                                           returnAddressSigning: .nonLeaf))
        let jobs = try Planning.jobs(flags + ["-c", "a.c"])
        let frontend = try #require(jobs.first { $0.kind == .frontend })
        // clang compiles for aarch64, which refuses -fcf-protection; the driver keeps these flags.
        #expect(!frontend.arguments.contains { $0.hasPrefix("-fcf-protection") || $0.hasPrefix("-mbranch-protection") })
        #expect(frontend.arguments.contains("-fstack-clash-protection"))
        #expect(frontend.arguments.contains("-ffile-prefix-map=/build/pkg=."))
        let backend = try #require(jobs.first { $0.kind == .backend })
        #expect(backend.arguments.containsSequence(["-fcf-protection=branch", "-mbranch-protection=bti+pac-ret"]))
        // What the executor parses back is what was planned.
        let parsed = try BackendCommand(parsing: Array(backend.arguments.dropFirst()))
        #expect(parsed.protection == p)
    }

    @Test func cfProtectionValues() {
        #expect(protection(["-fcf-protection=branch"]).0.indirectBranchTracking)
        #expect(protection(["-fcf-protection=full"]).0.indirectBranchTracking)
        #expect(!protection(["-fcf-protection", "-fcf-protection=none"]).0.indirectBranchTracking)
        let (p, diagnostics) = protection(["-fcf-protection=return"])
        #expect(!p.indirectBranchTracking)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.diagnostic.severity == .warning)
        #expect(diagnostics.first?.diagnostic.message.contains("shadow stacks") == true)
        #expect(protection(["-fcf-protection=bogus"]).1 == [.invalidValue("bogus", argument: "-fcf-protection=bogus")])
    }

    @Test func branchProtectionValues() {
        #expect(protection(["-mbranch-protection=bti"]).0 == ControlFlowProtection(branchTargetIdentification: true))
        #expect(protection(["-mbranch-protection=pac-ret+leaf+b-key"]).0
                == ControlFlowProtection(returnAddressSigning: .all, signWithBKey: true))
        #expect(protection(["-mbranch-protection=bti+pac-ret+leaf"]).0
                == ControlFlowProtection(branchTargetIdentification: true, returnAddressSigning: .all))
        #expect(protection(["-mbranch-protection=standard", "-mbranch-protection=none"]).0 == .none)
        #expect(protection(["-mbranch-protection=bti+gcs"]).1.isEmpty)
        #expect(protection(["-mbranch-protection=gcs"]).1.first?.diagnostic.severity == .warning)
        #expect(protection(["-mbranch-protection=bti+leaf"]).1
                == [.invalidBranchProtection("leaf", argument: "-mbranch-protection=bti+leaf")])
        #expect(protection(["-mbranch-protection=pac-ret+pc"]).1.first?.diagnostic.severity == .error)
        // Other machine options still give the ISAs different code, and stay refused.
        #expect(protection(["-mavx2"]).1.first?.diagnostic.severity == .error)
    }

    @Test func noFlagsNoBackendArguments() throws {
        let backend = try #require(try Planning.jobs(["-c", "a.c"]).first { $0.kind == .backend })
        #expect(!backend.arguments.contains { $0.contains("protection") })
        #expect(ProtectionFlags.backendArguments(ControlFlowProtection(indirectBranchTracking: true,
                                                                       returnAddressSigning: .all, signWithBKey: true))
                == ["-fcf-protection=branch", "-mbranch-protection=pac-ret+leaf+b-key"])
    }
}
