import Testing
@testable import PopcornLinker

@Suite struct LinkMapTests {
    /// Lines captured from `ld.lld-19 -O0 -Map` of a static musl hello world (x86_64).
    static let captured = """
                 VMA              LMA     Size Align Out     In      Symbol
              200200           200200      c7a    32 .rodata
              200200           200200        e     1         hello.x86.o:(.rodata.str1.1)
              20020e           20020e        b     1         /usr/lib/x86_64-linux-musl/libc.a(__libc_start_main.lo):(.rodata.__init_libc.str1.1)
              20020e           20020e        0     1                 .LC0
              200e80           200e80       3c     8 .eh_frame
              200e80           200e80       38     1         hello.x86.o:(.eh_frame+0x0)
              206bfc           206bfc        4     4 .tdata
              206bfc           206bfc        4     4         hello.x86.o:(.tdata.tcount)
                   0                0        4     1                 tcount
              206c10           206c10        8     8 .got
              206c10           206c10        8     8         <internal>:(.got)
              207d60           207d60      688    32 .bss
              207d60           207d60        0     1         /usr/lib/x86_64-linux-musl/crt1.o:(.bss)
              430000           430000       10     1         . = 0x430010
              430010           430010        0     1                 after_assignment
                   0                0       63     1 .comment
                   0                0       20     1         /usr/lib/x86_64-linux-musl/crt1.o:(.comment)

    """

    @Test func parsesSectionsInputsSymbolsAndSkipsAssignments() throws {
        let map = try LinkMap(text: Self.captured, path: "x.map")
        #expect(map.outputSections.map(\.name) == [".rodata", ".eh_frame", ".tdata", ".got", ".bss", ".comment"])
        let rodata = map.outputSections[0]
        #expect(rodata.address == 0x200200 && rodata.size == 0xc7a && rodata.alignment == 32)
        #expect(rodata.inputs.count == 2)
        #expect(rodata.inputs[1] == LinkMap.InputSection(address: 0x20020e, size: 0xb, alignment: 1,
                                                         file: "/usr/lib/x86_64-linux-musl/libc.a",
                                                         member: "__libc_start_main.lo",
                                                         section: ".rodata.__init_libc.str1.1",
                                                         symbols: [LinkMap.Symbol(name: ".LC0", address: 0x20020e)]))
        #expect(rodata.inputs[1].fileBaseName == "libc.a")
        #expect(map.outputSections[1].inputs[0].section == ".eh_frame")
        #expect(map.outputSections[3].inputs[0].isSynthetic)
        #expect(map.outputSections[4].inputs.count == 1)
        #expect(map.outputSections[4].inputs[0].member == nil)
        // Symbols belong to the input section above them; TLS symbols carry block offsets.
        #expect(map.outputSections[2].inputs[0].symbols == [LinkMap.Symbol(name: "tcount", address: 0)])
        #expect(rodata.inputs[0].symbols.isEmpty)
        // A script assignment ends the previous input section: nothing after it is attached.
        #expect(map.outputSections[4].inputs[0].symbols.isEmpty)
    }

    @Test func rejectsGarbage() {
        #expect(throws: LinkerError.malformedMap(path: "m", line: 2, text: "not a map line")) {
            try LinkMap(text: "VMA LMA\nnot a map line\n", path: "m")
        }
    }
}
