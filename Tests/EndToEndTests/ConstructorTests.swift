import Foundation
import PopcornSupport
import Testing

/// `__attribute__((constructor/destructor))` with priorities, over two files, on every ISA and
/// across a migration.
@Suite(.serialized) struct ConstructorTests {
    static let main = #"""
/*
 * Prioritized constructors and destructors over two files (with lib.c): they must run as with
 * clang — constructors by ascending priority, destructors by descending priority, link order
 * within one priority — on every ISA; with an argument the program moves to the other ISA in
 * main, and the destructors then run there, once, and the constructors are not run again.
 */
#include <stdio.h>
#ifdef PLAIN_REFERENCE
/* Built with plain clang (no popcorn runtime) to compare the order: the program never moves. */
enum popcorn_isa { POPCORN_ISA_X86_64, POPCORN_ISA_AARCH64 };
static enum popcorn_isa popcorn_current_isa(void) { return POPCORN_ISA_X86_64; }
static const char *popcorn_isa_name(enum popcorn_isa isa) { return isa == POPCORN_ISA_X86_64 ? "x86_64" : "aarch64"; }
static int popcorn_migrate(enum popcorn_isa isa) { (void)isa; return -1; }
#else
#include <popcorn.h>
#endif

static int order;
__attribute__((constructor(300))) static void main_c300(void) { printf("ctor 300 main.c (%d)\n", ++order); }
__attribute__((constructor)) static void main_cdef(void) { printf("ctor default main.c (%d)\n", ++order); }
__attribute__((destructor(250))) static void main_d250(void) { printf("dtor 250 main.c\n"); }
__attribute__((destructor)) static void main_ddef(void) {
    printf("dtor default main.c on %s\n", popcorn_isa_name(popcorn_current_isa()));
}

int main(int argc, char **argv) {
    (void)argv;
    printf("main\n");
    fflush(stdout);
    if (argc > 1) {
        enum popcorn_isa other = popcorn_current_isa() == POPCORN_ISA_X86_64 ? POPCORN_ISA_AARCH64 : POPCORN_ISA_X86_64;
        if (popcorn_migrate(other) != 0) { printf("migration failed\n"); return 1; }
    }
    return 0;
}
"""#

    static let lib = #"""
#include <stdio.h>
__attribute__((constructor(150))) static void lib_c150(void) { printf("ctor 150 lib.c\n"); }
__attribute__((constructor(300))) static void lib_c300(void) { printf("ctor 300 lib.c\n"); }
__attribute__((destructor(120))) static void lib_d120(void) { printf("dtor 120 lib.c\n"); }
__attribute__((destructor(250))) static void lib_d250(void) { printf("dtor 250 lib.c\n"); }
"""#

    /// A scratch directory holding main.c and lib.c.
    static func sources(_ label: String) throws -> TemporaryDirectory {
        let work = try Harness.scratch(label)
        try main.write(toFile: work.file("main.c"), atomically: true, encoding: .utf8)
        try lib.write(toFile: work.file("lib.c"), atomically: true, encoding: .utf8)
        return work
    }

    /// clang's order: ctors 150 < 300 (main.c, then lib.c: link order) < default; dtors reversed.
    static func expected(ranOn isa: ISA) -> String {
        """
        ctor 150 lib.c
        ctor 300 main.c (1)
        ctor 300 lib.c
        ctor default main.c (2)
        main
        dtor default main.c on \(isa.rawValue)
        dtor 250 lib.c
        dtor 250 main.c
        dtor 120 lib.c

        """
    }

    static func build() throws -> TemporaryDirectory {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try sources("ctors")
        try Harness.mustSucceed("'\(cc)' -O2 main.c lib.c -o prog", in: work.path)
        return work
    }

    @Test(arguments: ISA.allCases)
    func runInPriorityOrderOnEveryISA(_ isa: ISA) throws {
        let work = try Self.build()
        let run = try Harness.run(work.file(isa.siblingPath(of: "prog")), isa: isa, in: work.path)
        #expect(run.succeeded, "\(run.stderrText)")
        #expect(run.stdoutText == Self.expected(ranOn: isa))
    }

    @Test func plainClangGivesTheSameOrder() throws {
        let work = try Self.sources("ctors-reference")
        try Harness.mustSucceed("\(Harness.plainCC(ISA.host)) -O2 -DPLAIN_REFERENCE main.c lib.c -o ref", in: work.path)
        let reference = try Harness.run(work.file("ref"), isa: ISA.host, in: work.path)
        #expect(reference.stdoutText == Self.expected(ranOn: .x86_64))
    }

    @Test(arguments: ISA.allCases)
    func destructorsRunOnceOnTheISAMovedTo(_ start: ISA) throws {
        let work = try Self.build()
        let destination = ISA.allCases.first { $0 != start }!
        let run = try Harness.run(work.file(start.siblingPath(of: "prog")), isa: start, arguments: ["move"], in: work.path)
        #expect(run.succeeded, "\(run.stderrText)")
        #expect(run.stdoutText == Self.expected(ranOn: destination))
    }
}
