import Foundation
import PopcornSupport
import Testing

/// Distribution hardening CFLAGS through the staged popcorn-cc: each ISA's code gets its own
/// protection (endbr64 on x86_64, BTI on aarch64, stack probes on both), the program links
/// with popcorn-ld and still moves between the ISAs mid-run.
@Suite(.serialized) struct DriverHardeningTests {
    static let hardening = "-g -O2 -ffile-prefix-map=/build=. -fstack-protector-strong -Wformat -Werror=format-security "
        + "-fcf-protection -fstack-clash-protection -mbranch-protection=standard"
    static let source = "\(Harness.root)/Tests/Inputs/migration/pingpong.c"

    @Test func objectsCarryEachISAsProtection() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let objdump = try Harness.systemTool("llvm-objdump-19", package: "llvm-19")
        let work = try Harness.scratch("hardening")
        try Harness.mustSucceed("'\(cc)' \(Self.hardening) -c '\(Self.source)' -o p.o", in: work.path)
        let x86 = try Harness.extractEmbeddedObject(work.file("p.o"), isa: .x86_64, to: work.file("x64.o")) ? "x64.o" : "p.o"
        let a64 = try Harness.extractEmbeddedObject(work.file("p.o"), isa: .aarch64, to: work.file("a64.o")) ? "a64.o" : "p.o"
        let x86Code = try Harness.mustSucceed("'\(objdump)' -d \(x86)", in: work.path).stdoutText
        let a64Code = try Harness.mustSucceed("'\(objdump)' -d \(a64)", in: work.path).stdoutText
        #expect(x86Code.contains("endbr64"))
        #expect(!x86Code.contains("bti"))
        #expect(a64Code.contains("bti\tc"))
        #expect(!a64Code.contains("endbr64"))
        let x86Notes = try Harness.mustSucceed("readelf -n \(x86)", in: work.path).stdoutText
        let a64Notes = try Harness.mustSucceed("readelf -n \(a64)", in: work.path).stdoutText
        #expect(x86Notes.contains("x86 feature: IBT"))
        #expect(a64Notes.contains("AArch64 feature: BTI"))
    }

    @Test func stackClashProbesOnBothISAs() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("stack-clash")
        // The array's address never escapes, so it stays in the native frame (an escaping one
        // would live on the object stack, whose guard region is larger than any frame).
        try "int big(int i) { volatile char b[200000]; b[i] = 1; return b[7]; }\n"
            .write(toFile: work.file("big.c"), atomically: true, encoding: .utf8)
        for (flags, probes) in [("", false), ("-fstack-clash-protection", true)] {
            try Harness.mustSucceed("'\(cc)' -O2 \(flags) -S big.c -o big.s", in: work.path)
            let x86 = try String(contentsOfFile: work.file(ISA.x86_64.siblingPath(of: "big.s")), encoding: .utf8)
            let a64 = try String(contentsOfFile: work.file(ISA.aarch64.siblingPath(of: "big.s")), encoding: .utf8)
            // A probed frame is allocated a page at a time, each page touched.
            #expect(x86.contains("$4096, %rsp") == probes, "\(flags)")
            #expect(a64.contains("sub\tsp, sp, #1, lsl #12") == probes, "\(flags)")
        }
    }

    @Test(arguments: ISA.allCases)
    func hardenedProgramMovesBetweenISAs(_ start: ISA) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("hardened-move")
        try Harness.mustSucceed("'\(cc)' \(Self.hardening) '\(Self.source)' -o prog", in: work.path)
        func run(_ migrateAt: String) throws -> ProcessResult {
            let binary = "./" + start.siblingPath(of: "prog")
            let emulator = try start.emulator.map { "'\(try Harness.systemTool($0, package: "qemu-user"))' " } ?? ""
            let environment = "POPCORN_STATS=1" + (migrateAt.isEmpty ? "" : " POPCORN_MIGRATE_AT=\(migrateAt)")
            return try Harness.shell("\(environment) \(emulator)\(binary)", in: work.path)
        }
        let plain = try run("")
        #expect(plain.succeeded, "\(plain.stderrText)")
        let moved = try run("50,900")
        #expect(moved.succeeded, "\(moved.stderrText)")
        #expect(Harness.stat("migrations", in: moved.stderrText) == 2)
        #expect(moved.stdoutText == plain.stdoutText)
    }

    /// setjmp/longjmp under the hardening flags: no landing pad may separate a setjmp call from
    /// its stackmap, so jmp_bufs still move with the stack.
    @Test(arguments: ISA.allCases)
    func hardenedLongjmpProgramMovesBetweenISAs(_ start: ISA) throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("hardened-longjmp")
        let source = "\(Harness.root)/Tests/Inputs/migration/longjmp.c"
        let build = try Harness.mustSucceed("'\(cc)' \(Self.hardening) '\(source)' -o prog", in: work.path)
        #expect(!build.stderrText.contains("does not directly follow a call"), "\(build.stderrText)")
        let binary = work.file(start.siblingPath(of: "prog"))
        let emulator = try start.emulator.map { "'\(try Harness.systemTool($0, package: "qemu-user"))' " } ?? ""
        let plain = try Harness.shell("POPCORN_STATS=1 \(emulator)'\(binary)'", in: work.path)
        #expect(plain.succeeded, "\(plain.stderrText)")
        let points = try #require(Harness.stat("migration points", in: plain.stderrText))
        for at in [points / 4, points / 2, points * 3 / 4] {
            let moved = try Harness.shell("POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at) \(emulator)'\(binary)'", in: work.path)
            #expect(moved.succeeded, "from \(start) at \(at): \(moved.stderrText)")
            #expect(Harness.stat("migrations", in: moved.stderrText) == 1, "from \(start) at \(at)")
            #expect(moved.stdoutText == plain.stdoutText, "from \(start) at \(at)")
        }
    }
}
