import PopcornELF

/// A `.popcorn.*` section of a linked binary (call-site tables, frame descriptions, …).
///
/// Today popcorn-dump lists these by name and size; decoders for the individual metadata
/// formats plug in here as those formats are defined, so the rest of the report is unaffected.
public struct MetadataSection: Equatable, Sendable {
    public static let prefix = ".popcorn."

    public var name: String
    public var size: UInt64
    public var address: UInt64

    public init(_ section: ELFSection) {
        name = section.name
        size = section.size
        address = section.address
    }

    /// The `.popcorn.*` sections of `file`, in section order.
    public static func all(in file: ELFFile) -> [MetadataSection] {
        file.sections.filter { $0.name.hasPrefix(prefix) }.map(MetadataSection.init)
    }
}
