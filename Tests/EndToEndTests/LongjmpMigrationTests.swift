import Foundation
import Testing
import PopcornSupport

/// jmp_bufs filled before the stack is rewritten or moved and used after it
/// (docs/STACK-TRANSFORM.md, "jmp_bufs"): Tests/Inputs/migration/longjmp.c throws errors at
/// several depths inside Lua-like nested protected calls, through global, heap and stack buffers
/// and with sigsetjmp/siglongjmp. Every run must print exactly what the unmigrated run prints,
/// and the statistics must show that the rewrites and moves happened.
@Suite(.serialized) struct LongjmpMigrationTests {
    /// `policy`: `-fpopcorn-migration=` (the default, `entry`, unless given).
    static func build(in directory: TemporaryDirectory, policy: String? = nil) throws -> String {
        let source = "\(Harness.root)/Tests/Inputs/migration/longjmp.c"
        let output = directory.file("longjmp")
        let flag = policy.map { " -fpopcorn-migration=\($0)" } ?? ""
        try Harness.mustSucceed("'\(try Harness.popcornTool("popcorn-cc"))' -O2\(flag) '\(source)' -o '\(output)'",
                                in: directory.path)
        return output
    }

    static func run(_ base: String, from isa: ISA, environment: [String: String]) throws -> ProcessResult {
        var env = Harness.environment
        env.merge(environment) { $1 }
        let binary = isa.siblingPath(of: base)
        if let emulator = isa.emulator {
            return try ProcessRunner.run(try Harness.systemTool(emulator, package: "qemu-user"), [binary],
                                         environment: env)
        }
        return try ProcessRunner.run(binary, [], environment: env)
    }

    /// The reference output, checked against what the program must print whatever happens to it.
    static func reference(_ base: String, on isa: ISA) throws -> (output: String, points: Int) {
        let plain = try run(base, from: isa, environment: ["POPCORN_STATS": "1"])
        #expect(plain.succeeded, "\(isa): \(plain.stderrText)")
        let lines = plain.stdoutText.split(separator: "\n")
        // Spot checks that the program itself did what it claims (so a broken program cannot pass).
        #expect(lines.filter { $0 == "status 0" }.count == 6, "\(isa)")
        #expect(lines.contains("status 15") && lines.contains("status 40") && lines.contains("nested inner status 13"))
        #expect(lines.filter { $0 == "handler restored 1" }.count == 6)
        #expect(lines.contains("global caught 7") && lines.contains("global unchanged 43"))
        #expect(lines.contains("heap attempts 5") && lines.contains("heap retry 4"))
        #expect(lines.contains("pointer caught 3"))
        #expect(lines.contains("siglongjmp value 6") && lines.contains("siglongjmp value 5"))
        let after = lines.filter { $0.hasPrefix("blocked after siglongjmp") }
        #expect(after == ["blocked after siglongjmp 0", "blocked after siglongjmp 1"], "\(isa)")
        let points = try #require(Harness.stat("migration points", in: plain.stderrText))
        #expect(points > 400, "\(isa): \(points) points")
        return (plain.stdoutText, points)
    }

    @Test func unmigratedRunsAgreeOnBothISAs() throws {
        let directory = try Harness.scratch("longjmp-plain")
        let base = try Self.build(in: directory)
        let x86 = try Self.reference(base, on: .x86_64)
        let arm = try Self.reference(base, on: .aarch64)
        #expect(x86.output == arm.output)
    }

    /// Same-ISA rewrite at every migration point, every undescribed register poisoned: every jmp_buf
    /// in use is rewritten hundreds of times before the longjmp that uses it.
    @Test func rewritingAtEveryPointKeepsLongjmpWorking() throws {
        let directory = try Harness.scratch("longjmp-rewrite")
        let base = try Self.build(in: directory)
        for isa in ISA.allCases {
            let (output, points) = try Self.reference(base, on: isa)
            let rewritten = try Self.run(base, from: isa, environment: ["POPCORN_STATS": "1", "POPCORN_REWRITE_AT": "all"])
            #expect(rewritten.succeeded, "\(isa): \(rewritten.stderrText)")
            #expect(rewritten.stdoutText == output, "\(isa)")
            #expect(Harness.stat("rewrites", in: rewritten.stderrText) == points, "\(isa): \(rewritten.stderrText)")
        }
    }

    /// The first rewrite of a run, at each point on its own: the only rewrite that leaves the native
    /// stack, with the state mapping between the two stacks. At the exit point of an inner
    /// protected call the innermost frame's stack pointer is also the address of its handler (a
    /// moved object holding a buffer); the scan for pointers to moved buffers once re-pointed its
    /// own copy of that bound, skipped the memory between the stacks and left the state's handler
    /// pointer naming the poisoned old stack. `rewritingAtEveryPointKeepsLongjmpWorking` rewrites
    /// from one mapped stack to the other after its first point, which this never met. Built with
    /// exit points (`entry-exit`), where that case arises; the default has none.
    @Test func firstRewriteAtAnyPointKeepsLongjmpWorking() throws {
        let directory = try Harness.scratch("longjmp-first-rewrite")
        let base = try Self.build(in: directory, policy: "entry-exit")
        let (output, points) = try Self.reference(base, on: .x86_64)
        var failed: [Int] = []
        for point in 1...points {
            let rewritten = try Self.run(base, from: .x86_64, environment: ["POPCORN_STATS": "1", "POPCORN_REWRITE_AT": "\(point)"])
            if !rewritten.succeeded || rewritten.stdoutText != output || Harness.stat("rewrites", in: rewritten.stderrText) != 1 {
                failed.append(point)
            }
        }
        #expect(failed.isEmpty, "rewrites failed at points \(failed.prefix(20)) (\(failed.count) of \(points))")
    }

