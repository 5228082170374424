import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// `ControlFlowProtectionLowering`: each ISA's object gets its own mechanism from one portable
/// module, and return addresses are signed only where migration never rewrites them.
@Suite struct ControlFlowProtectionTests {
    /// `described` gets migration points and stackmaps; `undescribed` starts its variable
    /// arguments, so it is compiled without them and is never on the stack during a
    /// transformation.
    static let program = """
    #include <stdarg.h>
    int (*volatile hook)(int);
    int described(int n) { return hook(n) + 1; }
    int undescribed(int n, ...) { va_list ap; va_start(ap, n); int r = va_arg(ap, int) + hook(n); va_end(ap); return r; }
    """

    /// `catcher` calls setjmp, which returns twice; `plain` does not.
    static let setjmpProgram = """
    #include <setjmp.h>
    jmp_buf buffer;
    int (*volatile hook)(int);
    int catcher(int n) { if (setjmp(buffer)) return 1; return hook(n); }
    int plain(int n) { return hook(n) + 2; }
    """

    private func lower(_ protection: ControlFlowProtection, assembly: Bool = true,
                       program: String = ControlFlowProtectionTests.program) throws -> [ISA: String] {
        let directory = try TemporaryDirectory(prefix: "popcorn-cfp-test")
        let module = try MigrationTestSupport.portable(program, name: "cfp.c", in: directory)
        let outputs = try Backend.lower(module.bitcode(), name: "cfp.c", isas: ISA.allCases, optimization: .o2,
                                        assembly: assembly, protection: protection)
        var text: [ISA: String] = [:]
        for isa in ISA.allCases {
            let data = try #require(outputs[isa])
            if assembly {
                text[isa] = String(decoding: data, as: UTF8.self)
            } else {
                let path = directory.file("cfp.\(isa).o")
                try AtomicFile.write(data, to: path)
                let readelf = try ProcessRunner.checked("/usr/bin/readelf", ["-n", path])
                text[isa] = readelf.stdoutText
            }
        }
        return text
    }

    // The aarch64 baseline (v8.0) spells the pointer-authentication and BTI instructions as the
    // hints they are, so they run as no-ops on cores without the features.
    static let btiC = "hint\t#34", paciasp = "hint\t#25", autiasp = "hint\t#29", pacibsp = "hint\t#27"

    /// The assembly of one function: from its label to the end of its body.
    private func body(of function: String, in assembly: String) -> String {
        guard let start = assembly.range(of: "\n\(function):") else { return "" }
        let rest = assembly[start.upperBound...]
        let end = rest.range(of: ".Lfunc_end")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    @Test func nothingRequestedChangesNothing() throws {
        let asm = try lower(.none)
        #expect(!asm[.x86_64]!.contains("endbr64"))
        #expect(!asm[.aarch64]!.contains(Self.btiC))
        #expect(!asm[.aarch64]!.contains(Self.paciasp))
    }

    @Test func eachISAGetsOnlyItsOwnLandingPads() throws {
        let asm = try lower(ControlFlowProtection(indirectBranchTracking: true, branchTargetIdentification: true))
        #expect(body(of: "described", in: asm[.x86_64]!).contains("endbr64"))
        #expect(body(of: "undescribed", in: asm[.x86_64]!).contains("endbr64"))
        #expect(body(of: "described", in: asm[.aarch64]!).contains(Self.btiC))
        #expect(!asm[.x86_64]!.contains(Self.btiC))

        let ibtOnly = try lower(ControlFlowProtection(indirectBranchTracking: true))
        #expect(!ibtOnly[.aarch64]!.contains(Self.btiC))
        let btiOnly = try lower(ControlFlowProtection(branchTargetIdentification: true))
        #expect(!btiOnly[.x86_64]!.contains("endbr64"))
    }

    @Test func objectsCarryTheGNUPropertyNote() throws {
        let notes = try lower(ControlFlowProtection(indirectBranchTracking: true, branchTargetIdentification: true,
                                                    returnAddressSigning: .nonLeaf), assembly: false)
        #expect(notes[.x86_64]!.contains("x86 feature: IBT"))
        #expect(!notes[.x86_64]!.contains("SHSTK"))
        #expect(notes[.aarch64]!.contains("AArch64 feature: BTI"))
        // Not every function is signed (described has stackmaps), so PAC is not claimed.
        #expect(!notes[.aarch64]!.contains("PAC"))
    }

    @Test func returnAddressesAreSignedOnlyWithoutStackmaps() throws {
        let asm = try lower(ControlFlowProtection(branchTargetIdentification: true, returnAddressSigning: .nonLeaf))
        let aarch64 = asm[.aarch64]!
        #expect(body(of: "undescribed", in: aarch64).contains(Self.paciasp))
        #expect(body(of: "undescribed", in: aarch64).contains(Self.autiasp))
        #expect(!body(of: "described", in: aarch64).contains(Self.paciasp))
        #expect(body(of: "described", in: aarch64).contains(Self.btiC))

        let bKey = try lower(ControlFlowProtection(returnAddressSigning: .all, signWithBKey: true))
        #expect(body(of: "undescribed", in: bKey[.aarch64]!).contains(Self.pacibsp))
        #expect(!bKey[.aarch64]!.contains(Self.paciasp))
    }

    /// A landing pad after setjmp would separate the call from its stackmap: such calls keep
    /// their stackmap, and no note claims a feature some function lacks.
    @Test func setjmpCallersGetNoLandingPadsAndNoClaim() throws {
        let both = ControlFlowProtection(indirectBranchTracking: true, branchTargetIdentification: true)
        let asm = try lower(both, program: Self.setjmpProgram)
        #expect(!asm[.x86_64]!.contains("endbr64"))
        #expect(!body(of: "catcher", in: asm[.aarch64]!).contains(Self.btiC))
        #expect(!body(of: "catcher", in: asm[.aarch64]!).contains("hint\t#36"), "no bti j after the setjmp call")
        #expect(body(of: "plain", in: asm[.aarch64]!).contains(Self.btiC))
        let notes = try lower(both, assembly: false, program: Self.setjmpProgram)
        #expect(!notes[.x86_64]!.contains("IBT"))
        #expect(!notes[.aarch64]!.contains("BTI"))
    }
}
