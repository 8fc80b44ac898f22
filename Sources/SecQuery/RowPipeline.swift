import SecModel

/// A row of slots as a source of values.
struct RowSource: ValueSource {
    let row: [Value]
    func field(_ f: Field) -> Value { .null }
    func raw(_ path: [BoundExpr.RawPathSegment]) -> Value { .null }
    @inline(__always) func slot(_ i: Int) -> Value { i < row.count ? row[i] : .null }
}

/// The stages after the scan, over materialised rows.
enum RowPipeline {
    /// Applies streaming stages (filter, project, extend) to one row; nil when filtered out.
    static func streamOne(_ stages: [BoundStage], row: [Value]) -> [Value]? {
        var row = row
        for s in stages {
            switch s {
            case .filter(let e):
                if !Eval.truth(Eval.evaluate(e, RowSource(row: row))) { return nil }
            case .project(let cols):
                let src = RowSource(row: row)
                row = cols.map { Eval.evaluate($0.expr, src) }
            case .extend(let cols, let replacing):
                for (c, r) in zip(cols, replacing) {
                    let v = Eval.evaluate(c.expr, RowSource(row: row))
                    if let r, r < row.count { row[r] = v } else { row.append(v) }
                }
            default:
                break
            }
        }
        return row
    }

    static func run(_ stages: [BoundStage], rows input: [[Value]], width: Int) throws -> [[Value]] {
        var notes: [String] = []
        return try run(stages, rows: input, width: width, notes: &notes)
    }

    /// The same, adding to `notes` what the answer needs said (estimated aggregates).
    static func run(_ stages: [BoundStage], rows input: [[Value]], width: Int, notes: inout [String]) throws -> [[Value]] {
        var rows = input
        for s in stages {
            switch s {
            case .filter, .project, .extend:
                rows = rows.compactMap { streamOne([s], row: $0) }
            case .head(let n):
                if rows.count > n { rows.removeLast(rows.count - n) }
            case .sort(let keys):
                let decorated = rows.map { r in (keys.map { Eval.evaluate($0.expr, RowSource(row: r)) }, r) }
                rows = decorated.enumerated().sorted { a, b in
                    for (i, k) in keys.enumerated() {
                        let x = a.element.0[i], y = b.element.0[i]
                        if x == y { continue }
                        return k.descending ? Value.order(y, x) : Value.order(x, y)
                    }
                    return a.offset < b.offset
                }.map { $0.element.1 }
            case .stats(let keys, let aggs):
                var table = GroupTable()
                for r in rows {
                    let src = RowSource(row: r)
                    let k = keys.map { Eval.evaluate($0.expr, src) }
                    var accs = table.groups[k] ?? Array(repeating: Accumulator(), count: aggs.count)
                    for (i, a) in aggs.enumerated() {
                        if let arg = a.argument {
                            let v = Eval.evaluate(arg, src)
                            if a.kind == .count {
                                if !v.isNull { accs[i].count += 1 }
                            } else if (a.kind == .first || a.kind == .last), !a.order.isEmpty {
                                let o = a.order.map { Eval.evaluate($0, src) }
                                func ms(_ x: Value) -> Int64 {
                                    switch x { case .time(let t), .int(let t): t; default: 0 }
                                }
                                accs[i].add(a.kind, v, time: ms(o[0]), seq: o.count > 1 ? ms(o[1]) : 0)
                            } else {
                                accs[i].add(a.kind, v)
                            }
                        } else {
                            accs[i].count += 1
                        }
                    }
                    table.groups[k] = accs
                }
                rows = table.rows(keys: keys.count, aggregates: aggs)
                notes += table.notes(aggregates: aggs)
            case .dedup(let keys):
                var seen = Set<[Value]>()
                rows = rows.filter { r in seen.insert(keys.map { Eval.evaluate($0, RowSource(row: r)) }).inserted }
            case .timechart(let t):
                rows = try t.pivot(rows).rows
            case .sequence(let m):
                rows = try m.run(rows).rows
            }
        }
        return rows
    }
}
