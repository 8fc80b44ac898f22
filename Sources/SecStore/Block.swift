import SecModel

/// The key of a block: `account | t_min | block_seq`, 24 bytes big-endian, so a
/// bank/account/time range is a key range.
public struct BlockKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 12-digit account id as a number.
    public var account: UInt64
    /// The earliest event time in the block, ms since the epoch.
    public var tMin: Int64
    /// The bank-local block counter.
    public var blockSeq: UInt64

    public init(account: UInt64, tMin: Int64, blockSeq: UInt64) {
        self.account = account; self.tMin = tMin; self.blockSeq = blockSeq
    }

    public static let size = 24

    /// Times are stored with the sign bit flipped, so negative times order first.
    public var bytes: [UInt8] {
        var o = [UInt8](); o.reserveCapacity(24)
        BE.put(account, into: &o)
        BE.put(UInt64(bitPattern: tMin) ^ (1 << 63), into: &o)
        BE.put(blockSeq, into: &o)
        return o
    }

    public init(bytes b: UnsafeRawBufferPointer) {
        account = BE.u64(b, at: 0)
        tMin = Int64(bitPattern: BE.u64(b, at: 8) ^ (1 << 63))
        blockSeq = BE.u64(b, at: 16)
    }

    public static func < (a: BlockKey, b: BlockKey) -> Bool {
        (a.account, a.tMin, a.blockSeq) < (b.account, b.tMin, b.blockSeq)
    }

    public var accountID: String { BlockKey.accountString(account) }

    public static func accountString(_ n: UInt64) -> String {
        let s = String(n)
        return s.count >= 12 ? s : String(repeating: "0", count: 12 - s.count) + s
    }

    public static func accountNumber(_ s: String) -> UInt64? {
        guard Org.isAccountID(s) else { return nil }
        return UInt64(s)
    }

    public var description: String { "\(accountID)/\(Timestamp.rfc3339(millis: tMin))/\(blockSeq)" }
}

/// How a column is encoded in a block.
public enum ColumnEncoding: UInt8, Sendable {
    /// Times as varint deltas from the block's t_min.
    case timeDelta = 1
    /// Bank-dictionary ids: a local table of global ids (uncompressed, so the planner can
    /// test membership without decompressing) and per-row codes (0 = null).
    case globalDict = 2
    /// Strings too diverse for the bank dictionary: a local table of strings and codes.
    case localDict = 3
    /// Zigzag varints for the non-null rows, with a null bitmap.
    case ints = 4
    /// IEEE doubles for the non-null rows, with a null bitmap.
    case doubles = 5
}

extension Field {
    /// The encoding of the field's column, or nil for fields that are not stored per row
    /// (seq is first_seq + row; bank, account and source are the block's).
    package var encoding: ColumnEncoding? {
        switch self {
        case .seq, .bank, .account, .source: return nil
        case .time: return .timeDelta
        case .eventID, .url, .queryName, .resource: return .localDict
        case .srcPort, .dstPort, .proto, .bytes, .packets, .httpStatus, .mfa: return .ints
        case .severity: return .doubles
        default: return .globalDict
        }
    }
}

/// A map from dictionary entries to 32-bit numbers: open addressing with a cheap hash,
/// because a column of a flow-log block asks once per row (and a commit once per
/// distinct value) and Swift's seeded `Hasher` cost more than the rest of the encoding.
struct EntryMap {
    private var slots: [UInt32]
    private var mask: Int
    /// The entries in insertion order, with their hashes and numbers.
    private(set) var entries: [DictEntry] = []
    private var hashes: [UInt64] = []
    private var numbers: [UInt32] = []

    init(capacity: Int = 8) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = [UInt32](repeating: 0, count: n)
        mask = n - 1
    }

    var count: Int { entries.count }

    /// Entries and their numbers, in insertion order.
    var pairs: Zip2Sequence<[DictEntry], [UInt32]> { zip(entries, numbers) }

    @inline(__always)
    func get(_ e: DictEntry, hash h: UInt64) -> UInt32? {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let k = slots[i]
            if k == 0 { return nil }
            if hashes[Int(k) - 1] == h && entries[Int(k) - 1].fastEquals(e) { return numbers[Int(k) - 1] }
            i = (i + 1) & mask
        }
    }

    /// Adds an entry that is not in the map.
    @inline(__always)
    mutating func insert(_ e: DictEntry, _ number: UInt32, hash h: UInt64) {
        entries.append(e)
        hashes.append(h)
        numbers.append(number)
        if entries.count * 2 > slots.count {
            grow()
        } else {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = UInt32(entries.count)
        }
    }

    mutating func removeAll() {
        entries.removeAll(); hashes.removeAll(); numbers.removeAll()
        for i in slots.indices { slots[i] = 0 }
    }

    private mutating func grow() {
        slots = [UInt32](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for (k, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = UInt32(k + 1)
        }
    }
}

