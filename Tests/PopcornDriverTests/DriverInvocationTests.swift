import Testing
@testable import PopcornDriver

@Suite struct DriverInvocationTests {
    @Test func stagePrecedenceFollowsClang() {
        #expect(Planning.invocation(["a.c"]).mode == .link)
        #expect(Planning.invocation(["-c", "a.c"]).mode == .compile)
        #expect(Planning.invocation(["-c", "-S", "a.c"]).mode == .assemble)
        #expect(Planning.invocation(["-S", "-fsyntax-only", "a.c"]).mode == .syntaxOnly)
        #expect(Planning.invocation(["-c", "-E", "-fsyntax-only", "a.c"]).mode == .preprocess)
        #expect(Planning.invocation(["-M", "-c", "a.c"]).mode == .preprocess)
    }

    @Test func optimizationLevels() {
        let cases: [(String, String, String)] = [
            ("-O0", "-O0", "0"), ("-O", "-O1", "1"), ("-O2", "-O2", "2"), ("-O3", "-O3", "3"),
            ("-Os", "-Os", "s"), ("-Oz", "-Oz", "z"), ("-Ofast", "-Ofast", "3"), ("-Og", "-Og", "1"), ("-O4", "-O4", "3"),
        ]
        for (flag, frontend, backend) in cases {
            let inv = Planning.invocation(["-O1", flag, "-c", "a.c"])
            #expect(inv.frontendOptimization == frontend, "\(flag)")
            #expect(inv.backendOptimization == backend, "\(flag)")
        }
        let bad = Planning.invocation(["-Ox", "-c", "a.c"])
        #expect(bad.diagnostics == [.invalidOptimizationLevel("-Ox")])
        #expect(bad.diagnostics[0].diagnostic.message == "invalid integral value 'x' in '-Ox'")
    }

    @Test func debugInformation() {
        #expect(Planning.invocation(["-c", "a.c"]).debugArguments == [])
        #expect(Planning.invocation(["-g", "-c", "a.c"]).debugArguments == ["-g"])
        #expect(Planning.invocation(["-g", "-ggdb3", "-c", "a.c"]).debugArguments == ["-g", "-ggdb3"])
        #expect(Planning.invocation(["-g3", "-g0", "-c", "a.c"]).keepDebugInfo == false)
        #expect(Planning.invocation(["-g0", "-g2", "-c", "a.c"]).debugArguments == ["-g2"])
    }

