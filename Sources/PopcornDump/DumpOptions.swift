/// Parsed command line of popcorn-dump.
public struct DumpOptions: Equatable, Sendable {
    /// The primary (host ISA) binary; siblings are found from it.
    public var input: String?
    public var json = false
    public var verify = false
    public var help = false
    public var version = false

    public init() {}

    /// Parses `arguments` (without argv[0]). Options and the input may come in any order;
    /// `--` ends option parsing so files starting with `-` can be named.
    public init(arguments: [String]) throws {
        var onlyFiles = false
        for argument in arguments {
            if !onlyFiles && argument.hasPrefix("-") && argument != "-" {
                switch argument {
                case "--": onlyFiles = true
                case "--json": json = true
                case "--verify": verify = true
                case "--help", "-h": help = true
                case "--version": version = true
                default: throw DumpError.unknownOption(argument)
                }
                continue
            }
            if input != nil { throw DumpError.extraInput(argument) }
            input = argument
        }
    }
}
