import Foundation
import Testing
import PopcornSupport

/// The portable C library (docs/LIBC.md): musl compiled by popcorn-cc, one IR for both ISAs.
/// Programs in Tests/Inputs/libc and Tests/Inputs/fp run on both ISAs and moved at many points;
/// their output must not depend on where they ran.
@Suite(.serialized) struct PortableLibcTests {
    static let directory = "\(Harness.root)/Tests/Inputs"

    /// Builds `source` (relative to Tests/Inputs) against the portable C library, with `flags`.
    static func build(_ source: String, flags: String = "-O2") throws -> TemporaryDirectory {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("libc")
        try Harness.mustSucceed("'\(cc)' -fpopcorn-libc=portable \(flags) '\(directory)/\(source)' -o prog -lm -lpthread",
                                in: work.path)
        return work
    }

    static func run(_ work: TemporaryDirectory, on isa: ISA, environment: String = "") throws -> ProcessResult {
        try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: environment, arguments: ""), in: work.path)
    }

    /// `count` points spread over a run of `total` points, away from both ends.
    static func spread(_ count: Int, over total: Int) -> [Int] {
        (1...count).map { max(1, total * $0 / (count + 1)) }
    }

    /// Every translated system call of the x86_64 layer (docs/ABI.md) has a check here.
    @Test func systemCallsAreTranslatedOnEveryISA() throws {
        let work = try Self.build("libc/syscalls.c")
        var outputs: [String] = []
        for isa in ISA.allCases {
            let result = try Self.run(work, on: isa)
            #expect(result.succeeded, "\(isa): \(result.stdoutText)\(result.stderrText)")
            #expect(result.stdoutText.hasSuffix("failures: 0\n"), "\(isa):\n\(result.stdoutText)")
            #expect(!result.stdoutText.contains("FAILED"))
            outputs.append(result.stdoutText)
        }
        #expect(Set(outputs).count == 1, "the checks differ between the ISAs")
    }

    /// The heap file (docs/LIBC.md): malloc's memory is pages of a memfd until the process forks
    /// or starts a thread, and behaves as private memory all along — calloc reads zeros after a
    /// free, realloc keeps the contents, a forked child's writes stay in the child, a thread's
    /// start keeps every byte — on both ISAs, unmoved and moved at points before and after the
    /// fork (the heap handed over as a file, then copied as private memory).
    @Test(arguments: ISA.allCases)
    func heapFileBehavesAsPrivateMemory(_ isa: ISA) throws {
        let work = try Self.build("libc/heap_file.c")
        for mode in ["", "thread"] {
            let plain = try Harness.shell(try ProcessMoveTests.command(isa: isa, environment: "POPCORN_STATS=1", arguments: mode),
                                          in: work.path)
            #expect(plain.succeeded, "\(isa) \(mode): \(plain.stderrText)")
            let lines = plain.stdoutText.split(separator: "\n")
            #expect(lines.count == (mode == "thread" ? 13 : 11) && lines.allSatisfy { $0.hasSuffix(": ok") },
                    "\(isa) \(mode):\n\(plain.stdoutText)")
            let total = try #require(Harness.stat("migration points", in: plain.stderrText))
            var hops = Self.spread(6, over: total).map { [$0] }
            hops.append(Self.spread(3, over: total))
            for points in hops {
                let list = points.map(String.init).joined(separator: ",")
                let moved = try Harness.shell(try ProcessMoveTests.command(
                    isa: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(list)", arguments: mode), in: work.path)
                #expect(moved.succeeded, "\(mode) moved at \(list) from \(isa): \(moved.stderrText)")
                #expect(moved.stdoutText == plain.stdoutText,
                        "\(mode) moved at \(list) from \(isa):\n\(moved.stdoutText)")
                #expect(Harness.stat("migrations", in: moved.stderrText) == points.count,
                        "\(mode) moved at \(list) from \(isa): \(moved.stderrText)")
            }
        }
    }

    /// Locale, time zone, stdio, environment, atexit, getopt, random, dirent and signal state,
    /// used, then moved at points spread over the whole run, then used again.
    @Test(arguments: ISA.allCases)
    func libcStateSurvivesMovesAtPointsAcrossTheRun(_ isa: ISA) throws {
        let work = try Self.build("libc/libc_areas.c")
        let plain = try Self.run(work, on: isa, environment: "POPCORN_STATS=1")
        #expect(plain.succeeded, "\(plain.stderrText)")
        #expect(plain.stdoutText.contains("decimal point '.'") && plain.stdoutText.contains("CET +0100"))
        let total = try #require(Harness.stat("migration points", in: plain.stderrText))
        var hops = Self.spread(20, over: total).map { [$0] }
        hops.append(Self.spread(3, over: total))
        for points in hops {
            let list = points.map(String.init).joined(separator: ",")
            let moved = try Self.run(work, on: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(list)")
            #expect(moved.succeeded, "moves at \(list) from \(isa): \(moved.stderrText)")
            #expect(moved.stdoutText == plain.stdoutText,
                    "moves at \(list) from \(isa):\n--- moved\n\(moved.stdoutText)\n--- unmoved\n\(plain.stdoutText)")
            #expect(Harness.stat("migrations", in: moved.stderrText) == points.count,
                    "moves at \(list) from \(isa): \(moved.stderrText)")
        }
    }

    /// The same program moved at every migration point of its run: a chain of hops, each from
    /// the ISA the previous one reached. Every point whose stack can be rebuilt must move — as
    /// many as a same-ISA rewrite at every point rebuilds (the others have the signal handler's
    /// kernel frame or `exit` below them) — and the output must be the unmoved run's.
    @Test(arguments: ISA.allCases)
    func libcStateSurvivesAMoveAtEveryPoint(_ isa: ISA) throws {
        let work = try Self.build("libc/libc_areas.c")
        let plain = try Self.run(work, on: isa, environment: "POPCORN_STATS=1")
        #expect(plain.succeeded, "\(plain.stderrText)")
        let points = try #require(Harness.stat("migration points", in: plain.stderrText))
        let rewritten = try Self.run(work, on: isa, environment: "POPCORN_STATS=1 POPCORN_REWRITE_AT=all")
        #expect(rewritten.stdoutText == plain.stdoutText)
        let movable = try #require(Harness.stat("rewrites", in: rewritten.stderrText))
        #expect(movable > points * 9 / 10 && movable < points, "\(movable) of \(points)")
        let moved = try Self.run(work, on: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=all")
        #expect(moved.succeeded, "\(moved.stderrText.suffix(2000))")
        #expect(moved.stdoutText == plain.stdoutText,
                "--- moved\n\(moved.stdoutText)\n--- unmoved\n\(plain.stdoutText)")
        #expect(Harness.stat("migration points", in: moved.stderrText) == points)
        #expect(Harness.stat("migrations", in: moved.stderrText) == movable, "\(moved.stderrText.suffix(600))")
    }

    /// A move requested inside qsort's comparator happens there, with qsort below it.
    @Test(arguments: ISA.allCases)
    func moveRequestedInAComparatorHappensInsideQsort(_ isa: ISA) throws {
        let work = try Self.build("libc/qsort_move.c")
        let moved = try Self.run(work, on: isa, environment: "POPCORN_STATS=1")
        #expect(moved.succeeded, "\(moved.stderrText)")
        #expect(moved.stdoutText == """
            sorted: yes, sum 201829985, first 5, last 99974
            moved inside the comparator: yes
            ended on the other ISA: yes

            """, "\(moved.stdoutText)\(moved.stderrText)")
        #expect(Harness.stat("migrations", in: moved.stderrText) == 1, "\(moved.stderrText)")
        #expect(!moved.stderrText.contains("deferred"), "\(moved.stderrText)")
    }

    /// libm, dot products, a stencil and fusable expressions give the same bits on both ISAs,
    /// at every optimization level, and in runs moved at many points.
    @Test func floatingPointResultsAreBitIdentical() throws {
        var reference: String?
        for level in ["-O0", "-O2", "-O3"] {
            let work = try Self.build("fp/numeric.c", flags: level)
            for isa in ISA.allCases {
                let result = try Self.run(work, on: isa, environment: "POPCORN_STATS=1")
                #expect(result.succeeded, "\(level) on \(isa): \(result.stderrText)")
                #expect(result.stdoutText.split(separator: "\n").count > 11000)
                if let reference {
                    #expect(result.stdoutText == reference, "\(level) on \(isa) differs")
                } else {
                    reference = result.stdoutText
                }
                guard level == "-O2", let total = Harness.stat("migration points", in: result.stderrText) else { continue }
                for point in Self.spread(6, over: total) {
                    let moved = try Self.run(work, on: isa, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(point)")
                    #expect(moved.succeeded && moved.stdoutText == reference,
                            "\(level) moved at \(point) from \(isa) differs: \(moved.stderrText)")
                    #expect(Harness.stat("migrations", in: moved.stderrText) == 1, "\(moved.stderrText)")
                }
            }
        }
    }
}
