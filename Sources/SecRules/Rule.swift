import Foundation
import SecDetect
import SecIngest
import SecModel
import SecQuery

/// A field a rule reads: an event field (`principal`, `src_ip`) or a path into the raw
/// record (`raw.requestParameters.userName`).
public struct FieldRef: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    let field: Field?
    let path: [PathSegment]

    /// Nil for a name that is neither a field nor `raw.` and a valid path.
    public init?(_ name: String) {
        self.name = name
        if let f = Field(rawValue: name) {
            field = f; path = []
        } else if name.hasPrefix("raw."), let p = JSONPath(String(name.dropFirst(4))) {
            field = nil; path = p.segments
        } else {
            return nil
        }
    }

    /// The value as text, or nil when the event has none.
    public func text(_ e: Event) -> String? {
        if let field {
            let v = e.value(of: field)
            return v.isNull ? nil : v.text
        }
        guard !e.raw.isEmpty, let v = JSONPath.lookupInRecord(raw: e.raw, path: path) else { return nil }
        if case .null = v { return nil }
        return v.text
    }

    public var description: String { name }
}

/// A title or description with `{field}` and `{field|default}` placeholders, filled from
/// the event that completes the activity (`{count}`: the events or distinct values
/// counted by a threshold rule).
public struct Template: Sendable, Equatable {
    enum Part: Sendable, Equatable { case text(String), field(String, FieldRef?, String?) }
    let parts: [Part]
    public let text: String

    /// Throws the message and the byte offset in `text` of a bad placeholder.
    init(_ text: String) throws(PositionedError) {
        self.text = text
        var parts: [Part] = []
        var lit = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            guard c == "{" else { lit.append(c); i = text.index(after: i); continue }
            let open = i
            guard let close = text[i...].firstIndex(of: "}") else {
                throw PositionedError("'{' without its closing '}'", offset: text.utf8.distance(from: text.startIndex, to: open),
                                      length: 1, help: "write {field} or {field|default}")
            }
            let body = text[text.index(after: open)..<close]
            let name = body.split(separator: "|", maxSplits: 1).first.map(String.init) ?? ""
            let dflt = body.contains("|") ? String(body.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)[1]) : nil
            if name == "count" {
                parts.append(.field(name, nil, dflt))
            } else if let f = FieldRef(name) {
                parts.append(.field(name, f, dflt))
            } else {
                throw PositionedError("unknown field '\(name)' in the template",
                                      offset: text.utf8.distance(from: text.startIndex, to: open),
                                      length: text.utf8.distance(from: open, to: close) + 1,
                                      help: "a secq field (principal, action, account, ...), raw.<path>, or count")
            }
            if !lit.isEmpty { parts.insert(.text(lit), at: parts.count - 1); lit = "" }
            i = text.index(after: close)
        }
        if !lit.isEmpty { parts.append(.text(lit)) }
        self.parts = parts
    }

    public func render(_ e: Event, count: Int? = nil) -> String {
        var out = ""
        for p in parts {
            switch p {
            case .text(let s): out += s
            case .field(let name, let ref, let dflt):
                if name == "count", ref == nil { out += count.map(String.init) ?? dflt ?? "" }
                else { out += ref?.text(e) ?? dflt ?? "unknown" }
            }
        }
        return out
    }
}

/// A message with a place in some text (bytes from its start).
struct PositionedError: Error {
    var message: String
    var offset: Int
    var length: Int
    var help: String?
    init(_ message: String, offset: Int, length: Int = 0, help: String? = nil) {
        self.message = message; self.offset = offset; self.length = length; self.help = help
    }
}

/// A detection rule from a file: what it matches and the finding it makes.
public struct Rule: Sendable {
    public enum Logic: Sendable {
        /// One event.
        case match(EventFilter)
        /// `count` events (or `count` distinct values of `distinct`) matching `filter`
        /// with the same `by` values within `window` milliseconds.
        case threshold(filter: EventFilter, count: Int, distinct: FieldRef?, by: [FieldRef], window: Int64)
        /// Events matching each step in order, with the same `by` values, the last within
        /// `within` milliseconds of the first.
        case sequence(by: [FieldRef], within: Int64, steps: [EventFilter])
    }

    public var id: String
    public var findingType: FindingType
    public var severity: Double
    public var title: Template
    public var description: Template?
    public var sources: Set<Source>
    public var aggregationKey: [FieldRef]
    public var logic: Logic
    /// Where the rule came from (a file path, or `built-in:<name>`).
    public var origin: String

