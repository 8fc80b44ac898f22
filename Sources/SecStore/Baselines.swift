import Foundation
import SecModel

/// Entity baselines and their change feed: per principal (CloudTrail), per account, per
/// network interface (VPC flow), per instance (Route 53 resolver queries) and per DB
/// instance (RDS), what each entity was seen doing, with first seen, last seen and
/// counts; and, written in the same transaction, a feed of "something new" events.
///
/// Databases (keys are length-prefixed strings so a key prefix names an entity; values
/// are fixed-width little-endian):
///
/// - `entities`: `entity kind (u8) | account (u64 BE) | entity` -> ``EntityProfile``;
/// - `items`: `entity key | item kind (u8) | item` -> first seen (i64), last seen (i64),
///   count (u64), sum (u64: bytes where the kind has them);
/// - `feed`: `feed seq (u64 BE)` -> one ``FeedEntry`` (without its bank). The next
///   feed sequence number is kept in `entities` under the key `[0]`.
///
/// Every item kind has a cap per entity (``ItemKind/cap``): once an entity keeps that
/// many items of a kind, a new item is not stored and adds to the entity's over-cap
/// counter of that kind (drop-newest: the state stays a pure function of the log in
/// sequence order, and a spray cannot evict the established profile). So an entity's
/// state is bounded by the sum of its caps, whatever it does.
public struct Baselines: Projection {
    public static let name = "baselines"
    /// 2: interfaces keep the DNS resolvers they talk to.
    public static let version: UInt32 = 2
    public static let databases = ["entities", "items", "feed"]
    public static let fields: Set<Field> = [.region, .principal, .service, .action, .outcome, .srcIP, .dstIP,
                                            .srcPort, .dstPort, .proto, .bytes, .userAgent, .resource, .resourceType, .queryName]
    public static let sources: Set<Source>? = [.cloudtrail, .vpcflow, .route53, .rds]

    /// How long an entity is "learning" from its first event: derived signals about it
    /// should not count as unusual before then (7 days of event time).
    public static let learningPeriod: Int64 = 7 * 86_400_000
    /// The longest key kept (LMDB's limit is 511 bytes): entities and items with longer
    /// keys (input text of extreme length) are not kept, counted as over the cap.
    static let maxKey = 480

    /// Caps overriding the defaults (`ItemKind.cap`), by item kind.
    public var caps: [ItemKind: Int]

    public init(caps: [ItemKind: Int] = [:]) { self.caps = caps }

    func cap(_ k: ItemKind) -> Int { caps[k] ?? k.cap }

    /// What an entity is.
    public enum EntityKind: UInt8, Sendable, CaseIterable, Codable {
        case principal = 1, account, interface, instance, db

        public var name: String {
            switch self {
            case .principal: "principal"
            case .account: "account"
            case .interface: "interface"
            case .instance: "instance"
            case .db: "db"
            }
        }
    }

    /// What an item of an entity's baseline is, its cap per entity and the feed kind a
    /// new one emits (nil: none, too frequent to be news).
    public enum ItemKind: UInt8, Sendable, CaseIterable {
        // principal (CloudTrail)
        case api = 1, network, ip, region, userAgent, bucket, bucketDay
        // account
        case principal
        // interface (VPC flow)
        case remotePort, peer, peerHour
        // instance (Route 53)
        case domain, queryType
        // DB instance (RDS)
        case dbUser, dbClient
        // interface (VPC flow): peers on port 53
        case resolver

        public var name: String {
            switch self {
            case .api: "api"
            case .network: "network"
            case .ip: "ip"
            case .region: "region"
            case .userAgent: "user_agent"
            case .bucket: "bucket"
            case .bucketDay: "bucket_day"
            case .principal: "principal"
            case .remotePort: "remote_port"
            case .peer: "peer"
            case .peerHour: "peer_hour"
            case .domain: "domain"
            case .queryType: "query_type"
            case .dbUser: "user"
            case .dbClient: "client"
            case .resolver: "resolver"
            }
        }

