import Foundation
import SecIngest
import SecModel

/// A detector: fed a bank's events in sequence order, it emits finding drafts.
///
/// Stateless rules look at one event at a time. Windowed detectors keep bounded,
/// deterministic state (``WindowedDetector/State``), which the engine saves with
/// ``saveState()`` next to its checkpoint and restores with ``loadState(_:)``, so that a
/// restart resumes exactly where the checkpoint is. Windows are measured in event time.
public protocol Detector: Sendable {
    /// A stable id (`cloudtrail.root-credential-usage`), kept in each finding.
    var id: String { get }
    /// The sources whose events the detector reads; others need not be fed to it.
    var sources: Set<Source> { get }
    mutating func observe(_ e: Event) -> [FindingDraft]
    /// `observe` with the entity baselines as of the event (nil when there are none);
    /// only ``BaselineDetector``s read them.
    mutating func observe(_ e: Event, baselines: (any BaselineView)?) -> [FindingDraft]
    /// The state as bytes (empty for a stateless rule).
    func saveState() throws -> [UInt8]
    /// Restores state saved by ``saveState()``; empty bytes reset it.
    mutating func loadState(_ bytes: [UInt8]) throws
    /// For state kept as per-key entries (``KeyedState``): the entries changed since the
    /// last call (nil value: removed), after which none counts as changed; nil when the
    /// state is saved whole with ``saveState()``.
    mutating func takeStateChanges() throws -> [(key: String, value: [UInt8]?)]?
    /// Restores per-key state from all its entries; false when the state is saved whole.
    mutating func loadStateEntries(_ entries: [(key: String, value: [UInt8])]) throws -> Bool
}

extension Detector {
    /// Feeds `events` in order, numbering those without a sequence number 1, 2, ... (their
    /// place in the list) as the store would; all the drafts. For tests and tools that
    /// run one detector over a list of events.
    public mutating func observe(all events: [Event]) -> [FindingDraft] {
        var out: [FindingDraft] = []
        for (i, var e) in events.enumerated() {
            if e.seq == 0 { e.seq = UInt64(i + 1) }
            out += observe(e)
        }
        return out
    }

    public mutating func takeStateChanges() throws -> [(key: String, value: [UInt8]?)]? { nil }
    public mutating func loadStateEntries(_ entries: [(key: String, value: [UInt8])]) throws -> Bool { false }
}

extension Detector {
    public mutating func observe(_ e: Event, baselines: (any BaselineView)?) -> [FindingDraft] { observe(e) }
}

/// A detector with no memory between events.
public protocol EventRule: Detector {
    func evaluate(_ e: Event) -> [FindingDraft]
}

extension EventRule {
    public mutating func observe(_ e: Event) -> [FindingDraft] { evaluate(e) }
    public func saveState() throws -> [UInt8] { [] }
    public mutating func loadState(_ bytes: [UInt8]) throws {}
}

/// A detector over a time window, with a `Codable` state.
public protocol WindowedDetector: Detector {
    associatedtype State: Codable & Sendable & Equatable
    var state: State { get set }
    static var emptyState: State { get }
}

extension WindowedDetector {
    public func saveState() throws -> [UInt8] { try StateCoding.encode(state) }
    public mutating func loadState(_ bytes: [UInt8]) throws {
        state = bytes.isEmpty ? Self.emptyState : try StateCoding.decode(State.self, bytes)
    }
}

/// Deterministic bytes for detector state: JSON with sorted keys (states hold only
/// string-keyed dictionaries, so equal states give equal bytes).
public enum StateCoding {
    public static func encode<T: Encodable>(_ v: T) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return Array(try enc.encode(v))
    }

    public static func decode<T: Decodable>(_ t: T.Type, _ bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(t, from: Data(bytes))
    }
}

/// Runs a set of detectors over events in sequence order.
public struct DetectorSet: Sendable {
    public private(set) var detectors: [any Detector]
    /// The ids of the detectors whose state is per-key (``KeyedState``).
    public private(set) var keyed = Set<String>()
    /// Per source, the detectors that read it, in order (looked up once per event instead
    /// of asking every detector).
    private var bySource: [Source: [Int]] = [:]
    /// The baselines the detectors are given with each event (nil: none).
    public var baselines: (any BaselineView)? = nil

