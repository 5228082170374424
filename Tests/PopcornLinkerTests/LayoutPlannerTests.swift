import Testing
import PopcornSupport
@testable import PopcornLinker

@Suite struct LayoutPlannerTests {
    /// `input(file, section)` or `input(archive, member, section)`.
    static func input(_ file: String, _ first: String, _ second: String? = nil, size: UInt64, align: UInt64 = 16) -> LinkMap.InputSection {
        LinkMap.InputSection(address: 0, size: size, alignment: align, file: "/tmp/p/\(file)",
                             member: second == nil ? nil : first, section: second ?? first)
    }

    static func out(_ name: String, _ region: Region, noBits: Bool = false, _ inputs: [LinkMap.InputSection]) -> ProbeOutputSection {
        ProbeOutputSection(name: name, region: region, noBits: noBits, size: inputs.map(\.size).reduce(0, +),
                           alignment: inputs.map(\.alignment).max() ?? 1, inputs: inputs)
    }

    /// Two ISAs with common and ISA-only text, different sizes and alignments, TLS and data.
    static var probes: [ISA: [ProbeOutputSection]] {
        [
            .x86_64: [
                out(".text", .text, [input("in001.o", ".text.main", size: 0x30),
                                     input("libc.a", "printf.lo", ".text.printf", size: 0x100),
                                     input("libgcc.a", "x86only.o", ".text", size: 0x20)]),
                out(".init", .text, [input("crti.o", ".init", size: 3, align: 1), input("crtn.o", ".init", size: 3, align: 1)]),
                out(".rodata", .rodata, [input("in001.o", ".rodata.str1.1", size: 7, align: 1)]),
                out(".eh_frame", .rodata, [input("in001.o", ".eh_frame", size: 0x38, align: 8)]),
                out(".tdata", .tls, [input("in001.o", ".tdata.counter", size: 4, align: 4)]),
                out(".tbss", .tls, noBits: true, [input("in001.o", ".tbss.big", size: 40, align: 32)]),
                out(".got", .data, [LinkMap.InputSection(address: 0, size: 8, alignment: 8, file: "<internal>", member: nil, section: ".got")]),
                out(".data", .data, [input("in001.o", ".data.table", size: 16, align: 4)]),
                out(".bss", .bss, noBits: true, [input("in001.o", ".bss.buf", size: 0x400, align: 32)]),
            ],
            .aarch64: [
                out(".text", .text, [input("in001.o", ".text.main", size: 0x44, align: 4),
                                     input("libgcc.a", "addtf3.o", ".text", size: 0x200, align: 8),
                                     input("libc.a", "printf.lo", ".text.printf", size: 0xe0, align: 4)]),
                out(".init", .text, [input("crti.o", ".init", size: 8, align: 4), input("crtn.o", ".init", size: 8, align: 4)]),
                out(".rodata", .rodata, [input("in001.o", ".rodata.str1.1", size: 7, align: 1)]),
                out(".eh_frame", .rodata, [input("in001.o", ".eh_frame", size: 0x40, align: 8)]),
                out(".tdata", .tls, [input("in001.o", ".tdata.counter", size: 4, align: 4)]),
                out(".tbss", .tls, noBits: true, [input("in001.o", ".tbss.big", size: 40, align: 32),
                                                  input("libc.a", "a64.lo", ".tbss.only", size: 8, align: 8)]),
                out(".data", .data, [input("in001.o", ".data.table", size: 16, align: 4)]),
                out(".bss", .bss, noBits: true, [input("in001.o", ".bss.buf", size: 0x400, align: 32)]),
            ],
        ]
    }

    static func plan() throws -> Layout { try LayoutPlanner().plan(probes, host: .x86_64) }

    static func placement(_ layout: Layout, _ isa: ISA, _ label: String) -> Placement? {
        layout.sections[isa]!.flatMap(\.placements).first { $0.label == label }
    }

    @Test func commonGroupsShareAddressesWithMaxSlotAndAlignment() throws {
        let layout = try Self.plan()
        for label in ["in001.o(.text.main)", "libc.a(printf.lo)(.text.printf)", ".init", "in001.o(.rodata.str1.1)",
                      "in001.o(.tdata.counter)", "in001.o(.tbss.big)", "in001.o(.data.table)", "in001.o(.bss.buf)"] {
            let x = Self.placement(layout, .x86_64, label), a = Self.placement(layout, .aarch64, label)
            #expect(x != nil && a != nil, "\(label)")
            #expect(x?.address == a?.address, "\(label)")
            #expect(x?.isCommon == true && layout.commonAddresses[label] == x?.address)
        }
        let main = Self.placement(layout, .x86_64, "in001.o(.text.main)")!
        let printf = Self.placement(layout, .x86_64, "libc.a(printf.lo)(.text.printf)")!
        // Slot of main = max(0x30, 0x44); printf aligned to max(16, 4).
        #expect(printf.address == alignUp(main.address + 0x44, 16))
        #expect(Self.placement(layout, .x86_64, "in001.o(.bss.buf)")!.address % 32 == 0)
    }

