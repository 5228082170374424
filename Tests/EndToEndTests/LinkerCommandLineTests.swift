import Foundation
import Testing
import PopcornSupport

/// popcorn-ld as build systems drive it: distribution link flags through popcorn-cc's `-Wl,`,
/// response files, ld.lld's messages under the user's file names, paths the kernel accepts but
/// Foundation does not, and `--time-trace`.
@Suite struct LinkerCommandLineTests {
    static let main = "#include <stdio.h>\nint helper(int);\nint main(void) { printf(\"%d\\n\", helper(41)); return 0; }\n"
    static let helper = "int helper(int x) { return x + 1; }\n"

    /// A scratch directory with `main.o` and `helper.o` compiled by popcorn-cc.
    func objects(_ label: String) throws -> TemporaryDirectory {
        let work = try Harness.scratch(label)
        try Self.main.write(toFile: work.file("main.c"), atomically: true, encoding: .utf8)
        try Self.helper.write(toFile: work.file("helper.c"), atomically: true, encoding: .utf8)
        try Harness.mustSucceed("popcorn-cc -c main.c helper.c", in: work.path)
        return work
    }

    func runBoth(_ binary: String, in dir: String) throws {
        for isa in ISA.allCases {
            let r = try Harness.run(isa.siblingPath(of: binary), isa: isa, in: dir)
            #expect(r.status == 0 && r.stdoutText == "42\n", "\(isa): \(r.stderrText)")
        }
    }

    @Test func debianLDFLAGSAndLuaExportDynamicLink() throws {
        let work = try objects("ldflags")
        let r = try Harness.mustSucceed("popcorn-cc -Wl,-z,relro -Wl,-z,now -Wl,--as-needed -Wl,-E -Wl,--build-id=sha1 "
                                        + "-Wl,--hash-style=gnu -Wl,-rpath,/opt/lib -Wl,-Bsymbolic main.o helper.o -o app", in: work.path)
        #expect(r.stderrText.isEmpty, "\(r.stderrText)")
        try runBoth(work.file("app"), in: work.path)
        let readelf = try Harness.systemTool("llvm-readelf-19", package: "llvm-19")
        for isa in ISA.allCases {
            let notes = try ProcessRunner.run(readelf, ["-n", isa.siblingPath(of: work.file("app"))])
            #expect(notes.stdoutText.contains("NT_GNU_BUILD_ID"), "\(isa)")
        }
        let verbose = try Harness.mustSucceed("popcorn-ld -v -E -rpath /x main.o helper.o -o app2", in: work.path)
        #expect(verbose.stderrText.contains("note: '-E' has no effect: a static executable has no dynamic symbol table"))
        #expect(verbose.stderrText.contains("note: '-rpath /x' has no effect"))
    }

    @Test func versionScriptAndResponseFile() throws {
        let work = try objects("rsp")
        try "{ global: main; local: *; };\n".write(toFile: work.file("v.map"), atomically: true, encoding: .utf8)
        try "main.o 'helper.o'\n-o \"my app\" --version-script v.map\n".write(toFile: work.file("link.rsp"), atomically: true, encoding: .utf8)
        try Harness.mustSucceed("popcorn-ld @link.rsp", in: work.path)
        try runBoth(work.file("my app"), in: work.path)
    }

    @Test func refusedOptionSaysWhyAndWritesNothing() throws {
        let work = try objects("refused")
        let r = try Harness.shell("popcorn-ld -pie main.o helper.o -o app", in: work.path)
        #expect(r.status == 1)
        #expect(r.stderrText.hasPrefix("popcorn-ld: error: '-pie' is not supported: "), "\(r.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: work.file("app")))
    }

    @Test func undefinedSymbolNamesTheObjectAndArchiveMemberOnce() throws {
        let work = try Harness.scratch("undef")
        try "int missing(void);\nint main(void) { return missing(); }\n".write(toFile: work.file("main.c"), atomically: true, encoding: .utf8)
        try "int missing(void);\nint other(void) { return missing() + 1; }\n".write(toFile: work.file("m.c"), atomically: true, encoding: .utf8)
        try Harness.mustSucceed("popcorn-cc -c main.c m.c && llvm-ar-19 rcs libx.a m.o", in: work.path)
        let r = try Harness.shell("popcorn-ld main.o -u other libx.a -o app", in: work.path)
        #expect(r.status == 1)
        let text = r.stderrText
        #expect(text.components(separatedBy: "error: undefined symbol: missing").count == 2, "\(text)")
        #expect(text.contains(">>>               main.o:(main)"), "\(text)")
        // ld.lld's own spelling for a member: `m.o:(other) in archive libx.a`.
        #expect(text.contains(">>>               m.o:(other) in archive libx.a\n"), "\(text)")
        #expect(!text.contains("popcorn-ld-") && !text.contains("in001.o") && !text.contains("lib002.a"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: work.file("app")))
    }

