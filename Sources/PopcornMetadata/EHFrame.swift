import PopcornELF

/// The parsed `.eh_frame` of one binary: its CIEs and FDEs, with lookup by address.
///
/// Parsing decodes the entry structure of the whole section; the CFI instructions of an FDE are
/// only interpreted when a row is asked for, so an odd construct in some library function the
/// program never migrates through does not stop the build.
public struct EHFrame: Sendable {
    public var cies: [CommonInformationEntry]
    /// Sorted by start address.
    public var fdes: [FrameDescriptionEntry]
    /// Names the section in errors.
    public var context: String

    public init(cies: [CommonInformationEntry], fdes: [FrameDescriptionEntry], context: String) {
        self.cies = cies
        self.fdes = fdes.sorted { $0.start < $1.start }
        self.context = context
    }

    /// Parses the `.eh_frame` section of `file`; throws `missingSection` when there is none.
    public init(_ file: ELFFile) throws {
        self = try EHFrameParser.parse(file)
    }

    /// The FDE covering `address`, if any.
    public func fde(covering address: UInt64) -> FrameDescriptionEntry? {
        // Binary search for the last FDE starting at or before the address.
        var low = 0, high = fdes.count
        while low < high {
            let mid = (low + high) / 2
            if fdes[mid].start <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        let candidate = fdes[low - 1]
        return candidate.covers(address) ? candidate : nil
    }

    /// The CFI row in effect at `address`, or `nil` when no FDE covers it.
    ///
    /// For a call site pass `returnAddress - 1`: the return address may be the first byte of the
    /// next row (or of the next function, after a call to a `noreturn` function).
    public func row(at address: UInt64) throws -> FrameRow? {
        guard let fde = fde(covering: address) else { return nil }
        return try CFAInterpreter(cie: cies[fde.cieIndex], context: context).row(for: fde, at: address)
    }

    /// Every row of `fde`'s table with its first address, in address order (`CFAInterpreter.rows`).
    public func rows(of fde: FrameDescriptionEntry) throws -> [(start: UInt64, row: FrameRow)] {
        try CFAInterpreter(cie: cies[fde.cieIndex], context: context).rows(for: fde)
    }

    /// The return-address column of the CIE used for `address`.
    public func returnAddressRegister(at address: UInt64) -> UInt16? {
        fde(covering: address).map { cies[$0.cieIndex].returnAddressRegister }
    }
}
