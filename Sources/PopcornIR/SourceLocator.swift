import CLLVM
import Foundation
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
        var file = sourcePath
        if let name = Self.string(LLVMGetDebugLocFilename, value), !name.isEmpty {
            // clang records the file relative to its compilation directory when it can. Print it
            // the way clang's own diagnostics do: as the user named it on the command line.
            let directory = Self.string(LLVMGetDebugLocDirectory, value) ?? ""
            let resolved = name.hasPrefix("/") || directory.isEmpty ? name : Path.join(directory, name)
            file = Self.sameFile(resolved, sourcePath) ? sourcePath : name
        }
        let column = LLVMIsAInstruction(value) != nil ? Int(LLVMGetDebugLocColumn(value)) : 0
        return SourceLocation(file: file, line: line, column: column > 0 ? column : nil)
    }

    private static func string(_ get: (LLVMValueRef?, UnsafeMutablePointer<UInt32>?) -> UnsafePointer<CChar>?,
                               _ value: LLVMValueRef) -> String? {
        var length: UInt32 = 0
        guard let chars = get(value, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: chars, count: Int(length)), as: UTF8.self)
    }

    /// Whether two paths name one file (same device and inode), e.g. `a.c` and `/home/u/a.c`.
    private static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return a == b }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
