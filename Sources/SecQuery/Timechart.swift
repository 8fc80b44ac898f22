import SecModel

/// `timechart span=D AGG [as name], ... [by f]`, as KQL's `make-series`/SPL's `timechart`.
///
/// The binder turns it into `stats AGG..., count() by bin(time, D) [, f]` (the ordinary
/// aggregation, fast path included) followed by this pivot, which makes:
///
/// - one row per bucket of D, aligned to the epoch in UTC, in time order, from the first
///   bucket holding a row to the last; buckets in between with no row are filled
///   (`count` and `dc` 0, every other aggregate null);
/// - without `by`: columns `time` and one per aggregate (its alias or its text, `count()`);
/// - with `by f`: columns `time` and one per series value of f, named by the value's text
///   (`null` for rows without f); with several aggregates, `NAME: value` per aggregate and
///   series. At most ``maxSeries`` series are kept: those with the most rows (ties by
///   value); the others are summed into one `other` series for `count` and `sum`
///   aggregates and dropped for the rest. Series columns are in value order, then `null`,
///   then `other`. (A value whose text is `time`, `null` or `other` names its column the
///   same as those; the columns keep their places.)
///
/// A chart with `by` must end the query (its columns are only known when it runs); one
/// without `by` may be followed by other stages, over `time` and the aggregates.
///
/// More than ``maxBuckets`` buckets is refused (with the stage's place in the query).
public struct TimechartPivot: Sendable, Equatable, CustomStringConvertible {
    public static let maxBuckets = 100_000
    public static let maxSeries = 20
    /// The smallest span: one second.
    public static let minSpan: Int64 = 1000

    /// Bucket size, ms.
    public var span: Int64
    /// True with `by f`: stats rows are `time, f, aggs..., count`; otherwise `time, aggs..., count`.
    public var split: Bool
    /// The aggregates written (the trailing row count of the stats is not among them).
    public var aggregates: [BoundAggregate]
    /// The stage, blamed when the buckets are too many.
    public var range: SourceRange

    public var description: String {
        "timechart span=\(SecModel.Span(millis: span)) " + aggregates.map(\.name).joined(separator: ", ") + (split ? " by series" : "")
    }

    /// The columns of a chart without `by` (fixed, known when binding).
    public var fixedColumns: [String] { ["time"] + aggregates.map(\.name) }

