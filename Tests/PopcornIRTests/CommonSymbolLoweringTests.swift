import CLLVM
import PopcornSupport
import Testing
@testable import PopcornIR

/// `-fcommon` tentative definitions become weak definitions in sections of their own.
struct CommonSymbolLoweringTests {
    static let module = """
    source_filename = "common.c"
    @shared = common global i32 0, align 4
    @buffer = common global [100 x i32] zeroinitializer, align 16
    @strong = dso_local global i32 0, align 4
    @initialised = dso_local global i32 3, align 4
    @weakly = weak dso_local global i32 0, align 4
    @ext = external global i32
    define i32 @get() {
      %v = load i32, ptr @shared, align 4
      ret i32 %v
    }
    """

    struct Missing: Error {}
    func required(_ value: LLVMValueRef?) throws -> LLVMValueRef {
        guard let value else { throw Missing() }
        return value
    }

    @Test func commonGlobalsBecomeWeakWithTheirOwnBSSSection() throws {
        let module = try IRModule(ir: Self.module)
        #expect(CommonSymbolLowering().run(on: module.ref) == 2)
        SectionAssignment().run(on: module.ref)
        try module.verify()
        for name in ["shared", "buffer"] {
            let global = try required(module.global(named: name))
            #expect(LLVMGetLinkage(global) == LLVMWeakAnyLinkage, "\(name)")
            #expect(IR.section(of: global) == ".bss.\(name)")
            #expect(LLVMIsNull(try required(LLVMGetInitializer(global))) != 0)
        }
        #expect(LLVMGetAlignment(try required(module.global(named: "buffer"))) == 16)
        // Everything else keeps its linkage.
        #expect(LLVMGetLinkage(try required(module.global(named: "strong"))) == LLVMExternalLinkage)
        #expect(LLVMGetLinkage(try required(module.global(named: "initialised"))) == LLVMExternalLinkage)
        #expect(LLVMGetLinkage(try required(module.global(named: "weakly"))) == LLVMWeakAnyLinkage)
        #expect(LLVMGetLinkage(try required(module.global(named: "ext"))) == LLVMExternalLinkage)
        #expect(IR.isDefinition(try required(module.global(named: "ext"))) == false)
    }

    /// The full portable pipeline leaves no common global, so no object ever has an SHN_COMMON symbol.
    @Test func thePortablePassesLeaveNoCommonGlobal() throws {
        let module = try IRModule(ir: Self.module)
        try Backend.preparePortable(module, sourcePath: "common.c", keepDebugInfo: false, diagnostics: DiagnosticsEngine(toolName: "popcorn-cc", sink: { _ in }))
        #expect(!IR.globals(of: module.ref).contains { LLVMGetLinkage($0) == LLVMCommonLinkage })
        #expect(IR.section(of: try required(module.global(named: "shared"))) == ".bss.shared")
    }

    @Test func aModuleWithoutCommonGlobalsIsUnchanged() throws {
        let module = try IRModule(ir: "@x = dso_local global i32 0, align 4\n")
        #expect(CommonSymbolLowering().run(on: module.ref) == 0)
        #expect(LLVMGetLinkage(try required(module.global(named: "x"))) == LLVMExternalLinkage)
    }
}
