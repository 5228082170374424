/// What the backend knows about one instrumented call site: its stackmap ID and, for each
/// stackmap location (one per live operand, same order), what the value is.
public struct CallSiteRecord: Sendable, Equatable {
    /// What a live operand is, as far as stack transformation cares.
    public enum Kind: UInt8, Sendable {
        /// A non-pointer scalar (copied as is).
        case value = 0
        /// A pointer (re-pointed if it points into the stack).
        case pointer = 1
        /// A pointer computed from another (`getelementptr`); `base` names the base operand.
        case derivedPointer = 2
        /// The address of a stack object of this frame; `size` is the object's size in bytes
        /// (0 if it is only known at run time).
        case alloca = 3
    }

    /// One live operand of the stackmap.
    public struct Operand: Sendable, Equatable {
        public var kind: Kind
        /// Store size in bytes of the value, or the allocated size for `.alloca`.
        public var size: UInt64
        /// For a derived pointer (`.derivedPointer`, or a slot holding one): index of the operand
        /// holding its base pointer, if recorded (it always is when the base is an alloca of
        /// this frame).
        public var base: Int?
        /// For an `.alloca` made by the backend to hold one value across calls: what that
        /// value is (`.value`, `.pointer` or `.derivedPointer`); nil for the program's own objects.
        public var holds: Kind?
    }

    /// The stackmap ID (never 0).
    public var id: UInt64
    /// The function containing the call.
    public var function: String
    /// The directly called function, or nil for an indirect call.
    public var callee: String?
    public var operands: [Operand]
}
