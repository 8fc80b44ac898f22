import Foundation
import SecCompliance
import SecDetect
import SecModel
import SecStore

/// The bank's AWS Config items, in sequence order: the feed of the `compliance`
/// subscriber. Positions are the event log's (so the checkpoint is one in the log);
/// blocks of other sources are passed over without decoding.
public struct ConfigItemLog: SubscribableLog {
    public init() {}
    public var name: String { "events" }
    public func head(_ snap: BankSnapshot) throws -> UInt64 { try snap.state().nextSeq - 1 }
    public func read(_ snap: BankSnapshot, from: UInt64, limit: Int) throws -> (items: [(seq: UInt64, item: Event)], next: UInt64) {
        let run = try snap.log(from: from, limit: limit, raw: true, sources: [.config])
        return (run.events.map { ($0.seq, $0) }, run.next)
    }
}

/// Compliance: a durable subscriber named `compliance` in each bank that keeps the latest
/// configuration item of every resource, evaluates the managed-rule equivalents
/// (`SecCompliance`) when a resource changes, and appends a `compliance` event each time
/// a (rule, resource) pair's status changes.
///
/// Exactly once, as `DetectionEngine`: each batch runs inside `BankStore.consume`, so the
/// items, the statuses, the compliance events and the checkpoint commit in one write
/// transaction of the bank.
///
/// Databases (`sub.compliance.<db>`):
/// - `items`: key `account|region|type|id`, value capture time (i64 LE), sequence number
///   (u64 LE) and the event's raw record: the resource's latest item (by capture time;
///   a later sequence number wins a tie). An older item arriving late changes nothing.
/// - `status`: key `rule|account|region|type|id`, value the latest ``Evaluation`` (JSON,
///   sorted keys): the `compliance` table.
/// - `meta`: `policy`, the fingerprint of the policy the statuses were evaluated with;
///   when the policy changes, `run` evaluates every resource again first.
///
/// The history of a resource's configuration is the log itself (its `config_item`
/// events, found through the resource postings), and the history of its compliance is
/// the log's `compliance` events.
public struct ComplianceEngine: Sendable {
    public static let subscriber = "compliance"
    public static let itemsDB = "items"
    public static let statusDB = "status"
    public static let metaDB = "meta"
    static let databases = [itemsDB, statusDB, metaDB]

    public let evaluator: ComplianceEvaluator

    public init(policy: CompliancePolicy = .defaults) {
        evaluator = ComplianceEvaluator(policy: policy)
    }

    /// What one run did in one bank.
    public struct Summary: Sendable, Equatable {
        public var bank: String
        /// Configuration items read.
        public var items = 0
        /// Items whose raw record held no configuration item.
        public var unreadable = 0
        public var evaluations = 0
        /// Compliance events appended (status changes).
        public var changes = 0
        public var checkpoint: UInt64 = 0
        public init(bank: String) { self.bank = bank }
    }

    public func open(_ bank: BankStore) throws {
        try bank.openSubscriber(Self.subscriber, log: ConfigItemLog(), start: .beginning)
    }

    /// Evaluates everything again when the policy changed since the statuses were
    /// written, then consumes the bank's new items to its head.
    ///
    /// - Parameter reevaluate: evaluate every current item first even when the policy is
    ///   the same (the periodic evaluation over the accounts' whole state).
    public func run(_ bank: BankStore, batch: Int = 2000, reevaluate: Bool = false, stop: () -> Bool = { false }) throws -> Summary {
        try open(bank)
        var summary = Summary(bank: bank.id)
        let (e, c) = try reevaluateIfPolicyChanged(bank, force: reevaluate)
        summary.evaluations += e
        summary.changes += c
        while !stop() {
            var ran = false
            var step = Summary(bank: bank.id)
            try bank.consume(Self.subscriber, log: ConfigItemLog(), databases: Self.databases, limit: max(batch, 1)) { items, writer in
                ran = true
                step = Summary(bank: bank.id)
                try fold(items.map(\.item), writer: writer, bank: bank.id, trigger: items.last?.seq, summary: &step)
            }
            guard ran else { break }
            summary.items += step.items
            summary.unreadable += step.unreadable
            summary.evaluations += step.evaluations
            summary.changes += step.changes
        }
        summary.checkpoint = try bank.subscriberCheckpoint(Self.subscriber) ?? 0
        return summary
    }

