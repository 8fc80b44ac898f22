import SecModel

/// One remembered event of a window: its time, evidence and a detector-specific value
/// (a port, an address, a network, a query name).
public struct WindowEntry: Sendable, Codable, Equatable {
    public var t: Int64
    public var seq: UInt64
    public var id: String?
    public var v: String

    public init(_ e: Event, _ v: String) { t = e.time; seq = e.seq; id = e.eventID; self.v = v }

    public init(t: Int64, seq: UInt64, id: String?, v: String) { self.t = t; self.seq = seq; self.id = id; self.v = v }

    var ref: EvidenceRef { EvidenceRef(seq: seq, eventID: id, time: t) }
}

/// Per-key lists of recent entries, bounded in time (the window), per key
/// (`maxEntries`, oldest dropped) and in keys (`maxKeys`: keys whose newest entry left
/// the window go first, then the least recently touched, ties by key). Everything
/// depends only on the events fed, so the state is deterministic.
public struct WindowStore: Sendable, Codable, Equatable {
    /// Changed only through the methods below, which record the keys they change.
    public private(set) var keys: [String: [WindowEntry]] = [:]
    /// Keys changed since ``takeChanges()``: not part of the state (not coded, not compared).
    private var changed = Set<String>()

    public init() {}

    enum CodingKeys: String, CodingKey { case keys }

    public static func == (a: WindowStore, b: WindowStore) -> Bool { a.keys == b.keys }

    private mutating func set(_ key: String, _ l: [WindowEntry]?) {
        keys[key] = l
        changed.insert(key)
    }

    /// The key's entries still within `window` of `now`, after pruning them.
    public mutating func entries(_ key: String, now: Int64, window: Int64) -> [WindowEntry] {
        guard let current = keys[key] else { return [] }
        let cutoff = now - window
        guard current.contains(where: { $0.t < cutoff }) else { return current }
        var l = keys.removeValue(forKey: key)!
        l.removeAll { $0.t < cutoff }
        set(key, l.isEmpty ? nil : l)
        return l
    }

    /// Appends an entry; with `distinct`, an earlier entry of the same value is replaced.
    public mutating func add(_ key: String, _ entry: WindowEntry, now: Int64, window: Int64,
                             maxEntries: Int, maxKeys: Int, distinct: Bool = false) {
        // Taken out of the table while it changes (a copy left there would make the first
        // change copy the whole list).
        var l = keys.removeValue(forKey: key) ?? []
        l.removeAll { $0.t < now - window }
        if distinct { l.removeAll { $0.v == entry.v } }
        l.append(entry)
        if l.count > maxEntries { l.removeFirst(l.count - maxEntries) }
        set(key, l)
        if keys.count > maxKeys { evict(now: now, window: window, maxKeys: maxKeys) }
    }

    public mutating func clear(_ key: String) { if keys[key] != nil { set(key, nil) } }

    /// Adds the entry, then, when the key holds `settings.threshold` entries within the
    /// window, forgets them and returns them (the detector fires once per threshold
    /// reached and starts over); nil otherwise.
    public mutating func addReaching(_ key: String, _ entry: WindowEntry, now: Int64, settings: WindowSettings,
                                     distinct: Bool = false) -> [WindowEntry]? {
        add(key, entry, now: now, window: settings.window, maxEntries: settings.threshold, maxKeys: settings.maxKeys,
            distinct: distinct)
        // `add` pruned the key as of `now` (unless eviction took it).
        guard let l = keys[key], l.count >= settings.threshold else { return nil }
        clear(key)
        return l
    }

    mutating func evict(now: Int64, window: Int64, maxKeys: Int) {
        for (k, l) in keys where (l.last?.t ?? .min) < now - window { set(k, nil) }
        guard keys.count > maxKeys else { return }
        let keep = maxKeys * 9 / 10
        let order = keys.map { ($0.value.last?.t ?? .min, $0.key) }.sorted { $0 < $1 }
        for (_, k) in order.prefix(keys.count - keep) { set(k, nil) }
    }
}

extension WindowStore: KeyedState {
    /// An entry: its count, then per window entry time, seq, event id (or none) and value.
    public init(entries: [(key: String, value: [UInt8])]) throws {
        var keys: [String: [WindowEntry]] = [:]
        keys.reserveCapacity(entries.count)
        for (key, value) in entries {
            var r = EntryReader(value, key: key)
            let n = try r.u64()
            guard n <= UInt64(value.count / 32) else { throw StateEntryError(key: key) }
            var l: [WindowEntry] = []
            l.reserveCapacity(Int(n))
            for _ in 0..<n {
                let t = try r.i64(), seq = try r.u64(), id = try r.optional(), v = try r.string()
                l.append(WindowEntry(t: t, seq: seq, id: id, v: v))
            }
            guard r.atEnd else { throw StateEntryError(key: key) }
            keys[key] = l
        }
        self.init()
        self.keys = keys
    }

    public mutating func takeChanges() throws -> [(key: String, value: [UInt8]?)] {
        let which = changed
        changed = []
        return which.sorted().map { k in
            guard let l = keys[k] else { return (k, nil) }
            var w = EntryWriter()
            w.u64(UInt64(l.count))
            for e in l { w.i64(e.t); w.u64(e.seq); w.optional(e.id); w.string(e.v) }
            return (k, w.bytes)
        }
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
