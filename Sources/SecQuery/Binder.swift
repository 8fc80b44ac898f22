import SecEngine
import SecModel

/// Checks names and types of a parsed query and resolves them.
///
/// - Fields: the core fields of DESIGN.md (`principal`, `src_ip` ...), `raw.<path>` into
///   the original record, and the columns earlier stages made (`eval`, `stats`, `fields`).
/// - Literals take the type of what they are compared with: `src_ip == "10.0.0.1"`
///   compares addresses, `time > "2026-11-01T00:00:00Z"` times.
/// - The leading `where`, `since` and `between` stages become the scan: time bounds,
///   and conjuncts the planner turns into key ranges and postings look-ups.
public struct Binder {
    /// The time `since` and `ago()` count back from, ms since the epoch.
    public var now: Int64

    public init(now: Int64) { self.now = now }

    /// A column of the rows at some point of the pipeline.
    struct Column {
        var name: String
        var kind: Field.Kind?
    }

    /// The names in scope. Before any `fields` or `stats`, rows are events: every core
    /// field and `raw.` path can be named, and each one named gets a slot.
    struct Scope {
        var eventRows: Bool
        var columns: [Column]
        var byName: [String: Int] = [:]
        /// Event-row slots the scan fills (nil: made by a stage).
        var scanSlots: [ScanSlot?] = []
        /// Event-row slots some stage reads.
        var used = Set<Int>()

        init(eventRows: Bool, columns: [Column]) {
            self.eventRows = eventRows
            self.columns = columns
            for (i, c) in columns.enumerated() { byName[c.name] = i }
        }

        mutating func add(_ c: Column, scan: ScanSlot?) -> Int {
            columns.append(c)
            scanSlots.append(scan)
            byName[c.name] = columns.count - 1
            return columns.count - 1
        }
    }

    /// Tables whose rows are not events: their columns, in order.
    public static let rowTables: [String: [(name: String, kind: Field.Kind)]] = [
        "baselines": [("bank", .string), ("account", .string), ("region", .string), ("entity_type", .string), ("entity", .string),
                      ("principal", .string), ("interface", .string), ("instance", .string), ("db", .string),
                      ("kind", .string), ("key", .string), ("first_seen", .time), ("last_seen", .time), ("count", .int),
                      ("bytes", .int)],
        "findings": FindingRows.columns,
        "compliance": ComplianceRows.columns,
    ]

    public func bind(_ query: Query) throws(QueryError) -> BoundQuery {
        let table = query.tableName
        if let columns = Binder.rowTables[table] {
            return try bindRows(query, table: table, columns: columns)
        }
        guard table == "events" else {
            throw QueryError(.unknownTable, "table \(QueryError.quote(table)) has no data yet",
                             at: query.table?.range ?? .point(0), help: "query 'events', 'findings', 'compliance' or 'baselines'")
        }
        var from: Int64? = nil, to: Int64? = nil
        var filter: [BoundExpr] = []
        var i = 0
        // The scan: leading where / since / between.
        scanLoop: while i < query.stages.count {
            switch query.stages[i] {
            case .since(let s):
                from = max(from ?? .min, now - s.duration.millis)
            case .between(let b):
                from = max(from ?? .min, b.from)
                to = min(to ?? .max, b.to)
            case .where(let w):
                let e = try bindEventExpr(w.predicate)
                try requireBoolean(e, w.predicate)
                for c in conjuncts(e) {
                    if let (lo, hi) = timeBound(c) {
                        if let lo { from = max(from ?? .min, lo) }
                        if let hi { to = min(to ?? .max, hi) }
                    } else {
                        filter.append(c)
                    }
                }
            default:
                break scanLoop
            }
            i += 1
        }

        var scope = Scope(eventRows: true, columns: [])
        for f in Field.allCases { _ = scope.add(Column(name: f.rawValue, kind: f.kind), scan: .field(f)) }
        return try bindStages(query, from: i, table: table, scope: scope, filter: filter, timeRange: (from, to))
    }

    /// A table of rows (not events): every stage runs over its columns; no scan.
    private func bindRows(_ query: Query, table: String, columns: [(name: String, kind: Field.Kind)]) throws(QueryError) -> BoundQuery {
        for s in query.stages {
            if case .since = s { throw timeless(s, table) }
            if case .between = s { throw timeless(s, table) }
        }
        let scope = Scope(eventRows: false, columns: columns.map { Column(name: $0.name, kind: $0.kind) })
        return try bindStages(query, from: 0, table: table, scope: scope, filter: [], timeRange: (nil, nil))
    }

    private func timeless(_ s: Stage, _ table: String) -> QueryError {
        QueryError(.invalidArgument, "'\(s.name)' reads event times, and '\(table)' rows are not events", at: s.keywordRange,
                   help: "filter on its times instead, like 'where last_seen > ago(7d)'")
    }

