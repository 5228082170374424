import CLLVM
import Foundation

/// An LLVM module together with the context that owns its types and constants.
///
/// Each module gets its own `LLVMContext`, so modules can be processed on different threads
/// (LLVM contexts are not thread-safe, but distinct contexts are independent), and disposing
/// the module and then its context in `deinit` can never leave a dangling reference.
public struct IRModule: ~Copyable {
    /// The context owning every type and constant of `ref`.
    public let context: LLVMContextRef
    /// The underlying module; valid for the lifetime of this value.
    public let ref: LLVMModuleRef
    /// What LLVM reported through the context (parse and code generation errors); owned here
    /// because the context's handler refers to it for the context's whole life.
    let diagnostics: LLVMDiagnosticCollector

    /// An empty module.
    public init(name: String) {
        context = LLVMContextCreate()
        diagnostics = LLVMDiagnosticCollector()
        diagnostics.install(on: context)
        ref = LLVMModuleCreateWithNameInContext(name, context)
    }

    /// Reads a bitcode buffer; `path` names it in diagnostics.
    public init(bitcode: Data, path: String) throws {
        let context = LLVMContextCreate()!
        let diagnostics = LLVMDiagnosticCollector()
        diagnostics.install(on: context)
        let buffer: LLVMMemoryBufferRef = bitcode.withUnsafeBytes { raw in
            LLVMCreateMemoryBufferWithMemoryRangeCopy(raw.baseAddress?.assumingMemoryBound(to: CChar.self),
                                                      raw.count, path)
        }
        defer { LLVMDisposeMemoryBuffer(buffer) }
        var module: LLVMModuleRef?
        // The C API reports parse problems through the context's diagnostic handler (whose
        // default would print them and exit), not through the return value.
        if LLVMParseBitcodeInContext2(context, buffer, &module) != 0 || module == nil {
            LLVMContextDispose(context)
            let reason = bitcode.isEmpty ? "file is empty" : diagnostics.errors.first?.lowercasedFirst ?? "malformed bitcode"
            throw IRError.invalidBitcode(path: path, reason: reason)
        }
        self.diagnostics = diagnostics
        self.context = context
        self.ref = module!
    }

    /// Reads a bitcode file from disk.
    public init(bitcodeFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IRError.invalidBitcode(path: path, reason: String(cString: strerror(errno)))
        }
        try self.init(bitcode: data, path: path)
    }

    /// Parses textual IR (`.ll`); used by tests and tools that build modules by hand.
    public init(ir text: String, name: String = "<ir>") throws {
        let context = LLVMContextCreate()!
        let diagnostics = LLVMDiagnosticCollector()
        diagnostics.install(on: context)
        // LLVMParseIRInContext takes ownership of the buffer, so it is not disposed here.
        let buffer = text.withCString { LLVMCreateMemoryBufferWithMemoryRangeCopy($0, strlen($0), name)! }
        var module: LLVMModuleRef?
        var message: UnsafeMutablePointer<CChar>?
        if LLVMParseIRInContext(context, buffer, &module, &message) != 0 || module == nil {
            let reason = consumeMessage(message)
            LLVMContextDispose(context)
            throw IRError.invalidIR(name: name, reason: reason)
        }
        self.diagnostics = diagnostics
        self.context = context
        self.ref = module!
    }

    deinit {
        LLVMDisposeModule(ref)
        LLVMContextDispose(context)
    }

    /// The module identifier (usually the source file the frontend compiled).
    public var name: String {
        var length = 0
        guard let s = LLVMGetModuleIdentifier(ref, &length) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: s, count: length), as: UTF8.self)
    }

    /// The module serialised as bitcode.
    public func bitcode() -> Data {
        let buffer = LLVMWriteBitcodeToMemoryBuffer(ref)!
        defer { LLVMDisposeMemoryBuffer(buffer) }
        return Data(bytes: LLVMGetBufferStart(buffer), count: LLVMGetBufferSize(buffer))
    }

    /// The module printed as textual IR.
    public var text: String { consumeMessage(LLVMPrintModuleToString(ref)) + "\n" }

    /// An independent copy in a fresh context (a round trip through in-memory bitcode).
    public func copy() throws -> IRModule {
        try IRModule(bitcode: bitcode(), path: name)
    }

    /// Checks the module's well-formedness; throws with LLVM's explanation when it is broken.
    public func verify() throws {
        var message: UnsafeMutablePointer<CChar>?
        let broken = LLVMVerifyModule(ref, LLVMReturnStatusAction, &message) != 0
        let reason = consumeMessage(message)
        if broken { throw IRError.verificationFailed(module: name, reason: reason) }
    }

    /// Target triple of the module.
    public var triple: String {
        get { String(cString: LLVMGetTarget(ref)) }
        nonmutating set { LLVMSetTarget(ref, newValue) }
    }

    /// Data layout string of the module.
    public var dataLayout: String {
        get { String(cString: LLVMGetDataLayoutStr(ref)) }
        nonmutating set { LLVMSetDataLayout(ref, newValue) }
    }

    /// Removes all debug information (the line tables added only for diagnostics).
    public func stripDebugInfo() {
        _ = LLVMStripModuleDebugInfo(ref)
    }

    /// The function with this name, if any.
    public func function(named name: String) -> LLVMValueRef? {
        LLVMGetNamedFunction(ref, name)
    }

    /// The global variable with this name, if any.
    public func global(named name: String) -> LLVMValueRef? {
        LLVMGetNamedGlobal(ref, name)
    }
}

extension String {
    /// LLVM capitalises some messages; clang-style diagnostics are lowercase.
    var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
}
