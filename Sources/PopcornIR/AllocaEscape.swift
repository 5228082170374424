import CLLVM

/// Whether the address of a stack allocation can outlive the instruction that uses it: shared by
/// `ObjectStack` (which moves such objects to the object stack) and `StackMaps` (which describes
/// the ones that stay in native frames).
enum AllocaEscape {
    /// True if `pointer` (or a pointer derived from it) is passed to a non-intrinsic call, stored,
    /// converted to an integer, returned, or used in any way other than loading, storing to it,
    /// or comparing it.
    static func escapes(_ pointer: LLVMValueRef) -> Bool {
        var work = [pointer]
        var seen = Set<UnsafeRawPointer>()
        while let value = work.popLast() {
            guard seen.insert(UnsafeRawPointer(value)).inserted else { continue }
            var use = LLVMGetFirstUse(value)
            while let u = use {
                defer { use = LLVMGetNextUse(u) }
                let user = LLVMGetUser(u)!
                if LLVMIsALoadInst(user) != nil || LLVMIsAICmpInst(user) != nil { continue }
                if LLVMIsAStoreInst(user) != nil {
                    if LLVMGetOperand(user, 0) == value { return true }
                    continue
                }
                if LLVMIsAGetElementPtrInst(user) != nil || LLVMIsABitCastInst(user) != nil
                    || LLVMIsAAddrSpaceCastInst(user) != nil || LLVMIsASelectInst(user) != nil
                    || LLVMIsAPHINode(user) != nil {
                    work.append(user)
                    continue
                }
                if LLVMIsACallInst(user) != nil, StackMaps.isIntrinsicCall(user) { continue }
                return true
            }
        }
        return false
    }

    /// True if `pointer` (or a pointer derived from it) is an argument of a call of `names`.
    static func reaches(_ pointer: LLVMValueRef, callsOf names: Set<String>) -> Bool {
        var work = [pointer]
        var seen = Set<UnsafeRawPointer>()
        while let value = work.popLast() {
            guard seen.insert(UnsafeRawPointer(value)).inserted else { continue }
            var use = LLVMGetFirstUse(value)
            while let u = use {
                defer { use = LLVMGetNextUse(u) }
                let user = LLVMGetUser(u)!
                if LLVMIsACallInst(user) != nil, let name = IR.calleeName(of: user), names.contains(name) { return true }
                if LLVMIsAGetElementPtrInst(user) != nil || LLVMIsABitCastInst(user) != nil
                    || LLVMIsAAddrSpaceCastInst(user) != nil || LLVMIsASelectInst(user) != nil
                    || LLVMIsAPHINode(user) != nil {
                    work.append(user)
                }
            }
        }
        return false
    }
}
