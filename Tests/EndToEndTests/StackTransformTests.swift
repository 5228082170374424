import Foundation
import Testing
import PopcornSupport

/// The same-ISA rewrite mode (POPCORN_REWRITE_AT, docs/STACK-TRANSFORM.md): at the chosen
/// migration points the runtime rebuilds every frame from main inward on a fresh stack from the
/// metadata alone and continues there. The output must equal the unmigrated run's, and
/// POPCORN_STATS must report that rewrites actually happened.
@Suite(.serialized) struct StackTransformTests {
    /// Programs under Tests/Inputs/migration, rewritten with every register the metadata does not
    /// describe poisoned on both ISAs (hidden backend state, docs/STACK-TRANSFORM.md).
    static let programs = ["recursion", "registers", "frames", "libc_sequences", "results"]

    static func build(_ name: String, in directory: TemporaryDirectory) throws -> String {
        let source = "\(Harness.root)/Tests/Inputs/migration/\(name).c"
        let output = directory.file(name)
        try Harness.mustSucceed("'\(try Harness.popcornTool("popcorn-cc"))' -O2 '\(source)' -o '\(output)'",
                                in: directory.path)
        return output
    }

    static func binary(_ base: String, _ isa: ISA) -> String {
        isa == .x86_64 ? base : "\(base).\(isa.rawValue)"
    }

    static func run(_ binary: String, isa: ISA, environment: [String: String]) throws -> ProcessResult {
        var env = Harness.environment
        env.merge(environment) { $1 }
        if let emulator = isa.emulator {
            return try ProcessRunner.run(try Harness.systemTool(emulator, package: "qemu-user"), [binary],
                                         environment: env)
        }
        return try ProcessRunner.run(binary, [], environment: env)
    }


    @Test(arguments: programs)
    func rewritingAtEveryPointKeepsTheOutput(_ name: String) throws {
        let directory = try Harness.scratch("rewrite-\(name)")
        let base = try Self.build(name, in: directory)
        for isa in ISA.allCases {
            let exe = Self.binary(base, isa)
            let plain = try Self.run(exe, isa: isa, environment: ["POPCORN_STATS": "1"])
            #expect(plain.succeeded, "\(isa): \(plain.stderrText)")
            let points = try #require(Harness.stat("migration points", in: plain.stderrText))
            let env = ["POPCORN_STATS": "1", "POPCORN_REWRITE_AT": "all"]
            let rewritten = try Self.run(exe, isa: isa, environment: env)
            #expect(rewritten.succeeded, "\(isa): \(rewritten.stderrText)")
            #expect(rewritten.stdoutText == plain.stdoutText, "\(isa)")
            #expect(Harness.stat("migration points", in: rewritten.stderrText) == points, "\(isa)")
            // Every point's stack leads to main through program frames only, so none is deferred.
            #expect(Harness.stat("rewrites", in: rewritten.stderrText) == points, "\(isa): \(rewritten.stderrText)")
        }
    }

    /// Call results of every kind (`results.c`; scalar ones kept in their return registers past the
    /// stackmaps, docs/MIGRATION-POINTS.md) come out as a plain clang build computes them, on both
    /// ISAs: the rewrite test above compares a build only with itself.
    @Test func callResultsMatchAPlainBuild() throws {
        let directory = try Harness.scratch("rewrite-results-plain")
        let base = try Self.build("results", in: directory)
        let source = "\(Harness.root)/Tests/Inputs/migration/results.c"
        try Harness.mustSucceed("\(Harness.plainCC(.host)) -O2 '\(source)' -o plain", in: directory.path)
        let reference = try Harness.mustSucceed("./plain", in: directory.path).stdoutText
        #expect(reference.hasSuffix("total 425984051.428571\n"), "\(reference)")
        for isa in ISA.allCases {
            let run = try Self.run(Self.binary(base, isa), isa: isa, environment: [:])
            #expect(run.succeeded && run.stdoutText == reference, "\(isa): \(run.stdoutText)")
        }
    }

