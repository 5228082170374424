/// How to find the canonical frame address (CFA) at some instruction.
public enum CFARule: Sendable, Equatable {
    /// CFA = value of DWARF register `register` + `offset`.
    case registerOffset(register: UInt16, offset: Int64)
    /// CFA is computed by a DWARF expression (not supported for stack transformation).
    case expression
}

/// How to recover a register's value in the caller, at some instruction.
public enum RegisterRule: Sendable, Equatable {
    /// The value cannot be recovered.
    case undefined
    /// The register still holds the caller's value.
    case sameValue
    /// The caller's value is saved in memory at CFA + offset.
    case offset(Int64)
    /// The caller's value is CFA + offset itself.
    case valueOffset(Int64)
    /// The caller's value is in another register.
    case register(UInt16)
    /// Computed by a DWARF expression (address or value form).
    case expression
}

/// The unwinding rules in effect at one instruction: the row of the CFI table for that address.
public struct FrameRow: Sendable, Equatable {
    public var cfa: CFARule
    /// Rules for registers the CFI mentions; registers not listed keep their value (same value).
    public var registers: [UInt16: RegisterRule]

    public init(cfa: CFARule, registers: [UInt16: RegisterRule] = [:]) {
        self.cfa = cfa
        self.registers = registers
    }

    /// The rule for `register` (same value when the CFI says nothing about it).
    public func rule(for register: UInt16) -> RegisterRule { registers[register] ?? .sameValue }
}
