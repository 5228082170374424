import Foundation
import PopcornSupport

/// Locations of everything the planned jobs run or reference. Kept separate from planning so
/// tests can plan with made-up paths and no installed tools.
public struct DriverTools: Sendable, Equatable {
    /// The clang driver used as frontend.
    public var clang: String
    /// This executable, which runs the back end as `popcorn-cc -cc1popcorn`.
    public var popcornCC: String
    /// popcorn-ld; nil when it was not looked up (only the link step needs it).
    public var popcornLD: String?
    /// clang's resource directory (its `include/` holds `stdarg.h`, intrinsics, …).
    public var resourceDirectory: String
    /// `<runtime>/include`: `popcorn.h` and the portability headers.
    public var popcornIncludeDirectory: String

    /// The single target the frontend compiles for; its IR is lowered for every ISA.
    public static let frontendTriple = ISA.aarch64.triple

    public init(clang: String, popcornCC: String, popcornLD: String?, resourceDirectory: String,
                popcornIncludeDirectory: String) {
        self.clang = clang
        self.popcornCC = popcornCC
        self.popcornLD = popcornLD
        self.resourceDirectory = resourceDirectory
        self.popcornIncludeDirectory = popcornIncludeDirectory
    }

    /// Finds the tools on this machine; popcorn-ld only when `needsLinker`.
    public static func locate(_ toolchain: Toolchain = Toolchain(), needsLinker: Bool) throws -> DriverTools {
        let clang = try toolchain.path(of: .clang)
        return DriverTools(clang: clang,
                           popcornCC: Toolchain.executablePath(),
                           popcornLD: needsLinker ? try toolchain.popcornTool("popcorn-ld") : nil,
                           resourceDirectory: try resourceDirectory(of: clang),
                           popcornIncludeDirectory: toolchain.includeDirectory)
    }

    /// clang's resource directory is `<bin>/../lib/clang/<major>` next to the real binary;
    /// computing it saves a process per compile. Asking clang is the fallback.
    static func resourceDirectory(of clang: String) throws -> String {
        let real = (clang as NSString).resolvingSymlinksInPath
        let base = (((real as NSString).deletingLastPathComponent as NSString)
            .deletingLastPathComponent as NSString).appendingPathComponent("lib/clang")
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: base) {
            let majors = versions.compactMap(Int.init).sorted()
            if let newest = majors.last, FileManager.default.fileExists(atPath: "\(base)/\(newest)/include") {
                return "\(base)/\(newest)"
            }
        }
        let result = try ProcessRunner.checked(clang, ["-print-resource-dir"])
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
