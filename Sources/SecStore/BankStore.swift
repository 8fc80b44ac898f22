import Dispatch
import SecModel

/// One bank's partition: its own LMDB environment, writer, sequence, dictionaries,
/// postings and integrity chain.
///
/// `@unchecked Sendable`: the LMDB handles are thread-safe as described on
/// `Environment`; the dictionary cache is guarded by `cacheLock` and only ever holds
/// committed entries (ids never change once committed).
public final class BankStore: @unchecked Sendable {
    public let id: String
    let env: Environment
    let blocks, raw, seq, dict, dictr, post, ids, fileRanges, chain, meta: DB
    /// The databases of projections, opened on first use (see `Projection`).
    let projectionDBs = ProjectionDatabases()

    private let cacheLock = PThreadCondition()
    private var idsByEntry = EntryMap()
    private var entriesByID: [UInt32: DictEntry] = [:]
    /// The dictionary cache is emptied when it holds this many entries (flow logs name
    /// millions of addresses; the cache must not grow with them).
    static let dictionaryCacheLimit = 1 << 20

    /// Events a block holds at most.
    public var blockRows = 8192
    /// zstd level of the raw section.
    public var rawLevel: Int32 = 1

    init(id: String, env: Environment) throws {
        self.id = id
        self.env = env
        blocks = try env.openDB("blocks")
        raw = try env.openDB("raw")
        seq = try env.openDB("seq")
        dict = try env.openDB("dict")
        dictr = try env.openDB("dictr")
        post = try env.openDB("postings")
        ids = try env.openDB("ids")
        fileRanges = try env.openDB("fileranges")
        chain = try env.openDB("chain")
        meta = try env.openDB("meta")
        // Opened with the bank so that snapshots can read the baselines' feed and profiles
        // (a store that cannot create them, read-only, reads an empty feed).
        _ = try? projectionDBs.open(Baselines.databases.map { BankStore.databaseName(Baselines(), $0) }, in: env)
        // Readers look these up on every batch (see Replay.swift).
        _ = try? projectionDBs.open([BankStore.originsDB, BankStore.seenDB], in: env)
    }

    // MARK: - State

    /// Counters and the chain head, stored as one value in `meta`.
    public struct State: Sendable, Equatable {
        public var nextSeq: UInt64 = 1
        public var nextBlock: UInt64 = 1
        public var nextDict: UInt32 = 1
        public var chainHead = [UInt8](repeating: 0, count: 32)
        /// The longest time span of any block, so a time range scan can start early enough.
        public var maxSpan: Int64 = 0
        public var events: UInt64 = 0
        public var blocks: UInt64 = 0
        public var rawBytes: UInt64 = 0
        public var tMin: Int64 = .max
        public var tMax: Int64 = .min

        static let key: [UInt8] = Array("state".utf8)

        var encoded: [UInt8] {
            var w = ByteWriter()
            w.u64(nextSeq); w.u64(nextBlock); w.u32(nextDict); w.append(chainHead)
            w.i64(maxSpan); w.u64(events); w.u64(blocks); w.u64(rawBytes); w.i64(tMin); w.i64(tMax)
            return w.bytes
        }

        init() {}

        init(decoding b: UnsafeRawBufferPointer) throws {
            var r = ByteReader(b)
            nextSeq = try r.u64(); nextBlock = try r.u64(); nextDict = try r.u32()
            chainHead = Array(try r.bytes(32))
            maxSpan = try r.i64(); events = try r.u64(); blocks = try r.u64(); rawBytes = try r.u64()
            tMin = try r.i64(); tMax = try r.i64()
        }
    }

    static func readState(_ get: (DB, UnsafeRawBufferPointer, (UnsafeRawBufferPointer) throws -> State) throws -> State?, _ meta: DB) throws -> State {
        try State.key.withUnsafeBytes { k in try get(meta, k) { try State(decoding: $0) } } ?? State()
    }

    // MARK: - Append

    /// What one append stored.
    public struct AppendResult: Sendable, Equatable {
        public var stored = 0
        public var duplicates = 0
        public var blocks = 0
        public var firstSeq: UInt64 = 0
        public var lastSeq: UInt64 = 0
    }

