import CLLVM
import PopcornSupport

/// Pass 2a: gives every anonymous or private global and function a real, unique symbol name.
///
/// Private symbols (string literals `.str.N`, `__const.*` initialisers, compound literals,
/// switch tables, …) are emitted as `.L` labels or not at all, so the aligning linker could
/// neither see nor place them. They become internal symbols named
/// `__popcorn.<module-hash>.<old name without leading dots>`; the hash keeps names from
/// different translation units apart and depends only on the module's content, so recompiling
/// gives the same names.
struct SymbolNaming {
    /// The prefix every generated name starts with.
    static let prefix = GeneratedSymbolNames.prefix

    /// Renames the module's private and unnamed globals; returns how many were renamed.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let hash = Self.moduleHash(module)
        var renamed = 0
        var anonymous = 0
        let candidates = IR.globals(of: module) + IR.functions(of: module)
        for value in candidates where IR.isDefinition(value) {
            let name = IR.name(of: value)
            if name.hasPrefix("llvm.") { continue }
            let linkage = LLVMGetLinkage(value)
            guard linkage == LLVMPrivateLinkage || name.isEmpty else { continue }
            var base = String(name.drop { $0 == "." })
            if base.isEmpty {
                base = "anon.\(anonymous)"
                anonymous += 1
            }
            var candidate = "\(Self.prefix)\(hash).\(base)"
            var suffix = 1
            while LLVMGetNamedGlobal(module, candidate) != nil || LLVMGetNamedFunction(module, candidate) != nil {
                candidate = "\(Self.prefix)\(hash).\(base).\(suffix)"
                suffix += 1
            }
            IR.setName(value, candidate)
            if linkage == LLVMPrivateLinkage { LLVMSetLinkage(value, LLVMInternalLinkage) }
            renamed += 1
        }
        return renamed
    }

    /// 12 hex digits of an FNV-1a hash over the source file name and the sorted names of the
    /// module's external definitions: stable across rebuilds, distinct between the translation
    /// units of one program (which cannot share external definitions).
    static func moduleHash(_ module: LLVMModuleRef) -> String {
        var length = 0
        var source = ""
        if let s = LLVMGetSourceFileName(module, &length) {
            source = String(decoding: UnsafeRawBufferPointer(start: s, count: length), as: UTF8.self)
        }
        let externals = (IR.globals(of: module) + IR.functions(of: module))
            .filter { IR.isDefinition($0) && LLVMGetLinkage($0) == LLVMExternalLinkage }
            .map(IR.name(of:))
            .sorted()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ([source] + externals).joined(separator: "\0").utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(12))
    }
}
