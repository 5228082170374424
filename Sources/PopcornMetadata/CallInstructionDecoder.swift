import Foundation
import PopcornELF
import PopcornSupport

/// Checks that a return address really follows a call instruction.
///
/// The runtime resumes a migrated frame at its return address with the live values as the
/// stackmap describes them; that is only right if nothing runs between the call and the
/// stackmap. LLVM places the stackmap's label after any copies or reloads it schedules after
/// the call, so a record whose offset is not the call's return address must be rejected.
public enum CallInstructionDecoder {
    /// Whether the bytes just before `returnAddress` in `file` are a call instruction of `isa`.
    public static func isCall(before returnAddress: UInt64, in file: ELFFile, isa: ISA) -> Bool {
        let window = isa == .x86_64 ? 15 : 4
        guard let bytes = codeBytes(in: file, before: returnAddress, count: window) else { return false }
        return isCall(endingWith: bytes, isa: isa)
    }

    /// Whether `bytes` end with a call instruction of `isa` (x86_64: `E8 rel32` or `FF /2`;
    /// aarch64: `BL`, `BLR` or the pointer-authenticating `BLRA*` forms).
    public static func isCall(endingWith bytes: [UInt8], isa: ISA) -> Bool {
        switch isa {
        case .aarch64:
            guard bytes.count >= 4 else { return false }
            let b = bytes.suffix(4).map(UInt32.init)
            let word = b[b.startIndex] | b[b.startIndex + 1] << 8 | b[b.startIndex + 2] << 16 | b[b.startIndex + 3] << 24
            if word & 0xFC00_0000 == 0x9400_0000 { return true }        // BL imm26
            if word & 0xFFFF_FC1F == 0xD63F_0000 { return true }        // BLR Xn
            if word & 0xFEFF_F800 == 0xD63F_0800 { return true }        // BLRAA/BLRAB(Z)
            return false
        case .x86_64:
            if bytes.count >= 5 && bytes[bytes.count - 5] == 0xE8 { return true }
            // Try every start that would make an indirect call end exactly at the return address.
            for length in 2...min(bytes.count, 15) where indirectCallLength(Array(bytes.suffix(length))) == length {
                return true
            }
            return false
        }
    }

    /// Length of an `FF /2` (indirect near call) at the start of `b`, or `nil` if it is not one.
    private static func indirectCallLength(_ b: [UInt8]) -> Int? {
        var i = 0
        // Prefixes compilers put on indirect calls: notrack / segment overrides, then REX.
        while i < b.count, [0x3E, 0x2E, 0x26, 0x36, 0x64, 0x65].contains(b[i]) { i += 1 }
        if i < b.count, (0x40...0x4F).contains(b[i]) { i += 1 }
        guard i + 1 < b.count, b[i] == 0xFF else { return nil }
        let modrm = b[i + 1]
        guard (modrm >> 3) & 7 == 2 else { return nil }
        i += 2
        let mod = modrm >> 6, rm = modrm & 7
        switch mod {
        case 3: break
        case 0:
            if rm == 4 {
                guard i < b.count else { return nil }
                i += (b[i] & 7) == 5 ? 5 : 1
            } else if rm == 5 {
                i += 4
            }
        case 1: i += (rm == 4 ? 1 : 0) + 1
        default: i += (rm == 4 ? 1 : 0) + 4
        }
        return i
    }

    /// Up to `count` bytes of executable code ending at `address`, or `nil` if `address` is not
    /// inside (or at the end of) an executable section.
    static func codeBytes(in file: ELFFile, before address: UInt64, count: Int) -> [UInt8]? {
        for section in file.sections where section.isExecutable && !section.isNoBits && section.isAllocated {
            guard address > section.address, address - section.address <= section.size else { continue }
            let available = Int(min(UInt64(count), address - section.address))
            let fileOffset = section.offset + (address - section.address) - UInt64(available)
            guard fileOffset + UInt64(available) <= UInt64(file.data.count) else { return nil }
            let start = file.data.startIndex + Int(fileOffset)
            return [UInt8](file.data[start..<(start + available)])
        }
        return nil
    }
}
