/// The outcome of comparing the symbol tables of a set of per-ISA binaries.
public struct AlignmentReport: Sendable, Hashable {
    /// How many symbols were defined in at least two binaries and therefore compared.
    public var checkedSymbols: Int
    /// Symbols whose addresses differ, sorted by name then scope.
    public var mismatches: [SymbolMismatch]

    public init(checkedSymbols: Int, mismatches: [SymbolMismatch]) {
        self.checkedSymbols = checkedSymbols; self.mismatches = mismatches
    }

    /// No mismatches.
    public var isAligned: Bool { mismatches.isEmpty }
}
