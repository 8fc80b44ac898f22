#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One step of a path into a JSON document: an object member or an array element.
public enum PathSegment: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case .key(let k): return k
        case .index(let i): return "[\(i)]"
        }
    }
}

/// A value found in a JSON document by ``JSONPath``.
public enum JSONValue: Sendable, Hashable, CustomStringConvertible {
    /// A string, unescaped; bytes that are not UTF-8 become U+FFFD.
    case string(String)
    /// A number, as its JSON text (`42`, `-1.5e3`); see ``int64`` and ``double``.
    case number(String)
    case bool(Bool)
    case null
    /// An object, as its raw JSON text, verbatim.
    case object(String)
    /// An array, as its raw JSON text, verbatim.
    case array(String)

    public enum Kind: String, Sendable, Hashable {
        case string, number, bool, null, object, array
    }

    public var kind: Kind {
        switch self {
        case .string: return .string
        case .number: return .number
        case .bool: return .bool
        case .null: return .null
        case .object: return .object
        case .array: return .array
        }
    }

    /// The number as an integer, when it is one that fits (`3`, `3.0`, `3e2`).
    public var int64: Int64? {
        guard case .number(let t) = self else { return nil }
        if let i = Int64(t) { return i }
        guard let d = Double(t), d == d.rounded(), abs(d) < 9.2e18 else { return nil }
        return Int64(d)
    }

    /// The number as a double.
    public var double: Double? {
        guard case .number(let t) = self else { return nil }
        return Double(t)
    }

