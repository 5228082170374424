import Foundation
import Testing
import PopcornSupport
@testable import PopcornELF

/// Corrupt input must produce an `ELFError`, never a trap (Swift traps on out-of-range
/// indexing and integer overflow, which would crash the linker on a bad input file).
@Suite struct CorruptionTests {
    /// Parses everything the toolchain ever reads from a file.
    private func exercise(_ data: Data) throws {
        let elf = try ELFFile(data: data, path: "fuzz.o")
        _ = try elf.symbols()
        for section in elf.sections { _ = try elf.contents(of: section) }
        _ = MultiISAObject.isContainer(data)
    }

    private func sampleObject() throws -> Data {
        let t = try TestTools()
        let object = try t.compile(try t.write("s.c", "static int x; int f(void) { return x++; }"), isa: .x86_64, output: "s.o")
        return try Data(contentsOf: URL(fileURLWithPath: object))
    }

    @Test func truncationAtEveryOffset() throws {
        let data = try sampleObject()
        try exercise(data)
        var failures = 0
        for length in 0..<data.count {
            do { try exercise(data.prefix(length)) } catch is ELFError { failures += 1 }
        }
        // The section header table is at the end of the file, so every truncation must be caught.
        #expect(failures == data.count)
    }

    @Test func slicedInputWithNonZeroStartIndex() throws {
        let data = try sampleObject()
        let padded = Data([1, 2, 3]) + data
        let slice = padded[3...]
        #expect(slice.startIndex == 3)
        let elf = try ELFFile(data: slice, path: "slice.o")
        #expect(try elf.symbols().contains { $0.name == "f" })
    }

    @Test func byteFlipsInHeadersAndTables() throws {
        let data = try sampleObject()
        let original = try ELFFile(data: data, path: "s.o")
        // Interesting bytes: ELF header, section header table, symbol table.
        var offsets = Array(0..<64)
        let shoff = Int(original.sectionHeaderOffset)
        offsets += Array(shoff..<min(data.count, shoff + original.sections.count * 64))
        if let symtab = original.sections.first(where: { $0.type == ELFConstants.SHT_SYMTAB }) {
            offsets += Array(Int(symtab.offset)..<Int(symtab.offset + symtab.size))
        }
        var generator = SystemRandomNumberGenerator()
        for offset in offsets {
            for value: UInt8 in [0x00, 0xff, 0x7f, 0x80, UInt8.random(in: 0...255, using: &generator)] {
                var corrupt = data
                corrupt[offset] = value
                do { try exercise(corrupt) } catch is ELFError {}
            }
        }
        // Whole 8-byte fields set to extreme values hit the overflow checks.
        for offset in stride(from: 0, to: data.count - 8, by: 4) where offset < 64 || offset >= shoff {
            for value: UInt64 in [UInt64.max, UInt64.max - 63, 0x8000_0000_0000_0000] {
                var corrupt = data
                corrupt.storeLE(value, at: offset)
                do { try exercise(corrupt) } catch is ELFError {}
            }
        }
    }

    @Test func randomGarbageAfterMagic() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var data = Data([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
            data.append(contentsOf: (0..<Int.random(in: 0...400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            do { try exercise(data) } catch is ELFError {}
        }
    }
}
