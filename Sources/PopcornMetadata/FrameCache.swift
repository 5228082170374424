/// The frames of one binary's call sites, derived once per CFI row: a function's sites share a few
/// rows, and interpreting its CFI from the start again for every site took a third of the
/// metadata's build time on the SQLite shell. The answers are `FrameDerivation`'s, also for an FDE
/// with an instruction the interpreter rejects (pointer authentication in an epilogue): its whole
/// table cannot be built, so its sites are looked up one by one as before, each interpreting only
/// up to its call.
final class FrameCache {
    let ehFrame: EHFrame
    let registers: RegisterFile
    /// Each FDE's rows, by the FDE's start; nil for an FDE whose table cannot be built whole.
    private var rows: [UInt64: [(start: UInt64, row: FrameRow)]?] = [:]
    /// Frames by the first address of their row (unique across FDEs). A function's stackmap frame
    /// size is the same at all its sites, so the row decides the frame.
    private var frames: [UInt64: FrameLayout] = [:]

    init(ehFrame: EHFrame, registers: RegisterFile) {
        self.ehFrame = ehFrame
        self.registers = registers
    }

    /// `FrameDerivation.frame(returningTo:ehFrame:registers:stackSize:)`, from the cached rows.
    func frame(returningTo returnAddress: UInt64, stackSize: UInt64?) throws(FrameDerivation.Failure) -> FrameLayout {
        let call = returnAddress - 1
        guard let fde = ehFrame.fde(covering: call) else { throw .noFrameInfo }
        if rows[fde.start] == nil { rows[fde.start] = .some(try? ehFrame.rows(of: fde)) }
        guard let table = rows[fde.start]! else {
            return try FrameDerivation.frame(returningTo: returnAddress, ehFrame: ehFrame, registers: registers, stackSize: stackSize)
        }
        // The last row starting at or before the call (the first starts at the FDE's start).
        var low = 0, high = table.count
        while low < high {
            let mid = (low + high) / 2
            if table[mid].start <= call { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { throw .noFrameInfo }
        let (start, row) = table[low - 1]
        if let known = frames[start] { return known }
        let frame = try FrameDerivation.frame(row: row, returnAddressColumn: ehFrame.cies[fde.cieIndex].returnAddressRegister,
                                              returningTo: returnAddress, registers: registers, stackSize: stackSize)
        frames[start] = frame
        return frame
    }
}