    /// Binds the stages from `start` on, over rows that begin in `scope`.
    private func bindStages(_ query: Query, from start: Int, table: String, scope initial: Scope, filter: [BoundExpr],
                            timeRange: (Int64?, Int64?)) throws(QueryError) -> BoundQuery {
        var i = start
        var scope = initial
        let (from, to) = timeRange
        var stages: [BoundStage] = []
        var outputsEvents = scope.eventRows
        var eventSlots: [ScanSlot?]? = nil
        /// The slots the scan fills: those the event-row stages read.
        func leaveEventRows(_ scope: Scope) {
            guard eventSlots == nil else { return }
            eventSlots = scope.scanSlots.enumerated().map { scope.used.contains($0.offset) ? $0.element : nil }
        }
        while i < query.stages.count {
            let stage = query.stages[i]
            i += 1
            switch stage {
            case .where(let w):
                let e = try bindRowExpr(w.predicate, &scope)
                try requireBoolean(e, w.predicate)
                stages.append(.filter(e))
            case .since, .between:
                throw QueryError(.unexpectedToken, "'\(stage.name)' must come before other stages", at: stage.keywordRange,
                                 help: "move it to the start of the query, or use 'where time > ...'")
            case .fields(let f):
                var cols: [NamedExpr] = []
                var newCols: [Column] = []
                for path in f.fields {
                    let e = try bindRowExpr(.field(path), &scope)
                    cols.append(NamedExpr(name: path.description, expr: e))
                    newCols.append(Column(name: path.description, kind: kind(e, scope)))
                }
                stages.append(.project(cols))
                leaveEventRows(scope)
                scope = Scope(eventRows: false, columns: newCols)
                outputsEvents = false
            case .eval(let ev):
                var cols: [NamedExpr] = []
                var replacing: [Int?] = []
                for a in ev.assignments {
                    let e = try bindRowExpr(a.value, &scope)
                    let k = kind(e, scope)
                    if let existing = scope.byName[a.name] {
                        replacing.append(existing)
                        scope.columns[existing].kind = k
                    } else {
                        // Event rows already hold the new column's (empty) slot.
                        let i = scope.add(Column(name: a.name, kind: k), scan: nil)
                        replacing.append(scope.eventRows ? i : nil)
                    }
                    cols.append(NamedExpr(name: a.name, expr: e))
                }
                stages.append(.extend(cols, replacing: replacing))
            case .sort(let s):
                var keys: [BoundStage.SortKey] = []
                for k in s.keys { keys.append(.init(expr: try bindRowExpr(k.expr, &scope), descending: k.descending)) }
                stages.append(.sort(keys))
            case .head(let h):
                stages.append(.head(h.count))
            case .stats(let s):
                let (st, cols) = try bindStats(s.aggregates, by: s.by, &scope)
                stages.append(st)
                leaveEventRows(scope)
                scope = Scope(eventRows: false, columns: cols)
                outputsEvents = false
            case .top(let t), .rare(let t):
                // top N f [by g] = stats count() as count by g, f | sort count desc | head N
                let countAgg = Aggregate(call: Call(name: "count", nameRange: t.range, args: [], range: t.range), alias: "count", aliasRange: nil, range: t.range)
                let (st, cols) = try bindStats([countAgg], by: t.by + t.fields, &scope)
                stages.append(st)
                leaveEventRows(scope)
                scope = Scope(eventRows: false, columns: cols)
                stages.append(.sort([.init(expr: .slot(cols.count - 1, "count"), descending: stage.name == "top")]))
                stages.append(.head(t.count))
                outputsEvents = false
            case .dedup(let d):
                var keys: [BoundExpr] = []
                for e in d.fields { keys.append(try bindRowExpr(e, &scope)) }
                stages.append(.dedup(keys))
            case .timechart(let t):
                let (st, pivot, cols) = try bindTimechart(t, &scope)
                stages.append(st)
                stages.append(.timechart(pivot))
                leaveEventRows(scope)
                scope = Scope(eventRows: false, columns: cols)
                outputsEvents = false
                if pivot.split, i < query.stages.count {
                    // Its columns are the series the data holds, known only when it runs.
                    throw QueryError(.unexpectedToken, "'timechart ... by' must be the last stage", at: query.stages[i].keywordRange,
                                     help: "its columns are the series values; drop 'by' to add stages after it")
                }
            case .sequence(let sq):
                let m = try bindSequence(sq, &scope)
                stages.append(.sequence(m))
                // Its rows carry their events' core fields.
                scope.used.formUnion(0..<Field.allCases.count)
                leaveEventRows(scope)
                scope = Scope(eventRows: false, columns: m.columns.map { Column(name: $0, kind: nil) })
                outputsEvents = false
                if i < query.stages.count {
                    throw QueryError(.unexpectedToken, "'sequence' must be the last stage", at: query.stages[i].keywordRange,
                                     help: "each of its rows carries the sequence's events; filter events before it")
                }
            }
        }
        if scope.eventRows {
            // Rows leave as whole events: the scan fills every core field.
            scope.used.formUnion(0..<Field.allCases.count)
            leaveEventRows(scope)
        }
        let slots = eventSlots ?? []
        return BoundQuery(table: table, filter: filter, from: from, to: to,
                          slots: slots, stages: stages,
                          columns: scope.columns.map(\.name), outputsEvents: outputsEvents)
    }

    // MARK: - Stats

    /// The percentile each percentile aggregate answers (`percentile` takes its own).
    static let percentiles: [BoundAggregate.Kind: Double] = [.p50: 50, .p90: 90, .p95: 95, .p99: 99, .percentile: 0]

