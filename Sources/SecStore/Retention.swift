import Foundation
import SecModel

/// A block with events past their retention period.
public struct ExpiringBlock: Sendable, Equatable {
    public var key: BlockKey
    public var source: Source
    public var firstSeq: UInt64
    public var lastSeq: UInt64
    /// The rows (in sequence order) that expire; all of them when `whole`.
    public var expiredRows: [Int]
    public var whole: Bool
    /// Rows that would expire but a legal hold keeps.
    public var held: Int
    /// Oldest and newest time among the expiring rows.
    public var oldest: Int64
    public var newest: Int64
    /// Stored bytes (block value and raw section), prorated for a block that is rewritten.
    public var bytes: Int
    /// The policy entry that applied (`default.vpcflow=90d`) and the cut-off time.
    public var rule: String
    public var cutoff: Int64

    public var account: String { key.accountID }
}

/// One file of an archive, as the manifest records it.
public struct ArchiveFile: Sendable, Equatable, Codable {
    /// The path inside the archive directory.
    public var path: String
    public var events: Int
    public var bytes: Int
    public var sha256: String
    public var firstSeq: UInt64
    public var lastSeq: UInt64

    enum CodingKeys: String, CodingKey {
        case path, events, bytes, sha256
        case firstSeq = "first_seq", lastSeq = "last_seq"
    }

    public init(path: String, events: Int, bytes: Int, sha256: String, firstSeq: UInt64, lastSeq: UInt64) {
        self.path = path; self.events = events; self.bytes = bytes; self.sha256 = sha256
        self.firstSeq = firstSeq; self.lastSeq = lastSeq
    }
}

/// What one retention batch removed.
public struct RetentionResult: Sendable, Equatable {
    public var blocksDeleted = 0
    public var blocksRewritten = 0
    public var eventsDeleted = 0
    public var eventsKept = 0

    public init() {}
}

/// The record kept for a deleted block, beside its tombstone in the chain.
public struct Tombstone: Sendable, Equatable, Codable {
    public var firstSeq: UInt64
    public var lastSeq: UInt64
    public var blockHash: String
    public var rule: String
    public var cutoff: Int64
    public var deletedAt: Int64
    public var eventsDeleted: Int
    /// Rows moved to a new block (a block straddling the cut-off).
    public var eventsKept: Int

    enum CodingKeys: String, CodingKey {
        case firstSeq = "first_seq", lastSeq = "last_seq", blockHash = "block_hash", rule, cutoff
        case deletedAt = "deleted_at", eventsDeleted = "events_deleted", eventsKept = "events_kept"
    }
}

extension BankStore {
    static let tombstonesDB = "tombstones"
    static let archiveDB = "archive"

    private func retentionDBs() throws -> (tombstones: DB, archive: DB) {
        let dbs = try projectionDBs.open([BankStore.tombstonesDB, BankStore.archiveDB], in: env)
        return (dbs[BankStore.tombstonesDB]!, dbs[BankStore.archiveDB]!)
    }

    /// The blocks holding events past their period as of `asOf` (ms), in sequence order.
    /// Changes nothing.
    public func expiring(policy: RetentionPolicy, asOf: Int64) throws -> [ExpiringBlock] {
        let holds = policy.holds(bank: id)
        var out: [ExpiringBlock] = []
        try read { snap in
            try snap.blocksInSequence { firstSeq, key in
                let account = key.accountID
                try snap.block(key) { value in
                    let h = try BlockHeader(decoding: value)
                    guard let (period, rule) = policy.period(bank: id, account: account, source: h.source) else { return }
                    let cutoff = asOf - period
                    guard h.tMin < cutoff else { return }
                    let rawSize = try snap.rawStored(key) { $0.count } ?? 0
                    let size = value.count + rawSize
                    let relevant = holds.filter { $0.overlaps(bank: id, account: account, lo: h.tMin, hi: h.tMax) }
                    if h.tMax < cutoff && relevant.isEmpty {
                        out.append(ExpiringBlock(key: key, source: h.source, firstSeq: h.firstSeq, lastSeq: h.lastSeq,
                                                 expiredRows: Array(0..<h.count), whole: true, held: 0, oldest: h.tMin,
                                                 newest: h.tMax, bytes: size, rule: rule, cutoff: cutoff))
                        return
                    }
                    guard let info = h.column(.time), case .times(let times) = try BlockDecoder.column(info, count: h.count, in: value) else {
                        throw StoreError(.corrupt, "block \(key.blockSeq) has no time column")
                    }
                    var rows: [Int] = [], held = 0
                    var oldest = Int64.max, newest = Int64.min
                    for (r, t) in times.enumerated() where t < cutoff {
                        if relevant.contains(where: { $0.covers(bank: id, account: account, time: t) }) { held += 1; continue }
                        rows.append(r); oldest = min(oldest, t); newest = max(newest, t)
                    }
                    guard !rows.isEmpty || held > 0 else { return }
                    out.append(ExpiringBlock(key: key, source: h.source, firstSeq: h.firstSeq, lastSeq: h.lastSeq,
                                             expiredRows: rows, whole: rows.count == h.count, held: held,
                                             oldest: oldest, newest: newest, bytes: size * rows.count / max(h.count, 1),
                                             rule: rule, cutoff: cutoff))
                }
                _ = firstSeq
                return true
            }
        }
        return out
    }

