/// A file named on the command line, with what the driver does with it.
public struct InputFile: Sendable, Hashable {
    /// What an input is, decided by `-x` or by its extension.
    public enum FileType: String, Sendable, Hashable {
        /// C source, preprocessed and compiled (`.c`, or any file after `-x c`).
        case c
        /// Preprocessed C, compiled without running the preprocessor again (`.i`).
        case preprocessedC = "cpp-output"
        /// Handed to the linker unchanged (`.o`, `.a`, and unknown extensions, like clang).
        case linkerInput

        /// The `-x` spelling clang expects for compiled types.
        public var clangLanguage: String? {
            switch self {
            case .c: return "c"
            case .preprocessedC: return "cpp-output"
            case .linkerInput: return nil
            }
        }

        public var isCompiled: Bool { self != .linkerInput }
    }

    /// The path as written (`-` is standard input).
    public let path: String
    public let type: FileType

    public init(path: String, type: FileType) {
        self.path = path
        self.type = type
    }

    public var isStandardInput: Bool { path == "-" }

    /// The file name without directory and extension: `src/a.c` → `a`, `-` → `-`.
    public var stem: String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// Extensions of languages popcorn-cc refuses, with the reason shown to the user.
    static let refusedExtensions: [String: String] = {
        let assembly = "assembly cannot be lowered to every ISA; popcorn-cc compiles C only"
        let other = "popcorn-cc compiles C only"
        var table: [String: String] = ["s": assembly, "S": assembly, "sx": assembly, "asm": assembly]
        for ext in ["cc", "cpp", "cxx", "c++", "C", "cp", "CPP", "ii", "m", "mm", "M", "mi", "mii",
                    "f", "F", "for", "f90", "f95", "cu", "cl", "h", "hh", "hpp", "hxx", "rs", "swift", "ll", "bc"] {
            table[ext] = other
        }
        return table
    }()

    /// Classifies a path by extension: the file type, or the reason it is refused.
    public static func classify(_ path: String) -> Result<FileType, DriverError> {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return .success(.linkerInput) }
        let ext = String(name[name.index(after: dot)...])
        switch ext {
        case "c": return .success(.c)
        case "i": return .success(.preprocessedC)
        default:
            if let reason = refusedExtensions[ext] { return .failure(.unsupportedInput(path, reason: reason)) }
            return .success(.linkerInput)
        }
    }
}
