import Foundation
import Testing
import PopcornSupport

/// Programs nobody wrote for this toolchain, from Debian source packages fetched at test time by
/// scripts/debian-source.sh (cached outside the repository): built with their own Makefiles and
/// popcorn-cc/popcorn-ld, run on both ISAs against a plain clang-19 build, checked with
/// popcorn-dump --verify, and migrated mid-run in both directions.
@Suite(.serialized) struct ThirdPartyTests {
    /// The unpacked upstream source of a Debian package. A failed download fails the test: CI
    /// machines have the Debian archive (and the cache).
    static func debianSource(_ package: String) throws -> String {
        let fetched = try ProcessRunner.run("\(Harness.root)/scripts/debian-source.sh", [package],
                                            environment: Harness.environment)
        guard fetched.succeeded else {
            Issue.record("scripts/debian-source.sh \(package) failed: \(fetched.stderrText)")
            throw Harness.MissingTool(description: "source package \(package) is not available")
        }
        return fetched.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }


    /// A deterministic text of about a megabyte (words from a small vocabulary: compressible, but
    /// not trivially).
    static func text() -> Data {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        let vocabulary = (0..<400).map { _ in
            String((0..<(2 + Int(next() % 8))).map { _ in Character(UnicodeScalar(UInt8(97 + next() % 12))) })
        }
        var words: [String] = []
        for i in 0..<160_000 { words.append(vocabulary[Int(next() % 400)] + (i % 17 == 0 ? "\n" : "")) }
        return Data(words.joined(separator: " ").utf8)
    }

    /// The command running `binary` (a popcorn build's x86_64 name) on `isa` with `environment`.
    static func command(_ binary: String, on isa: ISA, _ arguments: String, environment: String = "") throws -> String {
        let path = isa.siblingPath(of: binary)
        if let emulator = isa.emulator {
            let qemu = try Harness.systemTool(emulator, package: "qemu-user")
            return "\(environment) '\(qemu)' '\(path)' \(arguments)"
        }
        return "\(environment) '\(path)' \(arguments)"
    }

    /// Fetches a Debian source package and builds it twice with its own Makefile — with popcorn-cc
    /// (every call site must make it into the metadata; the result must pass popcorn-dump
    /// --verify) and with plain clang-19 for the host — in `popcorn/` and `plain/` of a scratch
    /// directory. `build` gives the build command for a C compiler command, `binary` is the built
    /// program's path.
    /// `omittedSites`: how many call sites popcorn-ld may leave out of the metadata (with its
    /// warning) because the back end scheduled a copy of the returned value between the call and
    /// its stackmap (docs/MIGRATION-POINTS.md, "Known gaps"); any other warning fails.
    static func buildBoth(package: String, binary: String, omittedSites: Int = 0, build: (String) -> String) throws
        -> (work: TemporaryDirectory, popcorn: String, plain: String) {
        let source = try debianSource(package)
        let cc = try Harness.popcornTool("popcorn-cc"), dump = try Harness.popcornTool("popcorn-dump")
        let work = try Harness.scratch(package)
        let popcorn = "\(work.path)/popcorn", plain = "\(work.path)/plain"
        try Harness.copy(source, to: popcorn)
        try Harness.copy(source, to: plain)
        let built = try Harness.mustSucceed("\(build(cc)) 2>&1", in: popcorn)
        let warnings = built.stdoutText.split(separator: "\n").filter { $0.hasPrefix("popcorn-ld: warning") }
        let omitted = warnings.filter { $0.contains("does not directly follow a call instruction") }
        #expect(warnings.count == omitted.count && omitted.count <= omittedSites, "\(built.stdoutText)")
        try Harness.mustSucceed(build(Harness.plainCC(.host)), in: plain)
        try Harness.mustSucceed("'\(dump)' --verify \(binary) >/dev/null", in: popcorn)
        return (work, popcorn, plain)
    }