        /// Items of this kind kept per entity.
        public var cap: Int {
            switch self {
            case .api: 10_000
            case .network: 1_000
            case .ip: 10_000
            case .region: 64
            case .userAgent: 100
            case .bucket: 1_000
            case .bucketDay: 10_000
            case .principal: 100_000
            case .remotePort: 1_000
            case .peer: 10_000
            case .peerHour: 10_000
            case .domain: 10_000
            case .queryType: 64
            case .dbUser: 1_000
            case .dbClient: 10_000
            case .resolver: 100
            }
        }

        /// The feed kind a newly kept item emits.
        public var feedKind: String? {
            switch self {
            case .api: "new_api"
            case .network: "new_network"
            case .region: "new_region"
            case .userAgent: "new_user_agent"
            case .bucket: "new_bucket"
            case .principal: "new_principal"
            case .remotePort: "new_remote_port"
            case .domain: "new_domain"
            case .dbUser: "new_db_user"
            case .dbClient: "new_db_client"
            case .resolver: "new_resolver"
            case .ip, .bucketDay, .peer, .peerHour, .queryType: nil
            }
        }
    }

    /// Online mean and variance (Welford), with a maximum.
    public struct Stats: Sendable, Equatable {
        public var n: UInt64 = 0
        public var mean: Double = 0
        var m2: Double = 0
        public var max: Double = 0

        /// The population variance (0 below two values).
        public var variance: Double { n > 1 ? m2 / Double(n) : 0 }

        mutating func add(_ x: Double) {
            n += 1
            let d = x - mean
            mean += d / Double(n)
            m2 += d * (x - mean)
            if n == 1 || x > max { max = x }
        }

        /// Adds `k` values of 0 at once (Chan et al.'s merge of two groups).
        mutating func addZeros(_ k: UInt64) {
            guard k > 0 else { return }
            let na = Double(n), nb = Double(k), total = na + nb
            let d = -mean
            mean += d * nb / total
            m2 += d * d * na * nb / total
            if n == 0 { max = 0 }
            n += k
        }

        func write(_ w: inout ByteWriter) { w.u64(n); w.u64(mean.bitPattern); w.u64(m2.bitPattern); w.u64(max.bitPattern) }
        static func read(_ r: inout ByteReader) throws -> Stats {
            Stats(n: try r.u64(), mean: Double(bitPattern: try r.u64()), m2: Double(bitPattern: try r.u64()),
                  max: Double(bitPattern: try r.u64()))
        }
    }

    /// What the baselines know of one entity as a whole.
    public struct EntityProfile: Sendable, Equatable {
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var count: UInt64
        /// Events with outcome failure (CloudTrail: an error code); error rate is
        /// `errors / count`.
        public var errors: UInt64 = 0
        /// The open hour (event time / 3 600 000) and the events counted in it.
        public var openHour: Int64
        public var openCount: UInt64 = 0
        /// Events per hour over the closed hours from the entity's first hour to the open
        /// one, empty hours counted as 0.
        public var hourly = Stats()
        /// Query-name length and Shannon entropy (bits per character), Route 53 only.
        public var nameLength = Stats()
        public var nameEntropy = Stats()
        /// Events per hour of the week (0: Monday 00:00-01:00 UTC).
        public var hourOfWeek = [UInt32](repeating: 0, count: 168)
        /// Items kept and items not kept (over the cap), by item kind.
        public var kept = [UInt32](repeating: 0, count: ItemKind.allCases.count + 1)
        public var overCap = [UInt64](repeating: 0, count: ItemKind.allCases.count + 1)

        init(first t: Int64) { firstSeen = t; lastSeen = t; count = 0; openHour = Baselines.floorDiv(t, 3_600_000) }

        /// Whether the entity is still in its learning period at time `t`.
        public func isLearning(at t: Int64) -> Bool { t < firstSeen + Baselines.learningPeriod }

