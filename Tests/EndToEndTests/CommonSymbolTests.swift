import Foundation
import Testing
import PopcornSupport

/// Issue 11 (4, 5): programs that rely on `-fcommon` tentative definitions, and globals with
/// names outside plain ASCII, build, run alike on both ISAs, and have every shared symbol at one
/// address (`popcorn-dump --verify` and an independent readelf comparison).
@Suite(.serialized) struct CommonSymbolTests {
    /// `shared` is tentatively defined in both files; `buf` is one int in the first file (whose
    /// copy lld keeps) and 100 in the second, which writes all of them; `wide` asks for 64-byte
    /// alignment only in the second file; `init` has a real definition in the second file that
    /// must win over the first file's tentative one. The sentinels would lie inside `buf` if it
    /// got only the first file's four bytes.
    static let first = """
    #include <stdio.h>
    int shared;
    int buf[1];
    long wide;
    int init;
    int sentinel_a, sentinel_b;
    int sentinel_c = 0;
    int fill(void);
    int check(void);
    int edges(void);
    static int inside(const void *p) {
        return (const char *)p >= (const char *)buf && (const char *)p < (const char *)buf + 100 * sizeof(int);
    }
    int main(void) {
        shared = 4;
        fill();
        int status = check();
        if (inside(&sentinel_a) || inside(&sentinel_b) || inside(&sentinel_c) || inside(&shared) || inside(&init))
            status |= 16;
        printf("shared=%d init=%d sum=%d status=%d\\n", shared, init, edges(), status);
        return status;
    }
    """
    static let second = """
    int shared;
    int buf[100];
    _Alignas(64) long wide;
    int init = 42;
    int fill(void) {
        for (int i = 0; i < 100; i++) buf[i] = i + 1;
        wide = 7;
        return 0;
    }
    int edges(void) { return buf[0] + buf[99]; }
    int check(void) {
        int sum = 0;
        for (int i = 0; i < 100; i++) sum += buf[i];
        int status = 0;
        if (sum != 5050) status |= 1;
        if (shared != 4) status |= 2;
        if ((unsigned long)&wide % 64 != 0) status |= 4;
        if (init != 42) status |= 8;
        return status;
    }
    """
    static let expected = "shared=4 init=42 sum=101 status=0\n"

    func write(_ text: String, _ name: String, in directory: String) throws {
        try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
    }

