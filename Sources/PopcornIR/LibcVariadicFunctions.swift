/// libc's own variadic functions, which read their arguments with x86_64's native `va_arg` on
/// x86_64 (unlike program functions, whose `va_arg` code is the aarch64 expansion).
///
/// Calls to these get no AAPCS-style padding (`VariadicCallPadding`), but their `long double`
/// arguments are converted to the x87 format (`LongDoubleBoundary`).
public enum LibcVariadicFunctions {
    /// Formatted output and logging: `long double` arguments are read as x87 values.
    public static let printfFamily: Set<String> = [
        "printf", "fprintf", "sprintf", "snprintf", "dprintf", "asprintf",
        "syslog", "err", "errx", "warn", "warnx",
        "fwprintf", "swprintf", "wprintf",
        "setproctitle", "error", "error_at_line",
    ]

    /// Formatted input: `%Lf` and friends would store x87 values into binary128 objects.
    public static let scanfFamily: Set<String> = [
        "scanf", "fscanf", "sscanf", "vscanf", "vfscanf", "vsscanf",
        "wscanf", "fwscanf", "swscanf", "vwscanf", "vfwscanf", "vswscanf",
        "__isoc99_scanf", "__isoc99_fscanf", "__isoc99_sscanf",
    ]

    /// Index of the format argument of a scanf-family function.
    public static func scanfFormatIndex(of name: String) -> Int? {
        guard scanfFamily.contains(name) else { return nil }
        let base = name.replacingOccurrences(of: "__isoc99_", with: "")
        switch base {
        case "scanf", "vscanf", "wscanf", "vwscanf": return 0
        default: return 1
        }
    }

    /// Other variadic libc functions whose arguments never involve the differences the
    /// padding corrects (`open`, `fcntl`, `ioctl`, `execl`, …): they are still native calls.
    public static let otherVariadic: Set<String> = [
        "open", "open64", "openat", "openat64", "fcntl", "fcntl64", "ioctl", "prctl",
        "execl", "execle", "execlp", "mq_open", "sem_open", "ulimit", "syscall", "ptrace",
        "mremap", "clone", "makecontext",
    ]

    /// True if `name` is a libc variadic function (native `va_arg` on every ISA).
    public static func isLibcVariadic(_ name: String) -> Bool {
        printfFamily.contains(name) || scanfFamily.contains(name) || otherVariadic.contains(name)
    }
}
