import PopcornSupport

/// Usage and input errors of popcorn-dump (ELF-level problems are reported as `ELFError`).
public enum DumpError: Error, DiagnosticConvertible, Equatable {
    case unknownOption(String)
    case missingInput
    case extraInput(String)
    case unknownISA(String)
    case conflictingOptions(String, String)
    /// The binary of an ISA that popcorn-ld should have written next to the primary one is absent.
    case missingSibling(path: String, isa: ISA, primary: String)
    /// A file does not hold the ISA its name promises.
    case wrongISA(path: String, expected: ISA, machine: UInt16)

    public var diagnostic: Diagnostic {
        switch self {
        case let .unknownOption(option):
            return Diagnostic(.error, "unknown argument: '\(option)' (see 'popcorn-dump --help')")
        case .missingInput:
            return Diagnostic(.error, "no input file (usage: popcorn-dump [--json] [--verify] <binary>)")
        case let .unknownISA(name):
            return Diagnostic(.error, "unknown ISA '\(name)' (expected one of: \(ISA.allCases.map(\.rawValue).joined(separator: ", ")))")
        case let .conflictingOptions(first, second):
            return Diagnostic(.error, "\(first) cannot be combined with \(second)")
        case let .extraInput(path):
            return Diagnostic(.error, "only one input binary is accepted; unexpected '\(path)'")
        case let .missingSibling(path, isa, primary):
            return Diagnostic(.error, "'\(path)': no such file; expected the \(isa) binary of '\(primary)' (link with popcorn-ld)")
        case let .wrongISA(path, expected, machine):
            let found = ISA(elfMachine: machine).map { "an \($0) binary" } ?? "ELF machine \(machine)"
            return Diagnostic(.error, "'\(path)': expected an \(expected) binary but found \(found)")
        }
    }
}