/// Local codes (1, 2, ...) for the distinct values of one column of one block, in order
/// of first appearance.
struct LocalCodes {
    private var map: EntryMap
    /// The last value asked for and its code: columns sorted by time repeat values in runs.
    private var last: (DictEntry, UInt32)?

    init(capacity: Int) { map = EntryMap(capacity: capacity) }

    var values: [DictEntry] { map.entries }

    /// The code of `e`, assigning the next one when it is new.
    @inline(__always)
    mutating func code(_ e: DictEntry) -> UInt32 {
        if let (v, c) = last, v.fastEquals(e) { return c }
        let h = e.fastHash
        let c: UInt32
        if let known = map.get(e, hash: h) {
            c = known
        } else {
            c = UInt32(map.count + 1)
            map.insert(e, c, hash: h)
        }
        last = (e, c)
        return c
    }
}

extension DictEntry {
    /// A cheap, unseeded hash (the table it serves never sees untrusted collisions
    /// beyond one block: at worst a slower block, never a wrong one).
    @inline(__always)
    var fastHash: UInt64 {
        switch self {
        case .ip(let ip):
            var h = (ip.hi ^ 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
            h = (h ^ ip.lo ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
            return h ^ (h >> 29)
        case .string(let s):
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
            return h ^ (h >> 32)
        }
    }

    /// Equality that settles the usual case (the very same string storage) first.
    @inline(__always)
    func fastEquals(_ o: DictEntry) -> Bool {
        switch (self, o) {
        case (.ip(let a), .ip(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        default: return false
        }
    }
}

/// A key of the bank dictionary: a string, or an address (kept apart by a tag byte).
package enum DictEntry: Hashable, Sendable {
    case string(String)
    case ip(IPAddress)

    package var keyBytes: [UInt8] {
        switch self {
        case .string(let s): return [0] + Array(s.utf8)
        case .ip(let ip): return [1] + ip.bytes
        }
    }

    /// The key of the entry in the `dict` database (value -> id): its `keyBytes`, or for
    /// a string too long for an LMDB key (a principal ARN with a long IAM path; the
    /// limit is 511 bytes) the tag 2 and the SHA-256 of the string. The `dictr` database
    /// (id -> value) always keeps the whole `keyBytes`.
    package var dictKey: [UInt8] {
        let k = keyBytes
        guard k.count > DictEntry.longKey else { return k }
        return k.withUnsafeBytes { [2] + SHA256Digest.hash($0) }
    }

    /// Longer `keyBytes` are looked up by their digest.
    static let longKey = 480

    package init?(keyBytes b: UnsafeRawBufferPointer) {
        guard let tag = b.first else { return nil }
        if tag == 0 { self = .string(String(decoding: b.dropFirst(), as: UTF8.self)) }
        else if tag == 1, b.count == 17 { self = .ip(IPAddress(bytes: UnsafeRawBufferPointer(rebasing: b[1...]))) }
        else { return nil }
    }

    package var value: Value {
        switch self {
        case .string(let s): return .string(s)
        case .ip(let ip): return .ip(ip)
        }
    }
}

/// A column directory entry of a stored block.
public struct ColumnInfo: Sendable, Equatable {
    public var field: Field
    public var encoding: ColumnEncoding
    /// Byte range of the column inside the block value.
    public var offset: Int
    public var length: Int
    /// Smallest and largest value (ints and times), or the local-table size (dicts).
    public var min: Int64
    public var max: Int64
}

/// The fixed header of a stored block.
public struct BlockHeader: Sendable, Equatable {
    public var source: Source
    public var count: Int
    public var tMin: Int64
    public var tMax: Int64
    public var firstSeq: UInt64
    public var rawBytes: Int
    /// SHA-256 over the block value after the hash field and the raw value.
    public var hash: [UInt8]
    public var columns: [ColumnInfo]

    public var lastSeq: UInt64 { firstSeq + UInt64(count) - 1 }

    public func column(_ f: Field) -> ColumnInfo? { columns.first { $0.field == f } }

    static let magic: [UInt8] = Array("SQB1".utf8)
    static let hashOffset = 4
    static let fixedSize = 4 + 32 + 1 + 1 + 1 + 1 + 4 + 8 + 8 + 8 + 4
    static let columnEntrySize = 1 + 1 + 2 + 4 + 4 + 8 + 8

    /// Decodes the header of a block value; throws on anything malformed.
    public init(decoding b: UnsafeRawBufferPointer) throws(StoreError) {
        guard b.count >= BlockHeader.fixedSize, b.starts(with: BlockHeader.magic) else {
            throw StoreError(.corrupt, "block value has no header")
        }
        var r = ByteReader(b, at: 4)
        hash = Array(try r.bytes(32))
        let version = try r.u8()
        guard version == 1 else { throw StoreError(.corrupt, "unknown block version \(version)") }
        guard let src = Source(code: try r.u8()) else { throw StoreError(.corrupt, "unknown source code") }
        source = src
        let ncols = Int(try r.u8())
        _ = try r.u8()
        count = Int(try r.u32())
        tMin = try r.i64()
        tMax = try r.i64()
        firstSeq = try r.u64()
        rawBytes = Int(try r.u32())
        var cols: [ColumnInfo] = []
        cols.reserveCapacity(ncols)
        for _ in 0..<ncols {
            let fid = Int(try r.u8())
            guard fid < Field.allCases.count, let enc = ColumnEncoding(rawValue: try r.u8()) else {
                throw StoreError(.corrupt, "bad column directory")
            }
            _ = try r.u16()
            let off = Int(try r.u32()), len = Int(try r.u32())
            let mn = try r.i64(), mx = try r.i64()
            guard off + len <= b.count else { throw StoreError(.corrupt, "column outside block") }
            cols.append(ColumnInfo(field: Field.allCases[fid], encoding: enc, offset: off, length: len, min: mn, max: mx))
        }
        columns = cols
    }
}

/// A decoded column, owned (copied out of the transaction).
public enum Column: Sendable {
    case times([Int64])
    /// `codes[row]` is 0 for null, else an index + 1 into `table` (global dictionary ids).
    case global(codes: [UInt32], table: [UInt32])
    /// `codes[row]` is 0 for null, else an index + 1 into `table`.
    case local(codes: [UInt32], table: [String])
    /// `nulls` is empty when no row is null.
    case ints(values: [Int64], nulls: [Bool])
    case doubles(values: [Double], nulls: [Bool])
}

/// Encodes one batch of events (one account, one source, sorted by time) as a block.
///
/// Everything but the bank-dictionary ids is computed here, without a transaction, so
/// blocks are encoded in parallel; `assemble` then fills the ids in the write txn.
package struct BlockDraft: Sendable {
    package var account: UInt64
    package var source: Source
    package var count: Int
    package var tMin: Int64
    package var tMax: Int64
    package var rawBytes: Int
    /// Compressed raw section (the `raw` database value).
    package var raw: [UInt8]
    package var columns: [ColumnDraft]

    package struct ColumnDraft: Sendable {
        var field: Field
        var encoding: ColumnEncoding
        /// For `globalDict`: the distinct values, in local-code order; ids filled later.
        var dictValues: [DictEntry]
        /// The encoded body (codes, compressed where worth it).
        var body: [UInt8]
        var min: Int64
        var max: Int64
    }

    /// - Parameters:
    ///   - events: the batch's events, in parts (one per input piece) so they are never
    ///     copied; `rows` names this block's events as `part << 32 | index`, all of one
    ///     account and source, sorted by time.
    ///   - rawLevel: zstd level of the raw section.
    package init(events: [[Event]], rows: [UInt64], account: UInt64, rawLevel: Int32) {
        // Fields are read through pointers into the parts: reading one field through an
        // array subscript copied the whole event (every string retained) each time.
        // `events` outlives the pointers (it is not mutated during this init).
        let bases = events.map { part in part.withUnsafeBufferPointer { $0.baseAddress } }
        @inline(__always) func at(_ r: UInt64) -> UnsafePointer<Event> { bases[Int(r >> 32)]! + Int(r & 0xffff_ffff) }
        self.account = account
        source = at(rows[0]).pointee.source
        count = rows.count
        var lo = Int64.max, hi = Int64.min, rawTotal = 0
        for r in rows {
            let e = at(r)
            lo = min(lo, e.pointee.time); hi = max(hi, e.pointee.time)
            rawTotal += e.pointee.raw.count
        }
        tMin = lo
        tMax = hi

        // Raw section: offsets then the records, one zstd frame.
        var rw = ByteWriter(capacity: rawTotal + 4 * (count + 1))
        var off: UInt32 = 0
        rw.u32(0)
        for r in rows { off += UInt32(at(r).pointee.raw.count); rw.u32(off) }
        for r in rows { at(r).pointee.raw.withUnsafeBytes { rw.append($0) } }
        rawBytes = Int(off)
        var rv = ByteWriter(capacity: rw.bytes.count / 6)
        rv.u8(1)
        rv.u32(UInt32(count))
        rv.append(Zstd.compress(rw.bytes, level: rawLevel))
        raw = rv.bytes

        let (lo2, hi2) = (lo, hi)
        let src = source
        columns = withExtendedLifetime(events) {
            Field.allCases.compactMap { f in
                // A CloudTrail eventID is in the raw record and in the idempotency index
                // (id -> seq); a column of random UUIDs would be a fifth of the block.
                if f == .eventID && !BlockDraft.storesEventID(src) { return nil }
                return f.encoding.flatMap { BlockDraft.encode(f, $0, bases, rows, tMin: lo2, tMax: hi2) }
            }
        }
    }

    private static func encode(_ f: Field, _ enc: ColumnEncoding, _ bases: [UnsafePointer<Event>?], _ rows: [UInt64],
                               tMin: Int64, tMax: Int64) -> ColumnDraft? {
        let read = Event.reader(for: f)
        @inline(__always) func value(_ r: UInt64) -> Value { read(bases[Int(r >> 32)]! + Int(r & 0xffff_ffff)) }
        switch enc {
        case .timeDelta:
            var w = ByteWriter(capacity: rows.count * 2)
            for r in rows { w.varint(UInt64((bases[Int(r >> 32)]! + Int(r & 0xffff_ffff)).pointee.time - tMin)) }
            return ColumnDraft(field: f, encoding: enc, dictValues: [], body: pack(w.bytes), min: tMin, max: tMax)
        case .globalDict, .localDict:
            var table = LocalCodes(capacity: rows.count)
            var codes = [UInt32](repeating: 0, count: rows.count)
            var any = false
            for (i, r) in rows.enumerated() {
                switch value(r) {
                case .ip(let ip): codes[i] = table.code(.ip(ip))
                case .string(let s): codes[i] = table.code(.string(s))
                default: continue
                }
                any = true
            }
            guard any else { return nil }
            let values = table.values
            var w = ByteWriter()
            if enc == .localDict {
                w.varint(UInt64(values.count))
                for v in values {
                    guard case .string(let s) = v else { continue }
                    w.varint(UInt64(s.utf8.count)); w.append(s.utf8)
                }
            }
            let width: UInt8 = values.count < 256 ? 1 : values.count < 65536 ? 2 : 4
            w.u8(width)
            for c in codes {
                switch width {
                case 1: w.u8(UInt8(c))
                case 2: w.u16(UInt16(c))
                default: w.u32(c)
                }
            }
            return ColumnDraft(field: f, encoding: enc, dictValues: enc == .globalDict ? values : [],
                               body: pack(w.bytes), min: Int64(values.count), max: Int64(values.count))
        case .ints, .doubles:
            var nulls = [Bool](repeating: false, count: rows.count)
            var anyNull = false, anyValue = false
            var mn = Int64.max, mx = Int64.min
            var w = ByteWriter()
            var vals = ByteWriter()
            for (i, r) in rows.enumerated() {
                switch value(r) {
                case .int(let v):
                    anyValue = true; vals.zigzag(v); mn = Swift.min(mn, v); mx = Swift.max(mx, v)
                case .bool(let b):
                    anyValue = true; let v: Int64 = b ? 1 : 0; vals.zigzag(v); mn = Swift.min(mn, v); mx = Swift.max(mx, v)
                case .double(let d):
                    anyValue = true; vals.u64(d.bitPattern)
                    mn = Swift.min(mn, Int64(d.rounded(.down))); mx = Swift.max(mx, Int64(d.rounded(.up)))
                default:
                    nulls[i] = true; anyNull = true
                }
            }
            guard anyValue else { return nil }
            w.u8(anyNull ? 1 : 0)
            if anyNull {
                var byte: UInt8 = 0
                for (i, n) in nulls.enumerated() {
                    if n { byte |= 1 << UInt8(i & 7) }
                    if i & 7 == 7 { w.u8(byte); byte = 0 }
                }
                if nulls.count & 7 != 0 { w.u8(byte) }
            }
            w.append(vals.bytes)
            return ColumnDraft(field: f, encoding: enc, dictValues: [], body: pack(w.bytes), min: mn, max: mx)
        }
    }

    /// Whether blocks of a source keep an `event_id` column. CloudTrail's is read from
    /// the raw record (`eventID`) when a query needs it.
    public static func storesEventID(_ source: Source) -> Bool { source != .cloudtrail }

    /// Column bodies start with a flag byte: 0 stored as is, 1 zstd frame.
    private static func pack(_ b: [UInt8]) -> [UInt8] {
        if b.count < 64 { return [0] + b }
        let z = Zstd.compress(b, level: 1)
        return z.count + 8 < b.count ? [1] + z : [0] + b
    }

    /// Builds the stored block value. `ids` gives the dictionary id of each distinct value
    /// of each `globalDict` column, in the order of `dictValues`.
    package func assemble(firstSeq: UInt64, ids: [[UInt32]]) -> (value: [UInt8], hash: [UInt8]) {
        let dirSize = BlockHeader.columnEntrySize * columns.count
        var bodies: [[UInt8]] = []
        var dictIndex = 0
        for c in columns {
            if c.encoding == .globalDict {
                var w = ByteWriter(capacity: 4 + 4 * c.dictValues.count + c.body.count)
                w.u32(UInt32(c.dictValues.count))
                for id in ids[dictIndex] { w.u32(id) }
                dictIndex += 1
                w.append(c.body)
                bodies.append(w.bytes)
            } else {
                bodies.append(c.body)
            }
        }
        var w = ByteWriter(capacity: BlockHeader.fixedSize + dirSize + bodies.reduce(0) { $0 + $1.count })
        w.append(BlockHeader.magic)
        w.append([UInt8](repeating: 0, count: 32))
        w.u8(1)
        w.u8(source.code)
        w.u8(UInt8(columns.count))
        w.u8(0)
        w.u32(UInt32(count))
        w.i64(tMin)
        w.i64(tMax)
        w.u64(firstSeq)
        w.u32(UInt32(rawBytes))
        var off = BlockHeader.fixedSize + dirSize
        for (c, body) in zip(columns, bodies) {
            w.u8(c.field.columnID); w.u8(c.encoding.rawValue); w.u16(0)
            w.u32(UInt32(off)); w.u32(UInt32(body.count))
            w.i64(c.min); w.i64(c.max)
            off += body.count
        }
        for b in bodies { w.append(b) }
        var value = w.bytes
        let hash = BlockDraft.contentHash(value: value, raw: raw)
        value.replaceSubrange(4..<36, with: hash)
        return (value, hash)
    }

    /// SHA-256 of the block value after the hash field, then the raw value.
    package static func contentHash(value: [UInt8], raw: [UInt8]) -> [UInt8] {
        value.withUnsafeBytes { v in raw.withUnsafeBytes { r in contentHash(value: v, raw: r) } }
    }

    package static func contentHash(value v: UnsafeRawBufferPointer, raw r: UnsafeRawBufferPointer) -> [UInt8] {
        SHA256Digest.hash(UnsafeRawBufferPointer(rebasing: v[36...]), r)
    }
}

/// Decoding of stored columns and raw sections.
public enum BlockDecoder {
    /// Decodes one column of a block value (borrowed bytes).
    public static func column(_ info: ColumnInfo, count: Int, in value: UnsafeRawBufferPointer) throws -> Column {
        let slice = UnsafeRawBufferPointer(rebasing: value[info.offset..<info.offset + info.length])
        switch info.encoding {
        case .globalDict:
            var r = ByteReader(slice)
            let n = Int(try r.u32())
            var table = [UInt32](repeating: 0, count: n)
            for i in 0..<n { table[i] = try r.u32() }
            let body = try unpack(UnsafeRawBufferPointer(rebasing: slice[r.pos...]))
            let codes = try body.withUnsafeBytes { b throws in
                var br = ByteReader(b)
                return try readCodes(&br, count: count, limit: n)
            }
            return .global(codes: codes, table: table)
        case .localDict:
            let body = try unpack(slice)
            return try body.withUnsafeBytes { b throws -> Column in
                var r = ByteReader(b)
                let n = Int(try r.varint())
                var table: [String] = []
                table.reserveCapacity(n)
                for _ in 0..<n {
                    let len = Int(try r.varint())
                    table.append(String(decoding: try r.bytes(len), as: UTF8.self))
                }
                return .local(codes: try readCodes(&r, count: count, limit: n), table: table)
            }
        case .timeDelta:
            let body = try unpack(slice)
            return try body.withUnsafeBytes { b throws -> Column in
                var r = ByteReader(b)
                var out = [Int64](repeating: 0, count: count)
                for i in 0..<count { out[i] = info.min &+ Int64(bitPattern: try r.varint()) }
                return .times(out)
            }
        case .ints, .doubles:
            let body = try unpack(slice)
            return try body.withUnsafeBytes { b throws -> Column in
                var r = ByteReader(b)
                var nulls: [Bool] = []
                if try r.u8() == 1 {
                    let bits = try r.bytes((count + 7) / 8)
                    nulls = (0..<count).map { bits[$0 >> 3] & (1 << UInt8($0 & 7)) != 0 }
                }
                if info.encoding == .ints {
                    var vals = [Int64](repeating: 0, count: count)
                    for i in 0..<count where nulls.isEmpty || !nulls[i] { vals[i] = try r.zigzag() }
                    return .ints(values: vals, nulls: nulls)
                }
                var vals = [Double](repeating: 0, count: count)
                for i in 0..<count where nulls.isEmpty || !nulls[i] { vals[i] = Double(bitPattern: try r.u64()) }
                return .doubles(values: vals, nulls: nulls)
            }
        }
    }

    /// The local table of a `globalDict` column without decoding its rows.
    public static func globalTable(_ info: ColumnInfo, in value: UnsafeRawBufferPointer) throws -> [UInt32] {
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: value[info.offset..<info.offset + info.length]))
        let n = Int(try r.u32())
        var t = [UInt32](repeating: 0, count: n)
        for i in 0..<n { t[i] = try r.u32() }
        return t
    }

    private static func readCodes(_ r: inout ByteReader, count: Int, limit: Int) throws -> [UInt32] {
        let width = try r.u8()
        var codes = [UInt32](repeating: 0, count: count)
        let b = try r.bytes(count * Int(width))
        switch width {
        case 1: for i in 0..<count { codes[i] = UInt32(b[i]) }
        case 2: for i in 0..<count { codes[i] = UInt32(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case 4: for i in 0..<count { codes[i] = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        default: throw StoreError(.corrupt, "bad code width \(width)")
        }
        for c in codes where c > limit { throw StoreError(.corrupt, "code \(c) outside local table of \(limit)") }
        return codes
    }

    private static func unpack(_ b: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let flag = b.first else { throw StoreError(.corrupt, "empty column") }
        let rest = UnsafeRawBufferPointer(rebasing: b[1...])
        return flag == 1 ? try Zstd.decompress(rest) : Array(rest)
    }

    /// Decompresses a raw section into the records' bytes and their offsets.
    public static func raw(_ value: UnsafeRawBufferPointer) throws -> RawRecords {
        var r = ByteReader(value)
        guard try r.u8() == 1 else { throw StoreError(.corrupt, "unknown raw section version") }
        let n = Int(try r.u32())
        let body = try Zstd.decompress(UnsafeRawBufferPointer(rebasing: value[r.pos...]))
        guard body.count >= 4 * (n + 1) else { throw StoreError(.corrupt, "raw section too short") }
        return try RawRecords(body: body, count: n)
    }
}

/// The original records of one block.
public struct RawRecords: Sendable {
    let body: [UInt8]
    public let count: Int

    init(body: [UInt8], count: Int) throws {
        self.body = body; self.count = count
        let end = body.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 * count, as: UInt32.self))) }
        guard 4 * (count + 1) + end == body.count else { throw StoreError(.corrupt, "raw offsets do not match the section") }
    }

    public func withRecord<T>(_ i: Int, _ f: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body.withUnsafeBytes { b in
            let base = 4 * (count + 1)
            let s = Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            let e = Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * i + 4, as: UInt32.self)))
            return try f(UnsafeRawBufferPointer(rebasing: b[(base + s)..<(base + e)]))
        }
    }

    public subscript(i: Int) -> [UInt8] { withRecord(i) { Array($0) } }
}
