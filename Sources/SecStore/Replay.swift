import SecModel

/// Events appended to a bank's log a second time: the rows retention moves out of a
/// block it rewrites, and events restored from an archive. Each keeps its old sequence
/// number (`Event.originSeq`, recorded in `origins`: new seq -> old seq), and before an
/// event leaves the log every reader (projection or subscriber) has the old sequence
/// numbers it had already read recorded in `seen`. A reader is not given an event again
/// whose old number it had read, so baselines do not count it twice and detectors do
/// not judge it twice; a reader created (or reset) later reads it like any other.
extension BankStore {
    static let originsDB = "origins"
    static let seenDB = "seen"

    struct ReplayHandles {
        var origins: DB
        var seen: DB
        var subscribers: DB
        var projections: DB
    }

    /// Opens the databases replays use. Never inside a write transaction.
    func replayHandles() throws -> ReplayHandles {
        let dbs = try projectionDBs.open([BankStore.originsDB, BankStore.seenDB, BankStore.subscribersDB, BankStore.checkpointDB],
                                         in: env)
        return ReplayHandles(origins: dbs[BankStore.originsDB]!, seen: dbs[BankStore.seenDB]!,
                             subscribers: dbs[BankStore.subscribersDB]!, projections: dbs[BankStore.checkpointDB]!)
    }

    /// The `PartOrigin.file` of events identified by their sequence number in this bank
    /// (text log lines moved or restored: their file offset is gone), so appending the
    /// same ones again (a second restore of one archive) stores nothing.
    public static func sequenceSpace(bank: String) -> [UInt8] {
        SHA256Digest.hash(Array("secq sequence numbers of bank \(bank)".utf8))
    }

    /// The identity of this bank's log: the first link of its integrity chain (16 hex
    /// digits), the same for the life of the bank and different for a bank of the same
    /// name in another store or created again. Archive lines carry it, so a restore
    /// trusts their old sequence numbers only in the log they came from. Nil before the
    /// first block.
    public func lineage() throws -> String? {
        try read { snap in
            let c = try Cursor(txn: snap.txn, db: chain)
            guard let first = try c.first(), let link = try? ChainLink(decoding: first.value) else { return nil }
            return SHA256Digest.hex(Array(link.link.prefix(8)))
        }
    }

    static func subscriberReader(_ key: [UInt8]) -> [UInt8] { Array("sub:".utf8) + key }
    static func projectionReader(_ name: String) -> [UInt8] { Array("proj:\(name)".utf8) }

    /// Records, for every reader of the bank, which of `ranges` (sequence numbers about
    /// to leave the log) it had read: those at or below its checkpoint, and those above
    /// it holding an event moved or restored before whose old number it had read (it was
    /// not going to be given that event again). Call before `forgetOrigins` of `ranges`.
    func markRead(_ ranges: [ClosedRange<UInt64>], _ h: ReplayHandles, in txn: TxnRef) throws {
        guard !ranges.isEmpty else { return }
        var readers: [([UInt8], UInt64)] = []
        let c = try txn.cursor(h.subscribers)
        let eventsPrefix = Array("\(EventLog().name)/".utf8)
        var e = try c.first()
        while let cur = e {
            let cp = cur.value.count >= 8 ? UInt64(littleEndian: cur.value.loadUnaligned(as: UInt64.self)) : 0
            if cur.key.starts(with: eventsPrefix) { readers.append((BankStore.subscriberReader(Array(cur.key)), cp)) }
            e = try c.next()
        }
        let p = try txn.cursor(h.projections)
        e = try p.first()
        while let cur = e {
            let cp = cur.value.count >= 12 ? UInt64(littleEndian: cur.value.loadUnaligned(fromByteOffset: 4, as: UInt64.self)) : 0
            readers.append((BankStore.projectionReader(String(decoding: cur.key, as: UTF8.self)), cp))
            e = try p.next()
        }
        // Old numbers of the leaving rows that were moved or restored before.
        var moved: [(seq: UInt64, old: UInt64)] = []
        let o = try txn.cursor(h.origins)
        for r in ranges {
            var e = try BE.bytes(r.lowerBound).withUnsafeBytes { try o.seek($0) }
            while let cur = e, BE.u64(cur.key) <= r.upperBound {
                moved.append((BE.u64(cur.key), UInt64(littleEndian: cur.value.loadUnaligned(as: UInt64.self))))
                e = try o.next()
            }
        }
        for (reader, cp) in readers {
            var set = try RangeSet(txn: { db, k, f in try txn.get(db, k, f) }, h.seen, reader)
            let before = set
            for m in moved where m.seq > cp && before.contains(Int64(m.old)) { set.insert(Int64(m.seq) ..< Int64(m.seq) + 1) }
            for r in ranges where r.lowerBound <= cp {
                set.insert(Int64(r.lowerBound) ..< Int64(min(r.upperBound, cp)) + 1)
            }
            if set != before { try reader.withUnsafeBytes { k in try set.encoded.withUnsafeBytes { try txn.put(h.seen, k, $0) } } }
        }
    }

