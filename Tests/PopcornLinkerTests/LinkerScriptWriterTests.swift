import Testing
import PopcornSupport
@testable import PopcornLinker

@Suite struct LinkerScriptWriterTests {
    @Test func writesFixedAddressesAndPatterns() throws {
        let layout = try LayoutPlanner().plan(LayoutPlannerTests.probes, host: .x86_64)
        let script = LinkerScriptWriter.script(for: layout.sections[.x86_64]!, isa: .x86_64)
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
    }

    @Test func oddCharactersNeverReachTheScript() {
        let p = SectionPattern(file: "lib 1(x).a", member: "we*ird:name.o", section: ".text.a b")
        #expect(p.description == "*/lib?1?x?.a:we?ird?name.o(.text.a?b)")
    }
}
