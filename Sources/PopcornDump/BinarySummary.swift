import PopcornELF
import PopcornSupport

/// What popcorn-dump reports about one per-ISA binary.
public struct BinarySummary: Equatable, Sendable {
    public var isa: ISA
    public var path: String
    public var entry: UInt64
    /// Allocated sections in address order.
    public var sections: [SectionSummary]
    /// `.popcorn.*` metadata sections.
    public var metadata: [MetadataSection]

    public init(isa: ISA, file: ELFFile) {
        self.isa = isa
        path = file.path
        entry = file.entry
        sections = file.sections.filter { $0.isAllocated }
            .sorted { ($0.address, $0.index) < ($1.address, $1.index) }
            .map(SectionSummary.init)
        metadata = MetadataSection.all(in: file)
    }
}