    /// The idempotency key of an event: the day of its time, then a CloudTrail eventID
    /// that is a UUID as its 16 bytes, otherwise the first 16 bytes of SHA-256 over
    /// source and id or raw record.
    ///
    /// The day comes first so an ingest touches only the index pages of the days it
    /// writes: with random ids alone, every batch rewrote pages all over the index,
    /// and the copies LMDB keeps of rewritten pages grew the file by the index's size.
    /// A duplicate has the same time as its original, so it lands on the same day.
    static func idempotencyKey(_ e: Event) -> IDKey {
        let day = IDKey.day(e.time)
        if e.source == .cloudtrail, let id = e.eventID, let u = uuidKey(id) { return IDKey(day: day, hi: u.hi, lo: u.lo) }
        return hashedKey(e.source, e.eventID, e.raw, day: day)
    }

    static func hashedKey(_ source: Source, _ eventID: String?, _ raw: [UInt8], day: UInt16) -> IDKey {
        var prefix: [UInt8] = [source.code]
        if let id = eventID, source == .cloudtrail { prefix += Array(id.utf8) } else { prefix += raw }
        let h = IDKey(bytes: SHA256Digest.hash(prefix))
        return IDKey(day: day, hi: h.hi, lo: h.lo)
    }

    /// A lowercase canonical UUID as 16 bytes; nil for anything else (upper case is
    /// hashed instead, so the exact text stays distinct).
    static func uuidKey(_ s: String) -> IDKey? {
        var s = s
        return s.withUTF8 { u -> IDKey? in
            guard u.count == 36 else { return nil }
            var hi: UInt64 = 0, lo: UInt64 = 0, n = 0
            for (i, c) in u.enumerated() {
                if i == 8 || i == 13 || i == 18 || i == 23 { guard c == 45 else { return nil }; continue }
                let v: UInt64
                switch c {
                case 48...57: v = UInt64(c - 48)
                case 97...102: v = UInt64(c - 87)
                default: return nil
                }
                if n < 16 { hi = hi << 4 | v } else { lo = lo << 4 | v }
                n += 1
            }
            return IDKey(day: 0, hi: hi, lo: lo)
        }
    }

    /// Appends events in one write transaction: drops those already stored (idempotency
    /// index) or repeated in the batch, groups the rest by account and source into
    /// time-sorted blocks, assigns sequence numbers and chains the blocks.
    ///
    /// - Throws: `StoreError` or `LMDBError`; on error nothing of the batch is stored.
    public func append(_ events: [Event]) throws -> AppendResult {
        try append(parts: [events])
    }

    /// Like `append(_:)` for a batch that arrives in parts (one per input piece), which
    /// are never copied into one array.
    public func append(parts events: [[Event]], origins: [PartOrigin?] = []) throws -> AppendResult {
        try commit(prepare(parts: events, origins: origins))
    }

    /// Where a part of a batch came from, for records whose identity is their place in
    /// a file (text log lines without an id of their own).
    ///
    /// Instead of one idempotency entry per event, the bank remembers which byte ranges
    /// of each file (by digest) it has committed, in the same transaction as the
    /// events; an event whose offset falls in a committed range of its file is a
    /// duplicate. A file re-read after an interrupted ingest therefore stores only what
    /// was not committed, at the cost of a few bytes per file instead of per event.
    public struct PartOrigin: Sendable {
        /// The file's content digest (SHA-256 of its bytes as read).
        public var file: [UInt8]
        /// The bytes of the decompressed file this part covers, all of its records
        /// included (also those refused or sent to other banks).
        public var range: Range<Int64>
        /// The offset of each event's record, parallel to the part's events.
        public var offsets: [Int64]

        public init(file: [UInt8], range: Range<Int64>, offsets: [Int64]) {
            self.file = file; self.range = range; self.offsets = offsets
        }
    }

    /// A batch encoded and compressed, ready to commit.
    public struct PreparedBatch: Sendable {
        let events: [[Event]]
        let origins: [PartOrigin?]
        let drafts: [BlockDraft]
        /// Per draft, its rows (`part << 32 | index`) and their idempotency keys (nil for
        /// rows of a part with an origin), in row order.
        let rows: [[UInt64]]
        let keys: [[IDKey?]]
        let duplicates: Int
        /// Whether some event carries an old sequence number (`Event.originSeq`).
        let hasOrigins: Bool
        public var count: Int { drafts.reduce(0) { $0 + $1.count } }
    }

