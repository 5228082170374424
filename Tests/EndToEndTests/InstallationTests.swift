import Foundation
import Testing
import PopcornSupport

/// The staged tree is relocatable: copied anywhere (as `make install PREFIX=…` does), the tools
/// find their runtime next to themselves.
@Suite struct InstallationTests {
    @Test func relocatedToolsBuildAndRunAProgram() throws {
        _ = try Harness.popcornTool("popcorn-cc")
        let prefix = try Harness.scratch("prefix")
        try Harness.mustSucceed("cp -R '\(Harness.root)/build/bin' '\(Harness.root)/build/lib' '\(prefix.path)/'", in: "/")
        let work = try Harness.scratch("relocated")
        let hello = "\(Harness.root)/Tests/Inputs/diagnostics/hello.c"
        // A PATH without the repository's build/bin, so only the relocated copy can be used.
        let r = try ProcessRunner.run("/bin/sh", ["-c", "cd '\(work.path)' && popcorn-cc -O2 '\(hello)' -o hello && ./hello"],
                                      environment: ["PATH": "\(prefix.path)/bin:/usr/bin:/bin", "HOME": "/tmp"])
        #expect(r.succeeded, "\(r.stderrText)")
        #expect(r.stdoutText == "hello from popcorn\n")
        let arm = try Harness.run("\(work.path)/hello.aarch64", isa: .aarch64, in: work.path)
        #expect(arm.stdoutText == "hello from popcorn\n")
    }

    @Test func versionAndHelpAreThere() throws {
        for tool in ["popcorn-cc", "popcorn-ld", "popcorn-dump"] {
            let path = try Harness.popcornTool(tool)
            let version = try ProcessRunner.run(path, ["--version"])
            #expect(version.succeeded && !version.stdoutText.isEmpty, "\(tool) --version")
            let help = try ProcessRunner.run(path, ["--help"])
            #expect(help.succeeded, "\(tool) --help")
            #expect(help.stdoutText.contains("USAGE") || help.stdoutText.lowercased().contains("usage"), "\(tool) --help lacks usage")
        }
    }
}
