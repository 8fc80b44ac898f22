import SecModel

/// A plan: which banks, accounts and time range to read, which indexes narrow the
/// blocks, and the per-row work that remains.
public struct Plan: Sendable, Equatable {
    public var query: BoundQuery
    /// Banks to read, in order.
    public var banks: [String]
    /// Accounts to read (nil: every account of each bank).
    public var accounts: [String]?
    /// Equality look-ups in the block-level postings; a block must match every one.
    public var lookups: [Lookup]
    /// Conjuncts evaluated per block (on dictionaries) or per row.
    public var filter: [BoundExpr]

    public struct Lookup: Sendable, Equatable, CustomStringConvertible {
        public var field: Field
        public var values: [Value]
        public var description: String { "\(field.rawValue) in postings [" + values.map(\.text).joined(separator: ", ") + "]" }
    }

    /// A stable text form for `secq explain` and golden tests.
    public func dump() -> String {
        var lines: [String] = []
        lines.append("banks " + (banks.isEmpty ? "(none)" : banks.joined(separator: ", ")))
        lines.append("accounts " + (accounts.map { $0.isEmpty ? "(none)" : $0.joined(separator: ", ") } ?? "all"))
        lines.append("time [" + (query.from.map { Timestamp.rfc3339(millis: $0) } ?? "-inf") + ", "
                     + (query.to.map { Timestamp.rfc3339(millis: $0) } ?? "+inf") + "]")
        if lookups.isEmpty { lines.append("blocks by key range (account, time)") }
        for l in lookups { lines.append("blocks by " + l.description) }
        for f in filter { lines.append("filter \(f)") }
        let slots = query.slots.compactMap { $0?.name }
        if !slots.isEmpty { lines.append("read " + slots.joined(separator: ", ")) }
        for s in query.stages { lines.append("then " + s.description) }
        return lines.joined(separator: "\n")
    }
}

/// Turns a bound query into a plan. Pure: it knows the organisation, not the store.
public enum Planner {
    /// `event_id == "x"` or `event_id in (...)` with CloudTrail-shaped ids (UUIDs):
    /// answered exactly by the idempotency index (id -> sequence number), so the
    /// executor selects those rows directly.
    ///
    /// Only CloudTrail's ids are in that index. Of the other sources, none gives UUIDs
    /// as ids (GuardDuty and secq findings: 32 hex digits; S3 request ids: 16
    /// characters; CloudFront: 56 base64; AWS Config: a number), so any other value is
    /// looked for by a scan, which finds it in every source's `event_id`.
    static func isEventIDLookup(_ e: BoundExpr) -> Bool {
        switch e {
        case .compare(.eq, .field(.eventID), .constant(.string(let id))): return isUUID(id)
        case .inList(.field(.eventID), let list, negated: false):
            return list.allSatisfy { if case .string(let id) = $0 { isUUID(id) } else { false } }
        default: return false
        }
    }

    /// 8-4-4-4-12 hex digits, either case.
    static func isUUID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 { if c != 45 { return false }; continue }
            guard (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) else { return false }
        }
        return true
    }

    /// - Parameters:
    ///   - banks: the banks the caller may read and asked for, in order.
    ///   - accountsOf: each bank's account ids.
    public static func plan(_ q: BoundQuery, banks: [String], accountsOf: [String: [String]]) -> Plan {
        var banks = banks
        var accounts: Set<String>? = nil
        var lookups: [Plan.Lookup] = []
        for c in q.filter {
            switch c {
            case .compare(.eq, .field(.bank), .constant(.string(let b))):
                banks = banks.filter { $0 == b }
            case .inList(.field(.bank), let list, negated: false):
                let names = Set(list.map(\.text))
                banks = banks.filter { names.contains($0) }
            case .compare(.eq, .field(.account), .constant(.string(let a))):
                accounts = (accounts ?? [a]).intersection([a])
            case .inList(.field(.account), let list, negated: false):
                let names = Set(list.map(\.text))
                accounts = (accounts ?? names).intersection(names)
            case .compare(.eq, .field(let f), .constant(let v)) where f.isIndexed && !v.isNull && (f != .eventID || isEventIDLookup(c)):
                lookups.append(.init(field: f, values: [v]))
            case .inList(.field(let f), let list, negated: false) where f.isIndexed && !list.isEmpty && (f != .eventID || isEventIDLookup(c)):
                lookups.append(.init(field: f, values: list))
            default:
                break
            }
        }
        if let accounts {
            // A bank whose accounts are all excluded has nothing to read.
            banks = banks.filter { !(accountsOf[$0] ?? []).filter(accounts.contains).isEmpty }
        }
        return Plan(query: q, banks: banks, accounts: accounts.map { $0.sorted() }, lookups: lookups, filter: q.filter)
    }
}
