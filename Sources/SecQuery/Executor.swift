import Dispatch
import Foundation
import SecEngine
import SecModel
import SecStore

/// The answer of a query.
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[Value]]
    /// Rows are whole events (every core field, in `Field` order first).
    public var outputsEvents: Bool
    public var stats: ExecutionStats
    /// How to draw a `timechart` that ends the query; nil for other queries.
    public var chart: ChartLayout? = nil
    /// Notes on the answer, e.g. which aggregates were estimated for some group.
    public var notes: [String] = []
    /// With a `sequence` stage: each row's events, their core fields in `Field` order.
    public var sequenceEvents: [[[Value]]]? = nil
}

/// What the executor did, for `secq explain --analyze` and benchmarks.
public struct ExecutionStats: Sendable, Equatable {
    public var banks = 0
    /// Blocks the key ranges or postings named.
    public var blocksConsidered = 0
    /// Blocks whose time range overlapped the query's.
    public var blocksInRange = 0
    /// Blocks whose rows (or dictionaries) were examined.
    public var blocksRead = 0
    /// Blocks left out because no dictionary value could match.
    public var blocksSkippedByDictionary = 0
    public var rowsScanned = 0
    public var rowsMatched = 0
    public var seconds: Double = 0
    /// Each stage as run: the scan (with a leading `stats` when it aggregated during the
    /// scan), the streaming stages applied while scanning, then each later stage.
    public var stages: [StageProfile] = []

    mutating func add(_ o: ExecutionStats) {
        blocksConsidered += o.blocksConsidered; blocksInRange += o.blocksInRange; blocksRead += o.blocksRead
        blocksSkippedByDictionary += o.blocksSkippedByDictionary; rowsScanned += o.rowsScanned; rowsMatched += o.rowsMatched
    }
}

/// Runs plans over the store, a block at a time, banks and block ranges in parallel.
public struct Executor: Sendable {
    public let store: Store
    /// Groups a `stats` may hold in memory before the query stops with an error: the
    /// merged answer, and each scan piece's own table, hold at most this many; all the
    /// pieces' tables together (a group seen by several pieces counts in each) at most
    /// twice as many. A few hundred bytes each: about 2-3 GB at the very most.
    public static let defaultGroupLimit = 5_000_000
    /// Groups a `stats` may hold in memory before the query stops.
    public var groupLimit: Int

    public init(store: Store, groupLimit: Int = Executor.defaultGroupLimit) {
        self.store = store
        self.groupLimit = groupLimit
    }

    /// Runs a plan.
    ///
    /// - Throws: `QueryError` (code `tooManyGroups`) when a `stats` holds more than
    ///   `groupLimit` groups, `StoreError` for the store.
    public func run(_ plan: Plan) throws -> QueryResult {
        do { return try execute(plan) } catch let e as GroupLimitExceeded {
            throw e.queryError(at: .point(0))
        }
    }

