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
    /// The baselines the detectors are given with each event (nil: none).
    public var baselines: (any BaselineView)? = nil

    public init(_ detectors: [any Detector]) {
        let ids = detectors.map(\.id)
        precondition(Set(ids).count == ids.count, "detector ids repeat: \(ids)")
        self.detectors = detectors
    }

    public mutating func observe(_ e: Event) -> [FindingDraft] {
        var out: [FindingDraft] = []
        for i in detectors.indices where detectors[i].sources.contains(e.source) {
            out += detectors[i].observe(e, baselines: baselines)
        }
        return out
    }

    /// Each detector's state, by detector id.
    public func saveState() throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for d in detectors { out[d.id] = try d.saveState() }
        return out
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
