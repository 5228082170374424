import Foundation
import Testing
import PopcornSupport
@testable import PopcornELF

@Suite struct ArArchiveTests {
    /// Members with short, long (> 15 characters) and duplicate names, as llvm-ar writes them.
    private func makeArchive(_ t: TestTools, format: String = "gnu") throws -> (path: String, files: [(String, Data)]) {
        var files: [(String, Data)] = []
        for (dir, name, body) in [("a", "short.o", "int s(void){return 1;}"),
                                  ("a", "a_rather_long_member_name.o", "int l(void){return 2;}"),
                                  ("b", "short.o", "int s2(void){return 3;}"),
                                  ("a", "odd.o", "char odd_sized = 1;")] {
            let src = try t.write("\(dir)/\(name).c", body)
            let obj = try t.compile(src, isa: .host, output: "\(dir)/\(name)")
            files.append((obj, try Data(contentsOf: URL(fileURLWithPath: obj))))
        }
        let archive = t.path("lib\(format).a")
        try t.run(try t.tool(.ar), ["rcs", "--format=\(format)", archive] + files.map(\.0))
        return (archive, files)
    }

    @Test(arguments: ["gnu", "bsd"])
    func readsLLVMArArchives(format: String) throws {
        let t = try TestTools()
        let (archive, files) = try makeArchive(t, format: format)
        let data = try Data(contentsOf: URL(fileURLWithPath: archive))
        #expect(ArArchive.isArchive(data))
        let parsed = try ArArchive(contentsOf: archive)
        #expect(parsed.members.map(\.name) == files.map { ($0.0 as NSString).lastPathComponent })
        #expect(parsed.members.map(\.data) == files.map(\.1))
        if format == "gnu" {
            // llvm-ar's index: each global to its member (first of two `short.o` for `s`).
            #expect(parsed.symbolIndex == ["s": 0, "l": 1, "s2": 2, "odd_sized": 3])
            // A damaged index leaves the archive readable, without an index.
            var damaged = [UInt8](data)
            let body = 8 + 60
            damaged[body] = 0x7f // an entry count far beyond the index
            let reread = try ArArchive(data: Data(damaged), path: archive)
            #expect(reread.symbolIndex == nil && reread.members.map(\.data) == files.map(\.1))
        } else {
            #expect(parsed.symbolIndex == nil)
        }
    }

    @Test func writtenArchivesAreReadByLLVMArAndLinkedByLLD() throws {
        let t = try TestTools()
        let main = try t.compile(try t.write("main.c", "int l(void); int s(void); int main(void){ return l() + s() == 3 ? 0 : 1; }"),
                                 isa: .host, output: "main.o")
        let (_, files) = try makeArchive(t)
        let members = files.map { ArArchive.Member(name: ($0.0 as NSString).lastPathComponent, data: $0.1) }
        let written = ArArchive.write(members: members)
        let path = t.path("libwritten.a")
        try AtomicFile.write(written, to: path)

        #expect(try ArArchive(data: written, path: path).members == members)
        let listing = try t.run(try t.tool(.ar), ["t", path]).stdoutText
        #expect(listing.split(separator: "\n").map(String.init) == members.map(\.name))
        let extracted = try t.run(try t.tool(.ar), ["p", path, "a_rather_long_member_name.o"]).stdout
        #expect(extracted == members[1].data)
        // ld.lld builds its own index, so the archive links without a symbol table.
        let exe = try t.linkMusl([main, path], isa: .host, output: "linked")
        let result = try ProcessRunner.run(exe, [])
        #expect(result.status == 0)
    }

    @Test func rejectsThinAndBrokenArchives() throws {
        let t = try TestTools()
        let (_, files) = try makeArchive(t)
        let thin = t.path("thin.a")
        try t.run(try t.tool(.ar), ["rcsT", thin, files[0].0])
        #expect(ArArchive.isArchive(try Data(contentsOf: URL(fileURLWithPath: thin))))
        #expect(throws: ArchiveError.thinArchive(path: thin)) { try ArArchive(contentsOf: thin) }
        #expect(throws: ArchiveError.notArchive(path: "x.a")) { try ArArchive(data: Data("not an archive".utf8), path: "x.a") }
        #expect(throws: ArchiveError.self) { try ArArchive(contentsOf: t.path("missing.a")) }

        let good = ArArchive.write(members: files.map { ArArchive.Member(name: ($0.0 as NSString).lastPathComponent, data: $0.1) })
        // Every truncation inside a header or body is an error (cutting exactly between
        // members, or only the final pad byte, legitimately yields a shorter valid archive).
        var errors = 0
        for length in 8..<good.count {
            do { _ = try ArArchive(data: good.prefix(length), path: "t.a") } catch is ArchiveError { errors += 1 }
        }
        #expect(errors >= good.count - 8 - files.count * 2)
        // Corrupt size fields and long-name references.
        for offset in 8..<min(good.count, 400) {
            var corrupt = good
            corrupt[offset] = UInt8(ascii: "9")
            do { _ = try ArArchive(data: corrupt, path: "t.a") } catch is ArchiveError {}
            corrupt[offset] = 0xff
            do { _ = try ArArchive(data: corrupt, path: "t.a") } catch is ArchiveError {}
        }
    }
}
