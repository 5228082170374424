import PopcornSupport

/// Checks that the metadata of all ISAs of one program describe the same call sites, so that
/// the runtime can translate every frame it finds on one ISA's stack into any other ISA's.
enum CrossISAVerifier {
    static func verify(_ tables: [StackTransformMetadata]) throws {
        guard let reference = tables.first else { return }
        for other in tables.dropFirst() {
            try verify(reference, other)
        }
    }

    private static func verify(_ a: StackTransformMetadata, _ b: StackTransformMetadata) throws {
        func name(_ t: StackTransformMetadata, _ s: CallSite) -> String { t.functions[s.functionIndex].name }
        // Both lists are sorted by ID: walk them together.
        var i = 0, j = 0
        while i < a.callSites.count || j < b.callSites.count {
            if j == b.callSites.count || (i < a.callSites.count && a.callSites[i].id < b.callSites[j].id) {
                let s = a.callSites[i]
                throw MetadataError.mismatch(function: name(a, s), id: s.id, reason: "exists on \(a.isa) but not on \(b.isa)")
            }
            if i == a.callSites.count || b.callSites[j].id < a.callSites[i].id {
                let s = b.callSites[j]
                throw MetadataError.mismatch(function: name(b, s), id: s.id, reason: "exists on \(b.isa) but not on \(a.isa)")
            }
            try verify(site: a.callSites[i], in: a, against: b.callSites[j], in: b)
            i += 1; j += 1
        }
    }

    private static func verify(site x: CallSite, in a: StackTransformMetadata, against y: CallSite, in b: StackTransformMetadata) throws {
        let function = a.functions[x.functionIndex].name
        let otherFunction = b.functions[y.functionIndex].name
        func fail(_ reason: String) -> MetadataError { .mismatch(function: function, id: x.id, reason: reason) }
        guard function == otherFunction else {
            throw fail("is in '\(function)' on \(a.isa) but in '\(otherFunction)' on \(b.isa)")
        }
        guard x.liveValues.count == y.liveValues.count else {
            throw fail("\(x.liveValues.count) live values on \(a.isa), \(y.liveValues.count) on \(b.isa)")
        }
        for (n, (u, v)) in zip(x.liveValues, y.liveValues).enumerated() {
            // An alloca is an address on both ISAs or on neither; a value may sit in a register
            // on one ISA and in a spill slot or be a constant on the other.
            guard (u.kind == .direct) == (v.kind == .direct) else {
                throw fail("live value \(n) is a stack allocation on \(u.kind == .direct ? a.isa : b.isa) only")
            }
            guard sizesCompatible(u, v) else {
                throw fail("live value \(n) has size \(u.size) on \(a.isa) but \(v.size) on \(b.isa)")
            }
            guard u.info == v.info else {
                throw fail("live value \(n) is described differently on \(a.isa) and \(b.isa)")
            }
        }
    }

    /// Register locations report the register's width, which may exceed the value's (an x86_64
    /// `double` lives in a 16-byte xmm register, an aarch64 one in an 8-byte d register), and
    /// constants are always reported as 8 bytes; everything else must agree exactly.
    private static func sizesCompatible(_ u: LiveValue, _ v: LiveValue) -> Bool {
        if u.size == v.size || u.kind == .constant || v.kind == .constant { return true }
        if u.kind == .register && u.size > v.size { return true }
        if v.kind == .register && v.size > u.size { return true }
        return false
    }
}