        mutating func add(_ e: Event) {
            firstSeen = Swift.min(firstSeen, e.time); lastSeen = Swift.max(lastSeen, e.time); count += 1
            if e.outcome == .failure { errors += 1 }
            let h = Baselines.floorDiv(e.time, 3_600_000)
            if h > openHour {
                hourly.add(Double(openCount))
                hourly.addZeros(UInt64(h - openHour - 1))
                openHour = h; openCount = 1
            } else {
                openCount += 1 // the open hour, or a late event: counted in the open hour
            }
            let day = Baselines.floorDiv(e.time, 86_400_000)
            let weekday = Int((day + 3) % 7) // 1970-01-01 was a Thursday
            hourOfWeek[weekday * 24 + Int(Baselines.floorDiv(e.time, 3_600_000) - day * 24)] &+= 1
        }

        func encoded() -> [UInt8] {
            var w = ByteWriter()
            w.i64(firstSeen); w.i64(lastSeen); w.u64(count); w.u64(errors); w.i64(openHour); w.u64(openCount)
            hourly.write(&w); nameLength.write(&w); nameEntropy.write(&w)
            for h in hourOfWeek { w.u32(h) }
            for k in kept { w.u32(k) }
            for o in overCap { w.u64(o) }
            return w.bytes
        }

        static func decode(_ b: [UInt8]) throws -> EntityProfile {
            try b.withUnsafeBytes { raw in
                var r = ByteReader(raw)
                var p = EntityProfile(first: try r.i64())
                p.lastSeen = try r.i64(); p.count = try r.u64(); p.errors = try r.u64()
                p.openHour = try r.i64(); p.openCount = try r.u64()
                p.hourly = try .read(&r); p.nameLength = try .read(&r); p.nameEntropy = try .read(&r)
                for i in 0..<168 { p.hourOfWeek[i] = try r.u32() }
                for i in p.kept.indices { p.kept[i] = try r.u32() }
                for i in p.overCap.indices { p.overCap[i] = try r.u64() }
                return p
            }
        }
    }

    /// One item of an entity's baseline.
    public struct Item: Sendable, Equatable, Hashable {
        public var entityKind: EntityKind
        public var account: String
        public var entity: String
        public var kind: ItemKind
        public var key: String
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var count: UInt64
        /// Bytes, for `bucket`, `bucket_day` and `peer_hour`; 0 otherwise.
        public var sum: UInt64
    }

    struct Seen {
        var first: Int64, last: Int64, count: UInt64, sum: UInt64
        mutating func add(_ t: Int64, _ s: UInt64) { first = min(first, t); last = max(last, t); count += 1; sum &+= s }
    }

    /// Actions that read an S3 object.
    static let s3Reads: Set<String> = ["GetObject", "GetObjectVersion", "SelectObjectContent", "GetObjectTorrent",
                                       "RestoreObject"]