    /// The expensive half of an append, outside any write transaction so it can run on
    /// any thread while another batch commits: drops events already stored (as of a
    /// read snapshot) or repeated in the batch, groups the rest by account and source
    /// into time-sorted blocks and encodes and compresses them (in parallel).
    ///
    /// - Parameter origins: per part, where it came from when its events are identified
    ///   by their place in a file (see ``PartOrigin``); empty or nil entries for parts
    ///   identified by idempotency keys.
    public func prepare(parts events: [[Event]], origins: [PartOrigin?] = []) throws -> PreparedBatch {
        try prepare(parts: events, origins: origins, within: nil)
    }

    /// `prepare` looking up what is stored in `within` (a write transaction the batch
    /// will commit in) instead of a read snapshot of its own.
    func prepare(parts events: [[Event]], origins: [PartOrigin?], within: TxnRef?) throws -> PreparedBatch {
        let origins = origins.isEmpty ? [PartOrigin?](repeating: nil, count: events.count) : origins
        precondition(origins.count == events.count, "one origin (or nil) per part")
        var keys: [IDKey?] = []
        var rowIDs: [UInt64] = []
        var hasOrigins = false
        for (p, part) in events.enumerated() {
            let positional = origins[p] != nil
            for i in part.indices {
                keys.append(positional ? nil : BankStore.idempotencyKey(part[i]))
                rowIDs.append(UInt64(p) << 32 | UInt64(i))
                if part[i].originSeq != 0 { hasOrigins = true }
            }
        }
        @inline(__always) func ev(_ k: Int) -> (Int, Int) { (Int(rowIDs[k] >> 32), Int(rowIDs[k] & 0xffff_ffff)) }
        var duplicates = 0
        var keep: [Int] = []
        keep.reserveCapacity(keys.count)
        func dropStored(_ txn: TxnRef) throws {
            var seen = Set<IDKey>()
            seen.reserveCapacity(keys.count)
            var ranges: [[UInt8]: RangeSet] = [:]
            var k = 0
            for (p, part) in events.enumerated() {
                if let origin = origins[p] {
                    var known = try ranges[origin.file] ?? RangeSet(txn: { db, key, f in try txn.get(db, key, f) }, fileRanges, origin.file)
                    for i in part.indices {
                        if known.contains(origin.offsets[i]) { duplicates += 1 } else { keep.append(k + i) }
                    }
                    known.insert(origin.range)
                    ranges[origin.file] = known
                    k += part.count
                    continue
                }
                for _ in part.indices {
                    let key = keys[k]!
                    let stored = try key.withBytes { kb in try txn.get(ids, kb) { _ in true } } ?? false
                    if stored || !seen.insert(key).inserted { duplicates += 1 } else { keep.append(k) }
                    k += 1
                }
            }
            var checked = ""
            for k in keep {
                let (p, i) = ev(k)
                if events[p][i].account == checked { continue }
                guard BlockKey.accountNumber(events[p][i].account) != nil else {
                    throw StoreError(.corrupt, "event account '\(events[p][i].account)' is not 12 digits")
                }
                checked = events[p][i].account
            }
        }
        if let within { try dropStored(within) } else { try env.read { txn in try dropStored(TxnRef(txn.txn)) } }

        // Group by account and source, each sorted by time (stable), then chunk.
        struct GroupKey: Hashable, Comparable {
            var account: String; var source: UInt8
            static func < (a: GroupKey, b: GroupKey) -> Bool { (a.account, a.source) < (b.account, b.source) }
        }
        // Rows of one group come in runs (a part is one file, mostly one account), so the
        // group is looked up once per run.
        var groupIndex: [GroupKey: Int] = [:]
        var members: [[Int]] = []
        var groupKeys: [GroupKey] = []
        var last = -1
        for k in keep {
            let (p, i) = ev(k)
            let key = GroupKey(account: events[p][i].account, source: events[p][i].source.code)
            if last < 0 || groupKeys[last] != key {
                if let g = groupIndex[key] { last = g } else {
                    last = members.count
                    groupIndex[key] = last
                    members.append([])
                    groupKeys.append(key)
                }
            }
            members[last].append(k)
        }
        var chunks: [[Int]] = []
        for g in groupKeys.indices.sorted(by: { groupKeys[$0] < groupKeys[$1] }) {
            let members = members[g]
            let times = members.map { k -> Int64 in let (p, i) = ev(k); return events[p][i].time }
            let inOrder = zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }
            let sorted = inOrder ? members : members.indices.sorted { (times[$0], $0) < (times[$1], $1) }.map { members[$0] }
            var start = 0
            while start < sorted.count {
                let end = min(start + blockRows, sorted.count)
                chunks.append(Array(sorted[start..<end]))
                start = end
            }
        }
        let rows = chunks.map { $0.map { rowIDs[$0] } }
        let rawLevel = self.rawLevel
        let drafts = BankStore.parallelMap(rows) { r in BankStore.draft(events, r, rawLevel: rawLevel) }
        return PreparedBatch(events: events, origins: origins, drafts: drafts, rows: rows,
                             keys: chunks.map { $0.map { keys[$0] } }, duplicates: duplicates, hasOrigins: hasOrigins)
    }

    static func draft(_ events: [[Event]], _ rows: [UInt64], rawLevel: Int32) -> BlockDraft {
        let first = events[Int(rows[0] >> 32)][Int(rows[0] & 0xffff_ffff)]
        return BlockDraft(events: events, rows: rows, account: BlockKey.accountNumber(first.account)!, rawLevel: rawLevel)
    }

    /// The cheap half of an append: one write transaction that assigns dictionary ids,
    /// sequence numbers and chain links and stores the blocks.
    ///
    /// Events another writer stored since `prepare` are dropped here (their block is
    /// encoded again without them), so a race never stores anything twice.
    public func commit(_ batch: PreparedBatch) throws -> AppendResult {
        let originsDB = batch.hasOrigins ? try replayHandles().origins : nil
        let (result, newEntries) = try env.write { txn in try commit(batch, originsDB: originsDB, in: &txn) }
        notifyAppended()
        cache(newEntries)
        return result
    }

    /// Appends `events` inside a write transaction that is already open (a subscriber's
    /// batch in `consume`): they commit or roll back with it. The dictionary ids it
    /// assigns stay out of the shared cache (the transaction may still abort); the
    /// caller tells followers after its commit.
    func append(_ events: [Event], in txn: TxnRef) throws -> AppendResult {
        try append(parts: [events], origins: [nil], originsDB: nil, in: txn)
    }

    /// `append(parts:origins:)` inside a write transaction that is already open;
    /// `originsDB` (from `replayHandles`, opened before the transaction) is needed when
    /// events carry old sequence numbers.
    func append(parts: [[Event]], origins: [PartOrigin?], originsDB: DB?, in txn: TxnRef) throws -> AppendResult {
        var w = WriteTxn(borrowing: txn.txn)
        return try commit(prepare(parts: parts, origins: origins, within: txn), originsDB: originsDB, in: &w).0
    }

    /// The write half of `commit`, in the caller's transaction.
    private func commit(_ batch: PreparedBatch, originsDB: DB?, in txn: inout WriteTxn) throws -> (AppendResult, EntryMap) {
        if batch.hasOrigins && originsDB == nil {
            throw StoreError(.invalidArgument, "events with an old sequence number (originSeq) cannot be appended here")
        }
        let rawLevel = self.rawLevel
        var st = try BankStore.readState({ db, k, f in try txn.get(db, k, f) }, meta)
        var result = AppendResult()
        result.duplicates = batch.duplicates
        var pending = EntryMap()
        // Ranges committed before this transaction, per file of the batch, and per part.
        var committed: [[UInt8]: RangeSet] = [:]
        for case let o? in batch.origins where committed[o.file] == nil {
            committed[o.file] = try RangeSet(txn: { db, k, f in try txn.get(db, k, f) }, fileRanges, o.file)
        }
        let partRanges = batch.origins.map { $0.map { committed[$0.file]! } }
        for (d, prepared) in batch.drafts.enumerated() {
            var draft = prepared
            var rowKeys = batch.keys[d]
            var rows = batch.rows[d]
            var stillNew: [Int] = []
            for (r, key) in rowKeys.enumerated() {
                let stored: Bool
                if let key {
                    stored = try key.withBytes { kb in try txn.get(ids, kb) { _ in true } } ?? false
                } else {
                    let row = batch.rows[d][r]
                    let part = Int(row >> 32)
                    stored = partRanges[part]!.contains(batch.origins[part]!.offsets[Int(row & 0xffff_ffff)])
                }
                if !stored { stillNew.append(r) }
            }
            if stillNew.count < rowKeys.count {
                result.duplicates += rowKeys.count - stillNew.count
                if stillNew.isEmpty { continue }
                rows = stillNew.map { batch.rows[d][$0] }
                draft = BankStore.draft(batch.events, rows, rawLevel: rawLevel)
                rowKeys = stillNew.map { rowKeys[$0] }
            }
            var dictIDs: [[UInt32]] = []
            var postings: [(Field, UInt32)] = []
            for c in draft.columns where c.encoding == .globalDict {
                var colIDs: [UInt32] = []
                colIDs.reserveCapacity(c.dictValues.count)
                for v in c.dictValues {
                    let id = try intern(v, txn: &txn, state: &st, pending: &pending)
                    colIDs.append(id)
                    if c.field.isIndexed { postings.append((c.field, id)) }
                }
                dictIDs.append(colIDs)
            }
            let firstSeq = st.nextSeq
            st.nextSeq += UInt64(draft.count)
            let key = BlockKey(account: draft.account, tMin: draft.tMin, blockSeq: st.nextBlock)
            st.nextBlock += 1
            let (value, hash) = draft.assemble(firstSeq: firstSeq, ids: dictIDs)
            let kb = key.bytes
            try txn.put(blocks, kb, value)
            try txn.put(raw, kb, draft.raw)
            try txn.put(seq, BE.bytes(firstSeq), kb, append: true)
            let lastSeq = firstSeq + UInt64(draft.count) - 1
            st.chainHead = ChainLink.next(previous: st.chainHead, blockHash: hash, firstSeq: firstSeq, lastSeq: lastSeq)
            try txn.put(chain, BE.bytes(firstSeq), ChainLink(link: st.chainHead, blockHash: hash, lastSeq: lastSeq, key: key, kind: .block).encoded, append: true)
            for (f, id) in postings {
                var pk: [UInt8] = [f.columnID]
                BE.put(id, into: &pk)
                pk += kb
                try txn.put(post, pk, [])
            }
            // Idempotency keys, in the block's row order so each maps to its seq.
            for (row, k) in rowKeys.enumerated() {
                guard let k else { continue }
                var v = (firstSeq + UInt64(row)).littleEndian
                try k.withBytes { kb in try withUnsafeBytes(of: &v) { vb in try txn.put(ids, kb, vb) } }
            }
            if batch.hasOrigins, let originsDB {
                try BankStore.recordOrigins(batch.events, rows: rows, firstSeq: firstSeq, db: originsDB, in: TxnRef(txn.txn))
            }
            st.maxSpan = max(st.maxSpan, draft.tMax - draft.tMin)
            st.tMin = min(st.tMin, draft.tMin); st.tMax = max(st.tMax, draft.tMax)
            st.events += UInt64(draft.count); st.blocks += 1; st.rawBytes += UInt64(draft.rawBytes)
            if result.firstSeq == 0 { result.firstSeq = firstSeq }
            result.lastSeq = lastSeq
            result.stored += draft.count
            result.blocks += 1
        }
        if result.stored > 0 { try txn.put(meta, State.key, st.encoded) }
        for (file, var ranges) in committed {
            for case let o? in batch.origins where o.file == file { ranges.insert(o.range) }
            try txn.put(fileRanges, file, ranges.encoded)
        }
        return (result, pending)
    }

    /// Puts dictionary ids a committed transaction assigned into the shared cache (only
    /// after the commit: an aborted transaction's ids were never stored).
    private func cache(_ newEntries: EntryMap) {
        if newEntries.count > 0 {
            cacheLock.lock()
            if idsByEntry.count + newEntries.count > BankStore.dictionaryCacheLimit {
                idsByEntry.removeAll()
                entriesByID.removeAll()
            }
            for (e, i) in newEntries.pairs where idsByEntry.get(e, hash: e.fastHash) == nil {
                idsByEntry.insert(e, i, hash: e.fastHash)
                entriesByID[i] = e
            }
            cacheLock.unlock()
        }
    }

    private func intern(_ entry: DictEntry, txn: inout WriteTxn, state st: inout State,
                        pending: inout EntryMap) throws -> UInt32 {
        let h = entry.fastHash
        if let id = pending.get(entry, hash: h) { return id }
        cacheLock.lock()
        let cached = idsByEntry.get(entry, hash: h)
        cacheLock.unlock()
        if let id = cached { return id }
        let kb = entry.keyBytes, dk = entry.dictKey
        if let id = try dk.withUnsafeBytes({ k in try txn.get(dict, k) { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) } }) {
            pending.insert(entry, id, hash: h)
            return id
        }
        let id = st.nextDict
        st.nextDict += 1
        try txn.put(dict, dk, withUnsafeBytes(of: id.littleEndian) { Array($0) })
        try txn.put(dictr, withUnsafeBytes(of: id.bigEndian) { Array($0) }, kb, append: true)
        pending.insert(entry, id, hash: h)
        return id
    }

    /// Maps on both cores. `f` must be a pure function of its argument.
    package static func parallelMap<T: Sendable, R: Sendable>(_ items: [T], _ f: @Sendable (T) -> R) -> [R] {
        if items.count <= 1 { return items.map(f) }
        var out = [R?](repeating: nil, count: items.count)
        out.withUnsafeMutableBufferPointer { buf in
            let b = UnsafeSendableBuffer(buf)
            DispatchQueue.concurrentPerform(iterations: items.count) { i in b.buffer[i] = f(items[i]) }
        }
        return out.map { $0! }
    }

    /// Commits stop waiting for the disk until `sync()` (bulk ingest); see
    /// `Environment.setDeferredSync`.
    public func setDeferredSync(_ deferred: Bool) throws { try env.setDeferredSync(deferred) }

    /// Waits until everything committed is on disk.
    public func sync() throws { try env.sync() }

    /// Lets the OS take back the pages of the store this process has read (see
    /// `Environment.releaseMappedPages`); long ingests call it between batches.
    public func releaseMappedPages() { env.releaseMappedPages() }

    // MARK: - Reading

    /// Runs `body` on a consistent snapshot of the bank.
    public func read<T>(_ body: (BankSnapshot) throws -> T) throws -> T {
        try env.read { txn in
            let snap = BankSnapshot(bank: self, txn: txn.txn)
            return try body(snap)
        }
    }

    func cachedEntry(_ id: UInt32) -> DictEntry? {
        cacheLock.lock(); defer { cacheLock.unlock() }
        return entriesByID[id]
    }

    func cachedID(_ e: DictEntry) -> UInt32? {
        cacheLock.lock(); defer { cacheLock.unlock() }
        return idsByEntry.get(e, hash: e.fastHash)
    }

    func remember(_ e: DictEntry, _ id: UInt32) {
        cacheLock.lock(); defer { cacheLock.unlock() }
        if idsByEntry.count >= BankStore.dictionaryCacheLimit { idsByEntry.removeAll(); entriesByID.removeAll() }
        if idsByEntry.get(e, hash: e.fastHash) == nil { idsByEntry.insert(e, id, hash: e.fastHash) }
        entriesByID[id] = e
    }
}

