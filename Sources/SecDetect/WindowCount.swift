import SecModel

/// What one event means to a ``WindowCountDetector``: a value to count under a key, or
/// the end of whatever the key had gathered (a success after failures).
public enum WindowStep: Sendable, Equatable {
    case add(key: String, value: String)
    case reset(key: String)
}

/// The parts of a "so many (distinct) values per key within a window" detector: which
/// events count, under which key, and the finding a key makes when it reaches the
/// threshold. ``WindowCountDetector`` does the counting.
public protocol WindowCountRule: Sendable {
    /// The detector id (`vpcflow.portscan`).
    static var id: String { get }
    static var sources: Set<Source> { get }
    static var defaultSettings: WindowSettings { get }
    /// True to count distinct values (a repeat replaces the earlier entry of the same
    /// value), false to count every event.
    static var distinct: Bool { get }
    init()
    /// The key and value of an event, a reset, or nil for an event the rule ignores.
    func step(_ e: Event) -> WindowStep?
    /// The finding of a key that reached the threshold with `entries` (the window's
    /// entries, oldest first; `e` is the last).
    func draft(_ e: Event, _ entries: [WindowEntry], settings: WindowSettings) -> FindingDraft
    /// Whether a key that reached the threshold with `entries` makes a finding (default:
    /// always); the key is forgotten either way.
    func fires(_ entries: [WindowEntry]) -> Bool
}

/// Counts values per key within a window and fires when a key reaches the threshold,
/// then forgets the key and starts over (so continued activity fires again only after
/// another full threshold). The state is a ``WindowStore``, bounded as it documents.
public struct WindowCountDetector<Rule: WindowCountRule>: WindowedDetector {
    public var id: String { Rule.id }
    public var sources: Set<Source> { Rule.sources }
    public var state = WindowStore()
    public static var emptyState: WindowStore { WindowStore() }
    public let settings: WindowSettings
    public let rule: Rule

    public init(settings: WindowSettings = Rule.defaultSettings, rule: Rule = Rule()) {
        self.settings = settings; self.rule = rule
    }

    public mutating func observe(_ e: Event) -> [FindingDraft] {
        guard Rule.sources.contains(e.source), let step = rule.step(e) else { return [] }
        switch step {
        case .reset(let key):
            state.clear(key)
            return []
        case .add(let key, let value):
            guard let l = state.addReaching(key, WindowEntry(e, value), now: e.time, settings: settings,
                                            distinct: Rule.distinct), rule.fires(l) else { return [] }
            return [rule.draft(e, l, settings: settings)]
        }
    }
}

extension WindowCountRule {
    public static var distinct: Bool { true }
    public func fires(_ entries: [WindowEntry]) -> Bool { true }
}
