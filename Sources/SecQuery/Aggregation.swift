import SecModel
import SecStore

/// The running state of one aggregate for one group.
///
/// Bounds (documented in README.md and `secq query --help`):
/// - `dc`: exact up to ``exactDistinct`` distinct values, then HyperLogLog (0.8%).
/// - percentiles: exact (nearest rank) up to ``exactSamples`` values, then a
///   ``QuantileSketch``.
/// - `values`: the first ``valuesLimit`` distinct values in sort order.
struct Accumulator: Sendable {
    static let exactDistinct = 100_000
    static let exactSamples = 10_000
    static let valuesLimit = 100

    var count: Int64 = 0
    var intSum: Int64 = 0
    var doubleSum: Double = 0
    var sawDouble = false
    var min: Value? = nil
    var max: Value? = nil
    /// `dc` (exact) and `values`.
    var distinct: Set<Value>? = nil
    /// `dc` past ``exactDistinct``.
    var hll: HyperLogLog? = nil
    /// Percentiles: the values while exact, then the sketch.
    var samples: [Double]? = nil
    var sketch: QuantileSketch? = nil
    /// The type the percentile's values had (an answer is one of them).
    var sampleKind: SampleKind = .none
    /// `first` / `last`: the value with the earliest / latest (time, seq).
    var stamped: Stamped? = nil
    /// Set by `values`: `distinct` holds the first values in sort order only.
    var keepsValues = false
    /// Set by `last`: the later row wins.
    var lastWins = false

    enum SampleKind: UInt8, Sendable { case none, int, double, time }

    struct Stamped: Sendable {
        var time: Int64
        var seq: Int64
        var value: Value

        /// Earlier time, then lower sequence number, then the smaller value (so that
        /// rows of two banks with the same time and number answer the same every time).
        func before(_ o: Stamped) -> Bool {
            if time != o.time { return time < o.time }
            if seq != o.seq { return seq < o.seq }
            return Value.order(value, o.value)
        }
    }

    mutating func add(_ kind: BoundAggregate.Kind, _ v: Value) {
        switch kind {
        case .count:
            count += 1
        case .dc:
            if !v.isNull { addDistinct(v) }
        case .sum, .avg:
            switch v {
            case .int(let i): intSum &+= i; count += 1
            case .double(let d): doubleSum += d; sawDouble = true; count += 1
            default: if let d = Eval.number(v) { doubleSum += d; sawDouble = true; count += 1 }
            }
        case .min:
            if !v.isNull, min.map({ Value.order(v, $0) }) ?? true { min = v }
        case .max:
            if !v.isNull, max.map({ Value.order($0, v) }) ?? true { max = v }
        case .p50, .p90, .p95, .p99, .percentile:
            switch v {
            case .int(let i): addSample(Double(i), .int)
            case .double(let d): if !d.isNaN { addSample(d, .double) }
            case .time(let t): addSample(Double(t), .time)
            default: if let d = Eval.number(v) { addSample(d, .double) }
            }
        case .values:
            if !v.isNull { addValue(v) }
        case .first, .last:
            // Without an order (no time): the first / last value seen.
            lastWins = kind == .last
            if !v.isNull, kind == .last || stamped == nil { stamped = Stamped(time: 0, seq: 0, value: v) }
        }
    }

    /// `first` / `last` of a row with its event time and sequence number.
    @inline(__always)
    mutating func add(_ kind: BoundAggregate.Kind, _ v: Value, time: Int64, seq: Int64) {
        lastWins = kind == .last
        if v.isNull { return }
        let s = Stamped(time: time, seq: seq, value: v)
        guard let cur = stamped else { stamped = s; return }
        if kind == .first ? s.before(cur) : cur.before(s) { stamped = s }
    }

    mutating func addDistinct(_ v: Value) {
        if hll != nil { hll!.add(v); return }
        if distinct == nil { distinct = [v] } else { distinct!.insert(v) }
        if distinct!.count > Self.exactDistinct { toHLL() }
    }

    mutating func toHLL() {
        var h = hll ?? HyperLogLog()
        for x in distinct ?? [] { h.add(x) }
        hll = h
        distinct = nil
    }

    mutating func addValue(_ v: Value) {
        keepsValues = true
        if distinct == nil { distinct = [v] } else { distinct!.insert(v) }
        if distinct!.count > 2 * Self.valuesLimit { pruneValues() }
    }

