import CLLVM

/// Portable pass: tells the runtime where the program's `jmp_buf`s are.
///
/// A `jmp_buf` holds a stack pointer, a frame pointer, a return address and callee-saved
/// registers in the layout of the ISA that filled it. After the stack has been rebuilt (same-ISA
/// rewrite or a move to the other ISA) all of these are wrong, and a `longjmp` to the buffer
/// would jump into the old stack. The runtime can rewrite such a buffer along with the stack
/// (docs/STACK-TRANSFORM.md, "jmp_bufs"), but only if it knows where the buffer is: it may be a
/// local, a global, or in the heap. So right after every call of a setjmp-family function this
/// pass inserts
///
/// ```
/// call void @__popcorn_jmp_buf_note(ptr <buf>)
/// ```
///
/// which runs after both returns of the call (a noted buffer is simply noted again). The note
/// call gets no stackmap (`StackMaps.isInstrumented`): the runtime never migrates inside it.
/// The setjmp call itself does (`LibraryFunctions` leaves the setjmp family out), so its return
/// address has a call-site ID on every ISA and the values live across it are in frame slots.
struct JmpBufNotes {
    /// The runtime function recording a buffer (runtime/common/stack/jmpbuf.c).
    static let noteFunction = "__popcorn_jmp_buf_note"

    /// Functions that fill a `jmp_buf` passed as their first argument and return twice.
    static let setjmpFamily: Set<String> = ["setjmp", "_setjmp", "sigsetjmp", "__sigsetjmp"]

    /// Inserts a note after every direct call of a setjmp-family function in the definitions
    /// `included` accepts; returns the notes inserted.
    @discardableResult
    func run(on module: LLVMModuleRef, including included: (LLVMValueRef) -> Bool = { _ in true }) -> [LLVMValueRef] {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var notes: [LLVMValueRef] = []
        var note: (type: LLVMTypeRef, function: LLVMValueRef)? = nil
        for function in IR.functions(of: module) where IR.isDefinition(function) && included(function) {
            for call in IR.instructions(of: function) where Self.isSetjmpCall(call) {
                guard let buffer = IR.arguments(of: call).first,
                      LLVMGetTypeKind(LLVMTypeOf(buffer)) == LLVMPointerTypeKind else { continue }
                let (type, callee) = note ?? Self.noteDeclaration(in: module, context: context)
                note = (type, callee)
                builder.position(after: call)
                builder.takeDebugLocation(from: call)
                var arguments: [LLVMValueRef?] = [buffer]
                let inserted = LLVMBuildCall2(builder.ref, type, callee, &arguments, 1, "")!
                notes.append(inserted)
            }
        }
        return notes
    }

    /// True for a direct call of a setjmp-family function this module only declares.
    static func isSetjmpCall(_ instruction: LLVMValueRef) -> Bool {
        guard LLVMIsACallInst(instruction) != nil, let function = IR.calledFunction(of: instruction),
              !IR.isDefinition(function) else { return false }
        return setjmpFamily.contains(IR.name(of: function))
    }

    /// `void __popcorn_jmp_buf_note(ptr)`, declared once per module with hidden visibility (a direct
    /// call) and `nounwind`.
    static func noteDeclaration(in module: LLVMModuleRef, context: LLVMContextRef) -> (LLVMTypeRef, LLVMValueRef) {
        var parameters: [LLVMTypeRef?] = [LLVMPointerTypeInContext(context, 0)]
        let type = LLVMFunctionType(LLVMVoidTypeInContext(context), &parameters, 1, 0)!
        if let existing = LLVMGetNamedFunction(module, noteFunction) { return (type, existing) }
        let function = LLVMAddFunction(module, noteFunction, type)!
        LLVMSetVisibility(function, LLVMHiddenVisibility)
        LLVMAddAttributeAtIndex(function, LLVMAttributeIndex.max, MigrationPoints.enumAttribute("nounwind", context))
        return (type, function)
    }
}