    @Test func bzip2CompressesAndMigratesLikeAPlainBuild() throws {
        let (work, popcorn, plain) = try Self.buildBoth(package: "bzip2", binary: "bzip2") {
            "make -j2 AR=llvm-ar-19 RANLIB=llvm-ranlib-19 bzip2 CC='\($0)'"
        }

        let input = "\(work.path)/input.txt"
        try AtomicFile.write(Self.text(), to: input)
        let reference = try Harness.mustSucceed("./bzip2 -c '\(input)' | od -An -tx1 | md5sum", in: plain).stdoutText
        let original = try Harness.mustSucceed("md5sum < '\(input)'", in: work.path).stdoutText

        for isa in ISA.allCases {
            let compressed = try Harness.shell(
                try Self.command("\(popcorn)/bzip2", on: isa, "-c '\(input)'", environment: "POPCORN_STATS=1")
                    + " 2>stats.txt | od -An -tx1 | md5sum", in: work.path)
            #expect(compressed.stdoutText == reference, "compressed output on \(isa) differs from the plain build")
            let stats = try String(contentsOfFile: "\(work.path)/stats.txt", encoding: .utf8)
            let points = try #require(Harness.stat("migration points", in: stats), "\(isa): \(stats)")
            #expect(points > 1000)
            let roundTrip = try Harness.shell(
                "./plain/bzip2 -c '\(input)' | "
                    + (try Self.command("\(popcorn)/bzip2", on: isa, "-dc")) + " | md5sum", in: work.path)
            #expect(roundTrip.stdoutText == original, "decompression on \(isa)")

            // Migrated mid-compression: one hop, and there and back.
            for hops in [[points / 3], [points / 4, points * 3 / 4]] {
                let at = hops.map(String.init).joined(separator: ",")
                let moved = try Harness.shell(
                    try Self.command("\(popcorn)/bzip2", on: isa, "-c '\(input)'",
                                     environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at)")
                        + " 2>moved.txt | od -An -tx1 | md5sum", in: work.path)
                let movedStats = try String(contentsOfFile: "\(work.path)/moved.txt", encoding: .utf8)
                #expect(moved.stdoutText == reference, "from \(isa) at \(at): \(movedStats)")
                #expect(Harness.stat("migrations", in: movedStats) == hops.count, "from \(isa) at \(at): \(movedStats)")
            }
        }
    }

    /// bzip2 at -O0 and -O3 (its makefile's default is -O2): the compressed bytes are the plain
    /// clang build's at the same level, on both ISAs, also when the run moves there and back.
    @Test(arguments: ["-O0", "-O3"])
    func bzip2AtOtherOptimizationLevels(_ level: String) throws {
        let (work, popcorn, plain) = try Self.buildBoth(package: "bzip2", binary: "bzip2") {
            "make -j2 AR=llvm-ar-19 RANLIB=llvm-ranlib-19 bzip2 CC='\($0)' CFLAGS='-Wall \(level) -D_FILE_OFFSET_BITS=64'"
        }
        let input = "\(work.path)/input.txt"
        try AtomicFile.write(Self.text(), to: input)
        let reference = try Harness.mustSucceed("./bzip2 -c '\(input)' | md5sum", in: plain).stdoutText
        for isa in ISA.allCases {
            let counted = try Harness.shell(try Self.command("\(popcorn)/bzip2", on: isa, "-c '\(input)'", environment: "POPCORN_STATS=1")
                                                + " 2>stats.txt | md5sum", in: work.path)
            #expect(counted.stdoutText == reference, "\(level) on \(isa)")
            let stats = try String(contentsOfFile: "\(work.path)/stats.txt", encoding: .utf8)
            let points = try #require(Harness.stat("migration points", in: stats), "\(isa): \(stats)")
            let at = "\(points / 4),\(points * 3 / 4)"
            let moved = try Harness.shell(try Self.command("\(popcorn)/bzip2", on: isa, "-c '\(input)'",
                                                           environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at)")
                                              + " 2>moved.txt | md5sum", in: work.path)
            let movedStats = try String(contentsOfFile: "\(work.path)/moved.txt", encoding: .utf8)
            #expect(moved.stdoutText == reference, "\(level) from \(isa) at \(at): \(movedStats)")
            #expect(Harness.stat("migrations", in: movedStats) == 2, "\(level) from \(isa): \(movedStats)")
        }
    }

