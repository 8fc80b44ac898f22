import SecModel

/// An entity the baselines keep a profile of (the store's `baselines` projection): a
/// principal of CloudTrail events, an account, a network interface of flow logs, an
/// instance of Route 53 queries, a DB instance.
public struct BaselineEntity: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case principal, account, interface, instance, db }
    public var kind: Kind
    public var account: String
    public var id: String

    public init(_ kind: Kind, account: String, _ id: String) { self.kind = kind; self.account = account; self.id = id }
}

/// One item of an entity's baseline, named by what it is rather than by its stored key
/// (the view maps it: a network is the /24 or /48 of an address).
public enum BaselineItem: Sendable, Hashable {
    /// A CloudTrail API: the event source (`iam.amazonaws.com`) and the event name.
    case api(service: String, action: String)
    /// The network (IPv4 /24, IPv6 /48) of an address.
    case network(IPAddress)
    case region(String)
    case userAgent(String)
    /// The remote side's port of a flow.
    case remotePort(Int64)
}

/// Read-only answers from the entity baselines, as of the event being evaluated.
///
/// The engine folds each event into the baselines before the detectors see it, so an
/// item first seen by this very event has `firstSeen == event.time`: "never seen before
/// this event" is `firstSeen(...) >= event.time`. The answers may also reflect events
/// later in the log than the one evaluated (the baselines are folded at least through
/// the batch); what a later event can change is only an item's first-seen time moving
/// earlier when a late-delivered event of an earlier time used it.
public protocol BaselineView: Sendable {
    /// How long an entity is learning from its first event (ms of event time).
    var learningPeriod: Int64 { get }
    /// The earliest event time of the entity, nil when the baselines never saw it.
    func firstSeen(_ entity: BaselineEntity) -> Int64?
    /// The earliest event time the entity had the item, nil when never kept (never seen,
    /// or the entity's items of that kind are over their cap).
    func firstSeen(_ entity: BaselineEntity, _ item: BaselineItem) -> Int64?
}

extension BaselineView {
    /// Whether the entity is still learning at `t`: first seen less than the learning
    /// period before `t`, or never seen.
    public func isLearning(_ entity: BaselineEntity, at t: Int64) -> Bool {
        guard let f = firstSeen(entity) else { return true }
        return t < f + learningPeriod
    }

    /// Whether the entity had not had the item before `t` (its first use is at `t` or
    /// later, or it was never kept).
    public func isUnseen(_ entity: BaselineEntity, _ item: BaselineItem, before t: Int64) -> Bool {
        guard let f = firstSeen(entity, item) else { return true }
        return f >= t
    }
}

/// A detector that needs the baselines. Fed through `observe(_:baselines:)`; without
/// baselines (nil, or the plain `observe`) it finds nothing, since nothing is unusual
/// without a profile to compare with.
public protocol BaselineDetector: Detector {}

extension BaselineDetector {
    public mutating func observe(_ e: Event) -> [FindingDraft] { observe(e, baselines: nil) }
}