    /// The items one event adds to entities, and the entity each belongs to.
    static func observations(_ e: Event) -> [(entity: EntityKind, id: String, items: [(ItemKind, String, UInt64)])] {
        var out: [(entity: EntityKind, id: String, items: [(ItemKind, String, UInt64)])] = []
        switch e.source {
        case .cloudtrail:
            guard let p = e.principal else { return [] }
            var items: [(ItemKind, String, UInt64)] = []
            if let a = e.action { items.append((.api, (e.service ?? "") + ":" + a, 0)) }
            if let ip = e.srcIP {
                items.append((.network, network(ip), 0))
                items.append((.ip, ip.description, 0))
            }
            if let r = e.region { items.append((.region, r, 0)) }
            if let ua = e.userAgent { items.append((.userAgent, ua, 0)) }
            if e.service == "s3.amazonaws.com", let a = e.action, s3Reads.contains(a), let res = e.resource {
                let bucket = String(res.prefix { $0 != "/" })
                let b = UInt64(max(0, e.bytes ?? 0))
                items.append((.bucket, bucket, b))
                let d = Timestamp.civil(days: Int(floorDiv(e.time, 86_400_000)))
                items.append((.bucketDay, bucket + " " + dateString(d), b))
            }
            out.append((.principal, p, items))
            out.append((.account, e.account, [(.principal, p, 0)]))
        case .vpcflow:
            guard let iface = e.resource else { return [] }
            // The remote side: the destination, unless the destination port is ephemeral
            // and the source's is lower (a reply from a service): then the source.
            var peer = e.dstIP, port = e.dstPort
            if let dp = e.dstPort, let sp = e.srcPort, dp >= 32768, sp < dp { peer = e.srcIP; port = e.srcPort }
            var items: [(ItemKind, String, UInt64)] = []
            if let port { items.append((.remotePort, "\(port)", 0)) }
            if let peer {
                let b = UInt64(max(0, e.bytes ?? 0)), text = peer.description
                items.append((.peer, text, b))
                items.append((.peerHour, text + " " + hourString(e.time), b))
                // The DNS servers an interface uses (Route 53 query logs name none).
                if port == 53 { items.append((.resolver, text, 0)) }
            }
            out.append((.interface, iface, items))
        case .route53:
            guard let instance = e.resource, e.resourceType == nil || e.resourceType == "AWS::EC2::Instance" else { return [] }
            var items: [(ItemKind, String, UInt64)] = []
            if let q = e.queryName { items.append((.domain, q, 0)) }
            if let t = e.action { items.append((.queryType, t, 0)) }
            out.append((.instance, instance, items))
        case .rds:
            guard let res = e.resource else { return [] }
            let db = String(res.prefix { $0 != "/" })
            var items: [(ItemKind, String, UInt64)] = []
            if let u = e.principal { items.append((.dbUser, u, 0)) }
            if let c = e.srcIP { items.append((.dbClient, c.description, 0)) }
            out.append((.db, db, items))
        default:
            break
        }
        return out
    }

    /// The network of an address: IPv4 /24, IPv6 /48.
    public static func network(_ ip: IPAddress) -> String {
        if ip.isV4 {
            let v = ip.v4
            return "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).0/24"
        }
        return IPAddress(hi: ip.hi & 0xffff_ffff_ffff_0000, lo: 0).description + "/48"
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    static func dateString(_ d: (year: Int, month: Int, day: Int)) -> String {
        func p2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(d.year)-\(p2(d.month))-\(p2(d.day))"
    }

    /// `YYYY-MM-DDTHH` of an event time (UTC).
    static func hourString(_ t: Int64) -> String {
        let day = floorDiv(t, 86_400_000)
        let h = Int(floorDiv(t, 3_600_000) - day * 24)
        return dateString(Timestamp.civil(days: Int(day))) + (h < 10 ? "T0\(h)" : "T\(h)")
    }

    /// Shannon entropy of a string's bytes, in bits per byte.
    public static func entropy(_ s: String) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        var n = 0
        for b in s.utf8 { counts[Int(b)] += 1; n += 1 }
        guard n > 0 else { return 0 }
        var h = 0.0
        for c in counts where c > 0 {
            let p = Double(c) / Double(n)
            h -= p * log2(p)
        }
        return h
    }

    static func entityKey(_ kind: EntityKind, _ account: UInt64, _ id: String) -> [UInt8] {
        var k: [UInt8] = [kind.rawValue]
        BE.put(account, into: &k)
        APIBaselines.put(id, into: &k)
        return k
    }

    static let feedHeadKey: [UInt8] = [0]