/// Lets `concurrentPerform` workers write distinct slots of one buffer.
///
/// `@unchecked Sendable`: each iteration writes only its own index, and the buffer
/// outlives the `concurrentPerform` call that uses it.
struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ b: UnsafeMutableBufferPointer<T>) { buffer = b }
}

/// One entry of the integrity chain, keyed by the block's first sequence number.
public struct ChainLink: Sendable, Equatable {
    public enum Kind: UInt8, Sendable { case block = 1, tombstone = 2 }
    public var link: [UInt8]
    public var blockHash: [UInt8]
    public var lastSeq: UInt64
    public var key: BlockKey
    public var kind: Kind

    /// `link[n] = SHA-256(link[n-1] || block hash || first seq || last seq)`.
    public static func next(previous: [UInt8], blockHash: [UInt8], firstSeq: UInt64, lastSeq: UInt64) -> [UInt8] {
        var range: [UInt8] = []
        BE.put(firstSeq, into: &range); BE.put(lastSeq, into: &range)
        return previous.withUnsafeBytes { p in blockHash.withUnsafeBytes { h in range.withUnsafeBytes { r in SHA256Digest.hash(p, h, r) } } }
    }

    var encoded: [UInt8] {
        var w = ByteWriter()
        w.append(link); w.append(blockHash); w.u64(lastSeq); w.append(key.bytes); w.u8(kind.rawValue)
        return w.bytes
    }

