/// ELF numbers used by the toolchain, named as in the System V gABI.
public enum ELFConstants {
    // e_type
    public static let ET_REL: UInt16 = 1
    public static let ET_EXEC: UInt16 = 2
    public static let ET_DYN: UInt16 = 3

    // Special section indices.
    public static let SHN_UNDEF: UInt16 = 0
    public static let SHN_LORESERVE: UInt16 = 0xff00
    public static let SHN_ABS: UInt16 = 0xfff1
    public static let SHN_COMMON: UInt16 = 0xfff2
    public static let SHN_XINDEX: UInt16 = 0xffff
    /// `e_phnum` escape: the real count is in section 0's `sh_info`.
    public static let PN_XNUM: UInt16 = 0xffff

    // sh_type
    public static let SHT_NULL: UInt32 = 0
    public static let SHT_PROGBITS: UInt32 = 1
    public static let SHT_SYMTAB: UInt32 = 2
    public static let SHT_STRTAB: UInt32 = 3
    public static let SHT_RELA: UInt32 = 4
    public static let SHT_NOBITS: UInt32 = 8
    public static let SHT_REL: UInt32 = 9
    public static let SHT_SYMTAB_SHNDX: UInt32 = 18

    // sh_flags
    public static let SHF_WRITE: UInt64 = 0x1
    public static let SHF_ALLOC: UInt64 = 0x2
    public static let SHF_EXECINSTR: UInt64 = 0x4
    public static let SHF_MERGE: UInt64 = 0x10
    public static let SHF_STRINGS: UInt64 = 0x20
    public static let SHF_TLS: UInt64 = 0x400
    public static let SHF_COMPRESSED: UInt64 = 0x800
    /// `ch_type` of an `Elf64_Chdr`: the section's bytes after the header are a zlib stream.
    public static let ELFCOMPRESS_ZLIB: UInt32 = 1
    /// Size of `Elf64_Chdr` (ch_type, ch_reserved, ch_size, ch_addralign).
    public static let compressionHeaderSize = 24
    public static let SHF_EXCLUDE: UInt64 = 0x8000_0000

    // Symbol types and bindings.
    public static let STT_NOTYPE: UInt8 = 0
    public static let STT_OBJECT: UInt8 = 1
    public static let STT_FUNC: UInt8 = 2
    public static let STT_SECTION: UInt8 = 3
    public static let STT_FILE: UInt8 = 4
    public static let STT_COMMON: UInt8 = 5
    public static let STT_TLS: UInt8 = 6
    public static let STB_LOCAL: UInt8 = 0
    public static let STB_GLOBAL: UInt8 = 1
    public static let STB_WEAK: UInt8 = 2

    // p_type
    public static let PT_LOAD: UInt32 = 1
    public static let PT_TLS: UInt32 = 7

    // Structure sizes of ELF64.
    static let headerSize = 64
    static let sectionHeaderSize = 64
    static let programHeaderSize = 56
    static let symbolSize = 24
}