    public var kind: String {
        switch logic {
        case .match: return "where"
        case .threshold: return "threshold"
        case .sequence: return "sequence"
        }
    }

    /// The rule as a detector, with empty state.
    public var detector: RuleDetector { RuleDetector(self) }

    func draft(_ e: Event, detector: String, evidence: [EvidenceRef]?, count: Int?) -> FindingDraft {
        let title = self.title.render(e, count: count)
        return FindingDraft(type: findingType, severity: severity, title: title,
                            description: description?.render(e, count: count) ?? title, detector: detector,
                            aggregationKey: aggregationKey.map { $0.text(e) ?? "unknown" }, event: e, evidence: evidence)
    }
}

/// The detector of a ``Rule``. Threshold and sequence rules keep bounded, deterministic
/// state (``State``), saved as sorted-key JSON like the built-in windowed detectors.
public struct RuleDetector: Detector {
    public let rule: Rule
    public var state = State()
    public var id: String { rule.id }
    public var sources: Set<Source> { rule.sources }

    /// Most groups (distinct `by` values) a rule remembers at once.
    public static let maxKeys = 100_000

    public init(_ rule: Rule) { self.rule = rule }

    /// A sequence in progress for one group.
    public struct Partial: Sendable, Codable, Equatable {
        /// Event time of the first step.
        public var start: Int64
        /// The step to match next (1 after the first).
        public var next: Int
        public var evidence: [EvidenceRef]
    }

    public struct State: Sendable, Codable, Equatable {
        /// Threshold rules: matching events per group.
        public var windows = WindowStore()
        /// Sequence rules: progress per group.
        public var partials: [String: Partial] = [:]
        public init() {}
        var isEmpty: Bool { windows.keys.isEmpty && partials.isEmpty }
    }

    static func key(_ by: [FieldRef], _ e: Event) -> String {
        by.map { $0.text(e) ?? "" }.joined(separator: "\u{1F}")
    }

    public mutating func observe(_ e: Event) -> [FindingDraft] {
        switch rule.logic {
        case .match(let f):
            return f.matches(e) ? [rule.draft(e, detector: id, evidence: nil, count: nil)] : []
        case .threshold(let f, let count, let distinct, let by, let window):
            guard f.matches(e) else { return [] }
            var v = ""
            if let distinct {
                guard let d = distinct.text(e) else { return [] }
                v = d
            }
            let settings = WindowSettings(window: Span(millis: window), threshold: count, maxKeys: Self.maxKeys)
            guard let hit = state.windows.addReaching(Self.key(by, e), WindowEntry(e, v), now: e.time, settings: settings,
                                                      distinct: distinct != nil) else { return [] }
            let refs = hit.map { EvidenceRef(seq: $0.seq, eventID: $0.id, time: $0.t) }
            return [rule.draft(e, detector: id, evidence: refs, count: hit.count)]
        case .sequence(let by, let within, let steps):
            // One sequence per group at a time: a first step while one is under way does
            // not restart it; one that can no longer finish in time is dropped first.
            let key = Self.key(by, e)
            var p = state.partials[key]
            if let q = p, e.time - q.start > within { p = nil; state.partials[key] = nil }
            let next = p?.next ?? 0
            if steps[next].matches(e) {
                var q = p ?? Partial(start: e.time, next: 0, evidence: [])
                q.next += 1
                q.evidence.append(EvidenceRef(e))
                if q.next == steps.count {
                    state.partials[key] = nil
                    return [rule.draft(e, detector: id, evidence: q.evidence, count: nil)]
                }
                state.partials[key] = q
                if state.partials.count > Self.maxKeys { evictPartials(now: e.time, within: within) }
            }
            return []
        }
    }

    /// Drops groups whose sequence can no longer finish, then the oldest starts (ties by key).
    mutating func evictPartials(now: Int64, within: Int64) {
        state.partials = state.partials.filter { now - $0.value.start <= within }
        guard state.partials.count > Self.maxKeys else { return }
        let keep = Self.maxKeys * 9 / 10
        let order = state.partials.map { ($0.value.start, $0.key) }.sorted { $0 < $1 }
        for (_, k) in order.prefix(state.partials.count - keep) { state.partials[k] = nil }
    }

    public func saveState() throws -> [UInt8] {
        if case .match = rule.logic { return [] }
        return state.isEmpty ? [] : try StateCoding.encode(state)
    }

    public mutating func loadState(_ bytes: [UInt8]) throws {
        state = bytes.isEmpty ? State() : try StateCoding.decode(State.self, bytes)
    }
}