    @Test func forwardedArgumentsKeepOrderAndSpelling() {
        let inv = Planning.invocation(["-DA=1", "-I", "inc", "-Wall", "-std=c11", "-fwrapv", "-c", "a.c",
                                       "-Wp,-MD,x", "-include", "p.h", "-w", "-pthread"])
        #expect(inv.frontendArguments == ["-D", "A=1", "-I", "inc", "-Wall", "-std=c11", "-fwrapv",
                                          "-Wp,-MD,x", "-include", "p.h", "-w", "-pthread"])
        #expect(inv.suppressWarnings)
    }

    @Test func refusedAndIgnoredOptions() {
        let inv = Planning.invocation(["-flto", "-fsanitize=address", "-fprofile-generate", "-fsplit-stack",
                                       "-march=native", "-mavx", "-shared", "-Wa,-g", "-fPIC", "-fpie", "-m64",
                                       "-static", "-pipe", "-fno-data-sections", "-c", "a.c"])
        let refused = inv.diagnostics.compactMap { d -> String? in
            if case let .unsupportedOption(arg, _) = d { return arg }
            return nil
        }
        #expect(refused == ["-flto", "-fsanitize=address", "-fprofile-generate", "-fsplit-stack",
                            "-march=native", "-mavx", "-shared", "-Wa,-g"])
        #expect(inv.diagnostics.contains { if case .argumentIgnored("-fno-data-sections", _) = $0 { true } else { false } })
        #expect(inv.frontendArguments.isEmpty)
        #expect(inv.diagnostics.first?.diagnostic.description.hasPrefix("error: unsupported option '-flto': ") == true)
    }

    @Test func inputsByExtensionAndLanguage() {
        let inv = Planning.invocation(["a.c", "b.i", "c.o", "libd.a", "e.weird", "-x", "c", "f.h", "-x", "none", "g.c"])
        #expect(inv.inputs.map(\.type) == [.c, .preprocessedC, .linkerInput, .linkerInput, .linkerInput, .c, .c])
        #expect(!inv.hasErrors)
        for bad in ["x.s", "x.S", "x.cpp", "x.cc", "x.m"] {
            let inv = Planning.invocation(["-c", bad])
            #expect(inv.diagnostics.first.map { if case .unsupportedInput(bad, _) = $0 { true } else { false } } == true, "\(bad)")
            #expect(inv.diagnostics.last == .noInputFiles)
        }
        #expect(Planning.invocation(["-x", "c++", "-c", "a.c"]).diagnostics.first == .unsupportedLanguage("c++"))
    }

    @Test func standardInput() {
        #expect(Planning.invocation(["-c", "-"]).diagnostics.first == .standardInputNeedsLanguage)
        #expect(Planning.invocation(["-x", "c", "-c", "-"]).inputs == [InputFile(path: "-", type: .c)])
        #expect(Planning.invocation(["-", "-E"]).inputs.count == 1)
    }

    @Test func missingAndNoInputs() {
        let inv = Planning.invocation(["-c", "x.c", "y.c"], existing: ["y.c"])
        #expect(inv.diagnostics == [.noSuchFile("x.c")])
        #expect(inv.diagnostics[0].diagnostic.message == "no such file or directory: 'x.c'")
        #expect(Planning.invocation(["-c"]).diagnostics == [.noInputFiles])
        #expect(Planning.invocation(["-c", "x.c"], existing: []).diagnostics == [.noSuchFile("x.c"), .noInputFiles])
        #expect(Planning.invocation(["-v"]).diagnostics.isEmpty)
        #expect(Planning.invocation(["-v"]).isVersionQueryOnly)
        #expect(Planning.invocation(["--version"]).diagnostics.isEmpty)
    }

    @Test func outputWithSeveralCompiledInputs() {
        for mode in ["-c", "-S", "-E"] {
            #expect(Planning.invocation([mode, "a.c", "b.c", "-o", "x"]).diagnostics == [.multipleOutputsWithOutputFile])
        }
        #expect(Planning.invocation(["a.c", "b.c", "-o", "app"]).diagnostics.isEmpty)
        #expect(Planning.invocation(["-c", "a.c", "b.o", "-o", "a.o"]).diagnostics == [.linkerInputUnused("b.o")])
    }

    @Test func linkerArgumentsWarnWhenNotLinking() {
        let inv = Planning.invocation(["-c", "a.c", "-lm", "-L/x"])
        #expect(inv.diagnostics == [.linkerInputUnused("-lm"), .argumentUnused("-L/x")])
        #expect(inv.diagnostics.allSatisfy { $0.diagnostic.severity == .warning })
    }

    @Test func linkItemsKeepCommandLineOrder() {
        let inv = Planning.invocation(["-L", "lib", "a.c", "-Wl,--whole-archive", "libx.a", "-Xlinker", "--no-whole-archive",
                                       "-lm", "-nostartfiles"])
        #expect(inv.linkItems == [.arguments(["-L", "lib"]), .input(InputFile(path: "a.c", type: .c)),
                                  .arguments(["--whole-archive"]), .input(InputFile(path: "libx.a", type: .linkerInput)),
                                  .arguments(["--no-whole-archive"]), .arguments(["-l", "m"]), .arguments(["-nostartfiles"])])
    }

    @Test func dependencySettings() {
        var inv = Planning.invocation(["-MMD", "-MF", "x.d", "-MT", "t1", "-MQ", "t$2", "-c", "a.c"])
        #expect(inv.dependencies.kind == .sideFile)
        #expect(inv.dependencies.clangFlag == "-MMD")
        #expect(inv.dependencies.file == "x.d")
        #expect(inv.dependencies.targets == [["-MT", "t1"], ["-MQ", "t$2"]])
        inv = Planning.invocation(["-MD", "-M", "a.c"])
        #expect(inv.dependencies.kind == .ruleOnly)
        #expect(inv.dependencies.clangFlag == "-M")
        #expect(DependencySettings.replacingExtension(of: "obj/a.o", with: "d") == "obj/a.d")
        #expect(DependencySettings.replacingExtension(of: "app", with: "d") == "app.d")
        #expect(DependencySettings.replacingExtension(of: "v1.2/app", with: "d") == "v1.2/app.d")
    }

    @Test func saveTemps() {
        #expect(Planning.invocation(["-save-temps", "-c", "a.c"]).saveTemps == .cwd)
        #expect(Planning.invocation(["-save-temps=obj", "-c", "a.c"]).saveTemps == .obj)
        #expect(Planning.invocation(["-save-temps=x", "-c", "a.c"]).diagnostics == [.invalidSaveTemps("x")])
    }

    @Test func immediateActions() {
        let inv = Planning.invocation(["-print-prog-name=ld", "-dumpmachine", "--help"])
        #expect(inv.immediateActions == [.printProgramName("ld"), .dumpMachine, .help])
        #expect(!inv.hasErrors)
    }

    @Test func cc1popcornOnlyFirst() {
        #expect(Planning.invocation(["-c", "a.c", "-cc1popcorn"]).diagnostics == [.cc1popcornNotFirst])
    }
}