    private func bindStats(_ aggregates: [Aggregate], by: [Expr], _ scope: inout Scope) throws(QueryError) -> (BoundStage, [Column]) {
        var keys: [NamedExpr] = []
        var cols: [Column] = []
        for k in by {
            let e = try bindRowExpr(k, &scope)
            var name = k.description
            if case .call(let c) = k, c.name.lowercased() == "bin", case .field(let p)? = c.args.first { name = p.description }
            keys.append(NamedExpr(name: name, expr: e))
            cols.append(Column(name: name, kind: kind(e, scope)))
        }
        var aggs: [BoundAggregate] = []
        for a in aggregates {
            let fname = a.call.name.lowercased()
            guard let k = BoundAggregate.Kind(rawValue: fname) else {
                let known = BoundAggregate.Kind.allCases.map(\.rawValue)
                throw QueryError(.unknownFunction, "unknown aggregate \(QueryError.quote(a.call.name))", at: a.call.nameRange,
                                 help: Suggest.nearest(fname, in: known).map { "did you mean '\($0)'?" } ?? "aggregates: " + known.joined(separator: ", "))
            }
            var arg: BoundExpr? = nil
            var percent: Double = 0
            var order: [BoundExpr] = []
            switch (k, a.call.args.count) {
            case (.count, 0): break
            case (_, let n) where n == (k == .percentile ? 2 : 1):
                arg = try bindRowExpr(a.call.args[0], &scope)
                let ak = kind(arg!, scope)
                if k == .sum || k == .avg {
                    if let ak, ak != .int && ak != .double {
                        throw QueryError(.typeMismatch, "'\(fname)' needs numbers, but \(QueryError.quote(a.call.args[0].description)) is \(describe(ak))",
                                         at: a.call.args[0].range)
                    }
                }
                if let p = Binder.percentiles[k] {
                    if let ak, ak != .int && ak != .double && ak != .time {
                        throw QueryError(.typeMismatch, "'\(fname)' needs numbers or times, but \(QueryError.quote(a.call.args[0].description)) is \(describe(ak))",
                                         at: a.call.args[0].range)
                    }
                    percent = p
                }
                if k == .percentile {
                    let n = a.call.args[1]
                    switch n {
                    case .literal(.int(let i), _) where (0...100).contains(i): percent = Double(i)
                    case .literal(.double(let d), _) where (0...100).contains(d): percent = d
                    default:
                        throw QueryError(.invalidArgument, "'percentile' takes a number from 0 to 100 as its second argument", at: n.range,
                                         help: "for example percentile(bytes, 75)")
                    }
                }
                if k == .first || k == .last {
                    // Ordered by the event time, then the sequence number.
                    guard let t = scope.byName[Field.time.rawValue], scope.columns[t].kind == .time else {
                        throw QueryError(.invalidArgument, "'\(fname)' orders rows by their event time, but 'time' is not a column here", at: a.call.range,
                                         help: "keep 'time' in the columns before this stage")
                    }
                    scope.used.insert(t)
                    order = [.slot(t, Field.time.rawValue)]
                    if let q = scope.byName[Field.seq.rawValue], scope.columns[q].kind == .int {
                        scope.used.insert(q)
                        order.append(.slot(q, Field.seq.rawValue))
                    }
                }
            default:
                let takes = switch k {
                case .count: "no argument or one field"
                case .percentile: "a field and a percentile, like percentile(bytes, 75)"
                default: "one field"
                }
                throw QueryError(.invalidArgument, "'\(fname)' takes \(takes)", at: a.call.range)
            }
            let name = a.alias ?? a.call.description
            aggs.append(BoundAggregate(kind: k, argument: arg, name: name, percent: percent, order: order))
            let outKind: Field.Kind? = switch k {
            case .count, .dc: .int
            case .avg: .double
            case .sum: arg.flatMap { kind($0, scope) } == .int ? .int : .double
            case .min, .max, .first, .last, .p50, .p90, .p95, .p99, .percentile: arg.flatMap { kind($0, scope) }
            case .values: nil
            }
            cols.append(Column(name: name, kind: outKind))
        }
        return (.stats(keys: keys, aggregates: aggs), cols)
    }

    /// `timechart span=D AGG... [by f]`: `stats AGG..., count() by bin(time, D) [, f]` and
    /// the pivot of ``TimechartPivot``; the columns are those without `by`.
    private func bindTimechart(_ t: TimechartStage, _ scope: inout Scope) throws(QueryError) -> (BoundStage, TimechartPivot, [Column]) {
        let keyword = SourceRange(start: t.range.start, end: t.range.start + "timechart".utf8.count)
        guard let span = t.span else {
            throw QueryError(.invalidArgument, "'timechart' needs a bucket size", at: keyword,
                             help: "write it like 'timechart span=1h count()'")
        }
        guard span.millis >= TimechartPivot.minSpan else {
            throw QueryError(.invalidDuration, "timechart span \(QueryError.quote(span.description)) is shorter than 1s", at: keyword,
                             help: "use a span of at least 1s")
        }
        guard let time = scope.byName["time"], scope.columns[time].kind == .time || scope.columns[time].kind == nil else {
            throw QueryError(.unknownField, "'timechart' needs a 'time' column", at: keyword,
                             help: "keep 'time' in the stages before it")
        }
        if t.by.count > 1 {
            throw QueryError(.invalidArgument, "'timechart' splits by one field", at: t.by[1].range,
                             help: "combine them first, for example 'eval k = concat(a, b)'")
        }
        let timeField = Expr.field(FieldPath(segments: [.name("time")], range: keyword))
        let bin = Expr.call(Call(name: "bin", nameRange: keyword, args: [timeField, .literal(.duration(span), range: keyword)], range: keyword))
        let rows = Aggregate(call: Call(name: "count", nameRange: keyword, args: [], range: keyword), alias: "(rows)", range: keyword)
        let (st, cols) = try bindStats(t.aggregates + [rows], by: [bin] + t.by, &scope)
        guard case .stats(_, let aggs) = st else { fatalError("bindStats makes a stats stage") }
        let pivot = TimechartPivot(span: span.millis, split: !t.by.isEmpty, aggregates: Array(aggs.dropLast()), range: t.range)
        var out = [Column(name: "time", kind: .time)]
        if t.by.isEmpty { out += cols.dropFirst().dropLast() }
        return (st, pivot, out)
    }

