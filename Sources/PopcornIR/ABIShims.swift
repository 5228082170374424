/// libc functions that the x86_64 module reaches through `__popcorn_abi_<name>` shims.
///
/// The program is compiled once against aarch64 musl's headers, so it uses aarch64's flag
/// values, struct layouts, syscall numbers and `va_list` format. These functions take or return
/// such things; the x86_64 runtime (`Toolchain/runtime`, x86_64 only) implements each shim with
/// the aarch64 prototype and translates to the native call. `va_list` parameters arrive as
/// pointers to the 32-byte aarch64 `va_list`. See docs/ABI.md.
public enum ABIShims {
    /// Shimmed function name → why it needs a shim.
    public static let table: [String: String] = [
        "open": "O_* flag values differ (O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE)",
        "open64": "O_* flag values differ",
        "openat": "O_* flag values differ",
        "openat64": "O_* flag values differ",
        "fcntl": "F_GETFL/F_SETFL carry O_* flags whose values differ",
        "fcntl64": "F_GETFL/F_SETFL carry O_* flags whose values differ",
        "pipe2": "O_DIRECT and other O_* flag values differ",
        "mkostemp": "O_* flag values differ",
        "mkostemps": "O_* flag values differ",
        "stat": "struct stat layout differs",
        "fstat": "struct stat layout differs",
        "lstat": "struct stat layout differs",
        "fstatat": "struct stat layout differs",
        "stat64": "struct stat layout differs",
        "fstat64": "struct stat layout differs",
        "lstat64": "struct stat layout differs",
        "fstatat64": "struct stat layout differs",
        "ftw": "the callback receives a struct stat, whose layout differs",
        "nftw": "the callback receives a struct stat, whose layout differs",
        "feclearexcept": "FE_* exception bits differ",
        "fegetexceptflag": "fexcept_t and FE_* exception bits differ",
        "feraiseexcept": "FE_* exception bits differ",
        "fesetexceptflag": "fexcept_t and FE_* exception bits differ",
        "fetestexcept": "FE_* exception bits differ",
        "fegetround": "FE_* rounding mode values differ",
        "fesetround": "FE_* rounding mode values differ",
        "fegetenv": "fenv_t layout differs",
        "feholdexcept": "fenv_t layout differs",
        "fesetenv": "fenv_t layout and FE_DFL_ENV differ",
        "feupdateenv": "fenv_t layout differs",
        "epoll_ctl": "struct epoll_event is packed on x86_64 only",
        "epoll_wait": "struct epoll_event is packed on x86_64 only",
        "epoll_pwait": "struct epoll_event is packed on x86_64 only",
        "syscall": "system call numbers differ",
        "modfl": "writes a long double through a pointer (binary128 vs x87)",
        "vprintf": "takes an aarch64 va_list",
        "vfprintf": "takes an aarch64 va_list",
        "vsprintf": "takes an aarch64 va_list",
        "vsnprintf": "takes an aarch64 va_list",
        "vdprintf": "takes an aarch64 va_list",
        "vasprintf": "takes an aarch64 va_list",
        "vscanf": "takes an aarch64 va_list",
        "vfscanf": "takes an aarch64 va_list",
        "vsscanf": "takes an aarch64 va_list",
        "vsyslog": "takes an aarch64 va_list",
        "verr": "takes an aarch64 va_list",
        "verrx": "takes an aarch64 va_list",
        "vwarn": "takes an aarch64 va_list",
        "vwarnx": "takes an aarch64 va_list",
        "vfwprintf": "takes an aarch64 va_list",
        "vswprintf": "takes an aarch64 va_list",
        "vwprintf": "takes an aarch64 va_list",
        "vfwscanf": "takes an aarch64 va_list",
        "vswscanf": "takes an aarch64 va_list",
        "vwscanf": "takes an aarch64 va_list",
    ]

    /// Prefix of the shim symbols in the x86_64 runtime.
    public static let prefix = "__popcorn_abi_"

    /// The shim symbol for a libc function, or nil if it needs none.
    public static func shimName(for name: String) -> String? {
        table[name] == nil ? nil : prefix + name
    }
}
