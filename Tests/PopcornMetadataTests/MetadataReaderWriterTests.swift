import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornMetadata

@Suite struct MetadataReaderWriterTests {
    /// A table with every optional field both present and absent.
    static let sample = StackTransformMetadata(
        isa: .aarch64,
        functions: [MetadataFunction(name: "alpha", address: 0x1000, size: 0x40),
                    MetadataFunction(name: "beta", address: 0x2000, size: 0x80)],
        callSites: [
            CallSite(id: 5, returnAddress: 0x2010, functionIndex: 1,
                     frame: FrameLayout(frameSize: nil, cfaRegister: 29, cfaOffset: 16, returnAddressOffset: -8,
                                        framePointerOffset: -16, savedRegisters: [SavedRegister(register: 19, cfaOffset: -24),
                                                                                  SavedRegister(register: 72, cfaOffset: -32)]),
                     liveValues: [LiveValue(kind: .register, size: 8, register: 19),
                                  LiveValue(kind: .direct, size: 8, register: 29, offset: -40, cfaOffset: -56,
                                            info: LiveValueAnnotation(isAlloca: true, allocaSize: 24, holdsPointer: true)),
                                  LiveValue(kind: .indirect, size: 4, register: 31, offset: 12),
                                  LiveValue(kind: .constant, size: 8, constant: 0xffff_ffff_ffff_fff0)]),
            CallSite(id: 9, returnAddress: 0x1008, functionIndex: 0,
                     frame: FrameLayout(frameSize: 32, cfaRegister: 31, cfaOffset: 32, returnAddressOffset: -8,
                                        framePointerOffset: nil, savedRegisters: []),
                     liveValues: []),
            CallSite(id: 12, returnAddress: 0x2020, functionIndex: 1,
                     frame: FrameLayout(frameSize: nil, cfaRegister: 29, cfaOffset: 16, returnAddressOffset: -8,
                                        framePointerOffset: -16, savedRegisters: [SavedRegister(register: 19, cfaOffset: -24),
                                                                                  SavedRegister(register: 72, cfaOffset: -32)]),
                     liveValues: [LiveValue(kind: .register, size: 8, register: 20, info: LiveValueAnnotation(isPointer: true)),
                                  LiveValue(kind: .indirect, size: 8, register: 29, offset: -8, info: LiveValueAnnotation(isPointer: true, base: 0))]),
        ])

    @Test func roundTrips() throws {
        let blob = try MetadataWriter.encode(Self.sample)
        #expect(blob.count % 8 == 0)
        #expect(try MetadataReader.decode(blob) == Self.sample)
        var other = Self.sample
        other.isa = .x86_64
        let section = try MetadataWriter.section([Self.sample, other])
        #expect(try MetadataReader.decodeSection(section) == [other, Self.sample]) // ISA order
        let empty = StackTransformMetadata(isa: .x86_64, functions: [], callSites: [])
        #expect(try MetadataReader.decode(try MetadataWriter.encode(empty)) == empty)
    }