    /// `sequence [by f, ...] [within D] [A] ... [until U]` over event rows: see ``SequenceMatcher``.
    private func bindSequence(_ sq: SequenceStage, _ scope: inout Scope) throws(QueryError) -> SequenceMatcher {
        let keyword = SourceRange(start: sq.range.start, end: sq.range.start + "sequence".utf8.count)
        guard scope.eventRows else {
            throw QueryError(.invalidArgument, "'sequence' matches events, but the rows here are not events", at: keyword,
                             help: "put it before 'fields', 'stats', 'top', 'rare' and 'timechart'")
        }
        guard !sq.steps.isEmpty else {
            throw QueryError(.invalidArgument, "'sequence' needs at least one step", at: keyword, help: "write steps like [outcome == \"failure\"]")
        }
        var keys: [NamedExpr] = []
        for k in sq.by { keys.append(NamedExpr(name: k.description, expr: try bindRowExpr(k, &scope))) }
        var steps: [BoundExpr] = []
        var runs: [Int] = []
        for st in sq.steps {
            guard st.runs >= 1 else {
                throw QueryError(.invalidNumber, "'runs' must be at least 1", at: st.range)
            }
            let e = try bindRowExpr(st.predicate, &scope)
            try requireBoolean(e, st.predicate)
            steps.append(e)
            runs.append(st.runs)
        }
        guard runs.reduce(0, +) <= 1000 else {
            throw QueryError(.invalidArgument, "'sequence' has more than 1000 steps (counting runs)", at: sq.range)
        }
        var until: BoundExpr? = nil
        if let u = sq.until {
            until = try bindRowExpr(u, &scope)
            try requireBoolean(until!, u)
        }
        return SequenceMatcher(keys: keys, within: sq.within.map(\.millis), steps: steps, runs: runs, until: until, range: sq.range)
    }

    // MARK: - Expressions

    /// Binds an expression of the scan (over event fields).
    func bindEventExpr(_ e: Expr) throws(QueryError) -> BoundExpr {
        try bindExpr(e) { path throws(QueryError) in try eventField(path) }
    }

    /// Binds an expression over rows, allocating event-row slots for fields it names.
    func bindRowExpr(_ e: Expr, _ scope: inout Scope) throws(QueryError) -> BoundExpr {
        // A column a stage named after its expression: `sort count() desc`.
        if case .call = e, let i = scope.byName[e.description] { return .slot(i, e.description) }
        var s = scope
        defer { scope = s }
        return try bindExpr(e) { path throws(QueryError) -> (BoundExpr, Field.Kind?) in
            let name = path.description
            if let i = s.byName[name] { s.used.insert(i); return (.slot(i, name), s.columns[i].kind) }
            if s.eventRows, path.root == "raw" {
                let (bound, _) = try eventField(path)
                guard case .raw(let segs) = bound else { return (bound, nil) }
                let i = s.add(Column(name: name, kind: nil), scan: .raw(segs, name: name))
                s.used.insert(i)
                return (.slot(i, name), nil)
            }
            throw unknownField(path, candidates: s.columns.map(\.name))
        }
    }

    private func eventField(_ path: FieldPath) throws(QueryError) -> (BoundExpr, Field.Kind?) {
        if path.root == "raw" {
            var segs: [BoundExpr.RawPathSegment] = []
            for s in path.segments.dropFirst() {
                switch s {
                case .name(let n): segs.append(.init(name: n, index: nil))
                case .index(let i): segs.append(.init(name: nil, index: i))
                }
            }
            guard !segs.isEmpty else {
                throw QueryError(.unknownField, "'raw' needs a path", at: path.range, help: "for example raw.requestParameters.bucketName")
            }
            return (.raw(segs), nil)
        }
        guard path.isSimple, let f = Field(name: path.root) else {
            throw unknownField(path, candidates: Field.allCases.map(\.rawValue) + ["raw"])
        }
        return (.field(f), f.kind)
    }

    private func unknownField(_ path: FieldPath, candidates: [String]) -> QueryError {
        let name = path.description
        return QueryError(.unknownField, "unknown field \(QueryError.quote(name))", at: path.range,
                          help: Suggest.nearest(name, in: candidates).map { "did you mean '\($0)'?" })
    }

    typealias Resolve = (FieldPath) throws(QueryError) -> (BoundExpr, Field.Kind?)

    private func bindExpr(_ e: Expr, _ resolve: Resolve) throws(QueryError) -> BoundExpr {
        try bindTyped(e, resolve).0
    }

