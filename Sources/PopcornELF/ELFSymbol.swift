/// One entry of an ELF64 symbol table.
public struct ELFSymbol: Sendable, Hashable {
    public var name: String
    public var value: UInt64
    public var size: UInt64
    /// `STT_*` (low nibble of `st_info`).
    public var type: UInt8
    /// `STB_*` (high nibble of `st_info`).
    public var binding: UInt8
    /// `st_shndx` as stored; `SHN_XINDEX` when the real index is in `SHT_SYMTAB_SHNDX`.
    public var sectionIndex: UInt16
    /// The section index with the `SHN_XINDEX` escape resolved (equal to `sectionIndex` otherwise).
    public var resolvedSectionIndex: UInt32
    /// `st_other` (visibility in the low two bits).
    public var other: UInt8
    /// For local symbols: the name of the closest preceding `STT_FILE` symbol, i.e. the source
    /// file the symbol belongs to. `nil` for globals and for locals before any `STT_FILE`.
    public var fileScope: String?

    public init(name: String, value: UInt64, size: UInt64, type: UInt8, binding: UInt8, sectionIndex: UInt16,
                resolvedSectionIndex: UInt32? = nil, other: UInt8 = 0, fileScope: String? = nil) {
        self.name = name; self.value = value; self.size = size; self.type = type; self.binding = binding
        self.sectionIndex = sectionIndex
        self.resolvedSectionIndex = resolvedSectionIndex ?? UInt32(sectionIndex)
        self.other = other; self.fileScope = fileScope
    }

    /// Defined in this file (not `SHN_UNDEF`).
    public var isDefined: Bool { sectionIndex != ELFConstants.SHN_UNDEF }
    /// `STB_LOCAL`.
    public var isLocal: Bool { binding == ELFConstants.STB_LOCAL }
    /// An absolute value not tied to any section (`SHN_ABS`).
    public var isAbsolute: Bool { sectionIndex == ELFConstants.SHN_ABS }
}
