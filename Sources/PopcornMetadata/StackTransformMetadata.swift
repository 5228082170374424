import PopcornSupport

/// The stack-transformation metadata of one ISA's binary: what the runtime needs to rewrite a
/// frame of this ISA into (or out of) another ISA's format.
///
/// This is the logical content of one `.popcorn.meta` blob; `MetadataWriter` encodes it in the
/// format of `docs/METADATA.md` and `MetadataReader` decodes it.
public struct StackTransformMetadata: Sendable, Equatable {
    public var isa: ISA
    /// Functions that contain call sites, sorted by address.
    public var functions: [MetadataFunction]
    /// Call sites sorted by ID (unique within the binary). Decoded tables do not have the IDs
    /// (the format stores the sites in ID order instead): their sites' `id` is the position.
    public var callSites: [CallSite]
    /// The site-set hash a decoded table's header carries (`nil` for built tables, whose hash is
    /// computed from the IDs).
    public var decodedSiteSetHash: UInt64?

    public init(isa: ISA, functions: [MetadataFunction], callSites: [CallSite], decodedSiteSetHash: UInt64? = nil) {
        self.isa = isa
        self.functions = functions
        self.callSites = callSites
        self.decodedSiteSetHash = decodedSiteSetHash
    }

    /// A hash of the sorted call-site IDs (64-bit FNV-1a over their little-endian bytes).
    ///
    /// Identical for the binaries of all ISAs of one program, so the runtime can check cheaply
    /// that two binaries belong together before it trusts their tables (and that the i-th site of
    /// each is the same site).
    public var siteSetHash: UInt64 {
        decodedSiteSetHash ?? Self.siteSetHash(of: callSites.map(\.id))
    }

    /// The site-set hash of these (sorted) call-site IDs.
    public static func siteSetHash(of ids: [UInt64]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for var id in ids {
            for _ in 0..<8 {
                hash = (hash ^ (id & 0xff)) &* 0x0000_0100_0000_01b3
                id >>= 8
            }
        }
        return hash
    }

    /// This table as `MetadataReader` gives it back: the format stores no IDs, so each site is
    /// identified by its position in ID order, and the site-set hash is the header's.
    public var asDecoded: StackTransformMetadata {
        var copy = self
        copy.decodedSiteSetHash = siteSetHash
        for i in copy.callSites.indices { copy.callSites[i].id = UInt64(i) }
        return copy
    }

    /// The call site with `id`, by binary search.
    public func callSite(id: UInt64) -> CallSite? {
        var low = 0, high = callSites.count
        while low < high {
            let mid = (low + high) / 2
            if callSites[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low < callSites.count && callSites[low].id == id ? callSites[low] : nil
    }

    /// Indices into `callSites` ordered by return address (the runtime's second index).
    public var indicesByReturnAddress: [Int] {
        callSites.indices.sorted { (callSites[$0].returnAddress, callSites[$0].id) < (callSites[$1].returnAddress, callSites[$1].id) }
    }
}

/// A function that contains call sites.
public struct MetadataFunction: Sendable, Equatable {
    public var name: String
    public var address: UInt64
    /// Size in bytes from the symbol table (0 when unknown).
    public var size: UInt64

    public init(name: String, address: UInt64, size: UInt64) {
        self.name = name; self.address = address; self.size = size
    }
}

/// One call site (a migration-capable call) and the frame of its function at the call.
public struct CallSite: Sendable, Equatable {
    /// The content-derived ID, identical on every ISA (in a decoded table: the site's position
    /// in ID order, which the format stores instead).
    public var id: UInt64
    /// Address of the instruction after the call.
    public var returnAddress: UInt64
    /// Index into `StackTransformMetadata.functions`.
    public var functionIndex: Int
    public var frame: FrameLayout
    /// The values live across the call, in the order of the stackmap's operands.
    public var liveValues: [LiveValue]

    public init(id: UInt64, returnAddress: UInt64, functionIndex: Int, frame: FrameLayout, liveValues: [LiveValue]) {
        self.id = id; self.returnAddress = returnAddress; self.functionIndex = functionIndex
        self.frame = frame; self.liveValues = liveValues
    }
}

/// The layout of a function's frame while it is suspended at a call, derived from its CFI.
///
/// All slots are given relative to the canonical frame address (CFA): the value of the stack
/// pointer just before the call instruction that entered this function.
public struct FrameLayout: Sendable, Equatable {
    /// CFA − SP at the call site; `nil` when the frame has a dynamic size (variable allocas).
    public var frameSize: UInt32?
    /// CFA = `cfaRegister` + `cfaOffset` at the call site.
    public var cfaRegister: UInt16
    public var cfaOffset: Int32
    /// Where this function's own return address is saved (CFA-relative).
    public var returnAddressOffset: Int32
    /// Where the caller's frame pointer is saved (CFA-relative), if this function saved it.
    public var framePointerOffset: Int32?
    /// Callee-saved registers this function saved, sorted by register.
    public var savedRegisters: [SavedRegister]

    public init(frameSize: UInt32?, cfaRegister: UInt16, cfaOffset: Int32, returnAddressOffset: Int32,
                framePointerOffset: Int32?, savedRegisters: [SavedRegister]) {
        self.frameSize = frameSize; self.cfaRegister = cfaRegister; self.cfaOffset = cfaOffset
        self.returnAddressOffset = returnAddressOffset; self.framePointerOffset = framePointerOffset
        self.savedRegisters = savedRegisters
    }
}

/// A callee-saved register spilled by a function: the caller's value is at CFA + `cfaOffset`.
public struct SavedRegister: Sendable, Equatable, Hashable {
    /// DWARF register number.
    public var register: UInt16
    /// Bytes saved (8 for every register the two ABIs preserve).
    public var size: UInt16
    public var cfaOffset: Int32

    public init(register: UInt16, size: UInt16 = 8, cfaOffset: Int32) {
        self.register = register; self.size = size; self.cfaOffset = cfaOffset
    }
}
