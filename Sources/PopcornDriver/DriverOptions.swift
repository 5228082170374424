/// The option table of popcorn-cc: every option the driver understands, as data.
///
/// The driver interprets options by identity (`DriverOptions.c`), never by comparing strings;
/// options whose destination is `.frontend` or `.linker` are forwarded as written, in order.
/// Catch-all prefixes (`-f`, `-W`, `-m`) sit next to longer, more specific spellings: lookup
/// picks the longest matching spelling, so `-fsanitize=address` is refused while `-fwrapv`
/// reaches clang.
public enum DriverOptions {
    private static let notMultiISA = "each ISA's code is generated from the portable IR at compile time"
    private static let alwaysStatic = "popcorn binaries are always static and position-dependent"

    // MARK: Stages
    public static let preprocess = Option("-E", .flag, group: .mode, help: "Only run the preprocessor")
    public static let syntaxOnly = Option("-fsyntax-only", .flag, group: .mode, help: "Only parse and check the source")
    public static let assemble = Option("-S", .flag, group: .mode, help: "Write assembly: the host ISA's to the output, each other ISA's to <output>.<isa>")
    public static let compile = Option("-c", .flag, group: .mode, help: "Compile to a multi-ISA object file; do not link")
    public static let emitLLVM = Option("-emit-llvm", .flag, group: .mode, help: "With -S write portable LLVM IR (.ll), with -c LLVM bitcode (.bc)")
    public static let cc1popcorn = Option("-cc1popcorn", .flag, group: .internalOnly, help: "Run the in-process back end (must be the first argument)", hidden: true)

    // MARK: Output
    public static let output = Option("-o", .joinedOrSeparate, group: .output, help: "Write the output to <file> ('-' for standard output)", metaVariable: "<file>")
    public static let saveTemps = Option("-save-temps", .flag, group: .output, help: "Keep intermediate bitcode and objects in the current directory")
    public static let saveTempsEq = Option("-save-temps=", .joined, group: .output, help: "Keep intermediate files in the current directory (cwd) or next to the output (obj)", metaVariable: "<cwd|obj>")
    public static let pipe = Option("-pipe", .flag, group: .output, help: "Accepted for compatibility", destination: .ignored(reason: "intermediate files are always private temporaries"))

    // MARK: Optimization and debug information
    public static let optimize = Option("-O", .joined, group: .optimization, help: "Optimization level: 0, 1, 2, 3, s, z, fast, g; -O alone means -O1", metaVariable: "<level>")
    public static let debug = Option("-g", .joined, group: .optimization, help: "Debug information: -g, -g0 … -g3, -ggdb, -gline-tables-only, -gdwarf-<n>", metaVariable: "<kind>")

