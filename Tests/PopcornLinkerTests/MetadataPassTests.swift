import Foundation
import Testing
import PopcornELF
import PopcornMetadata
import PopcornSupport
@testable import PopcornLinker

/// The metadata pass and the section appender, on binaries linked by popcorn-ld from fixtures
/// with hand-written stackmaps (stock LLVM, no popcorn-cc).
@Suite(.serialized) struct MetadataPassTests {
    /// IR with two calls followed by stackmaps; `ids` are the stackmap IDs. The second call
    /// keeps `%x` live across it, so its record has one location. The call results are unused:
    /// a used result would be copied out of the return register between call and stackmap.
    static func module(ids: (UInt64, UInt64)) -> String {
        """
        target datalayout = "e-m:e-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128"
        declare void @llvm.experimental.stackmap(i64, i32, ...)
        declare i32 @puts(ptr)
        @msg = private unnamed_addr constant [6 x i8] c"hello\\00"
        define i32 @work(i32 %x) {
          %a = call i32 @puts(ptr @msg)
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 \(ids.0), i32 0)
          %b = call i32 @puts(ptr @msg)
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 \(ids.1), i32 0, i32 %x)
          %s = add i32 %x, 1
          ret i32 %s
        }
        define i32 @main() {
          %r = call i32 @work(i32 7)
          ret i32 0
        }
        """
    }

    /// Lowers one IR module per ISA (normally the same text) into a popcorn container.
    static func container(_ modules: [ISA: String], to output: String, in dir: TemporaryDirectory) throws {
        var objects: [ISA: Data] = [:]
        for isa in ISA.allCases {
            let ll = dir.file("\((output as NSString).lastPathComponent).\(isa.rawValue).ll")
            let obj = ll + ".o"
            try Data(modules[isa]!.utf8).write(to: URL(fileURLWithPath: ll))
            try Fixtures.run("llc-19", ["-mtriple=\(isa.triple)", "-filetype=obj", "-function-sections",
                                        "-data-sections", "-relocation-model=static", "-frame-pointer=all", ll, "-o", obj])
            objects[isa] = try Data(contentsOf: URL(fileURLWithPath: obj))
        }
        let host = objects.removeValue(forKey: ISA.host)!
        try MultiISAObject.build(host: host, embedded: objects).write(to: URL(fileURLWithPath: output))
    }

    static func bothISAs(_ text: String) -> [ISA: String] {
        Dictionary(uniqueKeysWithValues: ISA.allCases.map { ($0, text) })
    }

