/// A Common Information Entry of `.eh_frame`: the defaults an FDE's instructions start from.
public struct CommonInformationEntry: Sendable, Equatable {
    /// Offset of the entry in the section.
    public var sectionOffset: Int
    public var version: UInt8
    public var augmentation: String
    public var codeAlignment: UInt64
    public var dataAlignment: Int64
    public var returnAddressRegister: UInt16
    /// `DW_EH_PE_*` encoding of FDE addresses (`R` augmentation; absolute pointers by default).
    public var pointerEncoding: UInt8
    /// `DW_EH_PE_*` encoding of LSDA pointers (`L` augmentation), if any.
    public var lsdaEncoding: UInt8?
    /// Whether FDEs carry augmentation data (`z` augmentation).
    public var hasAugmentationData: Bool
    /// A signal-handler frame (`S` augmentation).
    public var isSignalFrame: Bool
    /// The initial instructions (run before every FDE's own).
    public var instructions: [UInt8]
}

/// A Frame Description Entry of `.eh_frame`: the CFI of one address range (one function).
public struct FrameDescriptionEntry: Sendable, Equatable {
    /// Offset of the entry in the section.
    public var sectionOffset: Int
    /// Index into `EHFrame.cies`.
    public var cieIndex: Int
    /// First address covered.
    public var start: UInt64
    /// Number of bytes covered.
    public var length: UInt64
    public var instructions: [UInt8]

    /// Whether `address` lies in `[start, start + length)`.
    public func covers(_ address: UInt64) -> Bool { address >= start && address - start < length }
}
