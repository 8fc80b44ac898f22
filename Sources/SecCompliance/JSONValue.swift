import Foundation

/// A JSON value read from a configuration item: what the rules look at.
///
/// Configuration items are few next to the log's events and are read once per change,
/// so they are parsed with Foundation; the log's hot paths never come here.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text; nil when it is not JSON.
    public init?(parsing bytes: some Sequence<UInt8>) {
        guard let any = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return nil }
        self.init(any: any)
    }

    public init?(parsing text: String) { self.init(parsing: Array(text.utf8)) }

    /// From what `JSONSerialization` gives.
    public init(any: Any) {
        switch any {
        case let d as [String: Any]: self = .object(d.mapValues(JSONValue.init(any:)))
        case let a as [Any]: self = .array(a.map(JSONValue.init(any:)))
        case let s as String: self = .string(s)
        case let n as NSNumber:
            // JSON booleans come as NSNumbers of Objective-C type 'c' (numbers never do).
            if String(cString: n.objCType) == "c" { self = .bool(n.boolValue) } else { self = .number(n.doubleValue) }
        default: self = .null
        }
    }

    /// A member of an object (nil when absent or not an object).
    public subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] } else { return nil }
    }

    /// A member looked up without regard to the case of the key's first letter, as
    /// Config's items spell some keys both ways (`ipPermissions`, `IpPermissions`).
    public func member(_ key: String) -> JSONValue? {
        guard case .object(let o) = self else { return nil }
        if let v = o[key] { return v }
        let upper = key.prefix(1).uppercased() + key.dropFirst()
        let lower = key.prefix(1).lowercased() + key.dropFirst()
        return o[upper] ?? o[lower]
    }

    /// A path of members (`member` at each step).
    public func path(_ keys: String...) -> JSONValue? {
        var v: JSONValue? = self
        for k in keys { v = v?.member(k) }
        return v
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { self == .null }

    /// A boolean, also from the text "true"/"false" (Config writes some flags as text).
    public var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s.lowercased() == "true" ? true : s.lowercased() == "false" ? false : nil
        default: return nil
        }
    }

    /// A number, also from numeric text.
    public var number: Double? {
        switch self {
        case .number(let n): return n
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    /// A value that may be JSON held in a string (Config stores `configuration` and
    /// supplementary values either way): the parsed value, else itself.
    public var unwrapped: JSONValue {
        if case .string(let s) = self, let first = s.first(where: { !$0.isWhitespace }), first == "{" || first == "[",
           let v = JSONValue(parsing: s) {
            return v
        }
        return self
    }

    /// A value as one element or a list of them (IAM policies allow both).
    public var list: [JSONValue] {
        switch self {
        case .array(let a): return a
        case .null: return []
        default: return [self]
        }
    }
}

extension JSONValue {
    /// As Foundation's JSON objects.
    public var foundation: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? NSNumber(value: Int64(n)) : NSNumber(value: n)
        case .string(let s): return s
        case .array(let a): return a.map(\.foundation)
        case .object(let o): return o.mapValues(\.foundation)
        }
    }

    /// Compact JSON text with sorted keys.
    public var jsonText: String {
        if case .object = self {} else if case .array = self {} else {
            let d = (try? JSONSerialization.data(withJSONObject: [foundation], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("[null]".utf8)
            return String(String(decoding: d, as: UTF8.self).dropFirst().dropLast())
        }
        let d = (try? JSONSerialization.data(withJSONObject: foundation, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: d, as: UTF8.self)
    }
}

extension ConfigItem {
    /// The configuration item inside a raw record (see ``init(raw:account:region:time:)``).
    public static func itemJSON(raw: [UInt8]) -> JSONValue? {
        JSONValue(parsing: raw).flatMap { locate($0) }
    }
}
