import Foundation
import Testing
import PopcornSupport

/// The README's main job (`make demo` = scripts/demo.sh): it must keep working as the runtime's
/// output changes. Run for every example, so each one is shown moving x86_64 -> aarch64 -> x86_64.
@Suite(.serialized) struct DemoTests {
    @Test(arguments: ["nbody", "matrix", "wordcount", "kvstore"])
    func demoMigratesTheExampleAndBack(_ example: String) throws {
        _ = try Harness.popcornTool("popcorn-cc")
        let run = try ProcessRunner.run("/bin/bash", ["\(Harness.root)/scripts/demo.sh", example],
                                        environment: Harness.environment)
        #expect(run.succeeded, "\(run.stdoutText.suffix(2000))\(run.stderrText)")
        #expect(run.stdoutText.contains("== the migrated run moved twice and printed exactly what the unmigrated runs printed"))
    }
}
