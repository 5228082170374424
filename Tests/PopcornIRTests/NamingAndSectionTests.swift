import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// Pass 2: names for anonymous globals, explicit sections, no mergeable constants.
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
            #expect(IR.section(of: global) == ".rodata.__popcorn.\(hash).\(old)")
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
        let expected: [String: String] = [
            "counter": ".data.counter", "zeroed": ".bss.zeroed", "primes": ".rodata.primes",
            "main.local": ".data.main.local", "tls": ".tdata.tls", "tls_zero": ".tbss.tls_zero",
            "chosen": ".data.user_chosen", "llvm.used": "llvm.metadata",
        ]
        for (name, section) in expected {
            let global = try required(module.global(named: name))
            #expect(IR.section(of: global) == section, "\(name)")
        }
        #expect(IR.section(of: try required(module.global(named: "ext"))) == nil)
        #expect(IR.section(of: try required(module.function(named: "main"))) == ".text.main")
        #expect(IR.section(of: try required(module.function(named: "helper"))) == ".text.custom")
        #expect(IR.section(of: try required(module.function(named: "puts"))) == nil)
    }

    /// Runs `llvm-readelf --sections` and returns the section names.
    func sectionNames(of object: String) throws -> Set<String> {
        let readelf = "/usr/lib/llvm-19/bin/llvm-readelf"
        try Toolchain.requireFile(readelf, package: "llvm-19")
        let output = try ProcessRunner.checked(readelf, ["--sections", "--wide", object]).stdoutText
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
        #expect(x86.contains { $0.hasPrefix(".rodata.__popcorn.") && $0.hasSuffix(".str") })
        for isa in ISA.allCases {
            let all = try sectionNames(of: try #require(objects[isa]))
            #expect(!all.contains { $0.hasPrefix(".rodata.str") }, "mergeable string section on \(isa)")
        }
    }
}
