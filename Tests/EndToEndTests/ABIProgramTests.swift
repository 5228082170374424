import Foundation
import Testing
import PopcornSupport

/// Compiles each program in Tests/Inputs/abi with popcorn-cc, runs it on both ISAs and compares
/// with plain clang-19 builds for each ISA: the cases where one IR meets two ABIs.
@Suite struct ABIProgramTests {
    static let directory = "\(Harness.root)/Tests/Inputs/abi"
    static let programs: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".c") }.sorted()
    }()

    @Test func thereAreABIPrograms() {
        #expect(Self.programs.count >= 5, "Tests/Inputs/abi should hold the ABI test programs")
    }

    @Test(arguments: programs)
    func behavesLikePlainBuildOnEveryISA(_ program: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("abi")
        let source = "\(Self.directory)/\(program)"
        try Harness.mustSucceed("'\(cc)' -O2 '\(source)' -o prog -lm", in: work.path)
        for isa in ISA.allCases {
            let plain = "plain-\(isa.rawValue)"
            try Harness.mustSucceed("\(Harness.plainCC(isa)) -O2 '\(source)' -o \(plain) -lm", in: work.path)
            let expected = try Harness.run("\(work.path)/\(plain)", isa: isa, in: work.path)
            let actual = try Harness.run(isa.siblingPath(of: "\(work.path)/prog"), isa: isa, in: work.path)
            #expect(expected.succeeded, "plain \(program) failed on \(isa): \(expected.stderrText)")
            #expect(actual.status == expected.status, "\(program) on \(isa): exit \(actual.status), plain \(expected.status)\n\(actual.stderrText)")
            #expect(actual.stdoutText == expected.stdoutText,
                    "\(program) on \(isa) differs from the plain build:\n--- popcorn\n\(actual.stdoutText)\n--- plain\n\(expected.stdoutText)")
        }
        let (mismatches, _) = try IndependentAlignment.compare(ISA.x86_64.siblingPath(of: "\(work.path)/prog"),
                                                               ISA.aarch64.siblingPath(of: "\(work.path)/prog"))
        #expect(mismatches.isEmpty, "misaligned: \(mismatches.prefix(10))")
    }
}
