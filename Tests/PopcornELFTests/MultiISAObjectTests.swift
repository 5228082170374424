import Foundation
import Testing
import PopcornSupport
@testable import PopcornELF

@Suite struct MultiISAObjectTests {
    /// Objects of the sample program for every ISA.
    private func sampleObjects(_ t: TestTools) throws -> [ISA: Data] {
        let source = try t.write("sample.c", sampleProgram)
        var result: [ISA: Data] = [:]
        for isa in ISA.allCases {
            let object = try t.compile(source, isa: isa, output: "sample.\(isa).o")
            result[isa] = try Data(contentsOf: URL(fileURLWithPath: object))
        }
        return result
    }

    /// A container of the sample program's objects written to `name`: the host's object, the
    /// embedded ones, the container's bytes and its path.
    private func sampleContainer(_ t: TestTools, name: String) throws
        -> (host: Data, foreign: [ISA: Data], container: Data, path: String) {
        let objects = try sampleObjects(t)
        let foreign = objects.filter { $0.key != ISA.host }
        let container = try MultiISAObject.build(host: objects[ISA.host]!, embedded: foreign)
        let path = t.path(name)
        try AtomicFile.write(container, to: path)
        return (objects[ISA.host]!, foreign, container, path)
    }

    /// The embedded objects are stored compressed (gABI `SHF_COMPRESSED`, zlib): llvm-readelf
    /// decompresses the section to exactly the object that went in, and version 1 containers
    /// (stored as they are) still read.
    @Test func embeddedObjectsAreCompressedSections() throws {
        let t = try TestTools()
        let (hostObject, foreign, container, containerPath) = try sampleContainer(t, name: "compressed.o")
        let host = ISA.host
        let file = try ELFFile(data: container, path: containerPath)
        for (isa, object) in foreign {
            let section = try #require(file.section(named: isa.containerSection))
            #expect(section.flags & ELFConstants.SHF_COMPRESSED != 0 && section.size < UInt64(object.count))
            let dump = try t.run(try t.llvmTool("llvm-readelf"), ["-z", "-x", isa.containerSection, containerPath])
            #expect(dump.stderrText.isEmpty, "\(dump.stderrText)")
            // "0x00000010 0100b700 01000000 …": the hex groups fill the 36 columns after the
            // offset (a short last line is padded), then the bytes follow as text — which may
            // itself look like hex, so the groups are read by column.
            let hex = dump.stdoutText.split(separator: "\n").filter { $0.hasPrefix("0x") }
                .map { String(Array($0).dropFirst(11).prefix(36).filter { $0 != " " }) }
                .joined()
            #expect(hex == object.map { String(format: "%02x", $0) }.joined(), "llvm-readelf -z gives back the \(isa) object")
        }
        let uncompressed = try MultiISAObject.build(host: hostObject, embedded: foreign, compressing: false)
        #expect(try MultiISAObject.objects(in: uncompressed, path: "v1.o").filter { $0.key != host } == foreign)
        #expect(try MultiISAObject.objects(in: container, path: "v2.o").filter { $0.key != host } == foreign)
        #expect(uncompressed.count > container.count)
        // A stream cut short is an error, not a short object.
        let section = try #require(file.section(named: ISA.aarch64.containerSection))
        var truncated = container
        truncated.replaceSubrange(Int(section.offset + section.size / 2)..<Int(section.offset + section.size),
                                  with: Data(count: Int(section.size - section.size / 2)))
        #expect(throws: ELFError.self) { try MultiISAObject.objects(in: truncated, path: "cut.o") }
        // A header claiming more than deflate can expand to is refused before anything is allocated.
        var inflated = container
        inflated.storeLE(UInt64(section.size) * 2000, at: Int(section.offset) + 8)
        do {
            _ = try MultiISAObject.objects(in: inflated, path: "big.o")
            Issue.record("an impossible uncompressed size was accepted")
        } catch let error as ELFError {
            #expect(error.diagnostic.message.contains("implausible"), "\(error.diagnostic.message)")
        }
    }

