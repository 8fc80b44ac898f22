import SecModel

/// Point reads of the `baselines` projection inside another write transaction of the
/// bank (a subscriber's `consume`), for detectors that ask "has this entity seen this
/// item before": the answers and the subscriber's own writes then come from, and commit
/// with, one transaction.
///
/// Opened with ``BankStore/baselineLookup(_:through:)``, which first folds the log into
/// the projection up to the given sequence number when the projection is behind it (in
/// the same transaction, so the fold commits with the caller's checkpoint or not at
/// all). Like ``BankSnapshot``, a lookup is valid only during the transaction's body.
public struct BaselineLookup {
    let txn: TxnRef
    let items: DB
    let entities: DB

    /// One stored item: first and last seen (event times, ms), count and byte sum.
    public struct Seen: Sendable, Equatable {
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var count: UInt64
        public var sum: UInt64
    }

    /// The item `key` of `kind` kept for `entity`; nil when the projection never kept it
    /// (never seen, or over the kind's cap).
    public func item(_ entity: EntityRef, _ kind: Baselines.ItemKind, _ key: String) throws -> Seen? {
        guard var k = entity.key else { return nil }
        k.append(kind.rawValue)
        APIBaselines.put(key, into: &k)
        return try k.withUnsafeBytes { kb in
            try txn.get(items, kb) { v -> Seen in
                var r = ByteReader(v)
                return Seen(firstSeen: try r.i64(), lastSeen: try r.i64(), count: try r.u64(), sum: try r.u64())
            }
        }
    }

    /// The stored profile of `entity`, nil when the baselines never saw it.
    public func profile(_ entity: EntityRef) throws -> Baselines.EntityProfile? {
        guard let k = entity.key else { return nil }
        return try k.withUnsafeBytes { kb in try txn.get(entities, kb) { Array($0) } }.map(Baselines.EntityProfile.decode)
    }
}

/// The databases a ``BaselineLookup`` reads, opened outside any write transaction
/// (opening a database takes one).
public struct BaselineHandles: Sendable {
    let checkpoints: DB
    let state: [String: DB]
}

extension BankStore {
    /// Opens the baselines' databases (creating them when missing). Call before the
    /// write transaction the lookup will be used in.
    public func baselineHandles() throws -> BaselineHandles {
        let names = Baselines.databases.map { BankStore.databaseName(Baselines(), $0) }
        let opened = try projectionDBs.open([BankStore.checkpointDB] + names, in: env)
        var state: [String: DB] = [:]
        for n in Baselines.databases { state[n] = opened[BankStore.databaseName(Baselines(), n)]! }
        return BaselineHandles(checkpoints: opened[BankStore.checkpointDB]!, state: state)
    }

    /// A lookup of the baselines inside the write transaction of `writer` (a `consume`
    /// body's), the projection folded at least through sequence number `seq`.
    ///
    /// When the projection's checkpoint is below `seq` (events appended after its last
    /// catch-up), the events up to `seq` are folded here and the checkpoint moved, in the
    /// caller's transaction. A projection of another version, or never built, is not
    /// rebuilt here (that can take the whole log): run ``catchUp(_:batch:progress:)``
    /// before the transaction.
    ///
    /// - Throws: `StoreError(.invalidArgument)` when the projection was never built or
    ///   has another version; what the fold throws.
    public func baselineLookup(_ h: BaselineHandles, writer: ProjectionWriter, through seq: UInt64) throws -> BaselineLookup {
        let txn = writer.txn
        let key = Array(Baselines.name.utf8)
        let cp = try key.withUnsafeBytes { k in
            try txn.get(h.checkpoints, k) { b -> (UInt32, UInt64) in
                var r = ByteReader(b)
                return (try r.u32(), try r.u64())
            }
        }
        guard let (version, checkpoint) = cp, version == Baselines.version else {
            throw StoreError(.projectionNotBuilt, "bank '\(id)': the baselines projection is not built at version \(Baselines.version); catch it up first")
        }
        if checkpoint < seq {
            let snap = BankSnapshot(bank: self, txn: txn.txn)
            let run = try snap.log(from: checkpoint + 1, limit: Int(seq - checkpoint), fields: Baselines.fields,
                                   raw: Baselines.needsRaw, sources: Baselines.sources)
            try Baselines().fold(run.events, into: ProjectionWriter(txn: txn, dbs: h.state))
            var w = ByteWriter()
            w.u32(Baselines.version); w.u64(run.next - 1)
            try key.withUnsafeBytes { k in try w.bytes.withUnsafeBytes { v in try txn.put(h.checkpoints, k, v) } }
        }
        return BaselineLookup(txn: txn, items: h.state["items"]!, entities: h.state["entities"]!)
    }
}

extension StoreError.Code {
    /// A projection a reader needs is missing or of another version.
    public static let projectionNotBuilt = StoreError.Code(rawValue: "projection-not-built")
}
