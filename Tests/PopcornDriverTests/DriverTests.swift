import Foundation
import PopcornSupport
import Testing
@testable import PopcornDriver

/// The driver as a whole, with output captured; nothing here runs an external tool.
@Suite struct DriverTests {
    final class Capture: @unchecked Sendable {
        var stderr: [String] = []
        var stdout = ""
    }

    private func run(_ args: [String]) -> (status: Int32, capture: Capture) {
        let capture = Capture()
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-cc") { capture.stderr.append($0) }
        let status = Driver.run(args, diagnostics: diagnostics) { capture.stdout += $0 }
        return (status, capture)
    }

    @Test func unknownArgumentsAreErrors() {
        let (status, capture) = run(["-qux", "-c", "a.c", "--bogus"])
        #expect(status == 1)
        #expect(capture.stderr.prefix(2) == ["popcorn-cc: error: unknown argument: '-qux'",
                                             "popcorn-cc: error: unknown argument: '--bogus'"])
    }

    @Test func missingInputAndNoInput() throws {
        let dir = try TemporaryDirectory()
        let missing = dir.file("x.c")
        let (status, capture) = run(["-c", missing])
        #expect(status == 1)
        #expect(capture.stderr == ["popcorn-cc: error: no such file or directory: '\(missing)'",
                                   "popcorn-cc: error: no input files"])
        #expect(run([]).capture.stderr == ["popcorn-cc: error: no input files"])
    }

    @Test func warningsFollowDashWAndWerror() throws {
        let dir = try TemporaryDirectory()
        let src = dir.file("a.c")
        try "int x;".write(toFile: src, atomically: true, encoding: .utf8)
        let quiet = run(["-###", "-w", "-fno-data-sections", "-c", src, "-o", dir.file("a.o")])
        #expect(quiet.status == 0)
        #expect(!quiet.capture.stderr.contains { $0.contains("warning") })
        let strict = run(["-###", "-Werror", "-fno-data-sections", "-c", src, "-o", dir.file("a.o")])
        #expect(strict.status == 1)
        #expect(strict.capture.stderr.first?.hasPrefix("popcorn-cc: error: argument '-fno-data-sections' ignored") == true)
    }

    @Test func printJobsShowsCommandsWithoutRunningThem() throws {
        let dir = try TemporaryDirectory()
        let src = dir.file("a.c")
        try "int main(void){return 0;}".write(toFile: src, atomically: true, encoding: .utf8)
        let out = dir.file("a.o")
        let (status, capture) = run(["-###", "-O2", "-c", src, "-o", out])
        #expect(status == 0)
        #expect(capture.stderr.first?.hasPrefix("popcorn-cc version \(Driver.version)") == true)
        let commands = capture.stderr.filter { $0.hasPrefix(" \"") }
        #expect(commands.count == 2)
        #expect(commands[0].contains("\"-emit-llvm\" \"-c\""))
        #expect(commands[0].contains("\"--target=aarch64-unknown-linux-musl\""))
        #expect(commands[1].contains("\"-cc1popcorn\""))
        #expect(commands[1].hasSuffix("\"-o\" \"\(out)\" \"-O2\" \"-emit-obj\" \"-main-file-name\" \"\(src)\""))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func versionQueries() {
        let v = run(["-v"])
        #expect(v.status == 0)
        #expect(v.capture.stderr.first?.hasPrefix("popcorn-cc version") == true)
        let version = run(["--version"])
        #expect(version.capture.stdout.contains("Thread model: posix"))
        #expect(run(["-dumpmachine"]).capture.stdout == ISA.host.triple + "\n")
        #expect(run(["-print-prog-name=frobnicator"]).capture.stdout == "frobnicator\n")
        #expect(run(["-print-file-name=no-such-file.a"]).capture.stdout == "no-such-file.a\n")
    }

    @Test func helpIsGeneratedFromTheTable() {
        let (status, capture) = run(["--help"])
        #expect(status == 0)
        let text = capture.stdout
        for section in ["USAGE", "DESCRIPTION", "OPTIONS", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES"] {
            #expect(text.contains(section), "\(section)")
        }
        for variable in ["POPCORN_CLANG", "POPCORN_LLD", "POPCORN_RUNTIME_DIR", "POPCORN_KEEP_TEMPS"] {
            #expect(text.contains(variable), "\(variable)")
        }
        for group in Option.Group.allCases where group != .internalOnly {
            #expect(text.contains(group.rawValue + ":"), "\(group)")
        }
        for option in DriverOptions.all where !option.isHidden && option.group != .internalOnly {
            #expect(text.contains(option.synopsis), "\(option.spelling)")
        }
        #expect(!text.contains("-cc1popcorn"))
    }

    @Test func backendCommandRoundTrips() throws {
        let command = BackendCommand(bitcode: "/t/a.bc", output: "a.s", emit: "-emit-asm", optimization: "s",
                                     source: "a.c", keepDebugInfo: true, isas: [.aarch64])
        let parsed = try BackendCommand(parsing: Array(command.arguments.dropFirst()))
        #expect(parsed == command)
        let timed = BackendCommand(bitcode: "/t/a.bc", output: "a.o", emit: "-emit-obj", optimization: "2",
                                   source: "a.c", keepDebugInfo: false, timeReport: true)
        #expect(timed.arguments.contains("-ftime-report") && !command.arguments.contains("-ftime-report"))
        #expect(try BackendCommand(parsing: Array(timed.arguments.dropFirst())) == timed)
        let defaults = try BackendCommand(parsing: ["x.bc", "-o", "x.o"])
        #expect(defaults.isas == ISA.allCases && defaults.emit == "-emit-obj" && defaults.optimization == "0")
        #expect(throws: BackendCommandError.missingOutput) { try BackendCommand(parsing: ["x.bc"]) }
        #expect(throws: BackendCommandError.unknownISA("mips")) { try BackendCommand(parsing: ["x.bc", "-o", "y", "-isa", "mips"]) }
        #expect(throws: DriverError.invalidOptimizationLevel("-O9")) { try BackendCommand(parsing: ["x.bc", "-o", "y", "-O9"]) }
        #expect(throws: OptionError.unknownArgument("-c")) { try BackendCommand(parsing: ["x.bc", "-o", "y", "-c"]) }
    }
}
