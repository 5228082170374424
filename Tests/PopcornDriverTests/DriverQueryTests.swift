import Foundation
import PopcornSupport
import Testing
@testable import PopcornDriver

/// The double-dash spellings clang accepts and the `-print-…` queries build systems and
/// libtool use. The queries run the driver against this machine's toolchain and check the
/// answers against the files popcorn-ld really links.
@Suite struct DriverQueryTests {
    private func parse(_ args: [String]) -> OptionParser.Result {
        OptionParser(table: DriverOptions.table).parse(args)
    }

    private func query(_ args: [String]) -> (status: Int32, stdout: String, stderr: [String]) {
        final class Capture: @unchecked Sendable { var stdout = ""; var stderr: [String] = [] }
        let capture = Capture()
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-cc") { capture.stderr.append($0) }
        let status = Driver.run(args, diagnostics: diagnostics) { capture.stdout += $0 }
        return (status, capture.stdout, capture.stderr)
    }

    @Test func doubleDashSpellingsBecomeTheCanonicalOption() {
        let cases: [([String], Option, String)] = [
            (["--std=c11"], DriverOptions.standard, "c11"), (["--std", "gnu99"], DriverOptions.standard, "gnu99"),
            (["--output=a.o"], DriverOptions.output, "a.o"), (["--output", "b.o"], DriverOptions.output, "b.o"),
            (["--print-file-name=crt1.o"], DriverOptions.printFileName, "crt1.o"),
            (["--print-file-name", "libc.a"], DriverOptions.printFileName, "libc.a"),
            (["--print-prog-name=ld"], DriverOptions.printProgName, "ld"),
            (["--include-directory=inc"], DriverOptions.includeDir, "inc"),
            (["--define-macro", "X=1"], DriverOptions.define, "X=1"),
            (["--optimize"], DriverOptions.optimize, ""), (["--optimize=2"], DriverOptions.optimize, "2"),
            (["--compile"], DriverOptions.compile, ""), (["--print-search-dirs"], DriverOptions.printSearchDirs, ""),
            (["--print-libgcc-file-name"], DriverOptions.printLibgccFileName, ""),
            (["--print-target-triple"], DriverOptions.printTargetTriple, ""),
        ]
        for (args, option, value) in cases {
            let r = parse(args)
            #expect(r.errors.isEmpty, "\(args)")
            #expect(r.arguments.count == 1, "\(args)")
            #expect(r.arguments.first?.option == option, "\(args)")
            #expect(r.arguments.first?.value == value, "\(args)")
        }
        #expect(parse(["--output"]).errors == [.missingValue(option: "--output")])
        #expect(parse(["--std-x"]).errors == [.unknownArgument("--std-x")])
    }

    @Test func aliasesAreForwardedInTheirCanonicalSpelling() throws {
        let inv = Planning.invocation(["--std=c11", "--define-macro=A", "--optimize", "--compile", "--output", "x.o", "a.c"])
        #expect(inv.mode == .compile)
        #expect(inv.outputPath == "x.o")
        #expect(inv.frontendOptimization == "-O1")
        #expect(inv.frontendArguments == ["-std=c11", "-D", "A"])
        // Refused options stay refused under any spelling.
        #expect(Planning.invocation(["--shared", "a.c"]).hasErrors)
    }

    @Test func everyAliasIsReachableAndPointsIntoTheTable() {
        for alias in DriverOptions.aliases {
            guard let canonical = alias.aliasOf else { Issue.record("\(alias) is not an alias"); continue }
            #expect(DriverOptions.all.contains(canonical), "\(alias) → \(canonical)")
            #expect(alias.isHidden)
            // No longer spelling shadows the alias, so each one is actually parsed as written.
            let sample = alias.kind == .flag || alias.kind == .separate ? alias.spelling : alias.spelling + "v"
            #expect(DriverOptions.table.match(sample) == alias, "\(sample)")
        }
    }

    @Test func libgccAndSearchDirectoriesAreTheFilesPopcornLdLinks() {
        let libgcc = query(["-print-libgcc-file-name"])
        #expect(libgcc.status == 0)
        #expect(libgcc.stdout == ISA.host.builtinsArchive + "\n")
        #expect(FileManager.default.fileExists(atPath: ISA.host.builtinsArchive))

        let dirs = query(["--print-search-dirs"])
        let lines = dirs.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("programs: =") == true)
        let libraries = lines.last.map { $0.dropFirst("libraries: =".count).split(separator: ":").map(String.init) } ?? []
        #expect(libraries.contains(ISA.host.muslLibDir))
        #expect(libraries.contains(Path.directory(ISA.host.builtinsArchive)))
        #expect(!libraries.contains(ISA.aarch64 == ISA.host ? ISA.x86_64.muslLibDir : ISA.aarch64.muslLibDir))
    }

    /// With the native C library (the portable one's directory, searched first by default, need
    /// not exist where the unit tests run).
    @Test func fileNamesResolveToTheHostMuslFiles() {
        for name in ["crt1.o", "crti.o", "crtn.o", "libc.a", "libm.a"] {
            #expect(query(["-fpopcorn-libc=native", "--print-file-name=\(name)"]).stdout == "\(ISA.host.muslLibDir)/\(name)\n",
                    "\(name)")
            #expect(query(["-print-file-name", name]).status == 1, "only the joined form has a single dash")
        }
        #expect(query(["--print-file-name", "libgcc.a"]).stdout == ISA.host.builtinsArchive + "\n")
        #expect(query(["--print-file-name=surely-not-here.a"]).stdout == "surely-not-here.a\n")
        // As with clang: `include` is the compiler's header directory, an empty name the
        // resource directory itself (build systems use both to find stdarg.h & co.).
        let resource = query(["-print-resource-dir"]).stdout.trimmingCharacters(in: .newlines)
        #expect(query(["-print-file-name=include"]).stdout == resource + "/include\n")
        #expect(query(["-print-file-name="]).stdout == resource + "/\n")
    }

    @Test func tripleMultilibAndResourceQueries() throws {
        #expect(query(["-print-target-triple"]).stdout == ISA.host.triple + "\n")
        #expect(query(["--print-effective-triple"]).stdout == ISA.host.triple + "\n")
        #expect(query(["-print-multi-os-directory"]).stdout == ".\n")
        #expect(query(["--print-multi-directory"]).stdout == ".\n")
        #expect(query(["-print-multi-lib"]).stdout == ".;\n")
        let resource = query(["--print-resource-dir"])
        #expect(resource.status == 0)
        let dir = resource.stdout.trimmingCharacters(in: .newlines)
        #expect(FileManager.default.fileExists(atPath: dir + "/include/stdarg.h"))
        let runtime = query(["-print-runtime-dir"]).stdout.trimmingCharacters(in: .newlines)
        #expect(runtime == Path.directory(Toolchain().runtimeArchive(for: ISA.host)))
    }
}
