import PopcornSupport
import Testing
@testable import PopcornDriver

@Suite struct JobPlannerTests {
    let base = ["--target=aarch64-unknown-linux-musl", "-nostdinc", "-D__popcorn__=1", "-U__ARM_NEON", "-U__ARM_NEON_FP", "-ffp-contract=off", "-mno-outline-atomics",
                "-fno-pic", "-fno-pie", "-ffunction-sections", "-fdata-sections", "-fno-common"]
    let headers = ["-isystem", "/opt/p/lib/popcorn/include", "-isystem", "/usr/include/aarch64-linux-musl",
                   "-isystem", "/res/include"]

    @Test func compileToObject() throws {
        let jobs = try Planning.jobs(["-O2", "-c", "src/a.c", "-DX"])
        #expect(jobs.map(\.kind) == [.frontend, .backend])
        #expect(jobs[0].tool == "/usr/bin/clang-19")
        #expect(jobs[0].arguments == base + ["-O2", "-gline-tables-only", "-D", "X"] + headers
                + ["-emit-llvm", "-c", "-o", "/tmp/T/a-0.bc", "-x", "c", "src/a.c"])
        #expect(jobs[0].outputs == ["/tmp/T/a-0.bc"])
        #expect(jobs[1].tool == "/opt/p/bin/popcorn-cc")
        #expect(jobs[1].arguments == ["-cc1popcorn", "/tmp/T/a-0.bc", "-o", "a.o", "-O2", "-emit-obj",
                                      "-main-file-name", "src/a.c"])
        #expect(jobs[1].inputs == ["/tmp/T/a-0.bc"])
        #expect(jobs[1].outputs == ["a.o"])
    }

    /// clang's default, -fno-common, stays the default; a user's -fcommon or -fno-common follows
    /// it among the frontend arguments, where the last one wins.
    @Test func commonSymbolsFollowTheUser() throws {
        let plain = try Planning.jobs(["-c", "a.c"])
        #expect(plain[0].arguments.filter { $0.hasSuffix("common") } == ["-fno-common"])
        let common = try Planning.jobs(["-fcommon", "-c", "a.c"])
        #expect(common[0].arguments.filter { $0.hasSuffix("common") } == ["-fno-common", "-fcommon"])
        #expect(common[0].arguments.firstIndex(of: "-fcommon")! > common[0].arguments.firstIndex(of: "-fno-common")!)
        let back = try Planning.jobs(["-fcommon", "-fno-common", "-c", "a.c"])
        #expect(back[0].arguments.filter { $0.hasSuffix("common") } == ["-fno-common", "-fcommon", "-fno-common"])
        let invocation = Planning.invocation(["-fcommon", "-c", "a.c"])
        #expect(!invocation.diagnostics.contains { if case .argumentIgnored = $0 { true } else { false } })
    }

    @Test func debugInformationIsKept() throws {
        let jobs = try Planning.jobs(["-g", "-c", "a.c", "-o", "out/x.o"])
        #expect(jobs[0].arguments.contains("-g"))
        #expect(!jobs[0].arguments.contains("-gline-tables-only"))
        #expect(jobs[1].arguments.contains("-keep-debug-info"))
        #expect(jobs[1].outputs == ["out/x.o"])
    }

    @Test func multipleInputsGetTheirOwnJobsAndNames() throws {
        let jobs = try Planning.jobs(["-c", "x/a.c", "y/a.c", "b.i"])
        #expect(jobs.map(\.kind) == [.frontend, .backend, .frontend, .backend, .frontend, .backend])
        #expect(jobs.filter { $0.kind == .backend }.map(\.outputs) == [["a.o"], ["a.o"], ["b.o"]])
        let bitcodes = jobs.filter { $0.kind == .frontend }.flatMap(\.outputs)
        #expect(Set(bitcodes).count == 3)
        #expect(jobs[4].arguments.suffix(3) == ["-x", "cpp-output", "b.i"])
    }

    @Test func assemblyNamesEveryISA() throws {
        let jobs = try Planning.jobs(["-S", "a.c"])
        #expect(jobs[1].arguments.containsSequence(["-o", "a.s", "-O0", "-emit-asm"]))
        #expect(jobs[1].outputs == ["a.s"] + ISA.foreign.map { "a.s.\($0.rawValue)" })
        let ir = try Planning.jobs(["-S", "-emit-llvm", "a.c"])
        #expect(ir[1].arguments.containsSequence(["-o", "a.ll", "-O0", "-emit-llvm"]))
        let bc = try Planning.jobs(["-c", "-emit-llvm", "a.c"])
        #expect(bc[1].arguments.containsSequence(["-o", "a.bc", "-O0", "-emit-llvm-bc"]))
    }

    @Test func preprocessToStandardOutputOrStagedFile() throws {
        let stdout = try Planning.jobs(["-E", "a.c"])
        #expect(stdout.map(\.kind) == [.preprocess])
        #expect(!stdout[0].arguments.contains("-o"))
        #expect(stdout[0].arguments.suffix(4) == ["-E", "-x", "c", "a.c"])
        let file = try Planning.jobs(["-E", "a.c", "-o", "a.i"])
        #expect(file[0].arguments.value(after: "-o") == "/tmp/T/a-0.i")
        #expect(file[0].stagedOutputs == [Job.StagedOutput(temporary: "/tmp/T/a-0.i", destination: "a.i")])
        #expect(file[0].outputs == ["a.i"])
    }

    @Test func syntaxOnly() throws {
        let jobs = try Planning.jobs(["-fsyntax-only", "a.c", "b.c"])
        #expect(jobs.map(\.kind) == [.syntaxCheck, .syntaxCheck])
        #expect(jobs[0].arguments.suffix(4) == ["-fsyntax-only", "-x", "c", "a.c"])
    }

    @Test func linkUsesTemporaryObjectsInCommandLineOrder() throws {
        let jobs = try Planning.jobs(["-O2", "-L", "lib", "a.c", "-Wl,--start-group,-lx", "b.o", "c.c", "-lm", "-v"])
        #expect(jobs.map(\.kind) == [.frontend, .backend, .frontend, .backend, .link])
        let link = jobs[4]
        #expect(link.tool == "/opt/p/bin/popcorn-ld")
        #expect(link.arguments == ["-o", "a.out", "-L", "lib", "/tmp/T/a-1.o", "--start-group", "-lx", "b.o",
                                   "/tmp/T/c-4.o", "-l", "m", "-v"])
        #expect(link.inputs == ["/tmp/T/a-1.o", "b.o", "/tmp/T/c-4.o"])
        #expect(jobs[0].arguments.contains("-v"))
        #expect(!jobs[1].arguments.contains("-v"))
        #expect(jobs[1].outputs == ["/tmp/T/a-1.o"])
        #expect(try Planning.jobs(["a.o", "-o", "app"]).map(\.arguments) == [["-o", "app", "a.o"]])
    }

    @Test func linkWithoutLinkerFails() {
        let inv = Planning.invocation(["a.c"])
        var tools = Planning.tools
        tools.popcornLD = nil
        #expect(throws: ProcessError.self) {
            try JobPlanner(invocation: inv, tools: tools, temporaryDirectory: "/tmp/T").plan()
        }
    }

    @Test func saveTempsKeepsIntermediatesInCwdOrNextToOutput() throws {
        let cwd = try Planning.jobs(["-save-temps", "src/a.c", "-o", "out/app"])
        #expect(cwd[0].outputs == ["a.bc"])
        #expect(cwd[1].outputs == ["a.o"])
        let obj = try Planning.jobs(["-save-temps=obj", "-c", "src/a.c", "-o", "out/a.o"])
        #expect(obj[0].outputs == ["out/a.bc"])
        #expect(obj[1].outputs == ["out/a.o"])
    }

    // MARK: Dependency files

    @Test func mdDefaultsToOutputNameAndTarget() throws {
        let jobs = try Planning.jobs(["-MD", "-c", "src/a.c", "-o", "obj/a.o"])
        let args = jobs[0].arguments
        #expect(args.containsSequence(["-MD", "-MQ", "obj/a.o", "-MF", "/tmp/T/a-0.d"]))
        #expect(jobs[0].stagedOutputs == [Job.StagedOutput(temporary: "/tmp/T/a-0.d", destination: "obj/a.d")])
    }

    @Test func mmdWithoutOutputUsesInputStem() throws {
        let jobs = try Planning.jobs(["-MMD", "-MP", "-c", "src/a.c"])
        #expect(jobs[0].arguments.containsSequence(["-MMD", "-MQ", "a.o", "-MF", "/tmp/T/a-0.d"]))
        #expect(jobs[0].arguments.contains("-MP"))
        #expect(jobs[0].stagedOutputs.map(\.destination) == ["a.d"])
    }

    @Test func userTargetsAndFileReplaceDefaults() throws {
        let jobs = try Planning.jobs(["-MD", "-MF", "deps/x.d", "-MT", "t1", "-MQ", "t 2", "-c", "a.c", "-o", "a.o"])
        let args = jobs[0].arguments
        #expect(args.containsSequence(["-MD", "-MT", "t1", "-MQ", "t 2", "-MF", "/tmp/T/a-0.d"]))
        #expect(!args.containsSequence(["-MQ", "a.o"]))
        #expect(jobs[0].stagedOutputs.map(\.destination) == ["deps/x.d"])
    }

    @Test func mdWhenLinkingTargetsTheExecutable() throws {
        let jobs = try Planning.jobs(["-MD", "a.c", "-o", "app"])
        #expect(jobs[0].arguments.containsSequence(["-MD", "-MQ", "app"]))
        #expect(jobs[0].stagedOutputs.map(\.destination) == ["app.d"])
    }

    @Test func ruleOnlyModes() throws {
        let stdout = try Planning.jobs(["-MM", "src/a.c"])
        #expect(stdout.map(\.kind) == [.preprocess])
        #expect(stdout[0].arguments.containsSequence(["-MM", "-MQ", "a.o", "-E"]))
        #expect(!stdout[0].arguments.contains("-MF"))
        #expect(!stdout[0].arguments.contains("-o"))
        // With -M the rule goes to -o and the target is still derived from the input.
        let file = try Planning.jobs(["-M", "src/a.c", "-o", "a.dep"])
        #expect(file[0].arguments.containsSequence(["-M", "-MQ", "a.o", "-MF", "/tmp/T/a-0.d", "-E"]))
        #expect(!file[0].arguments.contains("-o"))
        #expect(file[0].stagedOutputs.map(\.destination) == ["a.dep"])
        let mf = try Planning.jobs(["-M", "-MF", "r.d", "a.c", "-o", "ignored"])
        #expect(mf[0].stagedOutputs.map(\.destination) == ["r.d"])
    }

    @Test func preprocessWithSideFile() throws {
        let jobs = try Planning.jobs(["-E", "-MMD", "a.c", "-o", "a.i"])
        #expect(jobs[0].arguments.containsSequence(["-MMD", "-MQ", "a.i", "-MF", "/tmp/T/a-0.d", "-E", "-o", "/tmp/T/a-0.i"]))
        #expect(jobs[0].stagedOutputs.map(\.destination) == ["a.d", "a.i"])
    }

    @Test func userSystemDirectoriesPrecedeMusl() throws {
        let args = try Planning.jobs(["-isystem", "/mine", "-c", "a.c"])[0].arguments
        let mine = try #require(args.firstIndex(of: "/mine"))
        let musl = try #require(args.firstIndex(of: "/usr/include/aarch64-linux-musl"))
        #expect(mine < musl)
    }

    @Test func headerSearchSwitches() throws {
        let args = try Planning.jobs(["-nostdinc", "-c", "a.c"])[0].arguments
        #expect(!args.contains("/usr/include/aarch64-linux-musl"))
        #expect(!args.contains("/res/include"))
        #expect(args.contains("/opt/p/lib/popcorn/include"))
        let noBuiltin = try Planning.jobs(["-nobuiltininc", "-c", "a.c"])[0].arguments
        #expect(noBuiltin.contains("/usr/include/aarch64-linux-musl") && !noBuiltin.contains("/res/include"))
    }

    @Test func jobPrintsLikeClang() throws {
        let job = Job(kind: .link, tool: "/bin/ld", arguments: ["-o", "a b", #"q"t\x"#], inputs: [], outputs: [])
        #expect(job.description == #" "/bin/ld" "-o" "a b" "q\"t\\x""#)
    }
}