    @Test func containerRoundTripsAndLinksWithPlainTools() throws {
        let t = try TestTools()
        let (hostObject, foreign, container, containerPath) = try sampleContainer(t, name: "container.o")
        let host = ISA.host

        #expect(MultiISAObject.isContainer(container))
        #expect(!MultiISAObject.isContainer(hostObject))
        let extracted = try MultiISAObject.objects(in: container, path: containerPath)
        #expect(extracted.count == ISA.allCases.count)
        #expect(extracted[host] == container)
        for (isa, data) in foreign { #expect(extracted[isa] == data, "embedded \(isa) object must be byte-identical") }

        // Existing sections keep their indices, names and contents; symbols are unchanged.
        let before = try ELFFile(data: hostObject, path: "host.o")
        let after = try ELFFile(data: container, path: containerPath)
        #expect(Array(after.sections.prefix(before.sections.count)).map(\.name) == before.sections.map(\.name))
        for section in before.sections where section.index != before.sectionNameTableIndex {
            #expect(try after.contents(of: after.sections[section.index]) == before.contents(of: section))
        }
        #expect(try after.symbols() == before.symbols())
        let marker = try #require(after.section(named: MultiISAObject.markerSection))
        #expect(marker.flags == ELFConstants.SHF_EXCLUDE)
        for isa in foreign.keys {
            let section = try #require(after.section(named: isa.containerSection))
            #expect(section.type == ELFConstants.SHT_PROGBITS && section.flags & ELFConstants.SHF_EXCLUDE != 0)
            #expect(section.offset % 8 == 0 && section.alignment == 8)
        }

        // llvm-readelf accepts it without warnings and sees the new sections.
        let readelf = try t.run(try t.llvmTool("llvm-readelf"), ["-S", "-s", "-r", containerPath])
        #expect(readelf.stderrText.isEmpty, "llvm-readelf warned: \(readelf.stderrText)")
        #expect(readelf.stdoutText.contains(".popcorn.object"))

        // A plain link drops the embedded objects and runs.
        let exe = try t.linkMusl([containerPath], isa: host, output: "plain")
        #expect(try t.execute(exe, isa: host) == "hello 5 3\n")
        let linked = try ELFFile(contentsOf: exe)
        #expect(!linked.sections.contains { $0.name.hasPrefix(".popcorn") })

        // Embedded objects link and run on their own ISA too.
        for (isa, data) in extracted where isa != host {
            let path = t.path("embedded.\(isa).o")
            try AtomicFile.write(data, to: path)
            let exe = try t.linkMusl([path], isa: isa, output: "embedded.\(isa)")
            #expect(try t.execute(exe, isa: isa) == "hello 5 3\n")
        }

        // llvm-ar takes it, and the archive member comes back unchanged.
        let archive = t.path("libsample.a")
        try t.run(try t.tool(.ar), ["rcs", archive, containerPath])
        let members = try ArArchive(contentsOf: archive).members
        #expect(members.map(\.name) == ["container.o"])
        #expect(members.first?.data == container)
    }

    @Test func rejectsBadInputs() throws {
        let t = try TestTools()
        let objects = try sampleObjects(t)
        let host = ISA.host
        let other = ISA.foreign[0]
        #expect(throws: ELFError.self) { try MultiISAObject.build(host: objects[host]!, embedded: [host: objects[host]!]) }
        #expect(throws: ELFError.self) { try MultiISAObject.build(host: objects[host]!, embedded: [other: objects[host]!]) }
        #expect(throws: ELFError.self) { try MultiISAObject.build(host: Data("junk".utf8), embedded: [:]) }
        let container = try MultiISAObject.build(host: objects[host]!, embedded: [other: objects[other]!])
        #expect(throws: ELFError.self) { try MultiISAObject.build(host: container, embedded: [:]) }
        #expect(throws: ELFError.notContainer(path: "plain.o")) { try MultiISAObject.objects(in: objects[host]!, path: "plain.o") }

        // A marker announcing the wrong number of objects is detected.
        let file = try ELFFile(data: container, path: "c.o")
        let marker = try #require(file.section(named: MultiISAObject.markerSection))
        var corrupt = container
        corrupt.storeLE(UInt32(5), at: Int(marker.offset) + MultiISAObject.markerMagic.count + 4)
        #expect(throws: ELFError.self) { try MultiISAObject.objects(in: corrupt, path: "c.o") }
        var badVersion = container
        badVersion.storeLE(UInt32(99), at: Int(marker.offset) + MultiISAObject.markerMagic.count)
        do {
            _ = try MultiISAObject.objects(in: badVersion, path: "c.o")
            Issue.record("unsupported version accepted")
        } catch let error as ELFError {
            #expect(error.diagnostic.message.contains("format version 99"))
        }
        // Corrupting the embedded object is caught when it is read back.
        let embedded = try #require(file.section(named: other.containerSection))
        var badEmbedded = container
        badEmbedded[Int(embedded.offset)] = 0
        #expect(throws: ELFError.self) { try MultiISAObject.objects(in: badEmbedded, path: "c.o") }
    }

    /// An object with more than 0xff00 sections needs the extended-numbering escapes both when
    /// it is read and after the container adds its sections.
    @Test func manySectionsUseExtendedNumbering() throws {
        let t = try TestTools()
        let count = 65_300
        var asm = ""
        asm.reserveCapacity(count * 40)
        for i in 0..<count { asm += ".section .data.s\(i),\"aw\"\n.byte \(i % 251)\n" }
        let source = try t.write("many.s", asm)
        let hostObject = try t.compile(source, isa: .host, output: "many.o")
        let data = try Data(contentsOf: URL(fileURLWithPath: hostObject))
        let elf = try ELFFile(data: data, path: hostObject)
        #expect(elf.sections.count > Int(ELFConstants.SHN_LORESERVE))
        #expect(elf.section(named: ".data.s65299") != nil)

        let other = ISA.foreign[0]
        let small = try t.compile(try t.write("small.c", "int f(void) { return 1; }"), isa: other, output: "small.o")
        let smallData = try Data(contentsOf: URL(fileURLWithPath: small))
        let container = try MultiISAObject.build(host: data, embedded: [other: smallData])
        let containerPath = t.path("many-container.o")
        try AtomicFile.write(container, to: containerPath)
        let reread = try ELFFile(data: container, path: containerPath)
        #expect(reread.sections.count == elf.sections.count + 2)
        #expect(container[container.startIndex + 60] == 0 && container[container.startIndex + 61] == 0)
        #expect(try MultiISAObject.objects(in: container, path: containerPath)[other] == smallData)
        let readelf = try t.run(try t.llvmTool("llvm-readelf"), ["-h", containerPath])
        #expect(readelf.stdoutText.contains("\(elf.sections.count + 2)"))
        #expect(readelf.stderrText.isEmpty)
    }
}
