import CLLVM
import PopcornSupport
import Testing
@testable import PopcornIR

/// Functions with stackmaps lose the stack protector (a moved frame has no canary); the others
/// keep it; one warning per file.
struct StackProtectorRemovalTests {
    @Test func onlyMigratableFunctionsLoseTheProtector() throws {
        let module = try IRModule(ir: MigrationTestSupport.header + """

        declare void @g(ptr)
        declare void @llvm.experimental.stackmap(i64, i32, ...)
        define void @migratable() #0 {
          %buf = alloca [64 x i8]
          call void @g(ptr %buf)
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 1, i32 0, ptr %buf)
          ret void
        }
        define void @excluded() #0 {
          %buf = alloca [64 x i8]
          call void @g(ptr %buf)
          ret void
        }
        define void @also() #1 {
          %buf = alloca [64 x i8]
          call void @g(ptr %buf)
          call void (i64, i32, ...) @llvm.experimental.stackmap(i64 2, i32 0, ptr %buf)
          ret void
        }
        attributes #0 = { sspstrong }
        attributes #1 = { sspreq }
        """)
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        let engine = DiagnosticsEngine(toolName: "popcorn-cc", sink: { lines.all.append($0) })
        #expect(StackProtectorRemoval(diagnostics: engine).run(on: module.ref) == 2)
        try module.verify()
        func protected(_ name: String) throws -> Bool {
            let named = module.function(named: name)
            let function = try #require(named)
            return StackProtectorRemoval.attributes.contains { attribute in
                LLVMGetEnumAttributeAtIndex(function, LLVMAttributeIndex.max,
                                            LLVMGetEnumAttributeKindForName(attribute, attribute.utf8.count)) != nil
            }
        }
        #expect(try !protected("migratable") && !protected("also"))
        #expect(try protected("excluded"))
        #expect(lines.all.count == 1 && lines.all[0].contains("warning: the stack protector is not supported"), "\(lines.all)")
    }
}
