import SecModel

// The syntax tree of a query, as the parser builds it: what was written, with the source
// range of every node that can be blamed. The parser knows no fields, functions or types;
// the binder checks names and types against the tree.
//
// Two text forms:
//
// - `query.dump()`: a stable S-expression for golden tests and `secq explain`. The first
//   line is `(query` plus the table when one was written; each stage follows on its own
//   line, indented two spaces; the last line ends with `)`. An empty query is `(query)`.
//
//   ```
//   (query events
//     (since 1d)
//     (where (and (== (field action) "ConsoleLogin") (== (field outcome) "failure")))
//     (stats (as (call count) failures) (by (field principal) (field src_ip)))
//     (sort (desc (field failures)))
//     (head 20))
//   ```
//
//   Expressions: literals as in source (`"text"` with escapes, `42`, `1.5`, `true`,
//   `null`, durations in their largest whole unit `1d`, times in RFC 3339 UTC
//   `2026-11-01T00:00:00Z`); `(field raw.resources[0].ARN)` with odd names backquoted
//   (and a first name that reads as a keyword: `` (field `in`) ``, `` (field `by`) ``);
//   `(call name arg...)`; `(OP left right)` with OP one of `or and == != < <= > >= =~
//   contains startswith endswith matches + - * / %`; `(not x)`, `(neg x)`;
//   `(in x a b ...)`, `(not-in x ...)`, `(in-cidr x "10.0.0.0/8" ...)`, `(not-in-cidr x ...)`.
//   Aliases are normalised: `&&` is `and`, `||` is `or`, `!` is `not`; a minus before a
//   number is folded into the literal (`-5`); `x not contains y` (also `!contains`,
//   `not startswith` ...) is `(not (contains (field x) (field y)))`.
//
//   Stages: `(where E)`, `(since 1d)`, `(between T1 T2)`, `(fields a raw.b)`,
//   `(eval (= name E) ...)`, `(sort (asc E) (desc E) ...)`, `(head N)` (10 when omitted),
//   `(stats AGG... [(by E...)])` where AGG is `(call ...)` or `(as (call ...) alias)`,
//   `(top N E... [(by E...)])`, `(rare N E... [(by E...)])` (N 10 when omitted), `(dedup E...)`,
//   `(timechart [(span 1h)] AGG... [(by E...)])`,
//   `(sequence [(by E...)] [(within 10m)] (step E) (step (runs 3) E) ... [(until E)])`.
//
// - `description` (of a query, stage, expression ...): canonical source text that parses
//   back to the same tree, with parentheses only where precedence needs them; the binder
//   can use it for default column names (`count()`, `dc(src_ip)`).

// MARK: - Query

/// A parsed query: an optional table and the stages that follow it.
public struct Query: Sendable, Equatable, CustomStringConvertible {
    /// The tables a query can start with.
    public static let tables = ["events", "findings", "compliance", "baselines"]

    /// The table written at the start, or nil when the query starts with a stage (or is
    /// empty): the table is then `events`.
    public var table: TableRef?
    public var stages: [Stage]

    public init(table: TableRef? = nil, stages: [Stage] = []) {
        self.table = table
        self.stages = stages
    }

    /// The table the query reads: the one written, or `events`.
    public var tableName: String { table?.name ?? "events" }

    /// The stable S-expression form; see the top of AST.swift.
    public func dump() -> String {
        var head = "(query"
        if let table { head += " " + table.name }
        guard !stages.isEmpty else { return head + ")" }
        return ([head] + stages.map { "  " + $0.dump() }).joined(separator: "\n") + ")"
    }

    /// Canonical source text: `events | where x == 1 | head 10`.
    public var description: String {
        ((table.map { [$0.name] } ?? []) + stages.map(\.description)).joined(separator: " | ")
    }
}

/// The table named at the start of a query, lowercased (`Events` reads `events`).
public struct TableRef: Sendable, Equatable {
    public var name: String
    public var range: SourceRange

    public init(name: String, range: SourceRange) {
        self.name = name
        self.range = range
    }
}

// MARK: - Expressions

