import PopcornSupport

/// A symbol defined in several binaries at different addresses.
public struct SymbolMismatch: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// The source file of a local symbol (`STT_FILE` scope); `nil` for globals.
    public var fileScope: String?
    /// The symbol's address in every binary that defines it (for locals that occur several
    /// times in one scope: the first pair of sorted addresses that differ).
    public var addresses: [ISA: UInt64]

    public init(name: String, fileScope: String?, addresses: [ISA: UInt64]) {
        self.name = name; self.fileScope = fileScope; self.addresses = addresses
    }

    /// `name` or `file.c:name` for locals.
    public var qualifiedName: String { fileScope.map { "\($0):\(name)" } ?? name }

    /// `main: x86_64 0x201000, aarch64 0x201040`.
    public var description: String {
        let list = addresses.keys.sorted().map { "\($0) 0x\(String(addresses[$0]!, radix: 16))" }
        return "\(qualifiedName): \(list.joined(separator: ", "))"
    }
}
