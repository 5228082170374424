import Foundation
import PopcornSupport

/// One item of the command line whose order matters to the link.
public enum LinkerInput: Equatable, Sendable {
    /// An object file or archive named on the command line.
    case file(String)
    /// `-lname` (or `-l:file.a` for an exact file name).
    case library(String)
    case groupStart
    case groupEnd
}

/// What popcorn-ld was asked to do (pass 1's postcondition: a validated, ordered description).
public struct LinkerOptions: Equatable, Sendable {
    public var output = "a.out"
    public var inputs: [LinkerInput] = []
    public var libraryPaths: [String] = []
    public var entry: String?
    public var verbose = false
    public var showVersion = false
    public var showHelp = false
    /// `-Map file`: one map per ISA, `file` for the host and `file.<isa>` for the others.
    public var mapFile: String?
    public var printLayout = false
    public var noStdlib = false
    public var noStartFiles = false
    /// `-fpopcorn-libc=`: the C library (and start file and runtime variant) linked.
    public var libc: LibcModel = .default
    public var stripAll = false
    /// Options forwarded to every ld.lld run (probe and final links alike, so sizes agree),
    /// in command-line order: `-z relro`, `--build-id=sha1`, `--version-script=v.map`, …
    public var passThrough: [String] = []
    /// Options accepted without effect on a static executable, each with the reason (printed
    /// under `-v`).
    public var noEffect: [(option: String, reason: String)] = []
    /// `--time-trace`: report the time spent in every pass.
    public var timeTrace = false
    /// `--time-trace-file=<file>`: write the report as a Chrome trace instead of to stderr.
    public var timeTraceFile: String?

    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.output == b.output && a.inputs == b.inputs && a.libraryPaths == b.libraryPaths && a.entry == b.entry
            && a.verbose == b.verbose && a.showVersion == b.showVersion && a.showHelp == b.showHelp
            && a.mapFile == b.mapFile && a.printLayout == b.printLayout && a.noStdlib == b.noStdlib
            && a.noStartFiles == b.noStartFiles && a.libc == b.libc && a.stripAll == b.stripAll && a.passThrough == b.passThrough
            && a.noEffect.map(\.option) == b.noEffect.map(\.option) && a.noEffect.map(\.reason) == b.noEffect.map(\.reason)
            && a.timeTrace == b.timeTrace && a.timeTraceFile == b.timeTraceFile
    }
}

/// The ld-compatible subset of options popcorn-ld accepts, described as data.
public enum LinkerOptionParser {
    /// How an option takes its value.
    enum Style { case flag, separate, joined, joinedOrSeparate, equalsOrSeparate }

    enum Action {
        case output, libraryPath, library, staticLink, startGroup, endGroup, entry, verbose
        case version, help, map, printLayout, noStdlib, noStartFiles, stripAll, gcSections, ignored, libc
        /// Forwarded to every ld.lld run as spelled.
        case passThrough
        /// `-z <keyword>`: forwarded, except the keywords in `refusedZKeywords`.
        case zKeyword
        /// `--icf=`: only `none` keeps every function at its own address.
        case icf
        /// Accepted; meaningless for a static executable (the reason is printed under `-v`).
        case noEffect(String)
        /// Refused: the binary would be wrong (the reason is the error message).
        case refused(String)
        case timeTrace, timeTraceFile
    }

    static let noDynamicSection = "a static executable has no dynamic section"
    static let noSharedLibraries = "popcorn links no shared libraries"
    static let noDynamicSymbols = "a static executable has no dynamic symbol table"

    /// `-z` keywords that would break the layout: every ISA is linked for 4 KiB pages.
    static let refusedZKeywords = ["max-page-size", "common-page-size"]

    struct Spec {
        var spellings: [String]
        var style: Style
        var action: Action
        var help: String
    }

