import Foundation
import SecModel

/// A bound expression: names resolved, literals converted to the types they are
/// compared with. Scan-level expressions read event fields (`field`, `raw`); expressions
/// of later stages read the slots of a row (`slot`).
public indirect enum BoundExpr: Sendable, Equatable, CustomStringConvertible {
    case constant(Value)
    case field(Field)
    /// A value inside the original record: `raw.requestParameters.bucketName`.
    case raw([RawPathSegment])
    /// A column of a row made by an earlier stage.
    case slot(Int, String)
    case not(BoundExpr)
    case and([BoundExpr])
    case or([BoundExpr])
    case compare(CompareOp, BoundExpr, BoundExpr)
    /// `contains`, `startswith`, `endswith`, case-insensitive; the needle lowercased.
    case text(TextOp, BoundExpr, String)
    case matches(BoundExpr, Pattern)
    case inList(BoundExpr, [Value], negated: Bool)
    case inCIDR(BoundExpr, [CIDR], negated: Bool)
    case exists(BoundExpr)
    case arith(ArithOp, BoundExpr, BoundExpr)
    case negate(BoundExpr)
    case function(Function, [BoundExpr])

    public enum CompareOp: String, Sendable { case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", ieq = "=~" }
    public enum TextOp: String, Sendable { case contains, startswith, endswith }
    public enum ArithOp: String, Sendable { case add = "+", sub = "-", mul = "*", div = "/", rem = "%" }
    public enum Function: String, Sendable, CaseIterable {
        case lower, upper, len, coalesce, bin, now, ago, tostring, toint
        case substr, split, concat, iff = "if", ip
    }

    public struct RawPathSegment: Sendable, Equatable, CustomStringConvertible {
        public var name: String?
        public var index: Int?
        public var description: String { name.map { "." + $0 } ?? "[\(index!)]" }
    }

    /// A compiled regular expression, compared by its pattern.
    public final class Pattern: Sendable, Equatable {
        public let source: String
        let regex: NSRegularExpression
        init(_ source: String) throws { self.source = source; regex = try NSRegularExpression(pattern: source) }
        public static func == (a: Pattern, b: Pattern) -> Bool { a.source == b.source }
        func matches(_ s: String) -> Bool {
            regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
    }

    /// The fields of the event the expression reads.
    public var fields: Set<Field> {
        var out = Set<Field>()
        visit { if case .field(let f) = $0 { out.insert(f) } }
        return out
    }

    public var readsRaw: Bool {
        var r = false
        visit { if case .raw = $0 { r = true } }
        return r
    }

    public func visit(_ f: (BoundExpr) -> Void) {
        f(self)
        switch self {
        case .constant, .field, .raw, .slot: break
        case .not(let x), .exists(let x), .negate(let x), .text(_, let x, _), .matches(let x, _), .inList(let x, _, _), .inCIDR(let x, _, _):
            x.visit(f)
        case .and(let xs), .or(let xs), .function(_, let xs): xs.forEach { $0.visit(f) }
        case .compare(_, let a, let b), .arith(_, let a, let b): a.visit(f); b.visit(f)
        }
    }

    public var description: String {
        switch self {
        case .constant(let v):
            switch v {
            case .string(let s): return "\"" + s + "\""
            case .time(let t): return Timestamp.rfc3339(millis: t)
            case .ip(let ip): return "ip(\(ip))"
            default: return v.text
            }
        case .field(let f): return f.rawValue
        case .raw(let p): return "raw" + p.map(\.description).joined()
        case .slot(let i, let n): return "$\(i):\(n)"
        case .not(let x): return "not(\(x))"
        case .and(let xs): return "(" + xs.map(\.description).joined(separator: " and ") + ")"
        case .or(let xs): return "(" + xs.map(\.description).joined(separator: " or ") + ")"
        case .compare(let op, let a, let b): return "\(a) \(op.rawValue) \(b)"
        case .text(let op, let a, let s): return "\(a) \(op.rawValue) \"\(s)\""
        case .matches(let a, let p): return "\(a) matches \"\(p.source)\""
        case .inList(let a, let l, let n): return "\(a) \(n ? "not in" : "in") (\(l.map { BoundExpr.constant($0).description }.joined(separator: ", ")))"
        case .inCIDR(let a, let l, let n): return "\(a) \(n ? "not in" : "in") cidr(\(l.map(\.description).joined(separator: ", ")))"
        case .exists(let x): return "exists(\(x))"
        case .arith(let op, let a, let b): return "(\(a) \(op.rawValue) \(b))"
        case .negate(let x): return "-\(x)"
        case .function(let f, let args): return "\(f.rawValue)(\(args.map(\.description).joined(separator: ", ")))"
        }
    }
}

/// An aggregate of `stats`.
public struct BoundAggregate: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case count, dc, sum, avg, min, max, p50, p90, p95, p99, percentile, values, first, last
    }
    public var kind: Kind
    /// nil for `count()`.
    public var argument: BoundExpr?
    public var name: String
    /// The percentile of `p50` ... `p99` and `percentile(f, N)`, 0...100.
    public var percent: Double = 0
    /// What `first` and `last` order a group's rows by: the event time, then the sequence
    /// number (slots of the rows the stage reads; the scan's fast path reads the fields).
    public var order: [BoundExpr] = []
    public var description: String { "\(kind.rawValue)(\(argument?.description ?? "")) as \(name)" }
}

