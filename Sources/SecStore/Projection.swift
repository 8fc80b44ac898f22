import SecModel

/// A projection: a named, versioned fold over a bank's log into state of its own.
///
/// The state lives in LMDB databases of the bank's environment (`proj.<name>.<db>`),
/// and the projection's checkpoint (the last sequence number folded) in the bank's
/// `projections` database. `BankStore.catchUp` folds the log from checkpoint + 1 to the
/// head in batches, each batch and its new checkpoint in **one** write transaction, so
/// a crash never folds an event twice or skips one.
///
/// `fold` must be deterministic: a function of the state it reads through the writer
/// and of the events, whatever the batch boundaries, so that a rebuild gives the same
/// bytes as the state built a batch at a time. A write transaction may be run again
/// from the start (when the map grows), so `fold` must not keep anything between calls.
public protocol Projection: Sendable {
    /// The name: the databases' prefix, the checkpoint's key, what the CLI takes.
    static var name: String { get }
    /// Bumped when the state's layout or meaning changes; a stored state of another
    /// version is dropped and rebuilt from the log on the next catch-up.
    static var version: UInt32 { get }
    /// The databases the projection owns, by short name.
    static var databases: [String] { get }
    /// The event fields `fold` reads (the log reader decodes only these columns).
    static var fields: Set<Field> { get }
    /// Whether `fold` reads events' raw records.
    static var needsRaw: Bool { get }
    /// The sources whose events `fold` is given, nil for all (blocks of other sources
    /// are passed over without decoding; the checkpoint still moves past them).
    static var sources: Set<Source>? { get }

    /// Folds the next events of the log (increasing `seq`, none folded before) into the
    /// state.
    ///
    /// - Throws: anything; the batch's transaction is then aborted, leaving the state and
    ///   checkpoint as they were.
    func fold(_ events: [Event], into state: ProjectionWriter) throws
}

extension Projection {
    public static var needsRaw: Bool { false }
    public static var sources: Set<Source>? { nil }
}

/// The projections secq keeps up to date after each ingest.
public enum Projections {
    public static let builtIn: [any Projection] = [APIBaselines(), Baselines()]

    /// A built-in projection by name.
    public static func named(_ name: String) -> (any Projection)? {
        builtIn.first { type(of: $0).name == name }
    }
}

/// The state of one projection, lent to `fold` inside its write transaction. Like
/// `BankSnapshot`, valid only during that call.
public struct ProjectionWriter {
    let txn: TxnRef
    let dbs: [String: DB]
    /// The bank a subscriber may append to (nil for projections, which only fold).
    var bank: BankStore? = nil
    /// Set when something was appended, so followers are told after the commit.
    var appended: AppendFlag? = nil

    final class AppendFlag: @unchecked Sendable { var value = false }

    /// Appends events to the bank's log **in this transaction** (a subscriber writing
    /// its results back, e.g. findings as events): they commit together with the
    /// subscriber's state and checkpoint, or not at all. Only for `consume` and
    /// `writeSubscriber`.
    ///
    /// Append last: dictionary look-ups through a `BankSnapshot` fill the bank's shared
    /// cache, so a snapshot of this transaction must not resolve dictionary values after
    /// an append (the ids the append assigned are not committed yet).
    @discardableResult
    public func append(_ events: [Event]) throws -> BankStore.AppendResult {
        guard let bank, let appended else { preconditionFailure("append is only for subscribers in consume") }
        guard !events.isEmpty else { return BankStore.AppendResult() }
        let r = try bank.append(events, in: txn)
        if r.stored > 0 { appended.value = true }
        return r
    }

    /// One of the projection's databases, by the short name it declared.
    public func database(_ name: String) -> ProjectionDatabase {
        guard let db = dbs[name] else { preconditionFailure("projection database '\(name)' is not declared") }
        return ProjectionDatabase(txn: txn, db: db)
    }
}

/// One database of a projection inside a write transaction.
public struct ProjectionDatabase {
    let txn: TxnRef
    let db: DB

    /// The value at `key`, copied out; nil when absent.
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { k in try txn.get(db, k) { Array($0) } }
    }

    public func put(_ key: [UInt8], _ value: [UInt8]) throws {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try txn.put(db, k, v) } }
    }

    @discardableResult
    public func delete(_ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { k in try txn.delete(db, k) }
    }

    /// The entries whose keys start with `prefix`, in key order, copied out (an empty
    /// prefix gives every entry).
    public func entries(prefix: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])] {
        let c = try txn.cursor(db)
        var out: [(key: [UInt8], value: [UInt8])] = []
        var e = try prefix.isEmpty ? c.first() : prefix.withUnsafeBytes { try c.seek($0) }
        while let cur = e, cur.key.starts(with: prefix) {
            out.append((Array(cur.key), Array(cur.value)))
            e = try c.next()
        }
        return out
    }
}

