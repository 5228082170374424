/// Splits a command line into `ParsedArgument`s using an `OptionTable`.
///
/// Parsing does not interpret anything: it only decides, for each argument, which table entry
/// it is and what its values are. Problems are collected rather than thrown one at a time so
/// the user sees every unknown argument at once, like clang.
public struct OptionParser: Sendable {
    /// The outcome of parsing: the arguments that were understood and the errors found.
    public struct Result: Sendable {
        public var arguments: [ParsedArgument] = []
        public var errors: [OptionError] = []
    }

    public let table: OptionTable

    public init(table: OptionTable) { self.table = table }

    public func parse(_ arguments: [String]) -> Result {
        var result = Result()
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            let index = i
            i += 1
            // A lone `-` names standard input; anything not starting with `-` is an input.
            if arg == "-" || !arg.hasPrefix("-") {
                result.arguments.append(ParsedArgument(option: OptionTable.input, values: [arg], index: index))
                continue
            }
            guard let matched = table.match(arg) else {
                result.errors.append(.unknownArgument(arg))
                continue
            }
            // Values are split by the spelling that matched; the argument then stands for the
            // canonical option (an alias's flag form gives the canonical its empty value).
            let glued = String(arg.dropFirst(matched.spelling.count))
            let option = matched.aliasOf ?? matched
            if matched.aliasOf != nil && matched.kind == .flag && option.kind != .flag {
                result.arguments.append(ParsedArgument(option: option, values: [""], index: index))
                continue
            }
            switch matched.kind {
            case .flag:
                result.arguments.append(ParsedArgument(option: option, values: [], index: index))
            case .joined:
                result.arguments.append(ParsedArgument(option: option, values: [glued], index: index))
            case .commaJoined:
                let parts = glued.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                result.arguments.append(ParsedArgument(option: option, values: parts, index: index))
            case .joinedOrSeparate where !glued.isEmpty:
                result.arguments.append(ParsedArgument(option: option, values: [glued], index: index))
            case .separate, .joinedOrSeparate:
                guard i < arguments.count else {
                    result.errors.append(.missingValue(option: matched.spelling))
                    continue
                }
                result.arguments.append(ParsedArgument(option: option, values: [arguments[i]], index: index))
                i += 1
            case .remaining:
                result.arguments.append(ParsedArgument(option: option, values: Array(arguments[i...]), index: index))
                i = arguments.count
            case .input:
                preconditionFailure("the input pseudo-option is never matched by spelling")
            }
        }
        return result
    }
}
