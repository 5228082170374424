import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornLinker

@Suite(.serialized) struct LinkIntegrationTests {
    static let main = """
    #include <stdio.h>
    #include <string.h>
    static __thread int counter = 3;
    __thread long zeroed;
    __thread char big[40] __attribute__((aligned(32)));
    const char *greeting = "hello from popcorn";
    int table[4] = {1, 2, 3, 4};
    int helper(int);
    int __popcorn_runtime_probe(void);
    int main(void) {
        counter += 4; zeroed = 5; big[3] = 'x';
        int (*fp)(int) = helper;
        printf("%s %d %ld %c %d %d\\n", greeting, counter, zeroed, big[3], fp(table[2]), __popcorn_runtime_probe());
        puts(strchr(greeting, 'p'));
        return 0;
    }
    """
    static let lib = """
    static int calls;
    int helper(int x) { calls++; return x * 10 + calls; }
    """

    /// Symbol addresses read with llvm-nm, independently of our ELF reader.
    static func nm(_ path: String) throws -> [String: String] {
        let out = try Fixtures.run("llvm-nm-19", ["--defined-only", "--no-sort", path]).stdoutText
        var table: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, "TtDdBbRrV".contains(parts[1]) else { continue }
            table[String(parts[2])] = String(parts[0])
        }
        return table
    }

    @Test func linksRunsAndAligns() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-test")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile(Self.main, to: dir.file("main.o"), in: dir)
        try Fixtures.compile(Self.lib, to: dir.file("helper.o"), in: dir)
        try Fixtures.run("llvm-ar-19", ["rc", dir.file("libhelper.a"), dir.file("helper.o")])
        let app = dir.file("app")
        let result = Fixtures.link([dir.file("main.o"), "-L", dir.path, "-lhelper", "-lm", "-o", app,
                                    "-Map", dir.file("app.map")], runtime: runtime)
        #expect(result.status == 0, "\(result.messages)")
        guard result.status == 0 else { return }

        var symbolTables: [ISA: [String: String]] = [:]
        for isa in ISA.allCases {
            let binary = isa.siblingPath(of: app)
            let run = try Fixtures.execute(binary, isa: isa)
            #expect(run.status == 0, "\(isa): \(run.stderrText)")
            #expect(run.stdoutText == "hello from popcorn 7 5 x 31 42\npopcorn\n", "\(isa)")
            symbolTables[isa] = try Self.nm(binary)
            #expect(FileManager.default.fileExists(atPath: isa.siblingPath(of: dir.file("app.map"))))
        }
        let host = symbolTables[ISA.host]!
        for name in ["main", "helper", "greeting", "table", "counter", "zeroed", "big", "printf", "puts",
                     "strchr", "__popcorn_runtime_probe", "__stdout_FILE", "_start"] {
            #expect(host[name] != nil, "\(name) missing")
            for isa in ISA.foreign { #expect(symbolTables[isa]![name] == host[name], "\(name) on \(isa)") }
        }
        // The TLS segment has the same start and alignment everywhere (llvm-readelf, independently).
        let tls = try ISA.allCases.map { isa in
            try Fixtures.run("llvm-readelf-19", ["-lW", isa.siblingPath(of: app)]).stdoutText
                .split(separator: "\n").first { $0.contains(" TLS ") }.map { $0.split(separator: " ") }
        }
        #expect(tls.allSatisfy { $0 != nil })
        #expect(Set(tls.compactMap { $0.map { [$0[2], $0[7]] } }).count == 1)
    }

    @Test func rejectsPlainObjectAndLeavesNothing() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-test")
        let runtime = try Fixtures.runtime(in: dir)
        let c = dir.file("plain.c")
        try Data("int main(void) { return 0; }\n".utf8).write(to: URL(fileURLWithPath: c))
        try Fixtures.run("clang-19", ["--target=\(ISA.host.triple)", "-nostdinc", "-c", c, "-o", dir.file("plain.o")])
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        let result = Fixtures.link([dir.file("plain.o"), "-o", dir.file("app")], runtime: runtime)
        #expect(result.status == 1)
        #expect(result.messages == ["popcorn-ld: error: '\(dir.file("plain.o"))': not a popcorn multi-ISA object (compile it with popcorn-cc)"])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == before)
    }

    @Test func missingRuntimeIsReported() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-test")
        try Fixtures.compile("int main(void) { return 0; }", to: dir.file("m.o"), in: dir)
        let result = Fixtures.link([dir.file("m.o"), "-o", dir.file("app")], runtime: nil)
        #expect(result.status == 1)
        #expect(result.messages.first?.contains("popcorn runtime") == true, "\(result.messages)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("app")))
    }
}
