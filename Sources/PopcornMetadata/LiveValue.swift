/// Where one live value is at a call site, as the runtime needs it.
public struct LiveValue: Sendable, Equatable {
    /// Location kinds; the numbers are those of the format (and of LLVM's stackmaps).
    public enum Kind: UInt8, Sendable, Equatable {
        /// In register `register`.
        case register = 1
        /// The value is the address `register + offset`: a stack allocation (alloca) of `allocaSize` bytes.
        case direct = 2
        /// In memory at `register + offset` (a spill slot).
        case indirect = 3
        /// The constant `constant` (LLVM's large constants are resolved to this kind too).
        case constant = 4
    }

    public var kind: Kind
    /// Size in bytes of the location (for registers, the register's size).
    public var size: UInt16
    /// DWARF register number (for `.register`, `.direct`, `.indirect`).
    public var register: UInt16
    /// Offset from `register` (for `.direct`, `.indirect`).
    public var offset: Int32
    /// For `.direct` and `.indirect`: the slot's address relative to the CFA, when it could be
    /// derived (the base register is the CFA register, or the stack pointer in a fixed-size frame).
    public var cfaOffset: Int32?
    /// For `.constant`.
    public var constant: UInt64
    /// The value is a pointer (may point into the stack and need re-pointing after migration).
    public var isPointer: Bool
    /// For `.direct`: bytes of the allocation, when known (0 = unknown).
    public var allocaSize: UInt32

    public init(kind: Kind, size: UInt16, register: UInt16 = 0, offset: Int32 = 0, cfaOffset: Int32? = nil,
                constant: UInt64 = 0, isPointer: Bool = false, allocaSize: UInt32 = 0) {
        self.kind = kind; self.size = size; self.register = register; self.offset = offset
        self.cfaOffset = cfaOffset; self.constant = constant; self.isPointer = isPointer; self.allocaSize = allocaSize
    }
}

/// What the IR knows about a live value that stackmaps cannot say (pointer-ness, alloca size).
///
/// popcorn-cc's live-value analysis produces these per call-site ID; the builder merges them into
/// the live values of every ISA.
public struct LiveValueAnnotation: Sendable, Equatable, Hashable {
    public var isPointer: Bool
    /// Bytes of the alloca a `.direct` value refers to (0 when the value is not an alloca).
    public var allocaSize: UInt32

    public init(isPointer: Bool, allocaSize: UInt32 = 0) {
        self.isPointer = isPointer; self.allocaSize = allocaSize
    }
}