    /// The header layout is what the C header declares; the runtime reads these fields directly.
    @Test func headerFieldsAreWhereTheFormatSaysTheyAre() throws {
        let blob = [UInt8](try MetadataWriter.encode(Self.sample))
        func u16(_ o: Int) -> UInt64 { UInt64(blob[o]) | UInt64(blob[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt64 { u16(o) | u16(o + 2) << 16 }
        func u64(_ o: Int) -> UInt64 { u32(o) | u32(o + 4) << 32 }
        #expect(Array(blob[0..<8]) == Array("POPCMETA".utf8))
        #expect(u16(8) == 1 && u16(10) == 2 && u32(12) == 96 && u64(16) == UInt64(blob.count))
        #expect(u64(24) == Self.sample.siteSetHash)
        #expect(u32(32) == 2 && u32(36) == 3 && u32(40) == 6 && u32(44) == 2) // shared saved-register list
        #expect(u16(80) == 31 && u16(82) == 29 && u16(84) == 30)
        let sites = Int(u32(60)), index = Int(u32(64))
        #expect(u64(sites) == 5 && u64(sites + 56) == 9 && u64(sites + 112) == 12) // sorted by id
        #expect([u32(index), u32(index + 4), u32(index + 8)] == [1, 0, 2])         // by return address
        #expect(u32(sites + 20) == UInt64(MetadataFormat.siteFramePointerSaved | MetadataFormat.siteDynamicFrame))
        let functions = Int(u32(56)), strings = Int(u32(76))
        let nameOffset = Int(u32(functions + 32 + 16))
        #expect(String(decoding: blob[(strings + nameOffset)..<(strings + nameOffset + 4)], as: UTF8.self) == "beta")
        #expect(u32(functions + 32 + 20) == 1 && u32(functions + 32 + 24) == 2) // beta: index positions 1-2
    }

    @Test func everyTruncationIsAnError() throws {
        let blob = try MetadataWriter.encode(Self.sample)
        for length in 1..<blob.count {
            #expect(throws: MetadataError.self) { try MetadataReader.decode(blob.prefix(length)) }
        }
    }

    @Test func corruptTablesAreErrors() throws {
        let blob = try MetadataWriter.encode(Self.sample)
        func corrupt(_ offset: Int, _ bytes: [UInt8]) -> Data {
            var copy = blob
            copy.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            return copy
        }
        let sites = Int(blob[60]) | Int(blob[61]) << 8
        let cases: [(Data, String)] = [
            (corrupt(0, [0x58]), "bad magic"),
            (corrupt(8, [2, 0]), "metadata version 2"),
            (corrupt(10, [7, 0]), "unknown isa 7"),
            (corrupt(36, [0xff, 0xff, 0, 0]), "truncated call site table"),
            (corrupt(sites + 56, [1]), "call sites not sorted by id"),
            (corrupt(sites + 16, [9]), "refers to function 9 of 2"),
            (corrupt(sites + 28, [0x40, 0]), "live values out of range"),
            (corrupt(Int(blob[68]) | Int(blob[69]) << 8 + 5 * 32 + 6, [7]), "derived pointer with base 7 of 2"),
        ]
        for (data, expected) in cases {
            #expect { try MetadataReader.decode(data) } throws: { error in
                (error as? MetadataError)?.diagnostic.message.contains(expected) == true
            }
        }
        #expect(throws: MetadataError.self) { try MetadataReader.decodeSection(blob + blob) } // same ISA twice
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let tables = try MetadataBuilder.tables(binaries: try TestPrograms.goodBuild.get().binaries)
        let section = try MetadataWriter.section(tables)
        for _ in 0..<500 {
            var bytes = section
            for _ in 0..<Int.random(in: 1...4) {
                bytes[Int.random(in: 0..<bytes.count)] = UInt8.random(in: 0...255)
            }
            _ = try? MetadataReader.decodeSection(bytes)
        }
    }

    /// The section as popcorn-ld will add it (`llvm-objcopy --add-section`) reads back from the binary.
    @Test func readsTheSectionFromABinary() throws {
        let build = try TestPrograms.goodBuild.get()
        let tables = try MetadataBuilder.tables(binaries: build.binaries)
        let sectionFile = build.directory.file("meta.bin"), output = build.directory.file("app-with-meta")
        try AtomicFile.write(try MetadataWriter.section(tables), to: sectionFile)
        try ProcessRunner.checked(try TestPrograms.tool("llvm-objcopy"),
                                  ["--add-section", "\(MetadataFormat.sectionName)=\(sectionFile)", build.path(.x86_64), output])
        let file = try ELFFile(contentsOf: output)
        #expect(try MetadataReader.read(file) == tables)
        #expect(file.section(named: MetadataFormat.sectionName)?.isAllocated == false)
        #expect(throws: MetadataError.missingSection(path: build.path(.x86_64), section: ".popcorn.meta")) {
            try MetadataReader.read(build.binaries[.x86_64]!)
        }
    }
}
