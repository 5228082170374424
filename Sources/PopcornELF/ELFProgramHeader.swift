/// One entry of an ELF64 program header table (a segment of a linked binary).
public struct ELFProgramHeader: Sendable, Hashable {
    /// `p_type` (`PT_LOAD`, `PT_TLS`, …).
    public var type: UInt32
    /// `p_flags` (`PF_X` = 1, `PF_W` = 2, `PF_R` = 4).
    public var flags: UInt32
    public var offset: UInt64
    public var vaddr: UInt64
    public var paddr: UInt64
    public var filesz: UInt64
    public var memsz: UInt64
    public var align: UInt64

    public init(type: UInt32, flags: UInt32, offset: UInt64, vaddr: UInt64, paddr: UInt64,
                filesz: UInt64, memsz: UInt64, align: UInt64) {
        self.type = type; self.flags = flags; self.offset = offset; self.vaddr = vaddr; self.paddr = paddr
        self.filesz = filesz; self.memsz = memsz; self.align = align
    }
}