    /// Keeps the first ``valuesLimit`` values in sort order (what `values` answers, and
    /// all a merge needs).
    mutating func pruneValues() {
        guard let d = distinct, d.count > Self.valuesLimit else { return }
        distinct = Set(d.sorted(by: Value.order).prefix(Self.valuesLimit))
    }

    mutating func addSample(_ d: Double, _ k: SampleKind) {
        if sampleKind == .none { sampleKind = k }
        if sketch != nil { sketch!.add(d); return }
        if samples == nil { samples = [d] } else { samples!.append(d) }
        if samples!.count > Self.exactSamples { toSketch() }
    }

    mutating func toSketch() {
        var s = sketch ?? QuantileSketch()
        for x in samples ?? [] { s.add(x) }
        sketch = s
        samples = nil
    }

    mutating func merge(_ o: Accumulator) {
        count += o.count; intSum &+= o.intSum; doubleSum += o.doubleSum; sawDouble = sawDouble || o.sawDouble
        if let m = o.min, min.map({ Value.order(m, $0) }) ?? true { min = m }
        if let m = o.max, max.map({ Value.order($0, m) }) ?? true { max = m }
        if let d = o.distinct { distinct = (distinct ?? []).union(d) }
        keepsValues = keepsValues || o.keepsValues
        if keepsValues {
            if let d = distinct, d.count > 2 * Self.valuesLimit { pruneValues() }
        } else {
            if let h = o.hll { if hll == nil { hll = h } else { hll!.merge(h) } }
            if hll != nil, distinct != nil { toHLL() }
            if let d = distinct, d.count > Self.exactDistinct { toHLL() }
        }
        if sampleKind == .none { sampleKind = o.sampleKind }
        if let s = o.samples { if samples == nil { samples = s } else { samples!.append(contentsOf: s) } }
        if let s = o.sketch { if sketch == nil { sketch = s } else { sketch!.merge(s) } }
        if sketch != nil, samples != nil { toSketch() }
        if let s = samples, s.count > Self.exactSamples { toSketch() }
        lastWins = lastWins || o.lastWins
        if let s = o.stamped {
            if let cur = stamped { stamped = lastWins ? (cur.before(s) ? s : cur) : (s.before(cur) ? s : cur) } else { stamped = s }
        }
    }

    /// The note the CLI prints when an aggregate's answer is estimated for some group.
    static func estimateNote(_ a: BoundAggregate) -> String {
        switch a.kind {
        case .dc: return "\(a.name) estimated (HyperLogLog, standard error 0.8%)"
        default: return "\(a.name) estimated (quantile sketch, rank error under 1%)"
        }
    }

    /// True when the answer is an estimate (HyperLogLog or the quantile sketch).
    var estimated: Bool { hll != nil || sketch != nil }

    func result(_ agg: BoundAggregate) -> Value {
        switch agg.kind {
        case .p50, .p90, .p95, .p99, .percentile:
            let p = agg.percent / 100
            var x: Double?
            if let sketch { x = sketch.quantile(p) } else if let s = samples, !s.isEmpty {
                let sorted = s.sorted()
                let rank = Swift.max(1, Int((p * Double(sorted.count)).rounded(.up)))
                x = sorted[Swift.min(rank, sorted.count) - 1]
            }
            guard let x else { return .null }
            switch sampleKind {
            case .int: return .int(Int64(x))
            case .time: return .time(Int64(x))
            default: return .double(x)
            }
        case .values:
            return .list((distinct ?? []).sorted(by: Value.order).prefix(Self.valuesLimit).map { $0 })
        case .first, .last:
            return stamped?.value ?? .null
        default:
            return result(agg.kind)
        }
    }

    func result(_ kind: BoundAggregate.Kind) -> Value {
        switch kind {
        case .count: return .int(count)
        case .dc: return .int(hll?.estimate ?? Int64(distinct?.count ?? 0))
        case .sum:
            if count == 0 { return .null }
            return sawDouble ? .double(doubleSum + Double(intSum)) : .int(intSum)
        case .avg:
            return count == 0 ? .null : .double((doubleSum + Double(intSum)) / Double(count))
        case .min: return min ?? .null
        case .max: return max ?? .null
        default: return .null
        }
    }
}