    /// Binds `e`, returning its static kind (nil when only known at run time).
    private func bindTyped(_ e: Expr, _ resolve: Resolve) throws(QueryError) -> (BoundExpr, Field.Kind?) {
        switch e {
        case .literal(let l, _):
            switch l {
            case .string(let s): return (.constant(.string(s)), .string)
            case .int(let i): return (.constant(.int(i)), .int)
            case .double(let d): return (.constant(.double(d)), .double)
            case .bool(let b): return (.constant(.bool(b)), .bool)
            case .null: return (.constant(.null), nil)
            case .duration(let s): return (.constant(.int(s.millis)), .int)
            case .time(let t): return (.constant(.time(t)), .time)
            }
        case .field(let p):
            return try resolve(p)
        case .unary(.not, let x, _):
            let b = try bindTyped(x, resolve).0
            try requireBoolean(b, x)
            return (.not(b), .bool)
        case .unary(.negate, let x, _):
            let (b, k) = try bindTyped(x, resolve)
            try requireNumber(k, x)
            return (.negate(b), k)
        case .binary(let op, let l, let r, _):
            switch op {
            case .and, .or:
                let a = try bindTyped(l, resolve).0, b = try bindTyped(r, resolve).0
                try requireBoolean(a, l); try requireBoolean(b, r)
                return op == .and ? (.and(conjuncts(a) + conjuncts(b)), .bool) : (.or(disjuncts(a) + disjuncts(b)), .bool)
            case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .caseInsensitiveEqual:
                let (a, ka) = try bindTyped(l, resolve)
                let (b, kb) = try bindTyped(r, resolve)
                if let network = try compareNetwork(op, a, ka, l, b, kb, r) { return (network, .bool) }
                let (ca, cb) = try coercePair(a, ka, l, b, kb, r)
                try requireComparable(ca, ka, l, cb, kb, r, e.range)
                let cop: BoundExpr.CompareOp = switch op {
                case .equal: .eq
                case .notEqual: .ne
                case .less: .lt
                case .lessEqual: .le
                case .greater: .gt
                case .greaterEqual: .ge
                default: .ieq
                }
                return (.compare(cop, ca, cb), .bool)
            case .contains, .startsWith, .endsWith:
                let a = try bindTyped(l, resolve).0
                guard case .literal(.string(let needle), _) = r else {
                    throw QueryError(.typeMismatch, "'\(op.rawValue)' needs a quoted text on its right", at: r.range)
                }
                let top: BoundExpr.TextOp = op == .contains ? .contains : op == .startsWith ? .startswith : .endswith
                return (.text(top, a, needle.lowercased()), .bool)
            case .matches:
                let a = try bindTyped(l, resolve).0
                guard case .literal(.string(let pattern), _) = r else {
                    throw QueryError(.typeMismatch, "'matches' needs a quoted regular expression", at: r.range)
                }
                do { return (.matches(a, try BoundExpr.Pattern(pattern)), .bool) } catch {
                    throw QueryError(.invalidArgument, "invalid regular expression \(QueryError.quote(pattern))", at: r.range)
                }
            case .add, .subtract, .multiply, .divide, .remainder:
                let (a, ka) = try bindTyped(l, resolve)
                let (b, kb) = try bindTyped(r, resolve)
                let aop: BoundExpr.ArithOp = switch op {
                case .add: .add
                case .subtract: .sub
                case .multiply: .mul
                case .divide: .div
                default: .rem
                }
                // time - time, time +/- duration
                if ka == .time || kb == .time {
                    if (op == .add || op == .subtract) && (kb == .int || (ka == .time && kb == .time && op == .subtract)) {
                        return (.arith(aop, a, b), ka == .time && kb == .time ? .int : .time)
                    }
                }
                for (k, x) in [(ka, l), (kb, r)] where k != nil && k != .int && k != .double {
                    throw QueryError(.typeMismatch, "cannot apply '\(op.rawValue)' to \(describe(ka)) (\(QueryError.quote(l.description))) and \(describe(kb)) (\(QueryError.quote(r.description)))",
                                     at: x.range, help: "arithmetic takes numbers, and times with durations")
                }
                return (.arith(aop, a, b), ka == .double || kb == .double || op == .divide ? .double : (ka == nil || kb == nil ? nil : .int))
            }
        case .inList(let x, let list, let negated, _):
            let (a, ka) = try bindTyped(x, resolve)
            var values: [Value] = []
            var networks: [CIDR] = []
            for item in list {
                let (b, kb) = try bindTyped(item, resolve)
                guard case .constant = b else {
                    throw QueryError(.typeMismatch, "'in' takes a list of literals", at: item.range)
                }
                if case .constant(.cidr(let c)) = b {
                    try requireAddress(ka, x, network: item)
                    networks.append(c)
                    continue
                }
                let (_, cb) = try coercePair(a, ka, x, b, kb, item)
                if case .constant(let v) = cb { values.append(v) }
            }
            // Networks in the list: `x in (cidr("10.0.0.0/8"), ip("1.2.3.4"))` is
            // `x in (ip("1.2.3.4")) or x in cidr("10.0.0.0/8")`.
            guard !networks.isEmpty else { return (.inList(a, values, negated: negated), .bool) }
            guard !values.isEmpty else { return (.inCIDR(a, networks, negated: negated), .bool) }
            let parts: [BoundExpr] = [.inList(a, values, negated: negated), .inCIDR(a, networks, negated: negated)]
            return (negated ? .and(parts) : .or(parts), .bool)
        case .inCIDR(let x, let list, let negated, _):
            let (a, ka) = try bindTyped(x, resolve)
            if let ka, ka != .ip {
                throw QueryError(.typeMismatch, "'in cidr' needs an address, but \(QueryError.quote(x.description)) is \(describe(ka))", at: x.range)
            }
            var cidrs: [CIDR] = []
            for item in list {
                guard case .literal(.string(let s), _) = item, let c = CIDR(s) else {
                    throw QueryError(.invalidArgument, "\(QueryError.quote(item.description)) is not a CIDR block", at: item.range,
                                     help: "write it like \"10.0.0.0/8\" or \"2001:db8::/32\"")
                }
                cidrs.append(c)
            }
            return (.inCIDR(a, cidrs, negated: negated), .bool)
        case .call(let c):
            return try bindCall(c, resolve)
        }
    }

