import Foundation
import SecDetect
import SecIngest
import SecModel
import SecStore

/// The detection engine: a durable subscriber named `detect` in each bank that feeds the
/// bank's events, in sequence order, to the built-in detectors and keeps the findings.
///
/// Exactly once: each batch runs inside `BankStore.consume`, so the detector state read
/// at its start, the findings it writes and the new checkpoint commit in one write
/// transaction of the bank. A crash leaves all three as they were; the rerun reads the
/// same events with the same state and writes the same findings.
///
/// Databases (the subscriber's own, `sub.detect.<db>`):
/// - `state`: key the detector id (UTF-8), value its saved state (absent: empty state).
/// - `findings`: key the finding id (32 hex digits), value the ``Finding`` as JSON with
///   sorted keys (equal findings give equal bytes).
///
/// Findings are also events: each batch appends, in the same transaction, one event of
/// source `finding` (class `detection_finding`) per finding it created or updated, and
/// archiving a finding appends one too (see ``findingEvent(_:change:at:)``). The log
/// thus holds the whole history of every finding under the bank's integrity chain; the
/// `findings` database is its current state.
public struct DetectionEngine: Sendable {
    public static let subscriber = "detect"
    public static let stateDB = "state"
    public static let findingsDB = "findings"
    /// Per-key detector state (``KeyedState``): key the detector id, a zero byte and the
    /// state's key; value the entry.
    public static let keyedDB = "keyed"
    /// The detector id of findings imported from GuardDuty.
    public static let guardDutyDetector = "guardduty"

    public let intel: ThreatIntel?
    /// Suppression: for a finding just created, the name of the first suppression rule
    /// it matches (it is then stored archived, not dropped), or nil.
    public let suppress: (@Sendable (Finding) -> String?)?
    /// Detectors run after the built-in ones (rule files, Sigma rules).
    public let extra: [any Detector]

    /// How long an entity of the baselines is learning (ms of event time): the
    /// behavioural detectors report nothing about it before then.
    public var learningPeriod: Int64 = DetectionEngine.defaultLearningPeriod

    public init(intel: ThreatIntel? = nil, extra: [any Detector] = [], suppress: (@Sendable (Finding) -> String?)? = nil) {
        self.intel = intel
        self.extra = extra
        self.suppress = suppress
    }

    /// What one run did in one bank.
    public struct Summary: Sendable, Equatable {
        public var bank: String
        /// Events read, not counting the finding events the engine appended itself.
        public var events = 0
        public var batches = 0
        public var newFindings = 0
        public var updatedFindings = 0
        /// New findings archived on arrival by a suppression rule (counted in `newFindings` too).
        public var suppressedFindings = 0
        /// The checkpoint after the run (the last event read).
        public var checkpoint: UInt64 = 0

        public init(bank: String) { self.bank = bank }
    }

    /// Creates the subscriber at the bank's first event when it does not exist.
    public func open(_ bank: BankStore) throws {
        try bank.openSubscriber(Self.subscriber, log: Self.log, start: .beginning)
    }

    /// Runs batches until the bank's head is reached or `stop` says so (looked at between
    /// batches). Each batch commits on its own.
    public func run(_ bank: BankStore, batch: Int = DetectionEngine.defaultBatch, stop: () -> Bool = { false }) throws -> Summary {
        try open(bank)
        var summary = Summary(bank: bank.id)
        var cache: StateCache? = nil
        while !stop() {
            guard let b = try runBatch(bank, batch: batch, cache: &cache) else { break }
            summary.events += b.events
            summary.batches += 1
            summary.newFindings += b.newFindings
            summary.updatedFindings += b.updatedFindings
            summary.suppressedFindings += b.suppressedFindings
        }
        summary.checkpoint = try bank.subscriberCheckpoint(Self.subscriber) ?? 0
        return summary
    }

    /// The log as the detectors read it: every field, and the raw record of the sources
    /// whose records are JSON (CloudTrail's `requestParameters`, GuardDuty's finding, a
    /// Config item, a Route 53 query's answers; rules and Sigma read `raw.` paths of
    /// these). The text lines of flow, load balancer, S3 and CloudFront logs, by far the
    /// most events, are not decompressed: no detector reads them.
    static let log = EventLog(raw: true, rawSources: [.cloudtrail, .guardduty, .config, .route53, .finding, .compliance])

