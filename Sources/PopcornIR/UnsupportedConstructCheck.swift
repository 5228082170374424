import CLLVM
import PopcornSupport

/// Pass 1: rejects constructs that cannot be made correct on every ISA, with `file:line: error:`.
///
/// Runs on the portable module before anything else, while the frontend's line tables are
/// still attached. Each problem is reported once; the caller stops after the pass if any
/// error was reported.
struct UnsupportedConstructCheck {
    let locator: SourceLocator
    let diagnostics: DiagnosticsEngine
    /// The libc-boundary checks apply to the native C library only.
    var libc: LibcModel = .native

    /// Checks `module`; returns the number of errors reported.
    func run(on module: LLVMModuleRef) -> Int {
        var errors = 0
        func report(_ message: String, at value: LLVMValueRef?) {
            errors += 1
            if let value {
                let location = locator.location(of: value)
                let context = location.line == nil ? locator.functionContext(of: value) : ""
                diagnostics.error(message + context, at: location)
            } else {
                diagnostics.error(message, at: SourceLocation(file: locator.sourcePath))
            }
        }

        var asmLength = 0
        if let asm = LLVMGetModuleInlineAsm(module, &asmLength), asmLength > 0,
           !String(decoding: UnsafeRawBufferPointer(start: asm, count: asmLength), as: UTF8.self)
               .allSatisfy(\.isWhitespace) {
            report("file-scope inline assembly is not supported: it cannot be lowered for every ISA", at: nil)
        }

        // `asm goto` is a `callbr` instruction, not a call.
        for function in IR.functions(of: module) {
            for instruction in IR.instructions(of: function) where LLVMGetInstructionOpcode(instruction) == LLVMCallBr {
                report("inline assembly is not supported: it cannot be lowered for every ISA", at: instruction)
            }
        }
        for call in IR.calls(in: module) {
            if let callee = LLVMGetCalledValue(call), LLVMIsAInlineAsm(callee) != nil {
                if !Self.isPortableBarrier(callee) {
                    report("inline assembly is not supported: it cannot be lowered for every ISA", at: call)
                }
                continue
            }
            let name = IR.calleeName(of: call) ?? ""
            if name.hasPrefix("llvm.aarch64.") || name.hasPrefix("llvm.x86.") {
                report("target-specific intrinsic '\(name)' is not supported: it exists on one ISA only", at: call)
                continue
            }
            checkVariadicArguments(of: call, report: report)
            if libc == .native, let function = IR.calledFunction(of: call), !IR.isDefinition(function) {
                checkLibcCall(call, name: name, report: report)
            }
        }
        return errors
    }

    /// Constraint codes every ISA's back end reads the same way: a general register, memory, an
    /// immediate, "any of those", or a tie to another operand; and the clobbers of memory and
    /// the flags.
    static let portableConstraints: Set<String> = ["r", "m", "g", "i", "n", "X", "~{memory}", "~{cc}", "~{dirflag}",
                                                   "~{fpsr}", "~{flags}"]

    /// An inline-assembly statement with no instructions whose operands all use portable
    /// constraints: the optimization barrier `asm volatile("" : "+r"(x))` or the compiler fence
    /// `asm volatile("" ::: "memory")` (xxHash, in zstd, guards its rounds this way). It emits
    /// nothing on any ISA and keeps no value anywhere the metadata does not see: the value stays
    /// an ordinary operand of the statement.
    static func isPortableBarrier(_ asm: LLVMValueRef) -> Bool {
        var length = 0
        guard let text = LLVMGetInlineAsmAsmString(asm, &length) else { return false }
        let body = String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
        guard body.allSatisfy(\.isWhitespace) else { return false }
        var constraintLength = 0
        guard let raw = LLVMGetInlineAsmConstraintString(asm, &constraintLength) else { return false }
        let constraints = String(decoding: UnsafeRawBufferPointer(start: raw, count: constraintLength), as: UTF8.self)
        if constraints.isEmpty { return true }
        for part in constraints.split(separator: ",") {
            // Output/input/early-clobber/indirect markers, then the code.
            let code = String(part.drop { "=+&*".contains($0) })
            if portableConstraints.contains(code) || (!code.isEmpty && code.allSatisfy(\.isNumber)) { continue }
            return false
        }
        return true
    }

    /// Variadic arguments that AAPCS and the x86-64 ABI lay out differently on the stack.
    private func checkVariadicArguments(of call: LLVMValueRef, report: (String, LLVMValueRef?) -> Void) {
        let functionType = LLVMGetCalledFunctionType(call)!
        guard LLVMIsFunctionVarArg(functionType) != 0 else { return }
        let fixed = Int(LLVMCountParamTypes(functionType))
        let arguments = IR.arguments(of: call)
        for argument in arguments.dropFirst(fixed) {
            let type = LLVMTypeOf(argument)!
            guard LLVMGetTypeKind(type) == LLVMArrayTypeKind else { continue }
            let element = LLVMGetElementType(type)!
            let count = LLVMGetArrayLength2(type)
            if LLVMGetTypeKind(element) == LLVMFloatTypeKind, count >= 2 {
                report("passing a structure of \(count) floats as a variadic argument is not supported: "
                       + "aarch64 packs it on the stack, x86_64 does not", call)
                return
            }
        }
    }

    /// Calls into libc whose arguments cannot be translated between the two ABIs.
    private func checkLibcCall(_ call: LLVMValueRef, name: String, report: (String, LLVMValueRef?) -> Void) {
        if let entry = LongDoubleFunction.table[name], entry.involvesComplex {
            report("call to '\(name)' is not supported: 'long double _Complex' cannot be passed "
                   + "between the aarch64 and x86_64 formats", call)
            return
        }
        if let formatIndex = LibcVariadicFunctions.scanfFormatIndex(of: name),
           formatIndex < IR.argumentCount(of: call),
           let format = ConstantString.value(of: LLVMGetOperand(call, UInt32(formatIndex))),
           let conversion = FormatString.longDoubleScanConversion(in: format) {
            report("'\(conversion)' conversion in a call to '\(name)' is not supported: x86_64 libc "
                   + "would store an x87 value into a binary128 'long double'", call)
        }
    }
}
