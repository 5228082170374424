import PopcornELF
import PopcornSupport

/// Everything popcorn-dump knows about one multi-ISA program: its per-ISA binaries and
/// whether they agree on symbol addresses.
public struct DumpReport: Sendable {
    /// One entry per ISA, in `ISA` order.
    public var binaries: [BinarySummary]
    public var alignment: AlignmentReport

    /// Reads `primary` and its siblings `primary.<isa>` (see `ISA.siblingPath`), checking that
    /// each file holds the ISA its name promises, and compares their symbol tables.
    public init(primary: String) throws {
        var files: [ISA: ELFFile] = [:]
        for isa in ISA.allCases {
            let path = isa.siblingPath(of: primary)
            do {
                files[isa] = try ELFFile(contentsOf: path)
            } catch ELFError.cannotRead(_, "no such file or directory") where path != primary {
                throw DumpError.missingSibling(path: path, isa: isa, primary: primary)
            }
            guard files[isa]!.machine == isa.elfMachine else {
                throw DumpError.wrongISA(path: path, expected: isa, machine: files[isa]!.machine)
            }
        }
        try self.init(files: files)
    }

    /// Summarises already-read binaries.
    public init(files: [ISA: ELFFile]) throws {
        binaries = files.keys.sorted().map { BinarySummary(isa: $0, file: files[$0]!) }
        alignment = try AlignmentChecker.check(files)
    }

    private static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// The human-readable report.
    public func text() -> String {
        var lines: [String] = []
        for binary in binaries {
            lines.append("\(binary.isa): \(binary.path)")
            lines.append("  entry point: \(DumpReport.hex(binary.entry))")
            lines.append("  sections:")
            let width = max(24, (binary.sections.map(\.name.count).max() ?? 0) + 2)
            func padded(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
            lines.append("    " + padded("name", width) + padded("address", 20) + padded("size", 12) + "flags")
            for s in binary.sections {
                lines.append("    " + padded(s.name, width) + padded(DumpReport.hex(s.address), 20)
                             + padded(DumpReport.hex(s.size), 12) + s.flags)
            }
            if !binary.metadata.isEmpty {
                lines.append("  popcorn metadata:")
                for m in binary.metadata { lines.append("    \(padded(m.name, width))size \(DumpReport.hex(m.size))") }
            }
        }
        let count = alignment.mismatches.count
        lines.append("alignment: \(alignment.checkedSymbols) symbols checked, \(count) mismatch\(count == 1 ? "" : "es")"
                     + (alignment.isAligned ? " (aligned)" : " (NOT aligned)"))
        for m in alignment.mismatches { lines.append("  \(m)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as a JSON document.
    public func json() -> JSONValue {
        let binariesJSON: [(String, JSONValue)] = binaries.map { b in
            (b.isa.rawValue, .object([
                ("path", .string(b.path)),
                ("entry", .integer(b.entry)),
                ("sections", .array(b.sections.map { s in
                    .object([("name", .string(s.name)), ("address", .integer(s.address)),
                             ("size", .integer(s.size)), ("flags", .string(s.flags))])
                })),
                ("metadata", .array(b.metadata.map { m in
                    .object([("name", .string(m.name)), ("address", .integer(m.address)), ("size", .integer(m.size))])
                })),
            ]))
        }
        let mismatches: [JSONValue] = alignment.mismatches.map { m in
            .object([
                ("name", .string(m.name)),
                ("fileScope", m.fileScope.map(JSONValue.string) ?? .null),
                ("addresses", .object(m.addresses.keys.sorted().map { ($0.rawValue, .integer(m.addresses[$0]!)) })),
            ])
        }
        return .object([
            ("binaries", .object(binariesJSON)),
            ("alignment", .object([
                ("checkedSymbols", .integer(UInt64(alignment.checkedSymbols))),
                ("aligned", .bool(alignment.isAligned)),
                ("mismatches", .array(mismatches)),
            ])),
        ])
    }
}
