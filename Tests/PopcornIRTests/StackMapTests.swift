import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Stackmaps and call-site IDs in the objects `Backend` produces for each ISA.
@Suite(.serialized) struct StackMapTests {
    static let program = """
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>

    struct node { struct node *next; long value; };

    __attribute__((noinline)) static void fill(long *out, int n) { for (int i = 0; i < n; i++) out[i] = i * i; }

    __attribute__((noinline)) long walk(struct node *head, double weight) {
        long local[4];
        fill(local, 4);
        long sum = 0;
        for (struct node *n = head; n; n = n->next) {
            sum += n->value * local[n->value & 3];
            printf("%ld %f\\n", sum, weight * (double)sum);
        }
        return sum;
    }

    int main(int argc, char **argv) {
        struct node *head = NULL;
        for (long i = 0; i < 5; i++) {
            struct node *n = malloc(sizeof *n);
            n->value = i + argc;
            n->next = head;
            head = n;
        }
        long s = walk(head, 0.25);
        if (argc > 5) abort();
        printf("%ld %s\\n", s, strlen(argv[0]) > 0 ? "ok" : "empty");
        return 0;
    }
    """

    /// The portable module of `program` after the popcorn passes.
    func portable(in directory: TemporaryDirectory, name: String = "maps.c") throws -> IRModule {
        try MigrationTestSupport.portable(Self.program, name: name, in: directory)
    }

    /// The records of `program` as its side table holds them.
    func records(in directory: TemporaryDirectory, name: String = "maps.c") throws -> [CallSiteRecord] {
        try MigrationTestSupport.sideTable(of: try portable(in: directory, name: name))
    }

