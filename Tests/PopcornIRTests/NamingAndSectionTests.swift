import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Pass 2: names for anonymous globals, explicit sections (the module's local globals sharing one
/// per kind), no mergeable constants.
struct NamingAndSectionTests {
    static let module = """
    source_filename = "lits.c"
    @.str = private unnamed_addr constant [3 x i8] c"hi\\00", align 1
    @.str.1 = private unnamed_addr constant [4 x i8] c"bye\\00", align 1
    @__const.main.table = private unnamed_addr constant [2 x i32] [i32 1, i32 2], align 4
    @counter = dso_local global i32 5, align 4
    @zeroed = dso_local global [4 x i32] zeroinitializer, align 4
    @primes = dso_local constant [2 x i32] [i32 2, i32 3], align 4
    @main.local = internal global i32 7, align 4
    @main.zero = internal global [8 x i64] zeroinitializer, align 8
    @main.aligned = internal constant [40 x i8] zeroinitializer
    @tls = internal thread_local global i32 3, align 4
    @tls_zero = dso_local thread_local global i64 0, align 8
    @chosen = dso_local global i32 1, section ".data.user_chosen", align 4
    @ext = external global i32
    @llvm.used = appending global [1 x ptr] [ptr @counter], section "llvm.metadata"
    declare void @puts(ptr)
    define dso_local void @main() {
      call void @puts(ptr @.str)
      call void @puts(ptr getelementptr inbounds (i8, ptr @.str.1, i64 1))
      call void @puts(ptr @__const.main.table)
      ret void
    }
    define internal void @helper() section ".text.custom" {
      ret void
    }
    """

    struct Missing: Error {}
    /// Unwraps a value looked up in a non-copyable module (which `#require` cannot capture).
    func required<T>(_ value: T?) throws -> T {
        guard let value else { throw Missing() }
        return value
    }

    func prepared() throws -> IRModule {
        let module = try IRModule(ir: Self.module)
        SymbolNaming().run(on: module.ref)
        SectionAssignment().run(on: module.ref)
        try module.verify()
        return module
    }

    @Test func privateGlobalsGetStableInternalNames() throws {
        let module = try prepared()
        let hash = SymbolNaming.moduleHash(module.ref)
        #expect(hash.count == 12)
        for old in ["str", "str.1", "__const.main.table"] {
            let global = try required(module.global(named: "__popcorn.\(hash).\(old)"))
            #expect(LLVMGetLinkage(global) == LLVMInternalLinkage)
            #expect(IR.section(of: global) == ".rodata.__popcorn.\(hash).locals")
            #expect(LLVMGetUnnamedAddress(global) == LLVMNoUnnamedAddr)
        }
        #expect(module.global(named: ".str") == nil)
        #expect(!module.text.contains("unnamed_addr constant"))
        // Same content, same names; different content, different names.
        let again = try prepared()
        #expect(SymbolNaming.moduleHash(again.ref) == hash)
        let other = try IRModule(ir: Self.module.replacingOccurrences(of: "lits.c", with: "other.c"))
        #expect(SymbolNaming.moduleHash(other.ref) != hash)
    }

    @Test func everyDefinitionGetsASectionByKind() throws {
        let module = try prepared()
        let locals = "__popcorn.\(SymbolNaming.moduleHash(module.ref)).locals"
        let expected: [String: String] = [
            "counter": ".data.counter", "zeroed": ".bss.zeroed", "primes": ".rodata.primes",
            "main.local": ".data.\(locals)", "main.zero": ".bss.\(locals)", "main.aligned": ".rodata.\(locals)",
            "tls": ".tdata.tls", "tls_zero": ".tbss.tls_zero",
            "chosen": ".data.user_chosen", "llvm.used": "llvm.metadata",
        ]
        for (name, section) in expected {
            let global = try required(module.global(named: name))
            #expect(IR.section(of: global) == section, "\(name)")
        }
        #expect(IR.section(of: try required(module.global(named: "ext"))) == nil)
        // A grouped global without an alignment gets one, so no back end picks its own.
        #expect(LLVMGetAlignment(try required(module.global(named: "main.aligned"))) > 0)
        #expect(IR.section(of: try required(module.function(named: "main"))) == ".text.main")
        #expect(IR.section(of: try required(module.function(named: "helper"))) == ".text.custom")
        #expect(IR.section(of: try required(module.function(named: "puts"))) == nil)
    }

    /// The output of `llvm-readelf --wide <options> object`.
    func readelf(_ options: [String], _ object: String) throws -> String {
        let readelf = "/usr/lib/llvm-19/bin/llvm-readelf"
        try Toolchain.requireFile(readelf, package: "llvm-19")
        return try ProcessRunner.checked(readelf, options + ["--wide", object]).stdoutText
    }

    /// Runs `llvm-readelf --sections` and returns the section names.
    func sectionNames(of object: String) throws -> Set<String> {
        let output = try readelf(["--sections"], object)
        var names = Set<String>()
        for line in output.split(separator: "\n") {
            guard let bracket = line.firstIndex(of: "]") else { continue }
            if let name = line[line.index(after: bracket)...].split(separator: " ").first { names.insert(String(name)) }
        }
        return names
    }

    @Test func objectsOfBothISAsShareTheProgramsSections() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let objects = try CProgramHarness.popcornObjects(CProgramHarness.input("strings.c.in"), in: directory)
        let kinds = [".text.", ".rodata.", ".data.", ".bss.", ".tdata.", ".tbss."]
        func programSections(_ isa: ISA) throws -> Set<String> {
            try sectionNames(of: try #require(objects[isa])).filter { name in
                kinds.contains { name.hasPrefix($0) } && !name.hasPrefix(".rodata.cst")
            }
        }
        let x86 = try programSections(.x86_64), arm = try programSections(.aarch64)
        #expect(x86 == arm)
        #expect(x86.contains(".text.main"))
        #expect(x86.contains(".data.user_chosen"))
        #expect(x86.contains(".tdata.tls_counter"))
        #expect(x86.contains(".tbss.tls_zero"))
        #expect(x86.contains(".bss.zeroed"))
        #expect(x86.contains { $0.hasPrefix(".rodata.__popcorn.") && $0.hasSuffix(".locals") })
        #expect(!x86.contains { $0.hasSuffix(".str") || $0.hasSuffix(".greetings") }, "a local global in a section of its own")
        for isa in ISA.allCases {
            let all = try sectionNames(of: try #require(objects[isa]))
            #expect(!all.contains { $0.hasPrefix(".rodata.str") }, "mergeable string section on \(isa)")
        }
    }

    /// `llvm-readelf --symbols` of an object: each defined local object or thread-local symbol's
    /// section name, offset in it and size.
    func localObjects(of object: String) throws -> [String: String] {
        let output = try readelf(["--sections", "--symbols"], object)
        var sections: [String: String] = [:]
        var objects: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            // Section lines: "[ n] name type ..."; symbol lines: "n: value size OBJECT LOCAL vis ndx name".
            if line.contains("["), let close = line.firstIndex(of: "]"), let open = line.firstIndex(of: "[") {
                let index = line[line.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
                if let name = line[line.index(after: close)...].split(separator: " ").first { sections[index] = String(name) }
            } else if fields.count >= 8, fields[0].hasSuffix(":"), fields[3] == "OBJECT" || fields[3] == "TLS", fields[4] == "LOCAL" {
                objects[String(fields[7])] = "\(sections[String(fields[6])] ?? "?")+\(fields[1]) size \(fields[2])"
            }
        }
        return objects
    }

    /// At -Oz, where aarch64's global merging (off in `LLVMTargets`) would pack `bump`'s statics
    /// into one object sorted by size, as it did musl's allocator statics.
    @Test func localGlobalsSitAtTheSameOffsetsOnEveryISA() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let objects = try CProgramHarness.popcornObjects(CProgramHarness.input("strings.c.in"), in: directory, optimization: "z")
        let x86 = try localObjects(of: try #require(objects[.x86_64]))
        let arm = try localObjects(of: try #require(objects[.aarch64]))
        // String literals, the greeting table, the odd-sized array before the doubles, the zeroed
        // array; the thread-locals keep sections of their own.
        #expect(x86.count >= 8, "\(x86)")
        #expect(x86 == arm)
        let grouped = x86.filter { $0.value.contains(".locals+") }
        #expect(grouped.count >= 7, "\(x86)")
        #expect(Set(grouped.values.map { $0.prefix { $0 != "+" } }).count == 3, "one section per kind: \(grouped)")
        #expect(x86.contains { $0.key == "tls_counter" && $0.value.hasPrefix(".tdata.tls_counter+") })
    }
}