    /// Runs `prog` on every ISA, expecting `output`, then checks the alignment two ways.
    func runEverywhere(_ prog: String, expecting output: String, in work: TemporaryDirectory,
                       sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        for isa in ISA.allCases {
            let run = try Harness.run(isa.siblingPath(of: "\(work.path)/\(prog)"), isa: isa, in: work.path)
            #expect(run.succeeded && run.stdoutText == output, "\(prog) on \(isa): \(run.stdoutText)\(run.stderrText)",
                    sourceLocation: sourceLocation)
        }
        let dump = try Harness.popcornTool("popcorn-dump")
        let verify = try Harness.shell("'\(dump)' --verify \(prog) 2>&1", in: work.path)
        #expect(verify.succeeded, "\(verify.stdoutText)", sourceLocation: sourceLocation)
        let foreign = try #require(ISA.allCases.first { $0 != .host })
        let aligned = try IndependentAlignment.compare("\(work.path)/\(prog)", foreign.siblingPath(of: "\(work.path)/\(prog)"))
        #expect(aligned.mismatches.isEmpty && aligned.compared > 0, "\(aligned.mismatches)", sourceLocation: sourceLocation)
    }

    @Test(arguments: ["-O0", "-O2"])
    func tentativeDefinitionsShareOneObject(_ level: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("common")
        try write(Self.first, "a.c", in: work.path)
        try write(Self.second, "b.c", in: work.path)
        let built = try Harness.shell("'\(cc)' \(level) -fcommon a.c b.c -o prog 2>&1", in: work.path)
        #expect(built.succeeded && built.stdoutText.isEmpty, "\(built.stdoutText)")
        // The oracle: stock clang-19 and ld.lld-19 with real common symbols.
        try Harness.mustSucceed("\(Harness.plainCC(.host)) \(level) -fcommon a.c b.c -o plain", in: work.path)
        let plain = try Harness.run("\(work.path)/plain", isa: .host, in: work.path)
        #expect(plain.stdoutText == Self.expected)
        try runEverywhere("prog", expecting: Self.expected, in: work)
        // One object: every ISA's symbol table has one `shared`, `buf`, `wide` and `init`.
        for isa in ISA.allCases {
            let table = try IndependentAlignment.symbols(of: isa.siblingPath(of: "\(work.path)/prog"))
            for name in ["shared", "buf", "wide", "init"] {
                #expect(table[name]?.count == 1, "\(name) on \(isa): \(table[name] ?? [])")
            }
        }
    }

    /// Separate compilation, the way build systems do it, with the files in both orders: the
    /// chosen copy differs, the result does not.
    @Test func separateObjectsInEitherOrder() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("common-objects")
        try write(Self.first, "a.c", in: work.path)
        try write(Self.second, "b.c", in: work.path)
        try Harness.mustSucceed("'\(cc)' -O1 -fcommon -c a.c && '\(cc)' -O1 -fcommon -c b.c", in: work.path)
        try Harness.mustSucceed("'\(cc)' a.o b.o -o ab && '\(cc)' b.o a.o -o ba", in: work.path)
        try runEverywhere("ab", expecting: Self.expected, in: work)
        try runEverywhere("ba", expecting: Self.expected, in: work)
    }

    /// Without -fcommon (the default, as with clang) two tentative definitions still clash.
    @Test func theDefaultIsNoCommon() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("nocommon")
        try write(Self.first, "a.c", in: work.path)
        try write(Self.second, "b.c", in: work.path)
        let built = try Harness.shell("'\(cc)' a.c b.c -o prog 2>&1", in: work.path)
        #expect(!built.succeeded)
        #expect(built.stdoutText.contains("duplicate symbol: shared"), "\(built.stdoutText)")
    }

    /// Sections the user named with characters a linker script must quote or escape (a space,
    /// glob characters, UTF-8) or cannot hold even quoted (`"`, renamed `_` in the output).
    @Test func userSectionNamesWithScriptSyntaxLink() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("section-names")
        try write("""
        #include <stdio.h>
        int a __attribute__((section("my data*[x]"))) = 3;
        int b __attribute__((section("my dataQ[x]"))) = 4;
        int c __attribute__((section("sec\\"q"))) = 5;
        int d __attribute__((section(".data.данные"))) = 6;
        int main(void) { printf("%d %d %d %d\\n", a, b, c, d); return 0; }
        """, "s.c", in: work.path)
        let built = try Harness.shell("'\(cc)' s.c -o prog 2>&1", in: work.path)
        #expect(built.succeeded && built.stdoutText.isEmpty, "\(built.stdoutText)")
        try runEverywhere("prog", expecting: "3 4 5 6\n", in: work)
    }

    /// Globals and functions named in other scripts, with `$`, and two names of the same length
    /// in characters and bytes (`а`, `б`), which must not be mistaken for one another.
    @Test(arguments: ["-O0", "-O2"])
    func nonASCIINamesLink(_ level: String) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("utf8-names")
        try write("""
        #include <stdio.h>
        int привет = 5;
        int а = 1;
        int б = 2;
        static int 变量$x = 30;
        const char ключ_key[] = "κλειδί";
        int $dollar$ = 400;
        int zéro;
        double μ[3] = {0.5, 1.5, 2.5};
        int функция(int x) { return x + а + б + 变量$x; }
        int main(void) {
            zéro = 7;
            printf("%d %d %s %d %d %g\\n", привет, функция($dollar$), ключ_key, zéro, б - а, μ[0] + μ[1] + μ[2]);
            return 0;
        }
        """, "u.c", in: work.path)
        let built = try Harness.shell("'\(cc)' \(level) u.c -o prog 2>&1", in: work.path)
        #expect(built.succeeded && built.stdoutText.isEmpty, "\(built.stdoutText)")
        try runEverywhere("prog", expecting: "5 433 κλειδί 7 1 4.5\n", in: work)
    }
}