    @Test func missingEntrySymbolWarnsOnce() throws {
        let work = try objects("entry")
        let r = try Harness.shell("popcorn-ld -e nosuchsym main.o helper.o -o app", in: work.path)
        #expect(r.status == 0)
        #expect(r.stderrText == "popcorn-ld: warning: cannot find entry symbol nosuchsym; not setting start address\n",
                "\(r.stderrText)")
    }

    @Test func deepWorkingDirectoryAndNonUTF8Names() throws {
        let work = try objects("paths")
        // 40 levels of 100-byte names: a 4 KiB working directory (PATH_MAX is 4096).
        let level = String(repeating: "d", count: 100)
        let deep = Array(repeating: level, count: 40).joined(separator: "/")
        try Harness.mustSucceed("mkdir -p \(deep) && cp main.o \(deep)/ && cp helper.o \(deep)/"
                                + " && cp helper.o \"$(printf 'caf\\351.o')\"", in: work.path)
        // Relative names from the deep directory (the absolute path is longer than PATH_MAX).
        try Harness.mustSucceed("cd \(deep) && popcorn-ld main.o helper.o -o app -Map app.map", in: work.path)
        try Harness.mustSucceed("cd \(deep) && ./app | grep -qx 42 && test -s app.aarch64 && test -s app.map.aarch64", in: work.path)
        // A Latin-1 input name and output name: found, and the outputs carry the same bytes.
        try Harness.mustSucceed("popcorn-ld main.o \"$(printf 'caf\\351.o')\" -o \"$(printf 'out\\377')\"", in: work.path)
        try Harness.mustSucceed("test -x \"$(printf 'out\\377')\" && test -x \"$(printf 'out\\377.aarch64')\""
                                + " && \"./$(printf 'out\\377')\" | grep -qx 42", in: work.path)
        let missing = try Harness.shell("popcorn-ld main.o \"$(printf 'gone\\351.o')\" -o x", in: work.path)
        #expect(missing.status == 1)
        #expect(missing.stderr.range(of: Data("no such file or directory: 'gone\u{FFFD}".utf8)) == nil)
        #expect(missing.stderr.range(of: Data([0x27, 0x67, 0x6F, 0x6E, 0x65, 0xE9, 0x2E, 0x6F, 0x27])) != nil, "\(missing.stderrText)")
    }

    @Test func timeTraceToStderrAndToAChromeTraceFile() throws {
        let work = try objects("trace")
        let r = try Harness.mustSucceed("popcorn-cc -Wl,--time-trace main.o helper.o -o app", in: work.path)
        let lines = r.stderrText.split(separator: "\n").filter { $0.hasPrefix("popcorn-ld: time: ") }
        for pass in ["1. options", "2. inputs", "3. split", "4a. member prediction", "4. probe links", "5. layout", "6. linker scripts",
                     "7. final links", "8. verify", "9. metadata", "10. link identity", "11. commit", "total"] {
            #expect(lines.contains { $0.contains(" \(pass) ") && $0.hasSuffix("%") }, "\(pass): \(r.stderrText)")
        }
        try Harness.mustSucceed("popcorn-ld --time-trace-file=trace.json main.o helper.o -o app", in: work.path)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work.file("trace.json"))))
        let events = try #require((json as? [String: Any])?["traceEvents"] as? [[String: Any]])
        let names = events.filter { $0["ph"] as? String == "X" }.compactMap { $0["name"] as? String }
        #expect(names.first == "popcorn-ld" && names.contains("7. final links") && names.contains("11. commit"), "\(names)")
        #expect(events.allSatisfy { $0["ph"] as? String != "X" || ($0["dur"] as? Int).map { $0 >= 0 } == true })
    }

    /// x86_64 has no rounding instruction in its baseline, so its code calls `floor` where
    /// aarch64's rounds inline: the ISAs' links load different C library members. Member
    /// prediction loads them on both from the first probe link, so no second round is needed.
    @Test func membersOnlyOneISAsCodeCallsAreLoadedFromTheFirstProbe() throws {
        let work = try Harness.scratch("prediction")
        try """
            #include <math.h>
            #include <stdio.h>
            #include <stdlib.h>
            int main(int argc, char **argv) { double x = argc > 1 ? atof(argv[1]) : 2.5; printf("%g\\n", floor(x) + ceil(x)); return 0; }

            """.write(toFile: work.file("round.c"), atomically: true, encoding: .utf8)
        try Harness.mustSucceed("popcorn-cc -O2 -c round.c", in: work.path)
        let r = try Harness.mustSucceed("popcorn-cc -O2 -Wl,-v round.o -o app -lm", in: work.path)
        let probes = r.stderrText.split(separator: "\n").filter { $0.contains("/probe.") && $0.contains("-Map=") }
        #expect(probes.count == ISA.allCases.count, "\(r.stderrText)")
        let aarch64 = probes.first { $0.contains("aarch64linux") } ?? ""
        #expect(aarch64.contains("\"-u\" \"floor\"") && aarch64.contains("\"-u\" \"ceil\""), "\(aarch64)")
        for isa in ISA.allCases {
            let run = try Harness.run(isa.siblingPath(of: work.file("app")), isa: isa, in: work.path)
            #expect(run.status == 0 && run.stdoutText == "5\n", "\(isa): \(run.stderrText)")
        }
    }
}
