import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornMetadata

@Suite struct MetadataBuilderTests {
    @Test func buildsVerifiedTablesForEveryISA() throws {
        let build = try TestPrograms.goodBuild.get()
        let tables = try MetadataBuilder.tables(binaries: build.binaries)
        #expect(tables.map(\.isa) == ISA.allCases)
        #expect(Set(tables.map(\.siteSetHash)).count == 1)
        for table in tables {
            let isa = table.isa
            let registers = RegisterFile(isa)
            #expect(table.callSites.map(\.id) == TestPrograms.goodSites.keys.sorted())
            #expect(table.functions.map(\.name) == ["work", "fwork", "main"])
            #expect(table.functions.map(\.address) == table.functions.map(\.address).sorted())
            let returnAddresses = try LLVMReference.returnAddresses(in: build.path(isa), functions: ["work", "fwork", "main"])
            let rows = try LLVMReference.rows(of: build.path(isa), isa: isa)
            for site in table.callSites {
                let function = table.functions[site.functionIndex]
                #expect(function.name == TestPrograms.goodSites[site.id])
                #expect(returnAddresses.contains(site.returnAddress), "\(site.id) at 0x\(String(site.returnAddress, radix: 16))")
                #expect(site.returnAddress > function.address && site.returnAddress < function.address + function.size)

                // The frame agrees with llvm-dwarfdump's row for the call instruction.
                let row = try #require(rows.last { $0.address <= site.returnAddress - 1 })
                #expect(site.frame.cfaRegister == row.cfaRegister && Int64(site.frame.cfaOffset) == row.cfaOffset)
                #expect(Int64(site.frame.returnAddressOffset) == row.saved[registers.returnAddress])
                #expect(site.frame.framePointerOffset.map(Int64.init) == row.saved[registers.framePointer])
                var expectedSaved = row.saved
                expectedSaved[registers.returnAddress] = nil
                #expect(Dictionary(uniqueKeysWithValues: site.frame.savedRegisters.map { ($0.register, Int64($0.cfaOffset)) }) == expectedSaved)
                let frameSize = try #require(site.frame.frameSize)
                #expect(site.frame.savedRegisters.allSatisfy { $0.cfaOffset < 0 && Int64(-$0.cfaOffset) <= Int64(frameSize) })

                for value in site.liveValues {
                    switch value.kind {
                    case .register:
                        #expect(registers.isCalleeSaved(value.register))
                    case .direct, .indirect:
                        // Slots are inside this frame (below the CFA, above the stack pointer)
                        // or, for main's caller-allocated slot, above it.
                        let cfaOffset = try #require(value.cfaOffset)
                        #expect(Int64(cfaOffset) == Int64(value.offset) - Int64(site.frame.cfaOffset) || value.register == registers.stackPointer)
                        #expect(cfaOffset < 0 && Int64(-cfaOffset) <= Int64(frameSize))
                    case .constant: break
                    }
                }
            }
            // Site 1001 of 'work': a, b in registers; the array, 7, the slot and a pooled constant.
            let s1001 = try #require(table.callSite(id: 1001))
            #expect(s1001.liveValues.map(\.kind) == [.register, .register, .direct, .constant, .direct, .constant])
            #expect(s1001.liveValues[3].constant == 7 && s1001.liveValues[5].constant == 81985529216486895)
            // 'fwork' keeps two doubles across its calls: aarch64 saves d8 and d9 for them.
            if isa == .aarch64 {
                let fwork = try #require(table.callSite(id: 3001))
                #expect(Set(fwork.frame.savedRegisters.map(\.register)).isSuperset(of: [72, 73]))
            }
            #expect(table.indicesByReturnAddress.map { table.callSites[$0].returnAddress } == table.callSites.map(\.returnAddress).sorted())
        }
    }

    @Test func encodedTablesDecodeToTheVerifiedTables() throws {
        let build = try TestPrograms.goodBuild.get()
        let blobs = try MetadataBuilder.build(binaries: build.binaries)
        let tables = try MetadataBuilder.tables(binaries: build.binaries)
        #expect(Set(blobs.keys) == Set(ISA.allCases))
        for table in tables {
            #expect(try MetadataReader.decode(blobs[table.isa]!) == table.asDecoded)
        }
        let section = try MetadataBuilder.section(binaries: build.binaries)
        #expect(try MetadataReader.decodeSection(section) == tables.map(\.asDecoded))
    }

