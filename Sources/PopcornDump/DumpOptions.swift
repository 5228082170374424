import PopcornSupport

/// Parsed command line of popcorn-dump.
public struct DumpOptions: Equatable, Sendable {
    /// The primary (host ISA) binary; siblings are found from it.
    public var input: String?
    public var json = false
    public var verify = false
    public var help = false
    public var version = false
    /// `--extract=<isa>`: write that ISA's object out of each multi-ISA object in `objects`.
    public var extract: ISA?
    /// The multi-ISA objects of `--extract` (every input, `input` being the first).
    public var objects: [String] = []

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
                case _ where argument.hasPrefix("--extract="):
                    let name = String(argument.dropFirst("--extract=".count))
                    guard let isa = ISA(rawValue: name) else { throw DumpError.unknownISA(name) }
                    extract = isa
                default: throw DumpError.unknownOption(argument)
                }
                continue
            }
            objects.append(argument)
            if input == nil { input = argument }
        }
        if extract == nil, objects.count > 1 { throw DumpError.extraInput(objects[1]) }
        if extract != nil, json || verify { throw DumpError.conflictingOptions("--extract", json ? "--json" : "--verify") }
    }
}
