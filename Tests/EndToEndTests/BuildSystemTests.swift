import Foundation
import Testing
import PopcornSupport

/// popcorn-cc as the `CC` of real build systems with Debian's default flags (`dpkg-buildflags`:
/// `-g -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wl,-z,relro`, …): gzip through autoconf
/// and its own `make check`, cJSON through CMake's default build type with Makefiles and with
/// Ninja and its own ctest, zstd through its Makefile. Each program is checked against a plain
/// clang-19 build on both ISAs and migrated mid-run. (Lua through its own makefile with the same
/// flags is ThirdPartyTests' build.)
@Suite(.serialized) struct BuildSystemTests {
    /// `dpkg-buildflags --get <name>`.
    static func debianFlags(_ name: String) throws -> String {
        try Harness.mustSucceed("dpkg-buildflags --get \(name)", in: "/").stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A program's output is what the plain build prints on every ISA, and the same when the run
    /// moves at a third and at two thirds of its migration points.
    static func expectLikePlain(_ binary: String, _ arguments: String, reference: String, work: String) throws {
        for isa in ISA.allCases {
            let counted = try Harness.shell(try ThirdPartyTests.command(binary, on: isa, arguments, environment: "POPCORN_STATS=1")
                                                + " 2>stats.txt | md5sum", in: work)
            #expect(counted.stdoutText == reference, "\(binary) on \(isa)")
            let stats = try String(contentsOfFile: "\(work)/stats.txt", encoding: .utf8)
            let points = try #require(Harness.stat("migration points", in: stats), "\(isa): \(stats)")
            let at = "\(points / 3),\(points * 2 / 3)"
            let moved = try Harness.shell(try ThirdPartyTests.command(binary, on: isa, arguments,
                                                                     environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at)")
                                              + " 2>moved.txt | md5sum", in: work)
            let movedStats = try String(contentsOfFile: "\(work)/moved.txt", encoding: .utf8)
            #expect(moved.stdoutText == reference, "\(binary) from \(isa) at \(at): \(movedStats)")
            #expect(Harness.stat("migrations", in: movedStats) == 2, "\(binary) from \(isa) at \(at): \(movedStats)")
        }
    }

    @Test func gzipConfiguresBuildsAndPassesItsOwnChecks() throws {
        let source = try ThirdPartyTests.debianSource("gzip")
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("gzip-autoconf")
        let popcorn = "\(work.path)/popcorn", plain = "\(work.path)/plain"
        try Harness.copy(source, to: popcorn)
        try Harness.copy(source, to: plain)
        let flags = "CFLAGS='\(try Self.debianFlags("CFLAGS"))' CPPFLAGS='\(try Self.debianFlags("CPPFLAGS"))' "
            + "LDFLAGS='\(try Self.debianFlags("LDFLAGS"))'"
        try Harness.mustSucceed("./configure CC='\(cc)' \(flags) >configure.log 2>&1 && make -j2 >make.log 2>&1", in: popcorn)
        // gzip's own test suite, with the x86_64 binaries it just built.
        let check = try Harness.shell("make check >check.log 2>&1; grep -E '^# (PASS|FAIL|ERROR):' tests/test-suite.log check.log | head -4",
                                      in: popcorn)
        let log = try String(contentsOfFile: "\(popcorn)/check.log", encoding: .utf8)
        #expect(log.contains("# FAIL:  0") && log.contains("# ERROR: 0") && !log.contains("# PASS:  0"), "\(check.stdoutText)")
        try Harness.mustSucceed("./configure CC='\(Harness.plainCC(.host))' \(flags) >configure.log 2>&1 && make -j2 >make.log 2>&1",
                                in: plain)

        let input = "\(work.path)/input.txt"
        try AtomicFile.write(ThirdPartyTests.text(), to: input)
        let reference = try Harness.mustSucceed("plain/gzip -9 -n -c '\(input)' | md5sum", in: work.path).stdoutText
        try Self.expectLikePlain("\(popcorn)/gzip", "-9 -n -c '\(input)'", reference: reference, work: work.path)
        let original = try Harness.mustSucceed("md5sum < '\(input)'", in: work.path).stdoutText
        for isa in ISA.allCases {
            let back = try Harness.shell("plain/gzip -c '\(input)' | " + (try ThirdPartyTests.command("\(popcorn)/gzip", on: isa, "-dc"))
                                         + " | md5sum", in: work.path)
            #expect(back.stdoutText == original, "gzip -d on \(isa)")
        }
    }

    @Test(arguments: ["Unix Makefiles", "Ninja"])
    func cjsonThroughCMakeWithItsDefaultBuildType(_ generator: String) throws {
        let source = try ThirdPartyTests.debianSource("cjson")
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("cjson-cmake")
        // CMake's default build type adds no optimisation flag: the code is compiled at -O0 plus
        // whatever CFLAGS say. popcorn-ld links static executables, so no shared library.
        let environment = "CC='\(cc)' CFLAGS='\(try Self.debianFlags("CFLAGS")) \(try Self.debianFlags("CPPFLAGS"))' "
            + "LDFLAGS='\(try Self.debianFlags("LDFLAGS"))'"
        let build = try Harness.shell("""
            \(environment) cmake -G '\(generator)' -DBUILD_SHARED_LIBS=Off -DENABLE_CJSON_UTILS=On '\(source)' >cmake.log 2>&1 &&
            cmake --build . -j 2 >build.log 2>&1
            """, in: work.path)
        let log = (try? String(contentsOfFile: "\(work.path)/build.log", encoding: .utf8)) ?? ""
        #expect(build.succeeded, "\(log.suffix(3000))")
        #expect(!log.contains("PHI Node") && !log.contains("error:"), "\(log.suffix(3000))")
        let ctest = try Harness.shell("ctest --output-on-failure 2>&1 | tail -3", in: work.path)
        #expect(ctest.succeeded && ctest.stdoutText.contains("100% tests passed"), "\(ctest.stdoutText)")
        // The same unit tests on aarch64.
        let tests = try Harness.mustSucceed("find tests -maxdepth 1 -type f -perm -u+x ! -name '*.*' -printf '%f\\n' | sort",
                                            in: work.path).stdoutText.split(separator: "\n").map(String.init)
        #expect(tests.count >= 15, "\(tests)")
        for test in tests {
            let run = try Harness.shell(try ThirdPartyTests.command("\(work.path)/tests/\(test)", on: .aarch64, ""),
                                        in: "\(work.path)/tests")
            #expect(run.succeeded, "\(test) on aarch64: \(run.stdoutText.suffix(500)) \(run.stderrText.suffix(500))")
        }
    }

    @Test func zstdThroughItsMakefile() throws {
        let source = try ThirdPartyTests.debianSource("zstd")
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("zstd-make")
        let popcorn = "\(work.path)/popcorn", plain = "\(work.path)/plain"
        try Harness.copy(source, to: popcorn)
        try Harness.copy(source, to: plain)
        // zstd's own switches for a single-threaded build without its x86_64 assembly and without
        // the optional compression libraries.
        let make = "CFLAGS='\(try Self.debianFlags("CFLAGS")) \(try Self.debianFlags("CPPFLAGS"))' "
            + "LDFLAGS='\(try Self.debianFlags("LDFLAGS"))' make -j2 -C programs zstd ZSTD_NO_ASM=1 HAVE_THREAD=0 "
            + "HAVE_ZLIB=0 HAVE_LZMA=0 HAVE_LZ4=0"
        try Harness.mustSucceed("\(make) CC='\(cc)' >make.log 2>&1", in: popcorn)
        try Harness.mustSucceed("\(make) CC='\(Harness.plainCC(.host))' >make.log 2>&1", in: plain)
        // The makefile copies the host binary out of its object directory; the sibling stays there.
        try Harness.mustSucceed("cp programs/obj/*/zstd.aarch64 programs/", in: popcorn)

        let input = "\(work.path)/input.txt"
        try AtomicFile.write(ThirdPartyTests.text(), to: input)
        let reference = try Harness.mustSucceed("plain/programs/zstd -q -9 -c '\(input)' | md5sum", in: work.path).stdoutText
        try Self.expectLikePlain("\(popcorn)/programs/zstd", "-q -9 -c '\(input)'", reference: reference, work: work.path)
        let original = try Harness.mustSucceed("md5sum < '\(input)'", in: work.path).stdoutText
        for isa in ISA.allCases {
            let back = try Harness.shell("plain/programs/zstd -q -c '\(input)' | "
                                         + (try ThirdPartyTests.command("\(popcorn)/programs/zstd", on: isa, "-q -d -c"))
                                         + " | md5sum", in: work.path)
            #expect(back.stdoutText == original, "zstd -d on \(isa)")
        }
    }
}
