import SecModel
import SecStore

/// The query pipeline end to end: text -> parse -> bind -> plan -> execute.
public struct QueryEngine: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// Every form of a query on its way to execution, for `secq explain`.
    public struct Prepared: Sendable {
        public var text: String
        public var parsed: Query
        public var bound: BoundQuery
        public var plan: Plan
    }

    /// Parses, binds and plans a query.
    ///
    /// - Parameters:
    ///   - banks: the banks to read; nil for every registered bank.
    ///   - now: what `since` and `ago()` count back from.
    /// - Throws: `QueryError` for the text (with its place), `StoreError` for the store.
    public func prepare(_ text: String, banks: [String]? = nil, now: Int64) throws -> Prepared {
        let parsed = try Parser.parse(text)
        let bound = try Binder(now: now).bind(parsed)
        let org = try store.org()
        var accountsOf: [String: [String]] = [:]
        for b in org.banks { accountsOf[b.id] = b.accounts.map(\.id) }
        let all = org.banks.map(\.id)
        let selected = banks.map { names in all.filter(names.contains) } ?? all
        return Prepared(text: text, parsed: parsed, bound: bound, plan: Planner.plan(bound, banks: selected, accountsOf: accountsOf))
    }

    public func run(_ prepared: Prepared) throws -> QueryResult {
        try run(prepared, groupLimit: GroupTable.defaultLimit)
    }

    /// Runs with a smaller bound on the groups a `stats` may hold (tests). Past it the
    /// query stops with `QueryError.Code.tooManyGroups`, its carets under the stage.
    func run(_ prepared: Prepared, groupLimit: Int) throws -> QueryResult {
        do {
            return try Executor(store: store, groupLimit: groupLimit).execute(prepared.plan)
        } catch let e as GroupLimitExceeded {
            throw e.queryError(at: Self.statsRange(prepared, boundStage: e.stage) ?? SourceRange(start: 0, end: prepared.text.utf8.count))
        }
    }

    /// The written stage a bound `stats` came from: the k-th `stats`, `top`, `rare` or
    /// `timechart` for the k-th bound `stats`.
    static func statsRange(_ prepared: Prepared, boundStage: Int) -> SourceRange? {
        guard boundStage < prepared.bound.stages.count else { return nil }
        let k = prepared.bound.stages.prefix(boundStage).filter { if case .stats = $0 { true } else { false } }.count
        let written = prepared.parsed.stages.filter {
            switch $0 {
            case .stats, .top, .rare, .timechart: return true
            default: return false
            }
        }
        return k < written.count ? written[k].range : nil
    }

    /// Blocks each bank's key ranges and postings name, without reading them.
    public func candidateBlocks(_ prepared: Prepared) throws -> [(bank: String, blocks: Int, total: UInt64)] {
        let org = try store.org()
        var out: [(String, Int, UInt64)] = []
        for id in prepared.plan.banks {
            let bank = try store.bank(id)
            let bankAccounts = org.banks.first { $0.id == id }?.accounts.map(\.id) ?? []
            let accounts = prepared.plan.accounts.map { a in bankAccounts.filter { a.contains($0) } }
            let (n, total) = try bank.read { snap in
                (try Executor.candidates(prepared.plan, accounts: accounts, snap).0.count, try snap.state().blocks)
            }
            out.append((id, n, total))
        }
        return out
    }
}
