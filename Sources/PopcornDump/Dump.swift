import Foundation
import PopcornELF
import PopcornSupport

/// popcorn-dump: inspection and verification of the per-ISA binaries of one program.
public enum Dump {
    /// Entry point of the `popcorn-dump` executable; returns the exit status.
    public static func main(arguments: [String]) -> Int32 {
        run(arguments: arguments,
            stdout: { FileHandle.standardOutput.write(Data($0.utf8)) },
            stderr: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
    }

    /// Runs the tool with explicit output channels (tests capture them).
    /// `stdout` receives complete text; `stderr` receives one message per call.
    public static func run(arguments: [String], stdout: @escaping (String) -> Void,
                           stderr: @escaping (String) -> Void) -> Int32 {
        let diagnostics = DiagnosticsEngine(toolName: "popcorn-dump", sink: stderr)
        do {
            let options = try DumpOptions(arguments: arguments)
            if options.help { stdout(HelpText.usage); return 0 }
            if options.version { stdout(HelpText.version + "\n"); return 0 }
            guard let input = options.input else { throw DumpError.missingInput }
            if let isa = options.extract {
                for object in options.objects { try extract(isa, from: object) }
                return 0
            }

            let report = try DumpReport(primary: input)
            if options.json { stdout(report.json().rendered() + "\n") }
            if options.verify {
                for mismatch in report.alignment.mismatches {
                    diagnostics.error("symbol '\(mismatch.qualifiedName)' is not aligned: "
                                      + mismatch.addresses.keys.sorted()
                                        .map { "\($0) 0x\(String(mismatch.addresses[$0]!, radix: 16))" }
                                        .joined(separator: ", "))
                }
                for problem in report.metadataProblems { diagnostics.error(problem) }
                return report.alignment.isAligned && report.metadataProblems.isEmpty ? 0 : 1
            }
            if !options.json { stdout(report.text()) }
            return 0
        } catch {
            diagnostics.report(error)
            return 1
        }
    }

    /// Writes the `isa` object of the multi-ISA object at `path` to `<path>.<isa>` (atomically;
    /// for the host ISA that is the container itself, a valid object of that ISA). The others
    /// are stored compressed, so `llvm-objcopy --dump-section` gives zlib data, not an object.
    static func extract(_ isa: ISA, from path: String) throws {
        let data = try FileSystem.read(path)
        let objects = try MultiISAObject.objects(in: data, path: path)
        guard let object = objects[isa] else {
            throw ELFError.badContainer(path: path, reason: "it holds no \(isa) object")
        }
        try AtomicFile.write(object, to: "\(path).\(isa.rawValue)")
    }
}