    public init(_ detectors: [any Detector]) {
        let ids = detectors.map(\.id)
        precondition(Set(ids).count == ids.count, "detector ids repeat: \(ids)")
        self.detectors = detectors
        for (i, d) in detectors.enumerated() {
            for source in d.sources { bySource[source, default: []].append(i) }
        }
        for d in detectors {
            var probe = d
            if (try? probe.loadStateEntries([])) == true { keyed.insert(d.id) }
        }
    }

    public mutating func observe(_ e: Event) -> [FindingDraft] {
        var out: [FindingDraft] = []
        guard let which = bySource[e.source] else { return out }
        for i in which {
            let drafts = detectors[i].observe(e, baselines: baselines)
            if !drafts.isEmpty { out += drafts }
        }
        return out
    }

    /// Each detector's state, by detector id.
    public func saveState() throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for d in detectors { out[d.id] = try d.saveState() }
        return out
    }

    /// The whole states of the detectors that read any of `fed` (the others' states did
    /// not change) and keep their state whole, by detector id.
    public func saveState(fed: Set<Source>) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for d in detectors where !d.sources.isDisjoint(with: fed) && !keyed.contains(d.id) { out[d.id] = try d.saveState() }
        return out
    }

    /// Per detector with per-key state, the entries changed since the last call.
    public mutating func takeStateChanges() throws -> [(id: String, changes: [(key: String, value: [UInt8]?)])] {
        var out: [(id: String, changes: [(key: String, value: [UInt8]?)])] = []
        for i in detectors.indices {
            if let c = try detectors[i].takeStateChanges() { out.append((detectors[i].id, c)) }
        }
        return out
    }

    /// Restores the per-key states from their entries (`entries(id)`).
    public mutating func loadStateEntries(_ entries: (String) throws -> [(key: String, value: [UInt8])]) throws {
        for i in detectors.indices where keyed.contains(detectors[i].id) {
            _ = try detectors[i].loadStateEntries(try entries(detectors[i].id))
        }
    }

    /// Restores states by detector id; a detector without saved state starts empty.
    public mutating func loadState(_ saved: [String: [UInt8]]) throws {
        for i in detectors.indices { try detectors[i].loadState(saved[detectors[i].id] ?? []) }
    }
}

// MARK: - Reading the raw record

/// Values inside an event's original record (CloudTrail `requestParameters` and such).
/// An EventBridge envelope's `detail` is looked into when the path is not at the top.
struct Raw {
    let e: Event

    init(_ e: Event) { self.e = e }

    func value(_ path: String) -> JSONValue? {
        guard let p = JSONPath(path) else { return nil }
        return JSONPath.lookupInRecord(raw: e.raw, path: p.segments)
    }

    func string(_ path: String) -> String? {
        if case .string(let s)? = value(path) { return s }
        return nil
    }

    func bool(_ path: String) -> Bool? {
        switch value(path) {
        case .bool(let b)?: return b
        case .string(let s)?: return s.lowercased() == "true" ? true : s.lowercased() == "false" ? false : nil
        default: return nil
        }
    }

    func int(_ path: String) -> Int64? {
        switch value(path) {
        case let v?: if let i = v.int64 { return i }; if case .string(let s) = v { return Int64(s) }; return nil
        default: return nil
        }
    }

    /// An object or array member parsed with Foundation (rare events only: policies,
    /// ACLs and rule sets), or a string member holding JSON text.
    func json(_ path: String) -> Any? {
        guard let v = value(path) else { return nil }
        switch v {
        case .object(let t), .array(let t):
            return try? JSONSerialization.jsonObject(with: Data(t.utf8), options: [.fragmentsAllowed])
        case .string(let s):
            return (try? JSONSerialization.jsonObject(with: Data(s.utf8), options: [.fragmentsAllowed])) ?? s
        default: return nil
        }
    }
}
