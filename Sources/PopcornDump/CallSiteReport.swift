import Foundation
import PopcornELF
import PopcornMetadata
import PopcornSupport

/// The decoded stack-transformation metadata (`.popcorn.meta`) of a program, call site by call
/// site across ISAs, and what is wrong with it.
///
/// popcorn-ld writes into every binary the table of that binary's ISA; each is decoded from its
/// own binary (any decoding error is thrown: a corrupt section is an error, never a crash).
/// `problems` re-checks what the runtime relies on against the binaries themselves.
public struct CallSiteReport: Sendable {
    /// One call site with its description on every ISA.
    public struct Entry: Sendable {
        /// The site's position in ID order (the format names sites by it; the IDs are not stored).
        public var id: UInt64
        public var function: String
        /// Per ISA: the call site and the function it is in.
        public var sites: [ISA: (site: CallSite, function: MetadataFunction)]
    }

    /// Every ISA's table, each from its own binary, in ISA order.
    public var tables: [StackTransformMetadata]
    /// Per ISA: bytes of the section in that ISA's binary.
    public var sectionSizes: [ISA: Int]
    /// Call sites by ID (sorted), joined across ISAs.
    public var entries: [Entry]
    /// Every inconsistency found (empty when the metadata is sound).
    public var problems: [String]

    /// Decodes the metadata of `files`; `nil` when no binary has a `.popcorn.meta` section.
    public init?(files: [ISA: ELFFile]) throws {
        let name = MetadataFormat.sectionName
        guard files.values.contains(where: { $0.section(named: name) != nil }) else { return nil }
        var problems: [String] = []
        var tables: [StackTransformMetadata] = []
        var sizes: [ISA: Int] = [:]
        for (isa, file) in files.sorted(by: { $0.key < $1.key }) {
            guard let section = file.section(named: name) else {
                problems.append("'\(file.path)': no '\(name)' section (link with popcorn-ld)")
                continue
            }
            // A section that decodes but lacks its binary's own table was cut short or written
            // for another binary: as much a decoding error as a truncated table.
            guard let own = try MetadataReader.read(file).first(where: { $0.isa == isa }) else {
                throw MetadataError.malformed(context: "'\(file.path)': \(name)", reason: "no table for \(isa)")
            }
            tables.append(own)
            sizes[isa] = Int(section.size)
        }
        self.tables = tables
        sectionSizes = sizes
        entries = CallSiteReport.join(tables)
        problems += CallSiteReport.check(tables: tables, entries: entries, files: files)
        self.problems = problems
    }

    /// Bytes of each ISA's table as encoded.
    public func tableSize(_ isa: ISA) -> Int? {
        guard let table = tables.first(where: { $0.isa == isa }) else { return nil }
        return try? MetadataWriter.encode(table).count
    }

    private static func join(_ tables: [StackTransformMetadata]) -> [Entry] {
        var byID: [UInt64: Entry] = [:]
        for table in tables {
            for site in table.callSites {
                let function = table.functions[site.functionIndex]
                byID[site.id, default: Entry(id: site.id, function: function.name, sites: [:])].sites[table.isa] = (site, function)
            }
        }
        return byID.keys.sorted().map { byID[$0]! }
    }