/// Groups of `stats`, keyed by the values of the `by` expressions.
struct GroupTable: Sendable {
    /// Groups a `stats` may hold in memory; see ``Executor/defaultGroupLimit``.
    static let defaultLimit = Executor.defaultGroupLimit

    /// Groups held, counting those still keyed by dictionary ids.
    var count: Int { groups.count + idGroups.count + idCounts.count }

    var groups: [[Value]: [Accumulator]] = [:]
    /// Within one bank, groups whose keys are all bank-dictionary columns, keyed by the
    /// dictionary ids (cheap to hash); turned into `groups` at the end of a unit.
    var idGroups: [GroupIDs: [Accumulator]] = [:]
    /// The same for a `stats` of `count()`s only: a number per group.
    var idCounts: [GroupIDs: Int64] = [:]

    mutating func add(_ key: [Value], _ accs: [Accumulator]) {
        GroupTable.merge(accs[...], into: &groups, at: key)
    }

    mutating func merge(_ o: GroupTable) {
        for (k, accs) in o.groups { GroupTable.merge(accs[...], into: &groups, at: k) }
    }

    /// Adds another table of the same bank: groups keyed by dictionary ids merge by id.
    mutating func mergeSameBank(_ o: GroupTable) {
        merge(o)
        if idGroups.isEmpty { idGroups = o.idGroups } else {
            idGroups.reserveCapacity(idGroups.count + o.idGroups.count / 2)
            for (ids, accs) in o.idGroups { GroupTable.merge(accs[...], into: &idGroups, at: ids) }
        }
        if idCounts.isEmpty { idCounts = o.idCounts } else {
            for (ids, n) in o.idCounts { idCounts[ids, default: 0] += n }
        }
    }

    /// Every group as (key values, accumulators), the groups keyed by dictionary ids
    /// turned into values (distinct ids of one bank are distinct values).
    func resolvedGroups(aggregates: Int, _ value: (UInt32) throws -> Value) rethrows -> [([Value], [Accumulator])] {
        var out: [([Value], [Accumulator])] = Array(groups)
        out.reserveCapacity(groups.count + idGroups.count + idCounts.count)
        var cache: [UInt32: Value] = [:]
        func key(_ ids: GroupIDs) throws -> [Value] {
            var kv: [Value] = []
            kv.reserveCapacity(ids.count)
            for k in 0..<ids.count {
                let id = ids[k]
                if id == 0 { kv.append(.null); continue }
                if let v = cache[id] { kv.append(v); continue }
                let v = try value(id)
                cache[id] = v
                kv.append(v)
            }
            return kv
        }
        for (ids, accs) in idGroups { out.append((try key(ids), accs)) }
        for (ids, n) in idCounts {
            var acc = Accumulator()
            acc.count = n
            out.append((try key(ids), Array(repeating: acc, count: aggregates)))
        }
        return out
    }

    /// Rows of keys then results from (key, accumulators) pairs, ordered by key unless
    /// `sorted` is false (see ``rows(keys:aggregates:sorted:)``).
    static func rows(_ pairs: [([Value], [Accumulator])], keys: Int, aggregates: [BoundAggregate], sorted: Bool) -> [[Value]] {
        var out = pairs.map { k, accs in k + zip(aggregates, accs).map { $1.result($0) } }
        if sorted {
            out.sort { a, b in
                for i in 0..<keys where a[i] != b[i] { return Value.order(a[i], b[i]) }
                return false
            }
        }
        return out
    }

    /// Merges into the entry in place (reading it out first would copy its array, as the
    /// dictionary still holds it).
    @inline(__always)
    static func merge<K: Hashable>(_ accs: ArraySlice<Accumulator>, into table: inout [K: [Accumulator]], at key: K) {
        if let i = table.index(forKey: key) {
            table.values[i].withUnsafeMutableBufferPointer { mine in
                for (j, x) in zip(mine.indices, accs) { mine[j].merge(x) }
            }
        } else {
            table[key] = Array(accs)
        }
    }

    /// A note for each aggregate some group answered with an estimate.
    func notes(aggregates: [BoundAggregate]) -> [String] {
        GroupTable.notes(groups.values, aggregates: aggregates)
    }

