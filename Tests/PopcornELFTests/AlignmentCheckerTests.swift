import Foundation
import Testing
import PopcornSupport
@testable import PopcornELF

/// Builds genuinely aligned binaries without popcorn-ld: freestanding programs linked with a
/// linker script that pins every input section to the same address on both ISAs.
@Suite struct AlignmentCheckerTests {
    private let program = """
    int global_value = 5;
    static int counter;
    _Thread_local int tls_value = 7;
    __attribute__((noinline)) static int helper(int x) { return x + counter++; }
    int entry(void) { return helper(global_value) + tls_value; }
    """
    private let secondFile = """
    static int counter;
    int other(void) { return counter++; }
    """

    private func script(shiftHelper: UInt64, swapCounters: Bool) -> String {
        let (first, second) = swapCounters ? ("two.o", "one.o") : ("one.o", "two.o")
        return 
"""
        ENTRY(entry)
        SECTIONS {
          . = 0x400000;
          .text : {
            . = 0x400000; *(.text.entry)
            . = 0x401000; *(.text.other)
            . = \(String(0x402000 + shiftHelper, radix: 10)); *(.text.helper)
            *(.text .text.*)
          }
          . = 0x500000;
          .data : { . = 0x500000; *(.data.global_value) *(.data .data.*) }
          .tdata : { *(.tdata.tls_value) }
          . = 0x510000;
          .bss : { . = 0x510000; *\(first)(.bss.counter) . = 0x510010; *\(second)(.bss.counter) *(.bss .bss.*) }
          /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame) }
        }
        """
    }

    private func link(_ t: TestTools, shiftHelper: UInt64 = 0, swapCounters: Bool = false,
                      extraOnForeign: Bool = false) throws -> [ISA: ELFFile] {
        let one = try t.write("one.c", program)
        let two = try t.write("src2/one.c", secondFile)
        let ld = try t.write("layout\(shiftHelper)-\(swapCounters).ld", script(shiftHelper: shiftHelper, swapCounters: swapCounters))
        var result: [ISA: ELFFile] = [:]
        for isa in ISA.allCases {
            let dir = "\(isa)-\(shiftHelper)-\(swapCounters)-\(extraOnForeign)"
            let a = try t.compile(one, isa: isa, output: "\(dir)/one.o", flags: ["-ffreestanding", "-fno-asynchronous-unwind-tables"])
            let b = try t.compile(two, isa: isa, output: "\(dir)/two.o", flags: ["-ffreestanding", "-fno-asynchronous-unwind-tables"])
            let out = t.path("\(dir)/app")
            var objects = [a, b]
            if extraOnForeign && isa != ISA.host {
                // A third file also called one.c, with one more `counter`, on one ISA only.
                let extra = try t.write("src3/one.c", "static int counter; int third(void) { return counter++; }")
                objects.append(try t.compile(extra, isa: isa, output: "\(dir)/three.o", flags: ["-ffreestanding", "-fno-asynchronous-unwind-tables"]))
            }
            try t.run(try t.tool(.lld), ["-static", "-m", isa.lldEmulation, "-T", ld, "-o", out] + objects)
            result[isa] = try ELFFile(contentsOf: out)
        }
        return result
    }

    @Test func alignedBinariesPass() throws {
        let t = try TestTools()
        let binaries = try link(t)
        let report = try AlignmentChecker.check(binaries)
        #expect(report.isAligned, "unexpected mismatches: \(report.mismatches)")
        // entry, other, helper, global_value, tls_value and both `counter`s at least.
        #expect(report.checkedSymbols >= 7)
    }

    @Test func shiftedFunctionIsReportedWithItsScope() throws {
        let t = try TestTools()
        let aligned = try link(t)
        let shifted = try link(t, shiftHelper: 0x40)
        var mixed = aligned
        let foreign = ISA.foreign[0]
        mixed[foreign] = shifted[foreign]
        let report = try AlignmentChecker.check(mixed)
        #expect(!report.isAligned)
        #expect(report.mismatches.map(\.name) == ["helper"])
        let mismatch = try #require(report.mismatches.first)
        #expect(mismatch.fileScope == "one.c")
        #expect(mismatch.addresses[ISA.host] == 0x402000)
        #expect(mismatch.addresses[foreign] == 0x402040)
        #expect(mismatch.description.hasPrefix("one.c:helper: "))
    }

    @Test func localsWithTheSameScopeAndNameAreComparedAsSortedLists() throws {
        // Both files are called one.c, so both `counter`s share a scope; swapping their
        // addresses on one ISA keeps the sorted lists equal.
        let t = try TestTools()
        let binaries = try link(t)
        let swapped = try link(t, swapCounters: true)
        for (_, file) in binaries {
            let counters = try file.symbols().filter { $0.name == "counter" }
            #expect(counters.count == 2)
            #expect(Set(counters.map(\.fileScope)) == ["one.c"])
        }
        let foreign = ISA.foreign[0]
        func counterOrder(_ file: ELFFile) throws -> [UInt64] { try file.symbols().filter { $0.name == "counter" }.map(\.value) }
        #expect(try counterOrder(binaries[foreign]!) != counterOrder(swapped[foreign]!))
        var mixed = binaries
        mixed[foreign] = swapped[foreign]
        #expect(try AlignmentChecker.check(mixed).isAligned)
    }

