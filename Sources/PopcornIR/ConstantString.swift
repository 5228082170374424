import CLLVM

/// Reads the text of constant C strings (narrow or wide) that calls pass as arguments.
enum ConstantString {
    /// The characters (as Unicode scalars, up to the first NUL) of the constant array that
    /// `value` points to, or nil if it is not a pointer to a constant global string.
    static func value(of value: LLVMValueRef?) -> String? {
        guard var pointer = value else { return nil }
        var offset = 0
        // `getelementptr inbounds (i8, ptr @.str, i64 k)` points into the middle of a string.
        if LLVMIsAConstantExpr(pointer) != nil, LLVMGetConstOpcode(pointer) == LLVMGetElementPtr {
            if LLVMGetNumOperands(pointer) == 2, let index = LLVMGetOperand(pointer, 1),
               LLVMIsAConstantInt(index) != nil {
                offset = Int(LLVMConstIntGetSExtValue(index))
            }
            pointer = LLVMGetOperand(pointer, 0)
        }
        guard LLVMIsAGlobalVariable(pointer) != nil, LLVMIsGlobalConstant(pointer) != 0,
              let initializer = LLVMGetInitializer(pointer) else { return nil }
        let type = LLVMTypeOf(initializer)!
        guard LLVMGetTypeKind(type) == LLVMArrayTypeKind else { return nil }
        let element = LLVMGetElementType(type)!
        guard LLVMGetTypeKind(element) == LLVMIntegerTypeKind else { return nil }
        let width = Int(LLVMGetIntTypeWidth(element))
        let count = Int(LLVMGetArrayLength2(type))
        let start = width == 8 ? offset : offset / max(width / 8, 1)
        guard start >= 0, start <= count else { return nil }
        var scalars = String.UnicodeScalarView()
        for i in start..<count {
            guard let item = LLVMGetAggregateElement(initializer, UInt32(i)), LLVMIsAConstantInt(item) != nil
            else { return nil }
            let code = UInt32(truncatingIfNeeded: LLVMConstIntGetZExtValue(item))
            if code == 0 { break }
            scalars.append(Unicode.Scalar(code) ?? "?")
        }
        return String(scalars)
    }
}