    static func notes(_ groups: some Sequence<[Accumulator]>, aggregates: [BoundAggregate]) -> [String] {
        var estimated = [Bool](repeating: false, count: aggregates.count)
        for accs in groups { for i in accs.indices where accs[i].estimated { estimated[i] = true } }
        return aggregates.indices.filter { estimated[$0] }.map { Accumulator.estimateNote(aggregates[$0]) }
    }

    /// Rows of keys then results, ordered by key. A `stats` without `by` over no rows
    /// still answers one row (count 0).
    /// `sorted: false` leaves them in no particular order, for a caller that sorts them
    /// next with the keys as the last tie-break.
    func rows(keys: Int, aggregates: [BoundAggregate], sorted: Bool = true) -> [[Value]] {
        if keys == 0 && groups.isEmpty { return [aggregates.map { Accumulator().result($0) }] }
        // Rows first, then sorted (moving a row moves one reference, not its accumulators).
        return GroupTable.rows(Array(groups), keys: keys, aggregates: aggregates, sorted: sorted)
    }
}

/// `stats` straight from block columns, when its keys and arguments are event fields
/// (or `bin` of one): rows are grouped by dictionary code inside a block and only the
/// block's groups are turned into values.
struct FastStats {
    let keys: [(field: Field, bin: Int64?)]
    let aggregates: [BoundAggregate]
    let arguments: [Field?]
    let fields: Set<Field>

    init?(query q: BoundQuery) {
        guard case .stats(let ks, let aggs)? = q.stages.first else { return nil }
        func field(_ e: BoundExpr) -> Field? {
            guard case .slot(let i, _) = e, i < q.slots.count, case .field(let f)? = q.slots[i] else { return nil }
            return f
        }
        var keys: [(field: Field, bin: Int64?)] = []
        for k in ks {
            if let f = field(k.expr) { keys.append((f, nil)); continue }
            if case .function(.bin, let args) = k.expr, let f = field(args[0]), case .constant(.int(let size)) = args[1],
               f.kind == .time || f.kind == .int {
                keys.append((f, size)); continue
            }
            return nil
        }
        var arguments: [Field?] = []
        for a in aggs {
            if let e = a.argument {
                guard let f = field(e) else { return nil }
                arguments.append(f)
            } else {
                arguments.append(nil)
            }
        }
        self.keys = keys
        self.aggregates = aggs
        self.arguments = arguments
        let ordered = aggs.contains { $0.kind == .first || $0.kind == .last }
        fields = Set(keys.map(\.field) + arguments.compactMap { $0 } + (ordered ? [.time] : []))
    }

    /// True when every key is a bank-dictionary column of the block (at most four, no
    /// `bin`): groups are then keyed by dictionary ids (``GroupIDs``) and the keys'
    /// values are not needed while scanning.
    func groupsByID(_ header: BlockHeader) -> Bool {
        !keys.isEmpty && keys.count <= 4 && keys.allSatisfy { k in
            k.bin == nil && header.column(k.field)?.encoding == .globalDict
        }
    }

    /// A field read only as a key (not an aggregate's argument, nor the time `first`/`last` order by).
    func isKeyOnly(_ f: Field) -> Bool {
        f != .time && keys.contains { $0.field == f } && !arguments.contains(f)
    }