    /// One batch. Items are taken in capture-time order (sequence order on a tie), a
    /// capture time at a time: the resources whose latest item changed are evaluated with
    /// their account as it stood then, so a batch holding a resource's break and its fix
    /// records both changes, at their times. Account-wide rules are evaluated once per
    /// touched account at the end of the batch. An item older than the resource's latest
    /// (delivered late, after a later item) changes nothing: it is history (the log's),
    /// not the current state.
    func fold(_ events: [Event], writer: ProjectionWriter, bank: String, trigger: UInt64?, summary: inout Summary) throws {
        let itemsDB = writer.database(Self.itemsDB)
        var parsed: [(item: ConfigItem, event: Event)] = []
        for e in events where e.source == .config {
            summary.items += 1
            guard let item = ConfigItem(raw: e.raw, account: e.account, region: e.region, time: e.time) else {
                summary.unreadable += 1
                continue
            }
            parsed.append((item, e))
        }
        parsed.sort { ($0.item.captureTime, $0.event.seq) < ($1.item.captureTime, $1.event.seq) }
        var accounts: [String: [String: ConfigItem]] = [:]   // account -> key -> current item
        var appended: [Event] = []
        var i = 0
        while i < parsed.count {
            let time = parsed[i].item.captureTime
            var changed: [String: [ConfigItem]] = [:]
            while i < parsed.count && parsed[i].item.captureTime == time {
                let (item, e) = parsed[i]
                i += 1
                let key = Array(item.key.description.utf8)
                if let old = try itemsDB.get(key), old.count >= 16 {
                    let (t, s) = Self.header(old)
                    if (item.captureTime, e.seq) < (t, s) { continue }
                }
                try itemsDB.put(key, Self.itemValue(time: item.captureTime, seq: e.seq, raw: e.raw))
                if accounts[item.account] == nil {
                    var current: [String: ConfigItem] = [:]
                    for c in try Self.accountItems(itemsDB, account: item.account) { current[c.key.description] = c }
                    accounts[item.account] = current
                }
                accounts[item.account]![item.key.description] = item
                changed[item.account, default: []].append(item)
            }
            for account in changed.keys.sorted() {
                let current = accounts[account]!.keys.sorted().map { accounts[account]![$0]! }
                let evaluations = evaluator.evaluate(changed: changed[account]!, account: current, accountRules: false)
                appended += try record(evaluations, writer: writer, bank: bank, trigger: trigger, summary: &summary)
            }
        }
        // Account-wide rules once per account and batch, over the account as the batch left it
        // (they read every item of the account: per capture time would be quadratic).
        for account in accounts.keys.sorted() {
            let current = accounts[account]!.keys.sorted().map { accounts[account]![$0]! }
            let evaluations = evaluator.evaluateAccountRules(account: current)
            appended += try record(evaluations, writer: writer, bank: bank, trigger: trigger, summary: &summary)
        }
        try writer.append(appended)
    }

    /// Stores evaluations; returns the compliance events of those whose status changed.
    func record(_ evaluations: [Evaluation], writer: ProjectionWriter, bank: String, trigger: UInt64?,
                summary: inout Summary) throws -> [Event] {
        let statusDB = writer.database(Self.statusDB)
        var out: [Event] = []
        for ev in evaluations {
            summary.evaluations += 1
            let key = Array(ev.pairKey.utf8)
            let old = try statusDB.get(key).map { try StateCoding.decode(Evaluation.self, $0) }
            if let old, old == ev { continue }
            try statusDB.put(key, try StateCoding.encode(ev))
            if old?.status != ev.status {
                out.append(try Self.complianceEvent(ev, previous: old?.status, bank: bank, trigger: trigger))
                summary.changes += 1
            }
        }
        return out
    }