/// A literal value as written.
public enum Literal: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case duration(SecModel.Span)
    /// Milliseconds since the epoch, UTC.
    case time(Int64)

    public var description: String {
        switch self {
        case .string(let s): return Literal.quoted(s)
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .duration(let span): return span.description
        case .time(let t): return Literal.formatTime(t)
        }
    }

    /// `s` in double quotes with `"`, `\`, control and bidirectional characters escaped.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if QueryError.isUnsafeForDisplay(u) { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// RFC 3339 UTC with a four-digit year, so that it lexes back as a time.
    static func formatTime(_ millis: Int64) -> String {
        let s = Timestamp.rfc3339(millis: millis)
        guard let dash = s.firstIndex(of: "-"), s.distance(from: s.startIndex, to: dash) < 4, !s.hasPrefix("-") else { return s }
        return String(repeating: "0", count: 4 - s.distance(from: s.startIndex, to: dash)) + s
    }
}

/// A reference to a field: `principal`, `raw.requestParameters.bucketName`,
/// `raw.resources[0].ARN`, ``raw.`detail-type` ``.
///
/// The first segment is always a name; the binder decides whether it is a core field
/// (``SecModel/Field``), `raw`, or a column made by an earlier stage.
public struct FieldPath: Sendable, Equatable, CustomStringConvertible {
    public enum Segment: Sendable, Equatable {
        case name(String)
        case index(Int)
    }

    public var segments: [Segment]
    public var range: SourceRange

    public init(segments: [Segment], range: SourceRange) {
        precondition(segments.first.map { if case .name = $0 { true } else { false } } ?? false, "a field path starts with a name")
        self.segments = segments
        self.range = range
    }

    /// The first name: `raw` in `raw.eventName`.
    public var root: String {
        if case .name(let n) = segments[0] { return n }
        return ""
    }

    /// A plain name without dots or indexes.
    public var isSimple: Bool { segments.count == 1 }

    /// `raw.resources[0].ARN`, with names that are not plain identifiers (or that would read
    /// as a keyword at the start) in backquotes.
    public var description: String {
        var out = ""
        for (i, segment) in segments.enumerated() {
            switch segment {
            case .name(let n):
                if i > 0 { out += "." }
                out += FieldPath.needsQuotes(n, first: i == 0) ? "`\(n)`" : n
            case .index(let k):
                out += "[\(k)]"
            }
        }
        return out
    }

    static func needsQuotes(_ name: String, first: Bool) -> Bool {
        let b = Array(name.utf8)
        guard let c = b.first, Lexer.isLetter(c), b.allSatisfy({ Lexer.isWordByte($0) }) else { return true }
        // `by` parses as a name except first in a key list (`top by`), so it is quoted too.
        return first && (Parser.reservedInExpressions.contains(name.lowercased()) || name.lowercased() == "by")
    }
}

/// A call `name(args)`: a function in an expression, an aggregate in `stats`.
///
/// `name` is as written; function names are case-insensitive, so compare
/// `name.lowercased()`.
public struct Call: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var nameRange: SourceRange
    public var args: [Expr]
    /// From the name to the closing parenthesis.
    public var range: SourceRange

    public init(name: String, nameRange: SourceRange, args: [Expr], range: SourceRange) {
        self.name = name
        self.nameRange = nameRange
        self.args = args
        self.range = range
    }

    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        out += FieldPath.needsQuotes(name, first: false) ? "`\(name)`" : name
        out += "("
        Expr.write(args, to: &out)
        out += ")"
    }

    func dump(into out: inout String) {
        out += "(call "
        out += FieldPath.needsQuotes(name, first: false) ? "`\(name)`" : name
        for arg in args {
            out += " "
            arg.dump(into: &out)
        }
        out += ")"
    }

    func dump() -> String {
        var out = ""
        dump(into: &out)
        return out
    }
}

public enum UnaryOp: String, Sendable, Equatable {
    /// `not x`, `!x`.
    case not
    /// `-x`.
    case negate = "neg"
}

/// Binary operators; the raw value is the spelling in `dump()`.
public enum BinaryOp: String, Sendable, Equatable, CaseIterable {
    case or, and
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    /// `=~`: equal ignoring case.
    case caseInsensitiveEqual = "=~"
    case contains, startsWith = "startswith", endsWith = "endswith"
    /// `matches "regex"`: the right side is the pattern.
    case matches
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"