    public func fold(_ events: [Event], into state: ProjectionWriter) throws {
        let entitiesDB = state.database("entities"), itemsDB = state.database("items"), feedDB = state.database("feed")
        var entities: [ByteKey: EntityProfile] = [:]
        var items: [ByteKey: Seen] = [:]
        var accounts: [String: UInt64] = [:]
        var held: (ByteKey, EntityProfile)? = nil
        var feedSeq = try entitiesDB.get(Baselines.feedHeadKey).map { b in b.withUnsafeBytes { BE.u64($0) } } ?? 0
        let firstFeed = feedSeq
        var feed: [FeedEntry] = []
        for e in events {
            let account: UInt64
            if let a = accounts[e.account] { account = a } else {
                guard let a = BlockKey.accountNumber(e.account) else { continue }
                accounts[e.account] = a
                account = a
            }
            for o in Baselines.observations(e) {
                let ek = ByteKey(Baselines.entityKey(o.entity, account, o.id))
                // An entity whose key LMDB cannot hold (a principal ARN with a very long
                // IAM path) is not profiled.
                guard ek.bytes.count <= Baselines.maxKey else { continue }
                var p: EntityProfile
                // Taken out while it changes: a copy left in the table would make every
                // change copy its arrays. The last entity stays out until another comes
                // (flow logs give one interface's records in runs).
                if let (k, x) = held, k == ek { p = x; held = nil } else {
                    if let (k, x) = held { entities[k] = x; held = nil }
                    if let x = entities.removeValue(forKey: ek) { p = x } else if let stored = try entitiesDB.get(ek.bytes) {
                        p = try EntityProfile.decode(stored)
                    } else {
                        p = EntityProfile(first: e.time)
                    }
                }
                p.add(e)
                if o.entity == .instance, let q = e.queryName {
                    p.nameLength.add(Double(q.utf8.count))
                    p.nameEntropy.add(Baselines.entropy(q))
                }
                for (kind, key, sum) in o.items {
                    var ikBytes = ek.bytes
                    ikBytes.append(kind.rawValue)
                    APIBaselines.put(key, into: &ikBytes)
                    if ikBytes.count > Baselines.maxKey {
                        p.overCap[Int(kind.rawValue)] += 1
                        continue
                    }
                    let ik = ByteKey(ikBytes)
                    if let i = items.index(forKey: ik) {
                        items.values[i].add(e.time, sum)
                    } else if let stored = try itemsDB.get(ikBytes) {
                        var s = try Baselines.decodeSeen(stored)
                        s.add(e.time, sum)
                        items[ik] = s
                    } else if Int(p.kept[Int(kind.rawValue)]) < cap(kind) {
                        p.kept[Int(kind.rawValue)] += 1
                        items[ik] = Seen(first: e.time, last: e.time, count: 1, sum: sum)
                        if let fk = kind.feedKind {
                            feedSeq += 1
                            feed.append(FeedEntry(feedSeq: feedSeq, kind: fk, bank: e.bank, account: e.account,
                                                  region: e.region ?? "", entityType: o.entity.name, entity: o.id,
                                                  key: key, time: e.time, seq: e.seq, learning: p.isLearning(at: e.time)))
                        }
                    } else {
                        p.overCap[Int(kind.rawValue)] += 1
                    }
                }
                held = (ek, p)
            }
        }
        if let (k, x) = held { entities[k] = x }
        for (k, p) in entities.sorted(by: { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }) {
            try entitiesDB.put(k.bytes, p.encoded())
        }
        for (k, s) in items.sorted(by: { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }) {
            var w = ByteWriter()
            w.i64(s.first); w.i64(s.last); w.u64(s.count); w.u64(s.sum)
            try itemsDB.put(k.bytes, w.bytes)
        }
        for f in feed { try feedDB.put(BE.bytes(f.feedSeq), f.encoded()) }
        if feedSeq != firstFeed { try entitiesDB.put(Baselines.feedHeadKey, BE.bytes(feedSeq)) }
    }

