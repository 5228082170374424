/// Which C library a program is built against (`-fpopcorn-libc=`).
///
/// `native`: Debian's musl, one prebuilt `libc.a` per ISA. The program's IR sees aarch64's C view
/// on every ISA, so the x86_64 lowering translates at the libc boundary (shims, `long double`
/// conversions; docs/ABI.md) and libc's own code and data differ per ISA.
///
/// `portable`: musl compiled by popcorn-cc from the same IR as the program (docs/LIBC.md): one
/// C view everywhere, aligned like user code, the ABI boundary at the system call. Calls into
/// libc are ordinary calls between functions of one IR.
public enum LibcModel: String, Sendable, CaseIterable {
    case native
    case portable

    /// What popcorn-cc and popcorn-ld use unless told otherwise (docs/LIBC.md, "Status").
    public static let `default`: LibcModel = .portable

    /// The spelling of the option that selects it.
    public var option: String { "-fpopcorn-libc=" + rawValue }
}