    /// The Lua 5.4 interpreter running Tests/Inputs/thirdparty/workload.lua: a large switch-based
    /// interpreter loop with setjmp/longjmp error handling, varargs and callbacks from qsort-like C code.
    /// At -O2 (Debian's flags) and, appended after them, -O0 and -O3.
    @Test(arguments: ["", "-O0", "-O3"])
    func luaRunsAndMigratesLikeAPlainBuild(_ level: String) throws {
        // Lua's own makefile, its `linux` target (which links with -Wl,-E -ldl), with Debian's
        // default flags on top.
        let cflags = try BuildSystemTests.debianFlags("CFLAGS") + " " + BuildSystemTests.debianFlags("CPPFLAGS") + " " + level
        let ldflags = try BuildSystemTests.debianFlags("LDFLAGS")
        // At -O3 x86_64 copies the result of one call in luaV_execute (in two places) before its
        // stackmap: those two records are left out, the interpreter still migrates elsewhere.
        let (work, popcorn, plain) = try Self.buildBoth(package: "lua5.4", binary: "src/lua", omittedSites: level == "-O3" ? 2 : 0) {
            "make -j2 linux AR='llvm-ar-19 rcu' RANLIB=llvm-ranlib-19 MYCFLAGS='\(cflags)' MYLDFLAGS='\(ldflags)' CC='\($0)'"
        }
        let script = "'\(Harness.root)/Tests/Inputs/thirdparty/workload.lua'"
        let reference = try Harness.mustSucceed("src/lua \(script)", in: plain).stdoutText
        #expect(reference.hasPrefix("46368\t"))

        for isa in ISA.allCases {
            let lua = "\(popcorn)/src/lua"
            let run = try Harness.shell(try Self.command(lua, on: isa, script, environment: "POPCORN_STATS=1"), in: work.path)
            #expect(run.succeeded && run.stdoutText == reference, "\(isa): \(run.stderrText)")
            let points = try #require(Harness.stat("migration points", in: run.stderrText), "\(isa): \(run.stderrText)")

            // The stack rewritten at 128 points spread over the run, undescribed registers poisoned.
            let spread = (0..<128).map { String(1 + $0 * (points / 128)) }.joined(separator: ",")
            let rewritten = try Harness.shell(
                try Self.command(lua, on: isa, script, environment: "POPCORN_STATS=1 POPCORN_REWRITE_AT=\(spread)"),
                in: work.path)
            #expect(rewritten.succeeded && rewritten.stdoutText == reference, "rewrites on \(isa): \(rewritten.stderrText)")
            #expect((Harness.stat("rewrites", in: rewritten.stderrText) ?? 0) > 64, "rewrites on \(isa): \(rewritten.stderrText)")

            for hops in [[points / 3], [points / 4, points * 3 / 4]] {
                let at = hops.map(String.init).joined(separator: ",")
                let moved = try Harness.shell(
                    try Self.command(lua, on: isa, script, environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at)"),
                    in: work.path)
                #expect(moved.succeeded && moved.stdoutText == reference, "from \(isa) at \(at): \(moved.stderrText)")
                #expect(Harness.stat("migrations", in: moved.stderrText) == hops.count, "from \(isa) at \(at): \(moved.stderrText)")
            }
        }
    }

