import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornMetadata

@Suite struct StackMapParserTests {
    /// Renders a map the way `llvm-readelf --stackmap` does, for the lines both can produce.
    private func render(_ map: StackMap) -> [String] {
        var lines = map.functions.map {
            "Function address: \($0.address), stack size: \($0.stackSize ?? UInt64.max), callsite record count: \($0.recordCount)"
        }
        for r in map.records {
            lines.append("Record ID: \(r.id), instruction offset: \(r.instructionOffset)")
            for (i, l) in r.locations.enumerated() {
                let what: String
                switch l.kind {
                case .register: what = "Register R#\(l.register)"
                case .direct: what = "Direct R#\(l.register) + \(l.offset)"
                case .indirect: what = "Indirect [R#\(l.register) + \(l.offset)]"
                case .constant: what = "Constant \(l.offset)"
                case .constantIndex: continue
                }
                lines.append("#\(i + 1): \(what), size: \(l.size)")
            }
        }
        return lines
    }

    @Test(arguments: ISA.allCases)
    func matchesLLVMReadelf(isa: ISA) throws {
        let build = try TestPrograms.goodBuild.get()
        let map = try StackMapParser.parse(build.binaries[isa]!)
        let reference = try TestPrograms.run("llvm-readelf", ["--stackmap", build.path(isa)])
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("Function address") || $0.hasPrefix("Record ID") || ($0.hasPrefix("#") && $0.contains(", size:") && !$0.contains("ConstantIndex")) }
        #expect(render(map) == reference)
        #expect(Set(map.records.map(\.id)) == Set(TestPrograms.goodSites.keys))
        // The large operand of 1001 goes through the constant pool and is resolved.
        let record = try #require(map.records.first { $0.id == 1001 })
        #expect(record.locations.last?.kind == .constantIndex)
        #expect(record.locations.last?.constant == 81985529216486895)
        #expect(record.locations[3].kind == .constant && record.locations[3].constant == 7)
    }

    /// A table as LLVM lays it out: one function, one constant, one record with two locations.
    private func sampleTable(version: UInt8 = 3) -> Data {
        var d = Data([version, 0, 0, 0])
        d.appendLE(UInt32(1)); d.appendLE(UInt32(1)); d.appendLE(UInt32(1))
        d.appendLE(UInt64(0x401000)); d.appendLE(UInt64(32)); d.appendLE(UInt64(1))
        d.appendLE(UInt64(0xdead_beef_cafe))
        d.appendLE(UInt64(42)); d.appendLE(UInt32(12)); d.appendLE(UInt16(0)); d.appendLE(UInt16(2))
        d.append(contentsOf: [1, 0]); d.appendLE(UInt16(8)); d.appendLE(UInt16(3)); d.appendLE(UInt16(0)); d.appendLE(Int32(0))
        d.append(contentsOf: [5, 0]); d.appendLE(UInt16(8)); d.appendLE(UInt16(0)); d.appendLE(UInt16(0)); d.appendLE(Int32(0))
        // 64 + 2 * 12 = 88: the locations end 8-aligned, so no padding before the live-outs.
        d.appendLE(UInt16(0)); d.appendLE(UInt16(0)) // live-outs
        d.appendLE(UInt32(0)) // pad the record to 8
        return d
    }

    @Test func concatenatedTablesAreMerged() throws {
        let map = try StackMapParser.parse(sampleTable() + sampleTable(), context: "test")
        #expect(map.functions.count == 2)
        #expect(map.records.map(\.functionIndex) == [0, 1])
        #expect(map.records[0].locations[1].constant == 0xdead_beef_cafe)
    }

    @Test func everyTruncationIsAnError() throws {
        let table = sampleTable()
        for length in 1..<table.count {
            #expect(throws: MetadataError.self) { try StackMapParser.parse(table.prefix(length), context: "test") }
        }
    }

    @Test func corruptFieldsAreErrors() throws {
        var badVersion = sampleTable(version: 2)
        #expect(throws: MetadataError.unsupported(context: "t", what: "stackmap format version 2 at offset 0 (expected 3)")) {
            try StackMapParser.parse(badVersion, context: "t")
        }
        badVersion = sampleTable()
        badVersion[16 + 24 + 8 + 16] = 9 // first location kind
        #expect(throws: MetadataError.self) { try StackMapParser.parse(badVersion, context: "t") }
        var badIndex = sampleTable()
        badIndex[16 + 24 + 8 + 16 + 12 + 8] = 4 // constant index 4 of 1
        #expect(throws: MetadataError.self) { try StackMapParser.parse(badIndex, context: "t") }
        var hugeCounts = sampleTable()
        hugeCounts.replaceSubrange(12..<16, with: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: MetadataError.self) { try StackMapParser.parse(hugeCounts, context: "t") }
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let build = try TestPrograms.goodBuild.get()
        let file = build.binaries[.aarch64]!
        let original = try file.contents(of: try #require(file.section(named: StackMapParser.sectionName)))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? StackMapParser.parse(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)), context: "fuzz")
        }
    }
}