    @Test func everyBinaryCarriesItsOwnISAsVerifiedTable() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-meta")
        let runtime = try Fixtures.runtime(in: dir)
        try Self.container(Self.bothISAs(Self.module(ids: (0x1111, 0x2222))), to: dir.file("w.o"), in: dir)
        let app = dir.file("app")
        let result = Fixtures.link([dir.file("w.o"), "-o", app, "-v"], runtime: runtime)
        #expect(result.status == 0, "\(result.messages)")
        guard result.status == 0 else { return }
        for isa in ISA.allCases {
            #expect(result.messages.contains { $0.contains("\(isa): 2 call sites,") && $0.contains("bytes of metadata") },
                    "\(result.messages)")
        }

        var hashes: Set<UInt64> = []
        for isa in ISA.allCases {
            let path = isa.siblingPath(of: app)
            let file = try ELFFile(contentsOf: path)
            let meta = try #require(file.section(named: ".popcorn.meta"))
            #expect(!meta.isAllocated)
            #expect(meta.type == ELFConstants.SHT_PROGBITS)
            let tables = try MetadataReader.read(file)
            // A binary carries its own ISA's table; a move reads the destination's from its binary.
            #expect(tables.map(\.isa) == [isa])
            hashes.formUnion(tables.map(\.siteSetHash))
            for table in tables {
                // Sites 0x1111 and 0x2222, in ID order (the format stores positions, not IDs).
                #expect(table.callSites.map(\.id) == [0, 1])
                #expect(table.functions.map(\.name) == ["work"])
                #expect(table.callSites[1].liveValues.count == 1)
            }
            // Still runs after the section was appended.
            let run = try Fixtures.execute(path, isa: isa)
            #expect(run.status == 0 && run.stdoutText == "hello\nhello\n", "\(isa): \(run.stderrText)")
        }
        #expect(hashes.count == 1, "the binaries' tables describe different call sites")
    }

    @Test func strippedBinariesKeepTheMetadata() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-meta")
        let runtime = try Fixtures.runtime(in: dir)
        try Self.container(Self.bothISAs(Self.module(ids: (5, 6))), to: dir.file("w.o"), in: dir)
        let app = dir.file("app")
        let result = Fixtures.link([dir.file("w.o"), "-s", "-o", app], runtime: runtime)
        #expect(result.status == 0, "\(result.messages)")
        for isa in ISA.allCases {
            let file = try ELFFile(contentsOf: isa.siblingPath(of: app))
            #expect(!file.hasSymbolTable)
            let tables = try MetadataReader.read(file)
            // Names were taken from the unstripped link.
            #expect(tables.allSatisfy { $0.functions.map(\.name) == ["work"] && $0.callSites.count == 2 })
        }
    }

    @Test func unpairedCallSitesFailTheLinkAndWriteNothing() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-meta")
        let runtime = try Fixtures.runtime(in: dir)
        var modules = Self.bothISAs(Self.module(ids: (0x10, 0x20)))
        modules[.aarch64] = Self.module(ids: (0x10, 0x30))
        try Self.container(modules, to: dir.file("w.o"), in: dir)
        let app = dir.file("app")
        let result = Fixtures.link([dir.file("w.o"), "-o", app], runtime: runtime)
        #expect(result.status == 1)
        #expect(result.messages.count == 1 && result.messages[0].hasPrefix("popcorn-ld: error: ")
                && result.messages[0].contains("'work'"), "\(result.messages)")
        for isa in ISA.allCases { #expect(!FileManager.default.fileExists(atPath: isa.siblingPath(of: app))) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func programsWithoutStackmapsGetEmptyTables() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-meta")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile("int main(void) { return 0; }", to: dir.file("m.o"), in: dir)
        let app = dir.file("app")
        let result = Fixtures.link([dir.file("m.o"), "-o", app], runtime: runtime)
        #expect(result.status == 0, "\(result.messages)")
        for isa in ISA.allCases {
            let tables = try MetadataReader.read(try ELFFile(contentsOf: isa.siblingPath(of: app)))
            #expect(tables.map(\.isa) == [isa])
            #expect(tables.allSatisfy { $0.callSites.isEmpty && $0.functions.isEmpty })
        }
    }

    /// Mixed programs: one object with stackmaps, one without.
    @Test func mixedObjectsLink() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-meta")
        let runtime = try Fixtures.runtime(in: dir)
        let withMaps = Self.module(ids: (0xa, 0xb)).replacingOccurrences(of: "define i32 @main()", with: "define i32 @unused_main()")
        try Self.container(Self.bothISAs(withMaps), to: dir.file("w.o"), in: dir)
        try Fixtures.compile("int work(int); int main(void) { return work(1) > 0 ? 0 : 1; }", to: dir.file("m.o"), in: dir)
        let app = dir.file("app")
        let result = Fixtures.link([dir.file("m.o"), dir.file("w.o"), "-o", app], runtime: runtime)
        #expect(result.status == 0, "\(result.messages)")
        let tables = try MetadataReader.read(try ELFFile(contentsOf: app))
        // Two sites, and they are w.o's 0xa and 0xb (the header's hash is over the IDs).
        #expect(tables.allSatisfy { $0.callSites.count == 2 && $0.siteSetHash == StackTransformMetadata.siteSetHash(of: [0xa, 0xb]) })
    }

    /// The appender changes nothing that is loaded: same program headers, same bytes in every
    /// segment, same allocated sections; the new section reads back exactly.
    @Test func appenderLeavesLoadedBytesAlone() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-meta")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile("int main(void) { return 0; }", to: dir.file("m.o"), in: dir)
        let app = dir.file("app")
        #expect(Fixtures.link([dir.file("m.o"), "-o", app], runtime: runtime).status == 0)
        for isa in ISA.allCases {
            let original = try ELFFile(contentsOf: isa.siblingPath(of: app))
            let payload = Data((0..<77).map { UInt8($0 * 3 & 0xff) })
            let data = try SectionAppender.appending(section: ".popcorn.test", contents: payload, to: original.data, path: "x")
            let updated = try ELFFile(data: data, path: "x")
            #expect(updated.programHeaders == original.programHeaders)
            // The text segment loads the ELF header too; only e_shoff and e_shnum may change.
            let changed: Set<Int> = Set(0x28..<0x30).union(0x3c..<0x3e)
            let before = [UInt8](original.data), after = [UInt8](updated.data)
            for segment in original.programHeaders where segment.filesz > 0 {
                let range = Int(segment.offset)..<Int(segment.offset + segment.filesz)
                let differing = range.filter { !changed.contains($0) && before[$0] != after[$0] }
                #expect(differing.isEmpty, "\(isa): segment at 0x\(String(segment.vaddr, radix: 16)) changed at \(differing.prefix(4))")
            }
            #expect(updated.sections.dropLast().map(\.name) == original.sections.map(\.name))
            #expect(updated.sections.filter(\.isAllocated) == original.sections.filter(\.isAllocated))
            let added = try #require(updated.section(named: ".popcorn.test"))
            #expect(added.offset % 8 == 0 && added.flags == 0 && added.address == 0)
            #expect(try updated.contents(of: added) == payload)
            // llvm-readelf agrees (an independent parser).
            let path = dir.file("appended.\(isa.rawValue)")
            try data.write(to: URL(fileURLWithPath: path))
            let listing = try Fixtures.run("llvm-readelf-19", ["-S", "--wide", path]).stdoutText
            #expect(listing.contains(".popcorn.test"))
            #expect(throws: LinkerError.self) {
                try SectionAppender.appending(section: ".popcorn.test", contents: payload, to: data, path: "x")
            }
        }
        #expect(throws: LinkerError.self) {
            try SectionAppender.appending(section: ".x", contents: Data(), to: Data("not elf".utf8), path: "x")
        }
    }

    /// Removing non-allocated sections while appending: they are gone, the names and indices of
    /// the others are renumbered consistently, and nothing loaded moves. Removing an allocated
    /// section is refused.
    @Test func appenderRemovesNonAllocatedSections() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-meta")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile("int main(void) { return 0; }", to: dir.file("m.o"), in: dir)
        let app = dir.file("app")
        #expect(Fixtures.link([dir.file("m.o"), "-o", app], runtime: runtime).status == 0)
        let original = try ELFFile(contentsOf: app)
        let junk = Data(repeating: 0xab, count: 4000)
        let withJunk = try SectionAppender.appending(section: ".popcorn.junk", contents: junk, to: original.data, path: "x")
        let payload = Data((0..<40).map { UInt8($0) })
        let data = try SectionAppender.appending(section: ".popcorn.test", contents: payload,
                                                 removing: [".popcorn.junk", ".comment"], to: withJunk, path: "x")
        let updated = try ELFFile(data: data, path: "x")
        #expect(updated.section(named: ".popcorn.junk") == nil && updated.section(named: ".comment") == nil)
        #expect(try updated.contents(of: try #require(updated.section(named: ".popcorn.test"))) == payload)
        #expect(updated.programHeaders == original.programHeaders)
        #expect(updated.sections.filter(\.isAllocated) == original.sections.filter(\.isAllocated))
        #expect(updated.sections.map(\.name) == original.sections.map(\.name).filter { $0 != ".comment" } + [".popcorn.test"])
        #expect(data.count < withJunk.count, "the removed bytes are not kept in the file")
        let changed: Set<Int> = Set(0x28..<0x30).union(0x3c..<0x40)
        let before = [UInt8](original.data), after = [UInt8](data)
        for segment in original.programHeaders where segment.filesz > 0 {
            let range = Int(segment.offset)..<Int(segment.offset + segment.filesz)
            #expect(!range.contains { !changed.contains($0) && before[$0] != after[$0] })
        }
        let path = dir.file("removed")
        try data.write(to: URL(fileURLWithPath: path))
        let listing = try Fixtures.run("llvm-readelf-19", ["-S", "-s", "--wide", path])
        #expect(listing.stderrText.isEmpty, "\(listing.stderrText)")
        #expect(!listing.stdoutText.contains(".popcorn.junk"))
        #expect(throws: LinkerError.self) {
            try SectionAppender.appending(section: ".popcorn.other", contents: payload, removing: [".text"],
                                          to: original.data, path: "x")
        }
    }

    /// The symbols of generated names (popcorn-cc's names for string literals and other private
    /// constants) leave the finished binaries; other local symbols, data and code, stay, and the
    /// string table holds only the names left (read back with llvm-readelf).
    @Test func generatedDataSymbolsLeaveTheBinaries() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-names")
        let runtime = try Fixtures.runtime(in: dir)
        let generated = GeneratedSymbolNames.prefix + "0123456789ab.str"
        try Fixtures.compile("""
            static const char greeting[] __asm__("\(generated)") = "hello";
            static int counter;
            static __attribute__((noinline)) int bump(int x) { return counter += x; }
            __attribute__((noinline)) const char *pick(int i) { return i ? greeting : 0; }
            int main(int argc, char **argv) { return (pick(argc)[4] == 'o') + bump(argc) - argc - 1; }
            """, to: dir.file("m.o"), in: dir)
        let app = dir.file("app")
        #expect(Fixtures.link([dir.file("m.o"), "-o", app], runtime: runtime).status == 0)
        for isa in ISA.allCases {
            let binary = isa.siblingPath(of: app)
            let names = Set(try ELFFile(contentsOf: binary).symbols().map(\.name))
            #expect(!names.contains(generated), "\(isa)")
            #expect(names.isSuperset(of: ["counter", "bump", "pick", "main"]), "\(isa): \(names.sorted())")
            let listing = try Fixtures.run("llvm-readelf-19", ["-s", "-p", ".strtab", "--wide", binary])
            #expect(listing.stderrText.isEmpty, "\(listing.stderrText)")
            #expect(!listing.stdoutText.contains(GeneratedSymbolNames.prefix), "\(isa)")
            #expect(try Fixtures.execute(binary, isa: isa).status == 0, "\(isa)")
        }
    }

    /// lld keeps every object's `.comment` string at `-O0`; the appender keeps each once (read
    /// back with llvm-readelf, which lists every string of the section).
    @Test func commentStringsAreKeptOnce() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-comment")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile("int f(void) { return 1; }", to: dir.file("f.o"), in: dir)
        try Fixtures.compile("int f(void); int main(void) { return f() - 1; }", to: dir.file("m.o"), in: dir)
        let app = dir.file("app")
        #expect(Fixtures.link([dir.file("m.o"), dir.file("f.o"), "-o", app], runtime: runtime).status == 0)
        for binary in [app, app + ".aarch64"] {
            let listing = try Fixtures.run("llvm-readelf-19", ["-p", ".comment", binary])
            let strings = listing.stdoutText.split(separator: "\n").filter { $0.contains("]") }
                .map { $0.split(separator: "]", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) }
            #expect(strings.contains { $0.contains("clang version") }, "\(listing.stdoutText)")
            #expect(Set(strings).count == strings.count, "\(binary): \(strings)")
        }
        #expect(SectionAppender.distinctStrings(Array("\0a\0b\0a\0\0tail".utf8)) == Array("\0a\0b\0tail".utf8))
    }
}
