import PopcornMetadata
import PopcornSupport

/// Text and JSON renderings of decoded call sites, in the registers' assembler names.
enum CallSiteFormatter {
    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// `cfa-24`, `cfa+8`.
    static func cfaRelative(_ offset: Int32) -> String { offset < 0 ? "cfa\(offset)" : "cfa+\(offset)" }

    /// `[rsp+16]`, `[x29-8]`.
    static func memory(_ register: UInt16, _ offset: Int32, _ names: RegisterFile) -> String {
        "[\(names.name(of: register))\(offset < 0 ? "" : "+")\(offset)]"
    }

    /// Where a live value is, e.g. `rbx`, `address [rsp+8] (cfa-24)`, `[x29-8] (cfa-24)`, `constant 7`.
    static func location(_ value: LiveValue, _ names: RegisterFile) -> String {
        let slot = value.cfaOffset.map { " (\(cfaRelative($0)))" } ?? ""
        switch value.kind {
        case .register: return names.name(of: value.register)
        case .direct: return "address " + memory(value.register, value.offset, names) + slot
        case .indirect: return memory(value.register, value.offset, names) + slot
        case .constant: return "constant \(Int64(bitPattern: value.constant))"
        }
    }

    /// `pointer`, `derived from #0`, `alloca 16 bytes`, `holds pointer`.
    static func attributes(_ info: LiveValueAnnotation) -> [String] {
        var result: [String] = []
        if info.isPointer { result.append("pointer") }
        if let base = info.base { result.append("derived from #\(base)") }
        if info.isAlloca { result.append(info.allocaSize == 0 ? "alloca (dynamic size)" : "alloca \(info.allocaSize) bytes") }
        if info.holdsPointer { result.append("holds pointer") }
        return result
    }

    /// The lines of one call site on one ISA (indented by the caller).
    static func text(_ site: CallSite, isa: ISA) -> [String] {
        let names = RegisterFile(isa)
        let frame = site.frame
        var header = "\(isa.rawValue): ra \(hex(site.returnAddress))"
        header += ", frame " + (frame.frameSize.map { "\($0)" } ?? "dynamic")
        header += ", cfa = \(names.name(of: frame.cfaRegister))\(frame.cfaOffset < 0 ? "" : "+")\(frame.cfaOffset)"
        header += ", ra at \(cfaRelative(frame.returnAddressOffset))"
        if let fp = frame.framePointerOffset { header += ", fp at \(cfaRelative(fp))" }
        var lines = [header]
        let saved = frame.savedRegisters.map { "\(names.name(of: $0.register)) at \(cfaRelative($0.cfaOffset))" }
        lines.append("  saved: " + (saved.isEmpty ? "none" : saved.joined(separator: ", ")))
        for (n, value) in site.liveValues.enumerated() {
            let extra = attributes(value.info)
            lines.append("  #\(n): \(location(value, names)), \(value.size) bytes" + (extra.isEmpty ? "" : ", " + extra.joined(separator: ", ")))
        }
        return lines
    }

    /// One call site on one ISA as JSON.
    static func json(_ site: CallSite, isa: ISA) -> JSONValue {
        let names = RegisterFile(isa)
        let frame = site.frame
        func register(_ r: UInt16) -> [(String, JSONValue)] { [("register", .string(names.name(of: r))), ("dwarf", .integer(UInt64(r)))] }
        let saved: [JSONValue] = frame.savedRegisters.map {
            .object(register($0.register) + [("cfaOffset", .signed(Int64($0.cfaOffset))), ("size", .integer(UInt64($0.size)))])
        }
        let values: [JSONValue] = site.liveValues.map { v in
            let kind: String
            switch v.kind {
            case .register: kind = "register"
            case .direct: kind = "address"
            case .indirect: kind = "slot"
            case .constant: kind = "constant"
            }
            var members: [(String, JSONValue)] = [("kind", .string(kind)), ("size", .integer(UInt64(v.size)))]
            switch v.kind {
            case .register: members += register(v.register)
            case .direct, .indirect:
                members += register(v.register) + [("offset", .signed(Int64(v.offset))),
                                                   ("cfaOffset", v.cfaOffset.map { .signed(Int64($0)) } ?? .null)]
            case .constant: members.append(("constant", .signed(Int64(bitPattern: v.constant))))
            }
            members += [("pointer", .bool(v.info.isPointer)),
                        ("derivedFrom", v.info.base.map { .integer(UInt64($0)) } ?? .null),
                        ("alloca", .bool(v.info.isAlloca)),
                        ("allocaSize", .integer(UInt64(v.info.allocaSize))),
                        ("holdsPointer", .bool(v.info.holdsPointer))]
            return .object(members)
        }
        return .object([
            ("returnAddress", .integer(site.returnAddress)),
            ("frameSize", frame.frameSize.map { .integer(UInt64($0)) } ?? .null),
            ("cfaRule", .object(register(frame.cfaRegister) + [("offset", .signed(Int64(frame.cfaOffset)))])),
            ("returnAddressSlot", .signed(Int64(frame.returnAddressOffset))),
            ("framePointerSlot", frame.framePointerOffset.map { .signed(Int64($0)) } ?? .null),
            ("savedRegisters", .array(saved)),
            ("liveValues", .array(values)),
        ])
    }
}
