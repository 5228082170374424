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
        #expect(try MetadataReader.decode(blob) == Self.sample.asDecoded)
        var other = Self.sample
        other.isa = .x86_64
        let section = try MetadataWriter.section([Self.sample, other])
        #expect(try MetadataReader.decodeSection(section) == [other.asDecoded, Self.sample.asDecoded]) // ISA order
        let empty = StackTransformMetadata(isa: .x86_64, functions: [], callSites: [])
        #expect(try MetadataReader.decode(try MetadataWriter.encode(empty)) == empty.asDecoded)
    }

    /// The header layout is what the C header declares; the runtime reads these fields directly.
    @Test func headerFieldsAreWhereTheFormatSaysTheyAre() throws {
        let blob = [UInt8](try MetadataWriter.encode(Self.sample))
        func u16(_ o: Int) -> UInt64 { UInt64(blob[o]) | UInt64(blob[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt64 { u16(o) | u16(o + 2) << 16 }
        func u64(_ o: Int) -> UInt64 { u32(o) | u32(o + 4) << 32 }
        #expect(Array(blob[0..<8]) == Array("POPCMETA".utf8))
        #expect(u16(8) == 5 && u16(10) == 2 && u32(12) == 120 && u32(16) == UInt64(blob.count) && u32(20) == 0)
        #expect(u64(24) == Self.sample.siteSetHash)
        #expect(u64(32) == 0x1000)                                          // lowest address
        // 2 functions, 3 sites, 2 frames (sites 5 and 12 share one), 2 saved registers,
        // 6 distinct live values, 8 value-sequence entries (alpha's empty sequence and beta's six
        // values, each after its count), 2 mask bytes (site 9's mask is empty).
        #expect([u32(40), u32(44), u32(48), u32(52), u32(56), u32(60), u32(64)] == [2, 3, 2, 2, 6, 8, 2])
        #expect(blob[108] == 31 && blob[109] == 29 && blob[110] == 30)
        #expect(u64(112) == MetadataFormat.checksum(of: blob))
        let sites = Int(u32(76)), index = Int(u32(80)), frames = Int(u32(84))
        // Sites 5, 9, 12 in ID order, 12 bytes each: return address − base, mask, frame.
        #expect(u32(sites) == 0x1010 && u32(sites + 12) == 0x8)
        #expect([u32(sites + 4), u32(sites + 16), u32(sites + 28)] == [0, 0, 1])   // mask offsets
        #expect([u32(sites + 8), u32(sites + 20), u32(sites + 32)] == [0, 1, 0])   // frame indices
        #expect([u32(index), u32(index + 4), u32(index + 8)] == [1, 0, 2])         // by return address
        #expect(UInt8(blob[frames]) == MetadataFormat.siteFramePointerSaved | MetadataFormat.siteDynamicFrame)
        // Frame 1 (site 9): a fixed 32-byte frame, the return address at CFA − 8.
        #expect(u32(frames + 24 + 16) == 32 && u16(frames + 24 + 20) == 0xfff8)
        let lists = Int(u32(96)), masks = Int(u32(100))
        #expect([u16(lists), u16(lists + 2), u16(lists + 4), u16(lists + 14)] == [0, 6, 0, 5])
        #expect([blob[masks], blob[masks + 1]] == [0x0f, 0x30])                    // values 0-3, then 4-5
        let functions = Int(u32(72)), strings = Int(u32(104))
        let nameOffset = Int(u32(functions + 24 + 8))
        #expect(String(decoding: blob[(strings + nameOffset)..<(strings + nameOffset + 4)], as: UTF8.self) == "beta")
        #expect(u32(functions + 24) == 0x1000 && u32(functions + 24 + 12) == 1 && u32(functions + 24 + 16) == 2) // beta: index positions 1-2
        #expect(u32(functions + 20) == 0 && u32(functions + 24 + 20) == 1)          // value sequences: alpha's, beta's
        // The 64-bit constant is split over offset (low half) and extra (high half).
        let value3 = Int(u32(92)) + 3 * 16
        #expect(blob[value3] == 4 && u32(value3 + 4) == 0xffff_fff0 && u32(value3 + 8) == 0xffff_ffff)
    }

    /// Sites listing the same values share the records and the list; the section stays
    /// proportional to what differs, not to sites × values.
    @Test func identicalValueListsAreStoredOnce() throws {
        let frame = FrameLayout(frameSize: 64, cfaRegister: 7, cfaOffset: 64, returnAddressOffset: -8,
                                framePointerOffset: nil, savedRegisters: [SavedRegister(register: 3, cfaOffset: -16)])
        var slots: [LiveValue] = []
        for n in 0..<10 {
            let offset = Int32(8 * n)
            slots.append(LiveValue(kind: .direct, size: 8, register: 7, offset: offset, cfaOffset: offset - 64,
                                   info: LiveValueAnnotation(isAlloca: true, allocaSize: 8)))
        }
        var sites: [CallSite] = []
        for n in 0..<50 {
            let values: [LiveValue] = n == 49 ? Array(slots.prefix(3)) : slots
            sites.append(CallSite(id: UInt64(n + 1), returnAddress: 0x401000 + UInt64(n) * 16, functionIndex: 0,
                                  frame: frame, liveValues: values))
        }
        let table = StackTransformMetadata(isa: .x86_64, functions: [MetadataFunction(name: "f", address: 0x400ff0, size: 0x400)],
                                           callSites: sites)
        let blob = [UInt8](try MetadataWriter.encode(table))
        func u32(_ o: Int) -> Int { Int(blob[o]) | Int(blob[o + 1]) << 8 | Int(blob[o + 2]) << 16 | Int(blob[o + 3]) << 24 }
        // One frame, 10 values, one sequence of 10 (and its count), two distinct 2-byte masks.
        #expect(u32(48) == 1 && u32(56) == 10 && u32(60) == 11 && u32(64) == 4)
        let bound: Int = 120 + 24 + 50 * 16 + 24 + 8 + 10 * 16 + 11 * 2 + 4 + 64
        #expect(blob.count < bound)
        #expect(try MetadataReader.decode(Data(blob)) == table.asDecoded)
    }

    /// More than 65536 distinct live values switch the value lists to 32-bit entries.
    @Test func manyDistinctValuesUseWideListEntries() throws {
        let frame = FrameLayout(frameSize: nil, cfaRegister: 6, cfaOffset: 16, returnAddressOffset: -8,
                                framePointerOffset: -16, savedRegisters: [])
        var sites: [CallSite] = []
        for s in 0..<3 {
            var values: [LiveValue] = []
            for n in 0..<30_000 { values.append(LiveValue(kind: .constant, size: 8, constant: UInt64(s * 30_000 + n))) }
            sites.append(CallSite(id: UInt64(s + 1), returnAddress: 0x1001 + UInt64(s), functionIndex: 0, frame: frame,
                                  liveValues: values))
        }
        let table = StackTransformMetadata(isa: .x86_64, functions: [MetadataFunction(name: "big", address: 0x1000, size: 0)],
                                           callSites: sites)
        let blob = try MetadataWriter.encode(table)
        #expect(blob[20] & UInt8(MetadataFormat.tableWideValueIndex) != 0)
        #expect(try MetadataReader.decode(blob) == table.asDecoded)
    }

    /// What the format cannot hold is an error when writing, not a silently different table.
    @Test func unrepresentableMetadataIsRejected() throws {
        func table(_ value: LiveValue) -> StackTransformMetadata {
            var t = Self.sample
            t.callSites[0].liveValues = [value]
            return t
        }
        let cases: [(LiveValue, String)] = [
            (LiveValue(kind: .direct, size: 8, register: 29, offset: -40, cfaOffset: -40), "does not follow from its location"),
            (LiveValue(kind: .register, size: 8, register: 300), "register 300"),
            (LiveValue(kind: .indirect, size: 512, register: 29, offset: 8), "size 512"),
            (LiveValue(kind: .constant, size: 8, info: LiveValueAnnotation(isAlloca: true)), "cannot be a stack object"),
        ]
        for (value, expected) in cases {
            #expect { try MetadataWriter.encode(table(value)) } throws: { error in
                (error as? MetadataError)?.diagnostic.message.contains(expected) == true
            }
        }
    }

    /// A table written by an older popcorn-ld (version 1) is refused by name, not misread.
    @Test func oldVersionIsRejectedClearly() throws {
        var blob = [UInt8](try MetadataWriter.encode(Self.sample))
        blob[8] = 1
        #expect { try MetadataReader.decode(Data(blob)) } throws: { error in
            let message = (error as? MetadataError)?.diagnostic.message ?? ""
            return message.contains("unsupported metadata version 1 (expected 5") && message.contains("relink")
        }
        // Even a version-1 table too short for a version-2 header is named as such.
        #expect { try MetadataReader.decode(Data(blob.prefix(96))) } throws: { error in
            (error as? MetadataError)?.diagnostic.message.contains("metadata version 1") == true
        }
    }

    @Test func everyTruncationIsAnError() throws {
        let blob = try MetadataWriter.encode(Self.sample)
        for length in 1..<blob.count {
            #expect(throws: MetadataError.self) { try MetadataReader.decode(blob.prefix(length)) }
        }
    }

    private func sitesOffset(_ blob: Data) -> Int {
        Int(blob[76]) | Int(blob[77]) << 8 | Int(blob[78]) << 16 | Int(blob[79]) << 24
    }

    @Test func corruptTablesAreErrors() throws {
        let blob = try MetadataWriter.encode(Self.sample)
        // Each corruption keeps the checksum right (as a broken writer would), so the check
        // that follows it in the reader is the one that must catch it.
        func corrupt(_ offset: Int, _ bytes: [UInt8]) -> Data {
            var copy = [UInt8](blob)
            copy.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            let sum = MetadataFormat.checksum(of: copy)
            for i in 0..<8 { copy[MetadataFormat.checksumOffset + i] = UInt8(truncatingIfNeeded: sum >> (8 * UInt64(i))) }
            return Data(copy)
        }
        var damaged = blob
        damaged[sitesOffset(blob) + 9] ^= 0x40
        #expect { try MetadataReader.decode(damaged) } throws: { error in
            (error as? MetadataError)?.diagnostic.message.contains("checksum mismatch") == true
        }
        func u32(_ o: Int) -> Int { Int(blob[o]) | Int(blob[o + 1]) << 8 | Int(blob[o + 2]) << 16 | Int(blob[o + 3]) << 24 }
        let sites = u32(76), values = u32(92), lists = u32(96), masks = u32(100)
        let cases: [(Data, String)] = [
            (corrupt(0, [0x58]), "bad magic"),
            (corrupt(8, [1, 0]), "metadata version 1"),
            (corrupt(10, [7, 0]), "unknown isa 7"),
            (corrupt(20, [2]), "unknown flags 0x2"),
            (corrupt(44, [0xff, 0xff, 0, 0]), "truncated call site table"),
            (corrupt(sites + 12, [0x50]), "function 'alpha' lists a call site of another function"),
            (corrupt(sites + 8, [9]), "refers to frame 9 of 2"),
            (corrupt(u32(72) + 24 + 20, [0x40]), "function 'beta' has a value sequence out of range"),
            (corrupt(lists, [0x40, 0]), "function 'alpha' has a value sequence out of range"),
            (corrupt(sites + 4, [9]), "call site 0 has a value mask out of range"),
            (corrupt(masks, [0x4f]), "call site 0 has a value mask out of range"),   // entry 6 of 6
            (corrupt(values + 5 * 16 + 12, [7]), "derived pointer with base 7 of 2"),
            (corrupt(values + 1, [2]), "is not a frame slot but has a CFA offset"),
            (corrupt(lists + 4, [0x30, 0]), "call site 0 lists live value 48 of 6"),
            (corrupt(u32(84) + 2, [0xff, 0]), "frame 0 has saved registers out of range"),
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
        #expect(try MetadataReader.read(file) == tables.map(\.asDecoded))
        #expect(file.section(named: MetadataFormat.sectionName)?.isAllocated == false)
        #expect(throws: MetadataError.missingSection(path: build.path(.x86_64), section: ".popcorn.meta")) {
            try MetadataReader.read(build.binaries[.x86_64]!)
        }
    }
}
