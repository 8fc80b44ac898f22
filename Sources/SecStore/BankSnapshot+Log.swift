import SecModel

/// A run of a bank's log, read in sequence (arrival) order.
public struct LogBatch: Sendable {
    /// The events, in increasing `seq`, each with its `seq`, `bank`, `account` and `source`.
    public var events: [Event]
    /// Where the next read starts: one past the last sequence number read (or past the
    /// head when the batch reached it).
    public var next: UInt64
}

extension BankSnapshot {
    /// The bank's log from sequence number `from` onward, in sequence order: the feed
    /// projections (and later subscribers and detectors) consume.
    ///
    /// Blocks are found through the `seq` database (first sequence number -> block key);
    /// within a block, rows are in sequence order (`seq = first_seq + row`). A block that
    /// is gone (retention) leaves a gap that is skipped.
    ///
    /// - Parameters:
    ///   - from: the first sequence number wanted (1 is the first of the bank).
    ///   - limit: at most this many events; the batch ends exactly there, so the next read
    ///     (from `next`) starts in the middle of a block when it must.
    ///   - fields: the fields to decode, nil for all. `time`, `seq`, `bank`, `account`,
    ///     `source` and `class` are always set; the others are nil when not asked for.
    ///     A CloudTrail `event_id` is not a stored column (it lives in the raw record and
    ///     the idempotency index) and stays nil.
    ///   - raw: with true, each event's `raw` holds its original record (decompressed per
    ///     block); otherwise `raw` is empty.
    ///   - rawSources: with `raw`, only events of these sources carry it (nil: all).
    ///   - sources: only events of these sources, nil for all. Blocks of other sources are
    ///     passed over by their header (nothing decoded); `next` moves past them.
    /// - Throws: `StoreError(.corrupt)` for a malformed block, `LMDBError`.
    public func log(from: UInt64, limit: Int, fields: Set<Field>? = nil, raw: Bool = false,
                    sources: Set<Source>? = nil, rawSources: Set<Source>? = nil) throws -> LogBatch {
        let head = try state().nextSeq - 1
        var from = max(from, 1)
        var out: [Event] = []
        guard from <= head, limit > 0 else { return LogBatch(events: [], next: max(from, head + 1)) }
        out.reserveCapacity(min(limit, Int(head - from + 1)))
        let wanted = (fields ?? Set(Field.allCases)).filter { f in
            f.encoding != nil && f != .time && f != .eventClass
        }.sorted { $0.columnID < $1.columnID }
        var dictValues: [UInt32: Value] = [:]

        let c = try Cursor(txn: txn, db: bank.seq)
        // The last block starting at or before `from`, else the first block.
        var entry = try BE.bytes(from + 1).withUnsafeBytes { try c.seek($0) }
        entry = try (entry == nil ? c.last() : c.prev()) ?? c.first()
        while let e = entry, out.count < limit {
            let firstSeq = BE.u64(e.key)
            let key = BlockKey(bytes: e.value)
            entry = try c.next()
            if firstSeq > from { from = firstSeq } // a gap (a deleted block)
            let done: Bool? = try self.block(key) { value -> Bool in
                let header = try BlockHeader(decoding: value)
                guard header.lastSeq >= from else { return false }
                if let sources, !sources.contains(header.source) {
                    from = header.lastSeq + 1
                    return false
                }
                let start = Int(from - header.firstSeq)
                let end = start + min(header.count - start, limit - out.count)
                let withRaw = raw && (rawSources?.contains(header.source) ?? true)
                try decodeRows(key, header, value, start..<end, wanted, withRaw, &dictValues, into: &out)
                from = header.firstSeq + UInt64(end)
                return out.count >= limit
            }
            if done == true { break }
        }
        return LogBatch(events: out, next: out.count < limit ? max(from, head + 1) : from)
    }

    /// The event time of sequence number `s`, nil when no stored block holds it.
    public func time(ofSequence s: UInt64) throws -> Int64? {
        guard let key = try blockKey(containing: s) else { return nil }
        return try block(key) { value -> Int64? in
            let header = try BlockHeader(decoding: value)
            guard s >= header.firstSeq, s <= header.lastSeq, let info = header.column(.time) else { return nil }
            guard case .times(let t) = try BlockDecoder.column(info, count: header.count, in: value) else { return nil }
            return t[Int(s - header.firstSeq)]
        } ?? nil
    }

    private func decodeRows(_ key: BlockKey, _ header: BlockHeader, _ value: UnsafeRawBufferPointer, _ rows: Range<Int>,
                            _ fields: [Field], _ withRaw: Bool, _ dictValues: inout [UInt32: Value],
                            into out: inout [Event]) throws {
        guard !rows.isEmpty else { return }
        var times = [Int64](repeating: header.tMin, count: header.count)
        if let info = header.column(.time), case .times(let t) = try BlockDecoder.column(info, count: header.count, in: value) {
            times = t
        }
        let classes = try strings(.eventClass, header, value, &dictValues)
        let records = withRaw ? try raw(key) : nil
        let base = out.count
        let account = key.accountID
        for r in rows {
            let cls = classes.flatMap { $0[r] }.flatMap(EventClass.init(rawValue:)) ?? .apiActivity
            var e = Event(time: times[r], account: account, source: header.source, eventClass: cls,
                          raw: records.map { $0[r] } ?? [])
            e.seq = header.firstSeq + UInt64(r)
            e.bank = bank.id
            out.append(e)
        }
        for f in fields {
            guard let info = header.column(f) else { continue }
            switch try BlockDecoder.column(info, count: header.count, in: value) {
            case .global(let codes, let table):
                var values: [Value] = [.null]
                values.reserveCapacity(table.count + 1)
                for id in table {
                    if let v = dictValues[id] { values.append(v); continue }
                    let v = try dictionaryValue(id)
                    dictValues[id] = v
                    values.append(v)
                }
                for (i, r) in rows.enumerated() where codes[r] != 0 { out[base + i].set(f, values[Int(codes[r])]) }
            case .local(let codes, let table):
                for (i, r) in rows.enumerated() where codes[r] != 0 { out[base + i].set(f, .string(table[Int(codes[r]) - 1])) }
            case .ints(let vals, let nulls):
                for (i, r) in rows.enumerated() where nulls.isEmpty || !nulls[r] {
                    out[base + i].set(f, f.kind == .bool ? .bool(vals[r] != 0) : .int(vals[r]))
                }
            case .doubles(let vals, let nulls):
                for (i, r) in rows.enumerated() where nulls.isEmpty || !nulls[r] { out[base + i].set(f, .double(vals[r])) }
            case .times(let t):
                for (i, r) in rows.enumerated() { out[base + i].set(f, .time(t[r])) }
            }
        }
    }

    /// A dictionary-encoded string column as one optional string per row.
    private func strings(_ f: Field, _ header: BlockHeader, _ value: UnsafeRawBufferPointer,
                         _ dictValues: inout [UInt32: Value]) throws -> [String?]? {
        guard let info = header.column(f), case .global(let codes, let table) = try BlockDecoder.column(info, count: header.count, in: value) else {
            return nil
        }
        var values: [String?] = [nil]
        for id in table {
            let v = try dictValues[id] ?? dictionaryValue(id)
            dictValues[id] = v
            if case .string(let s) = v { values.append(s) } else { values.append(nil) }
        }
        return codes.map { values[Int($0)] }
    }
}