    /// Runs ``run(_:batch:stop:)`` over several banks, as many at a time as there are
    /// cores (each bank has its own environment and write lock; nothing is shared but
    /// the engine's settings). The summaries come back in the order of `banks`.
    public func run(banks: [BankStore], batch: Int = DetectionEngine.defaultBatch,
                    stop: @escaping @Sendable () -> Bool = { false }) throws -> [Summary] {
        let results = BankStore.parallelMap(banks.indices.map { $0 }) { i in
            Result { try self.run(banks[i], batch: batch, stop: stop) }
        }
        return try results.map { try $0.get() }
    }

    /// Events per batch (per write transaction) unless told otherwise.
    public static let defaultBatch = 20_000

    /// The detectors as the last batch this process committed left them, and the state
    /// generation it wrote: the next batch starts from them instead of decoding every
    /// state again, when the bank's generation is still that one (no other process ran
    /// a batch since).
    public struct StateCache {
        var generation: UInt64
        var set: DetectorSet
    }

    /// The key of the state generation in the `state` database (no detector id starts
    /// with `#`); each batch writes the next number.
    static let generationKey = Array("#generation".utf8)


    /// The detectors with the state the bank holds: `cache` when its generation is the
    /// bank's, else decoded (whole states from `state`, per-key states from `keyed`).
    ///
    /// The cache is moved out of `cache` (left nil), so that its windows' storage has one
    /// owner and the batch changes it in place instead of copying every window; a body run
    /// again (the map grew) finds no cache and decodes the state.
    func detectors(_ writer: ProjectionWriter, cache: inout StateCache?) throws -> (DetectorSet, UInt64) {
        let stateDB = writer.database(Self.stateDB)
        let generation = try stateDB.get(Self.generationKey).map { b in b.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } } ?? 0
        if var taken = cache.take(), taken.generation == generation {
            var set = DetectorSet([])
            swap(&set, &taken.set)
            return (set, generation)
        }
        let keyedDB = writer.database(Self.keyedDB)
        var set = DetectorSet(BuiltInDetectors.all(intel: intel) + extra)
        var saved: [String: [UInt8]] = [:]
        for d in set.detectors { if let s = try stateDB.get(Array(d.id.utf8)) { saved[d.id] = s } }
        try set.loadState(saved)
        try set.loadStateEntries { id in
            let prefix = Array(id.utf8) + [0]
            return try keyedDB.entries(prefix: prefix).map { try LongKeys.decode(prefix: prefix, $0.key, $0.value) }
        }
        return (set, generation)
    }

    /// Writes what the batch changed: per-key entries of keyed states, whole states of
    /// the detectors that were fed (the others did not change), and the next generation.
    func save(_ set: inout DetectorSet, fed: Set<Source>, generation: UInt64, _ writer: ProjectionWriter) throws {
        let stateDB = writer.database(Self.stateDB), keyedDB = writer.database(Self.keyedDB)
        for (id, changes) in try set.takeStateChanges() {
            let prefix = Array(id.utf8) + [0]
            for (k, v) in changes {
                let stored = LongKeys.key(prefix: prefix, k)
                if let v { try keyedDB.put(stored, LongKeys.value(prefix: prefix, k, v)) } else { _ = try keyedDB.delete(stored) }
            }
        }
        for (id, bytes) in try set.saveState(fed: fed) {
            if bytes.isEmpty { _ = try stateDB.delete(Array(id.utf8)) } else { try stateDB.put(Array(id.utf8), bytes) }
        }
        try stateDB.put(Self.generationKey, withUnsafeBytes(of: (generation &+ 1).littleEndian) { Array($0) })
    }

    /// One batch in one transaction, starting from `cache` when it is current (and
    /// leaving the committed detectors there); nil when the subscriber is at the head.
    func runBatch(_ bank: BankStore, batch: Int, cache: inout StateCache?) throws -> (events: Int, newFindings: Int, updatedFindings: Int, suppressedFindings: Int)? {
        var result = (events: 0, newFindings: 0, updatedFindings: 0, suppressedFindings: 0)
        var ran = false
        let baselineHandles = try prepareBaselines(bank)
        var start = cache.take()
        var next: StateCache? = nil
        _ = try bank.consume(Self.subscriber, log: Self.log, databases: [Self.stateDB, Self.findingsDB, Self.keyedDB],
                                 limit: max(batch, 1)) { items, writer in
            // Everything here is rebuilt from the transaction (and the cache of the last
            // commit): the body may run again.
            // Events counted are those observed: not the findings this subscriber wrote.
            result = (items.reduce(0) { $0 + ($1.item.source == .finding ? 0 : 1) }, 0, 0, 0)
            ran = true
            let findingsDB = writer.database(Self.findingsDB)
            var (set, generation) = try detectors(writer, cache: &start)
            var fed = Set<Source>()
            let view = try baselineView(bank, baselineHandles, writer: writer, through: items.last?.seq ?? 0)
            set.baselines = view

            var touched: [String: Finding] = [:]
            var created = Set<String>()
            for (_, item) in items where item.source != .finding {
                fed.insert(item.source)
                var e = item
                Self.fillEventID(&e)
                var drafts = set.observe(e)
                if let d = Self.guardDutyDraft(e) { drafts.append(d) }
                for d in drafts {
                    let id = d.findingID
                    var existing = touched[id]
                    if existing == nil, let bytes = try findingsDB.get(Array(id.utf8)) {
                        existing = try StateCoding.decode(Finding.self, bytes)
                    }
                    if existing == nil { created.insert(id) }
                    touched[id] = Finding.merge(existing, d)
                }
            }
            try view.check()
            var suppressed = 0
            var changes: [Event] = []
            for id in touched.keys.sorted() {
                var f = touched[id]!
                let isNew = created.contains(id)
                if isNew, let rule = suppress?(f) {
                    f.status = .archived
                    f.suppressedBy = rule
                    suppressed += 1
                }
                try findingsDB.put(Array(id.utf8), try StateCoding.encode(f))
                changes.append(try Self.findingEvent(f, change: isNew ? "created" : "updated", at: f.lastSeen,
                                                     trigger: items.last?.seq))
            }
            try writer.append(changes)
            try save(&set, fed: fed, generation: generation, writer)
            set.baselines = nil
            next = StateCache(generation: generation &+ 1, set: set)
            result.newFindings = created.count
            result.updatedFindings = touched.count - created.count
            result.suppressedFindings = suppressed
        }
        // Committed: the next batch may start from these detectors.
        if let next { cache = next }
        // The body also runs on a gap (a block removed by retention) with no items.
        return ran ? result : nil
    }

    /// CloudTrail's `eventID` is not a stored column: it is read from the raw record.
    static func fillEventID(_ e: inout Event) {
        guard e.eventID == nil, e.source == .cloudtrail, !e.raw.isEmpty, let p = JSONPath("eventID") else { return }
        if case .string(let s)? = JSONPath.lookupInRecord(raw: e.raw, path: p.segments) { e.eventID = s }
    }

    /// An imported GuardDuty finding as a draft of detector `guardduty`: its type,
    /// severity and title as GuardDuty gave them, keyed by GuardDuty's finding id (a
    /// re-delivered or updated finding counts up the same one).
    static func guardDutyDraft(_ e: Event) -> FindingDraft? {
        guard e.source == .guardduty, e.eventClass == .detectionFinding else { return nil }
        let type = e.findingType.flatMap(FindingType.init) ?? FindingType("Unknown:Unknown/GuardDutyFinding")!
        let key = e.eventID ?? "seq:\(e.seq)"
        let title = e.title ?? type.description
        return FindingDraft(type: type, severity: e.severity ?? 5.0, title: title, description: title,
                            detector: guardDutyDetector, aggregationKey: [key], event: e)
    }
}

