import Dispatch
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

    /// The same, counting in `passed[i]` the rows that came through `stages[i]`.
    static func streamOne(_ stages: [BoundStage], row: [Value], passed: inout [Int]) -> [Value]? {
        var row = row
        for (i, s) in stages.enumerated() {
            guard let next = streamOne([s], row: row) else { return nil }
            row = next
            passed[i] += 1
        }
        return row
    }

    static func run(_ stages: [BoundStage], rows input: [[Value]], width: Int) throws -> [[Value]] {
        var notes: [String] = []
        return try run(stages, rows: input, width: width, notes: &notes)
    }

    /// The same, adding to `notes` what the answer needs said (estimated aggregates).
    static func run(_ stages: [BoundStage], rows input: [[Value]], width: Int, notes: inout [String]) throws -> [[Value]] {
        var context = Context()
        return try run(stages, rows: input, width: width, notes: &notes, context: &context)
    }

    /// What a run is bounded by and what it records (for `secq explain --analyze`).
    struct Context {
        /// Groups a `stats` may hold; past it the run throws ``GroupLimitExceeded``.
        var groupLimit = GroupTable.defaultLimit
        /// The index in the query's stages of `stages[0]` (for errors).
        var stageOffset = 0
        /// Rows in and out and time of each stage run, appended in order.
        var profile: [StageProfile] = []
    }

    /// The same, bounded and recorded by `context`. A `sort` followed by `head N` keeps a
    /// bounded heap of N rows instead of sorting every row; the answer is the same.
    static func run(_ stages: [BoundStage], rows input: [[Value]], width: Int, notes: inout [String],
                    context: inout Context) throws -> [[Value]] {
        var rows = input
        var skipNext = false
        for (index, s) in stages.enumerated() {
            if skipNext { skipNext = false; continue }
            let started = DispatchTime.now().uptimeNanoseconds
            let rowsIn = rows.count
            var name = s.description
            defer {
                context.profile.append(StageProfile(name: name, rowsIn: rowsIn, rowsOut: rows.count,
                                                    seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
            }
            switch s {
            case .filter, .project, .extend:
                rows = rows.compactMap { streamOne([s], row: $0) }
            case .head(let n):
                if rows.count > n { rows.removeLast(rows.count - n) }
            case .sort(let keys):
                if index + 1 < stages.count, case .head(let n) = stages[index + 1] {
                    rows = topRows(rows, keys: keys, limit: n)
                    name += " | head \(n) (heap of \(n))"
                    skipNext = true
                    continue
                }
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
                    // Taken out of the table while it is updated, so it is not copied.
                    var accs = table.groups.removeValue(forKey: k) ?? Array(repeating: Accumulator(), count: aggs.count)
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
                    if table.groups.count > context.groupLimit {
                        throw GroupLimitExceeded(limit: context.groupLimit, stage: context.stageOffset + index)
                    }
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

extension RowPipeline {
    /// The first `limit` rows of `rows` ordered by `keys`, exactly as a stable sort then
    /// `prefix(limit)` would give them (ties keep input order), holding at most `limit`
    /// rows: a heap whose root is the worst row kept.
    static func topRows(_ rows: [[Value]], keys: [BoundStage.SortKey], limit: Int) -> [[Value]] {
        guard limit > 0 else { return [] }
        typealias Entry = (keys: [Value], offset: Int, row: [Value])
        // `before(a, b)`: a comes first in the answer.
        func before(_ a: Entry, _ b: Entry) -> Bool {
            for (i, k) in keys.enumerated() {
                let x = a.keys[i], y = b.keys[i]
                if x == y { continue }
                return k.descending ? Value.order(y, x) : Value.order(x, y)
            }
            return a.offset < b.offset
        }
        var heap: [Entry] = []
        heap.reserveCapacity(Swift.min(limit, rows.count))
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < heap.count, before(heap[worst], heap[l]) { worst = l }
                if r < heap.count, before(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        for (offset, r) in rows.enumerated() {
            let e: Entry = (keys.map { Eval.evaluate($0.expr, RowSource(row: r)) }, offset, r)
            if heap.count < limit {
                heap.append(e)
                var i = heap.count - 1
                while i > 0 {
                    let parent = (i - 1) / 2
                    guard before(heap[parent], heap[i]) else { break }
                    heap.swapAt(parent, i)
                    i = parent
                }
            } else if before(e, heap[0]) {
                heap[0] = e
                siftDown(0)
            }
        }
        return heap.sorted(by: before).map(\.row)
    }
}

/// Rows in and out of one stage of a run, and the time it took.
public struct StageProfile: Sendable, Equatable {
    /// The stage as `secq explain` shows it (`filter ...`, `sort ... | head 10 (heap of 10)`).
    public var name: String
    public var rowsIn: Int
    public var rowsOut: Int
    public var seconds: Double
    /// For the scan: blocks considered, read and skipped.
    public var blocks: (considered: Int, read: Int, skipped: Int)? {
        get { blockCounts.map { ($0[0], $0[1], $0[2]) } }
        set { blockCounts = newValue.map { [$0.considered, $0.read, $0.skipped] } }
    }
    var blockCounts: [Int]? = nil

    public init(name: String, rowsIn: Int, rowsOut: Int, seconds: Double) {
        self.name = name
        self.rowsIn = rowsIn
        self.rowsOut = rowsOut
        self.seconds = seconds
    }
}

/// A `stats` grew past the groups it may hold in memory.
struct GroupLimitExceeded: Error {
    let limit: Int
    /// The index of the `stats` among the bound query's stages.
    let stage: Int
    /// True when the scan pieces' tables together passed their budget (each piece keeps
    /// its own table until they are merged).
    var whileScanning = false
}