    /// Adds the selected rows of a block to `table`.
    ///
    /// When every key is a dictionary column and the product of their table sizes is
    /// small, a row's group is found by indexing an array with its combined code (no
    /// hashing per row); otherwise rows are grouped by hashing their key values.
    func aggregate(_ ctx: BlockContext, rows: [Int32], into table: inout GroupTable) {
        // Fields that are constant in a block (bank, account, source) act as a one-entry
        // dictionary whose code is 0 on every row.
        let zeros = keys.contains { BlockContext.blockConstant.contains($0.field) }
            ? [UInt32](repeating: 0, count: ctx.count) : []
        let dictKeys: [(codes: [UInt32], values: [Value])?] = keys.map { k in
            if k.bin == nil, BlockContext.blockConstant.contains(k.field) { return (zeros, [ctx.field(k.field)]) }
            if let size = k.bin, size > 0, case .times(let t)? = ctx.columns[Int(k.field.columnID)] {
                // `bin(time, D)` as a dictionary: code i + 1 is the block's i-th bin.
                var lo = Int64.max, hi = Int64.min
                for r in rows { lo = min(lo, t[Int(r)]); hi = max(hi, t[Int(r)]) }
                guard lo <= hi else { return nil }
                let first = Eval.floorDiv(lo, size), n = Eval.floorDiv(hi, size) - first + 1
                guard n <= 1 << 16 else { return nil }
                var codes = [UInt32](repeating: 0, count: ctx.count)
                for r in rows { codes[Int(r)] = UInt32(Eval.floorDiv(t[Int(r)], size) - first + 1) }
                return (codes, [.null] + (0..<n).map { .time((first + $0) * size) })
            }
            guard k.bin == nil, case .dict(let c, let v)? = ctx.columns[Int(k.field.columnID)] else { return nil }
            return (c, v)
        }
        // `coded`: every key is a dictionary column, so a row's group is its combined code
        // (found in an array when `dense`, the product of the table sizes being small,
        // else in a hash map of integers: no per-row key arrays either way).
        var radix: [Int] = []
        var total = 1
        var coded = true
        for dk in dictKeys {
            guard let dk else { coded = false; break }
            let (t, overflow) = total.multipliedReportingOverflow(by: dk.values.count)
            if overflow || t > 1 << 40 { coded = false; break }
            total = t
            radix.append(dk.values.count)
        }
        let dense = coded && total <= 1 << 16
        let argCols: [Decoded?] = arguments.map { $0.map { f -> Decoded in
            // A block-constant field has no column: one dictionary entry for every row.
            if BlockContext.blockConstant.contains(f) {
                let v = ctx.field(f)
                return .dict(codes: [UInt32](repeating: v.isNull ? 0 : 1, count: ctx.count), values: [.null, v])
            }
            // Nor has the sequence number: the block's first plus the row.
            if f == .seq {
                let first = Int64(ctx.firstSeq)
                return .ints((0..<Int64(ctx.count)).map { first + $0 }, nulls: [], asBool: false)
            }
            return ctx.columns[Int(f.columnID)] ?? .null
        } ?? nil }
        let nAggs = aggregates.count
        let timeCol = ctx.columns[Int(Field.time.columnID)]
        var keyOf: [[Value]] = []
        /// The combined code of each group (coded path).
        var groupCodes: [Int] = []
        var accs: [Accumulator] = []
        var dcCodes: [Set<UInt32>] = []
        let onlyCounts = aggregates.allSatisfy { $0.kind == .count && $0.argument == nil }
        var counts: [Int64] = []

        // (No nested function here: capturing these arrays would box them and check
        // exclusive access at run time on every row.)

        var slotOf = dense ? [Int32](repeating: -1, count: total) : []
        var slotMap: [Int: Int32] = [:]
        var hashed: [[Value]: Int] = [:]
        // A row's combined code, computed for all selected rows up front (one pass per key).
        var combined = [Int](repeating: 0, count: coded ? rows.count : 0)
        if coded {
            for (k, dk) in dictKeys.enumerated() {
                let r = radix[k]
                dk!.codes.withUnsafeBufferPointer { codes in
                    combined.withUnsafeMutableBufferPointer { out in
                        for (j, row) in rows.enumerated() { out[j] = out[j] * r + Int(codes[Int(row)]) }
                    }
                }
            }
        }
        if dense {
            // Only `count()` by bank-dictionary keys: one array increment per row, then
            // one map update per group of the block (no allocation per group).
            let idTables = keys.map { ctx.globalIDs[Int($0.field.columnID)] }
            if onlyCounts, keys.count <= 4, !idTables.contains(where: { $0 == nil }) {
                var groupCounts = [Int64](repeating: 0, count: total)
                groupCounts.withUnsafeMutableBufferPointer { gc in for c in combined { gc[c] += 1 } }
                let n = keys.count
                for code in 0..<total where groupCounts[code] > 0 {
                    var rest = code
                    var ids = GroupIDs(count: n)
                    for k in stride(from: n - 1, through: 0, by: -1) {
                        ids.set(k, idTables[k]![rest % radix[k]])
                        rest /= radix[k]
                    }
                    table.idCounts[ids, default: 0] += groupCounts[code]
                }
                return
            }
            // Only `count()`: one array increment per row.
            if onlyCounts {
                var groupCounts = [Int64](repeating: 0, count: total)
                groupCounts.withUnsafeMutableBufferPointer { gc in for c in combined { gc[c] += 1 } }
                for code in 0..<total where groupCounts[code] > 0 {
                    var rest = code
                    var kv = [Value](repeating: .null, count: dictKeys.count)
                    for k in stride(from: dictKeys.count - 1, through: 0, by: -1) {
                        kv[k] = dictKeys[k]!.values[rest % radix[k]]
                        rest /= radix[k]
                    }
                    keyOf.append(kv)
                    groupCodes.append(code)
                    counts.append(groupCounts[code])
                }
            }
        }
        // Each selected row's group; the aggregates then run a column at a time.
        var groupOf = [Int32](repeating: 0, count: onlyCounts ? 0 : rows.count)
        let anyDistinct = aggregates.contains { $0.kind == .dc }
        for (j, r) in rows.enumerated() where !(dense && onlyCounts) {
            let row = Int(r)
            var g: Int
            if coded {
                let code = combined[j]
                let known = dense ? slotOf[code] : slotMap[code, default: -1]
                if known >= 0 { g = Int(known) } else {
                    // The key's values are looked up from the code at the end, if needed.
                    groupCodes.append(code)
                    g = groupCodes.count - 1
                    if onlyCounts { counts.append(0) } else {
                        accs.append(contentsOf: repeatElement(Accumulator(), count: nAggs))
                        if anyDistinct { dcCodes.append(contentsOf: repeatElement([], count: nAggs)) }
                    }
                    if dense { slotOf[code] = Int32(g) } else { slotMap[code] = Int32(g) }
                }
            } else {
                ctx.row = row
                let kv: [Value] = keys.map { k in
                    let v = ctx.field(k.field)
                    guard let size = k.bin else { return v }
                    return Eval.call(.bin, [v, .int(size)])
                }
                if let found = hashed[kv] { g = found } else {
                    keyOf.append(kv)
                    g = keyOf.count - 1
                    if onlyCounts { counts.append(0) } else {
                        accs.append(contentsOf: repeatElement(Accumulator(), count: nAggs))
                        if anyDistinct { dcCodes.append(contentsOf: repeatElement([], count: nAggs)) }
                    }
                    hashed[kv] = g
                }
            }
            if onlyCounts { counts[g] += 1 } else { groupOf[j] = Int32(g) }
        }
        if !onlyCounts {
            for (a, agg) in aggregates.enumerated() {
                addColumn(a, agg, argCols[a], rows: rows, groupOf: groupOf, groups: accs.count / nAggs,
                          accs: &accs, dcCodes: &dcCodes, timeCol: timeCol, firstSeq: Int64(ctx.firstSeq))
            }
        }
        // Dense groups of bank-dictionary keys are merged by id, not by value.
        var groupIDs: [GroupIDs]? = nil
        let idTables = keys.map { ctx.globalIDs[Int($0.field.columnID)] }
        if coded, keys.count <= 4, !idTables.contains(where: { $0 == nil }) {
            groupIDs = groupCodes.map { code in
                var rest = code
                var ids = [UInt32](repeating: 0, count: keys.count)
                for k in stride(from: keys.count - 1, through: 0, by: -1) {
                    ids[k] = idTables[k]![rest % radix[k]]
                    rest /= radix[k]
                }
                return GroupIDs(ids)
            }
        }
        if coded && !(dense && onlyCounts) {
            keyOf = groupIDs != nil ? Array(repeating: [], count: groupCodes.count) : groupCodes.map { code in
                var rest = code
                var kv = [Value](repeating: .null, count: dictKeys.count)
                for k in stride(from: dictKeys.count - 1, through: 0, by: -1) {
                    kv[k] = dictKeys[k]!.values[rest % radix[k]]
                    rest /= radix[k]
                }
                return kv
            }
        }
        if onlyCounts {
            accs = Array(repeating: Accumulator(), count: keyOf.count * nAggs)
            for g in keyOf.indices { for a in 0..<nAggs { accs[g * nAggs + a].count = counts[g] } }
        }
        for g in keyOf.indices {
            let base = g * nAggs
            for a in 0..<nAggs where anyDistinct && !dcCodes[base + a].isEmpty {
                if case .dict(_, let values)? = argCols[a] {
                    for c in dcCodes[base + a] { accs[base + a].addDistinct(values[Int(c)]) }
                }
            }
            // Merged straight from this block's accumulators (no array per group).
            if let ids = groupIDs?[g] {
                GroupTable.merge(accs[base..<(base + nAggs)], into: &table.idGroups, at: ids)
            } else {
                GroupTable.merge(accs[base..<(base + nAggs)], into: &table.groups, at: keyOf[g])
            }
        }
    }
}

