import Foundation
import Testing
import PopcornSupport
@testable import PopcornLinker

/// Options build systems and distributions pass (Debian's LDFLAGS, Lua's `-Wl,-E`, libtool's
/// `-rpath`), and `@file` response files.
@Suite struct DistributionFlagTests {
    @Test func debianAndUpstreamFlagsAreAccepted() throws {
        let o = try LinkerOptionParser.parse([
            "-z", "relro", "-znow", "--as-needed", "--no-undefined", "--hash-style=gnu", "--build-id", "--build-id=sha1",
            "-rpath", "/opt/lib", "-rpath=/x", "-soname", "libfoo.so.1", "--version-script", "v.map", "-E",
            "--export-dynamic", "-Bsymbolic", "--no-as-needed", "a.o", "-o", "app"])
        #expect(o.passThrough == ["-z", "relro", "-z", "now", "--build-id", "--build-id=sha1", "--version-script", "v.map"])
        #expect(o.noEffect.map(\.option) == ["--as-needed", "--no-undefined", "--hash-style=gnu", "-rpath /opt/lib", "-rpath=/x",
                                             "-soname libfoo.so.1", "-E", "--export-dynamic", "-Bsymbolic", "--no-as-needed"])
        #expect(o.noEffect.allSatisfy { !$0.reason.isEmpty })
        #expect(o.inputs == [.file("a.o")] && o.output == "app")
    }

    @Test func longOptionsWithOneDashAsInLLD() throws {
        let o = try LinkerOptionParser.parse(["-export-dynamic", "-build-id=sha1", "-hash-style=gnu", "-as-needed",
                                              "-version-script", "v.map", "-entry=go", "-eother", "-Map=m", "a.o"])
        #expect(o.noEffect.map(\.option) == ["-export-dynamic", "-hash-style=gnu", "-as-needed"])
        #expect(o.passThrough == ["-build-id=sha1", "-version-script", "v.map"])
        #expect(o.entry == "other" && o.mapFile == "m")
    }

    @Test func optionsThatWouldGiveAWrongBinaryAreRefusedWithTheReason() {
        for (args, option) in [(["-shared"], "-shared"), (["-pie"], "-pie"), (["-r"], "-r"),
                               (["-z", "max-page-size=65536"], "-z max-page-size=65536"),
                               (["-zcommon-page-size=16384"], "-z common-page-size=16384"), (["--icf=all"], "--icf=all")] {
            do {
                _ = try LinkerOptionParser.parse(args + ["a.o"])
                Issue.record("\(args) was accepted")
            } catch let error as LinkerError {
                guard case let .refusedOption(refused, reason) = error else { Issue.record("\(error)"); continue }
                #expect(refused == option && !reason.isEmpty)
                #expect(error.diagnostic.message.hasPrefix("'\(option)' is not supported: "))
            } catch { Issue.record("\(error)") }
        }
        #expect(throws: Never.self) { try LinkerOptionParser.parse(["--icf=none", "a.o"]) }
    }

    @Test func passThroughReachesEveryLinkCommand() throws {
        let o = try LinkerOptionParser.parse(["-z", "relro", "--build-id", "a.o"])
        let command = LinkCommand(isa: .x86_64, inputs: ISALinkInputs(), options: o, runtimeArchive: nil)
        for args in [command.arguments(script: nil, map: "m", output: "o"), command.arguments(script: "s", map: nil, output: "o", strip: true)] {
            let at = try #require(args.firstIndex(of: "relro"))
            #expect(args[at - 1] == "-z" && args.contains("--build-id"))
            // After popcorn's own `-z norelro`, so the user's choice is the one ld.lld keeps.
            #expect(at > args.firstIndex(of: "norelro")!)
        }
    }

    @Test func timeTraceOptions() throws {
        let plain = try LinkerOptionParser.parse(["--time-trace", "a.o"])
        #expect(plain.timeTrace && plain.timeTraceFile == nil)
        let file = try LinkerOptionParser.parse(["--time-trace-file=t.json", "a.o"])
        #expect(file.timeTrace && file.timeTraceFile == "t.json")
    }

    @Test func helpListsTheNewOptions() {
        for name in ["--build-id", "--version-script", "-rpath", "--as-needed", "-shared", "--time-trace", "--time-trace-file"] {
            #expect(LinkerOptionParser.helpText.contains(name), "\(name)")
        }
    }

    // MARK: Response files

    @Test func tokenizesWithGNUQuotingRules() {
        func t(_ s: String) -> [String] { ResponseFiles.tokenize(Array(s.utf8)) }
        #expect(t("a.o  b.o\n\t-o app\r\n") == ["a.o", "b.o", "-o", "app"])
        #expect(t(#"'with space.o' "dq \"in\" side" a\ b"#) == ["with space.o", #"dq "in" side"#, "a b"])
        #expect(t(#"pre'mid dle'post x"#) == ["premid dlepost", "x"])
        #expect(t(#"'it\'s'"#) == ["it's"])
        #expect(t(#"c:\\dir\\f.o"#) == [#"c:\dir\f.o"#])
        #expect(t("'' x") == ["x"])
        #expect(t("'unterminated rest") == ["unterminated rest"])
        #expect(t("") == [])
    }

    @Test func expandsNestedResponseFilesAndKeepsUnreadableOnes() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-rsp")
        try FileSystem.write(Data("-o app @\(dir.file("inner.rsp")) 'b c.o'\n".utf8), to: dir.file("outer.rsp"))
        try FileSystem.write(Data("-z relro a.o".utf8), to: dir.file("inner.rsp"))
        #expect(try ResponseFiles.expand(["x.o", "@\(dir.file("outer.rsp"))", "@\(dir.file("missing.rsp"))"])
                == ["x.o", "-o", "app", "-z", "relro", "a.o", "b c.o", "@\(dir.file("missing.rsp"))"])
        let o = try LinkerOptionParser.parse(["@\(dir.file("outer.rsp"))"])
        #expect(o.output == "app" && o.passThrough == ["-z", "relro"] && o.inputs == [.file("a.o"), .file("b c.o")])
    }

    @Test func recursiveResponseFileIsAnError() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-rsp")
        try FileSystem.write(Data("a.o @\(dir.file("self.rsp"))".utf8), to: dir.file("self.rsp"))
        #expect(throws: LinkerError.recursiveResponseFile(path: dir.file("self.rsp"))) {
            try ResponseFiles.expand(["@\(dir.file("self.rsp"))"])
        }
    }

    @Test func responseFileBytesThatAreNotUTF8Survive() {
        let tokens = ResponseFiles.tokenize([0x63, 0x61, 0x66, 0xE9, 0x2E, 0x6F, 0x20, 0x78])
        #expect(tokens.count == 2 && Path.fileSystemBytes(tokens[0]) == [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x6F])
    }
}