    // MARK: Preprocessor
    public static let define = Option("-D", .joinedOrSeparate, group: .preprocessor, help: "Define <macro> (to <value>, or 1)", metaVariable: "<macro>[=<value>]", destination: .frontend)
    public static let undefine = Option("-U", .joinedOrSeparate, group: .preprocessor, help: "Undefine <macro>", metaVariable: "<macro>", destination: .frontend)
    public static let includeDir = Option("-I", .joinedOrSeparate, group: .preprocessor, help: "Add <dir> to the include search path", metaVariable: "<dir>", destination: .frontend)
    public static let include = Option("-include", .joinedOrSeparate, group: .preprocessor, help: "Include <file> before the source", metaVariable: "<file>", destination: .frontend)
    public static let imacros = Option("-imacros", .joinedOrSeparate, group: .preprocessor, help: "Take the macros of <file> before the source", metaVariable: "<file>", destination: .frontend)
    public static let isystem = Option("-isystem", .joinedOrSeparate, group: .preprocessor, help: "Add <dir> to the system include search path", metaVariable: "<dir>", destination: .frontend)
    public static let iquote = Option("-iquote", .joinedOrSeparate, group: .preprocessor, help: "Add <dir> to the search path of #include \"…\"", metaVariable: "<dir>", destination: .frontend)
    public static let idirafter = Option("-idirafter", .joinedOrSeparate, group: .preprocessor, help: "Add <dir> to the end of the system include search path", metaVariable: "<dir>", destination: .frontend)
    public static let nostdinc = Option("-nostdinc", .flag, group: .preprocessor, help: "Do not search the musl or compiler header directories")
    public static let nostdlibinc = Option("-nostdlibinc", .flag, group: .preprocessor, help: "Do not search the musl header directory")
    public static let nobuiltininc = Option("-nobuiltininc", .flag, group: .preprocessor, help: "Do not search the compiler's own header directory")
    public static let keepComments = Option("-C", .flag, group: .preprocessor, help: "Keep comments in preprocessed output", destination: .frontend)
    public static let keepMacroComments = Option("-CC", .flag, group: .preprocessor, help: "Keep comments, also in macro expansions", destination: .frontend)
    public static let noLineMarkers = Option("-P", .flag, group: .preprocessor, help: "No line markers in preprocessed output", destination: .frontend)
    public static let dumpMacros = Option("-dM", .flag, group: .preprocessor, help: "Print macro definitions instead of preprocessed output", destination: .frontend)
    public static let dumpDefines = Option("-dD", .flag, group: .preprocessor, help: "Print macro definitions along with preprocessed output", destination: .frontend)
    public static let undef = Option("-undef", .flag, group: .preprocessor, help: "Do not predefine system-specific macros", destination: .frontend)
    public static let xpreprocessor = Option("-Xpreprocessor", .separate, group: .preprocessor, help: "Pass <arg> to the preprocessor", metaVariable: "<arg>", destination: .frontend)
    public static let wp = Option("-Wp,", .commaJoined, group: .preprocessor, help: "Pass the comma-separated <args> to the preprocessor", metaVariable: "<arg>", destination: .frontend)

    // MARK: Language and warnings
    public static let language = Option("-x", .joinedOrSeparate, group: .language, help: "Treat the following inputs as <language>: c, cpp-output or none (by extension)", metaVariable: "<language>")
    public static let standard = Option("-std=", .joined, group: .language, help: "C language standard (c89, c99, c11, c17, c23, gnu…)", metaVariable: "<standard>", destination: .frontend)
    public static let ansi = Option("-ansi", .flag, group: .language, help: "Same as -std=c89", destination: .frontend)
    public static let pedantic = Option("-pedantic", .flag, group: .language, help: "Warn about extensions to ISO C", destination: .frontend)
    public static let pedanticErrors = Option("-pedantic-errors", .flag, group: .language, help: "Reject extensions to ISO C", destination: .frontend)
    public static let trigraphs = Option("-trigraphs", .flag, group: .language, help: "Process trigraph sequences", destination: .frontend)
    public static let noWarnings = Option("-w", .flag, group: .language, help: "Suppress all warnings", destination: .frontend)
    public static let werror = Option("-Werror", .flag, group: .language, help: "Treat warnings as errors", destination: .frontend)
    public static let werrorEq = Option("-Werror=", .joined, group: .language, help: "Treat the warning <name> as an error", metaVariable: "<name>", destination: .frontend)
    public static let warning = Option("-W", .joined, group: .language, help: "Enable (-W<name>) or disable (-Wno-<name>) a warning", metaVariable: "<name>", destination: .frontend)
    public static let qunused = Option("-Qunused-arguments", .flag, group: .language, help: "Do not warn about unused arguments", destination: .frontend)
    public static let xclang = Option("-Xclang", .separate, group: .language, help: "Pass <arg> to the clang frontend (cc1)", metaVariable: "<arg>", destination: .frontend)

