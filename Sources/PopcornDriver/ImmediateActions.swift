import Foundation
import PopcornSupport

/// Answers the queries that print something instead of compiling: `--help`, `--version`,
/// `-dumpmachine`, `-dumpversion`, `-print-prog-name=`, `-print-file-name=`.
struct ImmediateActions {
    let toolchain: Toolchain

    func answer(_ action: DriverInvocation.ImmediateAction) throws -> String {
        switch action {
        case .help:
            return HelpText.render()
        case .version:
            return Driver.versionText(toolchain)
        case .dumpMachine:
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

    /// Looks in the host ISA's runtime, musl and compiler-builtins directories and clang's
    /// resource directory, in the order the linker and frontend search them.
    func filePath(_ name: String) -> String {
        var dirs = ["\(toolchain.runtimeDirectory)/\(ISA.host.rawValue)", toolchain.runtimeDirectory,
                    ISA.host.muslLibDir, Path.directory(ISA.host.builtinsArchive)]
        if let clang = try? toolchain.path(of: .clang),
           let resource = try? DriverTools.resourceDirectory(of: clang) {
            dirs.append(resource)
        }
        for dir in dirs {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return name
    }
}
