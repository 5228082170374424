import Testing
import PopcornSupport
import PopcornELF
@testable import PopcornLinker

private func symbol(_ name: String, _ address: UInt64, _ type: UInt8, weak: Bool = false) -> LinkMap.Symbol {
    LinkMap.Symbol(name: name, address: address, type: type, isGlobal: true, isWeak: weak)
}

/// A section of a libc member, at its probe address.
private func input(_ member: String, _ section: String, at address: UInt64, size: UInt64, align: UInt64 = 16,
                   _ symbols: [LinkMap.Symbol] = []) -> LinkMap.InputSection {
    LinkMap.InputSection(address: address, size: size, alignment: align, file: "/usr/lib/musl/libc.a",
                         member: member, section: section, symbols: symbols)
}

private let function = ELFConstants.STT_FUNC
private let object = ELFConstants.STT_OBJECT
private let untyped = ELFConstants.STT_NOTYPE

/// Pairing of differently named sections, entry-stub planning and encodings, archive member
/// balancing and linker-defined symbols (pure; no tools).
@Suite struct SymbolAlignmentTests {
    typealias P = LayoutPlannerTests

    @Test func normalisedNamesTreatRelocatableAndReadOnlyDataAlike() {
        #expect(SectionPairing.normalisedName(".data.rel.local.__stderr_used") == ".data.__stderr_used")
        #expect(SectionPairing.normalisedName(".data.rel.ro.local.table") == ".data.table")
        #expect(SectionPairing.normalisedName(".data.rel.ro.x") == ".data.x")
        #expect(SectionPairing.normalisedName(".rodata.table") == ".data.table")
        #expect(SectionPairing.normalisedName(".rodata") == ".data")
        #expect(SectionPairing.normalisedName(".text.exp2l") == ".text.exp2l")
        #expect(SectionPairing.normalisedName(".rodatax") == ".rodatax")
    }

    /// x86_64 has assembly `exp2l` in `.text` and a pointer in `.data.rel.ro.local.t`; aarch64
    /// has C `exp2l` in `.text.exp2l` and the table in `.rodata.t`. Unrelated sections of the
    /// same member stay apart.
    static var renamedProbes: [ISA: [ProbeOutputSection]] {
        [
            .x86_64: [
                P.out(".text", .text, [input("exp2l.lo", ".text", at: 0x1000, size: 0x60,
                                             [symbol("expm1l", 0x1000, function), symbol("exp2l", 0x1038, function)]),
                                       input("exp2l.lo", ".text.x86only", at: 0x1060, size: 0x10)]),
                P.out(".data.rel.ro", .data, [input("t.lo", ".data.rel.ro.local.t", at: 0x3000, size: 8, align: 8)]),
            ],
            .aarch64: [
                P.out(".text", .text, [input("exp2l.lo", ".text.exp2l", at: 0x1000, size: 0x300, align: 4,
                                             [symbol("exp2l", 0x1000, function)])]),
                P.out(".rodata", .rodata, [input("t.lo", ".rodata.t", at: 0x2000, size: 8, align: 8)]),
            ],
        ]
    }

    @Test func unmatchedSectionsPairBySymbolOrNormalisedName() throws {
        let layout = try LayoutPlanner().plan(Self.renamedProbes, host: .x86_64)
        let code = try #require(P.placement(layout, .x86_64, "libc.a(exp2l.lo)(.text)|libc.a(exp2l.lo)(.text.exp2l)"))
        #expect(code.isCommon)
        #expect(P.placement(layout, .aarch64, code.label)?.address == code.address)
        #expect(P.placement(layout, .x86_64, "libc.a(exp2l.lo)(.text.x86only)")?.isCommon == false)
        // Read-only on one ISA, relocatable data on the other: both go to the data region.
        let table = try #require(P.placement(layout, .aarch64, "libc.a(t.lo)(.data.rel.ro.local.t)|libc.a(t.lo)(.rodata.t)"))
        #expect(table.isCommon)
        let section = layout.sections[.aarch64]!.first { $0.placements.contains(table) }!
        #expect(section.region == .data && section.name == ".data.rel.ro")
        #expect(table.patterns == [SectionPattern(file: "libc.a", member: "t.lo", section: ".rodata.t")])
    }