    /// The sequence numbers in `lo...hi` holding events the reader had read under their
    /// old numbers (see `markRead`); empty for almost every batch (one look-up).
    func alreadyRead(_ reader: [UInt8], _ lo: UInt64, _ hi: UInt64, in txn: TxnRef) throws -> Set<UInt64> {
        guard lo <= hi, let origins = projectionDBs.cached(BankStore.originsDB),
              let seenDB = projectionDBs.cached(BankStore.seenDB) else { return [] }
        // The batch's moved or restored rows first: almost always none, one seek.
        var moved: [(seq: UInt64, old: UInt64)] = []
        let c = try txn.cursor(origins)
        var e = try BE.bytes(lo).withUnsafeBytes { try c.seek($0) }
        while let cur = e, BE.u64(cur.key) <= hi {
            moved.append((BE.u64(cur.key), UInt64(littleEndian: cur.value.loadUnaligned(as: UInt64.self))))
            e = try c.next()
        }
        guard !moved.isEmpty else { return [] }
        let seen = try RangeSet(txn: { db, k, f in try txn.get(db, k, f) }, seenDB, reader)
        return Set(moved.filter { seen.contains(Int64($0.old)) }.map(\.seq))
    }

    /// Forgets what the reader had read: it starts over (created, reset, rebuilt).
    func forgetRead(_ reader: [UInt8], in txn: TxnRef) throws {
        guard let seenDB = projectionDBs.cached(BankStore.seenDB) else { return }
        _ = try reader.withUnsafeBytes { try txn.delete(seenDB, $0) }
    }

    /// Drops the old numbers recorded for `lo...hi` (their events leave the log).
    static func forgetOrigins(_ lo: UInt64, _ hi: UInt64, _ db: DB, in txn: TxnRef) throws {
        var found: [UInt64] = []
        let c = try txn.cursor(db)
        var e = try BE.bytes(lo).withUnsafeBytes { try c.seek($0) }
        while let cur = e, BE.u64(cur.key) <= hi { found.append(BE.u64(cur.key)); e = try c.next() }
        for s in found { _ = try BE.bytes(s).withUnsafeBytes { try txn.delete(db, $0) } }
    }

    /// Records each stored row's old sequence number (rows of events with one).
    static func recordOrigins(_ events: [[Event]], rows: [UInt64], firstSeq: UInt64, db: DB, in txn: TxnRef) throws {
        for (r, row) in rows.enumerated() {
            let old = events[Int(row >> 32)][Int(row & 0xffff_ffff)].originSeq
            guard old != 0 else { continue }
            let v = withUnsafeBytes(of: old.littleEndian) { Array($0) }
            try BE.bytes(firstSeq + UInt64(r)).withUnsafeBytes { k in try v.withUnsafeBytes { try txn.put(db, k, $0) } }
        }
    }

    /// Splits events to append again into parts that keep their identity: those with an
    /// idempotency key (`keyed`) in one part identified by it; the others (text log
    /// lines) in runs of consecutive old sequence numbers, each identified by its place
    /// in this bank's sequence space.
    static func identityParts(_ events: [Event], keyed: (Event) -> Bool, bank: String) -> (parts: [[Event]], origins: [PartOrigin?]) {
        var parts: [[Event]] = [], origins: [PartOrigin?] = []
        let withKey = events.filter(keyed)
        if !withKey.isEmpty { parts.append(withKey); origins.append(nil) }
        let space = sequenceSpace(bank: bank)
        let placed = events.filter { !keyed($0) }.sorted { $0.originSeq < $1.originSeq }
        var start = 0
        while start < placed.count {
            var end = start + 1
            while end < placed.count && placed[end].originSeq == placed[end - 1].originSeq + 1 { end += 1 }
            let run = Array(placed[start..<end])
            parts.append(run)
            origins.append(PartOrigin(file: space, range: Int64(run[0].originSeq) ..< Int64(run[run.count - 1].originSeq) + 1,
                                      offsets: run.map { Int64($0.originSeq) }))
            start = end
        }
        return (parts, origins)
    }
}