    @Test func rewritingAtChosenPointsKeepsTheOutput() throws {
        let directory = try Harness.scratch("rewrite-points")
        let base = try Self.build("recursion", in: directory)
        for isa in ISA.allCases {
            let exe = Self.binary(base, isa)
            let plain = try Self.run(exe, isa: isa, environment: [:])
            let env = ["POPCORN_STATS": "1", "POPCORN_REWRITE_AT": "1,2,150,301,302,1000"]
            let rewritten = try Self.run(exe, isa: isa, environment: env)
            #expect(rewritten.succeeded, "\(isa): \(rewritten.stderrText)")
            #expect(rewritten.stdoutText == plain.stdoutText, "\(isa)")
            #expect(Harness.stat("rewrites", in: rewritten.stderrText) == 6, "\(isa): \(rewritten.stderrText)")
        }
    }

    /// Without POPCORN_REWRITE_AT the statistics stay exactly as before (no `rewrites` line),
    /// and a malformed list is reported and ignored.
    @Test func rewriteModeIsOffUnlessRequested() throws {
        let directory = try Harness.scratch("rewrite-off")
        let base = try Self.build("registers", in: directory)
        let plain = try Self.run(base, isa: .x86_64, environment: ["POPCORN_STATS": "1"])
        #expect(Harness.stat("rewrites", in: plain.stderrText) == nil)
        let bad = try Self.run(base, isa: .x86_64, environment: ["POPCORN_STATS": "1", "POPCORN_REWRITE_AT": "3,x"])
        #expect(bad.succeeded)
        #expect(bad.stdoutText == plain.stdoutText)
        #expect(bad.stderrText.contains("popcorn: warning: ignoring POPCORN_REWRITE_AT='3,x': not a decimal number\n"))
        #expect(Harness.stat("rewrites", in: bad.stderrText) == nil)
    }

    /// The examples, rewritten at every migration point with every undescribed register poisoned
    /// on both ISAs.
    static let examples: [(name: String, arguments: [String])] = [
        ("nbody", ["1500"]),
        ("matrix", ["16", "1"]),
        ("wordcount", ["150"]),
        ("kvstore", ["200"]),
    ]

    @Test(arguments: examples.map(\.name))
    func examplesSurviveRewritingAtEveryPoint(_ name: String) throws {
        let example = Self.examples.first { $0.name == name }!
        let cc = try Harness.popcornTool("popcorn-cc"), ld = try Harness.popcornTool("popcorn-ld")
        let work = try Harness.scratch("rewrite-example-\(name)")
        try Harness.copy("\(Harness.root)/Examples/\(name)", to: work.path)
        try Harness.mustSucceed("make clean >/dev/null && make CC='\(cc)' LD='\(ld)' AR=llvm-ar-19", in: work.path)
        for isa in ISA.allCases {
            let exe = Self.binary("\(work.path)/app", isa)
            let runIn = { (env: [String: String]) -> ProcessResult in
                var environment = Harness.environment
                environment.merge(env) { $1 }
                if let emulator = isa.emulator {
                    return try ProcessRunner.run(try Harness.systemTool(emulator, package: "qemu-user"),
                                                 [exe] + example.arguments, environment: environment)
                }
                return try ProcessRunner.run(exe, example.arguments, environment: environment)
            }
            let plain = try runIn([:])
            #expect(plain.succeeded)
            let env = ["POPCORN_STATS": "1", "POPCORN_REWRITE_AT": "all"]
            let rewritten = try runIn(env)
            #expect(rewritten.succeeded, "\(name) on \(isa): \(rewritten.stderrText)")
            #expect(rewritten.stdoutText == plain.stdoutText, "\(name) on \(isa)")
            #expect((Harness.stat("rewrites", in: rewritten.stderrText) ?? 0) > 0, "\(name) on \(isa): no rewrite happened")
        }
    }
}