    static let table: [Spec] = [
        Spec(spellings: ["-o", "--output"], style: .joinedOrSeparate, action: .output, help: "write the host binary to <file> and the others to <file>.<isa>"),
        Spec(spellings: ["-L", "--library-path"], style: .joinedOrSeparate, action: .libraryPath, help: "add <dir> to the library search path"),
        Spec(spellings: ["-l", "--library"], style: .joinedOrSeparate, action: .library, help: "link lib<name>.a (popcorn archives in -L dirs, else musl's)"),
        Spec(spellings: ["-static", "-Bstatic", "--static", "-no-pie", "--no-pie", "-nopie"], style: .flag, action: .staticLink, help: "accepted; popcorn binaries are always static"),
        Spec(spellings: ["--start-group", "-("], style: .flag, action: .startGroup, help: "start a group of archives searched repeatedly"),
        Spec(spellings: ["--end-group", "-)"], style: .flag, action: .endGroup, help: "end a group of archives"),
        Spec(spellings: ["-e", "--entry"], style: .joinedOrSeparate, action: .entry, help: "use <symbol> as the entry point"),
        Spec(spellings: ["-v", "--verbose"], style: .flag, action: .verbose, help: "print the commands run and a summary per ISA"),
        Spec(spellings: ["--version", "-V"], style: .flag, action: .version, help: "print the version"),
        Spec(spellings: ["--help", "-help"], style: .flag, action: .help, help: "print this help"),
        Spec(spellings: ["-Map", "--Map"], style: .equalsOrSeparate, action: .map, help: "write link maps (<file> for the host, <file>.<isa> for the others)"),
        Spec(spellings: ["--print-layout"], style: .flag, action: .printLayout, help: "print the aligned layout to standard output"),
        Spec(spellings: ["-nostdlib"], style: .flag, action: .noStdlib, help: "do not link musl, libgcc or the popcorn runtime"),
        Spec(spellings: ["-nostartfiles"], style: .flag, action: .noStartFiles, help: "do not link crt1.o, crti.o and crtn.o"),
        Spec(spellings: ["-fpopcorn-libc="], style: .joined, action: .libc, help: "the C library: portable (the default: musl compiled by popcorn-cc) or native (Debian's musl for each ISA)"),
        Spec(spellings: ["-s", "--strip-all"], style: .flag, action: .stripAll, help: "strip symbols (alignment is verified before stripping)"),
        Spec(spellings: ["--gc-sections"], style: .flag, action: .gcSections, help: "rejected: it would break alignment"),
        Spec(spellings: ["--no-gc-sections", "-O0", "-O1", "-O2"], style: .flag, action: .ignored, help: "accepted and ignored"),
        Spec(spellings: ["-z"], style: .joinedOrSeparate, action: .zKeyword, help: "passed to ld.lld (relro, now, noexecstack, …; not max-page-size or common-page-size)"),
        Spec(spellings: ["--build-id", "--no-build-id"], style: .flag, action: .passThrough, help: "passed to ld.lld: a build-id note per ISA"),
        Spec(spellings: ["--build-id"], style: .joined, action: .passThrough, help: "passed to ld.lld (--build-id=fast|md5|sha1|uuid|0x<hex>|none)"),
        Spec(spellings: ["--version-script"], style: .equalsOrSeparate, action: .passThrough, help: "passed to ld.lld (its local: patterns make symbols local)"),
        Spec(spellings: ["-u", "--undefined"], style: .joinedOrSeparate, action: .passThrough, help: "passed to ld.lld: load the member defining <symbol> (on every ISA)"),
        Spec(spellings: ["--fatal-warnings", "--no-fatal-warnings"], style: .flag, action: .passThrough, help: "passed to ld.lld: its warnings become errors"),
        Spec(spellings: ["--icf"], style: .joined, action: .icf, help: "only --icf=none is accepted: folding differs per ISA"),
        Spec(spellings: ["--as-needed", "--no-as-needed", "-Bdynamic", "-dy", "--copy-dt-needed-entries", "--no-copy-dt-needed-entries"],
             style: .flag, action: .noEffect(noSharedLibraries), help: "accepted; no effect (\(noSharedLibraries))"),
        Spec(spellings: ["--no-undefined", "--no-allow-shlib-undefined", "--allow-shlib-undefined"], style: .flag,
             action: .noEffect("undefined symbols are always errors in an executable"), help: "accepted; undefined symbols are always errors"),
        Spec(spellings: ["--hash-style"], style: .equalsOrSeparate, action: .noEffect(noDynamicSymbols), help: "accepted; no effect (\(noDynamicSymbols))"),
        Spec(spellings: ["-E", "--export-dynamic", "--no-export-dynamic"], style: .flag, action: .noEffect(noDynamicSymbols),
             help: "accepted; no effect (\(noDynamicSymbols))"),
        Spec(spellings: ["--dynamic-list"], style: .equalsOrSeparate, action: .noEffect(noDynamicSymbols), help: "accepted; no effect (\(noDynamicSymbols))"),
        Spec(spellings: ["-rpath", "--rpath", "-rpath-link", "--rpath-link"], style: .equalsOrSeparate, action: .noEffect(noDynamicSection),
             help: "accepted; no effect (\(noDynamicSection))"),
        Spec(spellings: ["-dynamic-linker", "--dynamic-linker"], style: .equalsOrSeparate, action: .noEffect(noDynamicSection),
             help: "accepted; no effect (\(noDynamicSection))"),
        Spec(spellings: ["--enable-new-dtags", "--disable-new-dtags"], style: .flag, action: .noEffect(noDynamicSection),
             help: "accepted; no effect (\(noDynamicSection))"),
        Spec(spellings: ["-soname", "--soname", "-h"], style: .joinedOrSeparate, action: .noEffect("only a shared library has a soname"),
             help: "accepted; no effect (only a shared library has a soname)"),
        Spec(spellings: ["-Bsymbolic", "-Bsymbolic-functions", "-Bsymbolic-non-weak-functions", "-Bno-symbolic"], style: .flag,
             action: .noEffect("symbol binding only matters in a shared library"), help: "accepted; no effect (shared libraries only)"),
        Spec(spellings: ["--sort-common", "--warn-common", "--no-warn-mismatch", "--eh-frame-hdr", "--no-eh-frame-hdr"], style: .flag,
             action: .noEffect("the popcorn layout decides section order and contents"), help: "accepted; no effect"),
        Spec(spellings: ["-m"], style: .joinedOrSeparate, action: .noEffect("every ISA is linked with its own emulation"),
             help: "accepted; no effect (every ISA is linked with its own emulation)"),
        Spec(spellings: ["-shared", "--shared", "-Bshareable"], style: .flag,
             action: .refused("popcorn-ld links static executables only: a shared library could not keep one address per symbol on every ISA"),
             help: "rejected: static executables only"),
        Spec(spellings: ["-pie", "--pie"], style: .flag,
             action: .refused("a position-independent executable is loaded at a different address on each ISA, so migrated pointers would be wrong"),
             help: "rejected: the aligned layout needs fixed addresses"),
        Spec(spellings: ["-r", "--relocatable", "-i"], style: .flag,
             action: .refused("partial links are not supported: link the whole program (archives work as inputs)"),
             help: "rejected: partial links are not supported"),
        Spec(spellings: ["--time-trace"], style: .flag, action: .timeTrace, help: "print the wall time of every pass to standard error"),
        Spec(spellings: ["--time-trace-file"], style: .joined, action: .timeTraceFile, help: "write the pass times as a Chrome trace (JSON) to <file>"),
    ]

