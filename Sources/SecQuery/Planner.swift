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
    /// `event_id == "x"` or `event_id in (...)`: answered exactly by the idempotency
    /// index (id -> sequence number), so the executor selects those rows directly.
    static func isEventIDLookup(_ e: BoundExpr) -> Bool {
        switch e {
        case .compare(.eq, .field(.eventID), .constant(.string)): return true
        case .inList(.field(.eventID), let list, negated: false): return list.allSatisfy { if case .string = $0 { true } else { false } }
        default: return false
        }
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
            case .compare(.eq, .field(let f), .constant(let v)) where f.isIndexed && !v.isNull:
                lookups.append(.init(field: f, values: [v]))
            case .inList(.field(let f), let list, negated: false) where f.isIndexed && !list.isEmpty:
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
