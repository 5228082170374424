/// Content-derived, module-unique 64-bit IDs for call sites (the stackmap record IDs).
///
/// An ID is a hash of what identifies the site independently of code layout: the module hash
/// `SymbolNaming` uses for the translation unit, the function's name, the call's ordinal among
/// the function's instrumented calls in IR order, and the callee's name (`<indirect>` for
/// indirect calls). Every ISA lowers the same portable IR, so a site has the same ID in every
/// ISA's object, and records are matched by ID instead of by position. IDs that collide within
/// the module (or would be 0, which the side table reserves) are rehashed with a salt.
struct CallSiteID {
    private var used: Set<UInt64> = []

    /// The ID for one call site, unique among those allocated so far.
    mutating func allocate(moduleHash: String, function: String, ordinal: Int, callee: String?) -> UInt64 {
        var salt = 0
        while true {
            let id = Self.hash(moduleHash: moduleHash, function: function, ordinal: ordinal, callee: callee, salt: salt)
            if id != 0, used.insert(id).inserted { return id }
            salt += 1
        }
    }

    /// FNV-1a over the fields (NUL-separated), finished with a 64-bit mixer so that IDs of
    /// neighbouring ordinals differ in every bit position.
    static func hash(moduleHash: String, function: String, ordinal: Int, callee: String?, salt: Int = 0) -> UInt64 {
        var fields = [moduleHash, function, String(ordinal), callee ?? "<indirect>"]
        if salt > 0 { fields.append("salt\(salt)") }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in fields.joined(separator: "\0").utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }
}
