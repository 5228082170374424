/// The names popcorn-cc gives to what the C compiler leaves unnamed, declared once for the
/// compiler (which makes them) and the linker (which drops them from finished binaries).
public enum GeneratedSymbolNames {
    /// Every generated name starts with this: `__popcorn.<module hash>.<old name>` for string
    /// literals, constant initialisers and other private globals, which need a name of their own
    /// while the layout places and the verifier checks them. (Runtime symbols use `__popcorn_`.)
    public static let prefix = "__popcorn."

    /// True for a generated name.
    public static func isGenerated(_ name: String) -> Bool { name.hasPrefix(prefix) }
}
