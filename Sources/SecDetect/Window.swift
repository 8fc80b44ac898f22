import SecModel

/// One remembered event of a window: its time, evidence and a detector-specific value
/// (a port, an address, a network, a query name).
public struct WindowEntry: Sendable, Codable, Equatable {
    public var t: Int64
    public var seq: UInt64
    public var id: String?
    public var v: String

    public init(_ e: Event, _ v: String) { t = e.time; seq = e.seq; id = e.eventID; self.v = v }

    var ref: EvidenceRef { EvidenceRef(seq: seq, eventID: id, time: t) }
}

/// Per-key lists of recent entries, bounded in time (the window), per key
/// (`maxEntries`, oldest dropped) and in keys (`maxKeys`: keys whose newest entry left
/// the window go first, then the least recently touched, ties by key). Everything
/// depends only on the events fed, so the state is deterministic.
public struct WindowStore: Sendable, Codable, Equatable {
    public var keys: [String: [WindowEntry]] = [:]
    public init() {}

    /// The key's entries still within `window` of `now`, after pruning them.
    public mutating func entries(_ key: String, now: Int64, window: Int64) -> [WindowEntry] {
        guard var l = keys[key] else { return [] }
        l.removeAll { $0.t < now - window }
        keys[key] = l.isEmpty ? nil : l
        return l
    }

    /// Appends an entry; with `distinct`, an earlier entry of the same value is replaced.
    public mutating func add(_ key: String, _ entry: WindowEntry, now: Int64, window: Int64,
                             maxEntries: Int, maxKeys: Int, distinct: Bool = false) {
        var l = entries(key, now: now, window: window)
        if distinct { l.removeAll { $0.v == entry.v } }
        l.append(entry)
        if l.count > maxEntries { l.removeFirst(l.count - maxEntries) }
        keys[key] = l
        if keys.count > maxKeys { evict(now: now, window: window, maxKeys: maxKeys) }
    }

    public mutating func clear(_ key: String) { keys[key] = nil }

    /// Adds the entry, then, when the key holds `settings.threshold` entries within the
    /// window, forgets them and returns them (the detector fires once per threshold
    /// reached and starts over); nil otherwise.
    public mutating func addReaching(_ key: String, _ entry: WindowEntry, now: Int64, settings: WindowSettings,
                                     distinct: Bool = false) -> [WindowEntry]? {
        add(key, entry, now: now, window: settings.window, maxEntries: settings.threshold, maxKeys: settings.maxKeys,
            distinct: distinct)
        let l = entries(key, now: now, window: settings.window)
        guard l.count >= settings.threshold else { return nil }
        clear(key)
        return l
    }

    mutating func evict(now: Int64, window: Int64, maxKeys: Int) {
        keys = keys.filter { ($0.value.last?.t ?? .min) >= now - window }
        guard keys.count > maxKeys else { return }
        let keep = maxKeys * 9 / 10
        let order = keys.map { ($0.value.last?.t ?? .min, $0.key) }.sorted { $0 < $1 }
        for (_, k) in order.prefix(keys.count - keep) { keys[k] = nil }
    }
}

/// Shared settings of a windowed detector.
public struct WindowSettings: Sendable, Equatable {
    public var window: Int64
    public var threshold: Int
    public var maxKeys: Int

    public init(window: Span, threshold: Int, maxKeys: Int = 100_000) {
        self.window = window.millis; self.threshold = threshold; self.maxKeys = maxKeys
    }
}
