/// A minimal JSON document model with deterministic key order, so `--json` output is stable
/// (Foundation's serializer reorders keys and prints integers above 2^53 imprecisely).
public indirect enum JSONValue: Equatable, Sendable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case integer(UInt64)
    /// A signed number (frame offsets are negative).
    case signed(Int64)
    case bool(Bool)
    case null

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered() == b.rendered() }

    /// Pretty-printed with two-space indentation.
    public func rendered(indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        let inner = String(repeating: " ", count: indent + 2)
        switch self {
        case let .object(members):
            if members.isEmpty { return "{}" }
            let body = members.map { "\(inner)\(JSONValue.quote($0.0)): \($0.1.rendered(indent: indent + 2))" }
            return "{\n" + body.joined(separator: ",\n") + "\n\(pad)}"
        case let .array(items):
            if items.isEmpty { return "[]" }
            let body = items.map { inner + $0.rendered(indent: indent + 2) }
            return "[\n" + body.joined(separator: ",\n") + "\n\(pad)]"
        case let .string(s): return JSONValue.quote(s)
        case let .integer(n): return String(n)
        case let .signed(n): return String(n)
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