    // MARK: Code generation
    public static let feature = Option("-f", .joined, group: .codeGeneration, help: "Language and code-generation feature, passed to the frontend (-fwrapv, -fno-strict-aliasing, …)", metaVariable: "<feature>", destination: .frontend)
    public static let fpic = Option("-fpic", .flag, group: .codeGeneration, help: "Accepted and ignored", destination: .ignored(reason: alwaysStatic))
    public static let fPIC = Option("-fPIC", .flag, group: .codeGeneration, help: "Accepted and ignored", destination: .ignored(reason: alwaysStatic))
    public static let fpie = Option("-fpie", .flag, group: .codeGeneration, help: "Accepted and ignored", destination: .ignored(reason: alwaysStatic))
    public static let fPIE = Option("-fPIE", .flag, group: .codeGeneration, help: "Accepted and ignored", destination: .ignored(reason: alwaysStatic))
    public static let fnopic = Option("-fno-pic", .flag, group: .codeGeneration, help: "Accepted (always in effect)", destination: .ignored(reason: alwaysStatic), hidden: true)
    public static let fnoPIC = Option("-fno-PIC", .flag, group: .codeGeneration, help: "Accepted (always in effect)", destination: .ignored(reason: alwaysStatic), hidden: true)
    public static let fnopie = Option("-fno-pie", .flag, group: .codeGeneration, help: "Accepted (always in effect)", destination: .ignored(reason: alwaysStatic), hidden: true)
    public static let fnoPIE = Option("-fno-PIE", .flag, group: .codeGeneration, help: "Accepted (always in effect)", destination: .ignored(reason: alwaysStatic), hidden: true)
    public static let fnolto = Option("-fno-lto", .flag, group: .codeGeneration, help: "Accepted (always in effect)", destination: .ignored(reason: notMultiISA), hidden: true)
    // Passed on after the planner's default -fno-common, so the last one wins as with clang; the
    // back end turns the common globals into weak definitions with sections of their own.
    public static let fcommon = Option("-fcommon", .flag, group: .codeGeneration, help: "Let tentative definitions of a global in several files share one object (default: -fno-common)", destination: .frontend)
    public static let fnoFunctionSections = Option("-fno-function-sections", .flag, group: .codeGeneration, help: "Ignored with a warning: functions are aligned one section at a time", destination: .overridden(reason: "functions are aligned across ISAs one section at a time"))
    public static let fnoDataSections = Option("-fno-data-sections", .flag, group: .codeGeneration, help: "Ignored with a warning: data is aligned one section at a time", destination: .overridden(reason: "data is aligned across ISAs one section at a time"))
    public static let fuseLD = Option("-fuse-ld=", .joined, group: .codeGeneration, help: "Ignored with a warning: the linker is always popcorn-ld", metaVariable: "<linker>", destination: .overridden(reason: "the linker is always popcorn-ld"))
    public static let flto = Option("-flto", .flag, group: .codeGeneration, help: "Refused: link-time optimization", destination: .rejected(reason: "link-time optimization cannot work across ISAs; " + notMultiISA))
    public static let fltoEq = Option("-flto=", .joined, group: .codeGeneration, help: "Refused: link-time optimization", metaVariable: "<kind>", destination: .rejected(reason: "link-time optimization cannot work across ISAs; " + notMultiISA))
    public static let fsanitize = Option("-fsanitize=", .joined, group: .codeGeneration, help: "Refused: sanitizer runtimes exist per ISA and cannot migrate", metaVariable: "<checks>", destination: .rejected(reason: "sanitizer runtimes keep per-ISA state that cannot migrate between ISAs"))
    public static let fnosanitize = Option("-fno-sanitize=", .joined, group: .codeGeneration, help: "Accepted (no sanitizer is ever enabled)", metaVariable: "<checks>", destination: .ignored(reason: "no sanitizer is ever enabled"), hidden: true)
    public static let fprofile = Option("-fprofile-", .joined, group: .codeGeneration, help: "Refused: profiling instrumentation (-fprofile-…)", metaVariable: "<kind>", destination: .rejected(reason: "profile instrumentation and profile data are specific to one ISA's code"))
    public static let fsplitStack = Option("-fsplit-stack", .flag, group: .codeGeneration, help: "Refused: segmented stacks", destination: .rejected(reason: "segmented stacks cannot be transformed between ISAs"))
    public static let fcfProtection = Option("-fcf-protection", .flag, group: .codeGeneration, help: "Same as -fcf-protection=full")
    public static let fcfProtectionEq = Option("-fcf-protection=", .joined, group: .codeGeneration, help: "x86_64 control-flow enforcement: branch and full give endbr64 landing pads (IBT); the shadow stack of return and full is never used", metaVariable: "<none|branch|return|full>")
    public static let fstackClash = Option("-fstack-clash-protection", .flag, group: .codeGeneration, help: "Probe every page of large stack frames (both ISAs)", destination: .frontend)
    public static let fpopcornMigration = Option("-fpopcorn-migration=", .joined, group: .codeGeneration, help: "Where migration points go: none, entry (default: function entry), entry-exit (also before returns) or loops (also back edges of loops with calls or big bodies)", metaVariable: "<policy>")