    /// Binding strength: 1 `or`, 2 `and`, 4 comparisons, 5 `+ -`, 6 `* / %` (3 is `not`,
    /// 7 unary minus).
    public var precedence: Int {
        switch self {
        case .or: return 1
        case .and: return 2
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .caseInsensitiveEqual,
             .contains, .startsWith, .endsWith, .matches: return 4
        case .add, .subtract: return 5
        case .multiply, .divide, .remainder: return 6
        }
    }

    public var isComparison: Bool { precedence == 4 }
}

/// An expression. Parentheses leave no node: `(a)` is `a` (its range without them).
public indirect enum Expr: Sendable, Equatable, CustomStringConvertible {
    case literal(Literal, range: SourceRange)
    case field(FieldPath)
    case call(Call)
    case unary(UnaryOp, Expr, range: SourceRange)
    case binary(BinaryOp, Expr, Expr, range: SourceRange)
    /// `x in (a, b)`, `x not in (a, b)`; the list is never empty.
    case inList(Expr, [Expr], negated: Bool, range: SourceRange)
    /// `x in cidr("10.0.0.0/8", ...)`, `x not in cidr(...)`; the arguments as written (the
    /// binder checks they are CIDR strings).
    case inCIDR(Expr, [Expr], negated: Bool, range: SourceRange)

    /// The source text the expression covers.
    public var range: SourceRange {
        switch self {
        case .literal(_, let r), .unary(_, _, let r), .binary(_, _, _, let r), .inList(_, _, _, let r), .inCIDR(_, _, _, let r):
            return r
        case .field(let f): return f.range
        case .call(let c): return c.range
        }
    }

    /// The stable S-expression form; see the top of AST.swift.
    public func dump() -> String {
        var out = ""
        dump(into: &out)
        return out
    }

    func dump(into out: inout String) {
        func node(_ head: String, _ children: [Expr]) {
            out += "(" + head
            for child in children {
                out += " "
                child.dump(into: &out)
            }
            out += ")"
        }
        switch self {
        case .literal(let l, _): out += l.description
        case .field(let f): out += "(field \(f))"
        case .call(let c): c.dump(into: &out)
        case .unary(let op, let x, _): node(op.rawValue, [x])
        case .binary(let op, let l, let r, _): node(op.rawValue, [l, r])
        case .inList(let x, let list, let negated, _): node(negated ? "not-in" : "in", [x] + list)
        case .inCIDR(let x, let list, let negated, _): node(negated ? "not-in-cidr" : "in-cidr", [x] + list)
        }
    }

    /// Binding strength of the top node, as ``BinaryOp/precedence``; 8 for primaries.
    var precedence: Int {
        switch self {
        case .binary(let op, _, _, _): return op.precedence
        case .unary(.not, _, _): return 3
        case .unary(.negate, _, _): return 7
        case .inList, .inCIDR: return 4
        case .literal(.int(let i), _) where i < 0: return 7
        case .literal(.double(let d), _) where d.sign == .minus: return 7
        case .literal, .field, .call: return 8
        }
    }

    /// Canonical source text, parenthesised only where needed.
    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Appends the canonical text, in parentheses when the expression binds looser than
    /// `level`. Writes into one buffer so that deep trees cost little stack per level.
    func write(to out: inout String, below level: Int = 0) {
        let parenthesize = precedence < level
        if parenthesize { out += "(" }
        switch self {
        case .literal(let l, _): out += l.description
        case .field(let f): out += f.description
        case .call(let c): c.write(to: &out)
        case .unary(.not, let x, _):
            out += "not "
            x.write(to: &out, below: 3)
        case .unary(.negate, let x, _):
            // `- -x`, not `-(-x)`; but `-(5)`, because `-5` would read back as a literal.
            switch x {
            case .literal(.int(let i), _) where i >= 0: out += "-"; x.write(to: &out, below: 9)
            case .literal(.double(let d), _) where d.sign == .plus: out += "-"; x.write(to: &out, below: 9)
            case _ where x.precedence == 7: out += "- "; x.write(to: &out)
            default: out += "-"; x.write(to: &out, below: 8)
            }
        case .binary(let op, let l, let r, _):
            // Left-associative; comparisons do not chain, so both sides bind tighter.
            l.write(to: &out, below: op.isComparison ? op.precedence + 1 : op.precedence)
            out += " " + op.rawValue + " "
            r.write(to: &out, below: op.precedence + 1)
        case .inList(let x, let list, let negated, _):
            x.write(to: &out, below: 5)
            out += negated ? " not in (" : " in ("
            Expr.write(list, to: &out)
            out += ")"
        case .inCIDR(let x, let list, let negated, _):
            x.write(to: &out, below: 5)
            out += negated ? " not in cidr(" : " in cidr("
            Expr.write(list, to: &out)
            out += ")"
        }
        if parenthesize { out += ")" }
    }

    /// `a, b, c`
    static func write(_ list: [Expr], to out: inout String) {
        for (i, e) in list.enumerated() {
            if i > 0 { out += ", " }
            e.write(to: &out)
        }
    }
}