    private func bindCall(_ c: Call, _ resolve: Resolve) throws(QueryError) -> (BoundExpr, Field.Kind?) {
        let name = c.name.lowercased()
        func arity(_ n: Int) throws(QueryError) {
            guard c.args.count == n else {
                throw QueryError(.invalidArgument, "'\(name)' takes \(n) argument\(n == 1 ? "" : "s"), not \(c.args.count)", at: c.range)
            }
        }
        switch name {
        case "exists":
            try arity(1)
            guard case .field = c.args[0] else {
                throw QueryError(.invalidArgument, "'exists' takes a field", at: c.args[0].range)
            }
            return (.exists(try bindTyped(c.args[0], resolve).0), .bool)
        case "now":
            try arity(0)
            return (.constant(.time(now)), .time)
        case "ago":
            try arity(1)
            guard case .literal(.duration(let d), _) = c.args[0] else {
                throw QueryError(.invalidArgument, "'ago' takes a duration like 24h", at: c.args[0].range)
            }
            return (.constant(.time(now - d.millis)), .time)
        case "bin":
            try arity(2)
            let (a, ka) = try bindTyped(c.args[0], resolve)
            guard case .literal(let l, _) = c.args[1] else {
                throw QueryError(.invalidArgument, "'bin' takes a span like 1h or a number", at: c.args[1].range)
            }
            let size: Int64
            switch l {
            case .duration(let d): size = d.millis
            case .int(let i): size = i
            default: throw QueryError(.invalidArgument, "'bin' takes a span like 1h or a number", at: c.args[1].range)
            }
            guard size > 0 else { throw QueryError(.invalidArgument, "bin size must be positive", at: c.args[1].range) }
            return (.function(.bin, [a, .constant(.int(size))]), ka)
        case "lower", "upper", "len", "tostring", "toint":
            try arity(1)
            let (a, ka) = try bindTyped(c.args[0], resolve)
            if name != "tostring" && name != "toint" { try requireText(name, ka, c.args[0]) }
            let f = BoundExpr.Function(rawValue: name)!
            return (.function(f, [a]), name == "len" || name == "toint" ? .int : .string)
        case "coalesce":
            guard !c.args.isEmpty else { throw QueryError(.invalidArgument, "'coalesce' takes at least one argument", at: c.range) }
            var args: [BoundExpr] = []
            var k: Field.Kind? = nil
            for x in c.args { let (b, kb) = try bindTyped(x, resolve); args.append(b); k = k ?? kb }
            return (.function(.coalesce, args), k)
        case "substr":
            guard c.args.count == 2 || c.args.count == 3 else {
                throw QueryError(.invalidArgument, "'substr' takes text, a start and an optional length, not \(c.args.count) argument\(c.args.count == 1 ? "" : "s")", at: c.range,
                                 help: "for example substr(action, 0, 3)")
            }
            let (a, ka) = try bindTyped(c.args[0], resolve)
            try requireText(name, ka, c.args[0])
            var args = [a]
            for x in c.args.dropFirst() {
                let (b, kb) = try bindTyped(x, resolve)
                try requireNumber(kb, x)
                args.append(b)
            }
            return (.function(.substr, args), .string)
        case "split":
            guard c.args.count == 2 || c.args.count == 3 else {
                throw QueryError(.invalidArgument, "'split' takes text, a separator and an optional index, not \(c.args.count) argument\(c.args.count == 1 ? "" : "s")", at: c.range,
                                 help: "for example split(principal, \"/\", 1)")
            }
            let (a, ka) = try bindTyped(c.args[0], resolve)
            try requireText(name, ka, c.args[0])
            let (sep, ks) = try bindTyped(c.args[1], resolve)
            try requireText(name, ks, c.args[1])
            var args = [a, sep]
            if c.args.count == 3 {
                let (i, ki) = try bindTyped(c.args[2], resolve)
                try requireNumber(ki, c.args[2])
                args.append(i)
            }
            return (.function(.split, args), args.count == 3 ? .string : nil)
        case "concat":
            guard !c.args.isEmpty else { throw QueryError(.invalidArgument, "'concat' takes at least one argument", at: c.range) }
            var args: [BoundExpr] = []
            for x in c.args { args.append(try bindTyped(x, resolve).0) }
            return (.function(.concat, args), .string)
        case "if":
            guard c.args.count == 3 else {
                throw QueryError(.invalidArgument, "'if' takes a condition and two values, not \(c.args.count) argument\(c.args.count == 1 ? "" : "s")", at: c.range,
                                 help: "for example if(bytes > 1000, \"big\", \"small\")")
            }
            let cond = try bindTyped(c.args[0], resolve).0
            try requireBoolean(cond, c.args[0])
            let (a, ka) = try bindTyped(c.args[1], resolve)
            let (b, kb) = try bindTyped(c.args[2], resolve)
            if let ka, let kb, !Binder.sameClass(ka, kb) {
                throw QueryError(.typeMismatch, "the two values of 'if' differ: \(describe(ka)) (\(QueryError.quote(c.args[1].description))) and \(describe(kb)) (\(QueryError.quote(c.args[2].description)))",
                                 at: c.args[1].range.union(c.args[2].range), help: "convert one, for example with tostring()")
            }
            return (.function(.iff, [cond, a, b]), ka == kb ? ka : ka == nil ? kb : kb == nil ? ka : .double)
        case "ip":
            try arity(1)
            let (a, ka) = try bindTyped(c.args[0], resolve)
            if case .literal(.string(let s), _) = c.args[0] {
                guard let ip = IPAddress(s) else {
                    throw QueryError(.invalidArgument, "\(QueryError.quote(s)) is not an IP address", at: c.args[0].range,
                                     help: "write it like \"10.0.0.1\" or \"2001:db8::1\"")
                }
                return (.constant(.ip(ip)), .ip)
            }
            if let ka, ka != .string && ka != .ip {
                throw QueryError(.typeMismatch, "'ip' needs text or an address, but \(QueryError.quote(c.args[0].description)) is \(describe(ka))", at: c.args[0].range)
            }
            return (.function(.ip, [a]), .ip)
        case "cidr":
            try arity(1)
            guard case .literal(.string(let s), _) = c.args[0], let network = CIDR(s) else {
                throw QueryError(.invalidArgument, "\(QueryError.quote(c.args[0].description)) is not a CIDR block", at: c.args[0].range,
                                 help: "write it like \"10.0.0.0/8\" or \"2001:db8::/32\"")
            }
            return (.constant(.cidr(network)), nil)
        default:
            let known = ["exists", "now", "ago", "bin", "lower", "upper", "len", "coalesce", "tostring", "toint",
                         "substr", "split", "concat", "if", "ip", "cidr"]
            throw QueryError(.unknownFunction, "unknown function \(QueryError.quote(c.name))", at: c.nameRange,
                             help: Suggest.nearest(name, in: known).map { "did you mean '\($0)'?" })
        }
    }

