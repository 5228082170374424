import Foundation
import PopcornSupport

/// Builds ld.lld command lines for one ISA (used by the probe link and the final link).
public struct LinkCommand: Sendable {
    public var isa: ISA
    public var inputs: ISALinkInputs
    public var options: LinkerOptions
    /// `libpopcorn.a` for this ISA, or `nil` with `-nostdlib`.
    public var runtimeArchive: String?
    /// Whether the program can migrate (some input has call-site metadata): only then are the
    /// process mover and the stack transformation linked in (`runtimeRoots`).
    public var linksMigrationRuntime = true
    /// Symbols passed as `-u` so that both ISAs load the same archive members (`MemberBalancer`).
    public var forcedSymbols: [String] = []
    /// Objects only the final link needs (the entry-stub section object, `StubObject`).
    public var extraObjects: [String] = []
    /// With `-fpopcorn-libc=portable`: the directory of this ISA's portable C library
    /// (`crt1.o`, `libc.a`), used instead of Debian's musl.
    public var portableLibcDirectory: String?

    public init(isa: ISA, inputs: ISALinkInputs, options: LinkerOptions, runtimeArchive: String?) {
        self.isa = isa; self.inputs = inputs; self.options = options; self.runtimeArchive = runtimeArchive
    }

    /// The start files, in link order (before the inputs; `crtn.o` goes last).
    var startFiles: (leading: [String], trailing: [String]) {
        if options.noStartFiles { return ([], []) }
        // The portable C library's crt1.o calls __libc_start_main directly: no _init/_fini.
        if let portableLibcDirectory { return (["\(portableLibcDirectory)/crt1.o"], []) }
        let lib = isa.muslLibDir
        return (["\(lib)/crt1.o", "\(lib)/crti.o"], ["\(lib)/crtn.o"])
    }

    /// The C library archive of this link.
    var libcArchive: String { "\(portableLibcDirectory ?? isa.muslLibDir)/libc.a" }

    /// The system files this link needs, with the Debian package providing each.
    public static func systemFiles(for isa: ISA, options: LinkerOptions) -> [(path: String, package: String)] {
        var files: [(String, String)] = []
        if !options.noStartFiles {
            files += ["crt1.o", "crti.o", "crtn.o"].map { ("\(isa.muslLibDir)/\($0)", isa.muslPackage) }
        }
        if !options.noStdlib {
            files.append(("\(isa.muslLibDir)/libc.a", isa.muslPackage))
            files.append((isa.builtinsArchive, isa.builtinsPackage))
        }
        return files
    }

    /// Runtime entry points every program links (see `arguments`).
    public static let runtimeRoots = ["popcorn_migrate", "__popcorn_move_to_regs"]

    /// The page size every ISA's binary is linked for (see `LayoutPlanner.regionAlignment`).
    public static let pageSize: UInt64 = 0x1000

    /// Every archive of the link (user archives, the runtime, libc, the compiler builtins).
    public var archives: [String] {
        var paths: [String] = inputs.items.compactMap { item in
            if case let .file(path) = item, path.hasSuffix(".a") { return path }
            return nil
        }
        if !options.noStdlib {
            if let runtimeArchive { paths.append(runtimeArchive) }
            paths += [libcArchive, isa.builtinsArchive]
        }
        return paths
    }

    /// `-O0` keeps every input section addressable (no string merging) and `-z norelro` lets
    /// RELRO sections sit wherever the layout puts them; both links must use the same options
    /// so that section sizes do not change between them.
    public func arguments(script: String?, map: String?, output: String, strip: Bool = false) -> [String] {
        var args = ["-m", isa.lldEmulation, "-static", "-O0", "-z", "norelro", "-z", "noexecstack",
                    "-z", "max-page-size=\(Self.pageSize)", "-z", "common-page-size=\(Self.pageSize)",
                    "--no-undefined-version", "-o", output]
        // The user's ld.lld options (`-z relro`, `--build-id`, …) go to the probe and the final
        // links alike: both must produce the same sections.
        args += options.passThrough
        if let map { args.append("-Map=\(map)") }
        if let script { args += ["-T", script] }
        if let entry = options.entry { args += ["-e", entry] }
        if strip { args.append("--strip-all") }
        for symbol in forcedSymbols { args += ["-u", symbol] }
        // The runtime's migration slow path reaches the process mover only weakly (so the slow
        // path can also be linked on its own); load the mover and its restore constructor into
        // every program so POPCORN_MIGRATE_AT, the signal and popcorn_migrate() all work.
        if !options.noStdlib && runtimeArchive != nil && linksMigrationRuntime {
            for symbol in Self.runtimeRoots { args += ["-u", symbol] }
        }
        args += startFiles.leading
        for item in inputs.items {
            switch item {
            case let .file(path): args.append(path)
            case .groupStart: args.append("--start-group")
            case .groupEnd: args.append("--end-group")
            }
        }
        args += extraObjects
        if !options.noStdlib {
            // The runtime calls libc and libc's hooks may call back into it: one group.
            args.append("--start-group")
            if let runtimeArchive { args.append(runtimeArchive) }
            args += [libcArchive, isa.builtinsArchive, "--end-group"]
        }
        args += startFiles.trailing
        return args
    }
}
