import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Used call results stay in their return registers past the stackmap (`CallResultPin`): no slot
/// for the scalar ones, the records still at the return addresses on both ISAs.
@Suite(.serialized) struct CallResultPinTests {
    static let program = """
    #include <stdio.h>
    static void (*volatile hook)(void);
    static volatile int sink;
    static void touch(int v) { if (hook) hook(); sink = v; }
    __attribute__((noinline)) int get_int(int n) { touch(n); return n * 7; }
    __attribute__((noinline)) long get_long(long n) { touch((int)n); return n * 3; }
    __attribute__((noinline)) char *get_ptr(char *p) { touch(0); return p + 1; }
    __attribute__((noinline)) float get_float(int n) { touch(n); return n * 0.5f; }
    __attribute__((noinline)) double get_double(int n) { touch(n); return n * 0.25; }
    __attribute__((noinline)) _Bool get_bool(int n) { touch(n); return n & 1; }
    int main(int argc, char **argv) {
        int i = get_int(argc);
        long l = get_long(i);
        char *p = get_ptr(argv[0]);
        float f = get_float(i);
        double d = get_double(i);
        _Bool b = get_bool(i);
        printf("%d %ld %s %f %f %d\\n", i, l, p, f, d, b);
        touch(i + (int)l + p[0] + (int)f + (int)d + b);
        return 0;
    }
    """

    /// The portable IR: each pinnable result goes through one pin right after its call's stackmap
    /// and is never stored to a slot; the `_Bool` result keeps its slot.
    @Test func scalarResultsArePinnedNotStored() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-pin-test")
        let module = try MigrationTestSupport.portable(Self.program, name: "pin.c", in: directory)
        guard let main = LLVMGetNamedFunction(module.ref, "main") else { Issue.record("no main"); return }
        let instructions = IR.instructions(of: main)
        var pinned: [String] = []
        for (index, call) in instructions.enumerated() where LLVMIsACallInst(call) != nil {
            guard let callee = IR.calleeName(of: call), callee.hasPrefix("get_") else { continue }
            #expect(IR.calleeName(of: instructions[index + 1]) == StackMaps.intrinsic, "\(callee): stackmap right after")
            let next = instructions[index + 2]
            if CallResultPin.isPlaceholder(next) {
                pinned.append(callee)
                #expect(LLVMGetOperand(next, 0) == call)
                // The pin is the result's only user.
                let use = try #require(LLVMGetFirstUse(call))
                #expect(LLVMGetUser(use) == next && LLVMGetNextUse(use) == nil, "\(callee)")
            } else {
                // Stored to its slot after the stackmap (and read back): that store is its only use.
                #expect(IR.instructionUsers(of: call).map { LLVMIsAStoreInst($0) != nil } == [true], "\(callee)")
            }
        }
        #expect(pinned == ["get_int", "get_long", "get_ptr", "get_float", "get_double"])
        // The pins are lowered per ISA: no placeholder reaches code generation.
        for isa in ISA.allCases {
            let copy = try IRModule(bitcode: module.bitcode(), path: "pin.c")
            try LoweringPasses(isa: isa, dataLayout: try TargetMachine(isa: isa, optimization: .o2).dataLayout).run(on: copy)
            #expect(LLVMGetNamedFunction(copy.ref, CallResultPin.placeholder) == nil, "\(isa)")
            #expect(copy.text.contains("asm sideeffect \"\", \"=\(CallResultPin.returnRegister(for: LLVMDoubleTypeInContext(LLVMGetModuleContext(copy.ref)), isa: isa)),0"), "\(isa)")
        }
    }

    /// Every record sits at its call's return address on both ISAs, and the program prints what it
    /// must (a pin that lost its value would print something else).
    @Test func recordsStayAtReturnAddressesAndResultsSurvive() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-pin-test")
        let module = try MigrationTestSupport.portable(Self.program, name: "pin.c", in: directory)
        let objects = try Backend.lower(module.bitcode(), name: "pin.c", isas: ISA.allCases, optimization: .o2, assembly: false)
        for isa in ISA.allCases {
            let path = directory.file("pin.\(isa).o")
            try AtomicFile.write(try #require(objects[isa]), to: path)
            let maps = try MigrationTestSupport.stackMaps(of: path)
            #expect(maps.contains { $0.function == "main" })
            let calls = try MigrationTestSupport.returnAddresses(of: path, isa: isa)
            for map in maps {
                #expect(calls[map.function]?.contains(map.offset) == true,
                        "\(isa): record \(map.id) in \(map.function) at \(map.offset) is not after a call")
            }
            let executable = directory.file("pin.\(isa)")
            try CProgramHarness.link([path] + MigrationTestSupport.runtimeObjects(for: isa, in: directory), isa: isa,
                                     output: executable)
            let run = try CProgramHarness.run(executable, isa: isa)
            #expect(run.succeeded, "\(isa): \(run.stderrText)")
            #expect(run.stdoutText.hasPrefix("7 21 ") && run.stdoutText.hasSuffix(" 3.500000 1.750000 1\n"),
                    "\(isa): \(run.stdoutText)")
        }
    }
}
