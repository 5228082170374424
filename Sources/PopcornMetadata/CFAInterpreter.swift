/// Executes DWARF call frame instructions (`DW_CFA_*`) to find the unwind rules at an address.
///
/// Supports every instruction of DWARF 4's call frame section plus `DW_CFA_GNU_args_size` and
/// `DW_CFA_GNU_negative_offset_extended`. Expression rules are recorded as `.expression` so the
/// caller can report them for the function concerned; `DW_CFA_AARCH64_negate_ra_state`
/// (pointer authentication) is rejected because a signed return address cannot be moved to
/// another stack.
struct CFAInterpreter {
    let cie: CommonInformationEntry
    let context: String
    /// Steps over `DW_CFA_AARCH64_negate_ra_state` instead of rejecting it: for questions that
    /// are not about moving the frame (which registers a function saves).
    var ignoresReturnAddressSigning = false

    /// The row in effect at `address` inside `fde`.
    func row(for fde: FrameDescriptionEntry, at address: UInt64) throws -> FrameRow {
        var state = State(row: FrameRow(cfa: .registerOffset(register: 0, offset: 0)), location: fde.start)
        let what = "CFI of the function at 0x\(String(fde.start, radix: 16))"
        // The CIE's initial instructions set up the row that DW_CFA_restore returns to.
        _ = try execute(cie.instructions, state: &state, initial: nil, stopAt: nil, what: what)
        let initial = state.row
        _ = try execute(fde.instructions, state: &state, initial: initial, stopAt: address, what: what)
        return state.row
    }

    /// Every row of `fde`'s table, in address order: each row's first address and its rules (a row
    /// holds until the next one's first address, the last one until the end of the FDE). One pass
    /// over the instructions, for callers that look up many addresses of one function.
    func rows(for fde: FrameDescriptionEntry) throws -> [(start: UInt64, row: FrameRow)] {
        var state = State(row: FrameRow(cfa: .registerOffset(register: 0, offset: 0)), location: fde.start)
        let what = "CFI of the function at 0x\(String(fde.start, radix: 16))"
        _ = try execute(cie.instructions, state: &state, initial: nil, stopAt: nil, what: what)
        let initial = state.row
        state.rows = []
        _ = try execute(fde.instructions, state: &state, initial: initial, stopAt: nil, what: what)
        state.rows!.append((state.location, state.row))
        return state.rows!
    }

    /// Every register the function's CFI saves somewhere in its body (any rule but "same value" and
    /// "undefined" after the CIE's initial instructions): the registers the function writes, when
    /// they are ones the ABI makes it preserve.
    func registersSaved(by fde: FrameDescriptionEntry) throws -> Set<UInt16> {
        var state = State(row: FrameRow(cfa: .registerOffset(register: 0, offset: 0)), location: fde.start)
        let what = "CFI of the function at 0x\(String(fde.start, radix: 16))"
        _ = try execute(cie.instructions, state: &state, initial: nil, stopAt: nil, what: what)
        let initial = state.row
        state.savedSince = initial.registers
        _ = try execute(fde.instructions, state: &state, initial: initial, stopAt: nil, what: what)
        return state.saved
    }

    private struct State {
        var row: FrameRow {
            // No `oldValue`: a didSet that reads it copies the row's dictionary on every change,
            // which was most of the cost of looking up rows for all of a program's call sites.
            didSet {
                guard let initial = savedSince else { return }
                for (register, rule) in row.registers where rule != .sameValue && rule != .undefined
                    && initial[register] != rule { saved.insert(register) }
            }
        }
        var location: UInt64
        var stack: [FrameRow] = []
        /// While set (by `registersSaved`), every register whose rule comes to differ from this
        /// one (the CIE's initial rules) is added to `saved`.
        var savedSince: [UInt16: RegisterRule]? = nil
        var saved: Set<UInt16> = []
        /// While set (by `rows`), every row the location advances past, with its first address.
        var rows: [(start: UInt64, row: FrameRow)]? = nil

        init(row: FrameRow, location: UInt64) {
            self.row = row
            self.location = location
        }
    }

