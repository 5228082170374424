/// The decoded contents of an `.llvm_stackmaps` section (format version 3).
///
/// A linked binary concatenates the sections of all its objects, so one section holds several
/// stackmap tables back to back; `functions` and `records` are the union of all of them, each
/// record resolved to its function.
public struct StackMap: Sendable, Equatable {
    public var functions: [StackMapFunction]
    public var records: [StackMapRecord]

    public init(functions: [StackMapFunction], records: [StackMapRecord]) {
        self.functions = functions
        self.records = records
    }
}

/// One `StkSizeRecord`: a function that contains stackmap records.
public struct StackMapFunction: Sendable, Equatable {
    /// Entry address (absolute in a linked binary; 0 when the linker discarded the function).
    public var address: UInt64
    /// Bytes the function allocates below its return address; `nil` when not statically known
    /// (variable-sized allocas).
    public var stackSize: UInt64?
    public var recordCount: UInt64

    public init(address: UInt64, stackSize: UInt64?, recordCount: UInt64) {
        self.address = address; self.stackSize = stackSize; self.recordCount = recordCount
    }
}

/// One `StkMapRecord`: the live values at one `llvm.experimental.stackmap` call.
public struct StackMapRecord: Sendable, Equatable {
    /// The stackmap ID (popcorn-cc's content-derived call-site ID).
    public var id: UInt64
    /// Index into `StackMap.functions` of the function containing the record.
    public var functionIndex: Int
    /// Offset of the instruction after the stackmap from the function's entry.
    public var instructionOffset: UInt32
    public var locations: [StackMapLocation]
    public var liveOuts: [StackMapLiveOut]

    public init(id: UInt64, functionIndex: Int, instructionOffset: UInt32,
                locations: [StackMapLocation], liveOuts: [StackMapLiveOut]) {
        self.id = id; self.functionIndex = functionIndex; self.instructionOffset = instructionOffset
        self.locations = locations; self.liveOuts = liveOuts
    }
}

/// Where a live value is at a stackmap.
public struct StackMapLocation: Sendable, Equatable {
    /// The location kinds of format version 3.
    public enum Kind: UInt8, Sendable, Equatable {
        /// The value is in `register`.
        case register = 1
        /// The value is the address `register + offset` (an alloca).
        case direct = 2
        /// The value is in memory at `register + offset` (a spill slot).
        case indirect = 3
        /// The value is `offset` itself.
        case constant = 4
        /// The value is the `offset`-th entry of the constant pool.
        case constantIndex = 5
    }

    public var kind: Kind
    /// Size in bytes (for registers, the register's size, which may exceed the value's).
    public var size: UInt16
    /// DWARF register number.
    public var register: UInt16
    /// Offset, small constant or constant-pool index, depending on `kind`.
    public var offset: Int32
    /// For `.constant` and `.constantIndex`: the value (the pool is resolved while parsing).
    public var constant: UInt64

    public init(kind: Kind, size: UInt16, register: UInt16, offset: Int32, constant: UInt64 = 0) {
        self.kind = kind; self.size = size; self.register = register; self.offset = offset; self.constant = constant
    }
}

/// A register live after a patchpoint (always empty for plain stackmaps, kept for completeness).
public struct StackMapLiveOut: Sendable, Equatable {
    public var register: UInt16
    public var size: UInt8

    public init(register: UInt16, size: UInt8) { self.register = register; self.size = size }
}
