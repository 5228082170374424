import Foundation

/// Locates the external tools and runtime files the popcorn tools depend on.
///
/// Like clang, the tools are relocatable: runtime files are found relative to the running
/// executable (`<prefix>/bin/popcorn-cc` → `<prefix>/lib/popcorn`). Environment variables
/// override each location for development and tests.
public struct Toolchain: Sendable {
    /// `<prefix>/lib/popcorn`: headers and per-ISA runtime archives.
    public var runtimeDirectory: String
    /// Directory holding the popcorn executables (`popcorn-ld` is found next to `popcorn-cc`).
    public var binDirectory: String
    /// Directories searched for external tools, in order.
    public var searchPath: [String]

    public init(runtimeDirectory: String? = nil, binDirectory: String? = nil) {
        let env = ProcessInfo.processInfo.environment
        let exe = Toolchain.executablePath()
        let bin = binDirectory ?? Path.directory(exe)
        self.binDirectory = bin
        self.runtimeDirectory = runtimeDirectory ?? env["POPCORN_RUNTIME_DIR"]
            ?? Path.join(Path.directory(bin), "lib/popcorn")
        self.searchPath = ["/usr/lib/llvm-19/bin"] + (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
    }

    /// `/proc/self/exe`, resolved.
    public static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first ?? "popcorn"
    }

    /// The external tools and the Debian packages that provide them.
    public enum Tool: String, Sendable, CaseIterable {
        case clang = "clang-19"
        case lld = "ld.lld-19"
        case ar = "llvm-ar-19"
        case qemuAArch64 = "qemu-aarch64"

        public var package: String {
            switch self {
            case .clang: "clang-19"
            case .lld: "lld-19"
            case .ar: "llvm-19"
            case .qemuAArch64: "qemu-user"
            }
        }
        /// Environment variable that overrides the tool's location.
        public var overrideVariable: String {
            switch self {
            case .clang: "POPCORN_CLANG"
            case .lld: "POPCORN_LLD"
            case .ar: "POPCORN_AR"
            case .qemuAArch64: "POPCORN_QEMU_AARCH64"
            }
        }
        /// Names the tool goes by in `/usr/lib/llvm-19/bin` and on `PATH`, best first.
        var candidates: [String] {
            switch self {
            case .clang: ["clang-19", "clang"]
            case .lld: ["ld.lld-19", "ld.lld"]
            case .ar: ["llvm-ar-19", "llvm-ar"]
            case .qemuAArch64: ["qemu-aarch64", "qemu-aarch64-static"]
            }
        }
    }

    /// Absolute path of an external tool, or `ProcessError.notFound` naming its package.
    public func path(of tool: Tool) throws -> String {
        if let override = ProcessInfo.processInfo.environment[tool.overrideVariable], !override.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: override) else {
                throw ProcessError.notFound(tool: override, package: tool.package)
            }
            return override
        }
        for dir in searchPath {
            for name in tool.candidates {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        throw ProcessError.notFound(tool: tool.rawValue, package: tool.package)
    }

    /// A popcorn executable installed next to this one (`popcorn-ld`, `popcorn-dump`).
    public func popcornTool(_ name: String) throws -> String {
        let candidate = "\(binDirectory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        throw ProcessError.notFound(tool: candidate, package: nil)
    }

    /// `<runtime>/include`: `popcorn.h` and the portability headers.
    public var includeDirectory: String { "\(runtimeDirectory)/include" }

    /// `<runtime>/<isa>/libpopcorn.a`: the runtime and ABI portability layer for one ISA; with the
    /// portable C library, `<runtime>/<isa>/portable/libpopcorn.a` (built against its C view).
    public func runtimeArchive(for isa: ISA, libc: LibcModel = .native) -> String {
        libc == .native ? "\(runtimeDirectory)/\(isa.rawValue)/libpopcorn.a" : "\(portableLibcDirectory(for: isa))/libpopcorn.a"
    }

    /// `<runtime>/<isa>/portable`: the portable C library for one ISA (`crt1.o`, `libc.a`),
    /// written by scripts/build-libc.sh.
    public func portableLibcDirectory(for isa: ISA) -> String { "\(runtimeDirectory)/\(isa.rawValue)/portable" }

    /// Checks that a required file exists, naming the package that provides it otherwise.
    public static func requireFile(_ path: String, package: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            throw ProcessError.notFound(tool: path, package: package)
        }
    }
}