    init(link: [UInt8], blockHash: [UInt8], lastSeq: UInt64, key: BlockKey, kind: Kind) {
        self.link = link; self.blockHash = blockHash; self.lastSeq = lastSeq; self.key = key; self.kind = kind
    }

    init(decoding b: UnsafeRawBufferPointer) throws {
        var r = ByteReader(b)
        link = Array(try r.bytes(32)); blockHash = Array(try r.bytes(32)); lastSeq = try r.u64()
        key = BlockKey(bytes: try r.bytes(24))
        guard let k = Kind(rawValue: try r.u8()) else { throw StoreError(.corrupt, "unknown chain entry kind") }
        kind = k
    }
}

import Foundation

extension BankStore {
    /// Size of the bank's data file on disk.
    public var diskBytes: Int {
        let attrs = try? FileManager.default.attributesOfItem(atPath: env.path + "/data.mdb")
        return (attrs?[.size] as? NSNumber)?.intValue ?? 0
    }
}

/// An idempotency key: a day number and 16 bytes, held in words (no allocation,
/// cheap to hash); 18 bytes big-endian in the index.
struct IDKey: Hashable, Sendable {
    var day: UInt16
    var hi: UInt64
    var lo: UInt64

    init(day: UInt16, hi: UInt64, lo: UInt64) { self.day = day; self.hi = hi; self.lo = lo }

