/// One entry of an ELF64 section header table.
public struct ELFSection: Sendable, Hashable {
    /// Position in the section header table (what symbols' `st_shndx` refers to).
    public var index: Int
    public var name: String
    /// `sh_type` (`SHT_*`).
    public var type: UInt32
    /// `sh_flags` (`SHF_*`).
    public var flags: UInt64
    public var address: UInt64
    public var offset: UInt64
    public var size: UInt64
    /// `sh_addralign`; 0 and 1 both mean unaligned.
    public var alignment: UInt64
    public var link: UInt32
    public var info: UInt32
    public var entrySize: UInt64

    public init(index: Int, name: String, type: UInt32, flags: UInt64, address: UInt64, offset: UInt64,
                size: UInt64, alignment: UInt64, link: UInt32, info: UInt32, entrySize: UInt64) {
        self.index = index; self.name = name; self.type = type; self.flags = flags
        self.address = address; self.offset = offset; self.size = size; self.alignment = alignment
        self.link = link; self.info = info; self.entrySize = entrySize
    }

    /// Occupies memory at run time (`SHF_ALLOC`).
    public var isAllocated: Bool { flags & ELFConstants.SHF_ALLOC != 0 }
    /// Takes no space in the file (`SHT_NOBITS`, e.g. `.bss`, `.tbss`).
    public var isNoBits: Bool { type == ELFConstants.SHT_NOBITS }
    /// Thread-local data (`SHF_TLS`).
    public var isTLS: Bool { flags & ELFConstants.SHF_TLS != 0 }
    /// Code (`SHF_EXECINSTR`).
    public var isExecutable: Bool { flags & ELFConstants.SHF_EXECINSTR != 0 }
    /// Writable at run time (`SHF_WRITE`).
    public var isWritable: Bool { flags & ELFConstants.SHF_WRITE != 0 }
}
