import SecModel
import SecStore

/// A column of one block, decoded, with dictionary codes resolved to values.
enum Decoded {
    case null
    case times([Int64])
    /// `values[0]` is null; `values[code]` the value of a row's code.
    case dict(codes: [UInt32], values: [Value])
    case ints([Int64], nulls: [Bool], asBool: Bool)
    case doubles([Double], nulls: [Bool])

    @inline(__always)
    func value(_ row: Int) -> Value {
        switch self {
        case .null: return .null
        case .times(let t): return .time(t[row])
        case .dict(let codes, let values): return values[Int(codes[row])]
        case .ints(let v, let nulls, let asBool):
            if !nulls.isEmpty && nulls[row] { return .null }
            return asBool ? .bool(v[row] != 0) : .int(v[row])
        case .doubles(let v, let nulls):
            if !nulls.isEmpty && nulls[row] { return .null }
            return .double(v[row])
        }
    }
}

/// The block being scanned, as a source of values for expressions.
final class BlockContext: ValueSource {
    let bank: String
    let account: String
    let source: Source
    let firstSeq: UInt64
    /// Rows in the block.
    let count: Int
    var columns: [Decoded?] = Array(repeating: nil, count: Field.allCases.count)
    /// For bank-dictionary columns: the dictionary id of each code (index 0: null, id 0).
    var globalIDs: [[UInt32]?] = Array(repeating: nil, count: Field.allCases.count)
    var raws: RawRecords?
    var row = 0

    let key: BlockKey

    init(bank: String, key: BlockKey, header: BlockHeader) {
        self.key = key
        self.bank = bank
        account = key.accountID
        source = header.source
        firstSeq = header.firstSeq
        count = header.count
    }

    func field(_ f: Field) -> Value {
        switch f {
        case .bank: return .string(bank)
        case .account: return .string(account)
        case .source: return .string(source.rawValue)
        case .seq: return .int(Int64(firstSeq) + Int64(row))
        default: return columns[Int(f.columnID)]?.value(row) ?? .null
        }
    }

    func raw(_ path: [BoundExpr.RawPathSegment]) -> Value {
        guard let raws else { return .null }
        return raws.withRecord(row) { RawJSON.value(in: $0, path: path) }
    }

    func slot(_ i: Int) -> Value { .null }

    /// Fields whose value is the same for every row of a block.
    static let blockConstant: Set<Field> = [.bank, .account, .source]
}

/// Evaluates an expression with one field bound to one value (dictionary evaluation).
struct OneField: ValueSource {
    let f: Field
    let v: Value
    func field(_ g: Field) -> Value { g == f ? v : .null }
    func raw(_ path: [BoundExpr.RawPathSegment]) -> Value { .null }
    func slot(_ i: Int) -> Value { .null }
}

extension ScanWorker {
    /// `field op n` (or `n op field`, turned around) for a whole number n.
    static func intComparison(_ e: BoundExpr) -> (Field, BoundExpr.CompareOp, Int64)? {
        guard case .compare(let op, let a, let b) = e, op != .ieq else { return nil }
        if case .field(let f) = a, case .constant(.int(let k)) = b { return (f, op, k) }
        if case .constant(.int(let k)) = a, case .field(let f) = b {
            let turned: BoundExpr.CompareOp
            switch op {
            case .lt: turned = .gt
            case .le: turned = .ge
            case .gt: turned = .lt
            case .ge: turned = .le
            default: turned = op
            }
            return (f, turned, k)
        }
        return nil
    }

    @inline(__always)
    static func holds(_ op: BoundExpr.CompareOp, _ x: Int64, _ k: Int64) -> Bool {
        switch op {
        case .eq, .ieq: return x == k
        case .ne: return x != k
        case .lt: return x < k
        case .le: return x <= k
        case .gt: return x > k
        case .ge: return x >= k
        }
    }