    @Test func functionsAtDifferentOffsetsGetOneStubSlot() throws {
        let layout = try LayoutPlanner().plan(Self.renamedProbes, host: .x86_64)
        // exp2l: offset 0x38 on x86_64, 0 on aarch64. expm1l exists on one ISA only.
        #expect(layout.stubs.map(\.name) == ["exp2l"])
        let stub = layout.stubs[0]
        let code = P.placement(layout, .x86_64, "libc.a(exp2l.lo)(.text)|libc.a(exp2l.lo)(.text.exp2l)")!
        #expect(stub.targets == [.x86_64: code.address + 0x38, .aarch64: code.address])
        #expect(stub.slot % EntryStub.slotSize == 0)
        for isa in layout.isas {
            let text = layout.sections[isa]!.filter { $0.region == .text }
            let stubs = try #require(text.last)
            #expect(stubs.name == LayoutPlanner.stubSection && stubs.address == stub.slot && stubs.stubs == [stub])
            // After all code of every ISA, so adding it moves nothing.
            for placement in text.dropLast().flatMap(\.placements) { #expect(placement.address + placement.size <= stub.slot) }
            // Code ends after the stubs: _etext covers them.
            let etext = layout.scriptSymbols[isa]!.first { $0.name == "_etext" }!
            #expect(etext.address == stub.slot + EntryStub.slotSize)
        }
    }

    @Test func stubPlanningSkipsAlignedFunctionsAndInteriorLabels() {
        func unit(_ pieces: [ISA: [LinkMap.InputSection]]) -> LayoutPlanner.Unit {
            var u = LayoutPlanner.Unit(label: "u", kind: ".text", region: .text, noBits: false, whole: false, synthetic: false)
            for (isa, inputs) in pieces {
                u.pieces[isa] = .init(size: 0x100, alignment: 16, patterns: [], inputs: inputs.map { ($0, $0.address - 0x1000) })
            }
            return u
        }
        // fenv-like: one section, functions at ISA-specific offsets, plus an untyped entry at
        // offset 0 (aligned, no stub), untyped interior labels (never stubbed) and an untyped
        // entry that starts its own section on both ISAs but at different section offsets.
        let fenv = unit([
            .x86_64: [input("fenv.lo", ".text", at: 0x1000, size: 0xb0,
                            [symbol("feclearexcept", 0x1000, function), symbol("__fesetround", 0x1041, function),
                             symbol("__cp_begin", 0x1000, untyped), symbol("__cp_end", 0x1029, untyped)]),
                      input("fenv.lo", ".text", at: 0x10b0, size: 0x10, [symbol("entry", 0x10b0, untyped)])],
            .aarch64: [input("fenv.lo", ".text", at: 0x1000, size: 0x9c,
                             [symbol("feclearexcept", 0x1034, function), symbol("__fesetround", 0x100c, function),
                              symbol("__cp_begin", 0x1000, untyped), symbol("__cp_end", 0x1028, untyped)]),
                       input("fenv.lo", ".text", at: 0x10a0, size: 0x10, [symbol("entry", 0x10a0, untyped)])],
        ])
        let stubs = EntryStubPlanner.plan([(fenv, 0x500000)], start: 0x600000)
        #expect(stubs.map(\.name) == ["__fesetround", "entry", "feclearexcept"])
        #expect(stubs.map(\.slot) == [0x600000, 0x600010, 0x600020])
        #expect(stubs[0].targets == [.x86_64: 0x500041, .aarch64: 0x50000c])
        #expect(stubs[1].targets == [.x86_64: 0x5000b0, .aarch64: 0x5000a0])
    }

    @Test func stubEncodingsJumpToTheTarget() throws {
        let x86 = try EntryStub.encoding(isa: .x86_64, slot: 0x40fc30, target: 0x405089)
        #expect(x86.count == 16)
        #expect(Array(x86[0..<5]) == [0xE9, 0x54, 0x54, 0xFF, 0xFF])
        #expect(x86[5...].allSatisfy { $0 == 0xCC })
        let forward = try EntryStub.encoding(isa: .x86_64, slot: 0x401000, target: 0x402000)
        #expect(Array(forward[0..<5]) == [0xE9, 0xFB, 0x0F, 0x00, 0x00])

        let a64 = try EntryStub.encoding(isa: .aarch64, slot: 0x40fc30, target: 0x405054)
        #expect(a64 == [0x09, 0xD5, 0xFF, 0x17] + Array(repeating: [0x00, 0x00, 0x20, 0xD4], count: 3).flatMap { $0 })
        let ahead = try EntryStub.encoding(isa: .aarch64, slot: 0x400000, target: 0x400008)
        #expect(Array(ahead[0..<4]) == [0x02, 0x00, 0x00, 0x14])

        #expect(throws: LinkerError.self) { try EntryStub.encoding(isa: .aarch64, slot: 0x400000, target: 0x400002) }
        #expect(throws: LinkerError.self) { try EntryStub.encoding(isa: .aarch64, slot: 0x400000, target: 0x400000 + (1 << 27)) }
        #expect(throws: LinkerError.self) { try EntryStub.encoding(isa: .x86_64, slot: 0x400000, target: 0x1_0040_0000) }
    }

    @Test func weakDefinitionOnOneISALoadsTheStrongMemberThere() throws {
        // x86_64 loaded stderr.lo (strong __stderr_used); aarch64 only has the weak dummy in
        // __stdio_exit.lo.
        let probes: [ISA: [ProbeOutputSection]] = [
            .x86_64: [P.out(".data", .data, [input("stderr.lo", ".data.rel.local.__stderr_used", at: 0x3000, size: 8,
                                                   [symbol("__stderr_used", 0x3000, object)]),
                                             input("__stdio_exit.lo", ".bss.dummy_file", at: 0x3008, size: 8,
                                                   [symbol("__stdin_used", 0x3008, object, weak: true)])])],
            .aarch64: [P.out(".bss", .bss, [input("__stdio_exit.lo", ".bss.dummy_file", at: 0x3000, size: 8,
                                                  [symbol("__stdin_used", 0x3000, object, weak: true),
                                                   symbol("__stderr_used", 0x3000, object, weak: true)])])],
        ]
        var asked: [String] = []
        let forced = try MemberBalancer.forcedSymbols(probes) { isa, archive, member in
            asked.append("\(isa):\(archive)(\(member))")
            return member == "stderr.lo" ? ["__stderr_used", "stderr", "__stderr_FILE"] : nil
        }
        // __stderr_used is already (weakly) defined on aarch64, so `-u` needs another symbol.
        #expect(forced == [.aarch64: ["stderr"]])
        #expect(asked == ["aarch64:libc.a(stderr.lo)"])
        // Links that agree need nothing.
        #expect(try MemberBalancer.forcedSymbols([.x86_64: probes[.x86_64]!, .aarch64: probes[.x86_64]!]) { _, _, _ in ["x"] }.isEmpty)
    }

    @Test func linkerDefinedSymbolsAgreeAndArraysAlwaysExist() throws {
        let layout = try P.plan()
        let names = ["_etext", "etext", "__etext", "_edata", "edata", "__bss_start", "_end", "end"]
        for name in names {
            let values = Set(layout.isas.compactMap { isa in layout.scriptSymbols[isa]!.first { $0.name == name }?.address })
            #expect(values.count == 1, "\(name)")
        }
        let end = layout.scriptSymbols[.x86_64]!.first { $0.name == "_end" }!
        let bss = P.placement(layout, .x86_64, "in001.o(.bss.buf)")!
        #expect(end.address == bss.address + 0x400)
        for isa in layout.isas {
            for s in layout.scriptSymbols[isa]! { #expect(s.address >= s.sectionAddress, "\(s.name) anchored after its value") }
            for kind in [".preinit_array", ".init_array", ".fini_array"] {
                let section = layout.sections[isa]!.first { $0.name == kind }
                #expect(section?.placements.first?.isCommon == true, "\(kind) on \(isa)")
            }
        }
    }
}
