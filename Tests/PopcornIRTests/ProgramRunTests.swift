import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Real C programs through the backend, linked and run on both ISAs, compared with plain clang.
@Suite(.serialized) struct ProgramRunTests {
    /// Builds and runs `name`, then expects every binary to print the same as the aarch64
    /// reference (the ABI the program was compiled for) and to exit with the same status.
    func expectSameBehaviour(_ name: String, optimization: String = "2") throws {
        let outcome = try CProgramHarness.buildAndRun(CProgramHarness.input(name), optimization: optimization)
        let expected = try #require(outcome.reference[.aarch64])
        #expect(expected.succeeded, "reference aarch64 build of \(name) failed: \(expected.stderrText)")
        #expect(!expected.stdoutText.isEmpty)
        for isa in ISA.allCases {
            let result = try #require(outcome.popcorn[isa])
            #expect(result.status == expected.status, "\(name) on \(isa): exit \(result.status), stderr \(result.stderrText)")
            #expect(result.stdoutText == expected.stdoutText, "\(name) on \(isa) differs from the aarch64 reference")
            if result.stdoutText != expected.stdoutText {
                print("--- \(isa) popcorn\n\(result.stdoutText)--- reference\n\(expected.stdoutText)")
            }
        }
    }

    @Test func variadicFunctions() throws { try expectSameBehaviour("varargs.c.in") }
    @Test func variadicFunctionsAtO0() throws { try expectSameBehaviour("varargs.c.in", optimization: "0") }
    @Test func longDouble() throws { try expectSameBehaviour("longdouble.c.in") }
    @Test func longDoubleAtO0() throws { try expectSameBehaviour("longdouble.c.in", optimization: "0") }
    @Test func structsByValue() throws { try expectSameBehaviour("structs.c.in") }
    @Test func setjmpLongjmp() throws { try expectSameBehaviour("setjmp.c.in") }
    @Test func stringLiteralsAndSections() throws { try expectSameBehaviour("strings.c.in") }
}
