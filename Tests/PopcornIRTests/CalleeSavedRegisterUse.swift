import Foundation
import PopcornELF
import PopcornSupport
@testable import PopcornMetadata

/// Test oracle: which functions of a relocatable object save callee-saved registers, read from its
/// `.eh_frame` (independent of the compiler's own liveness report, `Emission.liveAcrossStackMaps`).
/// The ABI makes a function save each callee-saved register it writes, and its CFI records each
/// save. (The frame pointer and the return address are described by every frame and do not
/// count.)
///
/// Each FDE names its function through the relocation of its initial-location field (against the
/// function's section, `-ffunction-sections`, or its symbol); the names are those of the function
/// symbols defined in that section.
enum CalleeSavedRegisterUse {
    /// For every function of the object in `data` with CFI: the callee-saved registers (DWARF
    /// numbers) it saves, other than the frame pointer and the return address. A function without
    /// an FDE has no entry (its saves are unknown, not none).
    static func savedRegisters(inObject data: Data, path: String) throws -> [String: Set<UInt16>] {
        let file = try ELFFile(data: data, path: path)
        guard let isa = file.isa else { throw MetadataError.malformed(context: path, reason: "not an x86_64 or aarch64 object") }
        guard let section = file.section(named: ".eh_frame") else { return [:] }
        let registers = RegisterFile(isa)
        let frame = try EHFrameParser.parse(try file.contents(of: section), sectionAddress: 0, context: path)
        let symbols = try file.symbols()
        var functionsInSection: [UInt32: [ELFSymbol]] = [:]
        for symbol in symbols where symbol.type == ELFConstants.STT_FUNC && symbol.isDefined {
            functionsInSection[symbol.resolvedSectionIndex, default: []].append(symbol)
        }
        // Initial-location field offset -> the symbol its relocation names, and the addend.
        var target: [UInt64: (symbol: ELFSymbol, addend: UInt64)] = [:]
        for rela in file.sections where rela.type == ELFConstants.SHT_RELA && Int(rela.info) == section.index {
            let bytes = [UInt8](try file.contents(of: rela))
            func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
            // Elf64_Rela: r_offset, r_info (symbol index in the high half), r_addend.
            for entry in stride(from: 0, to: bytes.count - 23, by: 24) {
                let index = Int(u64(entry + 8) >> 32)
                if index >= 1 && index <= symbols.count { target[u64(entry)] = (symbols[index - 1], u64(entry + 16)) }
            }
        }
        var saving: [String: Set<UInt16>] = [:]
        for fde in frame.fdes {
            // length (4 bytes), CIE pointer (4 bytes), then the initial location.
            guard let (symbol, addend) = target[UInt64(fde.sectionOffset + 8)] else {
                throw MetadataError.malformed(context: path, reason: "FDE at .eh_frame+0x\(String(fde.sectionOffset, radix: 16)) names no function")
            }
            // Against a section: the function starting at the addend (all of the section's, should none).
            let inSection = functionsInSection[symbol.resolvedSectionIndex] ?? []
            let starting = inSection.filter { $0.value == addend }.map(\.name)
            let names = symbol.type == ELFConstants.STT_FUNC ? [symbol.name] : starting.isEmpty ? inSection.map(\.name) : starting
            // Signed return addresses (pac-ret) do not matter to which registers are saved.
            let interpreter = CFAInterpreter(cie: frame.cies[fde.cieIndex], context: path, ignoresReturnAddressSigning: true)
            let saved = try interpreter.registersSaved(by: fde).filter {
                registers.isCalleeSaved($0) && $0 != registers.framePointer && $0 != registers.returnAddress
            }
            for name in names { saving[name, default: []].formUnion(saved) }
        }
        return saving
    }
}