    /// Runs a plan, throwing ``GroupLimitExceeded`` with the stage that grew too large.
    func execute(_ plan: Plan) throws -> QueryResult {
        if plan.query.table != "events" { return try executeRows(plan) }
        let started = DispatchTime.now().uptimeNanoseconds
        let q = plan.query
        let org = try store.org()
        var units: [Unit] = []
        var stats = ExecutionStats()
        stats.banks = plan.banks.count
        for bankID in plan.banks {
            let bank = try store.bank(bankID)
            let bankAccounts = org.banks.first { $0.id == bankID }?.accounts.map(\.id) ?? []
            let accounts = plan.accounts.map { a in bankAccounts.filter { a.contains($0) } }
            let (keys, seqs) = try bank.read { snap in try Executor.candidates(plan, accounts: accounts, snap) }
            stats.blocksConsidered += keys.count
            // Split a bank's blocks so both cores work on a one-bank query too.
            let pieces = max(1, min(keys.count / 4, 8))
            let per = (keys.count + pieces - 1) / max(pieces, 1)
            var start = 0
            repeat {
                let end = min(start + max(per, 1), keys.count)
                units.append(Unit(bank: bank, keys: Array(keys[start..<end]), seqs: seqs))
                start = end
            } while start < keys.count
        }
        let limit = groupLimit
        // A sequence's events carry every field (CloudTrail's event id from the raw
        // record): the scan reads what the matching needs, and the matched events are
        // read whole afterwards.
        let deferred = Executor.deferredSlots(q)
        var scanning = plan
        for i in deferred { scanning.query.slots[i] = nil }
        let scanPlan = scanning
        let budget = GroupBudget(limit: 2 * limit)
        let partials = BankStore.parallelMap(units) { unit in
            Result { try ScanWorker(plan: scanPlan, unit: unit, groupLimit: limit, budget: budget).run() }
        }
        var outputs: [ScanOutput] = []
        for p in partials { outputs.append(try p.get()) }
        for o in outputs { stats.add(o.stats) }
        var scan = StageProfile(name: "scan" + (plan.filter.isEmpty ? "" : " where " + plan.filter.map(\.description).joined(separator: " and ")),
                                rowsIn: stats.rowsScanned, rowsOut: stats.rowsMatched, seconds: 0)
        let rowsRead = stats.blocksRead - stats.blocksSkippedByDictionary
        scan.blocks = (stats.blocksConsidered, rowsRead, stats.blocksConsidered - rowsRead)
        var profile = [scan]

        // Merge the units, then run the rest of the pipeline on rows.
        var rows: [[Value]]
        var notes: [String] = []
        var remaining = q.stages
        if outputs.first?.groups != nil, case .stats(let keys, let aggs) = q.stages.first {
            // A bank's pieces merge by dictionary id, then turn into values once; then
            // the banks merge by value (one bank's groups need no merge).
            var perBank: [[([Value], [Accumulator])]] = []
            var start = 0
            while start < outputs.count {
                var end = start + 1
                while end < units.count, units[end].bank === units[start].bank { end += 1 }
                var bankTable = GroupTable()
                for o in outputs[start..<end] {
                    if let g = o.groups { bankTable.mergeSameBank(g) }
                    if bankTable.count > groupLimit { throw GroupLimitExceeded(limit: groupLimit, stage: 0) }
                }
                let bank = units[start].bank
                let pairs = try bank.read { snap in try bankTable.resolvedGroups(aggregates: aggs.count) { try snap.dictionaryValue($0) } }
                if !pairs.isEmpty { perBank.append(pairs) }
                start = end
            }
            var merged = GroupTable()  // banks' groups by value, when there are several
            if perBank.count > 1 {
                for pairs in perBank {
                    for (k, accs) in pairs { merged.add(k, accs) }
                    if merged.count > groupLimit { throw GroupLimitExceeded(limit: groupLimit, stage: 0) }
                }
            }
            let pairs = perBank.count == 1 ? perBank[0] : Array(merged.groups)
            let sortNext: Bool
            if case .sort? = remaining.dropFirst().first { sortNext = true } else { sortNext = false }
            remaining.removeFirst()
            if pairs.isEmpty && keys.isEmpty {
                rows = [aggs.map { Accumulator().result($0) }]
            } else if sortNext, case .sort(let order)? = remaining.first {
                // Sorted once, by the sort's keys then the group keys: the order a stable
                // sort of key-ordered groups gives.
                rows = GroupTable.rows(pairs, keys: keys.count, aggregates: aggs, sorted: false)
                remaining[0] = .sort(order + keys.indices.map { BoundStage.SortKey(expr: .slot($0, keys[$0].name), descending: false) })
            } else {
                rows = GroupTable.rows(pairs, keys: keys.count, aggregates: aggs, sorted: true)
            }
            notes += GroupTable.notes(pairs.lazy.map(\.1), aggregates: aggs)
            profile.append(StageProfile(name: q.stages[0].description + " (during the scan)", rowsIn: stats.rowsMatched,
                                        rowsOut: rows.count, seconds: 0))
        } else {
            rows = outputs.flatMap(\.rows)
            let applied = outputs.first?.stagesApplied ?? 0
            if case .head(let n)? = q.stages.prefix(applied).last { rows = Array(rows.prefix(n)) }
            // The streaming stages the scan applied, with the rows each let through.
            var into = outputs.reduce(0) { $0 + $1.fed }
            for (i, s) in q.stages.prefix(applied).enumerated() {
                var out = outputs.reduce(0) { $0 + ($1.passed.count > i ? $1.passed[i] : 0) }
                if i == applied - 1 { out = rows.count }
                profile.append(StageProfile(name: s.description + " (during the scan)", rowsIn: into, rowsOut: out, seconds: 0))
                into = out
            }
            remaining.removeFirst(applied)
        }
        if outputs.isEmpty {
            // No block to read: run the pipeline on no rows (stats of nothing still answers).
            rows = []
            remaining = q.stages
            profile = [scan]
        }
        profile[0].seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        var context = RowPipeline.Context(groupLimit: groupLimit, stageOffset: q.stages.count - remaining.count)
        var columns = q.columns
        var chart: ChartLayout? = nil
        var sequenceEvents: [[[Value]]]? = nil
        if case .timechart(let t)? = remaining.last {
            // The last stage is a chart: its columns are the series the rows hold.
            rows = try RowPipeline.run(Array(remaining.dropLast()), rows: rows, width: q.slots.count, notes: &notes, context: &context)
            let t0 = DispatchTime.now().uptimeNanoseconds, rowsIn = rows.count
            (columns, rows) = try t.pivot(rows)
            chart = ChartLayout(bars: t.bars(columns), series: t.split)
            context.profile.append(StageProfile(name: t.description, rowsIn: rowsIn, rowsOut: rows.count,
                                                seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
        } else if case .sequence(let m)? = remaining.last {
            rows = try RowPipeline.run(Array(remaining.dropLast()), rows: rows, width: q.slots.count, notes: &notes, context: &context)
            let t0 = DispatchTime.now().uptimeNanoseconds, rowsIn = rows.count
            (rows, sequenceEvents) = try m.run(rows)
            if !deferred.isEmpty, var events = sequenceEvents {
                try readWhole(&events, plan: plan)
                sequenceEvents = events
            }
            context.profile.append(StageProfile(name: m.description, rowsIn: rowsIn, rowsOut: rows.count,
                                                seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
        } else {
            rows = try RowPipeline.run(remaining, rows: rows, width: q.slots.count, notes: &notes, context: &context)
        }
        stats.stages = profile + context.profile
        stats.rowsMatched = outputs.reduce(0) { $0 + $1.stats.rowsMatched }
        stats.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        var result = QueryResult(columns: columns, rows: rows, outputsEvents: q.outputsEvents, stats: stats, chart: chart,
                                 notes: notes)
        result.sequenceEvents = sequenceEvents
        return result
    }

    /// A query over a table of rows (`baselines`): each bank's rows, then the stages.
    func executeRows(_ plan: Plan) throws -> QueryResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let q = plan.query
        let banks = try plan.banks.map { try store.bank($0) }
        let perBank = BankStore.parallelMap(banks) { bank in Result { try Executor.tableRows(q.table, bank) } }
        var rows: [[Value]] = []
        for r in perBank { rows += try r.get() }
        var stats = ExecutionStats()
        stats.banks = banks.count
        stats.rowsScanned = rows.count
        stats.rowsMatched = rows.count
        var notes: [String] = []
        var context = RowPipeline.Context(groupLimit: groupLimit, stageOffset: 0)
        let read = StageProfile(name: "read \(q.table)", rowsIn: rows.count, rowsOut: rows.count,
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        rows = try RowPipeline.run(q.stages, rows: rows, width: q.columns.count, notes: &notes, context: &context)
        stats.stages = [read] + context.profile
        stats.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return QueryResult(columns: q.columns, rows: rows, outputsEvents: false, stats: stats, chart: nil, notes: notes)
    }

    /// The rows of a table in one bank, in ``Binder/rowTables`` column order.
    static func tableRows(_ table: String, _ bank: BankStore) throws -> [[Value]] {
        switch table {
        case "baselines":
            return try bank.baselineRows().map { r in
                let entity = Value.string(r.entity)
                return [.string(bank.id), .string(r.account), r.region.isEmpty ? .null : .string(r.region),
                        .string(r.entityType), entity,
                        r.entityType == "principal" ? entity : .null, r.entityType == "interface" ? entity : .null,
                        r.entityType == "instance" ? entity : .null, r.entityType == "db" ? entity : .null,
                        .string(r.kind), .string(r.key), .time(r.firstSeen), .time(r.lastSeen), .int(Int64(r.count)),
                        r.bytes.map { .int(Int64(bitPattern: $0)) } ?? .null]
            }
        case "findings":
            return try bank.findings().map(FindingRows.row)
        case "compliance":
            return try ComplianceRows.rows(bank)
        default:
            return []
        }
    }

    /// The slots of a query that is a scan then a `sequence` that the matching does not
    /// read (its keys, steps and `until`, and the time, bank and sequence number that
    /// order events): the scan may leave them null until the sequences are known.
    static func deferredSlots(_ q: BoundQuery) -> [Int] {
        guard q.stages.count == 1, case .sequence(let m) = q.stages[0] else { return [] }
        var needed: Set<Int> = [SequenceMatcher.timeSlot, SequenceMatcher.bankSlot, SequenceMatcher.seqSlot]
        for e in m.keys.map(\.expr) + m.steps + (m.until.map { [$0] } ?? []) {
            e.visit { if case .slot(let j, _) = $0 { needed.insert(j) } }
        }
        return q.slots.indices.filter { q.slots[$0] != nil && !needed.contains($0) }
    }

    /// Replaces each sequence event (read with the deferred slots null) by the whole
    /// event: the blocks holding them are read again, for those rows only.
    func readWhole(_ events: inout [[[Value]]], plan: Plan) throws {
        var wanted: [String: [(x: Int, y: Int, seq: UInt64)]] = [:]
        for (x, seqEvents) in events.enumerated() {
            for (y, row) in seqEvents.enumerated() {
                guard case .string(let bank) = row[SequenceMatcher.bankSlot], case .int(let n) = row[SequenceMatcher.seqSlot] else { continue }
                wanted[bank, default: []].append((x, y, UInt64(n)))
            }
        }
        var whole = plan
        whole.filter = []
        whole.query.stages = []
        whole.query.from = nil
        whole.query.to = nil
        for (bankID, list) in wanted {
            let bank = try store.bank(bankID)
            let seqs = Set(list.map(\.seq))
            let keys = try bank.read { snap in try Set(seqs.compactMap { try snap.blockKey(containing: $0) }) }.sorted()
            let out = try ScanWorker(plan: whole, unit: Unit(bank: bank, keys: keys, seqs: seqs)).run()
            var bySeq: [Int64: [Value]] = [:]
            for row in out.rows { if case .int(let n) = row[SequenceMatcher.seqSlot] { bySeq[n] = row } }
            for (x, y, n) in list { if let row = bySeq[Int64(n)] { events[x][y] = row } }
        }
    }

    /// The blocks a bank may hold matches in, in key order, and the sequence numbers
    /// event-id look-ups found.
    static func candidates(_ plan: Plan, accounts: [String]?, _ snap: BankSnapshot) throws -> ([BlockKey], Set<UInt64>?) {
        let q = plan.query
        let accountNumbers = accounts.map { $0.compactMap(BlockKey.accountNumber) }
        if let accountNumbers, accountNumbers.isEmpty { return ([], nil) }
        if plan.lookups.isEmpty {
            var keys: [BlockKey] = []
            try snap.blocks(accounts: accountNumbers, from: q.from, to: q.to) { k, _ in keys.append(k); return true }
            return (keys, nil)
        }
        var result: Set<BlockKey>? = nil
        var seqs: Set<UInt64>? = nil
        for l in plan.lookups {
            var set = Set<BlockKey>()
            var found = Set<UInt64>()
            for v in l.values {
                if l.field == .eventID {
                    if case .string(let id) = v, let s = try snap.sequence(ofCloudTrailEventID: id), let k = try snap.blockKey(containing: s) {
                        set.insert(k)
                        found.insert(s)
                    }
                } else if let id = try snap.dictionaryID(v) {
                    set.formUnion(try snap.postings(l.field, id: id))
                }
            }
            // Several event-id conditions must all hold: intersect what each found.
            if l.field == .eventID { seqs = seqs.map { $0.intersection(found) } ?? found }
            result = result.map { $0.intersection(set) } ?? set
            if result?.isEmpty == true { return ([], seqs) }
        }
        var keys = Array(result ?? [])
        if let accountNumbers {
            let allowed = Set(accountNumbers)
            keys = keys.filter { allowed.contains($0.account) }
        }
        if let to = q.to { keys = keys.filter { $0.tMin <= to } }
        return (keys.sorted(), seqs)
    }
}

/// A bank and a run of its blocks, scanned by one worker.
struct Unit: @unchecked Sendable {
    // `BankStore` is Sendable; the keys are values.
    let bank: BankStore
    let keys: [BlockKey]
    /// The sequence numbers event-id look-ups found (nil when the plan has none).
    var seqs: Set<UInt64>? = nil
}

/// What one unit produced.
struct ScanOutput: Sendable {
    var rows: [[Value]] = []
    /// Leading stages already applied to `rows` (streaming ones, per unit).
    var stagesApplied = 0
    /// Groups of a leading `stats`, when the fast path ran.
    var groups: GroupTable?
    var stats = ExecutionStats()
    /// Rows materialised for the streaming stages (fewer than matched when `head` stopped early).
    var fed = 0
    /// Rows each applied stage let through.
    var passed: [Int] = []
}

extension QueryError.Code {
    /// A `stats` would hold more groups in memory than the executor allows.
    public static let tooManyGroups = QueryError.Code("tooManyGroups")
}

extension GroupLimitExceeded {
    func queryError(at range: SourceRange) -> QueryError {
        QueryError(.tooManyGroups, whileScanning
                   ? "more than \(limit) groups held by the scan's pieces together: the stats would not fit in memory"
                   : "more than \(limit) groups: the stats would not fit in memory",
                   at: range, help: "group by fewer or narrower fields ('by'), or narrow the time range ('since', 'between')")
    }
}

/// The groups every scan piece's table holds, together, against one limit.
final class GroupBudget: @unchecked Sendable {
    private let lock = NSLock()
    private var used = 0
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Counts `n` more groups; false once the total passes the limit.
    func take(_ n: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        used += n
        return used <= limit
    }
}