/// Where a projection stands in one bank.
public struct ProjectionStatus: Sendable, Equatable {
    public var name: String
    /// The version this secq folds.
    public var version: UInt32
    /// The version of the stored state, nil when it was never built.
    public var storedVersion: UInt32?
    /// The last sequence number folded (0: none).
    public var checkpoint: UInt64
    /// The bank's last sequence number.
    public var head: UInt64
    /// Event time of the head minus event time at the checkpoint (the first event when
    /// nothing is folded), in milliseconds; 0 when caught up. Event times are not
    /// monotonic in arrival order, so this is never below 0.
    public var lagMillis: Int64
    /// Entries and bytes (LMDB pages) of the projection's databases.
    public var entries: Int
    public var bytes: Int

    public var lagEvents: UInt64 { head > checkpoint ? head - checkpoint : 0 }
    /// True when the stored state is of another version: the next catch-up rebuilds it.
    public var needsRebuild: Bool { storedVersion.map { $0 != version } ?? false }
}

/// Handles of projection databases, opened once per bank and process.
///
/// `@unchecked Sendable`: `dbs` is only touched under `lock`.
final class ProjectionDatabases: @unchecked Sendable {
    private let lock = PThreadCondition()
    private var dbs: [String: DB] = [:]

    /// Opens (creating when missing) the named databases. Never call inside a write
    /// transaction: creating a database takes one.
    func open(_ names: [String], in env: Environment) throws -> [String: DB] {
        lock.lock(); defer { lock.unlock() }
        var out: [String: DB] = [:]
        for n in names {
            if let db = dbs[n] { out[n] = db; continue }
            let db = try env.openDB(n)
            dbs[n] = db
            out[n] = db
        }
        return out
    }

    /// A database opened before, nil when it was not.
    func cached(_ name: String) -> DB? {
        lock.lock(); defer { lock.unlock() }
        return dbs[name]
    }
}

extension BankStore {
    /// The checkpoint database's name; one entry per projection: version (u32 LE) and
    /// checkpoint (u64 LE), keyed by the projection's name.
    static let checkpointDB = "projections"

    /// Events folded per write transaction by default.
    public static let projectionBatch = 50_000

    static func databaseName(_ p: any Projection, _ short: String) -> String { "proj.\(type(of: p).name).\(short)" }

    private func handles(_ p: any Projection) throws -> (checkpoints: DB, state: [String: DB]) {
        let names = type(of: p).databases
        let opened = try projectionDBs.open([BankStore.checkpointDB] + names.map { BankStore.databaseName(p, $0) }, in: env)
        var state: [String: DB] = [:]
        for n in names { state[n] = opened[BankStore.databaseName(p, n)]! }
        return (opened[BankStore.checkpointDB]!, state)
    }

    private static func readCheckpoint(_ txn: TxnRef, _ db: DB, _ name: String) throws -> (version: UInt32, seq: UInt64)? {
        try Array(name.utf8).withUnsafeBytes { k in
            try txn.get(db, k) { b -> (UInt32, UInt64) in
                var r = ByteReader(b)
                return (try r.u32(), try r.u64())
            }
        }
    }

    private static func writeCheckpoint(_ txn: TxnRef, _ db: DB, _ name: String, version: UInt32, seq: UInt64) throws {
        var w = ByteWriter()
        w.u32(version); w.u64(seq)
        try Array(name.utf8).withUnsafeBytes { k in try w.bytes.withUnsafeBytes { v in try txn.put(db, k, v) } }
    }

