import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornMetadata

@Suite struct EHFrameParserTests {
    /// Every row llvm-dwarfdump prints for the test program's own functions matches ours.
    @Test(arguments: ISA.allCases)
    func rowsMatchLLVMDwarfdump(isa: ISA) throws {
        let build = try TestPrograms.goodBuild.get()
        let file = build.binaries[isa]!
        let frame = try EHFrameParser.parse(file)
        let functions = try file.symbols().filter { ["leaf", "fleaf", "work", "fwork", "main"].contains($0.name) }
        #expect(functions.count == 5)
        let reference = try LLVMReference.rows(of: build.path(isa), isa: isa)
        var compared = 0
        for function in functions {
            let rows = reference.filter { $0.address >= function.value && $0.address < function.value + function.size }
            #expect(!rows.isEmpty, "no reference rows for \(function.name)")
            for expected in rows {
                let row = try #require(try frame.row(at: expected.address))
                #expect(row.cfa == .registerOffset(register: expected.cfaRegister, offset: expected.cfaOffset), "\(function.name) at \(expected.address)")
                var saved: [UInt16: Int64] = [:]
                for (r, rule) in row.registers { if case let .offset(o) = rule { saved[r] = o } }
                #expect(saved == expected.saved, "\(function.name) at 0x\(String(expected.address, radix: 16))")
                compared += 1
            }
        }
        #expect(compared >= 8)
        #expect(try frame.row(at: 0) == nil)
    }

    /// A hand-assembled `.eh_frame`: CIE `zR` with pc-relative sdata4 pointers, x86_64-style
    /// registers, and one FDE exercising the interesting instructions.
    static func handmade(fdeInstructions: [UInt8]) -> Data {
        var cie = Data()
        cie.appendLE(UInt32(0))                          // CIE id
        cie.append(contentsOf: [1] + Array("zR".utf8) + [0]) // version, augmentation
        cie.append(contentsOf: [1, 0x78, 16])            // code align 1, data align -8, RA column 16
        cie.append(contentsOf: [1, 0x1b])                // augmentation data: pcrel | sdata4
        cie.append(contentsOf: [0x0c, 7, 8, 0x90, 1])    // def_cfa rsp+8; offset r16, 1*-8
        while (cie.count + 4) % 8 != 0 { cie.append(0) }
        var out = Data()
        out.appendLE(UInt32(cie.count)); out.append(cie)
        var fde = Data()
        fde.appendLE(UInt32(out.count + 4))              // CIE pointer: back to offset 0
        let pcFieldAddress = 0x1000 + UInt64(out.count + 8)
        fde.appendLE(Int32(Int64(0x2000) - Int64(pcFieldAddress)))
        fde.appendLE(UInt32(0x40))
        fde.append(0)                                    // no augmentation data
        fde.append(contentsOf: fdeInstructions)
        while (fde.count + 4) % 8 != 0 { fde.append(0) }
        out.appendLE(UInt32(fde.count)); out.append(fde)
        out.appendLE(UInt32(0))                          // terminator
        return out
    }

    static let instructions: [UInt8] = [
        0x41, 0x0e, 16, 0x86, 2,     // @1: cfa rsp+16; rbp at cfa-16
        0x43, 0x0d, 6,               // @4: cfa register rbp
        0x02, 3, 0x83, 3,            // @7 (advance_loc1): rbx at cfa-24
        0x0a,                        // remember
        0x44, 0x0c, 7, 8, 0xc3,      // @11: cfa rsp+8, restore rbx
        0x42, 0x0b,                  // @13: restore state
        0x03, 2, 0, 0x08, 3,         // @15 (advance_loc2): rbx same value
        0x04, 1, 0, 0, 0, 0x10, 12, 1, 0x30, // @16 (advance_loc4): r12 by expression
        0x41, 0x11, 13, 0x7d,        // @17: r13 at cfa+24 (offset_extended_sf, -3 * -8)
    ]