    /// Runs `code`; returns early (with `true`) once the location would advance past `stopAt`.
    private func execute(_ code: [UInt8], state s: inout State, initial: FrameRow?, stopAt: UInt64?, what: String) throws -> Bool {
        var c = DataCursor(bytes: code, context: context)
        let dataAlign = cie.dataAlignment
        func reg(_ value: UInt64) throws -> UInt16 {
            guard value <= UInt64(UInt16.max) else {
                throw MetadataError.malformed(context: context, reason: "register \(value) in \(what)")
            }
            return UInt16(value)
        }
        func advance(to newLocation: UInt64) -> Bool {
            if let stopAt, newLocation > stopAt { return true }
            if s.rows != nil && newLocation != s.location { s.rows!.append((s.location, s.row)) }
            s.location = newLocation
            return false
        }
        func advance(by delta: UInt64) throws -> Bool {
            let (scaled, overflow) = delta.multipliedReportingOverflow(by: cie.codeAlignment)
            guard !overflow else { throw MetadataError.malformed(context: context, reason: "location advance overflows in \(what)") }
            return advance(to: s.location &+ scaled)
        }
        func restore(_ r: UInt16) throws {
            guard let initial else {
                throw MetadataError.malformed(context: context, reason: "DW_CFA_restore in the initial instructions of a CIE (\(what))")
            }
            s.row.registers[r] = initial.registers[r]
        }
        func factored(_ value: UInt64) -> Int64 { Int64(bitPattern: value) &* dataAlign }
        func setCFARegister(_ r: UInt16) throws {
            guard case let .registerOffset(_, offset) = s.row.cfa else {
                throw MetadataError.malformed(context: context, reason: "DW_CFA_def_cfa_register after a CFA expression in \(what)")
            }
            s.row.cfa = .registerOffset(register: r, offset: offset)
        }
        func setCFAOffset(_ offset: Int64) throws {
            guard case let .registerOffset(r, _) = s.row.cfa else {
                throw MetadataError.malformed(context: context, reason: "DW_CFA_def_cfa_offset after a CFA expression in \(what)")
            }
            s.row.cfa = .registerOffset(register: r, offset: offset)
        }
        func skipBlock() throws {
            let length = try c.uleb(what)
            try c.skip(Int(clamping: length), "DWARF expression in \(what)")
        }

        while !c.atEnd {
            let opcode = try c.u8(what)
            let low = opcode & 0x3f
            switch opcode >> 6 {
            case 1: // DW_CFA_advance_loc
                if try advance(by: UInt64(low)) { return true }
                continue
            case 2: // DW_CFA_offset
                s.row.registers[UInt16(low)] = .offset(factored(try c.uleb(what)))
                continue
            case 3: // DW_CFA_restore
                try restore(UInt16(low))
                continue
            default: break
            }
            switch opcode {
            case 0x00: break // DW_CFA_nop
            case 0x01: // DW_CFA_set_loc
                // Relative forms would need the instruction's own address, which compilers never emit here.
                guard cie.pointerEncoding & 0x70 == 0 else {
                    throw MetadataError.unsupported(context: context, what: "DW_CFA_set_loc with a relative encoding in \(what)")
                }
                let target = try DwarfPointerEncoding.read(cie.pointerEncoding & 0x0f, from: &c, baseAddress: 0, what: what)
                if advance(to: target) { return true }
            case 0x02: if try advance(by: UInt64(try c.u8(what))) { return true }
            case 0x03: if try advance(by: UInt64(try c.u16(what))) { return true }
            case 0x04: if try advance(by: UInt64(try c.u32(what))) { return true }
            case 0x05: // DW_CFA_offset_extended
                let r = try reg(try c.uleb(what))
                s.row.registers[r] = .offset(factored(try c.uleb(what)))
            case 0x06: try restore(try reg(try c.uleb(what)))
            case 0x07: s.row.registers[try reg(try c.uleb(what))] = .undefined
            case 0x08: s.row.registers[try reg(try c.uleb(what))] = .sameValue
            case 0x09: // DW_CFA_register
                let r = try reg(try c.uleb(what))
                s.row.registers[r] = .register(try reg(try c.uleb(what)))
            case 0x0a: s.stack.append(s.row) // DW_CFA_remember_state
            case 0x0b: // DW_CFA_restore_state
                guard let saved = s.stack.popLast() else {
                    throw MetadataError.malformed(context: context, reason: "DW_CFA_restore_state without remembered state in \(what)")
                }
                // The CFA is part of the remembered row too (DWARF 5 clarified this; unwinders agree).
                s.row = saved
            case 0x0c: // DW_CFA_def_cfa
                let r = try reg(try c.uleb(what))
                s.row.cfa = .registerOffset(register: r, offset: Int64(bitPattern: try c.uleb(what)))
            case 0x0d: try setCFARegister(try reg(try c.uleb(what)))
            case 0x0e: try setCFAOffset(Int64(bitPattern: try c.uleb(what)))
            case 0x0f: // DW_CFA_def_cfa_expression
                try skipBlock()
                s.row.cfa = .expression
            case 0x10, 0x16: // DW_CFA_expression, DW_CFA_val_expression
                let r = try reg(try c.uleb(what))
                try skipBlock()
                s.row.registers[r] = .expression
            case 0x11: // DW_CFA_offset_extended_sf
                let r = try reg(try c.uleb(what))
                s.row.registers[r] = .offset(try c.sleb(what) &* dataAlign)
            case 0x12: // DW_CFA_def_cfa_sf
                let r = try reg(try c.uleb(what))
                s.row.cfa = .registerOffset(register: r, offset: try c.sleb(what) &* dataAlign)
            case 0x13: try setCFAOffset(try c.sleb(what) &* dataAlign)
            case 0x14: // DW_CFA_val_offset
                let r = try reg(try c.uleb(what))
                s.row.registers[r] = .valueOffset(factored(try c.uleb(what)))
            case 0x15: // DW_CFA_val_offset_sf
                let r = try reg(try c.uleb(what))
                s.row.registers[r] = .valueOffset(try c.sleb(what) &* dataAlign)
            case 0x2d:
                if ignoresReturnAddressSigning { break }
                throw MetadataError.unsupported(context: context, what: "DW_CFA_AARCH64_negate_ra_state (pointer authentication) in \(what)")
            case 0x2e: _ = try c.uleb(what) // DW_CFA_GNU_args_size: no effect on the rules
            case 0x2f: // DW_CFA_GNU_negative_offset_extended
                let r = try reg(try c.uleb(what))
                s.row.registers[r] = .offset(0 &- factored(try c.uleb(what)))
            default:
                throw MetadataError.unsupported(context: context, what: "call frame instruction 0x\(String(opcode, radix: 16)) in \(what)")
            }
        }
        return false
    }
}
