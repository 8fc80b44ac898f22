import SecModel

/// The running state of one aggregate for one group.
struct Accumulator: Sendable {
    var count: Int64 = 0
    var intSum: Int64 = 0
    var doubleSum: Double = 0
    var sawDouble = false
    var min: Value? = nil
    var max: Value? = nil
    var distinct: Set<Value>? = nil

    mutating func add(_ kind: BoundAggregate.Kind, _ v: Value) {
        switch kind {
        case .count:
            count += 1
        case .dc:
            if !v.isNull { distinct = (distinct ?? []).union([v]) }
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
        }
    }

    mutating func merge(_ o: Accumulator) {
        count += o.count; intSum &+= o.intSum; doubleSum += o.doubleSum; sawDouble = sawDouble || o.sawDouble
        if let m = o.min, min.map({ Value.order(m, $0) }) ?? true { min = m }
        if let m = o.max, max.map({ Value.order($0, m) }) ?? true { max = m }
        if let d = o.distinct { distinct = (distinct ?? []).union(d) }
    }

    func result(_ kind: BoundAggregate.Kind) -> Value {
        switch kind {
        case .count: return .int(count)
        case .dc: return .int(Int64(distinct?.count ?? 0))
        case .sum:
            if count == 0 { return .null }
            return sawDouble ? .double(doubleSum + Double(intSum)) : .int(intSum)
        case .avg:
            return count == 0 ? .null : .double((doubleSum + Double(intSum)) / Double(count))
        case .min: return min ?? .null
        case .max: return max ?? .null
        }
    }
}

/// Groups of `stats`, keyed by the values of the `by` expressions.
struct GroupTable: Sendable {
    var groups: [[Value]: [Accumulator]] = [:]

    mutating func merge(_ o: GroupTable) {
        for (k, accs) in o.groups {
            if var mine = groups[k] {
                for i in mine.indices { mine[i].merge(accs[i]) }
                groups[k] = mine
            } else {
                groups[k] = accs
            }
        }
    }

    /// Rows of keys then results, ordered by key. A `stats` without `by` over no rows
    /// still answers one row (count 0).
    func rows(keys: Int, aggregates: [BoundAggregate]) -> [[Value]] {
        var g = groups
        if keys == 0 && g.isEmpty { g[[]] = Array(repeating: Accumulator(), count: aggregates.count) }
        return g.sorted { a, b in
            for (x, y) in zip(a.key, b.key) where x != y { return Value.order(x, y) }
            return false
        }.map { k, accs in k + zip(aggregates, accs).map { $1.result($0.kind) } }
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
        fields = Set(keys.map(\.field) + arguments.compactMap { $0 })
    }

    /// Adds the selected rows of a block to `table`.
    func aggregate(_ ctx: BlockContext, rows: [Int32], into table: inout GroupTable) {
        // Each key as a small per-row number where it can be (dictionary codes).
        var local: [UInt64: Int] = [:]
        var keyOf: [[Value]] = []
        var accs: [[Accumulator]] = []
        var dcCodes: [[Set<UInt32>]] = []
        let dictKeys: [(codes: [UInt32], values: [Value])?] = keys.map { k in
            guard k.bin == nil, case .dict(let c, let v)? = ctx.columns[Int(k.field.columnID)] else { return nil }
            return (c, v)
        }
        var radix: [UInt64] = []
        var compact = true
        var total: UInt64 = 1
        for dk in dictKeys {
            guard let dk else { compact = false; break }
            let r = UInt64(dk.values.count)
            let (p, o) = total.multipliedReportingOverflow(by: r)
            if o { compact = false; break }
            total = p
            radix.append(r)
        }
        let argCols: [Decoded?] = arguments.map { $0.map { ctx.columns[Int($0.columnID)] ?? .null } ?? nil }

        for r in rows {
            let row = Int(r)
            ctx.row = row
            var g: Int
            if compact {
                var code: UInt64 = 0
                for (i, dk) in dictKeys.enumerated() { code = code * radix[i] + UInt64(dk!.codes[row]) }
                if let found = local[code] { g = found } else {
                    g = keyOf.count
                    local[code] = g
                    keyOf.append(dictKeys.map { $0!.values[Int($0!.codes[row])] })
                    accs.append(Array(repeating: Accumulator(), count: aggregates.count))
                    dcCodes.append(Array(repeating: [], count: aggregates.count))
                }
            } else {
                let kv: [Value] = keys.map { k in
                    let v = ctx.field(k.field)
                    guard let size = k.bin else { return v }
                    return Eval.call(.bin, [v, .int(size)])
                }
                var h = Hasher(); h.combine(kv)
                let code = UInt64(bitPattern: Int64(h.finalize()))
                if let found = local[code], keyOf[found] == kv { g = found } else {
                    // On a hash collision fall back to a linear search of the block's groups.
                    if let idx = keyOf.firstIndex(of: kv) { g = idx } else {
                        g = keyOf.count
                        if local[code] == nil { local[code] = g }
                        keyOf.append(kv)
                        accs.append(Array(repeating: Accumulator(), count: aggregates.count))
                        dcCodes.append(Array(repeating: [], count: aggregates.count))
                    }
                }
            }
            for (a, agg) in aggregates.enumerated() {
                guard let col = argCols[a] else { accs[g][a].count += 1; continue } // count()
                switch agg.kind {
                case .count:
                    if !col.value(row).isNull { accs[g][a].count += 1 }
                case .dc:
                    if case .dict(let codes, _) = col {
                        if codes[row] != 0 { dcCodes[g][a].insert(codes[row]) }
                    } else {
                        accs[g][a].add(.dc, col.value(row))
                    }
                case .sum, .avg:
                    if case .ints(let v, let nulls, _) = col {
                        if nulls.isEmpty || !nulls[row] { accs[g][a].intSum &+= v[row]; accs[g][a].count += 1 }
                    } else {
                        accs[g][a].add(agg.kind, col.value(row))
                    }
                default:
                    accs[g][a].add(agg.kind, col.value(row))
                }
            }
        }
        for g in keyOf.indices {
            for (a, _) in aggregates.enumerated() where !dcCodes[g][a].isEmpty {
                if case .dict(_, let values)? = argCols[a] {
                    accs[g][a].distinct = (accs[g][a].distinct ?? []).union(dcCodes[g][a].map { values[Int($0)] })
                }
            }
            if var mine = table.groups[keyOf[g]] {
                for i in mine.indices { mine[i].merge(accs[g][i]) }
                table.groups[keyOf[g]] = mine
            } else {
                table.groups[keyOf[g]] = accs[g]
            }
        }
    }
}