    /// Evaluates every current item again when the policy is not the one the statuses
    /// were written with (in one write transaction, events included).
    func reevaluateIfPolicyChanged(_ bank: BankStore, force: Bool = false) throws -> (evaluations: Int, changes: Int) {
        let fingerprint = Array(evaluator.policy.fingerprint.utf8)
        return try bank.writeSubscriber(Self.subscriber, databases: Self.databases) { writer in
            let meta = writer.database(Self.metaDB)
            let stored = try meta.get(Array("policy".utf8))
            guard stored != fingerprint || force else { return (0, 0) }
            try meta.put(Array("policy".utf8), fingerprint)
            guard stored != nil || force else { return (0, 0) }
            // A rule the policy turned off has no status any more (its past stays in the log).
            let statusDB = writer.database(Self.statusDB)
            let enabled = Set(evaluator.rules.map(\.name))
            for (k, _) in try statusDB.entries(prefix: []) {
                let rule = String(decoding: k.prefix { $0 != UInt8(ascii: "|") }, as: UTF8.self)
                if !enabled.contains(rule) { _ = try statusDB.delete(k) }
            }
            let itemsDB = writer.database(Self.itemsDB)
            var accounts: [String] = []
            for (k, _) in try itemsDB.entries(prefix: []) {
                let account = String(decoding: k.prefix { $0 != UInt8(ascii: "|") }, as: UTF8.self)
                if accounts.last != account { accounts.append(account) }
            }
            var summary = Summary(bank: bank.id)
            var appended: [Event] = []
            for account in accounts {
                let current = try Self.accountItems(itemsDB, account: account)
                appended += try record(evaluator.evaluateAll(account: current), writer: writer, bank: bank.id, trigger: nil,
                                       summary: &summary)
            }
            try writer.append(appended)
            return (summary.evaluations, summary.changes)
        }
    }

    static func itemValue(time: Int64, seq: UInt64, raw: [UInt8]) -> [UInt8] {
        var v = withUnsafeBytes(of: time.littleEndian) { Array($0) }
        v += withUnsafeBytes(of: seq.littleEndian) { Array($0) }
        return v + raw
    }

