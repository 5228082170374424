import Foundation
import Testing
import PopcornSupport

/// The examples migrated mid-run with POPCORN_MIGRATE_AT: one hop and a round trip, starting on
/// either ISA. Standard output must equal the unmigrated run's and POPCORN_STATS must report the
/// moves, so a run that silently did not move cannot pass.
@Suite(.serialized) struct ExampleMigrationTests {
    static let examples: [(name: String, arguments: [String])] = [
        ("nbody", ["3000"]),
        ("matrix", ["24", "1"]),
        ("wordcount", ["300"]),
        ("kvstore", ["300"]),
    ]


    @Test(arguments: examples.map(\.name))
    func migratesMidRunAndBack(_ name: String) throws {
        let example = Self.examples.first { $0.name == name }!
        let cc = try Harness.popcornTool("popcorn-cc"), ld = try Harness.popcornTool("popcorn-ld")
        let work = try Harness.scratch("migrate-\(name)")
        try Harness.copy("\(Harness.root)/Examples/\(name)", to: work.path)
        try Harness.mustSucceed("make clean >/dev/null && make CC='\(cc)' LD='\(ld)' AR=llvm-ar-19", in: work.path)
        for start in ISA.allCases {
            let exe = start.siblingPath(of: "\(work.path)/app")
            func run(_ env: [String: String]) throws -> ProcessResult {
                var environment = Harness.environment
                environment.merge(env) { $1 }
                if let emulator = start.emulator {
                    return try ProcessRunner.run(try Harness.systemTool(emulator, package: "qemu-user"),
                                                 [exe] + example.arguments, environment: environment)
                }
                return try ProcessRunner.run(exe, example.arguments, environment: environment)
            }
            let plain = try run(["POPCORN_STATS": "1"])
            #expect(plain.succeeded, "\(name) from \(start): \(plain.stderrText)")
            let points = try #require(Harness.stat("migration points", in: plain.stderrText))
            for hops in [[points / 3], [points / 4, points * 3 / 4]] {
                let at = hops.map(String.init).joined(separator: ",")
                let moved = try run(["POPCORN_STATS": "1", "POPCORN_MIGRATE_AT": at])
                #expect(moved.succeeded, "\(name) from \(start) at \(at): \(moved.stderrText)")
                #expect(moved.stdoutText == plain.stdoutText, "\(name) from \(start) at \(at)")
                #expect(Harness.stat("migrations", in: moved.stderrText) == hops.count,
                        "\(name) from \(start) at \(at): \(moved.stderrText)")
            }
        }
    }
}