    @Test func idsAreStableUniqueAndTheSameForEveryCompile() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-maps-test")
        let module = try portable(in: directory)
        let records = try MigrationTestSupport.sideTable(of: module)
        let again = try self.records(in: directory)
        #expect(records == again)
        #expect(!records.isEmpty)
        #expect(Set(records.map(\.id)).count == records.count)
        #expect(!records.contains { $0.id == 0 })
        #expect(Set(Self.functionsWithStackMaps(module.text)).isSuperset(of: ["walk", "main"]), "\(module.text)")
        // abort() is noreturn: no record mentions it, and the slow path has records of its own.
        #expect(!records.contains { $0.callee == "abort" })
        let lines = module.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let slowCalls = lines.indices.filter { lines[$0].hasPrefix("call void @\(MigrationPoints.slowPath)()") }
        #expect(!slowCalls.isEmpty)
        #expect(slowCalls.allSatisfy { lines[$0 + 1].hasPrefix("call void (i64, i32, ...) @llvm.experimental.stackmap(") })
        // A different translation unit (another source name) gets different IDs.
        let other = try self.records(in: directory, name: "other.c")
        #expect(Set(other.map(\.id)).isDisjoint(with: Set(records.map(\.id))))
    }

    @Test func idsHashTheirIdentifyingFields() {
        let a = CallSiteID.hash(moduleHash: "abc", function: "f", ordinal: 0, callee: "g")
        #expect(a == CallSiteID.hash(moduleHash: "abc", function: "f", ordinal: 0, callee: "g"))
        #expect(a != CallSiteID.hash(moduleHash: "abd", function: "f", ordinal: 0, callee: "g"))
        #expect(a != CallSiteID.hash(moduleHash: "abc", function: "f", ordinal: 1, callee: "g"))
        #expect(a != CallSiteID.hash(moduleHash: "abc", function: "f", ordinal: 0, callee: nil))
        var ids = CallSiteID()
        let first = ids.allocate(moduleHash: "abc", function: "f", ordinal: 0, callee: "g")
        let collided = ids.allocate(moduleHash: "abc", function: "f", ordinal: 0, callee: "g")
        #expect(first == a)
        #expect(collided != first, "a colliding ID is rehashed")
    }

    /// Each ISA's object has one stackmap record per side-table record, with the same IDs, one
    /// location per operand, and the record's offset is the return address of a call.
    @Test func recordsSitAtReturnAddressesOnBothISAs() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-maps-test")
        let module = try portable(in: directory)
        let records = try MigrationTestSupport.sideTable(of: module)
        let objects = try Backend.lower(module.bitcode(), name: "maps.c", isas: ISA.allCases, optimization: .o2,
                                        assembly: false)
        let expected = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.operands.count) })
        for isa in ISA.allCases {
            let path = directory.file("maps.\(isa).o")
            try AtomicFile.write(try #require(objects[isa]), to: path)
            let maps = try MigrationTestSupport.stackMaps(of: path)
            #expect(Dictionary(uniqueKeysWithValues: maps.map { ($0.id, $0.locations) }) == expected, "\(isa)")
            let calls = try MigrationTestSupport.returnAddresses(of: path, isa: isa)
            for map in maps {
                #expect(calls[map.function]?.contains(map.offset) == true,
                        "\(isa): record \(map.id) in \(map.function) at \(map.offset) is not after a call (\(calls[map.function].map { Array($0).sorted() } ?? []))")
            }
            let sections = try ProcessRunner.checked(try MigrationTestSupport.tool("llvm-readelf"), ["-S", path]).stdoutText
            // One copy of the side table per program: in the carrier ISA's object only.
            #expect(sections.contains(".popcorn.callsites") == (isa == CallSiteTable.carrier), "\(isa)")
        }
    }

    /// Functions with records get a frame pointer (their frames are rebuilt), no tail calls and
    /// the restricted code generation; functions without keep the frontend's choices.
    @Test func functionsWithRecordsKeepTheirFramePointer() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-maps-test")
        let module = try portable(in: directory)
        let text = module.text
        var recorded = 0, unrecorded = 0
        for function in IR.functions(of: module.ref) where IR.isDefinition(function) {
            let attributes = text.components(separatedBy: "\n").first {
                $0.hasPrefix("define ") && $0.contains("@\(IR.name(of: function))(")
            }?.split(separator: " ").last { $0.hasPrefix("#") }.map(String.init)
            let group = try #require(attributes)
            let line = text.components(separatedBy: "\n").first { $0.hasPrefix("attributes \(group) ") } ?? ""
            let restrictions = ["\"frame-pointer\"=\"all\"", "\"disable-tail-calls\"=\"true\"",
                                "\"\(CodeGenerationAttributes.restrictedAttribute)\""]
            if StackMaps.hasRecords(function) {
                recorded += 1
                for restriction in restrictions { #expect(line.contains(restriction), "\(IR.name(of: function)): \(line)") }
            } else {
                unrecorded += 1
                for restriction in restrictions { #expect(!line.contains(restriction), "\(IR.name(of: function)): \(line)") }
            }
        }
        #expect(recorded > 0 && unrecorded > 0, "the program has functions of both kinds")
    }

    @Test func sideTableEncoding() {
        let record = CallSiteRecord(id: 0x0102_0304_0506_0708, function: "main", callee: "g", operands: [
            .init(kind: .alloca, size: 24, base: nil, holds: nil), .init(kind: .alloca, size: 8, base: 0, holds: .derivedPointer),
        ])
        let bytes = CallSiteTable.encode([record])
        #expect(bytes.count == 24 + 16 + 8 + 2 * 8)
        #expect(Array(bytes[0..<12]) == Array("PCSITES\0".utf8) + [3, 0, 0, 0])
        #expect(Array(bytes[12..<20]) == [1, 0, 0, 0, 1, 0, 0, 0])    // one record, one list
        #expect(Array(bytes[24..<32]) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(Array(bytes[32..<40]) == [0, 0, 0, 0, 0, 0, 0, 0])    // list 0
        #expect(Array(bytes[40..<48]) == [2, 0, 0, 0, 0, 0, 0, 0])    // two operands
        #expect(Array(bytes[48..<56]) == [3, 0xff, 0xff, 0xff, 24, 0, 0, 0])
        #expect(Array(bytes[56..<64]) == [3, 2, 0, 0, 8, 0, 0, 0])
        #expect(MigrationTestSupport.decodeSideTable(bytes) == [record.asStored])
        // Records with the same operands share their list.
        var twin = record
        twin.id = 99
        let shared = CallSiteTable.encode([record, twin])
        #expect(shared.count == bytes.count + 16)
        #expect(MigrationTestSupport.decodeSideTable(shared) == [record.asStored, twin.asStored])
    }

    /// The functions of module text that contain a stackmap call or a portable statepoint.
    static func functionsWithStackMaps(_ text: String) -> Set<String> {
        var names: Set<String> = [], current = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("define "), let at = line.firstIndex(of: "@") {
                current = String(line[line.index(after: at)...].prefix { $0 != "(" })
            } else if line.contains("@llvm.experimental.stackmap(") || line.contains("[ \"\(Statepoints.bundleTag)\"(") {
                names.insert(current)
            }
        }
        return names
    }
}