    /// Converts a literal to the type of the other side: an address, a time.
    private func coercePair(_ a: BoundExpr, _ ka: Field.Kind?, _ la: Expr,
                            _ b: BoundExpr, _ kb: Field.Kind?, _ lb: Expr) throws(QueryError) -> (BoundExpr, BoundExpr) {
        let ca = try coerce(b, to: ka, literal: lb, other: la)
        let cb = try coerce(a, to: kb, literal: la, other: lb)
        // coerce(x, to: kind of y) converts x; keep the original order.
        return (cb, ca)
    }

    private func coerce(_ e: BoundExpr, to target: Field.Kind?, literal: Expr, other: Expr) throws(QueryError) -> BoundExpr {
        guard case .constant(let v) = e, let target else { return e }
        switch (target, v) {
        case (_, .null), (.ip, .ip): return e
        case (.ip, .string(let s)):
            guard let ip = IPAddress(s) else {
                throw QueryError(.typeMismatch, "\(QueryError.quote(s)) is not an IP address", at: literal.range,
                                 help: "\(QueryError.quote(other.description)) holds addresses; for a prefix use 'in cidr(...)'")
            }
            return .constant(.ip(ip))
        case (.ip, _):
            throw QueryError(.typeMismatch, "cannot compare address \(QueryError.quote(other.description)) with \(describe(kindOf(v)))", at: literal.range)
        case (.time, .string(let s)):
            guard let t = Timestamp.parse(s) else {
                throw QueryError(.typeMismatch, "\(QueryError.quote(s)) is not an RFC 3339 time", at: literal.range,
                                 help: "write it like 2026-11-01T00:00:00Z")
            }
            return .constant(.time(t))
        case (.int, .string(let s)), (.double, .string(let s)):
            throw QueryError(.typeMismatch, "cannot compare number \(QueryError.quote(other.description)) with text \(QueryError.quote(s))", at: literal.range,
                             help: Double(s) != nil ? "write \(s) without quotes" : nil)
        case (.string, .int), (.string, .double):
            throw QueryError(.typeMismatch, "cannot compare text \(QueryError.quote(other.description)) with a number", at: literal.range,
                             help: "quote it: \"\(v.text)\"")
        case (.bool, .string(let s)):
            if s == "true" || s == "false" { return .constant(.bool(s == "true")) }
            throw QueryError(.typeMismatch, "\(QueryError.quote(other.description)) is true or false", at: literal.range)
        default:
            return e
        }
    }

    private func kindOf(_ v: Value) -> Field.Kind? {
        switch v {
        case .string: return .string
        case .int: return .int
        case .double: return .double
        case .bool: return .bool
        case .time: return .time
        case .ip: return .ip
        default: return nil
        }
    }

    private func describe(_ k: Field.Kind?) -> String {
        switch k {
        case .string: return "text"
        case .int, .double: return "a number"
        case .bool: return "true or false"
        case .time: return "a time"
        case .ip: return "an address"
        case nil: return "a value"
        }
    }

    private func requireBoolean(_ e: BoundExpr, _ source: Expr) throws(QueryError) {
        switch e {
        case .compare, .text, .matches, .inList, .inCIDR, .exists, .and, .or, .not, .constant(.bool): return
        case .field(.mfa): return
        case .slot, .raw, .field, .function(.coalesce, _), .function(.iff, _): return // checked at run time
        default:
            throw QueryError(.typeMismatch, "expected a condition, not \(QueryError.quote(source.description))", at: source.range,
                             help: "compare it, for example \(source.description) == ...")
        }
    }

    /// Kinds that compare with each other: numbers with numbers (and times, as ms).
    static func sameClass(_ a: Field.Kind, _ b: Field.Kind) -> Bool {
        let number: Set<Field.Kind> = [.int, .double]
        return a == b || (number.contains(a) && number.contains(b))
    }

