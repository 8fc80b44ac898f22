import SecDetect
import SecModel
import SecStore

/// The detectors' ``BaselineView`` over a bank's `baselines` projection, read inside the
/// detection batch's write transaction (valid only there).
///
/// The projection has been folded at least through the batch's last event (see
/// ``BankStore/baselineLookup(_:writer:through:)``), so an event's own items are in it
/// and the answers are a function of the log. A read error is kept (the protocol's
/// answers do not throw) and thrown by ``check()`` after the batch's events, failing
/// the batch.
///
/// `@unchecked Sendable`: used on the thread of the transaction only.
final class StoreBaselineView: BaselineView, @unchecked Sendable {
    let lookup: BaselineLookup
    let learningPeriod: Int64
    private var error: (any Error)?

    init(_ lookup: BaselineLookup, learningPeriod: Int64) {
        self.lookup = lookup
        self.learningPeriod = learningPeriod
    }

    static func ref(_ e: BaselineEntity) -> EntityRef {
        let kind: Baselines.EntityKind
        switch e.kind {
        case .principal: kind = .principal
        case .account: kind = .account
        case .interface: kind = .interface
        case .instance: kind = .instance
        case .db: kind = .db
        }
        return EntityRef(kind: kind, account: e.account, id: e.id)
    }

    func firstSeen(_ entity: BaselineEntity) -> Int64? {
        do { return try lookup.profile(Self.ref(entity))?.firstSeen } catch { self.error = self.error ?? error; return nil }
    }

    func firstSeen(_ entity: BaselineEntity, _ item: BaselineItem) -> Int64? {
        let kind: Baselines.ItemKind, key: String
        switch item {
        case .api(let service, let action): (kind, key) = (.api, service + ":" + action)
        case .network(let ip): (kind, key) = (.network, Baselines.network(ip))
        case .region(let r): (kind, key) = (.region, r)
        case .userAgent(let ua): (kind, key) = (.userAgent, ua)
        case .remotePort(let p): (kind, key) = (.remotePort, "\(p)")
        }
        do { return try lookup.item(Self.ref(entity), kind, key)?.firstSeen } catch { self.error = self.error ?? error; return nil }
    }

    /// Throws the first read error of the batch, if any.
    func check() throws { if let error { throw error } }
}

extension DetectionEngine {
    /// The default learning period of the behavioural detectors: 7 days of event time,
    /// GuardDuty's (its anomaly detection learns for 7 to 14 days).
    public static let defaultLearningPeriod: Int64 = Baselines.learningPeriod

    /// Brings the bank's `baselines` projection up to the head before a batch, so the
    /// batch's own transaction has at most the events appended since to fold.
    func prepareBaselines(_ bank: BankStore) throws -> BaselineHandles {
        try bank.catchUp(Baselines())
        return try bank.baselineHandles()
    }

    /// The view of the batch's transaction: the projection folded through `seq`.
    func baselineView(_ bank: BankStore, _ handles: BaselineHandles, writer: ProjectionWriter, through seq: UInt64) throws -> StoreBaselineView {
        StoreBaselineView(try bank.baselineLookup(handles, writer: writer, through: seq), learningPeriod: learningPeriod)
    }
}
