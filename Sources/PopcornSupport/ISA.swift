/// An instruction set architecture the toolchain produces code for.
///
/// Everything that differs between the ISAs as *data* (triples, library locations, ELF machine
/// numbers, the emulator needed to run it) lives here, so the rest of the toolchain can loop over
/// `ISA.allCases` instead of special-casing names.
public enum ISA: String, CaseIterable, Sendable, Hashable, Comparable, CustomStringConvertible {
    case x86_64
    case aarch64

    public var description: String { rawValue }

    public static func < (a: ISA, b: ISA) -> Bool { a.order < b.order }
    private var order: Int { self == .x86_64 ? 0 : 1 }

    /// The ISA of the machine the tools run on.
    public static var host: ISA {
        #if arch(arm64)
        return .aarch64
        #else
        return .x86_64
        #endif
    }

    /// The ISAs other than the host, in a fixed order.
    public static var foreign: [ISA] { allCases.filter { $0 != host } }

    /// LLVM target triple (musl, static).
    public var triple: String { "\(rawValue)-unknown-linux-musl" }

    /// `e_machine` in ELF headers.
    public var elfMachine: UInt16 { self == .x86_64 ? 62 : 183 }

    /// Recognises an ELF `e_machine` value.
    public init?(elfMachine: UInt16) {
        switch elfMachine {
        case 62: self = .x86_64
        case 183: self = .aarch64
        default: return nil
        }
    }

    /// Parses the spellings users write (`x86_64`, `x86-64`, `amd64`, `aarch64`, `arm64`).
    public init?(name: String) {
        switch name.lowercased() {
        case "x86_64", "x86-64", "amd64": self = .x86_64
        case "aarch64", "arm64": self = .aarch64
        default: return nil
        }
    }

    /// ld.lld `-m` emulation.
    public var lldEmulation: String { self == .x86_64 ? "elf_x86_64" : "aarch64linux" }

    /// Debian's musl directories for this ISA (from `musl-dev`, `musl-dev:arm64`).
    public var muslLibDir: String { "/usr/lib/\(rawValue)-linux-musl" }
    public var muslIncludeDir: String { "/usr/include/\(rawValue)-linux-musl" }
    /// The Debian package that provides musl for this ISA.
    public var muslPackage: String { self == .x86_64 ? "musl-dev" : "musl-dev:arm64" }

    /// Compiler builtins (soft-float `long double`, outline atomics, …) for static links.
    public var builtinsArchive: String {
        self == .x86_64 ? "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a"
                        : "/usr/lib/gcc-cross/aarch64-linux-gnu/12/libgcc.a"
    }
    /// The Debian package that provides `builtinsArchive`.
    public var builtinsPackage: String { self == .x86_64 ? "libgcc-12-dev" : "libgcc-12-dev-arm64-cross" }

    /// The user-mode emulator needed to run this ISA's binaries on the host, if any.
    public var emulator: String? {
        if self == ISA.host { return nil }
        return self == .aarch64 ? "qemu-aarch64" : "qemu-x86_64"
    }

    /// Path suffix for the sibling binary of this ISA: `app` for the host, `app.<isa>` otherwise.
    public func siblingPath(of primary: String) -> String {
        self == ISA.host ? primary : "\(primary).\(rawValue)"
    }

    /// ELF section of the multi-ISA object container that embeds this ISA's object.
    public var containerSection: String { ".popcorn.isa.\(rawValue)" }
}
