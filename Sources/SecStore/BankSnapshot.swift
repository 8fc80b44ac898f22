import SecModel

/// A consistent, read-only view of one bank (an LMDB snapshot). Lent to a closure by
/// `BankStore.read`: like an `UnsafeRawBufferPointer`, it is valid only inside that
/// closure and must not escape it (nor the bytes it lends, beyond their own call).
/// It is a plain copyable value so nested closures can use it (the compiler does not
/// yet handle noncopyable captures there).
public struct BankSnapshot {
    public let bank: BankStore
    let txn: OpaquePointer

    init(bank: BankStore, txn: OpaquePointer) { self.bank = bank; self.txn = txn }

    private var read: ReadTxnRef { ReadTxnRef(txn: txn) }

    /// Counters and chain head as of this snapshot.
    public func state() throws -> BankStore.State {
        try BankStore.readState({ db, k, f in try read.get(db, k, f) }, bank.meta)
    }

    /// Visits the blocks of `accounts` (all when nil) whose time span may overlap
    /// `[from, to]`, in key order, lending each key and block value. Return false to stop.
    public func blocks(accounts: [UInt64]?, from: Int64?, to: Int64?,
                       _ visit: (BlockKey, UnsafeRawBufferPointer) throws -> Bool) throws {
        let st = try state()
        let c = try Cursor(txn: txn, db: bank.blocks)
        func scan(account: UInt64?) throws -> Bool {
            var entry: (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
            if let a = account {
                let start = from.map { $0 &- st.maxSpan } ?? Int64.min
                let k = BlockKey(account: a, tMin: start, blockSeq: 0).bytes
                entry = try k.withUnsafeBytes { try c.seek($0) }
            } else {
                entry = try c.first()
            }
            while let e = entry {
                let key = BlockKey(bytes: e.key)
                if let a = account, key.account != a { return true }
                if let to, key.tMin > to {
                    if account != nil { return true }
                } else if try !visit(key, e.value) { return false }
                entry = try c.next()
            }
            return true
        }
        if let accounts {
            for a in accounts.sorted() where try !scan(account: a) { return }
        } else {
            _ = try scan(account: nil)
        }
    }

    /// Lends the value of one block.
    public func block<T>(_ key: BlockKey, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try key.bytes.withUnsafeBytes { k in try read.get(bank.blocks, k, body) }
    }

    /// The original records of one block, decompressed.
    public func raw(_ key: BlockKey) throws -> RawRecords? {
        try key.bytes.withUnsafeBytes { k in try read.get(bank.raw, k) { try BlockDecoder.raw($0) } }
    }

    /// The raw section as stored (compressed), for hashing.
    func rawStored<T>(_ key: BlockKey, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try key.bytes.withUnsafeBytes { k in try read.get(bank.raw, k, body) }
    }

    /// The bank-dictionary id of a value, nil when the bank has never seen it.
    public func dictionaryID(_ v: Value) throws -> UInt32? {
        let entry: DictEntry
        switch v {
        case .string(let s): entry = .string(s)
        case .ip(let ip): entry = .ip(ip)
        default: return nil
        }
        if let id = bank.cachedID(entry) { return id }
        let id = try entry.dictKey.withUnsafeBytes { k in
            try read.get(bank.dict, k) { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        }
        if let id { bank.remember(entry, id) }
        return id
    }

    /// The value of a bank-dictionary id.
    public func dictionaryValue(_ id: UInt32) throws -> Value {
        if let e = bank.cachedEntry(id) { return e.value }
        guard let e = try withUnsafeBytes(of: id.bigEndian, { k in try read.get(bank.dictr, k) { DictEntry(keyBytes: $0) } }) ?? nil else {
            throw StoreError(.corrupt, "dictionary id \(id) has no value")
        }
        bank.remember(e, id)
        return e.value
    }

    /// Blocks whose `field` column contains the dictionary id (block-level postings).
    public func postings(_ field: Field, id: UInt32) throws -> [BlockKey] {
        var prefix: [UInt8] = [field.columnID]
        BE.put(id, into: &prefix)
        let c = try Cursor(txn: txn, db: bank.post)
        var out: [BlockKey] = []
        var e = try prefix.withUnsafeBytes { try c.seek($0) }
        while let cur = e, cur.key.count == prefix.count + BlockKey.size, cur.key.starts(with: prefix) {
            out.append(BlockKey(bytes: UnsafeRawBufferPointer(rebasing: cur.key[prefix.count...])))
            e = try c.next()
        }
        return out
    }

    /// The sequence number of a stored event with this CloudTrail eventID, if any.
    ///
    /// The index is keyed by day first, so this looks the id up under each day the bank
    /// holds events of (a few microseconds a day).
    public func sequence(ofCloudTrailEventID id: String) throws -> UInt64? {
        let st = try state()
        guard st.events > 0 else { return nil }
        let u = BankStore.uuidKey(id)
        for day in IDKey.day(st.tMin)...IDKey.day(st.tMax) {
            let key = u.map { IDKey(day: day, hi: $0.hi, lo: $0.lo) } ?? BankStore.hashedKey(.cloudtrail, id, [], day: day)
            if let s = try key.withBytes({ kb in try read.get(bank.ids, kb) { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) } }) {
                return s
            }
        }
        return nil
    }

    /// The key of the block holding sequence number `s`.
    public func blockKey(containing s: UInt64) throws -> BlockKey? {
        let c = try Cursor(txn: txn, db: bank.seq)
        let k = BE.bytes(s + 1)
        var e = try k.withUnsafeBytes { try c.seek($0) }
        e = try (e == nil ? c.last() : c.prev())
        guard let hit = e else { return nil }
        return BlockKey(bytes: hit.value)
    }

    /// Visits the chain in sequence order.
    public func chain(_ visit: (UInt64, ChainLink) throws -> Bool) throws {
        let c = try Cursor(txn: txn, db: bank.chain)
        var e = try c.first()
        while let cur = e {
            if try !visit(BE.u64(cur.key), try ChainLink(decoding: cur.value)) { return }
            e = try c.next()
        }
    }

    /// Visits blocks in arrival (sequence) order.
    public func blocksInSequence(from: UInt64 = 0, _ visit: (UInt64, BlockKey) throws -> Bool) throws {
        let c = try Cursor(txn: txn, db: bank.seq)
        let k = BE.bytes(from)
        var e = try k.withUnsafeBytes { try c.seek($0) }
        while let cur = e {
            if try !visit(BE.u64(cur.key), BlockKey(bytes: cur.value)) { return }
            e = try c.next()
        }
    }
}

/// A copyable view of a read transaction pointer, for use inside `BankSnapshot` only.
struct ReadTxnRef {
    let txn: OpaquePointer
    func get<T>(_ db: DB, _ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try ReadTxn.get(txn, db, key, body)
    }
}