    /// Pivots the rows of the stats before it.
    public func pivot(_ rows: [[Value]]) throws(QueryError) -> (columns: [String], rows: [[Value]]) {
        let nAggs = aggregates.count
        let first = split ? 2 : 1
        func bucket(_ row: [Value]) -> Int64? {
            switch row[0] {
            case .time(let t), .int(let t): return t
            default: return nil
            }
        }
        let times = rows.compactMap(bucket)
        guard let lo = times.min(), let hi = times.max() else {
            return (split ? ["time"] : fixedColumns, [])
        }
        let count = (hi - lo) / span + 1
        guard count <= Int64(TimechartPivot.maxBuckets) else {
            let suggest = Span(millis: TimechartPivot.suggestedSpan(range: hi - lo))
            throw QueryError(.invalidArgument,
                             "timechart would make \(count) buckets, more than \(TimechartPivot.maxBuckets)",
                             at: range, help: "use a bigger span, like span=\(suggest), or a shorter time range")
        }
        let empty = aggregates.map { Accumulator().result($0.kind) }
        guard split else {
            var byBucket: [Int64: [Value]] = [:]
            for r in rows { if let t = bucket(r) { byBucket[t] = Array(r[first..<(first + nAggs)]) } }
            let out = (0..<count).map { i -> [Value] in
                let t = lo + i * span
                return [.time(t)] + (byBucket[t] ?? empty)
            }
            return (fixedColumns, out)
        }
        // Series: rank by rows (the trailing count), keep the first maxSeries.
        var totals: [Value: Int64] = [:]
        for r in rows { if case .int(let n) = r[first + nAggs] { totals[r[1], default: 0] += n } }
        let ranked = totals.sorted { a, b in a.value != b.value ? a.value > b.value : TimechartPivot.seriesOrder(a.key, b.key) }
        let kept = ranked.prefix(TimechartPivot.maxSeries).map(\.key).sorted(by: TimechartPivot.seriesOrder)
        let hasOther = ranked.count > TimechartPivot.maxSeries
        let column = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($0.element, $0.offset) })
        let otherAggs = aggregates.indices.filter { hasOther && (aggregates[$0].kind == .count || aggregates[$0].kind == .sum) }

        // Column layout: for each aggregate, its kept series then (count/sum) `other`.
        var columns = ["time"]
        var base: [Int] = []
        var otherColumn: [Int: Int] = [:]
        for (a, agg) in aggregates.enumerated() {
            base.append(columns.count)
            let prefix = nAggs == 1 ? "" : agg.name + ": "
            for s in kept { columns.append(prefix + TimechartPivot.seriesName(s)) }
            if otherAggs.contains(a) {
                otherColumn[a] = columns.count
                columns.append(prefix + "other")
            }
        }
        var template = [Value](repeating: .null, count: columns.count)
        for (a, _) in aggregates.enumerated() {
            for s in 0..<kept.count { template[base[a] + s] = empty[a] }
            if let o = otherColumn[a] { template[o] = empty[a] }
        }
        var out = (0..<count).map { i -> [Value] in
            var row = template
            row[0] = .time(lo + i * span)
            return row
        }
        for r in rows {
            guard let t = bucket(r) else { continue }
            let i = Int((t - lo) / span)
            if let s = column[r[1]] {
                for a in 0..<nAggs { out[i][base[a] + s] = r[first + a] }
            } else {
                for (a, o) in otherColumn { out[i][o] = TimechartPivot.add(out[i][o], r[first + a]) }
            }
        }
        return (columns, out)
    }

    /// The columns of `columns` (from ``pivot(_:)``) holding the first aggregate.
    public func bars(_ columns: [String]) -> Range<Int> {
        guard columns.count > 1 else { return 1..<1 }
        if !split { return 1..<2 }
        if aggregates.count == 1 { return 1..<columns.count }
        let prefix = aggregates[0].name + ": "
        var end = 1
        while end < columns.count && columns[end].hasPrefix(prefix) { end += 1 }
        return 1..<end
    }

    /// A series column's name: the value's text, `null` for no value.
    static func seriesName(_ v: Value) -> String { v.isNull ? "null" : v.text }

    /// Values in their order, null last.
    static func seriesOrder(_ a: Value, _ b: Value) -> Bool {
        if a.isNull != b.isNull { return b.isNull }
        return Value.order(a, b)
    }

    /// The sum of two counts or sums; null plus x is x.
    static func add(_ a: Value, _ b: Value) -> Value {
        switch (a, b) {
        case (.null, _): return b
        case (_, .null): return a
        case (.int(let x), .int(let y)): return .int(x &+ y)
        default: return .double((Eval.number(a) ?? 0) + (Eval.number(b) ?? 0))
        }
    }

    /// A round span (1s, 1m, 1h, 1d, 7d ...) giving at most maxBuckets buckets over `range` ms.
    static func suggestedSpan(range: Int64) -> Int64 {
        let steps: [Int64] = [1_000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000, 604_800_000]
        for s in steps where range / s + 1 <= Int64(maxBuckets) { return s }
        var s = steps.last!
        while range / s + 1 > Int64(maxBuckets) { s *= 10 }
        return s
    }
}

/// What a bar chart of a `timechart` draws.
public struct ChartLayout: Sendable, Equatable {
    /// The columns whose values one bar stacks (the first aggregate's); column 0 is the
    /// bucket's time.
    public var bars: Range<Int>
    /// True with `by`: the bar columns are series.
    public var series: Bool

    public init(bars: Range<Int>, series: Bool) { self.bars = bars; self.series = series }
}