    public static let ftimeReport = Option("-ftime-report", .flag, group: .codeGeneration, help: "Report the time of each compiler pass on standard error: the frontend's (clang's report), then popcorn's IR passes and each ISA's lowering and code generation")
    public static let fpopcornLibc = Option("-fpopcorn-libc=", .joined, group: .codeGeneration, help: "The C library: portable (the default: musl compiled by popcorn-cc, one IR for every ISA) or native (Debian's prebuilt musl for each ISA, with x86_64 shims); give it when compiling and when linking", metaVariable: "<libc>")

    // MARK: Target
    public static let m64 = Option("-m64", .flag, group: .target, help: "Accepted: every popcorn ISA is 64-bit", destination: .ignored(reason: "every popcorn ISA is 64-bit"))
    public static let march = Option("-march=", .joined, group: .target, help: "Refused: target-specific", metaVariable: "<cpu>", destination: .rejected(reason: "target-specific options cannot apply to every ISA"))
    public static let mcpu = Option("-mcpu=", .joined, group: .target, help: "Refused: target-specific", metaVariable: "<cpu>", destination: .rejected(reason: "target-specific options cannot apply to every ISA"))
    public static let mtune = Option("-mtune=", .joined, group: .target, help: "Refused: target-specific", metaVariable: "<cpu>", destination: .rejected(reason: "target-specific options cannot apply to every ISA"))
    public static let mbranchProtection = Option("-mbranch-protection=", .joined, group: .target, help: "aarch64 branch protection: bti landing pads; pac-ret only in functions never on the stack during a migration (x86_64: none)", metaVariable: "<none|standard|bti+pac-ret…>")
    public static let machine = Option("-m", .joined, group: .target, help: "Refused: other machine options are target-specific", metaVariable: "<option>", destination: .rejected(reason: "target-specific options cannot apply to every ISA"))
    public static let targetEq = Option("--target=", .joined, group: .target, help: "Refused: popcorn-cc always targets every ISA", metaVariable: "<triple>", destination: .rejected(reason: "popcorn-cc always targets every ISA"))
    public static let target = Option("-target", .separate, group: .target, help: "Refused: popcorn-cc always targets every ISA", metaVariable: "<triple>", destination: .rejected(reason: "popcorn-cc always targets every ISA"))
    public static let wa = Option("-Wa,", .commaJoined, group: .target, help: "Refused: there is no assembler step", metaVariable: "<arg>", destination: .rejected(reason: "assembly cannot be lowered to every ISA; there is no assembler step"))
    public static let xassembler = Option("-Xassembler", .separate, group: .target, help: "Refused: there is no assembler step", metaVariable: "<arg>", destination: .rejected(reason: "assembly cannot be lowered to every ISA; there is no assembler step"))

