import CLLVM
import PopcornSupport

/// Portable pass (migratable code only, after `UnsupportedConstructCheck`): rejects code addresses
/// other than function entries that the program keeps, with `file:line: error:`.
///
/// Functions sit at one address on every ISA, but the code inside them does not: a label's address
/// (`&&label`) or a return address (`__builtin_return_address`) is an address in one ISA's code. A
/// process that moves keeps its memory, so such an address kept in writable data, stored, passed
/// on or returned would send the destination into the middle of the wrong instructions. What
/// stays correct is left alone: a `static const` table of labels (read-only data is not carried
/// by a move; each binary reads its own table, which is how interpreters such as Lua dispatch),
/// and label addresses that only flow into a computed `goto`.
///
/// Pre: a frontend module. Post: no blockaddress reaches writable data or anything other than an
/// indirect branch, and nothing asks for a return address; otherwise errors were reported.
struct CodeAddressCheck {
    let locator: SourceLocator
    let diagnostics: DiagnosticsEngine

    static let labelAdvice = "labels as values (&&label) are addresses in one ISA's code: "
    static let fix = "; use a 'static const' table, or compile this file with -fpopcorn-migration=none"

    /// Checks the module; returns the number of errors reported.
    func run(on module: LLVMModuleRef) -> Int {
        var errors = 0
        for global in IR.globals(of: module) where LLVMIsGlobalConstant(global) == 0 {
            guard let initializer = LLVMGetInitializer(global), Self.containsBlockAddress(initializer) else { continue }
            errors += 1
            // Located at its first use (a table of labels is a static local of the function
            // whose labels it holds); the file alone when nothing uses it.
            let message = Self.labelAdvice + "'\(IR.name(of: global))' keeps them in writable data, which a "
                + "migration carries to the other ISA" + Self.fix
            if let use = Self.firstUse(of: global) {
                report(message, at: use)
            } else {
                diagnostics.error(message, at: SourceLocation(file: locator.sourcePath))
            }
        }
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            for instruction in IR.instructions(of: function) {
                if LLVMIsACallInst(instruction) != nil, let name = IR.calleeName(of: instruction),
                   name == "llvm.returnaddress" || name == "llvm.addressofreturnaddress" {
                    errors += 1
                    report("__builtin_return_address gives an address in one ISA's code, which is wrong after a "
                           + "migration; not supported in migratable code (compile this file with -fpopcorn-migration=none)",
                           at: instruction)
                    continue
                }
                if LLVMIsAPHINode(instruction) != nil || LLVMIsASelectInst(instruction) != nil
                    || LLVMGetInstructionOpcode(instruction) == LLVMIndirectBr {
                    if Self.flowsOnlyIntoJumps(instruction) { continue }
                }
                let operands = LLVMGetNumOperands(instruction)
                for index in 0..<max(0, operands) {
                    guard let operand = LLVMGetOperand(instruction, UInt32(index)), Self.containsBlockAddress(operand) else { continue }
                    if LLVMGetInstructionOpcode(instruction) == LLVMIndirectBr { continue }
                    errors += 1
                    report(Self.labelAdvice + "this one is stored, passed on or kept, and would be wrong after a migration"
                           + Self.fix, at: instruction)
                    break
                }
            }
        }
        return errors
    }

    private func report(_ message: String, at value: LLVMValueRef) {
        let location = locator.location(of: value)
        diagnostics.error(message + (location.line == nil ? locator.functionContext(of: value) : ""), at: location)
    }

    /// The first instruction, in the order of its function, that uses `global`.
    static func firstUse(of global: LLVMValueRef) -> LLVMValueRef? {
        let users = IR.instructionUsers(of: global)
        guard let any = users.first, let block = LLVMGetInstructionParent(any),
              let function = LLVMGetBasicBlockParent(block) else { return nil }
        let set = Set(users.map { UnsafeRawPointer($0) })
        return IR.instructions(of: function).first { set.contains(UnsafeRawPointer($0)) } ?? any
    }

    /// Whether `constant` is, or (in an aggregate or constant expression) contains, a blockaddress.
    static func containsBlockAddress(_ value: LLVMValueRef) -> Bool {
        if LLVMIsABlockAddress(value) != nil { return true }
        guard LLVMIsAConstant(value) != nil, LLVMIsAGlobalValue(value) == nil else { return false }
        let count = LLVMGetNumOperands(value)
        for index in 0..<max(0, count) {
            if let operand = LLVMGetOperand(value, UInt32(index)), containsBlockAddress(operand) { return true }
        }
        return false
    }

    /// A phi or select whose value only reaches indirect branches (through more phis or selects).
    static func flowsOnlyIntoJumps(_ value: LLVMValueRef) -> Bool {
        if LLVMGetInstructionOpcode(value) == LLVMIndirectBr { return true }
        var work = [value]
        var seen = Set<UnsafeRawPointer>()
        while let current = work.popLast() {
            guard seen.insert(UnsafeRawPointer(current)).inserted else { continue }
            for user in IR.instructionUsers(of: current) {
                if LLVMGetInstructionOpcode(user) == LLVMIndirectBr { continue }
                if LLVMIsAPHINode(user) != nil || LLVMIsASelectInst(user) != nil { work.append(user); continue }
                return false
            }
        }
        return true
    }
}
