import Foundation
import PopcornSupport
import Testing

/// `__attribute__((constructor/destructor))` with priorities, over two files, on every ISA and
/// across a migration (the programs are in Tests/Inputs/constructors).
@Suite(.serialized) struct ConstructorTests {
    static let directory = "\(Harness.root)/Tests/Inputs/constructors"

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
        let work = try Harness.scratch("ctors")
        try Harness.mustSucceed("'\(cc)' -O2 '\(directory)/main.c' '\(directory)/lib.c' -o prog", in: work.path)
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
        let work = try Harness.scratch("ctors-reference")
        try Harness.mustSucceed("\(Harness.plainCC(ISA.host)) -O2 -DPLAIN_REFERENCE '\(Self.directory)/main.c' "
                                + "'\(Self.directory)/lib.c' -o ref", in: work.path)
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
