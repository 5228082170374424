import Foundation
import PopcornSupport

/// A minimal ELF64 relocatable object with one empty executable section,
/// `LayoutPlanner.stubSection`.
///
/// The entry stubs are written with linker-script data commands, and an output section made only
/// of data commands is not executable (lld derives flags from input sections). Adding this empty
/// `SHF_ALLOC | SHF_EXECINSTR` input section to the stub section gives it the right flags, so
/// the stubs are code to every tool (`llvm-objdump -d`, profilers) and not just to the CPU.
public enum StubObject {
    /// The object's file name in the scratch directory (matched by `LayoutPlanner.stubPattern`).
    public static let fileName = "popcorn-stubs.o"

    /// The object's bytes for `isa` (little-endian, as both supported ISAs are).
    public static func data(for isa: ISA) -> Data {
        let names = Array("\0\(LayoutPlanner.stubSection)\0.shstrtab\0".utf8)
        let stubName: UInt32 = 1
        let shstrtabName = UInt32(1 + LayoutPlanner.stubSection.utf8.count + 1)
        let headerSize: UInt64 = 64
        let sectionHeadersOffset = alignUp(headerSize + UInt64(names.count), 8)

        var out = Data()
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func sectionHeader(name: UInt32, type: UInt32, flags: UInt64, offset: UInt64, size: UInt64, align: UInt64) {
            u32(name); u32(type); u64(flags); u64(0); u64(offset); u64(size); u32(0); u32(0); u64(align); u64(0)
        }

        // ELF header: ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ET_REL.
        out.append(contentsOf: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + Array(repeating: 0, count: 8))
        u16(1); u16(isa.elfMachine); u32(1)
        u64(0); u64(0); u64(sectionHeadersOffset)
        u32(0); u16(UInt16(headerSize)); u16(0); u16(0); u16(64); u16(3); u16(2)
        out.append(contentsOf: names)
        out.append(contentsOf: Array(repeating: 0, count: Int(sectionHeadersOffset) - out.count))
        sectionHeader(name: 0, type: 0, flags: 0, offset: 0, size: 0, align: 0)
        sectionHeader(name: stubName, type: 1, flags: 0x2 | 0x4, offset: headerSize, size: 0, align: EntryStub.slotSize)
        sectionHeader(name: shstrtabName, type: 3, flags: 0, offset: headerSize, size: UInt64(names.count), align: 1)
        return out
    }
}
