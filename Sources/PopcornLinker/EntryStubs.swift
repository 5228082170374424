import Foundation
import PopcornSupport
import PopcornELF

/// A function entry at one address on every ISA that jumps to the ISA's real code.
///
/// Placement gives a *section* one address, but not every function starts a section: musl's
/// assembly puts several functions into one `.text` at ISA-specific offsets (`fenv.s`), and a
/// function may be assembly in one ISA's libc and C in the other's (`exp2l`). Such a symbol is
/// redefined by the linker script at a common 16-byte slot holding a jump to the ISA's code, so
/// every reference — a direct call or a function pointer — sees the same address everywhere.
public struct EntryStub: Sendable, Equatable {
    /// Size of one slot: room for the longest jump (x86_64 `jmp rel32`, 5 bytes) plus padding.
    public static let slotSize: UInt64 = 16

    public var name: String
    /// The slot's address, the same on every ISA.
    public var slot: UInt64
    /// Where the real code is on each ISA that defines the function.
    public var targets: [ISA: UInt64]

    public init(name: String, slot: UInt64, targets: [ISA: UInt64]) {
        self.name = name; self.slot = slot; self.targets = targets
    }

    /// The 16 bytes of the slot on `isa`: a direct jump to `target`, then trap instructions.
    /// x86_64: `jmp rel32` (`E9` + displacement from the end of the instruction), `int3`s.
    /// aarch64: `b imm26` (`0x14000000 | (displacement / 4)`), then `brk #0`s.
    public static func encoding(isa: ISA, slot: UInt64, target: UInt64, name: String = "") throws -> [UInt8] {
        let what = name.isEmpty ? "entry stub" : "entry stub of '\(name)'"
        let displacement = Int64(bitPattern: target &- slot)
        func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        switch isa {
        case .x86_64:
            let relative = displacement - 5
            guard let rel32 = Int32(exactly: relative) else {
                throw LinkerError.layoutConflict("\(what) at 0x\(String(slot, radix: 16)) cannot reach 0x\(String(target, radix: 16)) on \(isa)")
            }
            return [0xE9] + littleEndian(UInt32(bitPattern: rel32)) + Array(repeating: 0xCC, count: 11)
        case .aarch64:
            // B reaches ±128 MiB in 4-byte units.
            guard displacement % 4 == 0, displacement >= -(1 << 27), displacement < (1 << 27) else {
                throw LinkerError.layoutConflict("\(what) at 0x\(String(slot, radix: 16)) cannot reach 0x\(String(target, radix: 16)) on \(isa)")
            }
            let branch = 0x1400_0000 | (UInt32(truncatingIfNeeded: displacement >> 2) & 0x03FF_FFFF)
            let trap: UInt32 = 0xD420_0000 // brk #0
            return littleEndian(branch) + littleEndian(trap) + littleEndian(trap) + littleEndian(trap)
        }
    }
}

/// Decides which functions need entry stubs (pure; see `EntryStub`).
enum EntryStubPlanner {
    /// A symbol that can be redirected: a global function, or an untyped global at the very start
    /// of an executable input section (an assembly entry point without `.type`). Untyped labels
    /// *inside* code (musl's `__cp_end`, compared against the program counter) are never
    /// redirected; `AlignmentChecker` leaves them out for the same reason.
    static func isEntry(_ symbol: LinkMap.Symbol, in input: LinkMap.InputSection) -> Bool {
        guard symbol.isGlobal, let type = symbol.type, !symbol.name.hasPrefix("$") else { return false }
        if type == ELFConstants.STT_FUNC { return true }
        return type == ELFConstants.STT_NOTYPE && symbol.address == input.address
    }

    /// Every function defined as an entry on several ISAs whose planned addresses differ, with
    /// consecutive slots from `start`. `units` are the placed text units with their addresses.
    static func plan(_ placed: [(unit: LayoutPlanner.Unit, address: UInt64)], start: UInt64) -> [EntryStub] {
        var entries: [String: [ISA: UInt64]] = [:]
        var nonEntries = Set<String>()
        for (unit, address) in placed {
            for (isa, piece) in unit.pieces {
                for (input, offset) in piece.inputs {
                    for symbol in input.symbols where symbol.isGlobal {
                        guard isEntry(symbol, in: input) else { nonEntries.insert(symbol.name); continue }
                        let final = address + offset + (symbol.address - input.address)
                        // The first definition wins, as in the link itself.
                        if entries[symbol.name, default: [:]][isa] == nil { entries[symbol.name, default: [:]][isa] = final }
                    }
                }
            }
        }
        var stubs: [EntryStub] = []
        for name in entries.keys.sorted() where !nonEntries.contains(name) {
            let targets = entries[name]!
            guard targets.count > 1, Set(targets.values).count > 1 else { continue }
            stubs.append(EntryStub(name: name, slot: start + UInt64(stubs.count) * EntryStub.slotSize, targets: targets))
        }
        return stubs
    }
}
