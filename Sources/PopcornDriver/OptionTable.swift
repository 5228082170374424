/// A set of options with table-driven lookup: an argument matches the entry whose spelling is
/// the longest prefix of it that the entry's kind allows (flags and separate options must match
/// exactly, joined kinds may carry text after the spelling).
public struct OptionTable: Sendable {
    /// The positional-argument pseudo-option that inputs are attached to.
    public static let input = Option("<input>", .input, group: .internalOnly, hidden: true)

    public let options: [Option]
    /// Candidates bucketed by their second character (after the dash), longest spelling first,
    /// so a lookup scans only the handful of options that could possibly match.
    private let buckets: [Character: [Option]]

    public init(_ options: [Option]) {
        self.options = options
        var buckets: [Character: [Option]] = [:]
        for option in options where option.kind != .input {
            buckets[OptionTable.bucketKey(option.spelling), default: []].append(option)
        }
        for key in buckets.keys { buckets[key]!.sort { $0.spelling.count > $1.spelling.count } }
        self.buckets = buckets
    }

    private static func bucketKey(_ s: String) -> Character {
        let chars = s.dropFirst()
        return chars.first ?? "-"
    }

    /// The entry matching `argument` (which starts with `-`), or nil for an unknown argument.
    public func match(_ argument: String) -> Option? {
        guard let candidates = buckets[OptionTable.bucketKey(argument)] else { return nil }
        for option in candidates where argument.hasPrefix(option.spelling) {
            switch option.kind {
            case .flag, .separate, .remaining:
                if argument.count == option.spelling.count { return option }
            case .joined, .joinedOrSeparate, .commaJoined:
                return option
            case .input:
                continue
            }
        }
        return nil
    }

    /// Every visible option of a `--help` group, in table order.
    public func options(in group: Option.Group) -> [Option] {
        options.filter { $0.group == group && !$0.isHidden }
    }
}