extension FastStats {
    /// Adds one aggregate's argument column over the block's selected rows
    /// (`groupOf[j]`: the group of `rows[j]`). The column's type is settled once, then a
    /// tight loop per case; integer and time `min`/`max` are kept per group as numbers
    /// and turned into values once per group.
    func addColumn(_ a: Int, _ agg: BoundAggregate, _ col: Decoded?, rows: [Int32], groupOf: [Int32], groups: Int,
                   accs: inout [Accumulator], dcCodes: inout [Set<UInt32>], timeCol: Decoded?, firstSeq: Int64) {
        let n = aggregates.count
        guard let col else {
            accs.withUnsafeMutableBufferPointer { ap in for g in groupOf { ap[Int(g) * n + a].count += 1 } }
            return
        }
        switch (agg.kind, col) {
        case (.sum, .ints(let v, let nulls, false)), (.avg, .ints(let v, let nulls, false)):
            accs.withUnsafeMutableBufferPointer { ap in
                v.withUnsafeBufferPointer { vp in
                    for (j, r) in rows.enumerated() where nulls.isEmpty || !nulls[Int(r)] {
                        let i = Int(groupOf[j]) * n + a
                        ap[i].intSum &+= vp[Int(r)]
                        ap[i].count += 1
                    }
                }
            }
        case (.min, .times(let v)), (.max, .times(let v)), (.min, .ints(let v, _, false)), (.max, .ints(let v, _, false)):
            let isMin = agg.kind == .min
            var nulls: [Bool] = []
            if case .ints(_, let ns, _) = col { nulls = ns }
            var best = [Int64](repeating: isMin ? .max : .min, count: groups)
            var seen = [Bool](repeating: false, count: groups)
            v.withUnsafeBufferPointer { vp in
                for (j, r) in rows.enumerated() where nulls.isEmpty || !nulls[Int(r)] {
                    let g = Int(groupOf[j]), x = vp[Int(r)]
                    seen[g] = true
                    if isMin ? x < best[g] : x > best[g] { best[g] = x }
                }
            }
            let asTime = if case .times = col { true } else { false }
            for g in 0..<groups where seen[g] {
                accs[g * n + a].add(agg.kind, asTime ? .time(best[g]) : .int(best[g]))
            }
        case (.count, _):
            for (j, r) in rows.enumerated() where !col.value(Int(r)).isNull { accs[Int(groupOf[j]) * n + a].count += 1 }
        case (.dc, .dict(let codes, _)):
            for (j, r) in rows.enumerated() where codes[Int(r)] != 0 { dcCodes[Int(groupOf[j]) * n + a].insert(codes[Int(r)]) }
        case (.first, _), (.last, _):
            let times: [Int64] = if case .times(let ts)? = timeCol { ts } else { [] }
            for (j, r) in rows.enumerated() {
                let row = Int(r)
                accs[Int(groupOf[j]) * n + a].add(agg.kind, col.value(row), time: times.isEmpty ? 0 : times[row], seq: firstSeq + Int64(row))
            }
        default:
            for (j, r) in rows.enumerated() { accs[Int(groupOf[j]) * n + a].add(agg.kind, col.value(Int(r))) }
        }
    }
}

/// Up to four dictionary ids, the key of a group within one bank.
struct GroupIDs: Hashable, Sendable {
    var a: UInt64 = 0
    var b: UInt64 = 0
    var count: Int

    init(count: Int) { self.count = count }

    init(_ ids: [UInt32]) {
        count = ids.count
        for (i, id) in ids.enumerated() { set(i, id) }
    }

    mutating func set(_ i: Int, _ id: UInt32) {
        if i < 2 { a |= UInt64(id) << (32 * UInt64(i)) } else { b |= UInt64(id) << (32 * UInt64(i - 2)) }
    }

    subscript(i: Int) -> UInt32 {
        i < 2 ? UInt32(truncatingIfNeeded: a >> (32 * UInt64(i))) : UInt32(truncatingIfNeeded: b >> (32 * UInt64(i - 2)))
    }
}