    /// Whether any value in [min, max] (a block's non-null values) can satisfy it; a
    /// null satisfies only `!=`, which is never ruled out here.
    static func mayMatch(_ op: BoundExpr.CompareOp, _ k: Int64, min: Int64, max: Int64) -> Bool {
        switch op {
        case .eq, .ieq: return min <= k && k <= max
        case .ne: return true
        case .lt: return min < k
        case .le: return min <= k
        case .gt: return max > k
        case .ge: return max >= k
        }
    }
}

/// Scans one unit's blocks: filters rows a block at a time, then either aggregates
/// them (a leading `stats`) or materialises the slots the later stages read.
struct ScanWorker {
    let plan: Plan
    let unit: Unit
    /// Groups a leading `stats` may hold; past it the scan throws ``GroupLimitExceeded``.
    var groupLimit = GroupTable.defaultLimit
    /// Shared by the query's pieces: the groups all their tables hold (nil: no budget).
    var budget: GroupBudget? = nil

    func run() throws -> ScanOutput {
        let q = plan.query
        var out = ScanOutput()
        let fast = FastStats(query: q)
        if fast != nil { out.groups = GroupTable() }
        // Streaming stages up to the first head run here, per unit.
        var prefix: [BoundStage] = []
        if fast == nil {
            for s in q.stages {
                guard s.isStreaming else { break }
                prefix.append(s)
                if case .head = s { break }
            }
        }
        out.stagesApplied = prefix.count
        out.passed = Array(repeating: 0, count: prefix.count)
        var limit = Int.max
        if case .head(let n)? = prefix.last { limit = n }
        let slotFields = q.slots.compactMap { s -> Field? in if case .field(let f)? = s { f } else { nil } }
        let slotsReadRaw = q.slots.contains { if case .raw? = $0 { true } else { false } }
        let filterFields = plan.filter.map(\.fields)
        let filterRaw = plan.filter.map(\.readsRaw)

        try unit.bank.read { snap in
            var dictValues: [UInt32: Value] = [:]
            /// Decodes a column into `ctx`. `rows`: the rows still selected (a column read
            /// from the raw records is only read for them; the others are never asked for).
            /// `resolve: false`: a bank-dictionary column's values are left unread (null),
            /// for a `stats` that groups by its dictionary ids alone.
            func decode(_ f: Field, _ header: BlockHeader, _ value: UnsafeRawBufferPointer, _ ctx: BlockContext, rows: [Int32],
                        resolve: Bool = true) throws {
                guard !BlockContext.blockConstant.contains(f), f != .seq, ctx.columns[Int(f.columnID)] == nil else { return }
                if f == .eventID, header.column(f) == nil, !BlockDraft.storesEventID(header.source) {
                    // Read from the raw records, for the selected rows: codes 1...n.
                    if ctx.raws == nil { ctx.raws = try snap.raw(ctx.key) }
                    guard let raws = ctx.raws else { ctx.columns[Int(f.columnID)] = .null; return }
                    let path = [BoundExpr.RawPathSegment(name: "eventID", index: nil)]
                    var codes = [UInt32](repeating: 0, count: header.count)
                    var values: [Value] = [.null]
                    values.reserveCapacity(rows.count + 1)
                    for r in rows where Int(r) < raws.count {
                        values.append(raws.withRecord(Int(r)) { RawJSON.value(in: $0, path: path) })
                        codes[Int(r)] = UInt32(values.count - 1)
                    }
                    ctx.columns[Int(f.columnID)] = .dict(codes: codes, values: values)
                    return
                }
                guard let info = header.column(f) else { ctx.columns[Int(f.columnID)] = .null; return }
                switch try BlockDecoder.column(info, count: header.count, in: value) {
                case .times(let t): ctx.columns[Int(f.columnID)] = .times(t)
                case .global(let codes, let table):
                    // Only the values the selected rows use (the others are never read:
                    // the selection only shrinks).
                    var used: [Bool] = []
                    if !resolve {
                        used = [Bool](repeating: false, count: table.count + 1)
                    } else if rows.count < table.count {
                        used = [Bool](repeating: false, count: table.count + 1)
                        for r in rows { used[Int(codes[Int(r)])] = true }
                    }
                    var values: [Value] = [.null]
                    values.reserveCapacity(table.count + 1)
                    for (i, id) in table.enumerated() {
                        if !used.isEmpty && !used[i + 1] { values.append(.null); continue }
                        if let v = dictValues[id] { values.append(v); continue }
                        let v = try snap.dictionaryValue(id)
                        dictValues[id] = v
                        values.append(v)
                    }
                    ctx.columns[Int(f.columnID)] = .dict(codes: codes, values: values)
                    ctx.globalIDs[Int(f.columnID)] = [0] + table
                case .local(let codes, let table):
                    ctx.columns[Int(f.columnID)] = .dict(codes: codes, values: [.null] + table.map(Value.string))
                case .ints(let v, let nulls): ctx.columns[Int(f.columnID)] = .ints(v, nulls: nulls, asBool: f.kind == .bool)
                case .doubles(let v, let nulls): ctx.columns[Int(f.columnID)] = .doubles(v, nulls: nulls)
                }
            }

            blockLoop: for key in unit.keys {
                if out.rows.count >= limit { break }
                let done: Bool = try snap.block(key) { value -> Bool in
                    let header = try BlockHeader(decoding: value)
                    if let from = q.from, header.tMax < from { return false }
                    if let to = q.to, header.tMin > to { return false }
                    out.stats.blocksInRange += 1
                    let ctx = BlockContext(bank: unit.bank.id, key: key, header: header)
                    var sel = [Int32](unsafeUninitializedCapacity: header.count) { b, n in
                        for i in 0..<header.count { b[i] = Int32(i) }
                        n = header.count
                    }
                    // Rows outside the time range, when the block straddles its edge.
                    if (q.from.map { header.tMin < $0 } ?? false) || (q.to.map { header.tMax > $0 } ?? false) {
                        try decode(.time, header, value, ctx, rows: sel)
                        if case .times(let t)? = ctx.columns[Int(Field.time.columnID)] {
                            let lo = q.from ?? .min, hi = q.to ?? .max
                            sel = sel.filter { t[Int($0)] >= lo && t[Int($0)] <= hi }
                        }
                    }
                    // Event-id look-ups name the exact rows (the index maps id -> seq).
                    if let seqs = unit.seqs {
                        let rows = seqs.filter { $0 >= header.firstSeq && $0 <= header.lastSeq }.map { Int32($0 - header.firstSeq) }.sorted()
                        let kept = Set(sel)
                        sel = rows.filter(kept.contains)
                    }
                    var readRows = false
                    for (ci, c) in plan.filter.enumerated() where !sel.isEmpty {
                        if unit.seqs != nil, Planner.isEventIDLookup(c) { continue }
                        let fields = filterFields[ci]
                        if !filterRaw[ci] && fields.isSubset(of: BlockContext.blockConstant) {
                            if !Eval.truth(Eval.evaluate(c, ctx)) { sel = [] }
                            continue
                        }
                        if !filterRaw[ci], fields.count == 1, let f = fields.first, f != .seq, header.column(f) == nil,
                           f != .eventID || BlockDraft.storesEventID(header.source) {
                            // The block has no such column: every row's value is null.
                            if !Eval.truth(Eval.evaluate(c, OneField(f: f, v: .null))) {
                                sel = []
                                out.stats.blocksSkippedByDictionary += readRows ? 0 : 1
                            }
                            continue
                        }
                        if !filterRaw[ci], fields.count == 1, let f = fields.first, let info = header.column(f),
                           info.encoding == .globalDict || info.encoding == .localDict {
                            // Evaluate once per distinct value of the block, then by code.
                            var tableValues: [Value]
                            if info.encoding == .globalDict {
                                let table = try BlockDecoder.globalTable(info, in: value)
                                if sel.count < table.count {
                                    // Fewer rows left than values: test the rows instead.
                                    try decode(f, header, value, ctx, rows: sel)
                                    readRows = true
                                    sel = sel.filter { ctx.row = Int($0); return Eval.truth(Eval.evaluate(c, ctx)) }
                                    continue
                                }
                                tableValues = [.null]
                                for id in table {
                                    if let v = dictValues[id] { tableValues.append(v); continue }
                                    let v = try snap.dictionaryValue(id)
                                    dictValues[id] = v
                                    tableValues.append(v)
                                }
                            } else {
                                try decode(f, header, value, ctx, rows: sel)
                                guard case .dict(_, let vs)? = ctx.columns[Int(f.columnID)] else { continue }
                                tableValues = vs
                            }
                            let mask = tableValues.map { Eval.truth(Eval.evaluate(c, OneField(f: f, v: $0))) }
                            if !mask.contains(true) {
                                sel = []
                                out.stats.blocksSkippedByDictionary += readRows ? 0 : 1
                                continue
                            }
                            if !mask.contains(false) { continue }
                            try decode(f, header, value, ctx, rows: sel)
                            guard case .dict(let codes, _)? = ctx.columns[Int(f.columnID)] else { continue }
                            readRows = true
                            sel = sel.filter { mask[Int(codes[Int($0)])] }
                            continue
                        }
                        if !filterRaw[ci], let (f, op, k) = ScanWorker.intComparison(c),
                           let info = header.column(f), info.encoding == .ints, f.kind == .int {
                            // A number column against a whole number: the block's range
                            // first, then a tight loop over the column.
                            if !ScanWorker.mayMatch(op, k, min: info.min, max: info.max) {
                                sel = []
                                out.stats.blocksSkippedByDictionary += readRows ? 0 : 1
                                continue
                            }
                            try decode(f, header, value, ctx, rows: sel)
                            if case .ints(let v, let nulls, _)? = ctx.columns[Int(f.columnID)] {
                                readRows = true
                                sel = sel.filter { r in
                                    let i = Int(r)
                                    if !nulls.isEmpty && nulls[i] { return op == .ne }
                                    return ScanWorker.holds(op, v[i], k)
                                }
                                continue
                            }
                        }
                        for f in fields { try decode(f, header, value, ctx, rows: sel) }
                        if filterRaw[ci], ctx.raws == nil { ctx.raws = try snap.raw(key) }
                        readRows = true
                        sel = sel.filter { ctx.row = Int($0); return Eval.truth(Eval.evaluate(c, ctx)) }
                    }
                    out.stats.blocksRead += 1
                    out.stats.rowsScanned += header.count
                    if sel.isEmpty { return false }
                    out.stats.rowsMatched += sel.count

                    if let fast {
                        // Keys that are all bank-dictionary columns here group by id: their
                        // values are read once per bank at the end, not per block.
                        let byID = fast.groupsByID(header)
                        for f in fast.fields {
                            try decode(f, header, value, ctx, rows: sel, resolve: !(byID && fast.isKeyOnly(f)))
                        }
                        let before = out.groups!.count
                        fast.aggregate(ctx, rows: sel, into: &out.groups!)
                        if out.groups!.count > groupLimit { throw GroupLimitExceeded(limit: groupLimit, stage: 0) }
                        if let budget, out.groups!.count > before, !budget.take(out.groups!.count - before) {
                            throw GroupLimitExceeded(limit: budget.limit, stage: 0, whileScanning: true)
                        }
                        return false
                    }
                    for f in slotFields { try decode(f, header, value, ctx, rows: sel) }
                    if slotsReadRaw, ctx.raws == nil { ctx.raws = try snap.raw(key) }
                    for r in sel {
                        ctx.row = Int(r)
                        var row = [Value](repeating: .null, count: q.slots.count)
                        for (i, s) in q.slots.enumerated() {
                            switch s {
                            case .field(let f)?: row[i] = ctx.field(f)
                            case .raw(let p, _)?: row[i] = ctx.raw(p)
                            case nil: break
                            }
                        }
                        out.fed += 1
                        if prefix.isEmpty {
                            out.rows.append(row)
                        } else if let kept = RowPipeline.streamOne(prefix, row: row, passed: &out.passed) {
                            out.rows.append(kept)
                        }
                        if out.rows.count >= limit { return true }
                    }
                    return false
                } ?? false
                if done { break blockLoop }
            }
            // Groups still keyed by dictionary ids are merged with the bank's other pieces,
            // then turned into values once per bank (Executor).
        }
        return out
    }
}
