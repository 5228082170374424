import Foundation
import Testing
@testable import PopcornDriver

@Suite struct OptionParserTests {
    let parser = OptionParser(table: DriverOptions.table)

    private func parse(_ args: [String]) -> OptionParser.Result { parser.parse(args) }

    @Test func flagMustMatchExactly() {
        let r = parse(["-c", "-cfoo"])
        #expect(r.arguments.map(\.option) == [DriverOptions.compile])
        #expect(r.errors == [.unknownArgument("-cfoo")])
    }

    @Test func joinedTakesTheRestIncludingEmpty() {
        let r = parse(["-O2", "-O", "-std=gnu11"])
        #expect(r.errors.isEmpty)
        #expect(r.arguments.map(\.option) == [DriverOptions.optimize, DriverOptions.optimize, DriverOptions.standard])
        #expect(r.arguments.map(\.value) == ["2", "", "gnu11"])
    }

    @Test func joinedOrSeparateAcceptsBothForms() {
        let r = parse(["-Iinc", "-I", "other", "-include", "pre.h", "-lm", "-o", "out"])
        #expect(r.errors.isEmpty)
        #expect(r.arguments.map(\.option) == [DriverOptions.includeDir, DriverOptions.includeDir,
                                              DriverOptions.include, DriverOptions.library, DriverOptions.output])
        #expect(r.arguments.map(\.value) == ["inc", "other", "pre.h", "m", "out"])
        #expect(r.arguments[0].rendered == ["-I", "inc"])
    }

    @Test func separateTakesTheNextArgumentEvenIfItLooksLikeAnOption() {
        let r = parse(["-Xlinker", "--gc-sections", "-Xclang", "-ast-dump"])
        #expect(r.errors.isEmpty)
        #expect(r.arguments.map(\.value) == ["--gc-sections", "-ast-dump"])
    }

    @Test func missingValueIsReported() {
        let r = parse(["-c", "-o"])
        #expect(r.errors == [.missingValue(option: "-o")])
        #expect(r.errors[0].diagnostic.description == "error: argument to '-o' is missing (expected 1 value)")
    }

    @Test func commaJoinedSplitsValues() {
        let r = parse(["-Wl,--gc-sections,-Map,out.map", "-Wp,-DX"])
        #expect(r.arguments[0].option == DriverOptions.wl)
        #expect(r.arguments[0].values == ["--gc-sections", "-Map", "out.map"])
        #expect(r.arguments[1].option == DriverOptions.wp)
        #expect(r.arguments[1].rendered == ["-Wp,-DX"])
    }

    @Test func longestPrefixWins() {
        let cases: [(String, Option)] = [
            ("-Wall", DriverOptions.warning), ("-Wl,-x", DriverOptions.wl), ("-Werror", DriverOptions.werror),
            ("-Werror=format", DriverOptions.werrorEq), ("-Wa,-x", DriverOptions.wa),
            ("-fwrapv", DriverOptions.feature), ("-fsanitize=address", DriverOptions.fsanitize),
            ("-fprofile-generate", DriverOptions.fprofile), ("-fPIC", DriverOptions.fPIC),
            ("-fPICK", DriverOptions.feature), ("-flto=thin", DriverOptions.fltoEq), ("-flto", DriverOptions.flto),
            ("-fsyntax-only", DriverOptions.syntaxOnly), ("-march=native", DriverOptions.march),
            ("-mavx2", DriverOptions.machine), ("-m64", DriverOptions.m64), ("-MMD", DriverOptions.depsMMD),
            ("-MF", DriverOptions.depsMF), ("-MFdeps.d", DriverOptions.depsMF), ("-isystem/x", DriverOptions.isystem),
            ("-imacrosdefs.h", DriverOptions.imacros), ("-save-temps=obj", DriverOptions.saveTempsEq),
            ("-print-file-name=libc.a", DriverOptions.printFileName), ("-pedantic-errors", DriverOptions.pedanticErrors),
        ]
        for (arg, expected) in cases {
            let r = parse(arg == "-MF" ? [arg, "x"] : [arg])
            #expect(r.errors.isEmpty, "\(arg)")
            #expect(r.arguments.first?.option == expected, "\(arg)")
        }
    }

    @Test func inputsAndStandardInput() {
        let r = parse(["a.c", "-", "lib.a"])
        #expect(r.arguments.allSatisfy { $0.option == OptionTable.input })
        #expect(r.arguments.map(\.value) == ["a.c", "-", "lib.a"])
    }

    @Test func remainingTakesEverything() {
        let r = parse(["-c", "--", "-weird.c", "-o"])
        #expect(r.errors.isEmpty)
        #expect(r.arguments.last?.option == DriverOptions.endOfOptions)
        #expect(r.arguments.last?.values == ["-weird.c", "-o"])
    }

    @Test func unknownArgumentsAreAllCollected() {
        let r = parse(["-qux", "-c", "--frobnicate", "-Zz"])
        #expect(r.errors == [.unknownArgument("-qux"), .unknownArgument("--frobnicate"), .unknownArgument("-Zz")])
        #expect(r.errors[0].diagnostic.description == "error: unknown argument: '-qux'")
    }

    @Test func tableHasNoDuplicateEntries() {
        let all = DriverOptions.all
        #expect(Set(all).count == all.count)
        for option in all where !option.isHidden && option.group != .internalOnly {
            #expect(!option.help.isEmpty, "\(option.spelling) needs help text")
        }
    }
}