    /// Parses `arguments` (without argv[0]), after expanding `@file` response files.
    public static func parse(_ commandLine: [String]) throws -> LinkerOptions {
        let arguments = try ResponseFiles.expand(commandLine)
        var options = LinkerOptions()
        var index = 0
        while index < arguments.count {
            let arg = arguments[index]
            index += 1
            if !arg.hasPrefix("-") || arg == "-" {
                options.inputs.append(.file(arg))
                continue
            }
            let start = index - 1
            guard let (spec, value) = try match(arg, arguments, &index) else {
                throw LinkerError.unknownArgument(arg)
            }
            try apply(spec, value, spelled: Array(arguments[start..<index]), &options)
        }
        return options
    }

    /// Finds the spec `arg` spells and extracts its value, consuming the next argument if needed.
    private static func match(_ arg: String, _ arguments: [String], _ index: inout Int) throws -> (Spec, String?)? {
        func next(_ name: String) throws -> String {
            guard index < arguments.count else { throw LinkerError.missingArgument(option: name) }
            index += 1
            return arguments[index - 1]
        }
        // Like ld.lld, a long option may be spelled with one dash (`-export-dynamic`,
        // `-build-id=sha1`), and the longest spelling wins: `-export-dynamic` is not `-e xport-dynamic`.
        let candidates = arg.hasPrefix("--") || arg.count <= 2 ? [arg] : [arg, "-" + arg]
        // Exact spellings win over prefixes, so `-static` is never read as `-s tatic`.
        for candidate in candidates {
            for spec in table where spec.spellings.contains(candidate) {
                switch spec.style {
                case .flag: return (spec, nil)
                case .separate, .joinedOrSeparate, .equalsOrSeparate: return (spec, try next(arg))
                case .joined: throw LinkerError.missingArgument(option: arg)
                }
            }
        }
        // Long spellings with `=value` next, then short ones with a joined value (`-lm`, `-zrelro`).
        for candidate in candidates {
            for spec in table {
                for spelling in spec.spellings where spelling.hasPrefix("--") && candidate.hasPrefix(spelling + "=") {
                    switch spec.style {
                    case .flag, .separate: continue
                    case .joined, .joinedOrSeparate, .equalsOrSeparate:
                        return (spec, String(candidate.dropFirst(spelling.count + 1)))
                    }
                }
            }
        }
        for spec in table {
            for spelling in spec.spellings where !spelling.hasPrefix("--") && arg.hasPrefix(spelling) {
                let rest = String(arg.dropFirst(spelling.count))
                switch spec.style {
                case .flag, .separate: continue
                case .joined, .joinedOrSeparate:
                    return (spec, rest.hasPrefix("=") && spelling != "-l" && spelling != "-L" ? String(rest.dropFirst()) : rest)
                case .equalsOrSeparate:
                    if rest.hasPrefix("=") { return (spec, String(rest.dropFirst())) }
                }
            }
        }
        return nil
    }

