import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornMetadata

@Suite struct CallSiteTableReaderTests {
    struct Operand { var kind: UInt8; var holds: UInt8 = 0xff; var base: UInt32 = 0xffff_ffff; var size: UInt64 }

    /// One block in the layout popcorn-cc writes.
    static func block(_ records: [(UInt64, String, [Operand])]) -> [UInt8] {
        var d = Data(Array("PCSITES\0".utf8))
        d.appendLE(UInt32(1)); d.appendLE(UInt32(records.count))
        for (id, name, operands) in records {
            d.appendLE(id); d.appendLE(UInt32(operands.count)); d.appendLE(UInt32(name.utf8.count))
            d.append(contentsOf: Array(name.utf8))
            while d.count % 8 != 0 { d.append(0) }
            for o in operands {
                d.append(contentsOf: [o.kind, o.holds, 0, 0]); d.appendLE(o.base); d.appendLE(o.size)
            }
        }
        return [UInt8](d)
    }

    /// Annotations for the `good` program's sites, in the side-table encoding.
    static let goodBlocks: [[UInt8]] = [
        block([(1001, "work", [Operand(kind: 0, size: 8), Operand(kind: 0, size: 8), Operand(kind: 3, size: 32),
                               Operand(kind: 0, size: 4), Operand(kind: 3, holds: 0, size: 8), Operand(kind: 0, size: 8)]),
               (1002, "work", [Operand(kind: 0, size: 8), Operand(kind: 3, size: 32), Operand(kind: 3, holds: 1, size: 8)])]),
        block([(3001, "fwork", [Operand(kind: 3, size: 8)]), (3002, "fwork", [Operand(kind: 3, size: 8)]),
               (2001, "main", [Operand(kind: 0, size: 8), Operand(kind: 3, size: 8)]),
               (2003, "main", [Operand(kind: 0, size: 8), Operand(kind: 3, size: 8)]),
               (2002, "main", [Operand(kind: 2, base: 0, size: 8)])]),
    ]

    @Test func decodesBlocksWithPadding() throws {
        let bytes = Self.goodBlocks[0] + [UInt8](repeating: 0, count: 8) + Self.goodBlocks[1]
        let table = try CallSiteTableReader.decode(Data(bytes), context: "t")
        #expect(table.count == 7)
        #expect(table[1002] == [LiveValueAnnotation(), LiveValueAnnotation(isAlloca: true, allocaSize: 32),
                                LiveValueAnnotation(isAlloca: true, allocaSize: 8, holdsPointer: true)])
        #expect(table[2002] == [LiveValueAnnotation(isPointer: true, base: 0)])
        for length in 1..<Self.goodBlocks[0].count {
            #expect(throws: MetadataError.self) { try CallSiteTableReader.decode(Data(Self.goodBlocks[0].prefix(length)), context: "t") }
        }
        #expect(throws: MetadataError.self) { try CallSiteTableReader.decode(Data(Self.goodBlocks[0] + Self.goodBlocks[0]), context: "t") }
    }

    /// Version 2, what popcorn-cc writes now: no function names, 8-byte operands with a 16-bit
    /// base and a 32-bit size; read alongside version 1 blocks of older objects.
    @Test func decodesVersionTwoBlocks() throws {
        var d = Data(Array("PCSITES\0".utf8))
        d.appendLE(UInt32(2)); d.appendLE(UInt32(1))
        d.appendLE(UInt64(77)); d.appendLE(UInt32(3)); d.appendLE(UInt32(0))
        d.append(contentsOf: [3, 1]); d.appendLE(UInt16(0xffff)); d.appendLE(UInt32(48))   // an object holding a pointer
        d.append(contentsOf: [1, 0xff]); d.appendLE(UInt16(0xffff)); d.appendLE(UInt32(8)) // a pointer
        d.append(contentsOf: [2, 0xff]); d.appendLE(UInt16(1)); d.appendLE(UInt32(8))      // derived from operand 1
        let table = try CallSiteTableReader.decode(d + Data(Self.goodBlocks[1]), context: "t")
        #expect(table[77] == [LiveValueAnnotation(isAlloca: true, allocaSize: 48, holdsPointer: true),
                              LiveValueAnnotation(isPointer: true), LiveValueAnnotation(isPointer: true, base: 1)])
        #expect(table.count == 6)
        var wrong = d
        wrong[wrong.count - 6] = 9 // base 9 of 3 operands
        #expect(throws: MetadataError.self) { try CallSiteTableReader.decode(wrong, context: "t") }
        for length in 1..<d.count {
            #expect(throws: MetadataError.self) { try CallSiteTableReader.decode(d.prefix(length), context: "t") }
        }
    }

    /// The side table, emitted the way popcorn-cc emits it (an internal constant per module in
    /// `.popcorn.callsites`), is found in the linked binaries and merged without being passed in.
    @Test func builderReadsTheSideTableFromTheBinaries() throws {
        var ir = TestPrograms.good
        for (i, block) in Self.goodBlocks.enumerated() {
            let text = block.map { String(format: "\\%02X", $0) }.joined()
            ir += "\n@__popcorn.test\(i).callsites = internal constant [\(block.count) x i8] c\"\(text)\", section \".popcorn.callsites\", align 8\n"
        }
        ir += "@llvm.used = appending global [2 x ptr] [ptr @__popcorn.test0.callsites, ptr @__popcorn.test1.callsites], section \"llvm.metadata\"\n"
        let build = try TestPrograms.build(ir)
        for table in try MetadataBuilder.tables(binaries: build.binaries) {
            #expect(table.callSite(id: 1002)?.liveValues.map(\.info.holdsPointer) == [false, false, true])
            #expect(table.callSite(id: 1001)?.liveValues[2].info == LiveValueAnnotation(isAlloca: true, allocaSize: 32))
            #expect(table.callSite(id: 2002)?.liveValues[0].info.base == 0)
            let decoded = try MetadataReader.decode(try MetadataWriter.encode(table))
            #expect(decoded == table.asDecoded)
        }
    }
}