extension DetectionEngine {
    /// A finding's change as an event of source `finding`: the finding's place (bank,
    /// account, region, principal, resource, src_ip), type, severity and title, `event_id`
    /// its id, `action` the change (`created`, `updated`, `archived`, `unarchived`), time
    /// `at`; the raw record is `{"change", "finding", "trigger"}` with the finding as
    /// stored (sorted keys) and `trigger` the last sequence number of the batch that
    /// changed it (absent for a change by hand), so no two changes share a record.
    public static func findingEvent(_ f: Finding, change: String, at time: Int64, trigger: UInt64?) throws -> Event {
        var record = "{\"change\":\"\(change)\",\"finding\":"
        record += String(decoding: try StateCoding.encode(f), as: UTF8.self)
        // The batch's last seq, or (a change by hand) the time it was made: no two
        // changes share a record (an identical one would be dropped as a duplicate).
        if let trigger { record += ",\"trigger\":\(trigger)" } else { record += ",\"at\":\(time)" }
        record += "}"
        var e = Event(time: time, account: f.account, source: .finding, eventClass: .detectionFinding, raw: Array(record.utf8))
        e.bank = f.bank
        e.region = f.region
        e.action = change
        e.principal = f.principal
        e.resource = f.resource
        e.srcIP = f.srcIP.flatMap(IPAddress.init)
        e.eventID = f.id
        e.severity = f.severity
        e.findingType = f.type.description
        e.title = f.title
        return e
    }
}