// MARK: - Stages

/// One stage of the pipeline. Every payload carries the range of the whole stage, from its
/// keyword to its last token; ``keywordRange`` is the keyword alone.
public enum Stage: Sendable, Equatable, CustomStringConvertible {
    case `where`(WhereStage)
    case since(SinceStage)
    case between(BetweenStage)
    case fields(FieldsStage)
    case eval(EvalStage)
    case sort(SortStage)
    case head(HeadStage)
    case stats(StatsStage)
    case top(TopStage)
    case rare(TopStage)
    case dedup(DedupStage)
    case timechart(TimechartStage)
    case sequence(SequenceStage)

    /// The stage keyword, lowercase: `where`, `stats` ...
    public var name: String {
        switch self {
        case .where: return "where"
        case .since: return "since"
        case .between: return "between"
        case .fields: return "fields"
        case .eval: return "eval"
        case .sort: return "sort"
        case .head: return "head"
        case .stats: return "stats"
        case .top: return "top"
        case .rare: return "rare"
        case .dedup: return "dedup"
        case .timechart: return "timechart"
        case .sequence: return "sequence"
        }
    }

    public var range: SourceRange {
        switch self {
        case .where(let s): return s.range
        case .since(let s): return s.range
        case .between(let s): return s.range
        case .fields(let s): return s.range
        case .eval(let s): return s.range
        case .sort(let s): return s.range
        case .head(let s): return s.range
        case .stats(let s): return s.range
        case .top(let s), .rare(let s): return s.range
        case .dedup(let s): return s.range
        case .timechart(let s): return s.range
        case .sequence(let s): return s.range
        }
    }

    /// The range of the stage keyword (keywords are ASCII, so its length is the name's).
    public var keywordRange: SourceRange {
        SourceRange(start: range.start, end: range.start + name.utf8.count)
    }

    /// The stable S-expression form; see the top of AST.swift.
    public func dump() -> String {
        let by = { (keys: [Expr]) -> [String] in keys.isEmpty ? [] : [(["by"] + keys.map { $0.dump() }).joined(separator: " ").parenthesized] }
        let parts: [String]
        switch self {
        case .where(let s): parts = [s.predicate.dump()]
        case .since(let s): parts = [s.duration.description]
        case .between(let s): parts = [Literal.formatTime(s.from), Literal.formatTime(s.to)]
        case .fields(let s): parts = s.fields.map(\.description)
        case .eval(let s): parts = s.assignments.map { "(= \(FieldPath.needsQuotes($0.name, first: true) ? "`\($0.name)`" : $0.name) \($0.value.dump()))" }
        case .sort(let s): parts = s.keys.map { "(\($0.descending ? "desc" : "asc") \($0.expr.dump()))" }
        case .head(let s): parts = [String(s.count)]
        case .stats(let s): parts = s.aggregates.map { $0.dump() } + by(s.by)
        case .top(let s), .rare(let s): parts = [String(s.count)] + s.fields.map { $0.dump() } + by(s.by)
        case .dedup(let s): parts = s.fields.map { $0.dump() }
        case .timechart(let s):
            parts = (s.span.map { ["(span \($0))"] } ?? []) + s.aggregates.map { $0.dump() } + by(s.by)
        case .sequence(let s):
            parts = by(s.by) + (s.within.map { ["(within \($0))"] } ?? [])
                + s.steps.map { "(step \($0.runs == 1 ? "" : "(runs \($0.runs)) ")\($0.predicate.dump()))" }
                + (s.until.map { ["(until \($0.dump()))"] } ?? [])
        }
        return ([name] + parts).joined(separator: " ").parenthesized
    }