    @Test func annotationsAreMergedAndChecked() throws {
        let build = try TestPrograms.goodBuild.get()
        let notes: [UInt64: [LiveValueAnnotation]] = [
            1002: [LiveValueAnnotation(), LiveValueAnnotation(isAlloca: true, allocaSize: 32),
                   LiveValueAnnotation(isAlloca: true, allocaSize: 8)]
        ]
        for table in try MetadataBuilder.tables(binaries: build.binaries, annotations: notes) {
            let site = try #require(table.callSite(id: 1002))
            #expect(site.liveValues.map(\.info.isAlloca) == [false, true, true])
            #expect(site.liveValues.map(\.info.allocaSize) == [0, 32, 8])
        }
        let plain: [UInt64: [LiveValueAnnotation]] = [1002: [LiveValueAnnotation(), LiveValueAnnotation(isPointer: true), LiveValueAnnotation()]]
        #expect { try MetadataBuilder.tables(binaries: build.binaries, annotations: plain) } throws: { error in
            (error as? MetadataError)?.diagnostic.message.contains("live value 1 is the address of a stack object") == true
        }
        let wrong: [UInt64: [LiveValueAnnotation]] = [2002: []]
        #expect { try MetadataBuilder.tables(binaries: build.binaries, annotations: wrong) } throws: { error in
            (error as? MetadataError)?.diagnostic.message.contains("function 'main': call site 0x7d2: the compiler describes 0 live values") == true
        }
    }

    @Test func rejectsStackmapsThatDoNotFollowTheirCall() throws {
        let build = try TestPrograms.build(TestPrograms.doubleAcrossCall)
        #expect { try MetadataBuilder.build(binaries: build.binaries) } throws: { error in
            let message = (error as? MetadataError)?.diagnostic.message ?? ""
            return message.hasPrefix("x86_64: function 'fwork': call site 0xbb9: the stackmap at 0x")
                && message.contains("does not directly follow a call instruction")
        }
        // aarch64 alone is fine: the double stays in a callee-saved d register.
        let aarch64 = try MetadataBuilder.tables(binaries: [.aarch64: build.binaries[.aarch64]!])
        #expect(aarch64[0].callSite(id: 3001)?.liveValues.last?.kind == .register)
    }

    /// Builds `good` for x86_64 and a variant for aarch64, and returns the verification error.
    private func mismatch(_ transform: (String) -> String) throws -> String {
        let build = try TestPrograms.build([.x86_64: TestPrograms.good, .aarch64: transform(TestPrograms.good)])
        do {
            _ = try MetadataBuilder.build(binaries: build.binaries)
            return ""
        } catch let error as MetadataError {
            return error.diagnostic.message
        }
    }

    @Test func rejectsCallSitesThatDoNotPairUp() throws {
        let renamed = try mismatch { $0.replacingOccurrences(of: "stackmap(i64 1002,", with: "stackmap(i64 1009,") }
        #expect(renamed == "function 'work': call site 0x3ea: exists on x86_64 but not on aarch64")
        let extra = try mismatch {
            $0.replacingOccurrences(of: "stackmap(i64 2002, i32 0, i64 %a)", with: "stackmap(i64 2002, i32 0, i64 %a, i64 %a)")
        }
        #expect(extra == "function 'main': call site 0x7d2: 1 live values on x86_64, 2 on aarch64")
        let kind = try mismatch {
            $0.replacingOccurrences(of: "stackmap(i64 2002, i32 0, i64 %a)", with: "stackmap(i64 2002, i32 0, ptr %slot)")
        }
        #expect(kind == "function 'main': call site 0x7d2: live value 0 is a stack allocation on aarch64 only")
    }

    @Test func rejectsDuplicateIDsAndMissingFrameInformation() throws {
        let duplicate = try TestPrograms.build([.aarch64: TestPrograms.good.replacingOccurrences(of: "stackmap(i64 3002,", with: "stackmap(i64 3001,")])
        #expect(throws: MetadataError.badCallSite(isa: .aarch64, function: "fwork", id: 3001, reason: "id is not unique (also used in 'fwork')")) {
            try MetadataBuilder.build(binaries: duplicate.binaries)
        }
        let noCFI = try TestPrograms.build([.x86_64: TestPrograms.good.replacingOccurrences(
            of: "define i64 @work(i64 %a, i64 %b) noinline {", with: "define i64 @work(i64 %a, i64 %b) noinline nounwind {")])
        let file = noCFI.binaries[.x86_64]!
        let work = try #require(try file.symbols().first { $0.name == "work" })
        #expect(throws: MetadataError.noFrameInfo(isa: .x86_64, function: "work", address: work.value)) {
            try MetadataBuilder.build(binaries: noCFI.binaries)
        }
    }

    /// A variable-sized allocation: the stackmap cannot give a static stack size, the CFA is
    /// frame-pointer based, so the frame is marked dynamic and slots stay CFA-relative.
    @Test func dynamicFramesAreMarked() throws {
        let ir = TestPrograms.good + """

        define i64 @dyn(i64 %n) noinline {
          %p = alloca i64, i64 %n, align 8
          store volatile i64 %n, ptr %p
          %r = call i64 @leaf(i64 %n)
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 4001, i32 0, ptr %p, i64 %n)
          %v = load volatile i64, ptr %p
          %s = add i64 %r, %v
          ret i64 %s
        }
        """
        let build = try TestPrograms.build(ir)
        for table in try MetadataBuilder.tables(binaries: build.binaries) {
            let site = try #require(table.callSite(id: 4001))
            #expect(site.frame.frameSize == nil, "\(table.isa)")
            #expect(site.frame.cfaRegister == RegisterFile(table.isa).framePointer)
            let decoded = try MetadataReader.decode(try MetadataWriter.encode(table))
            #expect(decoded.callSite(id: 4001)?.frame.frameSize == nil)
        }
    }

    @Test func rejectsMislabelledInputs() throws {
        let build = try TestPrograms.goodBuild.get()
        #expect(throws: MetadataError.self) { try MetadataBuilder.build(binaries: [.aarch64: build.binaries[.x86_64]!]) }
        #expect(throws: MetadataError.invalidInput(reason: "no binaries")) { try MetadataBuilder.build(binaries: [:]) }
    }
}