    /// Comparisons the data could never satisfy, found before anything runs: an address
    /// with a number, text with a number, a time with an address.
    private func requireComparable(_ a: BoundExpr, _ ka: Field.Kind?, _ la: Expr,
                                   _ b: BoundExpr, _ kb: Field.Kind?, _ lb: Expr, _ whole: SourceRange) throws(QueryError) {
        func k(_ e: BoundExpr, _ k: Field.Kind?) -> Field.Kind? {
            if case .constant(let v) = e { return kindOf(v) }
            return k
        }
        guard let x = k(a, ka), let y = k(b, kb), !Binder.sameClass(x, y) else { return }
        let numberOrTime: Set<Field.Kind> = [.int, .double, .time]
        // Times compare with numbers as ms; text is read as an address when compared with one.
        if numberOrTime.contains(x) && numberOrTime.contains(y) { return }
        if (x == .ip && y == .string) || (x == .string && y == .ip) { return }
        throw QueryError(.typeMismatch, "cannot compare \(describe(x)) (\(QueryError.quote(la.description))) with \(describe(y)) (\(QueryError.quote(lb.description)))",
                         at: whole, help: "convert one side, for example with tostring(), toint() or ip()")
    }

    /// `x == cidr("10.0.0.0/8")` and `!=`: whether x is (not) in the network.
    private func compareNetwork(_ op: BinaryOp, _ a: BoundExpr, _ ka: Field.Kind?, _ la: Expr,
                                _ b: BoundExpr, _ kb: Field.Kind?, _ lb: Expr) throws(QueryError) -> BoundExpr? {
        let (x, kx, lx, network, ln): (BoundExpr, Field.Kind?, Expr, CIDR, Expr)
        if case .constant(.cidr(let c)) = b { (x, kx, lx, network, ln) = (a, ka, la, c, lb) }
        else if case .constant(.cidr(let c)) = a { (x, kx, lx, network, ln) = (b, kb, lb, c, la) }
        else { return nil }
        if case .constant(.cidr(let other)) = x {
            guard op == .equal || op == .notEqual else {
                throw QueryError(.typeMismatch, "networks compare only with == and !=", at: la.range.union(lb.range))
            }
            return .constant(.bool((other == network) == (op == .equal)))
        }
        try requireAddress(kx, lx, network: ln)
        guard op == .equal || op == .notEqual else {
            throw QueryError(.typeMismatch, "cannot order an address and a network with '\(op.rawValue)'", at: la.range.union(lb.range),
                             help: "'==' tests whether the address is in the network")
        }
        return .inCIDR(x, [network], negated: op == .notEqual)
    }

    private func requireAddress(_ k: Field.Kind?, _ source: Expr, network: Expr) throws(QueryError) {
        if let k, k != .ip && k != .string {
            throw QueryError(.typeMismatch, "cannot test \(describe(k)) (\(QueryError.quote(source.description))) against a network (\(QueryError.quote(network.description)))",
                             at: source.range.union(network.range), help: "networks hold addresses, like src_ip")
        }
    }

    private func requireText(_ function: String, _ k: Field.Kind?, _ source: Expr) throws(QueryError) {
        if let k, k != .string {
            throw QueryError(.typeMismatch, "'\(function)' needs text, but \(QueryError.quote(source.description)) is \(describe(k))", at: source.range,
                             help: "convert it first: \(function)(tostring(\(source.description)))")
        }
    }

    private func requireNumber(_ k: Field.Kind?, _ source: Expr) throws(QueryError) {
        if let k, k != .int && k != .double {
            throw QueryError(.typeMismatch, "expected a number, but \(QueryError.quote(source.description)) is \(describe(k))", at: source.range)
        }
    }

    private func kind(_ e: BoundExpr, _ scope: Scope) -> Field.Kind? {
        switch e {
        case .slot(let i, _): return scope.columns[i].kind
        case .field(let f): return f.kind
        case .constant(let v): return kindOf(v)
        case .compare, .text, .matches, .inList, .inCIDR, .exists, .and, .or, .not: return .bool
        case .function(.bin, let args): return kind(args[0], scope)
        case .function(.len, _), .function(.toint, _): return .int
        case .function(.lower, _), .function(.upper, _), .function(.tostring, _): return .string
        case .function(.substr, _), .function(.concat, _): return .string
        case .function(.split, let args): return args.count == 3 ? .string : nil
        case .function(.ip, _): return .ip
        case .function(.iff, let args):
            let ka = kind(args[1], scope), kb = kind(args[2], scope)
            return ka == kb ? ka : ka == nil ? kb : kb == nil ? ka : .double
        case .negate(let x): return kind(x, scope)
        case .arith(let op, let a, let b):
            let ka = kind(a, scope), kb = kind(b, scope)
            if ka == .time && kb == .time { return .int }
            if ka == .time || kb == .time { return .time }
            if op == .div || ka == .double || kb == .double { return .double }
            return ka == .int && kb == .int ? .int : nil
        default: return nil
        }
    }

    // MARK: - Scan predicates

    func conjuncts(_ e: BoundExpr) -> [BoundExpr] {
        if case .and(let xs) = e { return xs.flatMap(conjuncts) }
        return [e]
    }

    func disjuncts(_ e: BoundExpr) -> [BoundExpr] {
        if case .or(let xs) = e { return xs.flatMap(disjuncts) }
        return [e]
    }

    /// `time >= T`, `time < T` ... as an inclusive range.
    func timeBound(_ e: BoundExpr) -> (Int64?, Int64?)? {
        guard case .compare(let op, let a, let b) = e else { return nil }
        var o = op, t: Int64
        switch (a, b) {
        case (.field(.time), .constant(.time(let x))): t = x
        case (.constant(.time(let x)), .field(.time)):
            t = x
            o = switch op { case .lt: .gt; case .le: .ge; case .gt: .lt; case .ge: .le; default: op }
        default: return nil
        }
        switch o {
        case .ge: return (t, nil)
        case .gt: return (t + 1, nil)
        case .le: return (nil, t)
        case .lt: return (nil, t - 1)
        case .eq: return (t, t)
        default: return nil
        }
    }
}
