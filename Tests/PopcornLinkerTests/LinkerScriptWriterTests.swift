import Testing
import PopcornSupport
@testable import PopcornLinker

@Suite struct LinkerScriptWriterTests {
    @Test func writesFixedAddressesAndPatterns() throws {
        let layout = try LayoutPlanner().plan(LayoutPlannerTests.probes, host: .x86_64)
        let script = try LinkerScriptWriter.script(for: layout.sections[.x86_64]!, isa: .x86_64,
                                                   symbols: layout.scriptSymbols[.x86_64]!)
        let main = layout.commonAddresses["in001.o(.text.main)"]!
        #expect(script.contains("    . = 0x\(String(main, radix: 16));\n    */in001.o(.text.main)\n"))
        #expect(script.contains("*/libc.a:printf.lo(.text.printf)"))
        #expect(script.contains("  .tdata 0x\(String(layout.tlsBlock!.start, radix: 16)) : ALIGN(32)\n"))
        #expect(script.contains("  .tbss : ALIGN(32)\n"))
        #expect(script.contains("} :data :tls"))
        #expect(script.contains("text PT_LOAD FILEHDR PHDRS;"))
        // crti/crtn pieces of .init stay contiguous: one address, then both pieces.
        #expect(script.contains("KEEP(*/crti.o(.init))\n    KEEP(*/crtn.o(.init))\n"))
        #expect(script.contains("    *(.got)\n"))
        #expect(!script.contains("addtf3"))
        // Array bounds inside their (here empty) sections, region ends relative to a section.
        #expect(script.contains("    \"__init_array_start\" = .;\n    \"__init_array_end\" = .;\n"))
        #expect(script.contains("  \"_etext\" = ADDR("))
        #expect(script.contains("  \"_end\" = ADDR(.bss) + 0x"))
    }

    @Test func stubsRedefineTheSymbolInsideTheSection() throws {
        let stub = EntryStub(name: "fe.set", slot: 0x402000, targets: [.x86_64: 0x401000, .aarch64: 0x401010])
        let section = PlannedOutputSection(name: LayoutPlanner.stubSection, address: 0x402000, region: .text,
                                           alignment: nil, placements: [Placement(address: 0x402000, size: 16,
                                               patterns: [LayoutPlanner.stubPattern], label: "entry stubs", isCommon: true)],
                                           endAddress: nil, isWhole: true, stubs: [stub])
        let x86 = try LinkerScriptWriter.script(for: [section], isa: .x86_64)
        // jmp rel32 = 0x401000 - 0x402005 = -0x1005 = 0xffffeffb; then int3s.
        #expect(x86.contains("    . = 0x402000;\n    \"fe.set\" = .;\n    QUAD(0xccccccffffeffbe9) QUAD(0xcccccccccccccccc)\n"))
        #expect(x86.contains("KEEP(*/popcorn-stubs.o(.popcorn.stubs))"))
        let a64 = try LinkerScriptWriter.script(for: [section], isa: .aarch64)
        // b -0xff0 = 0x14000000 | (-0x3fc & 0x3ffffff) = 0x17fffc04; then brk #0.
        #expect(a64.contains("QUAD(0xd420000017fffc04) QUAD(0xd4200000d4200000)"))
    }

    @Test func shorterFunctionArraysArePaddedWithTheNoOpInit() throws {
        let placement = Placement(address: 0x410000, size: 8, patterns: [SectionPattern(file: "in001.o", member: nil, section: ".init_array")],
                                  label: ".init_array", isCommon: true)
        let array = PlannedOutputSection(name: ".init_array", address: 0x410000, region: .data, alignment: nil,
                                         placements: [placement], endAddress: 0x410018, isWhole: true)
        let initSection = PlannedOutputSection(name: ".init", address: 0x401000, region: .text, alignment: nil,
                                               placements: [], endAddress: nil, isWhole: true)
        let script = try LinkerScriptWriter.script(for: [initSection, array], isa: .x86_64)
        #expect(script.contains("KEEP(*/in001.o(.init_array))\n    QUAD(\"_init\")\n    QUAD(\"_init\")\n    \"__init_array_end\" = .;"))
        // Without crti's _init there is nothing harmless to call: no padding.
        #expect(!(try LinkerScriptWriter.script(for: [array], isa: .x86_64)).contains("QUAD"))
    }

    @Test func oddCharactersAreQuotedAndGlobCharactersEscaped() {
        let p = SectionPattern(file: "lib 1(x).a", member: "we*ird:name.o", section: ".text.a b")
        #expect(p.description == #""*/lib 1(x).a:we\*ird:name.o"(".text.a b")"#)
        let q = SectionPattern(file: nil, member: nil, section: ".data.a?[b]\\c")
        #expect(q.description == #"*(".data.a\?\[b\]\\c")"#)
    }

    /// Each byte of a UTF-8 name is written as it is: one `?` per character matched only one of
    /// its bytes, and two names of the same length in characters could not be told apart.
    @Test func utf8NamesAreWrittenByteForByte() {
        let p = SectionPattern(file: "in001.o", member: nil, section: ".data.привет")
        #expect(p.description == #"*/in001.o(".data.привет")"#)
        #expect(SectionPattern(file: "in001.o", member: nil, section: ".bss.а").description
                != SectionPattern(file: "in001.o", member: nil, section: ".bss.б").description)
        // Plain names stay unquoted.
        #expect(SectionPattern(file: "in001.o", member: nil, section: ".data.x$1").description == "*/in001.o(.data.x$1)")
    }

    /// Output sections the user named keep their names, quoted where lld would split them; the
    /// symbols expressed against them name them the same way.
    @Test func userOutputSectionNamesAreQuoted() throws {
        let placement = Placement(address: 0x500000, size: 4,
                                  patterns: [SectionPattern(file: "in001.o", member: nil, section: "my data*[x]")],
                                  label: "in001.o(my data*[x])", isCommon: true)
        let odd = PlannedOutputSection(name: "my data*[x]", address: 0x500000, region: .data, alignment: nil,
                                       placements: [placement], endAddress: nil, isWhole: false)
        let quote = PlannedOutputSection(name: LayoutPlanner.scriptableName("sec\"q"), address: 0x500010, region: .data,
                                         alignment: nil, placements: [], endAddress: nil, isWhole: false)
        let symbol = ScriptSymbol(name: "edata", address: 0x500004, section: "my data*[x]", sectionAddress: 0x500000)
        let script = try LinkerScriptWriter.script(for: [odd, quote], isa: .x86_64, symbols: [symbol])
        #expect(script.contains("  \"my data*[x]\" 0x500000 :\n"))
        #expect(script.contains(#"    */in001.o("my data\*\[x\]")"#))
        #expect(script.contains(#""edata" = ADDR("my data*[x]") + 0x4;"#))
        #expect(script.contains("  sec_q 0x500010 :\n"))
        #expect(LinkerScriptWriter.outputName(".text.aarch64") == ".text.aarch64")
        #expect(LinkerScriptWriter.outputName(".data.привет") == "\".data.привет\"")
        #expect(LayoutPlanner.scriptableName("a\"b\nc") == "a_b_c")
        #expect(LayoutPlanner.scriptableName(".data.привет") == ".data.привет")
    }

    /// A quoted token cannot hold `"` or a line break: each becomes `?`, one byte.
    @Test func quotesAndControlBytesBecomeOneByteWildcards() {
        #expect(SectionPattern(file: nil, member: nil, section: "a\"b\nc").description == "*(a?b?c)")
        #expect(SectionPattern(file: nil, member: nil, section: "a\"b c").description == #"*("a?b c")"#)
    }
}