/// A named expression: a group key, an output column, an `eval` assignment.
public struct NamedExpr: Sendable, Equatable {
    public var name: String
    public var expr: BoundExpr
}

/// One stage after the scan, over rows of slots.
public enum BoundStage: Sendable, Equatable, CustomStringConvertible {
    case filter(BoundExpr)
    /// Keeps the named columns, in order (`fields`); the new row has one slot each.
    case project([NamedExpr])
    /// Adds or replaces columns (`eval`).
    case extend([NamedExpr], replacing: [Int?])
    case sort([SortKey])
    case head(Int)
    case stats(keys: [NamedExpr], aggregates: [BoundAggregate])
    case dedup([BoundExpr])
    /// Pivots the rows of the `stats ... by bin(time, D) [, f]` before it into one row per
    /// bucket (`timechart`); see Timechart.swift.
    case timechart(TimechartPivot)
    /// Matches ordered event patterns (`sequence`); ends the query. See Sequence.swift.
    case sequence(SequenceMatcher)

    public struct SortKey: Sendable, Equatable {
        public var expr: BoundExpr
        public var descending: Bool
    }

    public var isStreaming: Bool {
        switch self {
        case .filter, .project, .extend, .head: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .filter(let e): return "filter \(e)"
        case .project(let cols): return "project " + cols.map { "\($0.name)=\($0.expr)" }.joined(separator: ", ")
        case .extend(let cols, _): return "extend " + cols.map { "\($0.name)=\($0.expr)" }.joined(separator: ", ")
        case .sort(let keys): return "sort " + keys.map { "\($0.expr)\($0.descending ? " desc" : "")" }.joined(separator: ", ")
        case .head(let n): return "head \(n)"
        case .stats(let keys, let aggs):
            return "stats " + aggs.map(\.description).joined(separator: ", ") + (keys.isEmpty ? "" : " by " + keys.map { "\($0.name)=\($0.expr)" }.joined(separator: ", "))
        case .dedup(let keys): return "dedup " + keys.map(\.description).joined(separator: ", ")
        case .timechart(let t): return t.description
        case .sequence(let m): return m.description
        }
    }
}

/// What the scan reads for each row that passes its filter.
public enum ScanSlot: Sendable, Equatable, CustomStringConvertible {
    case field(Field)
    case raw([BoundExpr.RawPathSegment], name: String)

    public var name: String {
        switch self {
        case .field(let f): return f.rawValue
        case .raw(_, let n): return n
        }
    }

    public var description: String { name }
}

/// A query with names and types checked, ready for the planner.
public struct BoundQuery: Sendable, Equatable {
    public var table: String
    /// Conjuncts of the scan's filter (the leading `where`s), over event fields.
    public var filter: [BoundExpr]
    /// Time range from `since`, `between` and time predicates, ms, inclusive.
    public var from: Int64?
    public var to: Int64?
    /// What the scan materialises per row: slot i of the first row holds `slots[i]`;
    /// nil slots stay null (not read) or are filled by an `eval`.
    public var slots: [ScanSlot?]
    public var stages: [BoundStage]
    /// The names of the output columns.
    public var columns: [String]
    /// True when rows are whole events (no `fields` or `stats`): JSON shows every field.
    public var outputsEvents: Bool

    /// A stable text form for `secq explain` and golden tests.
    public func dump() -> String {
        var lines = ["table \(table)"]
        if from != nil || to != nil {
            lines.append("time [\(from.map { Timestamp.rfc3339(millis: $0) } ?? "-inf"), \(to.map { Timestamp.rfc3339(millis: $0) } ?? "+inf")]")
        }
        for f in filter { lines.append("scan filter \(f)") }
        let read = slots.compactMap { $0?.name }
        lines.append("scan slots " + (read.isEmpty ? "(none)" : read.joined(separator: ", ")))
        for s in stages { lines.append(s.description) }
        lines.append("output " + columns.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
