import PopcornELF

/// One allocated section of a linked binary, as popcorn-dump shows it.
public struct SectionSummary: Equatable, Sendable {
    public var name: String
    public var address: UInt64
    public var size: UInt64
    /// `r`, `w`, `x` and `t` (TLS) in a compact flag string, e.g. `rx`.
    public var flags: String

    public init(_ section: ELFSection) {
        name = section.name
        address = section.address
        size = section.size
        flags = "r" + (section.isWritable ? "w" : "") + (section.isExecutable ? "x" : "") + (section.isTLS ? "t" : "")
    }
}