    @Test func interpretsInstructions() throws {
        let frame = try EHFrameParser.parse(Self.handmade(fdeInstructions: Self.instructions), sectionAddress: 0x1000, context: "t")
        #expect(frame.fdes.count == 1 && frame.fdes[0].start == 0x2000 && frame.fdes[0].length == 0x40)
        #expect(frame.cies[0].returnAddressRegister == 16 && frame.cies[0].dataAlignment == -8)
        func row(_ offset: UInt64) throws -> FrameRow { try #require(try frame.row(at: 0x2000 + offset)) }
        #expect(try row(0) == FrameRow(cfa: .registerOffset(register: 7, offset: 8), registers: [16: .offset(-8)]))
        #expect(try row(1) == FrameRow(cfa: .registerOffset(register: 7, offset: 16), registers: [16: .offset(-8), 6: .offset(-16)]))
        #expect(try row(4).cfa == .registerOffset(register: 6, offset: 16))
        #expect(try row(7).rule(for: 3) == .offset(-24))
        #expect(try row(11) == FrameRow(cfa: .registerOffset(register: 7, offset: 8), registers: [16: .offset(-8), 6: .offset(-16), 3: nil].compactMapValues { $0 }))
        #expect(try row(13).cfa == .registerOffset(register: 6, offset: 16))
        #expect(try row(13).rule(for: 3) == .offset(-24))
        #expect(try row(15).rule(for: 3) == .sameValue)
        #expect(try row(16).rule(for: 12) == .expression)
        #expect(try row(17).rule(for: 13) == .offset(24))
        #expect(try frame.row(at: 0x2040) == nil)
    }

    /// The row table (`rows(of:)`, one pass over an FDE) gives, at every address of the FDE, the
    /// row a lookup at that address (`row(at:)`, interpreting up to it) gives: on the hand-made FDE
    /// and on every FDE of the test program, both ISAs.
    @Test func rowTablesAgreeWithLookups() throws {
        let handmade = try EHFrameParser.parse(Self.handmade(fdeInstructions: Self.instructions), sectionAddress: 0x1000, context: "t")
        let table = try handmade.rows(of: handmade.fdes[0])
        #expect(table.map(\.start) == [0x2000, 0x2001, 0x2004, 0x2007, 0x200b, 0x200d, 0x200f, 0x2010, 0x2011])
        let build = try TestPrograms.goodBuild.get()
        var compared = 0
        for frame in [handmade] + (try ISA.allCases.map { try EHFrameParser.parse(build.binaries[$0]!) }) {
            for fde in frame.fdes {
                let rows = try frame.rows(of: fde)
                #expect(rows.first?.start == fde.start)
                for address in fde.start..<(fde.start + fde.length) {
                    let row = try #require(rows.last { $0.start <= address }).row
                    #expect(try frame.row(at: address) == row, "0x\(String(address, radix: 16))")
                    compared += 1
                }
            }
        }
        #expect(compared > 1000)
    }

    /// The metadata's frame cache answers as `FrameDerivation` does at every address: on the
    /// hand-made FDE, and on one whose table cannot be built whole (pointer authentication after
    /// the first instruction), where the frame before that instruction is still found.
    @Test func theFrameCacheAnswersAsFrameDerivation() throws {
        let registers = RegisterFile(.x86_64)
        for instructions in [Self.instructions, [0x41, 0x2d]] {
            let frame = try EHFrameParser.parse(Self.handmade(fdeInstructions: instructions), sectionAddress: 0x1000, context: "t")
            let cache = FrameCache(ehFrame: frame, registers: registers)
            for returnAddress in UInt64(0x2001)...0x2041 {
                let expected = Result { () throws(FrameDerivation.Failure) in
                    try FrameDerivation.frame(returningTo: returnAddress, ehFrame: frame, registers: registers, stackSize: 32)
                }
                let cached = Result { () throws(FrameDerivation.Failure) in try cache.frame(returningTo: returnAddress, stackSize: 32) }
                switch (expected, cached) {
                case let (.success(a), .success(b)): #expect(a == b, "0x\(String(returnAddress, radix: 16))")
                case (.failure, .failure): break
                default: Issue.record("0x\(String(returnAddress, radix: 16)): \(expected) against \(cached)")
                }
            }
            #expect(try cache.frame(returningTo: 0x2001, stackSize: 32).cfaOffset == 8)
        }
    }

    @Test func rejectsWhatTheRuntimeCannotFollow() throws {
        let pac = try EHFrameParser.parse(Self.handmade(fdeInstructions: [0x41, 0x2d]), sectionAddress: 0x1000, context: "t")
        #expect(throws: MetadataError.self) { try pac.row(at: 0x2001) }
        #expect(try pac.row(at: 0x2000) != nil) // before the instruction takes effect
        let unknown = try EHFrameParser.parse(Self.handmade(fdeInstructions: [0x3f]), sectionAddress: 0x1000, context: "t")
        #expect(throws: MetadataError.self) { try unknown.row(at: 0x2000) }
        let unbalanced = try EHFrameParser.parse(Self.handmade(fdeInstructions: [0x0b]), sectionAddress: 0x1000, context: "t")
        #expect(throws: MetadataError.self) { try unbalanced.row(at: 0x2000) }
        let cfaExpression = try EHFrameParser.parse(Self.handmade(fdeInstructions: [0x0f, 1, 0x30]), sectionAddress: 0x1000, context: "t")
        #expect(try cfaExpression.row(at: 0x2000)?.cfa == .expression)
    }

    @Test func everyTruncationIsAnErrorOrAShorterTable() throws {
        let data = Self.handmade(fdeInstructions: Self.instructions)
        for length in 0..<data.count {
            // Cutting inside an entry is an error; cutting at an entry boundary leaves fewer entries.
            do {
                let frame = try EHFrameParser.parse(data.prefix(length), sectionAddress: 0x1000, context: "t")
                // Only the 4-byte terminator may go missing without losing the FDE.
                #expect(frame.fdes.count == (length >= data.count - 4 ? 1 : 0), "length \(length)")
            } catch let error as MetadataError {
                #expect(error.diagnostic.message.contains("t: "))
            }
        }
    }

    @Test(arguments: ISA.allCases)
    func randomCorruptionNeverCrashes(isa: ISA) throws {
        let file = try TestPrograms.goodBuild.get().binaries[isa]!
        let section = try #require(file.section(named: ".eh_frame"))
        let original = try file.contents(of: section)
        let probes = try StackMapParser.parse(file).functions.map(\.address)
        for _ in 0..<200 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...6) {
                bytes[Int.random(in: 0..<bytes.count)] = UInt8.random(in: 0...255)
            }
            guard let frame = try? EHFrameParser.parse(bytes, sectionAddress: section.address, context: "fuzz") else { continue }
            for address in probes { _ = try? frame.row(at: address + 8) }
        }
    }
}