    /// The checks of `popcorn-dump --verify`, phrased for the user.
    static func check(tables: [StackTransformMetadata], entries: [Entry], files: [ISA: ELFFile]) -> [String] {
        var problems: [String] = []
        let isas = files.keys.sorted()
        // The frames are re-derived from each binary's own CFI (the rule popcorn-ld used).
        var ehFrames: [ISA: EHFrame] = [:]
        for isa in isas where !entries.isEmpty {
            do { ehFrames[isa] = try EHFrameParser.parse(files[isa]!) } catch {
                problems.append("'\(files[isa]!.path)': the frames cannot be checked: \(error)")
            }
        }
        for isa in isas where !tables.contains(where: { $0.isa == isa }) {
            problems.append("the metadata has no table for \(isa)")
        }
        let hashes = Set(tables.map(\.siteSetHash))
        if hashes.count > 1 { problems.append("the ISAs' tables describe different sets of call sites") }
        for entry in entries {
            let label = "call site #\(entry.id) in '\(entry.function)'"
            for table in tables where entry.sites[table.isa] == nil {
                problems.append("\(label): missing on \(table.isa)")
            }
            let described = entry.sites.sorted { $0.key < $1.key }
            if Set(described.map(\.value.function.name)).count > 1 {
                problems.append("\(label): in different functions: "
                                + described.map { "'\($0.value.function.name)' on \($0.key)" }.joined(separator: ", "))
            }
            let counts = Set(described.map(\.value.site.liveValues.count))
            if counts.count > 1 {
                problems.append("\(label): live value counts differ: "
                                + described.map { "\($0.value.site.liveValues.count) on \($0.key)" }.joined(separator: ", "))
            } else if let first = described.first {
                for n in first.value.site.liveValues.indices {
                    let allocas = Set(described.map { $0.value.site.liveValues[n].kind == .direct })
                    if allocas.count > 1 { problems.append("\(label): live value \(n) is a stack object on some ISAs only") }
                }
            }
            for (isa, (site, function)) in described {
                problems += checkSite(site, function: function, isa: isa, file: files[isa], label: label)
                if let ehFrame = ehFrames[isa] {
                    problems += checkFrame(site, isa: isa, ehFrame: ehFrame, label: label)
                }
            }
        }
        return problems
    }

    private static func checkSite(_ site: CallSite, function: MetadataFunction, isa: ISA, file: ELFFile?,
                                  label: String) -> [String] {
        var problems: [String] = []
        let registers = RegisterFile(isa)
        let ra = site.returnAddress
        if ra <= function.address || (function.size > 0 && ra > function.address + function.size) {
            problems.append("\(label): \(isa) return address \(hex(ra)) is outside the function (\(hex(function.address)), \(function.size) bytes)")
        }
        if let file, !CallInstructionDecoder.isCall(before: ra, in: file, isa: isa) {
            problems.append("\(label): \(isa) return address \(hex(ra)) does not follow a call instruction")
        }
        for (n, value) in site.liveValues.enumerated() where value.kind == .register {
            if !registers.isCalleeSaved(value.register) {
                problems.append("\(label): \(isa) live value \(n) is in \(registers.name(of: value.register)), which a call clobbers")
            }
        }
        for saved in site.frame.savedRegisters where !registers.isCalleeSaved(saved.register) {
            problems.append("\(label): \(isa) lists \(registers.name(of: saved.register)) as saved, but it is not callee-saved")
        }
        return problems
    }

    /// The frame the metadata describes against the one the binary's CFI gives at that return
    /// address: CFA rule, return-address and frame-pointer slots, saved registers and, where the
    /// CFA is SP-based, the frame size (elsewhere it came from the stackmap, which the binary no
    /// longer has; the table's checksum covers it).
    private static func checkFrame(_ site: CallSite, isa: ISA, ehFrame: EHFrame, label: String) -> [String] {
        let derived: FrameLayout
        do {
            derived = try FrameDerivation.frame(returningTo: site.returnAddress, ehFrame: ehFrame,
                                                registers: RegisterFile(isa), stackSize: nil)
        } catch {
            switch error {
            case .noFrameInfo: return ["\(label): \(isa) has no CFI at return address \(hex(site.returnAddress))"]
            case let .unsupported(reason): return ["\(label): \(isa) \(reason)"]
            }
        }
        let f = site.frame
        var differences: [String] = []
        if f.cfaRegister != derived.cfaRegister || f.cfaOffset != derived.cfaOffset { differences.append("CFA rule") }
        if f.returnAddressOffset != derived.returnAddressOffset { differences.append("return address slot") }
        if f.framePointerOffset != derived.framePointerOffset { differences.append("frame pointer slot") }
        if f.savedRegisters != derived.savedRegisters { differences.append("saved registers") }
        if let size = derived.frameSize, f.frameSize != size { differences.append("frame size") }
        if differences.isEmpty { return [] }
        return ["\(label): \(isa) frame differs from the binary's CFI: " + differences.joined(separator: ", ")]
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