    /// Every event of a block, each field decoded, with its raw record (and, for
    /// CloudTrail, its eventID read back from the raw record).
    public func events(of block: ExpiringBlock) throws -> [Event] {
        let count = Int(block.lastSeq - block.firstSeq + 1)
        var events = try read { snap in try snap.log(from: block.firstSeq, limit: count, raw: true).events }
        guard events.count == count, events.first?.seq == block.firstSeq, events.last?.seq == block.lastSeq else {
            throw StoreError(.corrupt, "block \(block.key.blockSeq) (seq \(block.firstSeq)-\(block.lastSeq)) could not be read whole")
        }
        if block.source == .cloudtrail {
            for i in events.indices { events[i].eventID = BankStore.cloudTrailEventID(events[i].raw) }
        }
        return events
    }

    /// The `eventID` of a CloudTrail record, found in its bytes (ids carry no escapes).
    static func cloudTrailEventID(_ raw: [UInt8]) -> String? {
        let needle = Array("\"eventID\"".utf8)
        guard raw.count > needle.count else { return nil }
        var i = 0
        while i + needle.count <= raw.count {
            if raw[i] == 0x22 && raw[i..<(i + needle.count)].elementsEqual(needle) {
                var j = i + needle.count
                while j < raw.count && (raw[j] == 0x20 || raw[j] == 0x3a || raw[j] == 0x09 || raw[j] == 0x0a || raw[j] == 0x0d) { j += 1 }
                guard j < raw.count, raw[j] == 0x22 else { return nil }
                var k = j + 1
                while k < raw.count && raw[k] != 0x22 && raw[k] != 0x5c { k += 1 }
                guard k < raw.count, raw[k] == 0x22 else { return nil }
                return String(decoding: raw[(j + 1)..<k], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }

    /// Deletes a batch of expiring blocks in one write transaction, after their events
    /// are archived: each block's value, raw section, seq entry, postings and
    /// idempotency keys go; its chain entry becomes a tombstone (same link, so the chain
    /// still verifies) with a record of the rule, cut-off and time; the rows of a block
    /// that do not expire move to a new block at the head of the log, keeping their
    /// identity (idempotency key, or old sequence number for text log lines) and their
    /// old sequence number, so readers that had read them do not read them again (see
    /// Replay.swift). `archived` is recorded in the same transaction, so the manifest
    /// names exactly what was deleted.
    ///
    /// - Parameters:
    ///   - events: per block, every event of it (from `events(of:)`).
    ///   - now: the deletion time recorded (ms).
    /// - Throws: `StoreError`, `LMDBError`; on error nothing of the batch is deleted.
    public func deleteExpired(_ batch: [ExpiringBlock], events: [[Event]], archived: [ArchiveFile], archiveDir: String,
                              now: Int64) throws -> RetentionResult {
        precondition(batch.count == events.count)
        let (tombstonesDB, archiveDB) = try retentionDBs()
        let replay = try replayHandles()
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let result = try env.write { txn -> RetentionResult in
            var result = RetentionResult()
            var st = try BankStore.readState({ db, k, f in try txn.get(db, k, f) }, meta)
            var kept: [Event] = []
            /// Sequence numbers of kept events that had an idempotency key.
            var keyed = Set<UInt64>()
            var leaving: [ClosedRange<UInt64>] = []
            for (b, block) in batch.enumerated() {
                let kb = block.key.bytes
                let firstKey = BE.bytes(block.firstSeq)
                // Still there (a rerun after a crash finds it gone and skips it)?
                guard let link = try firstKey.withUnsafeBytes({ k in try txn.get(chain, k) { try ChainLink(decoding: $0) } }),
                      link.kind == .block, link.key == block.key else { continue }
                let tables: [(Field, [UInt32])] = try kb.withUnsafeBytes { k in
                    try txn.get(blocks, k) { value in
                        let h = try BlockHeader(decoding: value)
                        return try h.columns.filter { $0.encoding == .globalDict && $0.field.isIndexed }.map {
                            ($0.field, try BlockDecoder.globalTable($0, in: value))
                        }
                    }
                } ?? []
                let rawSize = try kb.withUnsafeBytes { k in try txn.get(raw, k) { $0.count } } ?? 0
                for (f, ids) in tables {
                    for id in ids {
                        var pk: [UInt8] = [f.columnID]
                        BE.put(id, into: &pk)
                        pk += kb
                        _ = try pk.withUnsafeBytes { try txn.delete(post, $0) }
                    }
                }
                // Idempotency keys of every row: the expired go for good, the kept are
                // written again by the append below under their new sequence numbers.
                for e in events[b] {
                    let key = BankStore.idempotencyKey(e)
                    try key.withBytes { k in
                        let s = try txn.get(ids, k) { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                        if s == e.seq { _ = try txn.delete(ids, k); keyed.insert(e.seq) }
                    }
                }
                leaving.append(block.firstSeq...block.lastSeq)
                _ = try kb.withUnsafeBytes { try txn.delete(blocks, $0) }
                _ = try kb.withUnsafeBytes { try txn.delete(raw, $0) }
                _ = try firstKey.withUnsafeBytes { try txn.delete(seq, $0) }
                var tomb = link
                tomb.kind = .tombstone
                try txn.put(chain, firstKey, tomb.encoded)
                let expired = Set(block.expiredRows)
                let keep = events[b].indices.filter { !expired.contains($0) }
                kept += keep.map { var e = events[b][$0]; e.originSeq = e.seq; return e }
                let record = Tombstone(firstSeq: block.firstSeq, lastSeq: block.lastSeq, blockHash: SHA256Digest.hex(link.blockHash),
                                       rule: block.rule, cutoff: block.cutoff, deletedAt: now,
                                       eventsDeleted: expired.count, eventsKept: keep.count)
                try txn.put(tombstonesDB, firstKey, Array(try enc.encode(record)))
                let n = UInt64(events[b].count)
                st.events -= min(st.events, n); st.blocks -= min(st.blocks, 1)
                st.rawBytes -= min(st.rawBytes, UInt64(rawSize))
                result.eventsDeleted += expired.count
                result.eventsKept += keep.count
                if keep.isEmpty { result.blocksDeleted += 1 } else { result.blocksRewritten += 1 }
            }
            // The oldest time left, from the block keys (each key starts with its t_min).
            st.tMin = .max
            let c = try txn.cursor(blocks)
            var e = try c.first()
            while let cur = e {
                let k = BlockKey(bytes: cur.key)
                st.tMin = min(st.tMin, k.tMin)
                let next = BlockKey(account: k.account + 1, tMin: .min, blockSeq: 0).bytes
                e = try next.withUnsafeBytes { try c.seek($0) }
            }
            try txn.put(meta, State.key, st.encoded)
            // What each reader had read of the leaving blocks (their old numbers too, for
            // rows moved or restored before), then the old numbers of those rows go.
            try markRead(leaving, replay, in: TxnRef(txn.txn))
            for r in leaving { try BankStore.forgetOrigins(r.lowerBound, r.upperBound, replay.origins, in: TxnRef(txn.txn)) }
            if !kept.isEmpty {
                let (parts, origins) = BankStore.identityParts(kept, keyed: { keyed.contains($0.seq) }, bank: id)
                let r = try append(parts: parts, origins: origins, originsDB: replay.origins, in: TxnRef(txn.txn))
                guard r.stored == kept.count else {
                    throw StoreError(.corrupt, "rewriting straddling blocks stored \(r.stored) of \(kept.count) events")
                }
            }
            for f in archived {
                var entry = f
                entry.path = archiveDir + "/" + f.path
                try txn.put(archiveDB, Array(entry.path.utf8), Array(try enc.encode(f)))
            }
            return result
        }
        if result.eventsKept > 0 { notifyAppended() }
        return result
    }

    /// The archive files recorded for this bank (paths as written: directory + file).
    public func archivedFiles() throws -> [(path: String, file: ArchiveFile)] {
        let (_, archiveDB) = try retentionDBs()
        return try read { snap in
            let c = try Cursor(txn: snap.txn, db: archiveDB)
            var out: [(String, ArchiveFile)] = []
            var e = try c.first()
            while let cur = e {
                out.append((String(decoding: cur.key, as: UTF8.self), try JSONDecoder().decode(ArchiveFile.self, from: Data(cur.value))))
                e = try c.next()
            }
            return out
        }
    }

    /// The retention record of a tombstone, nil when the chain names one that has none.
    public func tombstone(firstSeq: UInt64) throws -> Tombstone? {
        let (tombstonesDB, _) = try retentionDBs()
        return try read { snap in
            try BE.bytes(firstSeq).withUnsafeBytes { k in
                try ReadTxn.get(snap.txn, tombstonesDB, k) { try JSONDecoder().decode(Tombstone.self, from: Data($0)) }
            }
        }
    }
}