extension BankStore {
    /// The findings the `detect` subscriber keeps in this bank, in id order.
    public func findings() throws -> [Finding] {
        try subscriberEntries(DetectionEngine.subscriber, database: DetectionEngine.findingsDB).map {
            try StateCoding.decode(Finding.self, $0.value)
        }
    }

    /// Sets a finding's status in one write transaction. Returns false when the bank has
    /// no finding with that id.
    @discardableResult
    public func setFindingStatus(_ id: String, _ status: FindingStatus, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> Bool {
        try writeSubscriber(DetectionEngine.subscriber, databases: [DetectionEngine.findingsDB]) { writer in
            let db = writer.database(DetectionEngine.findingsDB)
            guard let bytes = try db.get(Array(id.utf8)) else { return false }
            var f = try StateCoding.decode(Finding.self, bytes)
            guard f.status != status else { return true }
            f.status = status
            try db.put(Array(id.utf8), try StateCoding.encode(f))
            // The change by hand is an event too, at the time it was made.
            try writer.append([try DetectionEngine.findingEvent(f, change: status == .archived ? "archived" : "unarchived",
                                                                at: now, trigger: nil)])
            return true
        }
    }
}

/// Keys of per-key state entries, which hold input text (a principal's ARN, a domain)
/// and so may be longer than LMDB allows (511 bytes, `mdb_env_get_maxkeysize`): a key
/// that would not fit is stored as the prefix, a 0xFF byte (never in UTF-8) and the
/// SHA-256 of the text, its value then starting with the text's length (u32 LE) and the
/// text. Short keys are stored as they are.
enum LongKeys {
    static let limit = 480

    static func key(prefix: [UInt8], _ k: String) -> [UInt8] {
        let text = Array(k.utf8)
        guard prefix.count + text.count > limit else { return prefix + text }
        return text.withUnsafeBytes { prefix + [0xFF] + SHA256Digest.hash($0) }
    }

    static func value(prefix: [UInt8], _ k: String, _ v: [UInt8]) -> [UInt8] {
        let text = Array(k.utf8)
        guard prefix.count + text.count > limit else { return v }
        return withUnsafeBytes(of: UInt32(text.count).littleEndian) { Array($0) } + text + v
    }

    /// The text key and entry of a stored entry.
    static func decode(prefix: [UInt8], _ key: [UInt8], _ value: [UInt8]) throws -> (key: String, value: [UInt8]) {
        let rest = key[prefix.count...]
        guard rest.first == 0xFF else { return (String(decoding: rest, as: UTF8.self), value) }
        guard value.count >= 4 else { throw StoreError(.corrupt, "a long state key's entry is short") }
        let n = Int(value[0]) | Int(value[1]) << 8 | Int(value[2]) << 16 | Int(value[3]) << 24
        guard value.count >= 4 + n else { throw StoreError(.corrupt, "a long state key's entry is short") }
        return (String(decoding: value[4..<4 + n], as: UTF8.self), Array(value[(4 + n)...]))
    }
}