    static func header(_ v: [UInt8]) -> (time: Int64, seq: UInt64) {
        v.withUnsafeBytes { b in
            (Int64(littleEndian: b.loadUnaligned(fromByteOffset: 0, as: Int64.self)),
             UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// A stored item back as a ``ConfigItem``.
    static func decodeItem(key: [UInt8], value: [UInt8]) -> ConfigItem? {
        guard value.count >= 16, let k = ResourceKey(String(decoding: key, as: UTF8.self)) else { return nil }
        let (t, _) = header(value)
        return ConfigItem(raw: Array(value[16...]), account: k.account, region: k.region, time: t)
    }

    static func accountItems(_ db: ProjectionDatabase, account: String) throws -> [ConfigItem] {
        try db.entries(prefix: Array("\(account)|".utf8)).compactMap { decodeItem(key: $0.key, value: $0.value) }
    }

    /// A status change as an event of source `compliance` (class `compliance_finding`):
    /// `action` the rule, `title` the status, `outcome` success (COMPLIANT), failure
    /// (NON_COMPLIANT) or unknown, the resource and its type, time the evaluation's
    /// (the capture time of the item that caused it); the raw record is
    /// `{"evaluation": {...}, "previous": status or null, "trigger": seq}`.
    public static func complianceEvent(_ ev: Evaluation, previous: ComplianceStatus?, bank: String,
                                       trigger: UInt64?, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> Event {
        var record = "{\"evaluation\":" + String(decoding: try StateCoding.encode(ev), as: UTF8.self)
        record += ",\"previous\":" + (previous.map { "\"\($0.rawValue)\"" } ?? "null")
        // A re-evaluation (a changed policy) has no triggering item: the time of the run
        // keeps its record apart from an earlier identical change.
        if let trigger { record += ",\"trigger\":\(trigger)" } else { record += ",\"evaluated_by_run_at\":\(now)" }
        record += "}"
        var e = Event(time: ev.evaluatedAt, account: ev.account, source: .compliance, eventClass: .complianceFinding,
                      raw: Array(record.utf8))
        e.bank = bank
        e.region = ev.region
        e.action = ev.rule
        e.outcome = ev.status == .compliant ? .success : ev.status == .nonCompliant ? .failure : .unknown
        e.title = ev.status.rawValue
        e.resource = ev.resource
        e.resourceType = ev.resourceType
        e.eventID = eventID(record)
        return e
    }

    /// 32 hex digits: two FNV-1a 64 hashes of the record (seeded apart).
    static func eventID(_ text: String) -> String {
        var a: UInt64 = 0xcbf29ce484222325, b: UInt64 = 0x84222325cbf29ce4
        for c in text.utf8 {
            a = (a ^ UInt64(c)) &* 0x100000001b3
            b = (b ^ UInt64(c)) &* 0x100000001b3
        }
        return String(format: "%016llx%016llx", a, b)
    }
}

extension BankStore {
    /// The current compliance state the `compliance` subscriber keeps, by rule and resource.
    public func complianceState() throws -> [Evaluation] {
        try subscriberEntries(ComplianceEngine.subscriber, database: ComplianceEngine.statusDB).map {
            try StateCoding.decode(Evaluation.self, $0.value)
        }
    }

    /// The compliance state as of `time` (ms), from the log's compliance events: for each
    /// (rule, resource) pair, its last status change at or before then.
    public func complianceState(at time: Int64) throws -> [Evaluation] {
        var latest: [String: (Evaluation, UInt64)] = [:]
        var from: UInt64 = 1
        let head = try read { try $0.state().nextSeq } - 1
        while from <= head {
            let run = try read { snap in try snap.log(from: from, limit: 10_000, raw: true, sources: [.compliance]) }
            for e in run.events where e.time <= time {
                guard let doc = try? JSONSerialization.jsonObject(with: Data(e.raw)) as? [String: Any],
                      let evaluation = doc["evaluation"],
                      let data = try? JSONSerialization.data(withJSONObject: evaluation),
                      let ev = try? JSONDecoder().decode(Evaluation.self, from: data) else { continue }
                if let old = latest[ev.pairKey], (old.0.evaluatedAt, old.1) > (ev.evaluatedAt, e.seq) { continue }
                latest[ev.pairKey] = (ev, e.seq)
            }
            guard run.next > from else { break }
            from = run.next
        }
        return latest.keys.sorted().map { latest[$0]!.0 }
    }

    /// The latest configuration items the `compliance` subscriber keeps.
    public func configItems() throws -> [ConfigItem] {
        try subscriberEntries(ComplianceEngine.subscriber, database: ComplianceEngine.itemsDB).compactMap {
            ComplianceEngine.decodeItem(key: $0.key, value: $0.value)
        }
    }
}

extension BankStore {
    /// Every configuration item of one resource in the log (its ARN, or its resource id
    /// when the item has no ARN), in capture-time order (sequence order on a tie): the
    /// resource's history.
    public func configHistory(resource: String) throws -> [Event] {
        var out: [Event] = []
        var from: UInt64 = 1
        let head = try read { try $0.state().nextSeq } - 1
        while from <= head {
            let run = try read { snap in try snap.log(from: from, limit: 10_000, raw: true, sources: [.config]) }
            out += run.events.filter { $0.resource == resource }
            guard run.next > from else { break }
            from = run.next
        }
        return out.sorted { ($0.time, $0.seq) < ($1.time, $1.seq) }
    }
}
