import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// `StaticConstructorLowering`: constructor and destructor lists become priority-numbered
/// init/fini arrays, identical on every ISA, instead of the `.ctors`/`.dtors` musl ignores.
@Suite struct StaticConstructorLoweringTests {
    static let program = """
    void a(void) __attribute__((constructor(200)));
    void b(void) __attribute__((constructor(101)));
    void c(void) __attribute__((constructor));
    void d(void) __attribute__((constructor(200)));
    void x(void) __attribute__((destructor(300)));
    void y(void) __attribute__((destructor));
    volatile int seen; /* empty constructors would be optimised out of the list */
    void a(void) { seen = 1; } void b(void) { seen = 2; } void c(void) { seen = 3; }
    void d(void) { seen = 4; } void x(void) { seen = 5; } void y(void) { seen = 6; }
    """

    private func module(in directory: TemporaryDirectory) throws -> IRModule {
        try MigrationTestSupport.portable(Self.program, name: "ctors.c", in: directory)
    }

    @Test func listsBecomeArraysPerPriorityInSourceOrder() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ctor-test")
        let portable = try module(in: directory)
        #expect(LLVMGetNamedGlobal(portable.ref, "llvm.global_ctors") == nil)
        #expect(LLVMGetNamedGlobal(portable.ref, "llvm.global_dtors") == nil)
        var arrays: [String: [String]] = [:]
        for global in IR.globals(of: portable.ref) {
            guard let section = IR.section(of: global), section.hasPrefix(".init_array") || section.hasPrefix(".fini_array"),
                  let initializer = LLVMGetInitializer(global) else { continue }
            arrays[section] = (0..<LLVMGetNumOperands(initializer)).map { IR.name(of: LLVMGetOperand(initializer, UInt32($0))) }
            #expect(LLVMGetLinkage(global) == LLVMInternalLinkage)
        }
        #expect(arrays == [".init_array.101": ["b"], ".init_array.200": ["a", "d"], ".init_array": ["c"],
                           ".fini_array.300": ["x"], ".fini_array": ["y"]])
        // Nothing else references the arrays: they are kept alive like the lists were.
        #expect(portable.text.contains("@llvm.compiler.used"))
    }

    @Test func everyISAsObjectHasTheSameInitArraySectionsAndNoCtors() throws {
        let directory = try TemporaryDirectory(prefix: "popcorn-ctor-test")
        let portable = try module(in: directory)
        let objects = try Backend.lower(portable.bitcode(), name: "ctors.c", isas: ISA.allCases, optimization: .o2,
                                        assembly: false)
        var sectionsByISA: [ISA: [String]] = [:]
        for isa in ISA.allCases {
            let path = directory.file("ctors.\(isa).o")
            try AtomicFile.write(try #require(objects[isa]), to: path)
            let listing = try ProcessRunner.checked("/usr/bin/readelf", ["-SW", path]).stdoutText
            #expect(!listing.contains(".ctors") && !listing.contains(".dtors"), "\(isa)")
            sectionsByISA[isa] = listing.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ").map(String.init)
                return fields.first { $0.hasPrefix(".init_array") || $0.hasPrefix(".fini_array") }
                    .flatMap { name in fields.contains(name.hasPrefix(".init") ? "INIT_ARRAY" : "FINI_ARRAY") ? name : nil }
            }
        }
        #expect(sectionsByISA[.x86_64] == [".init_array.101", ".init_array.200", ".init_array",
                                           ".fini_array.300", ".fini_array"])
        #expect(sectionsByISA[.aarch64] == sectionsByISA[.x86_64])
    }
}
