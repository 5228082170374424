import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Calls to C library functions get no stackmap; the library's names come from musl's archives.
struct LibraryFunctionsTests {
    /// A GNU `ar` archive holding only a symbol index with `names`.
    static func archive(_ names: [String], declaredSize: Int? = nil) -> Data {
        var body = Data()
        func be32(_ v: Int) { withUnsafeBytes(of: UInt32(v).bigEndian) { body.append(contentsOf: $0) } }
        be32(names.count)
        for _ in names { be32(0) }
        for name in names { body.append(contentsOf: Array(name.utf8) + [0]) }
        func field(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        let header = field("/", 16) + field("0", 12) + field("0", 6) + field("0", 6) + field("0", 8)
            + field(String(declaredSize ?? body.count), 10) + "`\n"
        return Data("!<arch>\n".utf8) + Data(header.utf8) + body
    }

    @Test func symbolIndexIsReadAndMalformedIndexesAreRejected() {
        #expect(LibraryFunctions.symbolIndex(of: Self.archive(["strcmp", "qsort", "environ"])) == ["strcmp", "qsort", "environ"])
        #expect(LibraryFunctions.symbolIndex(of: Self.archive([])) == [])
        #expect(LibraryFunctions.symbolIndex(of: Self.archive(["strcmp"], declaredSize: 4000)) == nil, "size past the end")
        #expect(LibraryFunctions.symbolIndex(of: Data("!<arch>\n".utf8)) == nil)
        #expect(LibraryFunctions.symbolIndex(of: Data("not an archive at all, not at all, not at all, not at all, no".utf8)) == nil)
        var truncated = Self.archive(["strcmp", "qsort"])
        truncated.removeLast(3)
        #expect(LibraryFunctions.symbolIndex(of: truncated) == nil)
    }

    @Test func onlyTheSymbolIndexMemberIsReadFromAFile() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-armap")
        let path = directory.file("lib.a")
        // The index, then what would be the archive's other members.
        try AtomicFile.write(Self.archive(["strcmp", "qsort"]) + Data(repeating: 0x41, count: 5000), to: path)
        let member = try #require(LibraryFunctions.symbolIndexMember(of: path))
        #expect(member.count < 200)
        #expect(LibraryFunctions.symbolIndex(of: member) == ["strcmp", "qsort"])
        #expect(LibraryFunctions.symbolIndexMember(of: directory.file("missing.a")) == nil)
    }

    @Test func muslDefinesTheCLibraryOnBothISAs() {
        let musl = LibraryFunctions.musl
        for name in ["strcmp", "printf", "qsort", "malloc", "floor", "memcpy"] { #expect(musl.contains(name), "\(name)") }
        #expect(!musl.contains("main"))
        #expect(!musl.contains("__popcorn_migrate_point_slow"))
    }

    @Test func callsToLibraryFunctionsGetNoStackmap() throws {
        let module = try IRModule(ir: MigrationTestSupport.header + """

        declare i32 @strcmp(ptr, ptr)
        declare i32 @user(ptr)
        define i32 @qsort(ptr %p) {
          %r = call i32 @user(ptr %p)
          ret i32 %r
        }
        define i32 @f(ptr %a, ptr %b) {
          %x = call i32 @strcmp(ptr %a, ptr %b)
          %y = call i32 @user(ptr %a)
          %z = call i32 @qsort(ptr %b)
          %s = add i32 %x, %y
          %t = add i32 %s, %z
          ret i32 %t
        }
        """)
        let library = LibraryFunctions(names: ["strcmp", "qsort"])
        var maps = StackMaps()
        maps.library = library
        let records = maps.run(on: module.ref)
        try module.verify()
        // strcmp is the library's; user is not; qsort is defined right here, so it is the program's.
        #expect(records.filter { $0.function == "f" }.map(\.callee) == ["user", "qsort"])
    }
}