    /// Folds the log from the projection's checkpoint + 1 to the head, one write
    /// transaction per batch (state and checkpoint together). A stored state of another
    /// version is dropped first, so a version change rebuilds.
    ///
    /// Events appended while it runs are folded too (it stops when a batch reaches the
    /// head it read).
    ///
    /// - Parameters:
    ///   - batch: events per transaction.
    ///   - progress: called after each committed batch with the checkpoint and head.
    /// - Returns: the number of events folded.
    /// - Throws: what `fold` throws, `StoreError`, `LMDBError`; batches committed before
    ///   the error stay committed (with their checkpoint).
    @discardableResult
    public func catchUp(_ p: any Projection, batch: Int = BankStore.projectionBatch,
                        progress: ((_ checkpoint: UInt64, _ head: UInt64) -> Void)? = nil) throws -> Int {
        let P = type(of: p)
        let (checkpoints, state) = try handles(p)
        _ = try replayHandles()
        // Nothing to do is found in a read snapshot, without taking the writer's lock.
        let behind = try env.read { txn -> Bool in
            let ref = TxnRef(txn.txn)
            let head = try BankStore.readState({ db, k, f in try ref.get(db, k, f) }, meta).nextSeq - 1
            guard let cp = try BankStore.readCheckpoint(ref, checkpoints, P.name) else { return true }
            return cp.version != P.version || cp.seq < head
        }
        guard behind else { return 0 }
        var folded = 0
        while true {
            let (n, checkpoint, head) = try env.write { txn -> (Int, UInt64, UInt64) in
                let ref = TxnRef(txn.txn)
                var cp = try BankStore.readCheckpoint(ref, checkpoints, P.name)
                if let c = cp, c.version != P.version {
                    for db in state.values { try ref.empty(db) }
                    cp = nil
                }
                let reader = BankStore.projectionReader(P.name)
                if cp == nil { try forgetRead(reader, in: ref) }
                let from = (cp?.seq ?? 0) + 1
                let snap = BankSnapshot(bank: self, txn: txn.txn)
                let head = try snap.state().nextSeq - 1
                if from > head {
                    if cp == nil { try BankStore.writeCheckpoint(ref, checkpoints, P.name, version: P.version, seq: head) }
                    return (0, head, head)
                }
                var run = try snap.log(from: from, limit: batch, fields: P.fields, raw: P.needsRaw, sources: P.sources)
                if let first = run.events.first?.seq, let last = run.events.last?.seq {
                    let skip = try alreadyRead(reader, first, last, in: ref)
                    if !skip.isEmpty { run.events.removeAll { skip.contains($0.seq) } }
                }
                try p.fold(run.events, into: ProjectionWriter(txn: ref, dbs: state))
                let checkpoint = run.next - 1
                try BankStore.writeCheckpoint(ref, checkpoints, P.name, version: P.version, seq: checkpoint)
                return (run.events.count, checkpoint, head)
            }
            folded += n
            // Followers of a change feed wake as they do for appends.
            if n > 0 { notifyAppended() }
            progress?(checkpoint, head)
            if checkpoint >= head { return folded }
        }
    }

    /// Drops the projection's state and folds the whole log again.
    ///
    /// The drop and the checkpoint's reset commit together, then the log is folded in
    /// batches as `catchUp` does; an interrupted rebuild is therefore finished by the
    /// next catch-up.
    @discardableResult
    public func rebuild(_ p: any Projection, batch: Int = BankStore.projectionBatch,
                        progress: ((_ checkpoint: UInt64, _ head: UInt64) -> Void)? = nil) throws -> Int {
        let (checkpoints, state) = try handles(p)
        _ = try replayHandles()
        try env.write { txn in
            let ref = TxnRef(txn.txn)
            for db in state.values { try ref.empty(db) }
            try BankStore.writeCheckpoint(ref, checkpoints, type(of: p).name, version: type(of: p).version, seq: 0)
            try forgetRead(BankStore.projectionReader(type(of: p).name), in: ref)
        }
        return try catchUp(p, batch: batch, progress: progress)
    }

    /// Where the projection stands: checkpoint, head, lag and state size.
    public func status(_ p: any Projection) throws -> ProjectionStatus {
        let P = type(of: p)
        let (checkpoints, state) = try handles(p)
        return try read { snap in
            let ref = TxnRef(snap.txn)
            let cp = try BankStore.readCheckpoint(ref, checkpoints, P.name)
            let head = try snap.state().nextSeq - 1
            let checkpoint = cp?.seq ?? 0
            var lag: Int64 = 0
            if checkpoint < head, let t1 = try snap.time(ofSequence: head),
               let t0 = try snap.time(ofSequence: max(checkpoint, 1)) {
                lag = max(0, t1 - t0)
            }
            var entries = 0, bytes = 0
            for n in P.databases {
                let s = ref.statistics(state[n]!)
                entries += s.entries; bytes += s.bytes
            }
            return ProjectionStatus(name: P.name, version: P.version, storedVersion: cp?.version, checkpoint: checkpoint,
                                    head: head, lagMillis: lag, entries: entries, bytes: bytes)
        }
    }

    /// Every key and value of the projection's databases, in the order of `databases`
    /// and of the keys: what a rebuild must reproduce byte for byte.
    public func projectionEntries(_ p: any Projection) throws -> [String: [(key: [UInt8], value: [UInt8])]] {
        let (_, state) = try handles(p)
        return try read { snap in
            var out: [String: [(key: [UInt8], value: [UInt8])]] = [:]
            for (name, db) in state {
                let c = try Cursor(txn: snap.txn, db: db)
                var rows: [(key: [UInt8], value: [UInt8])] = []
                var e = try c.first()
                while let cur = e {
                    rows.append((Array(cur.key), Array(cur.value)))
                    e = try c.next()
                }
                out[name] = rows
            }
            return out
        }
    }
}
