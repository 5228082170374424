/// One entry of a command-line option table: how the option is spelled, how its value is
/// attached, where it is documented and where the driver sends it.
///
/// Options are plain data so that parsing, `--help` and forwarding are all driven by the table
/// (see `DriverOptions`) rather than by code that compares strings.
public struct Option: Sendable, Hashable, CustomStringConvertible {
    /// How an option takes its value.
    public enum Kind: Sendable, Hashable {
        /// No value: `-c`.
        case flag
        /// Value glued to the spelling, possibly empty: `-std=c11`, `-O2`, `-O`.
        case joined
        /// Value in the next argument: `-Xlinker --gc-sections`.
        case separate
        /// Either glued or in the next argument: `-Idir`, `-I dir`.
        case joinedOrSeparate
        /// Comma-separated values glued to the spelling: `-Wl,-Map,out.map`.
        case commaJoined
        /// Every following argument is a value: `-- a.c -b.c`.
        case remaining
        /// A positional argument (an input file); only the table's `input` entry has this kind.
        case input
    }

    /// Sections of `--help`, in the order they are printed.
    public enum Group: String, Sendable, Hashable, CaseIterable {
        case mode = "Compilation stages"
        case output = "Output"
        case optimization = "Optimization and debug information"
        case preprocessor = "Preprocessor"
        case language = "Language and warnings"
        case codeGeneration = "Code generation"
        case target = "Target"
        case dependencies = "Dependency files"
        case linker = "Linking"
        case information = "Information"
        case internalOnly = "Internal"
    }

    /// Where an occurrence of the option goes once parsed.
    public enum Destination: Sendable, Hashable {
        /// Interpreted by the driver itself (modes, outputs, `-O`, `-g`, dependency files, …).
        case driver
        /// Forwarded, as written, to the clang frontend.
        case frontend
        /// Forwarded to popcorn-ld, in command-line order with the inputs.
        case linker
        /// Accepted and dropped silently; `reason` says why.
        case ignored(reason: String)
        /// Accepted and dropped with a warning, because the driver's own setting wins.
        case overridden(reason: String)
        /// Refused with `popcorn-cc: error: unsupported option '<spelling>': <reason>`.
        case rejected(reason: String)
    }

    /// The prefix that identifies the option, including dashes (`-I`, `-std=`, `-Wl,`).
    public let spelling: String
    public let kind: Kind
    public let group: Group
    /// One line for `--help`.
    public let help: String
    /// Name of the value in `--help` (`<dir>`), when the option has one.
    public let metaVariable: String?
    public let destination: Destination
    /// Hidden options work but are not listed by `--help`.
    public let isHidden: Bool
    /// Storage for `aliasOf`: a struct cannot hold an optional of itself, an array can.
    private let aliasStorage: [Option]

    public init(_ spelling: String, _ kind: Kind, group: Group, help: String = "",
                metaVariable: String? = nil, destination: Destination = .driver, hidden: Bool = false) {
        self.spelling = spelling
        self.kind = kind
        self.group = group
        self.help = help
        self.metaVariable = metaVariable
        self.destination = destination
        self.isHidden = hidden
        self.aliasStorage = []
    }

    /// Another spelling of `canonical` (`--std=c11` for `-std=c11`, `--output x` for `-o x`):
    /// it is parsed with its own kind and then becomes an occurrence of `canonical`, so the
    /// driver interprets and forwards only canonical spellings, which the frontend accepts.
    /// `canonical` must take a single value (or none, for flag aliases of flags).
    public init(alias spelling: String, _ kind: Kind, of canonical: Option) {
        precondition(canonical.aliasOf == nil, "aliases point at canonical options")
        precondition(kind == .flag || [.joined, .separate, .joinedOrSeparate].contains(canonical.kind),
                     "a valued alias needs a single-valued canonical option")
        self.spelling = spelling
        self.kind = kind
        self.group = canonical.group
        self.help = "Same as \(canonical.spelling)"
        self.metaVariable = canonical.metaVariable
        self.destination = canonical.destination
        self.isHidden = true
        self.aliasStorage = [canonical]
    }

    /// The option this one is another spelling of, if it is an alias.
    public var aliasOf: Option? { aliasStorage.first }

    public var description: String { spelling }

    /// How the option is shown in `--help`: `-I <dir>`, `-std=<standard>`, `-Wl,<arg>,…`.
    public var synopsis: String {
        let meta = metaVariable ?? "<value>"
        switch kind {
        case .flag, .input: return spelling
        case .joined: return metaVariable == nil ? spelling + "…" : spelling + meta
        case .separate, .joinedOrSeparate: return "\(spelling) \(meta)"
        case .commaJoined: return "\(spelling)\(meta)[,…]"
        case .remaining: return "\(spelling) \(meta)…"
        }
    }

    /// Options are identified by spelling and kind; two table entries never share both.
    public static func == (a: Option, b: Option) -> Bool { a.spelling == b.spelling && a.kind == b.kind }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(spelling)
        hasher.combine(kind)
    }
}
