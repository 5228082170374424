import PopcornELF
import PopcornSupport

/// The frame of a function at a call, as the binary's own CFI (`.eh_frame`) describes it: one
/// rule shared by popcorn-ld, which writes it into the metadata, and `popcorn-dump --verify`,
/// which re-derives it from the binary and compares (docs/METADATA.md, "Integrity").
public enum FrameDerivation {
    /// Why a frame cannot be described (the caller turns it into its own error).
    public enum Failure: Error, Equatable {
        case noFrameInfo
        case unsupported(String)
    }

    /// The frame in effect during the call that returns to `returnAddress`. `stackSize` (the
    /// stackmap's static frame size, known only at link time) gives the frame size where the CFA
    /// is not SP-based; without it that size is `nil`.
    public static func frame(returningTo returnAddress: UInt64, ehFrame: EHFrame, registers: RegisterFile,
                             stackSize: UInt64?) throws(Failure) -> FrameLayout {
        // Formatted only for a message: this runs for every call site of a program.
        var ra: String { "0x" + String(returnAddress, radix: 16) }
        // The row in effect during the call: look up the call instruction, not the return address.
        let found: FrameRow?
        do { found = try ehFrame.row(at: returnAddress - 1) } catch { throw .unsupported("the CFI at \(ra) cannot be read: \(error)") }
        guard let row = found else { throw .noFrameInfo }
        return try frame(row: row, returnAddressColumn: ehFrame.returnAddressRegister(at: returnAddress - 1),
                         returningTo: returnAddress, registers: registers, stackSize: stackSize)
    }

    /// The frame that `row`, the CFI row in effect at the call instruction before `returnAddress`
    /// (with its CIE's return-address column), describes.
    public static func frame(row: FrameRow, returnAddressColumn: UInt16?, returningTo returnAddress: UInt64,
                             registers: RegisterFile, stackSize: UInt64?) throws(Failure) -> FrameLayout {
        var ra: String { "0x" + String(returnAddress, radix: 16) }
        guard case let .registerOffset(cfaRegister, cfaOffset) = row.cfa, let cfaOffset32 = Int32(exactly: cfaOffset) else {
            throw .unsupported("the canonical frame address is computed by a DWARF expression at \(ra) (unsupported)")
        }
        if let raRegister = returnAddressColumn, raRegister != registers.returnAddress {
            throw .unsupported("unexpected return address column \(raRegister) in the CFI")
        }
        guard case let .offset(raOffset) = row.rule(for: registers.returnAddress), let raOffset32 = Int32(exactly: raOffset) else {
            throw .unsupported("the CFI does not save the return address in the frame at \(ra)")
        }
        // Every register the CFI says this frame saved must be one the ABI preserves, in a slot
        // the runtime can find.
        var saved: [SavedRegister] = []
        var framePointerOffset: Int32? = nil
        for (register, rule) in row.registers.sorted(by: { $0.key < $1.key }) where register != registers.returnAddress {
            switch rule {
            case .sameValue, .undefined: continue
            case let .offset(offset):
                guard registers.isCalleeSaved(register) else {
                    throw .unsupported("the CFI saves \(registers.name(of: register)), which is not callee-saved")
                }
                guard let offset32 = Int32(exactly: offset) else { throw .unsupported("save slot of \(registers.name(of: register)) out of range") }
                saved.append(SavedRegister(register: register, size: 8, cfaOffset: offset32))
                if register == registers.framePointer { framePointerOffset = offset32 }
            default:
                throw .unsupported("\(registers.name(of: register)) is saved by a rule the runtime cannot follow (\(rule))")
            }
        }
        // Frame size: the CFI is authoritative where the CFA is SP-based; otherwise the
        // stackmap's static size plus what the call instruction pushed.
        var frameSize: UInt32? = nil
        if cfaRegister == registers.stackPointer {
            frameSize = UInt32(exactly: cfaOffset)
        } else if let stackSize {
            frameSize = UInt32(exactly: stackSize + registers.callPushSize)
        }
        return FrameLayout(frameSize: frameSize, cfaRegister: cfaRegister, cfaOffset: cfaOffset32,
                           returnAddressOffset: raOffset32, framePointerOffset: framePointerOffset, savedRegisters: saved)
    }
}