    @Test func onlySectionsGoToDisjointRangesHostFirst() throws {
        let layout = try Self.plan()
        let hostOnly = Self.placement(layout, .x86_64, "libgcc.a(x86only.o)(.text)")!
        let foreignOnly = Self.placement(layout, .aarch64, "libgcc.a(addtf3.o)(.text)")!
        let common = layout.sections[.x86_64]!.filter { $0.region == .text }.flatMap(\.placements).filter(\.isCommon)
        #expect(!hostOnly.isCommon && !foreignOnly.isCommon)
        #expect(common.allSatisfy { hostOnly.address + hostOnly.size <= $0.address })
        #expect(common.allSatisfy { $0.address + 0x100 <= foreignOnly.address })
        #expect(Self.placement(layout, .aarch64, "libgcc.a(x86only.o)(.text)") == nil)
        // Synthetic sections are always per ISA, even when both ISAs have one.
        #expect(Self.placement(layout, .x86_64, "x86_64:.eh_frame")?.isCommon == false)
        #expect(Self.placement(layout, .aarch64, "aarch64:.eh_frame")?.isCommon == false)
    }

    /// Invariants that must hold for any layout: placements of one ISA never overlap, ascend
    /// inside each output section, respect alignment, and regions come in address order.
    @Test func noOverlapsAndOrderedRegions() throws {
        let layout = try Self.plan()
        let probes = Self.probes
        for isa in layout.isas {
            let sections = layout.sections[isa]!
            #expect(Set(sections.map(\.name)).count == sections.count, "duplicate output section names on \(isa)")
            for section in sections {
                let addresses = section.placements.map(\.address)
                #expect(addresses == addresses.sorted())
            }
            let all = sections.filter { $0.region != .tls }.flatMap { s in s.placements.map { (s.region, $0) } }
                .sorted { $0.1.address < $1.1.address }
            for (a, b) in zip(all, all.dropFirst()) {
                #expect(a.1.address + a.1.size <= b.1.address, "\(a.1.label) overlaps \(b.1.label) on \(isa)")
                #expect(a.0 <= b.0, "region order on \(isa)")
            }
            let alignments = Dictionary(probes[isa]!.flatMap(\.inputs).map { (LayoutPlanner.key($0), $0.alignment) },
                                        uniquingKeysWith: max)
            for p in sections.flatMap(\.placements) { if let a = alignments[p.label] { #expect(p.address % a == 0) } }
        }
    }

    @Test func tlsBlockIsIdenticalOnEveryISA() throws {
        let layout = try Self.plan()
        let block = try #require(layout.tlsBlock)
        #expect(block.alignment == 32)
        for isa in layout.isas {
            let tls = layout.sections[isa]!.filter { $0.region == .tls }
            #expect(tls.map(\.name) == [".tdata", ".tbss"])
            #expect(tls[0].address == block.start && tls[1].address == nil)
            #expect(tls.allSatisfy { $0.alignment == 32 })
            #expect(tls[0].endAddress == Self.probesEnd(layout, .x86_64, ".tdata"))
            #expect(tls[1].endAddress == Self.probesEnd(layout, .x86_64, ".tbss"))
        }
        let only = Self.placement(layout, .aarch64, "libc.a(a64.lo)(.tbss.only)")!
        let big = Self.placement(layout, .aarch64, "in001.o(.tbss.big)")!
        #expect(only.address >= big.address + 40)
    }

    static func probesEnd(_ layout: Layout, _ isa: ISA, _ name: String) -> UInt64? {
        layout.sections[isa]!.first { $0.name == name }?.endAddress
    }

    @Test func regionsStartOnPageBoundaries() throws {
        let layout = try Self.plan()
        let page = LinkCommand.pageSize
        #expect(page == 0x1000)
        // The region starts where the first ISA's range starts (the host-only range).
        let rodata = layout.isas.flatMap { isa in layout.sections[isa]!.filter { $0.region == .rodata }.compactMap(\.address) }.min()!
        #expect(rodata % page == 0)
        // Right after the text region: no 64 KiB gap.
        #expect(rodata == alignUp(LayoutPlanner().textStart + 1, page))
        #expect(layout.tlsBlock!.start % page == 0)
        // Code shares the first page with the ELF and program headers.
        #expect(layout.sections[.x86_64]!.first?.address == 0x400400)
    }

    @Test func kindConflictIsReported() {
        var probes = Self.probes
        probes[.aarch64]![4] = Self.out(".data", .data, [Self.input("in001.o", ".tdata.counter", size: 4, align: 4)])
        #expect(throws: LinkerError.self) { try LayoutPlanner().plan(probes, host: .x86_64) }
    }

    @Test func repeatedKeysFormOneGroup() throws {
        var probes = Self.probes
        probes[.x86_64]![7] = Self.out(".data", .data, [Self.input("in001.o", ".data.table", size: 16, align: 4),
                                                        Self.input("in001.o", ".data.table", size: 5, align: 8)])
        let layout = try LayoutPlanner().plan(probes, host: .x86_64)
        let group = Self.placement(layout, .x86_64, "in001.o(.data.table)")!
        #expect(group.size == 16 + 5)
        #expect(group.patterns.count == 1)
    }
}