    static func decodeSeen(_ b: [UInt8]) throws -> Seen {
        try b.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            return Seen(first: try r.i64(), last: try r.i64(), count: try r.u64(), sum: try r.u64())
        }
    }

    // MARK: Reading

    /// Decodes one entry of the `items` database.
    public static func item(key: [UInt8], value: [UInt8]) throws -> Item {
        try key.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            guard let ek = EntityKind(rawValue: try r.u8()) else { throw StoreError(.corrupt, "baselines: bad entity kind") }
            let account = BlockKey.accountString(BE.u64(try r.bytes(8)))
            let entity = try APIBaselines.string(&r)
            guard let kind = ItemKind(rawValue: try r.u8()) else { throw StoreError(.corrupt, "baselines: bad item kind") }
            let key = try APIBaselines.string(&r)
            let s = try decodeSeen(value)
            return Item(entityKind: ek, account: account, entity: entity, kind: kind, key: key, firstSeen: s.first,
                        lastSeen: s.last, count: s.count, sum: s.sum)
        }
    }

    /// Every stored item of a bank, in key order.
    public static func items(in bank: BankStore) throws -> [Item] {
        try (bank.projectionEntries(Baselines())["items"] ?? []).map { try item(key: $0.key, value: $0.value) }
    }

    /// Every entity's profile of a bank.
    public static func profiles(in bank: BankStore) throws -> [EntityRef: EntityProfile] {
        var out: [EntityRef: EntityProfile] = [:]
        for row in try bank.projectionEntries(Baselines())["entities"] ?? [] where row.key != feedHeadKey {
            out[try EntityRef(key: row.key)] = try EntityProfile.decode(row.value)
        }
        return out
    }
}

/// An entity of the baselines: its kind, account and id (principal ARN, account id,
/// interface id, instance id, DB instance).
public struct EntityRef: Sendable, Hashable {
    public var kind: Baselines.EntityKind
    public var account: String
    public var id: String

    public init(kind: Baselines.EntityKind, account: String, id: String) {
        self.kind = kind; self.account = account; self.id = id
    }

    init(key: [UInt8]) throws {
        (kind, account, id) = try key.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            guard let ek = Baselines.EntityKind(rawValue: try r.u8()) else { throw StoreError(.corrupt, "baselines: bad entity kind") }
            return (ek, BlockKey.accountString(BE.u64(try r.bytes(8))), try APIBaselines.string(&r))
        }
    }

    var key: [UInt8]? {
        BlockKey.accountNumber(account).map { Baselines.entityKey(kind, $0, id) }
    }
}

/// One entry of the baselines change feed: the first time an entity was seen with an
/// item of a kind that emits (see docs/storage.md).
public struct FeedEntry: Sendable, Equatable, Codable {
    /// The entry's number in the bank's feed: 1, 2, 3, ... in the log's sequence order.
    public var feedSeq: UInt64
    /// `new_api`, `new_network`, `new_region`, `new_user_agent`, `new_bucket`,
    /// `new_principal`, `new_remote_port`, `new_domain`, `new_db_user`, `new_db_client`.
    public var kind: String
    public var bank: String
    public var account: String
    /// The event's region ("" when it has none).
    public var region: String
    /// `principal`, `account`, `interface`, `instance` or `db`.
    public var entityType: String
    public var entity: String
    /// The new thing: `service:action`, a network, a region, a port, a domain...
    public var key: String
    /// The event's time (ms since the epoch) and its log sequence number.
    public var time: Int64
    public var seq: UInt64
    /// Whether the entity was still in its learning period at the event's time.
    public var learning: Bool

    enum CodingKeys: String, CodingKey {
        case feedSeq = "feed_seq", kind, bank, account, region, entityType = "entity_type", entity, key, time, seq, learning
    }

    public init(feedSeq: UInt64, kind: String, bank: String, account: String, region: String, entityType: String,
                entity: String, key: String, time: Int64, seq: UInt64, learning: Bool) {
        self.feedSeq = feedSeq; self.kind = kind; self.bank = bank; self.account = account; self.region = region
        self.entityType = entityType; self.entity = entity; self.key = key; self.time = time; self.seq = seq
        self.learning = learning
    }