    /// The first 16 bytes of `bytes`, day 0.
    init(bytes b: [UInt8]) {
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(b[i]); l = l << 8 | UInt64(b[8 + i]) }
        day = 0; hi = h; lo = l
    }

    /// Days since 1970-01-01 (clamped to the 16-bit range, years 1970 to 2149).
    static func day(_ millis: Int64) -> UInt16 {
        UInt16(clamping: max(0, millis / 86_400_000))
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(byteCount: 18, alignment: 8) { buf in
            buf.storeBytes(of: day.bigEndian, toByteOffset: 0, as: UInt16.self)
            buf.storeBytes(of: hi.bigEndian, toByteOffset: 2, as: UInt64.self)
            buf.storeBytes(of: lo.bigEndian, toByteOffset: 10, as: UInt64.self)
            return try body(UnsafeRawBufferPointer(buf))
        }
    }

    var bytes: [UInt8] { withBytes { Array($0) } }
}

/// The byte ranges of one file a bank has committed: sorted, disjoint, merged when they
/// touch, so a file read in order is one range however many batches it took.
struct RangeSet: Sendable, Equatable {
    private(set) var ranges: [Range<Int64>] = []

    init() {}

    /// The ranges stored for `file`, or none.
    init(txn get: (DB, UnsafeRawBufferPointer, (UnsafeRawBufferPointer) throws -> RangeSet) throws -> RangeSet?,
         _ db: DB, _ file: [UInt8]) throws {
        self = try file.withUnsafeBytes { k in try get(db, k) { try RangeSet(decoding: $0) } } ?? RangeSet()
    }

