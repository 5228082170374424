import Foundation
import PopcornSupport

/// Answers the queries that print something instead of compiling: `--help`, `--version`,
/// `-dumpmachine`, `-dumpversion` and the `-print-…` family build systems and libtool use.
///
/// Every answer is about the host ISA, like `-dumpmachine`: the primary output runs on the
/// host, and the paths are those of the files popcorn-ld links into the host executable.
struct ImmediateActions {
    let toolchain: Toolchain
    /// `-fpopcorn-libc=`: whose start files and `libc.a` the queries name.
    var libc: LibcModel = .default

    func answer(_ action: DriverInvocation.ImmediateAction) throws -> String {
        switch action {
        case .help:
            return HelpText.render()
        case .version:
            return Driver.versionText(toolchain)
        case .dumpMachine, .printTargetTriple:
            // The host triple: build systems use it to name output directories and pick
            // host-specific code, and the host executable is the primary output.
            return ISA.host.triple + "\n"
        case .dumpVersion:
            // The frontend's version: that is the compiler whose language and diagnostics
            // build systems probe for.
            let clang = try toolchain.path(of: .clang)
            return try ProcessRunner.checked(clang, ["-dumpversion"]).stdoutText
        case let .printProgramName(name):
            return programPath(name) + "\n"
        case let .printFileName(name):
            return filePath(name) + "\n"
        case .printSearchDirectories:
            // clang's layout; libtool splits the lines after `=` at `:`.
            return "programs: =\(programDirectories.joined(separator: ":"))\n"
                + "libraries: =\(libraryDirectories.joined(separator: ":"))\n"
        case .printLibgccFileName:
            // The archive popcorn-ld links after libc, not a guess at compiler-rt.
            return ISA.host.builtinsArchive + "\n"
        case .printMultiOSDirectory, .printMultiDirectory:
            // One library layout per ISA, no multilib subdirectories: libraries sit directly
            // in the directories of -print-search-dirs.
            return ".\n"
        case .printMultiLib:
            // GCC's format: the default multilib, with no options selecting it.
            return ".;\n"
        case .printResourceDirectory:
            return try DriverTools.resourceDirectory(of: try toolchain.path(of: .clang)) + "\n"
        case .printRuntimeDirectory:
            return Path.directory(toolchain.runtimeArchive(for: ISA.host)) + "\n"
        }
    }

    /// clang prints the full path when it knows the program and the bare name otherwise.
    func programPath(_ name: String) -> String {
        switch name {
        case "ld", "ld.lld", "popcorn-ld":
            return (try? toolchain.popcornTool("popcorn-ld")) ?? name
        case "cc", "clang", "gcc", "popcorn-cc":
            return Toolchain.executablePath()
        case "ar", "llvm-ar":
            return (try? toolchain.path(of: .ar)) ?? name
        case "cc1", "clang-19":
            return (try? toolchain.path(of: .clang)) ?? name
        default:
            for dir in [toolchain.binDirectory] + toolchain.searchPath {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            return name
        }
    }

    /// Where the programs the driver runs live: popcorn's own tools, then the LLVM tools it
    /// drives (clang, ld.lld, llvm-ar), without duplicates.
    var programDirectories: [String] {
        var dirs = [toolchain.binDirectory]
        for tool in [Toolchain.Tool.clang, .lld, .ar] {
            if let path = try? toolchain.path(of: tool) { dirs.append(Path.directory(path)) }
        }
        return unique(dirs)
    }

    /// The directories `-print-file-name=` searches, in clang's order: the frontend's resource
    /// directory first (so `include` names its stdarg.h directory and an empty name the
    /// directory itself, as with clang), then the directories of the files popcorn-ld links into
    /// a host executable: with the portable C library its directory (crt1.o, libc.a and the
    /// runtime built for it), the popcorn runtime (libpopcorn.a), Debian's musl (the native
    /// library's crt1.o, crti.o, crtn.o and libc.a, and the other -l libraries, empty in musl)
    /// and the compiler builtins (libgcc.a).
    var libraryDirectories: [String] {
        var dirs: [String] = []
        if let clang = try? toolchain.path(of: .clang),
           let resource = try? DriverTools.resourceDirectory(of: clang) {
            dirs.append(resource)
        }
        if libc == .portable { dirs.append(toolchain.portableLibcDirectory(for: ISA.host)) }
        dirs += [Path.directory(toolchain.runtimeArchive(for: ISA.host)), toolchain.runtimeDirectory,
                 ISA.host.muslLibDir, Path.directory(ISA.host.builtinsArchive)]
        return unique(dirs)
    }

    /// The first of `libraryDirectories` holding `name`, else the name itself (as clang).
    func filePath(_ name: String) -> String {
        for dir in libraryDirectories {
            let candidate = Path.join(dir, name)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return name
    }

    private func unique(_ dirs: [String]) -> [String] {
        var seen = Set<String>()
        return dirs.filter { !$0.isEmpty && seen.insert($0).inserted }
    }
}
