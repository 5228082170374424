import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// IR-in tests of the live-value analysis and of what the stackmap pass records per call.
struct LiveValueTests {
    /// The names of the values live across each call to `@g`, in IR order.
    func liveAcrossCallsToG(_ body: String, function: String = "f") throws -> [[String]] {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + body)
        let named = module.function(named: function)
        let f = try #require(named)
        let calls = IR.instructions(of: f).filter { LLVMIsACallInst($0) != nil && IR.calleeName(of: $0) == "g" }
        let live = LiveValues(function: f).liveAcross(calls)
        return calls.map { (live[UnsafeRawPointer($0)] ?? []).map(IR.name(of:)) }
    }

    @Test func straightLineValuesDefinedBeforeAndUsedAfter() throws {
        let live = try liveAcrossCallsToG("""
        declare i64 @g(i64)
        define i64 @f(i64 %a, i64 %b, i64 %unused) {
          %dead = add i64 %b, 1
          %early = call i64 @g(i64 %dead)
          %kept = mul i64 %a, 3
          %r = call i64 @g(i64 %kept)
          %s = add i64 %r, %kept
          %t = add i64 %s, %early
          ret i64 %t
        }
        """)
        // At the first call: %a (used for %kept) is live; %dead is used only by the call.
        #expect(live[0] == ["a"])
        // At the second: %early and %kept; the call's own result is not "across" it.
        #expect(live[1] == ["early", "kept"])
    }

    @Test func definitionOrderAndLoopCarriedValues() throws {
        let live = try liveAcrossCallsToG("""
        declare void @g()
        define i64 @f(i64 %n, i64 %k) {
        entry:
          %base = mul i64 %k, 7
          br label %loop
        loop:
          %i = phi i64 [ 0, %entry ], [ %next, %loop.end ]
          %acc = phi i64 [ 0, %entry ], [ %sum, %loop.end ]
          %sum = add i64 %acc, %base
          call void @g()
          br label %loop.end
        loop.end:
          %next = add i64 %i, 1
          %done = icmp eq i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %sum
        }
        """)
        // %base is used before the call in the body but is needed again next iteration; %k is
        // dead after %base; %acc is dead after %sum.
        #expect(live[0] == ["n", "base", "i", "sum"])
    }

    @Test func phiOperandsAreLiveOnlyOnTheirEdge() throws {
        let live = try liveAcrossCallsToG("""
        declare void @g()
        define i64 @f(i1 %c, i64 %x, i64 %y) {
        entry:
          br i1 %c, label %left, label %right
        left:
          call void @g()
          br label %join
        right:
          call void @g()
          br label %join
        join:
          %v = phi i64 [ %x, %left ], [ %y, %right ]
          ret i64 %v
        }
        """)
        #expect(live[0] == ["x"])
        #expect(live[1] == ["y"])
    }

    @Test func selfLoops() throws {
        let live = try liveAcrossCallsToG("""
        declare void @g()
        define i64 @f(i64 %n, i64 %step) {
        entry:
          br label %loop
        loop:
          %i = phi i64 [ 0, %entry ], [ %next, %loop ]
          call void @g()
          %next = add i64 %i, %step
          %done = icmp uge i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          ret i64 %next
        }
        """)
        #expect(live[0] == ["n", "step", "i"])
    }

    func records(_ body: String) throws -> (records: [CallSiteRecord], text: String) {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + body)
        let records = StackMaps().run(on: module.ref)
        try module.verify()
        return (records, module.text)
    }

    @Test func derivedPointersNameTheirAllocaBase() throws {
        let (records, text) = try records("""
        declare void @g()
        define i32 @f(i64 %i) {
          %array = alloca [16 x i32]
          %element = getelementptr inbounds [16 x i32], ptr %array, i64 0, i64 %i
          store i32 1, ptr %element
          call void @g()
          %v = load i32, ptr %element
          ret i32 %v
        }
        """)
        let record = try #require(records.first)
        #expect(record.callee == "g")
        // %element is live: it moves to a slot, and its base %array is added after it so the
        // runtime can re-point it.
        #expect(record.operands == [
            .init(kind: .alloca, size: 8, base: 1, holds: .derivedPointer),
            .init(kind: .alloca, size: 64, base: nil, holds: nil),
        ])
        #expect(text.contains("call void (i64, i32, ...) @llvm.experimental.stackmap(i64 \(record.id), i32 0, ptr %popcorn.slot, ptr %array)"))
        #expect(text.contains("store volatile ptr %element, ptr %popcorn.slot"))
    }

    @Test func allocasPassedToCalleesAreRecordedAtEveryLaterCall() throws {
        let (records, text) = try records("""
        declare void @fill(ptr)
        declare void @g()
        define void @f() {
          %buffer = alloca [3 x i64]
          %plain = alloca i64
          store i64 0, ptr %plain
          call void @fill(ptr %buffer)
          call void @g()
          ret void
        }
        """)
        #expect(records.count == 2)
        // %buffer escaped into @fill, which may have kept its address: recorded at both calls.
        // %plain only ever loaded and stored: not recorded once dead.
        for record in records {
            #expect(record.operands == [.init(kind: .alloca, size: 24, base: nil, holds: nil)])
        }
        #expect(!text.contains("ptr %plain)"))
    }

    @Test func liveValuesMoveToSlotsOfTheirOwn() throws {
        let (records, text) = try records("""
        declare double @g()
        define double @f(double %x, i1 %flag, i128 %wide) {
          %a = fadd double %x, 1.0
          %r = call double @g()
          %s = fadd double %r, %a
          %w = trunc i128 %wide to i64
          %wf = sitofp i64 %w to double
          %t = fadd double %s, %wf
          %u = select i1 %flag, double %t, double %x
          ret double %u
        }
        """)
        let record = try #require(records.first)
        // %x, %flag, %wide and %a are live across the call: each is now an 8/1/16/8-byte slot,
        // stored once after its definition and reloaded at each use. The call's own result has a
        // slot too, written right after the call: it holds nothing across it, so it is not listed.
        #expect(record.operands.map(\.kind) == [.alloca, .alloca, .alloca, .alloca])
        #expect(record.operands.map(\.holds) == [.value, .value, .value, .value])
        #expect(record.operands.map(\.size).sorted() == [1, 8, 8, 16])
        #expect(text.contains("popcorn.slot"))
        #expect(text.contains("popcorn.reload"))
    }

    /// abort (the C library's, point-free) and intrinsics get no record; a `noreturn` function
    /// of another file does: its points run with this frame below them.
    @Test func onlyPointFreeCallsThatNeverResumeHaveNoStackmap() throws {
        let (records, text) = try records("""
        declare void @abort() noreturn
        declare void @die(ptr) noreturn
        declare void @g()
        declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
        define void @f(ptr %p, i1 %c) {
          call void @llvm.memset.p0.i64(ptr %p, i8 0, i64 8, i1 false)
          call void @g()
          br i1 %c, label %fail, label %stop
        fail:
          call void @die(ptr %p)
          unreachable
        stop:
          call void @abort()
          unreachable
        }
        """)
        #expect(records.map(\.callee) == ["g", "die"])
        #expect(text.components(separatedBy: "call void (i64, i32, ...) @llvm.experimental.stackmap(").count - 1 == 2)
    }
}

extension LiveValueTests {
    @Test func pointersAndDerivedPointersInSlotsNameTheirKind() throws {
        let (records, _) = try records("""
        declare ptr @g()
        define i64 @f(ptr %p, i64 %k) {
          %q = getelementptr i8, ptr %p, i64 %k
          %r = call ptr @g()
          %a = load i64, ptr %q
          %b = load i64, ptr %p
          %c = add i64 %a, %b
          ret i64 %c
        }
        """)
        let record = try #require(records.first)
        // Definition order: %p (argument), then %q derived from it (a variable offset: a constant
        // one would be computed again after the call, AddressRematerialization).
        #expect(record.operands == [
            .init(kind: .alloca, size: 8, base: nil, holds: .pointer),
            .init(kind: .alloca, size: 8, base: 0, holds: .derivedPointer),
        ])
    }
}