    init(decoding b: UnsafeRawBufferPointer) throws {
        var r = ByteReader(b)
        while r.pos < b.count {
            let lo = try r.i64(), hi = try r.i64()
            guard lo <= hi else { throw StoreError(.corrupt, "file range \(lo)..<\(hi) is inverted") }
            ranges.append(lo ..< hi)
        }
    }

    var encoded: [UInt8] {
        var w = ByteWriter()
        for r in ranges { w.i64(r.lowerBound); w.i64(r.upperBound) }
        return w.bytes
    }

    func contains(_ offset: Int64) -> Bool {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].upperBound <= offset { lo = mid + 1 } else { hi = mid }
        }
        return lo < ranges.count && ranges[lo].contains(offset)
    }

    mutating func insert(_ r: Range<Int64>) {
        guard !r.isEmpty else { return }
        var lo = r.lowerBound, hi = r.upperBound
        var out: [Range<Int64>] = []
        out.reserveCapacity(ranges.count + 1)
        var placed = false
        for x in ranges {
            if x.upperBound < lo { out.append(x) }
            else if x.lowerBound > hi {
                if !placed { out.append(lo ..< hi); placed = true }
                out.append(x)
            } else {
                lo = min(lo, x.lowerBound); hi = max(hi, x.upperBound)
            }
        }
        if !placed { out.append(lo ..< hi) }
        ranges = out
    }
}
