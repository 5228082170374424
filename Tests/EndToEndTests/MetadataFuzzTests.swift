import Foundation
import Testing
import PopcornDump
import PopcornELF
import PopcornMetadata
import PopcornSupport

/// Metadata trust (docs/METADATA.md, "Integrity"): each binary's `.popcorn.meta` (its own ISA's
/// table, of which no copy exists to compare with) is damaged. `popcorn-dump --verify` must
/// reject every such change, the runtime must refuse to migrate with the damaged tables (one
/// warning, the unmoved output), and a change that keeps the checksum right (what a linker bug
/// would write) must still be caught wherever the binary's CFI says otherwise.
@Suite(.serialized) struct MetadataFuzzTests {
    /// A small deterministic generator (SplitMix64), so a failure names a reproducible case.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    struct Program {
        let work: TemporaryDirectory
        var binaries: [ISA: Data]
        var sectionOffset: [ISA: Int]
        let sections: [ISA: [UInt8]]
    }

    static func build() throws -> Program {
        let work = try ProcessMoveTests.build("pingpong.c")
        var binaries: [ISA: Data] = [:], offsets: [ISA: Int] = [:]
        var sections: [ISA: [UInt8]] = [:]
        for isa in ISA.allCases {
            let path = "\(work.path)/\(isa.siblingPath(of: "prog"))"
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let file = try ELFFile(data: data, path: path)
            let meta = try #require(file.section(named: MetadataFormat.sectionName))
            binaries[isa] = data
            offsets[isa] = Int(meta.offset)
            sections[isa] = [UInt8](try file.contents(of: meta))
        }
        return Program(work: work, binaries: binaries, sectionOffset: offsets, sections: sections)
    }

    /// The binaries with `sections` in place of their `.popcorn.meta` (same size, same place);
    /// an ISA without an entry keeps its own.
    static func with(_ sections: [ISA: [UInt8]], _ program: Program) -> [ISA: Data] {
        program.binaries.reduce(into: [:]) { result, entry in
            var data = entry.value
            if let section = sections[entry.key] {
                let start = program.sectionOffset[entry.key]!
                data.replaceSubrange(start..<start + section.count, with: section)
            }
            result[entry.key] = data
        }
    }

    /// Every binary's section with one random byte changed.
    static func damaged(_ program: Program, using random: inout Generator) -> [ISA: [UInt8]] {
        program.sections.mapValues { original in
            var section = original
            section[Int.random(in: 0..<section.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            return section
        }
    }

    /// What `popcorn-dump --verify` concludes about these binaries: nil when it accepts them.
    static func verify(_ binaries: [ISA: Data]) -> String? {
        do {
            var files: [ISA: ELFFile] = [:]
            for (isa, data) in binaries { files[isa] = try ELFFile(data: data, path: isa.siblingPath(of: "prog")) }
            let report = try DumpReport(files: files)
            let problems = report.metadataProblems + report.alignment.mismatches.map { "\($0)" }
            return problems.isEmpty ? nil : problems[0]
        } catch {
            return "\(error)"
        }
    }

    /// Offsets of the tables in the section (each `total_size` bytes, back to back).
    static func tables(_ section: [UInt8]) -> [Int] {
        var offsets: [Int] = [], at = 0
        while at + MetadataFormat.headerSize <= section.count {
            offsets.append(at)
            at += Int(u32(section, at + 16))
        }
        return offsets
    }

    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) } }
    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }

    static func add(_ delta: Int32, toI32At at: Int, in b: inout [UInt8]) {
        let value = UInt32(bitPattern: Int32(bitPattern: u32(b, at)) &+ delta)
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    /// Recomputes the checksum of the table at `table`.
    static func reseal(_ b: inout [UInt8], table: Int) {
        let size = Int(u32(b, table + 16))
        let sum = MetadataFormat.checksum(of: Array(b[table..<table + size]))
        for i in 0..<8 { b[table + MetadataFormat.checksumOffset + i] = UInt8(truncatingIfNeeded: sum >> (8 * UInt64(i))) }
    }

    /// 2,000 byte mutations, alternately of each binary's section: `--verify` rejects all of them.
    @Test func verifyRejectsEveryMutation() throws {
        let program = try Self.build()
        #expect(Self.verify(program.binaries) == nil, "the unmutated program must verify")
        var random = Generator(state: 0x706f_7063_6f72_6e31)
        var accepted: [String] = []
        for n in 0..<2000 {
            let isa = ISA.allCases[n % ISA.allCases.count]
            var section = program.sections[isa]!
            let at = Int.random(in: 0..<section.count, using: &random)
            let flip = UInt8.random(in: 1...255, using: &random)
            section[at] ^= flip
            // The section is decoded first: a damaged table never gets to the rest of the report.
            let rejected: Bool
            do { _ = try MetadataReader.decodeSection(Data(section)); rejected = false } catch { rejected = true }
            if !rejected { accepted.append("case \(n): \(isa) byte \(at) ^ 0x\(String(flip, radix: 16))") }
        }
        #expect(accepted.isEmpty, "accepted: \(accepted.prefix(10))")
        // And through the whole --verify report, for a sample, one binary damaged at a time.
        for n in 0..<40 {
            let isa = ISA.allCases[n % ISA.allCases.count]
            let section = Self.damaged(program, using: &random)[isa]!
            #expect(Self.verify(Self.with([isa: section], program)) != nil, "\(isa)")
        }
    }

    /// Changes that keep the checksum right, in every field the CFI determines (CFA offset,
    /// frame-pointer and saved-register slots, return-address slot, SP-based frame sizes): the
    /// re-derivation finds each of them.
    @Test func verifyRejectsResealedFrameChanges() throws {
        let program = try Self.build()
        var random = Generator(state: 0x6672_616d_6573_2121)
        var accepted: [String] = [], tried = 0
        let tables = ISA.allCases.flatMap { isa in Self.tables(program.sections[isa]!).map { (isa, $0) } }
        for (isa, table) in tables {
            let s = program.sections[isa]!
            let frames = table + Int(Self.u32(s, table + 84)), frameCount = Int(Self.u32(s, table + 48))
            let saved = table + Int(Self.u32(s, table + 88)), savedCount = Int(Self.u32(s, table + 52))
            let sp = s[table + 108]
            let size = MetadataFormat.frameSize
            var targets: [(String, Int)] = []
            for i in 0..<frameCount {
                let frame = frames + size * i
                targets.append(("frame \(i) CFA offset", frame + 4))
                if s[frame] & MetadataFormat.siteFramePointerSaved != 0 {
                    targets.append(("frame \(i) frame pointer slot", frame + 8))
                }
                if s[frame + 1] == sp { targets.append(("frame \(i) frame size", frame + 16)) }
            }
            for i in 0..<savedCount { targets.append(("saved register \(i) slot", saved + 8 * i + 4)) }
            for (label, at) in targets.shuffled(using: &random) {
                var section = s
                Self.add([8, -8, 16][Int.random(in: 0..<3, using: &random)], toI32At: at, in: &section)
                Self.reseal(&section, table: table)
                tried += 1
                if Self.verify(Self.with([isa: section], program)) == nil { accepted.append("\(isa) table \(table): \(label)") }
            }
            // The return-address slot (an i16 in the frame record).
            for i in (0..<frameCount).shuffled(using: &random).prefix(20) {
                var section = s
                let at = frames + size * i + 20
                let value = UInt16(bitPattern: Int16(bitPattern: Self.u16(section, at)) &+ 8)
                section[at] = UInt8(truncatingIfNeeded: value); section[at + 1] = UInt8(value >> 8)
                Self.reseal(&section, table: table)
                tried += 1
                if Self.verify(Self.with([isa: section], program)) == nil { accepted.append("\(isa) table \(table): frame \(i) return address slot") }
            }
        }
        #expect(tried >= 40, "only \(tried) fields to change")
        #expect(accepted.isEmpty, "accepted \(accepted.count) of \(tried): \(accepted.prefix(10))")
    }

    /// A damaged table in the destination's binary alone (the running binary's own table is
    /// sound): the stack transformation, which reads the destination's table from that binary,
    /// refuses the move with one warning naming the file, and the program runs on unmoved.
    @Test func damagedDestinationTableRefusesTheMove() throws {
        let program = try Self.build()
        var random = Generator(state: 0x6465_7374_696e_6174)
        let plain = try ProcessMoveTests.pingpong(program.work, isa: .host, migrateAt: "")
        let destination = ISA.allCases.first { $0 != .host }!
        for n in 0..<4 {
            let sections = [destination: Self.damaged(program, using: &random)[destination]!]
            for (isa, data) in Self.with(sections, program) {
                try data.write(to: URL(fileURLWithPath: "\(program.work.path)/mutant.\(isa)"))
                try Harness.mustSucceed("cp mutant.\(isa) \(isa.siblingPath(of: "prog")).new && chmod 0755 \(isa.siblingPath(of: "prog")).new && mv -f \(isa.siblingPath(of: "prog")).new \(isa.siblingPath(of: "prog"))",
                                        in: program.work.path)
            }
            let command = try ProcessMoveTests.command(isa: .host, environment: "timeout 60 env POPCORN_STATS=1 POPCORN_MIGRATE_AT=50,400",
                                                      arguments: "")
            let run = try Harness.shell(command, in: program.work.path)
            #expect(run.succeeded, "mutation \(n): \(run.status) \(run.stderrText)")
            #expect(run.stdoutText == plain.stdoutText, "mutation \(n): output differs")
            let warnings = run.stderrText.split(separator: "\n").filter { $0.contains("warning") }
            #expect(warnings.count == 1 && warnings[0].hasPrefix("popcorn: warning: cannot migrate to \(destination): ")
                    && warnings[0].contains(destination.siblingPath(of: "prog")), "mutation \(n): \(run.stderrText)")
            #expect(run.stderrText.hasSuffix("migrations: 0\n"), "mutation \(n): \(run.stderrText)")
        }
    }

    /// Binaries damaged this way run as if they had never been asked to move: one warning, the
    /// unmoved output, no crash or hang, from both ISAs and for same-ISA moves.
    @Test func damagedMetadataMeansNoMigrationNeverAWrongResult() throws {
        let program = try Self.build()
        var random = Generator(state: 0x7275_6e74_696d_6521)
        let plain = try ProcessMoveTests.pingpong(program.work, isa: .host, migrateAt: "")
        for n in 0..<12 {
            let sections = Self.damaged(program, using: &random)
            // Written by cp: a descriptor this process held open for writing could be inherited
            // by a child another test spawns meanwhile, and exec would then fail (ETXTBSY).
            for (isa, data) in Self.with(sections, program) {
                try data.write(to: URL(fileURLWithPath: "\(program.work.path)/mutant.\(isa)"))
                try Harness.mustSucceed("cp mutant.\(isa) \(isa.siblingPath(of: "prog")).new && chmod 0755 \(isa.siblingPath(of: "prog")).new && mv -f \(isa.siblingPath(of: "prog")).new \(isa.siblingPath(of: "prog"))",
                                        in: program.work.path)
            }
            for (isa, extra) in [(ISA.host, "POPCORN_MIGRATE_SAME_ISA=1"), (.x86_64, ""), (.aarch64, "")] where n % 3 == 0 || isa == .host {
                let command = try ProcessMoveTests.command(isa: isa, environment: "timeout 60 env \(extra) POPCORN_STATS=1 POPCORN_MIGRATE_AT=50,400",
                                                          arguments: "")
                let run = try Harness.shell(command, in: program.work.path)
                #expect(run.succeeded, "mutation \(n) on \(isa) \(extra): \(run.status) \(run.stderrText)")
                #expect(run.stdoutText == plain.stdoutText, "mutation \(n) on \(isa): output differs")
                #expect(run.stderrText.contains("cannot read migration metadata"), "mutation \(n): \(run.stderrText)")
                #expect(run.stderrText.hasSuffix("migrations: 0\n"), "mutation \(n): \(run.stderrText)")
            }
        }
    }
}
