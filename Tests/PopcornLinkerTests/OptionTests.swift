import Testing
@testable import PopcornLinker

@Suite struct OptionTests {
    @Test func parsesLdStyleCommandLine() throws {
        let o = try LinkerOptionParser.parse(["a.o", "-L", "lib", "-Lother", "-lm", "-l", "x", "--start-group",
                                              "b.a", "--end-group", "-o", "app", "-e", "start", "-Map=app.map",
                                              "-v", "-static", "-s", "--print-layout", "-nostartfiles"])
        #expect(o.inputs == [.file("a.o"), .library("m"), .library("x"), .groupStart, .file("b.a"), .groupEnd])
        #expect(o.libraryPaths == ["lib", "other"])
        #expect(o.output == "app" && o.entry == "start" && o.mapFile == "app.map")
        #expect(o.verbose && o.stripAll && o.printLayout && o.noStartFiles && !o.noStdlib)
    }

    @Test func joinedAndLongSpellings() throws {
        let o = try LinkerOptionParser.parse(["-oapp", "--entry=go", "-Map", "m", "--library=z", "x.o", "-l:libq.a"])
        #expect(o.output == "app" && o.entry == "go" && o.mapFile == "m")
        #expect(o.inputs == [.library("z"), .file("x.o"), .library(":libq.a")])
    }

    @Test func rejectsUnknownAndMissing() {
        #expect(throws: LinkerError.unknownArgument("--frobnicate")) { try LinkerOptionParser.parse(["--frobnicate"]) }
        #expect(throws: LinkerError.missingArgument(option: "-o")) { try LinkerOptionParser.parse(["a.o", "-o"]) }
        #expect(LinkerError.unknownArgument("-q").diagnostic.description == "error: unknown argument: '-q'")
    }

    @Test func gcSectionsIsRefusedWithReason() {
        #expect(throws: LinkerError.gcSectionsUnsupported) { try LinkerOptionParser.parse(["--gc-sections", "a.o"]) }
        #expect(LinkerError.gcSectionsUnsupported.diagnostic.message.contains("alignment"))
    }

    @Test func helpListsEveryOption() {
        for spec in LinkerOptionParser.table { #expect(LinkerOptionParser.helpText.contains(spec.spellings[0])) }
    }

    @Test func mainExitsOneOnUnknownArgument() {
        #expect(Linker.main(arguments: ["--no-such-thing"]) == 1)
    }
}
