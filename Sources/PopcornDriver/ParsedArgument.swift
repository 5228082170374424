/// One occurrence of an option (or an input) on the command line, after parsing.
public struct ParsedArgument: Sendable, Hashable, CustomStringConvertible {
    /// The table entry that matched; `OptionTable.input` for positional arguments.
    public let option: Option
    /// The values: one for joined/separate options, several for comma-joined and remaining
    /// options, none for flags. For inputs, the path.
    public let values: [String]
    /// Position in the (response-file-expanded) argument list, so later passes keep order.
    public let index: Int

    public init(option: Option, values: [String], index: Int) {
        self.option = option
        self.values = values
        self.index = index
    }

    /// The first value, or the empty string for flags.
    public var value: String { values.first ?? "" }

    /// The argument as it is forwarded to another tool: flags as spelled, joined options glued,
    /// options with a separate value as two arguments, comma lists rejoined.
    public var rendered: [String] {
        switch option.kind {
        case .flag: return [option.spelling]
        case .joined: return [option.spelling + value]
        case .separate, .joinedOrSeparate: return [option.spelling, value]
        case .commaJoined: return [option.spelling + values.joined(separator: ",")]
        case .remaining: return [option.spelling] + values
        case .input: return values
        }
    }

    /// The spelling the user typed, for diagnostics (`-Wa,-x`, `-march=native`).
    public var description: String {
        switch option.kind {
        case .separate, .joinedOrSeparate, .joined: return option.spelling + value
        default: return rendered.joined(separator: " ")
        }
    }
}
