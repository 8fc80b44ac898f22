#if canImport(Glibc)
import Glibc
#endif
import SecModel

extension Eval {
    /// Whether `hay`'s UTF-8 holds `needle`'s (a byte search: `String.contains` with
    /// Foundation loaded goes through NSString, many times slower on every row).
    ///
    /// Only for ASCII text, where bytes and characters agree; other text keeps
    /// `String.contains` (canonical equivalence: a decomposed "é" holds no "e"), as
    /// `startswith` and `endswith` do.
    static func bytesContain(_ hay: String, _ needle: String) -> Bool {
        if needle.isEmpty { return true }
        guard needle.utf8.allSatisfy({ $0 < 0x80 }), hay.utf8.allSatisfy({ $0 < 0x80 }) else { return hay.contains(needle) }
        var h = hay, n = needle
        return h.withUTF8 { hb in
            n.withUTF8 { nb in
                guard nb.count <= hb.count else { return false }
                guard nb.count > 0 else { return true }
                let first = nb[0], last = hb.count - nb.count
                var i = 0
                while i <= last {
                    if hb[i] == first && memcmp(hb.baseAddress! + i, nb.baseAddress!, nb.count) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }
}

/// Where an expression finds the values it names.
protocol ValueSource {
    func field(_ f: Field) -> Value
    func raw(_ path: [BoundExpr.RawPathSegment]) -> Value
    func slot(_ i: Int) -> Value
}

/// Expression semantics, shared by the scan and the row stages.
///
/// - A comparison with a missing (null) value is false, except `!=` and `not in`,
///   which are true: `principal != "x"` keeps events without a principal.
/// - `contains`, `startswith`, `endswith` and `=~` ignore case; `==` does not.
/// - Numbers compare numerically across int and double; text that reads as a number
///   (from `raw.` paths) compares with numbers numerically.
enum Eval {
    static func evaluate<S: ValueSource>(_ e: BoundExpr, _ s: S) -> Value {
        switch e {
        case .constant(let v): return v
        case .field(let f): return s.field(f)
        case .raw(let p): return s.raw(p)
        case .slot(let i, _): return s.slot(i)
        case .not(let x): return .bool(!truth(evaluate(x, s)))
        case .and(let xs):
            for x in xs where !truth(evaluate(x, s)) { return .bool(false) }
            return .bool(true)
        case .or(let xs):
            for x in xs where truth(evaluate(x, s)) { return .bool(true) }
            return .bool(false)
        case .compare(let op, let a, let b):
            return .bool(compare(op, evaluate(a, s), evaluate(b, s)))
        case .text(let op, let a, let needle):
            let v = evaluate(a, s)
            if v.isNull { return .bool(false) }
            let hay = v.text.lowercased()
            switch op {
            case .contains: return .bool(needle.isEmpty || Eval.bytesContain(hay, needle))
            case .startswith: return .bool(hay.hasPrefix(needle))
            case .endswith: return .bool(hay.hasSuffix(needle))
            }
        case .matches(let a, let p):
            let v = evaluate(a, s)
            return .bool(!v.isNull && p.matches(v.text))
        case .inList(let a, let list, let negated):
            let v = evaluate(a, s)
            let hit = !v.isNull && list.contains { compare(.eq, v, $0) }
            return .bool(negated ? !hit : hit)
        case .inCIDR(let a, let cidrs, let negated):
            let ip: IPAddress?
            switch evaluate(a, s) {
            case .ip(let x): ip = x
            case .string(let t): ip = IPAddress(t)
            default: ip = nil
            }
            guard let ip else { return .bool(false) }
            let hit = cidrs.contains { $0.contains(ip) }
            return .bool(negated ? !hit : hit)
        case .exists(let x):
            return .bool(!evaluate(x, s).isNull)
        case .negate(let x):
            switch evaluate(x, s) {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            default: return .null
            }
        case .arith(let op, let a, let b):
            return arith(op, evaluate(a, s), evaluate(b, s))
        case .function(.iff, let args):
            // Only the branch taken is evaluated; a null condition takes the else branch.
            return truth(evaluate(args[0], s)) ? evaluate(args[1], s) : evaluate(args[2], s)
        case .function(let f, let args):
            return call(f, args.map { evaluate($0, s) })
        }
    }

    @inline(__always)
    static func truth(_ v: Value) -> Bool {
        switch v {
        case .bool(let b): return b
        case .null: return false
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let t): return !t.isEmpty
        default: return true
        }
    }

    static func compare(_ op: BoundExpr.CompareOp, _ a: Value, _ b: Value) -> Bool {
        if a.isNull || b.isNull {
            switch op {
            case .eq, .ieq: return a.isNull && b.isNull
            case .ne: return !(a.isNull && b.isNull)
            default: return false
            }
        }
        if op == .ieq {
            return a.text.lowercased() == b.text.lowercased()
        }
        guard let c = threeWay(a, b) else { return op == .ne }
        switch op {
        case .eq: return c == 0
        case .ne: return c != 0
        case .lt: return c < 0
        case .le: return c <= 0
        case .gt: return c > 0
        case .ge: return c >= 0
        case .ieq: return c == 0
        }
    }

    /// -1, 0, 1; nil when the two cannot be ordered (an address and a number).
    static func threeWay(_ a: Value, _ b: Value) -> Int? {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.ip(let x), .ip(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.ip(let x), .string(let t)): guard let y = IPAddress(t) else { return nil }; return x == y ? 0 : (x < y ? -1 : 1)
        case (.string(let t), .ip(let y)): guard let x = IPAddress(t) else { return nil }; return x == y ? 0 : (x < y ? -1 : 1)
        case (.int(let x), .int(let y)), (.time(let x), .time(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.time(let x), .string(let t)): guard let y = Timestamp.parse(t) else { return nil }; return x == y ? 0 : (x < y ? -1 : 1)
        case (.string(let t), .time(let y)): guard let x = Timestamp.parse(t) else { return nil }; return x == y ? 0 : (x < y ? -1 : 1)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.bool(let x), .string(let t)): guard t == "true" || t == "false" else { return nil }; return x == (t == "true") ? 0 : (!x ? -1 : 1)
        default:
            guard let x = number(a), let y = number(b) else {
                if case .ip = a { return nil }
                if case .ip = b { return nil }
                let x = a.text, y = b.text
                return x == y ? 0 : (x < y ? -1 : 1)
            }
            return x == y ? 0 : (x < y ? -1 : 1)
        }
    }

    static func number(_ v: Value) -> Double? {
        switch v {
        case .string(let t): return Double(t)
        case .ip, .cidr, .list, .null: return nil
        default: return v.number
        }
    }

    static func arith(_ op: BoundExpr.ArithOp, _ a: Value, _ b: Value) -> Value {
        switch (a, b) {
        case (.time(let t), .int(let d)):
            return op == .add ? .time(t &+ d) : op == .sub ? .time(t &- d) : .null
        case (.time(let x), .time(let y)):
            return op == .sub ? .int(x &- y) : .null
        case (.int(let x), .int(let y)):
            switch op {
            case .add: return .int(x &+ y)
            case .sub: return .int(x &- y)
            case .mul: return .int(x &* y)
            case .div: return y == 0 ? .null : .double(Double(x) / Double(y))
            case .rem: return y == 0 ? .null : .int(x % y)
            }
        default:
            guard let x = number(a), let y = number(b) else { return .null }
            switch op {
            case .add: return .double(x + y)
            case .sub: return .double(x - y)
            case .mul: return .double(x * y)
            case .div: return y == 0 ? .null : .double(x / y)
            case .rem: return y == 0 ? .null : .double(x.truncatingRemainder(dividingBy: y))
            }
        }
    }

    static func call(_ f: BoundExpr.Function, _ args: [Value]) -> Value {
        switch f {
        case .lower: return args[0].isNull ? .null : .string(args[0].text.lowercased())
        case .upper: return args[0].isNull ? .null : .string(args[0].text.uppercased())
        case .len: return args[0].isNull ? .null : .int(Int64(args[0].text.count))
        case .tostring: return args[0].isNull ? .null : .string(args[0].text)
        case .toint:
            switch args[0] {
            case .int: return args[0]
            case .double(let d): return d.isFinite ? .int(Int64(d)) : .null
            case .string(let t): return Int64(t).map(Value.int) ?? Double(t).map { .int(Int64($0)) } ?? .null
            case .bool(let b): return .int(b ? 1 : 0)
            default: return .null
            }
        case .coalesce: return args.first { !$0.isNull } ?? .null
        case .substr:
            guard !args[0].isNull, let start = integer(args[1]) else { return .null }
            let text = args[0].text
            var length = Int64.max
            if args.count > 2 { guard let l = integer(args[2]) else { return .null }; length = l }
            return .string(substring(text, start: start, length: length))
        case .split:
            guard !args[0].isNull, !args[1].isNull else { return .null }
            let parts = split(args[0].text, by: args[1].text)
            guard args.count > 2 else { return .list(parts.map(Value.string)) }
            guard let i = integer(args[2]), i >= 0, i < Int64(parts.count) else { return .null }
            return .string(parts[Int(i)])
        case .concat: return .string(args.map(\.text).joined())
        case .iff: return truth(args[0]) ? args[1] : args[2]
        case .ip:
            switch args[0] {
            case .ip: return args[0]
            case .string(let t): return IPAddress(t).map(Value.ip) ?? .null
            default: return .null
            }
        case .now, .ago: return .null // bound to constants
        case .bin:
            guard case .int(let size) = args[1] else { return .null }
            switch args[0] {
            case .time(let t): return .time(floorDiv(t, size) * size)
            case .int(let i): return .int(floorDiv(i, size) * size)
            case .double(let d): return .double((d / Double(size)).rounded(.down) * Double(size))
            default: return .null
            }
        }
    }

    /// A whole number from an int or a finite double (truncated); nil otherwise.
    static func integer(_ v: Value) -> Int64? {
        switch v {
        case .int(let i): return i
        case .double(let d): return d.isFinite && abs(d) < 9e18 ? Int64(d) : nil
        default: return nil
        }
    }

    /// `substr`: characters (extended grapheme clusters, as `len` counts them) from
    /// `start` (0-based, clamped to 0...len) for at most `length` (a negative length
    /// gives empty text).
    static func substring(_ s: String, start: Int64, length: Int64) -> String {
        guard length > 0 else { return "" }
        let from = s.index(s.startIndex, offsetBy: Int(clamping: max(0, start)), limitedBy: s.endIndex) ?? s.endIndex
        let to = s[from...].index(from, offsetBy: Int(clamping: length), limitedBy: s.endIndex) ?? s.endIndex
        return String(s[from..<to])
    }

    /// `split`: the pieces between occurrences of `separator`, empty pieces kept
    /// ("a,,b" gives "a", "", "b"); an empty separator gives the whole text as one piece.
    static func split(_ s: String, by separator: String) -> [String] {
        guard !separator.isEmpty else { return [s] }
        var parts: [String] = []
        var rest = s[...]
        while let r = rest.firstRange(of: separator) {
            parts.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