    // MARK: Dependency files
    public static let depsM = Option("-M", .flag, group: .dependencies, help: "Write a Make rule of all included files instead of compiling (implies -E)")
    public static let depsMM = Option("-MM", .flag, group: .dependencies, help: "Like -M, without system headers")
    public static let depsMD = Option("-MD", .flag, group: .dependencies, help: "Also write a Make rule to <output>.d (or the -MF file) while compiling")
    public static let depsMMD = Option("-MMD", .flag, group: .dependencies, help: "Like -MD, without system headers")
    public static let depsMF = Option("-MF", .joinedOrSeparate, group: .dependencies, help: "Write the dependency rule to <file>", metaVariable: "<file>")
    public static let depsMT = Option("-MT", .joinedOrSeparate, group: .dependencies, help: "Use <target> as the rule's target, verbatim (default: the output file)", metaVariable: "<target>")
    public static let depsMQ = Option("-MQ", .joinedOrSeparate, group: .dependencies, help: "Use <target> as the rule's target, quoting Make's special characters", metaVariable: "<target>")
    public static let depsMP = Option("-MP", .flag, group: .dependencies, help: "Add an empty rule for each header, so deleted headers do not break make", destination: .frontend)
    public static let depsMG = Option("-MG", .flag, group: .dependencies, help: "Treat missing headers as generated files", destination: .frontend)

    // MARK: Linking
    public static let library = Option("-l", .joinedOrSeparate, group: .linker, help: "Link with lib<name>.a", metaVariable: "<name>", destination: .linker)
    public static let libraryDir = Option("-L", .joinedOrSeparate, group: .linker, help: "Add <dir> to the library search path", metaVariable: "<dir>", destination: .linker)
    public static let wl = Option("-Wl,", .commaJoined, group: .linker, help: "Pass the comma-separated <args> to the linker", metaVariable: "<arg>", destination: .linker)
    public static let xlinker = Option("-Xlinker", .separate, group: .linker, help: "Pass <arg> to the linker", metaVariable: "<arg>", destination: .linker)
    public static let pthread = Option("-pthread", .flag, group: .linker, help: "Compile for POSIX threads (musl's libc contains them)", destination: .frontend)
    public static let staticLink = Option("-static", .flag, group: .linker, help: "Accepted: linking is always static", destination: .ignored(reason: alwaysStatic))
    public static let noPie = Option("-no-pie", .flag, group: .linker, help: "Accepted: executables are never position-independent", destination: .ignored(reason: alwaysStatic))
    public static let shared = Option("-shared", .flag, group: .linker, help: "Refused: shared libraries", destination: .rejected(reason: "shared libraries cannot be aligned across ISAs; " + alwaysStatic))
    public static let pie = Option("-pie", .flag, group: .linker, help: "Refused: position-independent executables", destination: .rejected(reason: alwaysStatic))
    public static let staticLibgcc = Option("-static-libgcc", .flag, group: .linker, help: "Accepted: compiler builtins are always linked statically", destination: .ignored(reason: alwaysStatic))
    public static let rdynamic = Option("-rdynamic", .flag, group: .linker, help: "Accepted and ignored: static executables have no dynamic symbol table", destination: .ignored(reason: alwaysStatic))
    public static let sysroot = Option("--sysroot=", .joined, group: .target, help: "Ignored with a warning: headers and libraries are Debian's musl for each ISA", metaVariable: "<dir>", destination: .overridden(reason: "headers and libraries are Debian's musl for each ISA"))
    public static let nostdlib = Option("-nostdlib", .flag, group: .linker, help: "Do not link the C library, the runtime or start files", destination: .linker)
    public static let nostartfiles = Option("-nostartfiles", .flag, group: .linker, help: "Do not link the start files (crt1.o, crti.o, crtn.o)", destination: .linker)
    public static let nodefaultlibs = Option("-nodefaultlibs", .flag, group: .linker, help: "Do not link the default libraries", destination: .linker)