/// Shared helpers of the migration point, live value and stackmap tests.
enum MigrationTestSupport {
    /// The portable module of the C `program` (written to `name` in `directory`) after the
    /// frontend and the popcorn passes with the default migration policy.
    static func portable(_ program: String, name: String, in directory: TemporaryDirectory) throws -> IRModule {
        let source = directory.file(name)
        try AtomicFile.write(Data(program.utf8), to: source)
        let bitcode = directory.file("\(name).bc")
        try CProgramHarness.frontend(source, output: bitcode)
        let module = try IRModule(bitcodeFile: bitcode)
        let engine = DiagnosticsEngine(toolName: "popcorn-cc", sink: { _ in })
        try Backend.preparePortable(module, sourcePath: source, keepDebugInfo: false, migration: .entryExit,
                                    diagnostics: engine)
        try module.verify()
        return module
    }

    static let header = """
    target datalayout = "e-m:e-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128-Fn32"
    target triple = "aarch64-unknown-linux-musl"
    """

    static let toolchain = Toolchain()

    static func tool(_ name: String) throws -> String {
        let llvm = URL(fileURLWithPath: try toolchain.path(of: .clang)).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: llvm) ? llvm : "/usr/bin/\(name)-19"
    }

    /// The migration runtime compiled natively for `isa`: the migration points (`migrate.c`) and
    /// the ISA names its statistics use (`isa.c`) and the settings it reads (`settings.c`).
    static func runtimeObjects(for isa: ISA, in directory: TemporaryDirectory) throws -> [String] {
        let root = URL(fileURLWithPath: CProgramHarness.popcornInclude).deletingLastPathComponent()
        // The migration points' slow path and the stack transformation it calls (each file of
        // runtime/common/stack is a translation unit of its own); not the process move.
        let stack = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("runtime/common/stack").path)
            .filter { $0.hasSuffix(".c") }.sorted().map { "stack/" + $0.dropLast(2) }
        return try (["migrate", "isa", "settings"] + stack).map { name in
            let output = directory.file("\(name.replacingOccurrences(of: "/", with: "_")).\(isa).o")
            try ProcessRunner.checked(try toolchain.path(of: .clang), [
                "--target=\(isa.triple)", "-nostdinc", "-isystem", isa.muslIncludeDir,
                "-isystem", "/usr/lib/llvm-19/lib/clang/19/include", "-I", CProgramHarness.popcornInclude,
                "-O2", "-fno-pic", "-c", root.appendingPathComponent("runtime/common/\(name).c").path, "-o", output,
            ])
            return output
        }
    }

    static func run(_ executable: String, isa: ISA, environment: [String: String]) throws -> ProcessResult {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        if isa.emulator != nil {
            return try ProcessRunner.run(try toolchain.path(of: .qemuAArch64), [executable], environment: env)
        }
        return try ProcessRunner.run(executable, [], environment: env)
    }

    /// The records of the module's `.popcorn.callsites` global.
    static func sideTable(of module: borrowing IRModule) throws -> [CallSiteRecord] {
        guard let global = IR.globals(of: module.ref).first(where: { IR.section(of: $0) == CallSiteTable.section }),
              let initializer = LLVMGetInitializer(global) else { return [] }
        var bytes: [UInt8] = []
        for i in 0..<LLVMGetArrayLength2(LLVMTypeOf(initializer)) {
            bytes.append(UInt8(LLVMConstIntGetZExtValue(LLVMGetAggregateElement(initializer, UInt32(i)))))
        }
        return decodeSideTable(bytes)
    }

    /// Decodes the side table format of `CallSiteTable` (functions and callees are not stored).
    static func decodeSideTable(_ bytes: [UInt8]) -> [CallSiteRecord] {
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        var records: [CallSiteRecord] = []
        var at = 0
        while at + 16 <= bytes.count {
            guard Array(bytes[at..<at + 8]) == CallSiteTable.magic else { at += 8; continue }
            let count = u32(at + 12), listCount = u32(at + 16)
            at += 24
            let recordsAt = at
            at += 16 * count
            var lists: [[CallSiteRecord.Operand]] = []
            for _ in 0..<listCount {
                let operands = u32(at)
                at += 8
                var list: [CallSiteRecord.Operand] = []
                for _ in 0..<operands {
                    let base = Int(bytes[at + 2]) | Int(bytes[at + 3]) << 8
                    list.append(.init(kind: CallSiteRecord.Kind(rawValue: bytes[at])!, size: UInt64(u32(at + 4)),
                                      base: base == 0xffff ? nil : base, holds: CallSiteRecord.Kind(rawValue: bytes[at + 1])))
                    at += 8
                }
                lists.append(list)
            }
            for r in 0..<count {
                let record = recordsAt + 16 * r
                records.append(CallSiteRecord(id: u64(record), function: "", callee: nil, operands: lists[u32(record + 8)]))
            }
        }
        return records
    }

    struct StackMapRecord {
        var function: String
        var id: UInt64
        var offset: Int
        var locations: Int
    }

    /// The stackmap records of an object (`llvm-readobj --stackmap`), with the function each
    /// belongs to (from the relocations of `.llvm_stackmaps`, in function-record order).
    static func stackMaps(of object: String) throws -> [StackMapRecord] {
        let relocations = try ProcessRunner.checked(try tool("llvm-readobj"), ["-r", object]).stdoutText
        var functions: [String] = []
        var inStackMaps = false
        for line in relocations.split(separator: "\n") {
            if line.contains("Section (") { inStackMaps = line.contains(".rela.llvm_stackmaps") }
            else if inStackMaps, let symbol = line.split(separator: " ").dropFirst(2).first {
                functions.append(symbol.hasPrefix(".text.") ? String(symbol.dropFirst(6)) : String(symbol))
            }
        }
        let dump = try ProcessRunner.checked(try tool("llvm-readobj"), ["--stackmap", object]).stdoutText
        // The dump lists every function (with its record count) first, then every record.
        var owners: [String] = []
        var functionCount = 0
        var records: [StackMapRecord] = []
        for line in dump.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("Function address:") {
                let count = Int(line.components(separatedBy: "callsite record count: ").last ?? "") ?? 0
                let function = functionCount < functions.count ? functions[functionCount] : "?"
                functionCount += 1
                owners += Array(repeating: function, count: count)
            } else if line.hasPrefix("Record ID:") {
                let parts = line.replacingOccurrences(of: ",", with: "").split(separator: " ")
                let function = records.count < owners.count ? owners[records.count] : "?"
                records.append(StackMapRecord(function: function, id: UInt64(parts[2])!, offset: Int(parts[5])!, locations: 0))
            } else if line.hasPrefix("#"), !records.isEmpty, line.contains(": ") {
                records[records.count - 1].locations += 1
            }
        }
        return records
    }

    /// For each function of an object, the offsets right after its call instructions.
    static func returnAddresses(of object: String, isa: ISA) throws -> [String: Set<Int>] {
        let listing = try ProcessRunner.checked(try tool("llvm-objdump"), ["-d", "--no-show-raw-insn", object]).stdoutText
        var result: [String: Set<Int>] = [:]
        var function = ""
        var previousWasCall = false
        for line in listing.split(separator: "\n") {
            if line.hasSuffix(">:"), let open = line.firstIndex(of: "<") {
                function = String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])
                previousWasCall = false
                continue
            }
            let parts = line.split(separator: "\t", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 2, parts[0].hasSuffix(":"), let address = Int(parts[0].dropLast(), radix: 16) else { continue }
            if previousWasCall { result[function, default: []].insert(address) }
            let mnemonic = parts[1]
            previousWasCall = isa == .x86_64 ? mnemonic.hasPrefix("call") : (mnemonic == "bl" || mnemonic == "blr")
        }
        return result
    }
}

extension CallSiteRecord {
    /// The record as the side table stores it (functions and callees are not stored).
    var asStored: CallSiteRecord {
        var copy = self
        copy.function = ""
        copy.callee = nil
        return copy
    }
}