    /// Canonical source text of the stage.
    public var description: String {
        let list = { (exprs: [Expr]) in exprs.map(\.description).joined(separator: ", ") }
        let by = { (keys: [Expr]) in keys.isEmpty ? "" : " by " + list(keys) }
        switch self {
        case .where(let s): return "where \(s.predicate)"
        case .since(let s): return "since \(s.duration)"
        case .between(let s): return "between \(Literal.formatTime(s.from)) and \(Literal.formatTime(s.to))"
        case .fields(let s): return "fields " + s.fields.map(\.description).joined(separator: ", ")
        case .eval(let s):
            return "eval " + s.assignments.map { "\(FieldPath.needsQuotes($0.name, first: true) ? "`\($0.name)`" : $0.name) = \($0.value)" }.joined(separator: ", ")
        case .sort(let s): return "sort " + s.keys.map { "\($0.expr)\($0.descending ? " desc" : "")" }.joined(separator: ", ")
        case .head(let s): return "head \(s.count)"
        case .stats(let s): return "stats " + s.aggregates.map(\.description).joined(separator: ", ") + by(s.by)
        case .top(let s), .rare(let s): return "\(name) \(s.count) " + list(s.fields) + by(s.by)
        case .dedup(let s): return "dedup " + list(s.fields)
        case .timechart(let s):
            return "timechart " + (s.span.map { "span=\($0) " } ?? "") + s.aggregates.map(\.description).joined(separator: ", ") + by(s.by)
        case .sequence(let s):
            var out = "sequence" + by(s.by) + (s.within.map { " within \($0)" } ?? "")
            for step in s.steps { out += " [\(step.predicate)]" + (step.runs == 1 ? "" : " with runs=\(step.runs)") }
            if let until = s.until { out += " until [\(until)]" }
            return out
        }
    }
}

/// `where EXPR`
public struct WhereStage: Sendable, Equatable {
    public var predicate: Expr
    public var range: SourceRange
    public init(predicate: Expr, range: SourceRange) { self.predicate = predicate; self.range = range }
}

/// `since 24h`: events from now minus the duration.
public struct SinceStage: Sendable, Equatable {
    public var duration: SecModel.Span
    public var range: SourceRange
    public init(duration: SecModel.Span, range: SourceRange) { self.duration = duration; self.range = range }
}

/// `between T1 and T2`, in milliseconds since the epoch; the parser checks `from <= to`.
/// A date alone is midnight UTC; whether `to` is included is the binder's call.
public struct BetweenStage: Sendable, Equatable {
    public var from: Int64
    public var to: Int64
    public var range: SourceRange
    public init(from: Int64, to: Int64, range: SourceRange) { self.from = from; self.to = to; self.range = range }
}

/// `fields a, raw.b`
public struct FieldsStage: Sendable, Equatable {
    public var fields: [FieldPath]
    public var range: SourceRange
    public init(fields: [FieldPath], range: SourceRange) { self.fields = fields; self.range = range }
}

/// `eval a = x + 1, b = lower(y)`
public struct EvalStage: Sendable, Equatable {
    public var assignments: [Assignment]
    public var range: SourceRange
    public init(assignments: [Assignment], range: SourceRange) { self.assignments = assignments; self.range = range }
}

/// `name = EXPR` in `eval`.
public struct Assignment: Sendable, Equatable {
    public var name: String
    public var nameRange: SourceRange
    public var value: Expr
    public var range: SourceRange
    public init(name: String, nameRange: SourceRange, value: Expr, range: SourceRange) {
        self.name = name; self.nameRange = nameRange; self.value = value; self.range = range
    }
}

/// `sort a desc, b`
public struct SortStage: Sendable, Equatable {
    public var keys: [SortKey]
    public var range: SourceRange
    public init(keys: [SortKey], range: SourceRange) { self.keys = keys; self.range = range }
}