    // MARK: Information
    public static let verbose = Option("-v", .flag, group: .information, help: "Print the version and each command as it runs")
    public static let printJobs = Option("-###", .flag, group: .information, help: "Print the commands that would run, without running them")
    public static let version = Option("--version", .flag, group: .information, help: "Print version information")
    public static let help = Option("--help", .flag, group: .information, help: "Print this help")
    public static let helpShort = Option("-help", .flag, group: .information, help: "Print this help", hidden: true)
    public static let dumpMachine = Option("-dumpmachine", .flag, group: .information, help: "Print the host ISA's target triple")
    public static let dumpVersion = Option("-dumpversion", .flag, group: .information, help: "Print the version of the clang frontend")
    public static let printProgName = Option("-print-prog-name=", .joined, group: .information, help: "Print the full path of the program <name> (ld, cc, ar, …)", metaVariable: "<name>")
    public static let printFileName = Option("-print-file-name=", .joined, group: .information, help: "Print the full path of the library or file <name>", metaVariable: "<name>")
    public static let printSearchDirs = Option("-print-search-dirs", .flag, group: .information, help: "Print the directories searched for programs and libraries (host ISA)")
    public static let printLibgccFileName = Option("-print-libgcc-file-name", .flag, group: .information, help: "Print the compiler builtins archive linked for the host ISA")
    public static let printMultiOSDirectory = Option("-print-multi-os-directory", .flag, group: .information, help: "Print the multilib OS directory relative to the library directories (.)")
    public static let printMultiDirectory = Option("-print-multi-directory", .flag, group: .information, help: "Print the multilib directory (.)", hidden: true)
    public static let printMultiLib = Option("-print-multi-lib", .flag, group: .information, help: "Print the multilib table (only the default)", hidden: true)
    public static let printResourceDir = Option("-print-resource-dir", .flag, group: .information, help: "Print the clang resource directory the frontend uses")
    public static let printRuntimeDir = Option("-print-runtime-dir", .flag, group: .information, help: "Print the host ISA's popcorn runtime library directory")
    public static let printTargetTriple = Option("-print-target-triple", .flag, group: .information, help: "Print the host ISA's target triple")
    public static let printEffectiveTriple = Option("-print-effective-triple", .flag, group: .information, help: "Print the host ISA's effective target triple", hidden: true)

    /// `--`: every following argument is an input, even if it starts with `-`.
    public static let endOfOptions = Option("--", .remaining, group: .internalOnly, help: "Treat all following arguments as inputs", metaVariable: "<input>")

    /// The table, in `--help` order.
    public static let all: [Option] = [
        preprocess, syntaxOnly, assemble, compile, emitLLVM, cc1popcorn,
        output, saveTemps, saveTempsEq, pipe,
        optimize, debug,
        define, undefine, includeDir, include, imacros, isystem, iquote, idirafter,
        nostdinc, nostdlibinc, nobuiltininc, keepComments, keepMacroComments, noLineMarkers,
        dumpMacros, dumpDefines, undef, xpreprocessor, wp,
        language, standard, ansi, pedantic, pedanticErrors, trigraphs, noWarnings, werror, werrorEq,
        warning, qunused, xclang,
        feature, fpic, fPIC, fpie, fPIE, fnopic, fnoPIC, fnopie, fnoPIE, fnolto, fcommon,
        fnoFunctionSections, fnoDataSections, fuseLD, flto, fltoEq, fsanitize, fnosanitize, fprofile,
        fsplitStack, fcfProtection, fcfProtectionEq, fstackClash, fpopcornMigration, fpopcornLibc, ftimeReport,
        m64, march, mcpu, mtune, mbranchProtection, machine, targetEq, target, wa, xassembler,
        depsM, depsMM, depsMD, depsMMD, depsMF, depsMT, depsMQ, depsMP, depsMG,
        library, libraryDir, wl, xlinker, pthread, staticLink, staticLibgcc, rdynamic, noPie, shared, pie, sysroot,
        nostdlib, nostartfiles, nodefaultlibs,
        verbose, printJobs, version, help, helpShort, dumpMachine, dumpVersion, printProgName,
        printFileName, printSearchDirs, printLibgccFileName, printMultiOSDirectory, printMultiDirectory,
        printMultiLib, printResourceDir, printRuntimeDir, printTargetTriple, printEffectiveTriple,
        endOfOptions,
    ] + aliases

    /// The lookup table over `all`.
    public static let table = OptionTable(all)
}
