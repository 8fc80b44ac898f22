import SecModel

/// One row of the `baselines` query table: one thing an entity was seen doing, with
/// when it was first and last seen and how often.
///
/// The entity is a principal (CloudTrail), a network interface (VPC flow), an instance
/// (Route 53 resolver) or a database (RDS); `entityType` says which and `entity` names it.
/// `kind` says what `key` is: `principal` (the entity itself: all its activity), `api`
/// (`service:action`), and the kinds other baselines add.
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

    public init(account: String, region: String, entityType: String, entity: String, kind: String, key: String,
                firstSeen: Int64, lastSeen: Int64, count: UInt64) {
        self.account = account; self.region = region; self.entityType = entityType; self.entity = entity
        self.kind = kind; self.key = key; self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.count = count
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

extension APIBaselines: BaselineTable {
    public func baselineRows(_ entries: [String: [(key: [UInt8], value: [UInt8])]]) throws -> [BaselineRow] {
        var out: [BaselineRow] = []
        for (k, v) in entries["principals"] ?? [] {
            let (account, region, principal) = try k.withUnsafeBytes { raw in
                var r = ByteReader(raw)
                return (BlockKey.accountString(BE.u64(try r.bytes(8))), try APIBaselines.string(&r), try APIBaselines.string(&r))
            }
            let p = try APIBaselines.decodePrincipal(v)
            out.append(BaselineRow(account: account, region: region, entityType: "principal", entity: principal,
                                   kind: "principal", key: principal, firstSeen: p.seen.first, lastSeen: p.seen.last,
                                   count: p.seen.count))
        }
        for (k, v) in entries["apis"] ?? [] {
            let a = try APIBaselines.api(key: k, value: v)
            out.append(BaselineRow(account: a.account, region: a.region, entityType: "principal", entity: a.principal,
                                   kind: "api", key: a.service + ":" + a.action, firstSeen: a.firstSeen,
                                   lastSeen: a.lastSeen, count: a.count))
        }
        return out
    }
}
