import SecModel

/// Per-principal API baselines: for each principal of CloudTrail events, each API
/// (service + action) it called, with first seen, last seen and count, kept per account
/// and region as GuardDuty's profiles are.
///
/// Databases (keys are length-prefixed so a prefix names an account, a region or a
/// principal; values are fixed-width little-endian):
///
/// - `principals`: `account (u64 BE) | region | principal` ->
///   first seen (i64), last seen (i64), events (u64), APIs kept (u32), events of APIs
///   not kept (u64);
/// - `apis`: `account | region | principal | service | action` ->
///   first seen (i64), last seen (i64), count (u64).
///
/// Strings are `u16 BE length | UTF-8 bytes` (cut at 1024 bytes). Times are event
/// times in ms: first seen is the earliest, last seen the latest, whatever the order
/// events arrive in.
///
/// **Cap: drop-newest.** A principal keeps at most `cap` APIs per account and region
/// (10 000 by default; AWS has about 15 000 actions in all, and a real role calls a few
/// dozen). Once full, calls of APIs it has not kept are counted in the principal's
/// `not kept` counter and nothing else is stored. Dropping the newest rather than the
/// least recently used keeps the state a pure function of the log in sequence order (a
/// rebuild gives the same bytes), and keeps the established profile: an attacker
/// spraying calls cannot evict it to make old behaviour look new again. A non-zero
/// `not kept` counter marks the profile as saturated.
public struct APIBaselines: Projection {
    public static let name = "api-baselines"
    public static let version: UInt32 = 1
    public static let databases = ["principals", "apis"]
    public static let fields: Set<Field> = [.region, .principal, .service, .action]
    public static let sources: Set<Source>? = [.cloudtrail]

    /// APIs kept per principal, account and region.
    public var cap: Int

    public init(cap: Int = 10_000) { self.cap = cap }

    /// One API of one principal.
    public struct API: Sendable, Equatable, Hashable {
        public var account: String
        public var region: String
        public var principal: String
        public var service: String
        public var action: String
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var count: UInt64

        public init(account: String, region: String, principal: String, service: String, action: String,
                    firstSeen: Int64, lastSeen: Int64, count: UInt64) {
            self.account = account; self.region = region; self.principal = principal; self.service = service
            self.action = action; self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.count = count
        }
    }

    struct Seen {
        var first: Int64, last: Int64, count: UInt64
        mutating func add(_ t: Int64) { first = min(first, t); last = max(last, t); count += 1 }
    }

    struct PrincipalState {
        var seen: Seen
        var apis: UInt32
        var notKept: UInt64
    }

    public func fold(_ events: [Event], into state: ProjectionWriter) throws {
        let apisDB = state.database("apis"), principalsDB = state.database("principals")
        var apis: [ByteKey: Seen] = [:]
        var principals: [ByteKey: PrincipalState] = [:]
        for e in events where e.source == .cloudtrail {
            guard let principal = e.principal, let action = e.action,
                  let account = BlockKey.accountNumber(e.account) else { continue }
            var pk: [UInt8] = []
            BE.put(account, into: &pk)
            APIBaselines.put(e.region ?? "", into: &pk)
            APIBaselines.put(principal, into: &pk)
            // A principal whose key LMDB cannot hold is not kept (see Baselines.maxKey).
            guard pk.count <= Baselines.maxKey else { continue }
            let pkey = ByteKey(pk)
            var ps: PrincipalState
            if let p = principals[pkey] { ps = p } else if let stored = try principalsDB.get(pk) {
                ps = try APIBaselines.decodePrincipal(stored)
            } else {
                ps = PrincipalState(seen: Seen(first: e.time, last: e.time, count: 0), apis: 0, notKept: 0)
            }
            ps.seen.add(e.time)
            var ak = pk
            APIBaselines.put(e.service ?? "", into: &ak)
            APIBaselines.put(action, into: &ak)
            if ak.count > Baselines.maxKey {
                ps.notKept += 1
                principals[pkey] = ps
                continue
            }
            let akey = ByteKey(ak)
            if let i = apis.index(forKey: akey) {
                apis.values[i].add(e.time)
            } else if let stored = try apisDB.get(ak) {
                var s = try APIBaselines.decodeSeen(stored)
                s.add(e.time)
                apis[akey] = s
            } else if ps.apis < cap {
                ps.apis += 1
                apis[akey] = Seen(first: e.time, last: e.time, count: 1)
            } else {
                ps.notKept += 1
            }
            principals[pkey] = ps
        }
        // Sorted keys: LMDB writes fewer pages, and the order is reproducible.
        for (k, p) in principals.sorted(by: { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }) {
            var w = ByteWriter()
            w.i64(p.seen.first); w.i64(p.seen.last); w.u64(p.seen.count); w.u32(p.apis); w.u64(p.notKept)
            try principalsDB.put(k.bytes, w.bytes)
        }
        for (k, s) in apis.sorted(by: { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }) {
            var w = ByteWriter()
            w.i64(s.first); w.i64(s.last); w.u64(s.count)
            try apisDB.put(k.bytes, w.bytes)
        }
    }

    static let maxString = 1024

    static func put(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { u in
            let n = Swift.min(u.count, maxString)
            out.append(UInt8(n >> 8)); out.append(UInt8(n & 0xff))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: u[0..<n]))
        }
    }

    static func string(_ r: inout ByteReader) throws -> String {
        let hi = Int(try r.u8()), lo = Int(try r.u8())
        return String(decoding: try r.bytes(hi << 8 | lo), as: UTF8.self)
    }

    static func decodeSeen(_ b: [UInt8]) throws -> Seen {
        try b.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            return Seen(first: try r.i64(), last: try r.i64(), count: try r.u64())
        }
    }

    static func decodePrincipal(_ b: [UInt8]) throws -> PrincipalState {
        try b.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            let seen = Seen(first: try r.i64(), last: try r.i64(), count: try r.u64())
            return PrincipalState(seen: seen, apis: try r.u32(), notKept: try r.u64())
        }
    }

    /// Decodes one entry of the `apis` database.
    public static func api(key: [UInt8], value: [UInt8]) throws -> API {
        try key.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            let account = BlockKey.accountString(BE.u64(try r.bytes(8)))
            let region = try string(&r), principal = try string(&r), service = try string(&r), action = try string(&r)
            let s = try decodeSeen(value)
            return API(account: account, region: region, principal: principal, service: service, action: action,
                       firstSeen: s.first, lastSeen: s.last, count: s.count)
        }
    }

    /// The stored APIs of a bank, in key order (account, region, principal, service, action).
    public static func apis(in bank: BankStore) throws -> [API] {
        try (bank.projectionEntries(APIBaselines())["apis"] ?? []).map { try api(key: $0.key, value: $0.value) }
    }
}
