import SecModel

/// One row of the `baselines` query table: one thing an entity was seen doing, with
/// when it was first and last seen and how often.
///
/// The entity is a principal (CloudTrail), an account, a network interface (VPC flow),
/// an instance (Route 53 resolver) or a database (RDS); `entityType` says which and
/// `entity` names it. `kind` says what `key` is: the entity type itself for the entity's
/// own row (all its activity; `key` is the entity), `api` (`service:action`, per region),
/// and the item kinds of ``Baselines/ItemKind`` (`network`, `ip`, `remote_port` ...).
public struct BaselineRow: Sendable, Equatable {
    public var account: String
    public var region: String
    public var entityType: String
    public var entity: String
    public var kind: String
    public var key: String
    /// Event times, ms.
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var count: UInt64
    /// Bytes, for the kinds that sum them (`bucket`, `bucket_day`, `peer`, `peer_hour`).
    public var bytes: UInt64?

    public init(account: String, region: String, entityType: String, entity: String, kind: String, key: String,
                firstSeen: Int64, lastSeen: Int64, count: UInt64, bytes: UInt64? = nil) {
        self.account = account; self.region = region; self.entityType = entityType; self.entity = entity
        self.kind = kind; self.key = key; self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.count = count
        self.bytes = bytes
    }
}

/// A projection whose state reads as rows of the `baselines` table.
public protocol BaselineTable: Projection {
    /// The rows of the projection's state in one bank.
    func baselineRows(_ entries: [String: [(key: [UInt8], value: [UInt8])]]) throws -> [BaselineRow]
}

extension BankStore {
    /// Every row of the `baselines` table in this bank, from each built-in projection
    /// that has them (read in one snapshot per projection).
    public func baselineRows() throws -> [BaselineRow] {
        var out: [BaselineRow] = []
        for p in Projections.builtIn {
            guard let t = p as? any BaselineTable else { continue }
            out += try t.baselineRows(projectionEntries(p))
        }
        return out
    }
}

/// The APIs per region (the entities and their other items come from ``Baselines``).
extension APIBaselines: BaselineTable {
    public func baselineRows(_ entries: [String: [(key: [UInt8], value: [UInt8])]]) throws -> [BaselineRow] {
        var out: [BaselineRow] = []
        for (k, v) in entries["apis"] ?? [] {
            let a = try APIBaselines.api(key: k, value: v)
            out.append(BaselineRow(account: a.account, region: a.region, entityType: "principal", entity: a.principal,
                                   kind: "api", key: a.service + ":" + a.action, firstSeen: a.firstSeen,
                                   lastSeen: a.lastSeen, count: a.count))
        }
        return out
    }
}

/// Each entity's own row and its items, but APIs (``APIBaselines`` has them per region).
extension Baselines: BaselineTable {
    static let summed: Set<ItemKind> = [.bucket, .bucketDay, .peer, .peerHour]

    public func baselineRows(_ entries: [String: [(key: [UInt8], value: [UInt8])]]) throws -> [BaselineRow] {
        var out: [BaselineRow] = []
        for (k, v) in entries["entities"] ?? [] where k != Baselines.feedHeadKey {
            let e = try EntityRef(key: k)
            let p = try EntityProfile.decode(v)
            out.append(BaselineRow(account: e.account, region: "", entityType: e.kind.name, entity: e.id, kind: e.kind.name,
                                   key: e.id, firstSeen: p.firstSeen, lastSeen: p.lastSeen, count: p.count))
        }
        for (k, v) in entries["items"] ?? [] {
            let i = try Baselines.item(key: k, value: v)
            guard i.kind != .api else { continue }
            out.append(BaselineRow(account: i.account, region: "", entityType: i.entityKind.name, entity: i.entity,
                                   kind: i.kind.name, key: i.key, firstSeen: i.firstSeen, lastSeen: i.lastSeen,
                                   count: i.count, bytes: Baselines.summed.contains(i.kind) ? i.sum : nil))
        }
        return out
    }
}
