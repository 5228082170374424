import Foundation
import Testing
import PopcornSupport

/// Builds every program in Examples/ with its own Makefile and the popcorn tools, runs it on
/// every ISA, and compares with plain clang-19 builds of the same sources.
@Suite(.serialized) struct ExampleTests {
    /// Examples and the arguments that keep them quick under qemu.
    static let examples: [(name: String, arguments: [String])] = [
        ("nbody", ["20000"]),
        ("matrix", ["64", "2"]),
        ("wordcount", ["1500"]),
        ("kvstore", ["2000"]),
    ]

    @Test(arguments: examples.map(\.name))
    func exampleMatchesPlainBuildsAndIsAligned(_ name: String) throws {
        let args = Self.examples.first { $0.name == name }!.arguments
        let cc = try Harness.popcornTool("popcorn-cc"), ld = try Harness.popcornTool("popcorn-ld")
        let ar = try Harness.systemTool("llvm-ar-19", package: "llvm-19")
        let source = "\(Harness.root)/Examples/\(name)"

        // popcorn build, exactly as a user runs it.
        let work = try Harness.scratch(name)
        try Harness.copy(source, to: work.path)
        try Harness.mustSucceed("make clean >/dev/null && make -j2 CC='\(cc)' LD='\(ld)' AR='\(ar)'", in: work.path)
        var outputs: [ISA: String] = [:]
        for isa in ISA.allCases {
            let binary = isa.siblingPath(of: "\(work.path)/app")
            #expect(FileManager.default.fileExists(atPath: binary), "missing \(binary)")
            let run = try Harness.run(binary, isa: isa, arguments: args, in: work.path)
            #expect(run.succeeded, "\(name) on \(isa) exited \(run.status): \(run.stderrText)")
            outputs[isa] = run.stdoutText
        }

        // Plain single-ISA builds of the same Makefile.
        for isa in ISA.allCases {
            let plain = try Harness.scratch("\(name)-plain-\(isa)")
            try Harness.copy(source, to: plain.path)
            let cc = Harness.plainCC(isa)
            try Harness.mustSucceed("make clean >/dev/null && make CC='\(cc)' LD='\(cc)' AR='\(ar)'", in: plain.path)
            let reference = try Harness.run("\(plain.path)/app", isa: isa, arguments: args, in: plain.path)
            #expect(reference.succeeded)
            #expect(outputs[isa] == reference.stdoutText, "\(name) on \(isa) differs from the plain clang build")
        }
        #expect(outputs[.x86_64] == outputs[.aarch64], "\(name): the two ISAs print different output")
        #expect(!(outputs[.x86_64] ?? "").isEmpty)

        // Alignment, checked without popcorn code.
        let x86 = ISA.x86_64.siblingPath(of: "\(work.path)/app"), arm = ISA.aarch64.siblingPath(of: "\(work.path)/app")
        let (mismatches, compared) = try IndependentAlignment.compare(x86, arm)
        #expect(compared > 100, "only \(compared) symbols in common")
        #expect(mismatches.isEmpty, "misaligned symbols:\n\(mismatches.prefix(20).joined(separator: "\n"))")

        // And popcorn-dump agrees.
        let dump = try Harness.shell("popcorn-dump --verify app", in: work.path)
        #expect(dump.succeeded, "popcorn-dump --verify failed: \(dump.stdoutText)\(dump.stderrText)")
    }

    @Test func incrementalRebuildOnlyRecompilesChangedFiles() throws {
        let cc = try Harness.popcornTool("popcorn-cc"), ld = try Harness.popcornTool("popcorn-ld")
        let work = try Harness.scratch("incremental")
        try Harness.copy("\(Harness.root)/Examples/nbody", to: work.path)
        let make = "make CC='\(cc)' LD='\(ld)'"
        try Harness.mustSucceed("make clean >/dev/null && \(make)", in: work.path)
        // The dependency files name the real outputs, so touching a header rebuilds its users.
        let deps = try String(contentsOfFile: "\(work.path)/nbody.d", encoding: .utf8)
        #expect(deps.hasPrefix("nbody.o:"), "unexpected dependency file: \(deps)")
        #expect(deps.contains("nbody.h"))
        let second = try Harness.mustSucceed("\(make) -n", in: work.path)
        #expect(!second.stdoutText.contains("-c "), "nothing should be rebuilt:\n\(second.stdoutText)")
        try Harness.mustSucceed("sleep 1 && touch nbody.h", in: work.path)
        let third = try Harness.mustSucceed("\(make) -n", in: work.path)
        #expect(third.stdoutText.contains("-c main.c") && third.stdoutText.contains("-c nbody.c"))
    }
}
