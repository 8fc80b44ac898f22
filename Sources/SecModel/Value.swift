/// A typed value of the query language and of event fields.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    /// Milliseconds since the Unix epoch, UTC.
    case time(Int64)
    case ip(IPAddress)
    case cidr(CIDR)
    case list([Value])

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The value as a number where it is one (times count as milliseconds).
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .time(let t): return Double(t)
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Text as an analyst reads it: times in RFC 3339, addresses in canonical form.
    public var text: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return Value.format(d)
        case .string(let s): return s
        case .time(let t): return Timestamp.rfc3339(millis: t)
        case .ip(let ip): return ip.description
        case .cidr(let c): return c.description
        case .list(let l): return "[" + l.map(\.text).joined(separator: ", ") + "]"
        }
    }

    public static func format(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }

    /// Total order used by sort: null first, then numbers, then strings and the rest.
    public static func order(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.null, .null): return false
        case (.null, _): return true
        case (_, .null): return false
        case (.string(let x), .string(let y)): return x < y
        case (.ip(let x), .ip(let y)): return x < y
        default:
            if let x = a.number, let y = b.number { return x < y }
            return a.text < b.text
        }
    }
}
