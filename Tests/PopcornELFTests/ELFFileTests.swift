import Foundation
import Testing
import PopcornSupport
@testable import PopcornELF

@Suite struct ELFFileTests {
    @Test(arguments: ISA.allCases)
    func readsRelocatableObject(isa: ISA) throws {
        let t = try TestTools()
        let object = try t.compile(try t.write("sample.c", sampleProgram), isa: isa, output: "sample.o")
        let elf = try ELFFile(contentsOf: object)
        #expect(elf.isa == isa)
        #expect(elf.machine == isa.elfMachine)
        #expect(elf.type == ELFConstants.ET_REL)
        #expect(elf.programHeaders.isEmpty)

        // Cross-check the section table against llvm-readelf.
        let readelf = try t.run(try t.llvmTool("llvm-readelf"), ["-S", "-W", object]).stdoutText
        let names = readelf.split(separator: "\n").compactMap { line -> String? in
            guard let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"), open < close,
                  Int(line[line.index(after: open)..<close].trimmingCharacters(in: .whitespaces)) != nil else { return nil }
            return line[line.index(after: close)...].split(separator: " ").first.map(String.init)
        }
        #expect(elf.sections.count == names.count)
        #expect(elf.sections.dropFirst().map(\.name) == Array(names.dropFirst()))

        let text = try #require(elf.section(named: ".text.main"))
        #expect(text.isExecutable && text.isAllocated && !text.isWritable)
        #expect(try elf.contents(of: text).count == Int(text.size))
        let tbss = try #require(elf.section(named: ".tdata.tls_value"))
        #expect(tbss.isTLS)

        let symbols = try elf.symbols()
        let main = try #require(symbols.first { $0.name == "main" })
        #expect(main.type == ELFConstants.STT_FUNC && main.binding == ELFConstants.STB_GLOBAL)
        #expect(main.isDefined && !main.isLocal && main.fileScope == nil)
        #expect(elf.sections[Int(main.sectionIndex)].name == ".text.main")
        let counter = try #require(symbols.first { $0.name == "counter" })
        #expect(counter.isLocal && counter.fileScope == "sample.c" && counter.type == ELFConstants.STT_OBJECT)
        let printf = try #require(symbols.first { $0.name == "printf" })
        #expect(!printf.isDefined)
        let tls = try #require(symbols.first { $0.name == "tls_value" })
        #expect(tls.type == ELFConstants.STT_TLS)

        // The non-local part alone, read from sh_info on: the same symbols as filtering them all.
        let globals = try elf.globalSymbols()
        #expect(globals.map(\.name) == symbols.filter { !$0.isLocal }.map(\.name))
        #expect(globals.contains { $0.name == "main" } && !globals.contains { $0.name == "counter" })
    }

    @Test(arguments: ISA.allCases)
    func readsLinkedExecutable(isa: ISA) throws {
        let t = try TestTools()
        let object = try t.compile(try t.write("sample.c", sampleProgram), isa: isa, output: "sample.o")
        let exe = try t.linkMusl([object], isa: isa, output: "sample")
        let elf = try ELFFile(contentsOf: exe)
        #expect(elf.type == ELFConstants.ET_EXEC)
        #expect(elf.isa == isa)
        let start = try #require(try elf.symbols().first { $0.name == "_start" && $0.isDefined })
        #expect(elf.entry == start.value)
        let loads = elf.programHeaders.filter { $0.type == ELFConstants.PT_LOAD }
        #expect(!loads.isEmpty)
        #expect(loads.contains { $0.vaddr <= elf.entry && elf.entry < $0.vaddr + $0.memsz && $0.flags & 1 != 0 })
        #expect(elf.programHeaders.contains { $0.type == ELFConstants.PT_TLS })
        let bss = try #require(elf.section(named: ".bss"))
        #expect(bss.isNoBits && bss.isWritable)
        #expect(try elf.contents(of: bss).isEmpty)
    }

    @Test func rejectsNonELFAndUnsupportedFlavours() throws {
        #expect(throws: ELFError.notELF(path: "a.txt")) { try ELFFile(data: Data("hello world".utf8), path: "a.txt") }
        #expect(throws: ELFError.notELF(path: "e")) { try ELFFile(data: Data(), path: "e") }
        var header = Data([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]) + Data(count: 57)
        #expect(throws: ELFError.unsupported(path: "x.o", what: "32-bit ELF class")) { try ELFFile(data: header, path: "x.o") }
        header[4] = 2; header[5] = 2
        #expect(throws: ELFError.unsupported(path: "x.o", what: "big-endian data encoding")) { try ELFFile(data: header, path: "x.o") }
        #expect(throws: ELFError.truncated(path: "x.o", what: "ELF header")) { try ELFFile(data: header.prefix(20), path: "x.o") }
        let message = ELFError.truncated(path: "x.o", what: "section header table").diagnostic.description
        #expect(message == "error: 'x.o': truncated section header table")
    }

    @Test func missingFileNamesThePath() throws {
        do {
            _ = try ELFFile(contentsOf: "/nonexistent/popcorn.o")
            Issue.record("reading a missing file succeeded")
        } catch let error as ELFError {
            #expect(error.diagnostic.message == "'/nonexistent/popcorn.o': unable to read file: no such file or directory")
        }
    }

    /// Rewrites a valid object so that the section count and name-table index use the
    /// escape values kept in section 0, and checks that reading gives the same result.
    @Test func readsExtendedSectionNumbering() throws {
        let t = try TestTools()
        let object = try t.compile(try t.write("sample.c", sampleProgram), isa: .x86_64, output: "sample.o")
        let original = try ELFFile(contentsOf: object)
        var data = original.data
        let shoff = Int(original.sectionHeaderOffset)
        data.storeLE(UInt16(0), at: 60)
        data.storeLE(ELFConstants.SHN_XINDEX, at: 62)
        data.storeLE(UInt64(original.sections.count), at: shoff + 32)
        data.storeLE(UInt32(original.sectionNameTableIndex), at: shoff + 40)
        let escaped = try ELFFile(data: data, path: "escaped.o")
        #expect(escaped.sections.map(\.name) == original.sections.map(\.name))
        #expect(try escaped.symbols() == original.symbols())
    }
}
