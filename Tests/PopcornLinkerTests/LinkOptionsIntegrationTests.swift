import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornLinker

@Suite(.serialized) struct LinkOptionsIntegrationTests {
    static let program = """
    #include <stdio.h>
    static const char *names[] = {"zero", "one", "two"};
    int main(int argc, char **argv) { printf("%s\\n", names[argc]); return argc; }
    """

    @Test func stripAllStillVerifiesAndRuns() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-test")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile(Self.program, to: dir.file("p.o"), in: dir)
        let result = Fixtures.link([dir.file("p.o"), "-s", "-o", dir.file("app")], runtime: runtime)
        #expect(result.status == 0, "\(result.messages)")
        for isa in ISA.allCases {
            let path = isa.siblingPath(of: dir.file("app"))
            #expect(try !ELFFile(contentsOf: path).hasSymbolTable)
            let run = try Fixtures.execute(path, isa: isa)
            #expect(run.status == 1 && run.stdoutText == "one\n", "\(isa)")
        }
    }

    @Test func verboseReportsCommandsAndSummaries() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-test")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile(Self.program, to: dir.file("p.o"), in: dir)
        let result = Fixtures.link(["-v", dir.file("p.o"), "-o", dir.file("app")], runtime: runtime)
        #expect(result.status == 0, "\(result.messages)")
        #expect(result.messages.filter { $0.contains("ld.lld") && $0.contains("-Map=") }.count == 2 * ISA.allCases.count)
        for isa in ISA.allCases { #expect(result.messages.contains { $0.hasPrefix("popcorn-ld: \(isa):") }) }
        #expect(result.messages.contains { $0.contains("symbols verified") })
    }

    @Test func corruptArchiveAndMissingLibraryAreErrors() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-test")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile(Self.program, to: dir.file("p.o"), in: dir)
        try Data("!<arch>\nbroken-member-header".utf8).write(to: URL(fileURLWithPath: dir.file("libbad.a")))
        let bad = Fixtures.link([dir.file("p.o"), dir.file("libbad.a"), "-o", dir.file("app")], runtime: runtime)
        #expect(bad.status == 1)
        #expect(bad.messages.count == 1 && bad.messages[0].contains("libbad.a"), "\(bad.messages)")
        let missing = Fixtures.link([dir.file("p.o"), "-lnosuchlib", "-o", dir.file("app")], runtime: runtime)
        #expect(missing.status == 1)
        #expect(missing.messages.first?.hasPrefix("popcorn-ld: error: unable to find library -lnosuchlib") == true,
                "\(missing.messages)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("app")))
    }

    @Test func archiveMemberThatIsNotPopcornIsNamed() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-test")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile(Self.program, to: dir.file("p.o"), in: dir)
        let c = dir.file("plain.c")
        try Data("int plain(void) { return 1; }\n".utf8).write(to: URL(fileURLWithPath: c))
        try Fixtures.run("clang-19", ["--target=\(ISA.host.triple)", "-nostdinc", "-c", c, "-o", dir.file("plain.o")])
        try Fixtures.run("llvm-ar-19", ["rc", dir.file("libmixed.a"), dir.file("plain.o")])
        let result = Fixtures.link([dir.file("p.o"), dir.file("libmixed.a"), "-o", dir.file("app")], runtime: runtime)
        #expect(result.messages == ["popcorn-ld: error: '\(dir.file("libmixed.a"))(plain.o)': not a popcorn multi-ISA object (compile it with popcorn-cc)"])
    }
}
