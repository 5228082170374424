import CLLVM

/// Portable pass (before section assignment): gives every libc function that the x86_64 side
/// reaches through an ABI shim (`ABIShims`) one entry address on every ISA, for the program's
/// function pointers.
///
/// A direct call is redirected to the shim on x86_64 only, which is right. But a function pointer
/// (SQLite's VFS keeps `fstat` and `fcntl` in a table of system calls) held `__popcorn_abi_fstat`
/// on x86_64 and musl's `fstat` on aarch64: two addresses, in writable data that a move carries
/// to the other ISA, which then called into the wrong ISA's code (a crash, or the native `fstat`
/// filling an aarch64 `struct stat` with the x86_64 layout: "disk I/O error"). Every use of such
/// a function other than calling it now names `__popcorn_entry.<name>`, a function of the
/// program's own IR that calls it: lowered for both ISAs, aligned like any other function, it
/// calls the shim on x86_64 and musl on aarch64. Variadic functions get a fixed-arity entry that
/// passes on `variadicWords` argument words (callers through a variadic pointer put the
/// variadic arguments where a fixed-arity callee reads them, on both ABIs, for integer and
/// pointer arguments — all these functions take).
///
/// Pre: a frontend module. Post: no shimmed libc declaration is used except as a callee; each
/// address-taken one has a `linkonce_odr` entry in its own comdat (one per program).
struct ShimmedFunctionEntries {
    static let prefix = "__popcorn_entry."
    /// Argument words an entry of a variadic function passes on (`syscall` takes six).
    static let variadicWords = 6

    /// Returns the number of entries made.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var made = 0
        for function in IR.functions(of: module) where !IR.isDefinition(function) {
            let name = IR.name(of: function)
            guard ABIShims.table[name] != nil, Self.isAddressTaken(function) else { continue }
            let entry = makeEntry(for: function, name: name, module: module, context: context)
            // Every use becomes the entry (constant initialisers included), then calls go back to
            // the function itself: only the address changes.
            LLVMReplaceAllUsesWith(function, entry)
            for call in IR.calls(in: module) where LLVMGetCalledValue(call) == entry {
                LLVMSetOperand(call, UInt32(LLVMGetNumOperands(call) - 1), function)
            }
            buildBody(of: entry, calling: function, context: context, builder: builder)
            made += 1
        }
        return made
    }

    /// Whether `function` is used other than as the callee of a call.
    static func isAddressTaken(_ function: LLVMValueRef) -> Bool {
        var use = LLVMGetFirstUse(function)
        while let u = use {
            let user = LLVMGetUser(u)!
            let isCallee = LLVMIsACallInst(user) != nil && LLVMGetCalledValue(user) == function
            if !isCallee { return true }
            use = LLVMGetNextUse(u)
        }
        return false
    }

    private func makeEntry(for function: LLVMValueRef, name: String, module: LLVMModuleRef,
                           context: LLVMContextRef) -> LLVMValueRef {
        let type = LLVMGlobalGetValueType(function)!
        var parameters = IR.parameterTypes(of: type).map { Optional($0) }
        if LLVMIsFunctionVarArg(type) != 0 {
            parameters += Array(repeating: LLVMInt64TypeInContext(context), count: Self.variadicWords)
        }
        let entryType = parameters.withUnsafeMutableBufferPointer {
            LLVMFunctionType(LLVMGetReturnType(type), $0.baseAddress, UInt32($0.count), 0)!
        }
        let entryName = Self.prefix + name
        let entry = LLVMAddFunction(module, entryName, entryType)!
        LLVMSetLinkage(entry, LLVMLinkOnceODRLinkage)
        LLVMSetVisibility(entry, LLVMHiddenVisibility)
        LLVMSetComdat(entry, LLVMGetOrInsertComdat(module, entryName))
        return entry
    }

    private func buildBody(of entry: LLVMValueRef, calling function: LLVMValueRef, context: LLVMContextRef,
                           builder: borrowing IRBuilder) {
        let block = LLVMAppendBasicBlockInContext(context, entry, "entry")!
        builder.position(atEndOf: block)
        var arguments: [LLVMValueRef?] = (0..<LLVMCountParams(entry)).map { LLVMGetParam(entry, $0) }
        let type = LLVMGlobalGetValueType(function)!
        let result = arguments.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder.ref, type, function, $0.baseAddress, UInt32($0.count), "")!
        }
        if LLVMGetTypeKind(LLVMGetReturnType(type)) == LLVMVoidTypeKind {
            LLVMBuildRetVoid(builder.ref)
        } else {
            LLVMBuildRet(builder.ref, result)
        }
    }
}