    /// `spelled` is the argument as given (one or two words), for forwarding and messages.
    private static func apply(_ spec: Spec, _ value: String?, spelled: [String], _ options: inout LinkerOptions) throws {
        let name = spec.spellings[0]
        func nonEmpty() throws -> String {
            guard let value, !value.isEmpty else { throw LinkerError.missingArgument(option: name) }
            return value
        }
        switch spec.action {
        case .output: options.output = try nonEmpty()
        case .libraryPath: options.libraryPaths.append(try nonEmpty())
        case .library: options.inputs.append(.library(try nonEmpty()))
        case .staticLink, .ignored: break
        case .startGroup: options.inputs.append(.groupStart)
        case .endGroup: options.inputs.append(.groupEnd)
        case .entry: options.entry = try nonEmpty()
        case .verbose: options.verbose = true
        case .version: options.showVersion = true
        case .help: options.showHelp = true
        case .map: options.mapFile = try nonEmpty()
        case .printLayout: options.printLayout = true
        case .noStdlib: options.noStdlib = true
        case .noStartFiles: options.noStartFiles = true
        case .libc:
            guard let model = LibcModel(rawValue: try nonEmpty()) else {
                throw LinkerError.refusedOption(option: spelled.joined(separator: " "), reason: "expected native or portable")
            }
            options.libc = model
        case .stripAll: options.stripAll = true
        case .gcSections: throw LinkerError.gcSectionsUnsupported
        case .passThrough: options.passThrough += spelled
        case .zKeyword:
            let keyword = try nonEmpty()
            let key = String(keyword.prefix(while: { $0 != "=" }))
            if refusedZKeywords.contains(key) {
                throw LinkerError.refusedOption(option: "-z \(keyword)", reason: "every ISA is linked for 4 KiB pages (see docs/LINKER.md, Address layout)")
            }
            options.passThrough += ["-z", keyword]
        case .icf:
            if value != "none" {
                throw LinkerError.refusedOption(option: spelled.joined(separator: " "),
                                                reason: "identical code folding differs per ISA, so a function would not keep one address")
            }
        case let .noEffect(reason): options.noEffect.append((spelled.joined(separator: " "), reason))
        case let .refused(reason): throw LinkerError.refusedOption(option: spelled.joined(separator: " "), reason: reason)
        case .timeTrace: options.timeTrace = true
        case .timeTraceFile:
            options.timeTraceFile = try nonEmpty()
            options.timeTrace = true
        }
    }

