import Foundation
import PopcornSupport

/// Everything popcorn-ld reports as an error, spelled the way clang and ld.lld spell theirs.
public enum LinkerError: Error, DiagnosticConvertible, Equatable {
    case unknownArgument(String)
    case missingArgument(option: String)
    case invalidArgument(option: String, value: String, reason: String)
    case gcSectionsUnsupported
    case refusedOption(option: String, reason: String)
    case recursiveResponseFile(path: String)
    case lldFailed(isa: ISA, status: Int32)
    case noInputFiles
    case inputNotFound(path: String)
    case libraryNotFound(name: String, searched: [String])
    case systemFileMissing(path: String, package: String)
    case runtimeMissing(path: String)
    case portableLibcMissing(path: String)
    case notPopcornObject(path: String)
    case notPopcornArchiveMember(archive: String, member: String)
    case missingISA(path: String, isa: ISA)
    case unreadable(path: String, reason: String)
    case malformedMap(path: String, line: Int, text: String)
    case layoutConflict(String)
    case unplacedSection(isa: ISA, section: String)
    case misplacedSection(isa: ISA, section: String, expected: UInt64, actual: UInt64?)
    case symbolMismatch(name: String, addresses: [ISA: UInt64], more: Int)
    case tlsMismatch(String)
    case cannotAppendSection(path: String, section: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var diagnostic: Diagnostic {
        Diagnostic(.error, message)
    }

    private var message: String {
        switch self {
        case let .unknownArgument(arg):
            return "unknown argument: '\(arg)'"
        case let .missingArgument(option):
            return "argument to '\(option)' is missing (expected 1 value)"
        case let .invalidArgument(option, value, reason):
            return "invalid argument '\(value)' to '\(option)': \(reason)"
        case .gcSectionsUnsupported:
            return "'--gc-sections' is not supported: it would drop sections on one ISA but not the other and break address alignment"
        case let .refusedOption(option, reason):
            return "'\(option)' is not supported: \(reason)"
        case let .recursiveResponseFile(path):
            return "recursive expansion of response file '@\(path)'"
        case let .lldFailed(isa, status):
            return "ld.lld failed for \(isa) with exit code \(status) (use -v to see invocation)"
        case .noInputFiles:
            return "no input files"
        case let .inputNotFound(path):
            return "no such file or directory: '\(path)'"
        case let .libraryNotFound(name, searched):
            let dirs = searched.isEmpty ? "" : " (searched \(searched.joined(separator: ", ")))"
            return "unable to find library -l\(name)\(dirs)"
        case let .systemFileMissing(path, package):
            return "unable to find '\(path)' (install the Debian package '\(package)')"
        case let .runtimeMissing(path):
            return "unable to find the popcorn runtime '\(path)' (build it with 'make', or set POPCORN_RUNTIME_DIR)"
        case let .portableLibcMissing(path):
            return "unable to find the portable C library '\(path)' (build it with 'make', or set POPCORN_RUNTIME_DIR)"
        case let .notPopcornObject(path):
            return "'\(path)': not a popcorn multi-ISA object (compile it with popcorn-cc)"
        case let .notPopcornArchiveMember(archive, member):
            return "'\(archive)(\(member))': not a popcorn multi-ISA object (compile it with popcorn-cc)"
        case let .missingISA(path, isa):
            return "'\(path)': has no \(isa) object (compile it with popcorn-cc for every ISA)"
        case let .unreadable(path, reason):
            return "cannot read '\(path)': \(reason)"
        case let .malformedMap(path, line, text):
            return "'\(path)':\(line): unrecognised link map line: '\(text)'"
        case let .layoutConflict(reason):
            return "cannot align the binaries: \(reason)"
        case let .unplacedSection(isa, section):
            return "section '\(section)' of the \(isa) link was not placed by the layout"
        case let .misplacedSection(isa, section, expected, actual):
            let got = actual.map { "0x" + String($0, radix: 16) } ?? "nowhere"
            return "section '\(section)' landed at \(got) on \(isa) instead of 0x\(String(expected, radix: 16))"
        case let .symbolMismatch(name, addresses, more):
            let isas = addresses.keys.sorted()
            let parts = isas.map { "0x\(String(addresses[$0]!, radix: 16)) on \($0)" }
            var text = "symbol '\(name)' is at " + parts.joined(separator: " but ")
            if more > 0 { text += " (and \(more) more mismatched symbol\(more == 1 ? "" : "s"))" }
            return text
        case let .tlsMismatch(reason):
            return "thread-local storage differs between the binaries: \(reason)"
        case let .cannotAppendSection(path, section, reason):
            return "cannot add section '\(section)' to '\(path)': \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write '\(path)': \(reason)"
        }
    }
}
