import PopcornSupport

/// The DWARF register numbering of one ISA, as far as stack transformation needs it.
///
/// Stackmaps and CFI both name registers by DWARF number; the runtime and popcorn-dump need to
/// know which of them are the stack pointer, frame pointer and return address column, and which
/// are preserved across calls (those are the only registers a frame can keep a value in across a
/// call, and the ones the CFI must account for).
public struct RegisterFile: Sendable {
    public let isa: ISA
    /// DWARF number of the stack pointer.
    public let stackPointer: UInt16
    /// DWARF number of the frame pointer.
    public let framePointer: UInt16
    /// The return-address column of the CFI.
    public let returnAddress: UInt16
    /// Registers preserved across calls by the ISA's C ABI (frame pointer included).
    public let calleeSaved: Set<UInt16>
    /// Bytes the call instruction pushes (the return address on x86_64; nothing on aarch64).
    public let callPushSize: UInt64

    /// The register file of `isa`.
    public init(_ isa: ISA) {
        self.isa = isa
        switch isa {
        case .x86_64:
            // System V: rbx (3), rbp (6), r12–r15 (12–15); column 16 is the return address.
            stackPointer = 7; framePointer = 6; returnAddress = 16
            calleeSaved = [3, 6, 12, 13, 14, 15]
            callPushSize = 8
        case .aarch64:
            // AAPCS64: x19–x28, fp (x29), lr (x30, restored by the return), d8–d15 (72–79).
            stackPointer = 31; framePointer = 29; returnAddress = 30
            calleeSaved = Set((19...30).map { UInt16($0) } + (72...79).map { UInt16($0) })
            callPushSize = 0
        }
    }

    /// Whether a value kept in `register` survives a call.
    public func isCalleeSaved(_ register: UInt16) -> Bool { calleeSaved.contains(register) }

    /// The assembler name of a DWARF register (`rbx`, `x19`, `d8`, …).
    public func name(of register: UInt16) -> String {
        switch isa {
        case .x86_64:
            let names = ["rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
                         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"]
            if Int(register) < names.count { return names[Int(register)] }
            if (17...32).contains(register) { return "xmm\(register - 17)" }
            if (33...40).contains(register) { return "st\(register - 33)" }
        case .aarch64:
            if register < 31 { return register == 29 ? "x29" : register == 30 ? "x30" : "x\(register)" }
            if register == 31 { return "sp" }
            // d8–d15 are the callee-saved halves of v8–v15: a saved one is a 64-bit `d` register.
            if (72...79).contains(register) { return "d\(register - 64)" }
            if (64...95).contains(register) { return "v\(register - 64)" }
        }
        return "r\(register)"
    }
}