    /// `--help` text, generated from the table so it never drifts from what is accepted.
    public static var helpText: String {
        var lines = ["NAME", "  popcorn-ld - aligning linker for multi-ISA popcorn objects", "",
                     "USAGE", "  popcorn-ld [options] file...", "",
                     "DESCRIPTION",
                     "  Links objects and archives compiled by popcorn-cc into one static executable per ISA:",
                     "  -o app writes the host ISA's binary to app and each other ISA's to app.<isa>",
                     "  (app.aarch64 on an x86_64 host). Every function, variable, string literal and",
                     "  thread-local defined on several ISAs gets the same address in each binary; code and",
                     "  data that exist on one ISA only go to address ranges the others leave free. Each ISA",
                     "  is linked with ld.lld-19 against Debian's musl, the compiler builtins (libgcc) and the",
                     "  popcorn runtime; the result is checked symbol by symbol, the stack-transformation",
                     "  metadata (.popcorn.meta) is built from the binaries' stackmaps and CFI and appended,",
                     "  and only then are the outputs written (atomically; nothing is written on error).",
                     "",
                     "  Inputs are popcorn multi-ISA objects and ar archives of them; -lNAME looks for",
                     "  libNAME.a in the -L directories, then in musl's directory for each ISA. Plain",
                     "  single-ISA objects are rejected.", "",
                     "OPTIONS"]
        for spec in table {
            var names = spec.spellings.joined(separator: ", ")
            switch spec.style {
            case .flag: break
            case .separate, .joinedOrSeparate, .joined: names += " <value>"
            case .equalsOrSeparate: names += "=<file>"
            }
            lines.append("  " + names.padding(toLength: max(34, names.count + 1), withPad: " ", startingAt: 0) + spec.help)
        }
        lines += ["", "ENVIRONMENT",
                  "  POPCORN_LLD            ld.lld to run (default: ld.lld-19)",
                  "  POPCORN_RUNTIME_DIR    runtime directory (default: <bin>/../lib/popcorn)",
                  "  POPCORN_KEEP_TEMPS=1   keep the scratch directory (probe maps, linker scripts)",
                  "", "EXIT STATUS", "  0 on success, 1 on any error (nothing is written then). On SIGINT, SIGTERM or",
                  "  SIGHUP the temporaries are removed and popcorn-ld dies of the same signal.",
                  "", "EXAMPLES",
                  "  popcorn-ld main.o util.o -L. -lfoo -lm -o app",
                  "  popcorn-ld -v --print-layout main.o -o app     # show the commands and the layout",
                  "  popcorn-ld --time-trace main.o -o app          # wall time of every pass",
                  "  popcorn-dump --verify app                       # check the pair independently"]
        return lines.joined(separator: "\n") + "\n"
    }
}
