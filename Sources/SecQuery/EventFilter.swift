import SecModel

/// A `where` expression over single events, evaluated one event at a time (subscribers'
/// `--where`). It is bound as the query `events | where EXPR`, so it accepts what a
/// query's `where` does and reports errors the same way, placed in `text`.
public struct EventFilter: Sendable {
    public let text: String
    let predicate: BoundExpr
    let from: Int64?
    let to: Int64?

    /// The fields the filter reads (decode only these, plus what is printed).
    public var fields: Set<Field> { predicate.fields.union(from != nil || to != nil ? [.time] : []) }
    /// Whether it reads `raw.` paths (events must carry their raw records).
    public var readsRaw: Bool { predicate.readsRaw }

    /// - Parameters:
    ///   - text: the expression, e.g. `action == "ConsoleLogin" and outcome == "failure"`.
    ///   - now: what `ago()` and `now()` count from (fixed when the filter is made).
    /// - Throws: `QueryError`, its range in `text`.
    public init(_ text: String, now: Int64) throws(QueryError) {
        self.text = text
        let bound = try Self.bind(text, table: "events", now: now, example: "action == \"ConsoleLogin\"")
        predicate = bound.filter.isEmpty ? .constant(.bool(true)) : .and(bound.filter)
        from = bound.from
        to = bound.to
        actions = Self.requiredActions(bound.filter)
    }

    /// When a conjunct of the filter is `action == "X"` or `action in ("X", ...)`: the
    /// actions an event must have to pass (checked before the whole expression; `==` is
    /// exact, so a set lookup decides it). Nil otherwise.
    let actions: Set<String>?

    static func requiredActions(_ conjuncts: [BoundExpr]) -> Set<String>? {
        var out: Set<String>? = nil
        for c in conjuncts {
            var these: Set<String>? = nil
            switch c {
            case .compare(.eq, .field(.action), .constant(.string(let a))):
                these = [a]
            case .inList(.field(.action), let list, negated: false):
                var names = Set<String>()
                for v in list { guard case .string(let a) = v else { names = []; break }; names.insert(a) }
                if !names.isEmpty { these = names }
            default:
                break
            }
            if let these { out = out.map { $0.intersection(these) } ?? these }
        }
        return out
    }

    /// Binds `text` as the query `TABLE | where TEXT`, errors placed in `text`.
    static func bind(_ text: String, table: String, now: Int64, example: String) throws(QueryError) -> BoundQuery {
        let prefix = "\(table) | where "
        let full = prefix + text
        let shift = prefix.utf8.count
        func relocate(_ e: QueryError) -> QueryError {
            var e = e
            let s = max(e.range.start - shift, 0), t = max(e.range.end - shift, s)
            e.range = SourceRange(start: min(s, text.utf8.count), end: min(t, text.utf8.count))
            return e
        }
        guard !text.allSatisfy(\.isWhitespace) else {
            throw QueryError(.expectedExpression, "expected an expression", at: .point(0), help: "e.g. \(example)")
        }
        do throws(QueryError) {
            let parsed = try Parser.parse(full)
            if parsed.stages.count > 1 {
                let r = parsed.stages[1].keywordRange
                throw QueryError(.unexpectedToken, "a filter is one expression, without further stages", at: r,
                                 help: "remove '|' and what follows it")
            }
            return try Binder(now: now).bind(parsed)
        } catch {
            throw relocate(error)
        }
    }

    /// Whether the event passes.
    public func matches(_ e: Event) -> Bool {
        if let from, e.time < from { return false }
        if let to, e.time > to { return false }
        if let actions { guard let a = e.action, actions.contains(a) else { return false } }
        return Eval.truth(Eval.evaluate(predicate, EventValues(event: e)))
    }
}

/// A `where` expression over the rows of a row table (`findings`, `baselines`),
/// evaluated one row at a time (suppression rules over new findings). Bound as the
/// query `TABLE | where EXPR`, with the same errors, placed in `text`.
public struct RowFilter: Sendable {
    public let text: String
    public let table: String
    let stages: [BoundStage]

    /// - Throws: `QueryError`, its range in `text`.
    public init(_ text: String, table: String, now: Int64) throws(QueryError) {
        precondition(Binder.rowTables[table] != nil, "'\(table)' is not a row table")
        self.text = text
        self.table = table
        stages = try EventFilter.bind(text, table: table, now: now, example: "finding_type == \"Recon:EC2/Portscan\"").stages
    }

    /// Whether a row, its values in the table's column order (``Binder/rowTables``), passes.
    public func matches(_ row: [Value]) -> Bool { RowPipeline.streamOne(stages, row: row) != nil }
}

/// An event as a source of values.
struct EventValues: ValueSource {
    let event: Event
    func field(_ f: Field) -> Value { event.value(of: f) }
    func raw(_ path: [BoundExpr.RawPathSegment]) -> Value {
        guard !event.raw.isEmpty else { return .null }
        return event.raw.withUnsafeBytes { RawJSON.value(in: $0, path: path) }
    }
    func slot(_ i: Int) -> Value { .null }
}

extension Event {
    /// Sets a CloudTrail event's `event_id` from its raw record, as a query does (it is not
    /// a stored column; `BankSnapshot.log` leaves it nil). Needs the raw record.
    public mutating func fillEventIDFromRaw() {
        guard eventID == nil, source == .cloudtrail, !raw.isEmpty else { return }
        let v = raw.withUnsafeBytes { RawJSON.value(in: $0, path: [BoundExpr.RawPathSegment(name: "eventID", index: nil)]) }
        if case .string(let s) = v { eventID = s }
    }
}
