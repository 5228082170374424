import Foundation
import Testing
import PopcornSupport
@testable import PopcornIR

/// Code addresses other than function entries that a migratable program keeps are rejected at
/// compile time with `file:line: error:`; what stays correct across a move is accepted.
@Suite struct CodeAddressCheckTests {
    /// `program` at `-O<level>` through the frontend and the portable passes: the diagnostics
    /// printed and whether the passes threw.
    func prepare(_ program: String, level: String = "0", policy: MigrationPolicy = .entryExit)
        throws -> (lines: [String], failed: Bool, source: String) {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let source = directory.file("labels.c")
        try AtomicFile.write(Data(program.utf8), to: source)
        let bitcode = directory.file("labels.bc")
        try CProgramHarness.frontend(source, output: bitcode, optimization: level)
        let module = try IRModule(bitcodeFile: bitcode)
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        let engine = DiagnosticsEngine(toolName: "popcorn-cc", sink: { lines.all.append($0) })
        var failed = false
        do {
            try Backend.preparePortable(module, sourcePath: source, keepDebugInfo: false, migration: policy, diagnostics: engine)
        } catch {
            failed = true
        }
        return (lines.all, failed, source)
    }

    /// A table of labels in writable data (torture 20071210-1's shape at -O0).
    static let writableTable = """
    int run(int n) {
        static void *table[] = {&&add, &&done};
        int acc = 0, i = 0;
        goto *table[i];
    add: acc += n; i = acc > 100; goto *table[i];
    done: return acc;
    }
    """

    @Test func writableLabelTablesAreRejected() throws {
        let (lines, failed, source) = try prepare(Self.writableTable)
        #expect(failed)
        #expect(lines.count == 1 && lines[0].hasPrefix("\(source):4:"), "\(lines)")
        #expect(lines.first?.contains("'run.table' keeps them in writable data") == true)
    }

    /// The same table under `-fpopcorn-migration=none`: nothing moves, nothing to reject.
    @Test func nothingIsRejectedWithoutMigration() throws {
        let (lines, failed, _) = try prepare(Self.writableTable, policy: .none)
        #expect(!failed && lines.isEmpty, "\(lines)")
    }

    /// A read-only table dispatched from (how interpreters such as Lua dispatch) is accepted at
    /// every level.
    @Test(arguments: ["0", "2"])
    func constantTablesAreAccepted(_ level: String) throws {
        let (lines, failed, _) = try prepare("""
        int run(int n) {
            static const void *const table[] = {&&add, &&done};
            int acc = 0, i = 0;
            goto *table[n > 3];
        add: acc += n; i = acc > 100; goto *table[i];
        done: return acc;
        }
        """, level: level)
        #expect(!failed && lines.isEmpty, "\(lines)")
    }

    /// A label address chosen by a condition and jumped to at once (what the optimizer leaves of a
    /// local `void *target`) is accepted; at -O0 the local variable keeps it in memory, where a
    /// migration point could find it, and it is rejected.
    @Test(arguments: [("2", false), ("0", true)])
    func computedGotoTargets(_ level: String, _ rejected: Bool) throws {
        let (lines, failed, _) = try prepare("""
        int run(int n) {
            int acc = 0;
            void *target = n > 3 ? &&add : &&done;
            goto *target;
        add: acc += n;
        done: return acc;
        }
        """, level: level)
        #expect(failed == rejected && lines.count == (rejected ? 1 : 0), "\(lines)")
    }

    /// A label address stored into memory the program keeps.
    @Test func storedLabelAddressesAreRejected() throws {
        let (lines, failed, source) = try prepare("""
        void *saved;
        void keep(void) { here: saved = &&here; }
        """)
        #expect(failed)
        #expect(lines.count == 1 && lines[0].hasPrefix("\(source):2:"), "\(lines)")
    }

    /// Return addresses kept by the program (torture pr17377's shape).
    @Test(arguments: ["0", "2"])
    func returnAddressesAreRejected(_ level: String) throws {
        let (lines, failed, source) = try prepare("""
        void *where;
        __attribute__((noinline)) void note(void) { where = __builtin_return_address(0); }
        """, level: level)
        #expect(failed)
        #expect(lines.count == 1 && lines[0].hasPrefix("\(source):2:") && lines[0].contains("__builtin_return_address"),
                "\(lines)")
    }
}
