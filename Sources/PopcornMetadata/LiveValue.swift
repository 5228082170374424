/// Where one live value is at a call site, and what it is, as the runtime needs it.
public struct LiveValue: Sendable, Equatable {
    /// Location kinds; the numbers are those of the format (and of LLVM's stackmaps).
    public enum Kind: UInt8, Sendable, Equatable {
        /// In register `register`.
        case register = 1
        /// The value is the address `register + offset`: a stack object of this frame.
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
    /// What the compiler says the value is (pointer, stack object, …).
    public var info: LiveValueAnnotation

    public init(kind: Kind, size: UInt16, register: UInt16 = 0, offset: Int32 = 0, cfaOffset: Int32? = nil,
                constant: UInt64 = 0, info: LiveValueAnnotation = LiveValueAnnotation()) {
        self.kind = kind; self.size = size; self.register = register; self.offset = offset
        self.cfaOffset = cfaOffset; self.constant = constant; self.info = info
    }
}

/// What the IR knows about a live value that stackmaps cannot say.
///
/// popcorn-cc records this per call-site ID in the `.popcorn.callsites` side table
/// (`CallSiteTableReader`); the builder merges it into the live values of every ISA.
public struct LiveValueAnnotation: Sendable, Equatable, Hashable {
    /// The value is a pointer (re-pointed after migration if it points into the stack).
    public var isPointer: Bool
    /// The pointer is derived from the pointer in live value `base` of the same call site.
    public var base: UInt16?
    /// The value is the address of a stack object of this frame, `allocaSize` bytes long
    /// (0 when the size is only known at run time).
    public var isAlloca: Bool
    public var allocaSize: UInt32
    /// The stack object is a compiler-made slot holding one pointer (its contents need re-pointing).
    public var holdsPointer: Bool

    public init(isPointer: Bool = false, base: UInt16? = nil, isAlloca: Bool = false, allocaSize: UInt32 = 0,
                holdsPointer: Bool = false) {
        self.isPointer = isPointer; self.base = base; self.isAlloca = isAlloca
        self.allocaSize = allocaSize; self.holdsPointer = holdsPointer
    }
}