    /// One hop at points spread over the whole run (inside protected calls, between a setjmp and
    /// its longjmp, inside the sigsetjmp section), and round trips, from either ISA.
    @Test(arguments: ISA.allCases)
    func migratingAnywhereKeepsLongjmpWorking(_ start: ISA) throws {
        let directory = try Harness.scratch("longjmp-move-\(start.rawValue)")
        let base = try Self.build(in: directory)
        let (output, points) = try Self.reference(base, on: start)
        var plans: [[Int]] = (1...10).map { [points * $0 / 11] }
        plans += [[points / 5, points * 2 / 5], [points / 2, points / 2 + 37], [points * 3 / 4, points - 3]]
        for plan in plans {
            let at = plan.map(String.init).joined(separator: ",")
            let moved = try Self.run(base, from: start, environment: ["POPCORN_STATS": "1", "POPCORN_MIGRATE_AT": at])
            #expect(moved.succeeded, "from \(start) at \(at): \(moved.stderrText)")
            #expect(moved.stdoutText == output, "from \(start) at \(at)")
            #expect(Harness.stat("migrations", in: moved.stderrText) == plan.count, "from \(start) at \(at): \(moved.stderrText)")
        }
    }

    /// Lua errors thrown after long computations inside protected calls (pcall inside pcall, in a
    /// coroutine, xpcall): every `error` is a longjmp through `L->errorJmp`, a heap pointer to a
    /// `jmp_buf` in a stack frame of `luaD_rawrunprotected`, often set long before the move.
    static let luaScript = """
    local function work(n)
      local s = 0
      for i = 1, n do s = (s * 31 + i) % 1000003 end
      return s
    end
    local function deep(d, n)
      if d == 0 then error({code = n, value = work(2000 + n)}) end
      return deep(d - 1, n) + 1
    end
    local total, caught = 0, 0
    for i = 1, 40 do
      local ok, err = pcall(function()
        local inner_ok, inner = pcall(deep, i % 7, i)
        if inner_ok then error("inner did not fail") end
        total = total + inner.value
        if i % 3 == 0 then error("outer " .. i .. " " .. work(1500 + i)) end
        return work(500 + i)
      end)
      if ok then total = total + err else caught = caught + 1; total = total + #err end
    end
    local co = coroutine.wrap(function()
      for i = 1, 20 do
        local ok, e = pcall(deep, i % 5, i)
        coroutine.yield(ok and 0 or e.value)
      end
    end)
    for _ = 1, 20 do total = total + co() end
    local ok, msg = xpcall(function() return deep(6, 99) end, function(e) return "handled " .. e.code end)
    print(total, caught, ok, msg)

    """

    @Test func luaErrorsAfterMigrationsInsideProtectedCalls() throws {
        let (work, popcorn, plain) = try ThirdPartyTests.buildBoth(package: "lua5.4", binary: "src/lua") {
            "make -C src -j2 AR='llvm-ar-19 rcu' RANLIB=llvm-ranlib-19 SYSCFLAGS=-DLUA_USE_POSIX SYSLIBS= lua CC='\($0)'"
        }
        let script = work.file("errors.lua")
        try AtomicFile.write(Data(Self.luaScript.utf8), to: script)
        let reference = try Harness.mustSucceed("src/lua '\(script)'", in: plain).stdoutText
        #expect(reference.hasSuffix("\t13\tfalse\thandled 99\n"), "\(reference)")
        let lua = "\(popcorn)/src/lua"
        for isa in ISA.allCases {
            let run = try Harness.shell(try ThirdPartyTests.command(lua, on: isa, "'\(script)'", environment: "POPCORN_STATS=1"),
                                        in: work.path)
            #expect(run.succeeded && run.stdoutText == reference, "\(isa): \(run.stderrText)")
            let points = try #require(Harness.stat("migration points", in: run.stderrText), "\(isa): \(run.stderrText)")
            let spread = (0..<200).map { String(1 + $0 * (points / 200)) }.joined(separator: ",")
            let rewritten = try Harness.shell(
                try ThirdPartyTests.command(lua, on: isa, "'\(script)'", environment: "POPCORN_STATS=1 POPCORN_REWRITE_AT=\(spread)"),
                in: work.path)
            #expect(rewritten.succeeded && rewritten.stdoutText == reference, "rewrites on \(isa): \(rewritten.stderrText)")
            #expect((Harness.stat("rewrites", in: rewritten.stderrText) ?? 0) > 150, "rewrites on \(isa): \(rewritten.stderrText)")
            var plans: [[Int]] = (1...6).map { [points * $0 / 7] }
            plans.append([points / 5, points * 3 / 5])
            for plan in plans {
                let at = plan.map(String.init).joined(separator: ",")
                let moved = try Harness.shell(
                    try ThirdPartyTests.command(lua, on: isa, "'\(script)'", environment: "POPCORN_STATS=1 POPCORN_MIGRATE_AT=\(at)"),
                    in: work.path)
                #expect(moved.succeeded && moved.stdoutText == reference, "from \(isa) at \(at): \(moved.stderrText)")
                #expect(Harness.stat("migrations", in: moved.stderrText) == plan.count, "from \(isa) at \(at): \(moved.stderrText)")
            }
        }
    }
}