    /// Text as an analyst reads it: the string itself, the number's text, `true`,
    /// `false`, `null`, or the raw JSON of an object or array.
    public var text: String {
        switch self {
        case .string(let s), .number(let s), .object(let s), .array(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    public var description: String { text }
}

/// A path into a JSON document, `userIdentity.sessionContext.attributes.mfaAuthenticated`
/// or `resources[0].ARN`, and the look-up the query engine's `raw.<path>` uses.
///
/// Look-ups read the document directly (no tape, no allocation until the value is
/// built) and skip unrelated members without validating them: they are meant for raw
/// records that were validated at ingest. On malformed input they return nil or a
/// partial value, never crash. The first of duplicate keys wins.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public var segments: [PathSegment]

    public init(_ segments: [PathSegment]) { self.segments = segments }

    /// Parses `a.b[0].c`. Keys holding dots or brackets are written `a["b.c"]`, with
    /// `\"` and `\\` escapes inside the quotes.
    /// - Returns: nil for an empty path, an empty key, an unclosed bracket or a bad index.
    public init?(_ text: String) {
        var segs: [PathSegment] = []
        let b = Array(text.utf8)
        var i = 0
        var expectKey = true
        while i < b.count {
            if b[i] == UInt8(ascii: "[") {
                i += 1
                if i < b.count && b[i] == UInt8(ascii: "\"") {
                    i += 1
                    var key: [UInt8] = []
                    while i < b.count && b[i] != UInt8(ascii: "\"") {
                        if b[i] == UInt8(ascii: "\\") && i + 1 < b.count { i += 1 }
                        key.append(b[i])
                        i += 1
                    }
                    guard i + 1 < b.count, b[i + 1] == UInt8(ascii: "]") else { return nil }
                    i += 2
                    segs.append(.key(String(decoding: key, as: UTF8.self)))
                } else {
                    var n = 0, digits = 0
                    while i < b.count && b[i] >= 48 && b[i] <= 57 && digits < 12 {
                        n = n * 10 + Int(b[i] - 48); i += 1; digits += 1
                    }
                    guard digits > 0, i < b.count, b[i] == UInt8(ascii: "]") else { return nil }
                    i += 1
                    segs.append(.index(n))
                }
                expectKey = false
            } else if b[i] == UInt8(ascii: ".") {
                guard !segs.isEmpty, !expectKey else { return nil }
                i += 1
                expectKey = true
            } else {
                guard expectKey else { return nil }
                let s = i
                while i < b.count && b[i] != UInt8(ascii: ".") && b[i] != UInt8(ascii: "[") {
                    if b[i] == UInt8(ascii: "]") { return nil }
                    i += 1
                }
                segs.append(.key(String(decoding: b[s ..< i], as: UTF8.self)))
                expectKey = false
            }
        }
        guard !segs.isEmpty, !expectKey else { return nil }
        segments = segs
    }

    public var description: String {
        var out = ""
        for s in segments {
            switch s {
            case .key(let k):
                if k.isEmpty || k.contains(where: { $0 == "." || $0 == "[" || $0 == "]" || $0 == "\"" }) {
                    var q = "[\""
                    for ch in k {
                        if ch == "\\" || ch == "\"" { q.append("\\") }
                        q.append(ch)
                    }
                    out += q + "\"]"
                } else {
                    out += out.isEmpty ? k : "." + k
                }
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    /// The value at this path in a JSON document, or nil when it is not there.
    public func lookup(in raw: UnsafeRawBufferPointer) -> JSONValue? {
        JSONPath.lookup(raw: raw, path: segments)
    }

    public func lookup(in raw: [UInt8]) -> JSONValue? {
        raw.withUnsafeBytes { JSONPath.lookup(raw: $0, path: segments) }
    }

    /// The value at `path` in the JSON document `raw`, or nil when it is not there.
    public static func lookup(raw: [UInt8], path: [PathSegment]) -> JSONValue? {
        raw.withUnsafeBytes { lookup(raw: $0, path: path) }
    }

    /// The value at `path` in the JSON document `raw`, or nil when it is not there.
    public static func lookup(raw: UnsafeRawBufferPointer, path: [PathSegment]) -> JSONValue? {
        guard let base = raw.baseAddress else { return nil }
        var c = Cursor(p: base.assumingMemoryBound(to: UInt8.self), n: raw.count)
        c.skipSpace()
        for seg in path {
            switch seg {
            case .key(let k):
                let found: Bool? = k.utf8.withContiguousStorageIfAvailable { c.enterMember(UnsafeRawBufferPointer($0)) }
                    ?? Array(k.utf8).withUnsafeBytes { c.enterMember($0) }
                guard found == true else { return nil }
            case .index(let idx):
                guard c.enterElement(idx) else { return nil }
            }
        }
        return c.value()
    }

    /// Like ``lookup(raw:path:)`` for a stored CloudTrail record: when the record is an
    /// EventBridge envelope (`detail-type` and `detail` at the top) and the path is not
    /// found at the top, it is looked up under `detail`, where the CloudTrail fields are.
    public static func lookupInRecord(raw: [UInt8], path: [PathSegment]) -> JSONValue? {
        raw.withUnsafeBytes { b in
            if let v = lookup(raw: b, path: path) { return v }
            guard case .key(let first) = path.first, first != "detail",
                  lookup(raw: b, path: [.key("detail-type")]) != nil else { return nil }
            return lookup(raw: b, path: [.key("detail")] + path)
        }
    }
}

/// The top-level members of the first JSON object in the first bytes of an input, as
/// far as those bytes hold them: what format detection looks at. Reading is forgiving,
/// like ``JSONPath``'s look-ups, and stops where the bytes or the object end, so an
/// object cut by the end of the prefix still shows its first keys.
///
/// Values point into the content: a probe is valid only while its content is.
struct JSONProbe {
    private struct Member {
        var key: [UInt8]
        /// The value's bytes; the last one may be cut by the end of the content.
        var value: UnsafeRawBufferPointer
        var complete: Bool
    }

    private var members: [Member] = []

    /// - Parameter content: an input's first bytes; a byte order mark, whitespace and
    ///   the `[` of an array of records before the first `{` are skipped.
    init(_ content: UnsafeRawBufferPointer) {
        guard let base = content.baseAddress else { return }
        var c = Cursor(p: base.assumingMemoryBound(to: UInt8.self), n: content.count)
        if c.n >= 3 && c.p[0] == 0xEF && c.p[1] == 0xBB && c.p[2] == 0xBF { c.i = 3 }
        while c.i < c.n && (c.p[c.i] == 0x5B || JSONScanner.isSpace(c.p[c.i])) { c.i += 1 }
        guard c.i < c.n, c.p[c.i] == 0x7B else { return }
        c.i += 1
        while true {
            c.skipSpace()
            guard c.i < c.n, c.p[c.i] == 0x22 else { return }
            var escaped = false
            guard let keyEnd = c.stringEnd(c.i, escaped: &escaped) else { return }
            let text = UnsafeRawBufferPointer(start: c.p + c.i + 1, count: keyEnd - c.i - 2)
            var key: [UInt8] = []
            if escaped { JSONScanner.unescape(text, into: &key) } else { key = Array(text) }
            c.i = keyEnd
            c.skipSpace()
            guard c.i < c.n, c.p[c.i] == 0x3A else { return }
            c.i += 1
            c.skipSpace()
            guard c.i < c.n else { return }
            let start = c.i
            guard let end = c.valueEnd(start) else {
                members.append(Member(key: key, value: UnsafeRawBufferPointer(start: c.p + start, count: c.n - start),
                                      complete: false))
                return
            }
            members.append(Member(key: key, value: UnsafeRawBufferPointer(start: c.p + start, count: end - start),
                                  complete: true))
            c.i = end
            c.skipSpace()
            guard c.i < c.n, c.p[c.i] == 0x2C else { return }
            c.i += 1
        }
    }

    private func member(_ key: StaticString) -> Member? {
        members.first { $0.key.elementsEqual(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)) }
    }

    /// Whether the object has the member `key`.
    func has(_ key: StaticString) -> Bool { member(key) != nil }

    /// Whether the member `key` holds an array.
    func opensArray(_ key: StaticString) -> Bool { member(key)?.value.first == 0x5B }

    /// The member `key`'s value when it is a whole string, unescaped.
    func string(_ key: StaticString) -> String? {
        guard let m = member(key), m.complete, m.value.count >= 2, m.value.first == 0x22 else { return nil }
        var out: [UInt8] = []
        JSONScanner.unescape(UnsafeRawBufferPointer(rebasing: m.value[1 ..< m.value.count - 1]), into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the member `key`'s value (as JSON text, escapes and all) contains `text`:
    /// for a document carried in a JSON string.
    func valueMentions(_ key: StaticString, _ text: StaticString) -> Bool {
        guard let m = member(key) else { return false }
        return InputFormat.contains(m.value, text)
    }
}

/// A forgiving reader over a validated JSON document.
private struct Cursor {
    let p: UnsafePointer<UInt8>
    let n: Int
    var i = 0

    init(p: UnsafePointer<UInt8>, n: Int) { self.p = p; self.n = n }

    mutating func skipSpace() {
        while i < n && JSONScanner.isSpace(p[i]) { i += 1 }
    }

    /// From an opening quote at `j`: the index after the closing quote, or nil.
    func stringEnd(_ j: Int, escaped: inout Bool) -> Int? {
        var k = j + 1
        while k < n {
            let c = p[k]
            if c == 0x22 { return k + 1 }
            if c == 0x5C { escaped = true; k += 2 } else { k += 1 }
        }
        return nil
    }

    /// The index after the value starting at `j`, or nil.
    func valueEnd(_ j: Int) -> Int? {
        guard j < n else { return nil }
        switch p[j] {
        case 0x22:
            var e = false
            return stringEnd(j, escaped: &e)
        case 0x7B, 0x5B:
            var depth = 0
            var k = j
            while k < n {
                let c = p[k]
                if c == 0x22 {
                    var e = false
                    guard let s = stringEnd(k, escaped: &e) else { return nil }
                    k = s
                    continue
                }
                if c == 0x7B || c == 0x5B { depth += 1 } else if c == 0x7D || c == 0x5D {
                    depth -= 1
                    if depth == 0 { return k + 1 }
                }
                k += 1
            }
            return nil
        default:
            var k = j
            while k < n {
                let c = p[k]
                if c == 0x2C || c == 0x7D || c == 0x5D || JSONScanner.isSpace(c) { break }
                k += 1
            }
            return k > j ? k : nil
        }
    }

    /// Moves into the member `key` of the object at the cursor.
    mutating func enterMember(_ key: UnsafeRawBufferPointer) -> Bool {
        guard i < n, p[i] == 0x7B else { return false }
        i += 1
        while true {
            skipSpace()
            guard i < n, p[i] == 0x22 else { return false }
            var escaped = false
            guard let ke = stringEnd(i, escaped: &escaped) else { return false }
            let k = UnsafeRawBufferPointer(start: p + i + 1, count: ke - i - 2)
            let match: Bool
            if escaped {
                var out: [UInt8] = []
                JSONScanner.unescape(k, into: &out)
                match = out.elementsEqual(key)
            } else {
                match = k.count == key.count && (k.count == 0 || memcmp(k.baseAddress!, key.baseAddress!, k.count) == 0)
            }
            i = ke
            skipSpace()
            guard i < n, p[i] == 0x3A else { return false }
            i += 1
            skipSpace()
            if match { return i < n }
            guard let ve = valueEnd(i) else { return false }
            i = ve
            skipSpace()
            guard i < n, p[i] == 0x2C else { return false }
            i += 1
        }
    }

    /// Moves into element `index` of the array at the cursor.
    mutating func enterElement(_ index: Int) -> Bool {
        guard index >= 0, i < n, p[i] == 0x5B else { return false }
        i += 1
        skipSpace()
        guard i < n, p[i] != 0x5D else { return false }
        var k = 0
        while k < index {
            guard let ve = valueEnd(i) else { return false }
            i = ve
            skipSpace()
            guard i < n, p[i] == 0x2C else { return false }
            i += 1
            skipSpace()
            k += 1
        }
        return i < n
    }

    /// The value at the cursor.
    func value() -> JSONValue? {
        guard i < n, let end = valueEnd(i) else { return nil }
        let text = UnsafeRawBufferPointer(start: p + i, count: end - i)
        switch p[i] {
        case 0x22:
            let body = UnsafeRawBufferPointer(rebasing: text[1 ..< text.count - 1])
            if Bytes.firstIndex(of: 0x5C, in: body) == nil { return .string(String(decoding: body, as: UTF8.self)) }
            var out: [UInt8] = []
            JSONScanner.unescape(body, into: &out)
            return .string(String(decoding: out, as: UTF8.self))
        case 0x7B: return .object(String(decoding: text, as: UTF8.self))
        case 0x5B: return .array(String(decoding: text, as: UTF8.self))
        case 0x74: return text.elementsEqual("true".utf8) ? .bool(true) : nil
        case 0x66: return text.elementsEqual("false".utf8) ? .bool(false) : nil
        case 0x6E: return text.elementsEqual("null".utf8) ? .null : nil
        case 0x2D, 0x30 ... 0x39: return .number(String(decoding: text, as: UTF8.self))
        default: return nil
        }
    }
}
