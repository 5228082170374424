import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Values carried in callee-saved registers across calls (`CarriedValues`, `StatepointCall`).
struct CarriedValuesTests {
    static let declarations = """
    declare i64 @g(i64)
    declare i32 @v(ptr, ...)
    """

    /// Runs the stackmap pass on `body`, verifies the module and hands it and the records to `check`.
    func instrumented(_ body: String, _ check: (borrowing IRModule, [CallSiteRecord]) throws -> Void) throws {
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.declarations + "\n" + body)
        let records = StackMaps().run(on: module.ref)
        try module.verify()
        try check(module, records)
    }

    func calls(to name: String, in module: borrowing IRModule) -> [LLVMValueRef] {
        IR.calls(in: module.ref).filter { IR.calleeName(of: $0) == name }
    }

    func slots(in module: borrowing IRModule) -> Int {
        IR.functions(of: module.ref).flatMap(IR.instructions(of:)).filter {
            LLVMIsAAllocaInst($0) != nil && IR.name(of: $0).hasPrefix("popcorn.slot")
        }.count
    }

    @Test func integersAndPointersLiveAcrossACallStayOutOfSlots() throws {
        try instrumented("""
        define i64 @f(i64 %n, ptr %p, double %d) {
        entry:
          br label %loop
        loop:
          %i = phi i64 [ 0, %entry ], [ %next, %loop ]
          %r = call i64 @g(i64 %i)
          %x = load i64, ptr %p
          %next = add i64 %i, %x
          %done = icmp uge i64 %next, %n
          br i1 %done, label %exit, label %loop
        exit:
          %k = fptosi double %d to i64
          %s = add i64 %next, %k
          ret i64 %s
        }
        """) { module, records in
        // The call became a statepoint of @g; its result is the statepoint's.
        #expect(calls(to: "g", in: module).isEmpty)
        let statepoints = calls(to: StatepointCall.intrinsic, in: module)
        #expect(statepoints.count == 1)
        #expect(LLVMGetNumOperandBundles(try #require(statepoints.first)) == 2)
        // n, p and i in registers, the double in the only slot.
        let record = try #require(records.first)
        #expect(record.operands.map(\.kind) == [.value, .pointer, .alloca, .value])
        #expect(record.operands[2].holds == .value)
        #expect(slots(in: module) == 1)
        #expect(calls(to: CarriedValues.placeholder, in: module).count == 1)
        // The carry statement's results replace the values after the call: the loop's phi takes them.
        #expect(module.text.contains("gc.relocate"))
        }
    }

    @Test func atMostFiveValuesAreCarriedAcrossACall() throws {
        let values = (0..<7).map { "%v\($0)" }
        try instrumented("""
        define i64 @f(\(values.map { "i64 \($0)" }.joined(separator: ", "))) {
          %r = call i64 @g(i64 0)
          \(values.enumerated().map { "%s\($0.offset) = add i64 \($0.element), \($0.offset == 0 ? "%r" : "%s\($0.offset - 1)")" }.joined(separator: "\n  "))
          ret i64 %s6
        }
        """) { module, records in
            let record = try #require(records.first)
            #expect(record.operands.filter { $0.kind == .value }.count == CarriedValues.colorCount)
            #expect(record.operands.filter { $0.kind == .alloca }.count == 7 - CarriedValues.colorCount)
            // The other two, and the call's result (stored right after the call).
            #expect(slots(in: module) == 7 - CarriedValues.colorCount + 1)
        }
    }

    @Test func aFunctionWithACallThatCannotBeAStatepointKeepsItsValuesInSlots() throws {
        try instrumented("""
        define i64 @f(i64 %n, ptr %fmt) {
          %a = call i32 (ptr, ...) @v(ptr %fmt, i64 %n)
          %r = call i64 @g(i64 %n)
          %s = add i64 %r, %n
          ret i64 %s
        }
        """) { module, records in
            #expect(calls(to: StatepointCall.intrinsic, in: module).isEmpty)
            #expect(records.allSatisfy { $0.operands.allSatisfy { $0.kind == .alloca } })
            #expect(slots(in: module) >= 1)
        }
    }

    @Test func colorsDifferAcrossOneCallAndStayWithTheirValue() throws {
        // Three values: a and b across the first call, b and c across the second.
        let module = try IRModule(ir: MigrationTestSupport.header + "\n" + Self.declarations + """

        define i64 @f(i64 %a, i64 %b, i64 %c) {
          %r1 = call i64 @g(i64 0)
          %s1 = add i64 %a, %b
          %r2 = call i64 @g(i64 %s1)
          %s2 = add i64 %b, %c
          ret i64 %s2
        }
        """)
        guard let f = module.function(named: "f") else { Issue.record("no @f"); return }
        let calls = IR.instructions(of: f).filter { IR.calleeName(of: $0) == "g" }
        let live = LiveValues(function: f).liveAcross(calls)
        var across: [UnsafeRawPointer: [LLVMValueRef]] = [:]
        for call in calls { for value in live[UnsafeRawPointer(call)] ?? [] { across[UnsafeRawPointer(value), default: []].append(call) } }
        let parameters = (0..<3).map { LLVMGetParam(f, $0)! }
        let colors = CarriedValues.colors(of: parameters, across: across)
        let (a, b, c) = (colors[UnsafeRawPointer(parameters[0])], colors[UnsafeRawPointer(parameters[1])], colors[UnsafeRawPointer(parameters[2])])
        #expect(a != nil && b != nil && c != nil)
        #expect(a != b && b != c)
        // b is live across both calls, so it is chosen first and gets the first color.
        #expect(b == 0)
    }

    /// Lowered for each ISA: every statepoint record describes its carried values in callee-saved
    /// registers (or frame slots), at a call's return address.
    @Test(arguments: ISA.allCases)
    func recordsDescribeCarriedValuesInCalleeSavedRegisters(_ isa: ISA) throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let source = directory.file("carried.c")
        try """
        long step(long);
        long walk(long n, long *table, long stride) {
            long total = 0;
            for (long i = 0; i < n; i += stride) total += step(total) + table[i];
            return total;
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let bitcode = directory.file("carried.bc")
        try CProgramHarness.frontend(source, output: bitcode)
        var request = BackendRequest(bitcodePath: bitcode, sourcePath: source, optimization: .o2, output: .object,
                                     keepDebugInfo: false)
        request.migrationPolicy = .entryExit
        let outputs = try Backend.run(request, diagnostics: DiagnosticsEngine(toolName: "popcorn-cc", sink: { _ in }))
        let object = directory.file("carried.\(isa).o")
        try AtomicFile.write(try #require(outputs[isa]), to: object)
        let dump = try ProcessRunner.checked(try MigrationTestSupport.tool("llvm-readobj"), ["--stackmap", object]).stdoutText
        let calleeSaved: Set<Int> = isa == .x86_64 ? [3, 12, 13, 14, 15] : Set(19...28).union(72...79)
        var registers: [Int] = []
        for line in dump.split(separator: "\n") where line.contains("Register R#") {
            registers.append(Int(line.components(separatedBy: "R#")[1].split(separator: ",")[0])!)
        }
        #expect(registers.count >= 3, "\(dump)")
        #expect(registers.allSatisfy { calleeSaved.contains($0) }, "\(registers)")
        let returns = try MigrationTestSupport.returnAddresses(of: object, isa: isa)
        for record in try MigrationTestSupport.stackMaps(of: object) {
            #expect(returns[record.function]?.contains(record.offset) == true, "\(record)")
        }
    }
}