    /// Lua built against the portable C library (docs/LIBC.md) running
    /// Tests/Inputs/thirdparty/libc_workload.lua (printf/strtod number formats, os.date and
    /// os.time in UTC and in TZ's zone, libm, sort with a comparator, pcall), moved at 20 points
    /// spread over the run from each ISA: the output is the plain x86_64 build's. (With the
    /// native libc such moves crash: localeconv's and the time zone's pointers are per ISA.)
    @Test func luaLibcWorkloadMovesWithThePortableLibc() throws {
        let (work, popcorn, plain) = try Self.buildBoth(package: "lua5.4", binary: "src/lua") { cc in
            let compiler = cc.hasSuffix("popcorn-cc") ? "\(cc) -fpopcorn-libc=portable" : cc
            return "make -j2 linux AR='llvm-ar-19 rcu' RANLIB=llvm-ranlib-19 CC='\(compiler)'"
        }
        let script = "'\(Harness.root)/Tests/Inputs/thirdparty/libc_workload.lua'"
        let zone = "TZ=Europe/Berlin"
        let reference = try Harness.mustSucceed("\(zone) src/lua \(script)", in: plain).stdoutText
        #expect(reference.contains("date 2023-11-14 21:13:20 318 Tue Nov 2023-11-14 22:13 CET"), "\(reference)")
        for isa in ISA.allCases {
            let lua = "\(popcorn)/src/lua"
            let run = try Harness.shell(try Self.command(lua, on: isa, script, environment: "\(zone) POPCORN_STATS=1"), in: work.path)
            #expect(run.succeeded && run.stdoutText == reference, "libc workload on \(isa): \(run.stderrText)")
            let points = try #require(Harness.stat("migration points", in: run.stderrText), "\(isa): \(run.stderrText)")
            for k in 1...20 {
                let at = points * k / 21
                let moved = try Harness.shell(
                    try Self.command(lua, on: isa, script, environment: "\(zone) POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at)"),
                    in: work.path)
                #expect(moved.succeeded && moved.stdoutText == reference, "libc workload from \(isa) at \(at): \(moved.stderrText)")
                #expect(Harness.stat("migrations", in: moved.stderrText) == 1, "libc workload from \(isa) at \(at): \(moved.stderrText)")
            }
        }
    }

    /// zlib configured by its own `configure` script with popcorn-cc as CC (the compiler must pass
    /// every configure check as clang would), its test program and minigzip compressing and
    /// decompressing across the ISAs, and minigzip migrated mid-compression.
    /// At configure's default -O3 and at -O0.
    @Test(arguments: ["", "CFLAGS=-O0"])
    func zlibConfiguresBuildsAndMigrates(_ level: String) throws {
        let (work, popcorn, plain) = try Self.buildBoth(package: "zlib", binary: "minigzip") {
            "\(level) CC='\($0)' AR=llvm-ar-19 RANLIB=llvm-ranlib-19 ./configure --static >configure.log"
                + " && make -j2 AR=llvm-ar-19 ARFLAGS=rc RANLIB=llvm-ranlib-19 minigzip example"
        }
        let input = "\(work.path)/input.txt"
        try AtomicFile.write(Self.text(), to: input)
        let reference = try Harness.mustSucceed("./minigzip < '\(input)' | md5sum", in: plain).stdoutText
        let original = try Harness.mustSucceed("md5sum < '\(input)'", in: work.path).stdoutText
        let plainExample = try Harness.mustSucceed("./example", in: plain).stdoutText
        for isa in ISA.allCases {
            let example = try Harness.shell(try Self.command("\(popcorn)/example", on: isa, ""), in: work.path)
            #expect(example.succeeded && example.stdoutText == plainExample, "example on \(isa): \(example.stderrText)")
            let gzip = try Self.command("\(popcorn)/minigzip", on: isa, "< '\(input)'", environment: "POPCORN_STATS=1")
            let compressed = try Harness.shell("\(gzip) 2>stats.txt | md5sum", in: work.path)
            #expect(compressed.stdoutText == reference, "minigzip on \(isa)")
            let stats = try String(contentsOfFile: "\(work.path)/stats.txt", encoding: .utf8)
            let points = try #require(Harness.stat("migration points", in: stats), "\(isa): \(stats)")
            let back = try Harness.shell("./plain/minigzip < '\(input)' | "
                                         + (try Self.command("\(popcorn)/minigzip", on: isa, "-d")) + " | md5sum",
                                         in: work.path)
            #expect(back.stdoutText == original, "minigzip -d on \(isa)")
            for hops in [[points / 3], [points / 4, points * 3 / 4]] {
                let at = hops.map(String.init).joined(separator: ",")
                let moved = try Harness.shell(
                    try Self.command("\(popcorn)/minigzip", on: isa, "< '\(input)'",
                                     environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at)") + " 2>moved.txt | md5sum",
                    in: work.path)
                let movedStats = try String(contentsOfFile: "\(work.path)/moved.txt", encoding: .utf8)
                #expect(moved.stdoutText == reference, "from \(isa) at \(at): \(movedStats)")
                #expect(Harness.stat("migrations", in: movedStats) == hops.count, "from \(isa) at \(at): \(movedStats)")
            }
        }
    }
}
