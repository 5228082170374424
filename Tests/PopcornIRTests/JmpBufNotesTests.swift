import CLLVM
import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// setjmp-family calls get a stackmap (their return address is where a longjmp resumes) and are
/// followed by a note telling the runtime where the jmp_buf is; the note itself is never instrumented.
struct JmpBufNotesTests {
    static let program = MigrationTestSupport.header + """

    declare i32 @setjmp(ptr) returns_twice
    declare i32 @sigsetjmp(ptr, i32) returns_twice
    declare i32 @strcmp(ptr, ptr)
    declare void @user(ptr)
    @global_buf = global [312 x i8] zeroinitializer
    define i32 @f(ptr %a, i64 %n) {
    entry:
      %buf = alloca [312 x i8], align 16
      %r = call i32 @setjmp(ptr %buf)
      %c = icmp eq i32 %r, 0
      br i1 %c, label %body, label %caught
    body:
      call void @user(ptr %buf)
      %s = call i32 @sigsetjmp(ptr @global_buf, i32 1)
      %x = call i32 @strcmp(ptr %a, ptr %a)
      ret i32 %x
    caught:
      %m = trunc i64 %n to i32
      %sum = add i32 %m, %r
      ret i32 %sum
    }
    """

    /// The first call after a stackmap: the stackmap (or the pin of the call's result right after
    /// it, `CallResultPin`) ends its block with a `switch` to the block holding what followed the
    /// call (slot writes and reads may come first).
    static func firstCall(after stackmap: LLVMValueRef) -> LLVMValueRef? {
        var next = LLVMGetNextInstruction(stackmap)
        if let pin = next, CallResultPin.isPlaceholder(pin) { next = LLVMGetNextInstruction(pin) }
        guard let edge = next, LLVMIsASwitchInst(edge) != nil,
              let block = LLVMGetSwitchDefaultDest(edge) else { return nil }
        var current = LLVMGetFirstInstruction(block)
        while let c = current, LLVMIsACallInst(c) == nil { current = LLVMGetNextInstruction(c) }
        return current
    }

    @Test func setjmpCallsGetAStackmapAndANote() throws {
        let module = try IRModule(ir: Self.program)
        var maps = StackMaps()
        maps.library = LibraryFunctions(names: ["setjmp", "sigsetjmp", "strcmp"])
        let records = maps.run(on: module.ref)
        try module.verify()
        // The library set names setjmp and sigsetjmp, yet both are instrumented; strcmp is not,
        // and neither are the notes.
        #expect(records.map(\.callee) == ["setjmp", "user", "sigsetjmp"])
        let function = try #require(LLVMGetNamedFunction(module.ref, "f"))
        let calls = IR.instructions(of: function).filter { LLVMIsACallInst($0) != nil }
        let notes = calls.filter { IR.calleeName(of: $0) == JmpBufNotes.noteFunction }
        #expect(notes.count == 2)
        for name in ["setjmp", "sigsetjmp"] {
            let call = try #require(calls.first { IR.calleeName(of: $0) == name })
            // setjmp; stackmap; (new block) note(buf)
            let stackmap = try #require(LLVMGetNextInstruction(call))
            #expect(IR.calleeName(of: stackmap) == StackMaps.intrinsic)
            let note = try #require(Self.firstCall(after: stackmap))
            #expect(IR.calleeName(of: note) == JmpBufNotes.noteFunction, "\(name)")
            #expect(IR.arguments(of: note).first == IR.arguments(of: call).first, "\(name): the note gets the buffer")
        }
        // `n` is live across setjmp (the longjmp path uses it): it sits in a slot the stackmap lists.
        let setjmpRecord = try #require(records.first { $0.callee == "setjmp" })
        #expect(setjmpRecord.operands.count >= 2, "the buffer and the slot of n")
        let declaration = try #require(LLVMGetNamedFunction(module.ref, JmpBufNotes.noteFunction))
        #expect(LLVMGetVisibility(declaration) == LLVMHiddenVisibility)
    }

    @Test func libraryFunctionsNeverContainTheSetjmpFamily() {
        let library = LibraryFunctions(names: ["setjmp", "_setjmp", "sigsetjmp", "__sigsetjmp", "longjmp", "strcmp"])
        for name in JmpBufNotes.setjmpFamily { #expect(!library.contains(name), "\(name)") }
        #expect(library.contains("longjmp") && library.contains("strcmp"))
        #expect(!LibraryFunctions.musl.contains("setjmp"))
        #expect(LibraryFunctions.musl.contains("longjmp"))
    }

    @Test func modulesWithoutSetjmpGetNoNoteDeclaration() throws {
        let module = try IRModule(ir: MigrationTestSupport.header + """

        declare void @user(ptr)
        define void @g(ptr %p) {
          call void @user(ptr %p)
          ret void
        }
        """)
        #expect(JmpBufNotes().run(on: module.ref).isEmpty)
        #expect(LLVMGetNamedFunction(module.ref, JmpBufNotes.noteFunction) == nil)
    }

    /// A C program through the frontend and every portable pass: its setjmp and sigsetjmp
    /// (`__sigsetjmp` or `sigsetjmp`, as the headers spell it) calls are noted.
    @Test func cProgramSetjmpCallsAreNoted() throws {
        let directory = try TemporaryDirectory(prefix: "jmpbuf-notes")
        let module = try MigrationTestSupport.portable("""
        #include <setjmp.h>
        static jmp_buf b;
        static sigjmp_buf s;
        void work(void);
        int f(int n) {
            if (setjmp(b)) return n;
            if (sigsetjmp(s, 1)) return n + 1;
            work();
            return 0;
        }
        """, name: "notes.c", in: directory)
        let function = try #require(LLVMGetNamedFunction(module.ref, "f"))
        let notes = IR.instructions(of: function).filter {
            LLVMIsACallInst($0) != nil && IR.calleeName(of: $0) == JmpBufNotes.noteFunction
        }
        #expect(notes.count == 2)
    }
}