public struct SortKey: Sendable, Equatable {
    public var expr: Expr
    public var descending: Bool
    public var range: SourceRange
    public init(expr: Expr, descending: Bool, range: SourceRange) { self.expr = expr; self.descending = descending; self.range = range }
}

/// `head N`; `head` alone is `head 10`.
public struct HeadStage: Sendable, Equatable {
    public static let defaultCount = 10
    public var count: Int
    public var range: SourceRange
    public init(count: Int, range: SourceRange) { self.count = count; self.range = range }
}

/// `stats count() as n, dc(x) by principal, bin(time, 1h)`
public struct StatsStage: Sendable, Equatable {
    public var aggregates: [Aggregate]
    /// Group keys (fields or calls such as `bin(time, 1h)`); empty for one group.
    public var by: [Expr]
    public var range: SourceRange
    public init(aggregates: [Aggregate], by: [Expr], range: SourceRange) { self.aggregates = aggregates; self.by = by; self.range = range }
}

/// `count() as failures` in `stats` or `timechart`. Any call parses; the binder checks
/// the name. A bare `count` parses as `count()`.
public struct Aggregate: Sendable, Equatable, CustomStringConvertible {
    public var call: Call
    public var alias: String?
    public var aliasRange: SourceRange?
    public var range: SourceRange
    public init(call: Call, alias: String? = nil, aliasRange: SourceRange? = nil, range: SourceRange) {
        self.call = call; self.alias = alias; self.aliasRange = aliasRange; self.range = range
    }

    public var description: String {
        call.description + (alias.map { " as " + (FieldPath.needsQuotes($0, first: true) ? "`\($0)`" : $0) } ?? "")
    }

    func dump() -> String {
        guard let alias else { return call.dump() }
        return "(as \(call.dump()) \(FieldPath.needsQuotes(alias, first: true) ? "`\(alias)`" : alias))"
    }
}

/// `top N f, ... [by g, ...]` and `rare N ...`; N defaults to 10.
public struct TopStage: Sendable, Equatable {
    public static let defaultCount = 10
    public var count: Int
    public var fields: [Expr]
    public var by: [Expr]
    public var range: SourceRange
    public init(count: Int, fields: [Expr], by: [Expr], range: SourceRange) {
        self.count = count; self.fields = fields; self.by = by; self.range = range
    }
}

/// `dedup f, ...`: keep the first row of each combination.
public struct DedupStage: Sendable, Equatable {
    public var fields: [Expr]
    public var range: SourceRange
    public init(fields: [Expr], range: SourceRange) { self.fields = fields; self.range = range }
}

/// `timechart span=1h count() [by f]`; the binder refuses it without `span=` (the parser
/// refuses a span under 1s).
public struct TimechartStage: Sendable, Equatable {
    public var span: SecModel.Span?
    public var aggregates: [Aggregate]
    public var by: [Expr]
    public var range: SourceRange
    public init(span: SecModel.Span?, aggregates: [Aggregate], by: [Expr], range: SourceRange) {
        self.span = span; self.aggregates = aggregates; self.by = by; self.range = range
    }
}

/// `sequence by principal within 10m [a] [b] with runs=3 [c] until [d]`: events matching
/// the steps in order, for the same `by` keys, within the window.
public struct SequenceStage: Sendable, Equatable {
    public var by: [Expr]
    /// `within 10m` (or EQL's `with maxspan=10m`); nil when not written.
    public var within: SecModel.Span?
    /// At least one.
    public var steps: [SequenceStep]
    public var until: Expr?
    public var range: SourceRange
    public init(by: [Expr], within: SecModel.Span?, steps: [SequenceStep], until: Expr?, range: SourceRange) {
        self.by = by; self.within = within; self.steps = steps; self.until = until; self.range = range
    }
}

/// `[EXPR]` or `[EXPR] with runs=N` (the step matches N events in a row).
public struct SequenceStep: Sendable, Equatable {
    public var predicate: Expr
    public var runs: Int
    /// From `[` to `]`, or to N when `with runs=N` is written.
    public var range: SourceRange
    public init(predicate: Expr, runs: Int = 1, range: SourceRange) { self.predicate = predicate; self.runs = runs; self.range = range }
}

extension String {
    var parenthesized: String { "(" + self + ")" }
}
