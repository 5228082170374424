import CLLVM
import PopcornSupport

/// Finds user-facing source positions for IR values from their debug locations.
///
/// The frontend always emits at least line tables (`-gline-tables-only`), so instructions
/// usually carry `file:line`. Where they do not (e.g. instructions synthesised by the
/// optimiser), the position falls back to the enclosing function's line and then to the
/// translation unit, and the message names the function instead.
struct SourceLocator {
    /// The user's source file, used when a value has no debug location at all.
    let sourcePath: String

    /// The location of an instruction (or function), and whether it has a line.
    func location(of value: LLVMValueRef) -> SourceLocation {
        if let located = debugLocation(of: value) { return located }
        if LLVMIsAInstruction(value) != nil, let block = LLVMGetInstructionParent(value),
           let function = LLVMGetBasicBlockParent(block), let located = debugLocation(of: function) {
            return located
        }
        return SourceLocation(file: sourcePath)
    }

    /// A phrase naming the function that contains `value`, for messages whose location has no line.
    func functionContext(of value: LLVMValueRef) -> String {
        guard LLVMIsAInstruction(value) != nil, let block = LLVMGetInstructionParent(value),
              let function = LLVMGetBasicBlockParent(block) else { return "" }
        return " in function '\(IR.name(of: function))'"
    }

    private func debugLocation(of value: LLVMValueRef) -> SourceLocation? {
        if LLVMIsAInstruction(value) != nil, LLVMInstructionGetDebugLoc(value) == nil { return nil }
        if LLVMIsAFunction(value) != nil, LLVMGetSubprogram(value) == nil { return nil }
        let line = Int(LLVMGetDebugLocLine(value))
        guard line > 0 else { return nil }
        var length: UInt32 = 0
        var file = sourcePath
        if let name = LLVMGetDebugLocFilename(value, &length), length > 0 {
            file = String(decoding: UnsafeRawBufferPointer(start: name, count: Int(length)), as: UTF8.self)
        }
        let column = LLVMIsAInstruction(value) != nil ? Int(LLVMGetDebugLocColumn(value)) : 0
        return SourceLocation(file: file, line: line, column: column > 0 ? column : nil)
    }
}
