import Testing
import PopcornSupport
@testable import PopcornLinker

/// The copy of a weak tentative definition that lld keeps gets the slot of the largest copy.
@Suite struct TentativeDefinitionSizingTests {
    static func input(_ file: String, _ section: String, size: UInt64, align: UInt64, defines symbol: String? = nil,
                      weak: Bool = true) -> LinkMap.InputSection {
        LinkMap.InputSection(address: 0, size: size, alignment: align, file: "/tmp/p/\(file)", member: nil, section: section,
                             symbols: symbol.map { [LinkMap.Symbol(name: $0, address: 0, type: 1, isGlobal: true, isWeak: weak)] } ?? [])
    }

    static func bss(_ inputs: [LinkMap.InputSection]) -> ProbeOutputSection {
        ProbeOutputSection(name: ".bss", region: .bss, noBits: true, size: inputs.map(\.size).reduce(0, +),
                           alignment: inputs.map(\.alignment).max() ?? 1, inputs: inputs)
    }

    @Test func theChosenWeakCopyGetsTheLargestSizeAndAlignment() {
        let probe = [Self.bss([Self.input("in001.o", ".bss.buf", size: 4, align: 4, defines: "buf"),
                               Self.input("in001.o", ".bss.other", size: 8, align: 8, defines: "other"),
                               Self.input("in002.o", ".bss.buf", size: 400, align: 16),
                               Self.input("in003.o", ".bss.buf", size: 40, align: 64)])]
        let widened = TentativeDefinitionSizing.widen(probe)[0].inputs
        #expect(widened[0].size == 400)
        #expect(widened[0].alignment == 64)
        // Other sections and the copies lld did not choose are left as they are.
        #expect(widened[1].size == 8 && widened[1].alignment == 8)
        #expect(widened[2].size == 400 && widened[3].size == 40)
    }

    /// A strong definition wins in lld with its own size: nothing is widened.
    @Test func aStrongDefinitionKeepsItsSize() {
        let probe = [Self.bss([Self.input("in002.o", ".bss.buf", size: 4, align: 4),
                               Self.input("in001.o", ".bss.buf", size: 8, align: 4, defines: "buf", weak: false)])]
        let widened = TentativeDefinitionSizing.widen(probe)[0].inputs
        #expect(widened.map(\.size) == [4, 8])
    }

    /// Only zero-initialised `.bss.<name>` copies of the same name count.
    @Test func onlyCopiesOfTheSameNameInBSSCount() {
        let data = ProbeOutputSection(name: ".data", region: .data, noBits: false, size: 64, alignment: 8,
                                      inputs: [Self.input("in002.o", ".data.buf", size: 64, align: 8)])
        let probe = [data, Self.bss([Self.input("in001.o", ".bss.buf", size: 4, align: 4, defines: "buf"),
                                     Self.input("in002.o", ".bss.buffer", size: 64, align: 32)])]
        let widened = TentativeDefinitionSizing.widen(probe)
        #expect(widened[1].inputs[0].size == 4 && widened[1].inputs[0].alignment == 4)
    }

    /// The planner reserves the widened slot: the next section starts after the largest copy.
    @Test func theLayoutReservesTheWidenedSlot() throws {
        func probe() -> [ProbeOutputSection] {
            [Self.bss([Self.input("in001.o", ".bss.buf", size: 4, align: 4, defines: "buf"),
                       Self.input("in001.o", ".bss.next", size: 4, align: 4, defines: "next"),
                       Self.input("in002.o", ".bss.buf", size: 400, align: 4)])]
        }
        let layout = try LayoutPlanner().plan([.x86_64: probe(), .aarch64: probe()], host: .x86_64)
        let buf = try #require(layout.commonAddresses["in001.o(.bss.buf)"])
        let next = try #require(layout.commonAddresses["in001.o(.bss.next)"])
        #expect(next >= buf + 400, "the slot after buf is \(next - buf) bytes")
    }
}
