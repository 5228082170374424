import CLLVM

/// Whether the address of a stack allocation can outlive the instruction that uses it: shared by
/// `ObjectStack` (which moves such objects to the object stack) and `StackMaps` (which describes
/// the ones that stay in native frames).
enum AllocaEscape {
    /// True if `pointer` (or a pointer derived from it) is passed to a non-intrinsic call, stored,
    /// converted to an integer, returned, or used in any way other than loading, storing to it,
    /// or comparing it.
    static func escapes(_ pointer: LLVMValueRef) -> Bool {
        anyUse(of: pointer) { user, value in
            if LLVMIsALoadInst(user) != nil || LLVMIsAICmpInst(user) != nil { return false }
            if LLVMIsAStoreInst(user) != nil { return LLVMGetOperand(user, 0) == value }
            if LLVMIsACallInst(user) != nil, IR.isIntrinsicCall(user) { return false }
            return true
        }
    }

    /// True if `pointer` (or a pointer derived from it) is an argument of a call of `names`.
    static func reaches(_ pointer: LLVMValueRef, callsOf names: Set<String>) -> Bool {
        anyUse(of: pointer) { user, _ in
            guard LLVMIsACallInst(user) != nil, let name = IR.calleeName(of: user) else { return false }
            return names.contains(name)
        }
    }

    /// Whether `test(user, value)` holds for some use of `pointer` or of a pointer derived from it
    /// (through getelementptr, casts, select and phi, which are followed rather than tested).
    private static func anyUse(of pointer: LLVMValueRef, _ test: (_ user: LLVMValueRef, _ value: LLVMValueRef) -> Bool) -> Bool {
        var work = [pointer]
        var seen = Set<UnsafeRawPointer>()
        while let value = work.popLast() {
            guard seen.insert(UnsafeRawPointer(value)).inserted else { continue }
            var use = LLVMGetFirstUse(value)
            while let u = use {
                defer { use = LLVMGetNextUse(u) }
                let user = LLVMGetUser(u)!
                if LLVMIsAGetElementPtrInst(user) != nil || LLVMIsABitCastInst(user) != nil
                    || LLVMIsAAddrSpaceCastInst(user) != nil || LLVMIsASelectInst(user) != nil
                    || LLVMIsAPHINode(user) != nil {
                    work.append(user)
                    continue
                }
                if test(user, value) { return true }
            }
        }
        return false
    }
}