    @Test func extraLocalsOnOneISAAreTolerated() throws {
        let t = try TestTools()
        let binaries = try link(t, extraOnForeign: true)
        let foreign = ISA.foreign[0]
        #expect(try binaries[foreign]!.symbols().filter { $0.name == "counter" }.count == 3)
        let report = try AlignmentChecker.check(binaries)
        #expect(report.isAligned, "unexpected mismatches: \(report.mismatches)")

        // But a shared instance that moved is still caught.
        let shifted = try link(t, shiftHelper: 0x20, extraOnForeign: true)
        var mixed = binaries
        mixed[foreign] = shifted[foreign]
        #expect(try AlignmentChecker.check(mixed).mismatches.map(\.name) == ["helper"])
    }

    @Test func separateLinksOfRealProgramsMismatch() throws {
        let t = try TestTools()
        let source = try t.write("sample.c", sampleProgram)
        var binaries: [ISA: ELFFile] = [:]
        for isa in ISA.allCases {
            let object = try t.compile(source, isa: isa, output: "sample.\(isa).o")
            binaries[isa] = try ELFFile(contentsOf: try t.linkMusl([object], isa: isa, output: "sample.\(isa)"))
        }
        let report = try AlignmentChecker.check(binaries)
        #expect(report.checkedSymbols > 50)
        #expect(!report.isAligned)
        #expect(report.mismatches.contains { $0.name == "main" })
        // Linker-generated and mapping symbols never show up.
        #expect(!report.mismatches.contains { AlignmentChecker.linkerGeneratedExclusions.contains($0.name) || $0.name.hasPrefix("$") })
    }

    /// Assembly with labels at ISA-specific offsets: a function `f` at 0, an untyped label
    /// inside it, a second (sized) function `g`, an untyped entry point `h` past `g`'s end at the
    /// same place on both,
    /// an untyped `after` past the end of the section, and an object `table`.
    private func labelProgram(isa: ISA, padding: Int) -> String {
        let pad = String(repeating: "  nop\n", count: padding)
        return """
        .section .text.f,"ax",@progbits
        .globl f
        .type f,@function
        f:
        \(pad)  .globl inside
        inside:
          nop
          .globl g
          .type g,@function
        g:
          nop
          .size g, . - g
        .section .text.h,"ax",@progbits
        .globl h
        h:
          nop
        .data
        .globl table
        .type table,@object
        table:
          .quad 1
        """
    }

    @Test func interiorCodeLabelsAreNotComparedButEntriesAndDataAre() throws {
        let t = try TestTools()
        let ld = try t.write("labels.ld", """
        SECTIONS {
          .text 0x400000 : { . = 0x400000; *(.text.f) . = 0x400100; *(.text.h) . = 0x400200; "after" = .; }
          .data 0x500000 : { *(.data) }
        }
        """)
        var binaries: [ISA: ELFFile] = [:]
        for isa in ISA.allCases {
            // x86_64 nops are 1 byte and aarch64's 4: the labels land at different offsets.
            let padding = isa == ISA.host ? 3 : 1
            let source = try t.write("labels.\(isa).s", labelProgram(isa: isa, padding: padding))
            let object = try t.compile(source, isa: isa, output: "labels.\(isa).o")
            let out = t.path("labels.\(isa)")
            try t.run(try t.tool(.lld), ["-static", "-m", isa.lldEmulation, "-e", "f", "-T", ld, "-o", out, object])
            binaries[isa] = try ELFFile(contentsOf: out)
        }
        let inside = try binaries[ISA.host]!.symbols().first { $0.name == "inside" }!
        let file = binaries[ISA.host]!
        #expect(AlignmentChecker.isInteriorCodeLabel(inside, in: file,
                                                     functionStarts: AlignmentChecker.functionStarts(try file.symbols())))
        let report = try AlignmentChecker.check(binaries)
        // `inside` differs too, but is an interior label; `g` is a function and is reported.
        #expect(report.mismatches.map(\.name) == ["g"])
        // f, h (untyped, at a section start), after (past the end of the code), table.
        #expect(report.checkedSymbols >= 5)
    }

    @Test func strippedBinaryCannotBeVerified() throws {
        let t = try TestTools()
        let binaries = try link(t)
        let host = try #require(binaries[ISA.host])
        let stripped = t.path("stripped")
        try t.run(try t.llvmTool("llvm-objcopy"), ["--strip-all", host.path, stripped])
        var withStripped = binaries
        withStripped[ISA.host] = try ELFFile(contentsOf: stripped)
        #expect(throws: ELFError.self) { try AlignmentChecker.check(withStripped) }
    }
}