    /// The stored form: everything but the feed seq (the key) and the bank.
    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.i64(time); w.u64(seq); w.u8(learning ? 1 : 0)
        var s: [UInt8] = []
        for x in [kind, account, region, entityType, entity, key] { APIBaselines.put(x, into: &s) }
        return w.bytes + s
    }

    static func decode(feedSeq: UInt64, bank: String, _ b: UnsafeRawBufferPointer) throws -> FeedEntry {
        var r = ByteReader(b)
        let time = try r.i64(), seq = try r.u64(), learning = try r.u8() != 0
        let kind = try APIBaselines.string(&r), account = try APIBaselines.string(&r), region = try APIBaselines.string(&r)
        let entityType = try APIBaselines.string(&r), entity = try APIBaselines.string(&r), key = try APIBaselines.string(&r)
        return FeedEntry(feedSeq: feedSeq, kind: kind, bank: bank, account: account, region: region,
                         entityType: entityType, entity: entity, key: key, time: time, seq: seq, learning: learning)
    }
}

extension BankStore {
    /// The baselines' databases, opened (created when missing) with the bank so that a
    /// snapshot can read them.
    func baselinesDB(_ short: String) throws -> DB {
        let name = BankStore.databaseName(Baselines(), short)
        return try projectionDBs.open([name], in: env)[name]!
    }
}

extension BankSnapshot {
    /// The baselines change feed from feed sequence number `from` on, at most `limit`
    /// entries, in feed order. Empty when nothing (more) was emitted or the baselines were
    /// never built.
    public func feed(from: UInt64, limit: Int) throws -> [FeedEntry] {
        guard limit > 0, let db = bank.projectionDBs.cached(BankStore.databaseName(Baselines(), "feed")) else { return [] }
        let c = try Cursor(txn: txn, db: db)
        var out: [FeedEntry] = []
        var e = try BE.bytes(max(from, 1)).withUnsafeBytes { try c.seek($0) }
        while let cur = e, out.count < limit {
            out.append(try FeedEntry.decode(feedSeq: BE.u64(cur.key), bank: bank.id, cur.value))
            e = try c.next()
        }
        return out
    }

    /// The last feed sequence number written (0: none).
    public func feedHead() throws -> UInt64 {
        guard let db = bank.projectionDBs.cached(BankStore.databaseName(Baselines(), "entities")) else { return 0 }
        return try Baselines.feedHeadKey.withUnsafeBytes { k in try TxnRef(txn).get(db, k) { BE.u64($0) } } ?? 0
    }

    /// The stored profile of an entity, nil when the baselines never saw it.
    public func profile(_ entity: EntityRef) throws -> Baselines.EntityProfile? {
        guard let key = entity.key,
              let db = bank.projectionDBs.cached(BankStore.databaseName(Baselines(), "entities")) else { return nil }
        return try key.withUnsafeBytes { k in try TxnRef(txn).get(db, k) { Array($0) } }.map(Baselines.EntityProfile.decode)
    }

    /// Whether `entity` is in its learning period at time `t` (ms): it was first seen
    /// less than ``Baselines/learningPeriod`` before `t`, or never seen at all.
    public func isLearning(_ entity: EntityRef, at t: Int64) throws -> Bool {
        try profile(entity)?.isLearning(at: t) ?? true
    }
}

/// The baselines change feed as a log subscribers can follow (`secq subscribe --feed
/// baselines`): positions are feed sequence numbers.
public struct FeedLog: SubscribableLog {
    public init() {}

    public var name: String { Baselines.name }

    public func head(_ snap: BankSnapshot) throws -> UInt64 { try snap.feedHead() }

    public func read(_ snap: BankSnapshot, from: UInt64, limit: Int) throws -> (items: [(seq: UInt64, item: FeedEntry)], next: UInt64) {
        let entries = try snap.feed(from: from, limit: limit)
        return (entries.map { ($0.feedSeq, $0) }, (entries.last.map { $0.feedSeq + 1 }) ?? from)
    }
}

/// Bytes as a dictionary key, hashed in one call (an array of bytes hashes byte by byte).
struct ByteKey: Hashable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into h: inout Hasher) { bytes.withUnsafeBytes { h.combine(bytes: $0) } }
}
