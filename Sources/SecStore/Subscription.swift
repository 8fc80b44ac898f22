#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SecModel

/// A log a subscriber reads in order: positions 1, 2, ... up to a head, each item at one
/// position. The bank's event log is one (`EventLog`); a derived feed kept in the bank's
/// environment can be another: subscribers of different logs keep separate checkpoints
/// (the log's name is part of the checkpoint's key).
public protocol SubscribableLog: Sendable {
    associatedtype Item: Sendable
    /// Part of the checkpoint key: `<log>/<subscriber>`. Letters, digits, `-`, `_`, `.`.
    var name: String { get }
    /// The last position written (0: none).
    func head(_ snap: BankSnapshot) throws -> UInt64
    /// At most `limit` items from position `from` on, in position order, and the position
    /// the next read starts at (past the head when the run reached it).
    func read(_ snap: BankSnapshot, from: UInt64, limit: Int) throws -> (items: [(seq: UInt64, item: Item)], next: UInt64)
}

/// The bank's events in sequence order (see `BankSnapshot.log`).
public struct EventLog: SubscribableLog {
    public var fields: Set<Field>?
    public var raw: Bool
    public var rawSources: Set<Source>?

    /// - Parameters:
    ///   - fields: the fields to decode, nil for all.
    ///   - raw: whether events carry their raw records.
    ///   - rawSources: with `raw`, only events of these sources carry it (nil: all).
    public init(fields: Set<Field>? = nil, raw: Bool = false, rawSources: Set<Source>? = nil) {
        self.fields = fields
        self.raw = raw
        self.rawSources = rawSources
    }

    public var name: String { "events" }

    public func head(_ snap: BankSnapshot) throws -> UInt64 { try snap.state().nextSeq - 1 }

    public func read(_ snap: BankSnapshot, from: UInt64, limit: Int) throws -> (items: [(seq: UInt64, item: Event)], next: UInt64) {
        let run = try snap.log(from: from, limit: limit, fields: fields, raw: raw, rawSources: rawSources)
        return (run.events.map { ($0.seq, $0) }, run.next)
    }
}

/// One subscriber's place in one bank.
public struct SubscriberCheckpoint: Sendable, Equatable {
    public var log: String
    public var name: String
    /// The last position delivered and acknowledged (0: none).
    public var checkpoint: UInt64
}

/// Where a new subscriber starts.
public enum SubscriptionStart: Sendable, Equatable {
    /// At the first event of the log.
    case beginning
    /// After the current head: only what is appended from now on.
    case end
    /// At this position (it is the first delivered).
    case at(UInt64)
}

extension StoreError.Code {
    /// A subscriber that does not exist, or a name that cannot be one.
    public static let unknownSubscriber = StoreError.Code(rawValue: "unknown-subscriber")
    public static let invalidArgument = StoreError.Code(rawValue: "invalid-argument")
}

extension BankStore {
    /// The subscribers' checkpoints: key `<log>/<name>` (UTF-8), value the last position
    /// delivered (u64 LE).
    static let subscribersDB = "subscribers"

    /// A subscriber name: 1 to 100 of letters, digits, `-`, `_`, `.`.
    public static func isValidSubscriberName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 100 && s.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95 || c == 46
        }
    }

    private func subscribersHandle() throws -> DB {
        try projectionDBs.open([BankStore.subscribersDB], in: env)[BankStore.subscribersDB]!
    }

    private static func subscriberKey(_ log: String, _ name: String) throws -> [UInt8] {
        guard isValidSubscriberName(name) else {
            throw StoreError(.invalidArgument, "'\(name)' is not a subscriber name (letters, digits, '-', '_', '.'; at most 100)")
        }
        return Array("\(log)/\(name)".utf8)
    }

    private static func decodeCheckpoint(_ b: UnsafeRawBufferPointer) -> UInt64 {
        b.count >= 8 ? UInt64(littleEndian: b.loadUnaligned(as: UInt64.self)) : 0
    }

    private static func putCheckpoint(_ txn: TxnRef, _ db: DB, _ key: [UInt8], _ seq: UInt64) throws {
        let v = withUnsafeBytes(of: seq.littleEndian) { Array($0) }
        try key.withUnsafeBytes { k in try v.withUnsafeBytes { try txn.put(db, k, $0) } }
    }

    /// The subscriber's checkpoint in this bank; nil when it does not exist here.
    public func subscriberCheckpoint(_ name: String, log: String = "events") throws -> UInt64? {
        let db = try subscribersHandle()
        let key = try BankStore.subscriberKey(log, name)
        return try read { snap in
            try key.withUnsafeBytes { k in try TxnRef(snap.txn).get(db, k) { BankStore.decodeCheckpoint($0) } }
        }
    }

    /// Every subscriber of the bank, by log and name.
    public func subscribers() throws -> [SubscriberCheckpoint] {
        let db = try subscribersHandle()
        return try read { snap in
            let c = try Cursor(txn: snap.txn, db: db)
            var out: [SubscriberCheckpoint] = []
            var e = try c.first()
            while let cur = e {
                let key = String(decoding: cur.key, as: UTF8.self)
                if let slash = key.firstIndex(of: "/") {
                    out.append(SubscriberCheckpoint(log: String(key[..<slash]), name: String(key[key.index(after: slash)...]),
                                                    checkpoint: BankStore.decodeCheckpoint(cur.value)))
                }
                e = try c.next()
            }
            return out
        }
    }

    /// Creates the subscriber at `start` when it does not exist (or, with `reset`, moves
    /// it there); an existing one is left where it is otherwise.
    ///
    /// - Returns: the checkpoint and whether it was created or moved.
    @discardableResult
    public func openSubscriber<L: SubscribableLog>(_ name: String, log: L, start: SubscriptionStart,
                                                   reset: Bool = false) throws -> (checkpoint: UInt64, created: Bool) {
        let db = try subscribersHandle()
        let key = try BankStore.subscriberKey(log.name, name)
        _ = try replayHandles()
        return try env.write { txn in
            let ref = TxnRef(txn.txn)
            let existing = try key.withUnsafeBytes { k in try ref.get(db, k) { BankStore.decodeCheckpoint($0) } }
            if let existing, !reset { return (existing, false) }
            let cp: UInt64
            switch start {
            case .beginning: cp = 0
            case .end: cp = try log.head(BankSnapshot(bank: self, txn: txn.txn))
            case .at(let s): cp = s > 0 ? s - 1 : 0
            }
            try BankStore.putCheckpoint(ref, db, key, cp)
            try forgetRead(BankStore.subscriberReader(key), in: ref)
            return (cp, true)
        }
    }

    /// Moves the subscriber's checkpoint to `seq` (the last position delivered). Never
    /// moves it back: a checkpoint written by another run of the same subscriber that got
    /// further stays.
    public func acknowledge(_ name: String, log: String = "events", upTo seq: UInt64) throws {
        let db = try subscribersHandle()
        let key = try BankStore.subscriberKey(log, name)
        try env.write { txn in
            let ref = TxnRef(txn.txn)
            let cur = try key.withUnsafeBytes { k in try ref.get(db, k) { BankStore.decodeCheckpoint($0) } } ?? 0
            if seq > cur { try BankStore.putCheckpoint(ref, db, key, seq) }
        }
    }

    /// Removes the subscriber from this bank. Returns whether it existed.
    @discardableResult
    public func deleteSubscriber(_ name: String, log: String = "events") throws -> Bool {
        let db = try subscribersHandle()
        let key = try BankStore.subscriberKey(log, name)
        _ = try replayHandles()
        return try env.write { txn in
            try forgetRead(BankStore.subscriberReader(key), in: TxnRef(txn.txn))
            return try key.withUnsafeBytes { try TxnRef(txn.txn).delete(db, $0) }
        }
    }

    /// Reads the next items of the log after the subscriber's checkpoint, without moving it.
    public func pending<L: SubscribableLog>(_ name: String, log: L, limit: Int) throws
        -> (items: [(seq: UInt64, item: L.Item)], next: UInt64, head: UInt64, checkpoint: UInt64) {
        let db = try subscribersHandle()
        let key = try BankStore.subscriberKey(log.name, name)
        return try read { snap in
            guard let cp = try key.withUnsafeBytes({ k in try TxnRef(snap.txn).get(db, k) { BankStore.decodeCheckpoint($0) } }) else {
                throw StoreError(.unknownSubscriber, "no subscriber '\(name)' in bank '\(id)'")
            }
            let head = try log.head(snap)
            let run = try log.read(snap, from: cp + 1, limit: limit)
            return (try unread(run.items, log: log, key: key, in: TxnRef(snap.txn)), run.next, head, cp)
        }
    }

    /// Exactly-once consumption: reads the next items after the subscriber's checkpoint
    /// and runs `body` on them **inside one write transaction** of the bank; what `body`
    /// writes through the writer (into the databases named in `databases`, kept as
    /// `sub.<name>.<db>`), the events it appends to the bank's log with
    /// `ProjectionWriter.append` and the new checkpoint commit together. A crash or a
    /// throwing `body` leaves all of them as they were, so each item is consumed exactly
    /// once. Appended events come after the items read and are read by the next batch.
    ///
    /// `body` may be run again from the start (when the map grows): it must not keep
    /// anything outside the transaction between calls.
    ///
    /// Items whose event the subscriber had read before under another sequence number
    /// (moved by retention, or restored from an archive) are left out; the checkpoint
    /// moves past them.
    ///
    /// - Returns: the number of items given to `body` (0 when caught up, and for a batch
    ///   that held only such items or gaps).
    @discardableResult
    public func consume<L: SubscribableLog>(_ name: String, log: L, databases: [String] = [], limit: Int = 1000,
                                            _ body: ([(seq: UInt64, item: L.Item)], ProjectionWriter) throws -> Void) throws -> Int {
        let db = try subscribersHandle()
        let key = try BankStore.subscriberKey(log.name, name)
        let opened = try projectionDBs.open(databases.map { "sub.\(name).\($0)" }, in: env)
        _ = try replayHandles() // what it had read of moved events, opened outside the transaction
        var dbs: [String: DB] = [:]
        for d in databases { dbs[d] = opened["sub.\(name).\(d)"]! }
        let appended = ProjectionWriter.AppendFlag()
        let n = try env.write { txn in
            appended.value = false
            let ref = TxnRef(txn.txn)
            guard let cp = try key.withUnsafeBytes({ k in try ref.get(db, k) { BankStore.decodeCheckpoint($0) } }) else {
                throw StoreError(.unknownSubscriber, "no subscriber '\(name)' in bank '\(id)'")
            }
            let run = try log.read(BankSnapshot(bank: self, txn: txn.txn), from: cp + 1, limit: limit)
            guard run.next - 1 > cp else { return 0 }
            let items = try unread(run.items, log: log, key: key, in: ref)
            try body(items, ProjectionWriter(txn: ref, dbs: dbs, bank: self, appended: appended))
            try BankStore.putCheckpoint(ref, db, key, run.next - 1)
            return items.count
        }
        if appended.value { notifyAppended() }
        return n
    }

    /// The items of the event log the subscriber has not read before: without events
    /// moved or restored whose old sequence number it had read (see Replay.swift).
    private func unread<L: SubscribableLog>(_ items: [(seq: UInt64, item: L.Item)], log: L, key: [UInt8],
                                            in txn: TxnRef) throws -> [(seq: UInt64, item: L.Item)] {
        guard log.name == EventLog().name, let first = items.first?.seq, let last = items.last?.seq else { return items }
        let skip = try alreadyRead(BankStore.subscriberReader(key), first, last, in: txn)
        return skip.isEmpty ? items : items.filter { !skip.contains($0.seq) }
    }

    /// The database a subscriber wrote through `consume`, entries in key order.
    public func subscriberEntries(_ name: String, database: String) throws -> [(key: [UInt8], value: [UInt8])] {
        let db = try projectionDBs.open(["sub.\(name).\(database)"], in: env)["sub.\(name).\(database)"]!
        return try read { snap in
            let c = try Cursor(txn: snap.txn, db: db)
            var rows: [(key: [UInt8], value: [UInt8])] = []
            var e = try c.first()
            while let cur = e { rows.append((Array(cur.key), Array(cur.value))); e = try c.next() }
            return rows
        }
    }

    // MARK: - Append notification

    /// The file a commit rewrites (the time of the commit, as text) so that followers in other
    /// processes wake up: they watch the bank's directory with inotify.
    static let appendedFile = "appended"

    /// The bank's directory.
    public var directory: String { env.path }

    /// Tells followers the log grew. Best effort: a failure here loses nothing (followers
    /// also look at the head once a second).
    func notifyAppended() {
        let path = env.path + "/" + BankStore.appendedFile
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let text = Array("\(Int64(Date().timeIntervalSince1970 * 1000))\n".utf8)
        _ = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// Waits for appends to some banks: inotify on each bank's directory (a commit rewrites
/// its `appended` file), with a timed wait as a fallback, so a wait never spins.
public final class AppendWatcher: @unchecked Sendable {
    private let fd: Int32
    /// Another descriptor whose readability also ends a wait (a signal pipe), or -1.
    private let wake: Int32

    /// - Parameter wake: a descriptor that ends waits when readable (e.g. a signal's pipe).
    public init(banks: [BankStore], wake: Int32 = -1) {
        self.wake = wake
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd >= 0 {
            let mask = UInt32(IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_CREATE)
            for b in banks { _ = inotify_add_watch(fd, b.directory, mask) }
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether inotify is in use (otherwise waits only time out).
    public var notifies: Bool { fd >= 0 }

    /// Blocks until something changed in a watched bank, `wake` is readable or `timeout`
    /// seconds passed. Returns true when woken by `wake`.
    @discardableResult
    public func wait(timeout: Double) -> Bool {
        var fds: [pollfd] = []
        if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        if wake >= 0 { fds.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0)) }
        let n = poll(&fds, nfds_t(fds.count), Int32(timeout * 1000))
        guard n > 0 else { return false }
        if fd >= 0 && fds[0].revents != 0 {
            // Drain the queued events: one wake-up per wait is enough.
            var buf = [UInt8](repeating: 0, count: 4096)
            while buf.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
        }
        return wake >= 0 && fds[fds.count - 1].revents != 0
    }
}

/// An event a subscriber is given, with the bank and position it came from.
public struct SubscribedEvent: Sendable {
    public var bank: String
    public var seq: UInt64
    public var event: Event
}

/// A subscriber's events as an `AsyncSequence`: from its checkpoint in each bank (banks
/// taken in turn, a batch at a time; sequence order within a bank), then, with `follow`,
/// what is appended later.
///
/// At-least-once: a batch is acknowledged (the checkpoint moved past it) when the
/// consumer asks for the element after its last one, i.e. after it has handled the whole
/// batch. A consumer that stops (or crashes) mid-batch gets that batch again from the
/// start next time. For exactly-once, write the results through the bank in the same
/// transaction as the checkpoint: `BankStore.consume`.
public struct Subscription: AsyncSequence, Sendable {
    public typealias Element = SubscribedEvent
    let banks: [BankStore]
    let name: String
    let log: EventLog
    let batch: Int
    let follow: Bool

    /// Opens (creating at `start` when new) the subscriber in each bank.
    ///
    /// - Parameters:
    ///   - banks: bank ids, nil for every bank of the store.
    ///   - follow: after catching up, wait for appends instead of ending.
    public init(store: Store, name: String, banks: [String]? = nil, start: SubscriptionStart = .beginning,
                log: EventLog = EventLog(), batch: Int = 1000, follow: Bool = true) throws {
        let ids = try banks ?? store.org().banks.map(\.id)
        self.banks = try ids.map { try store.bank($0) }
        for b in self.banks { try b.openSubscriber(name, log: log, start: start) }
        self.name = name
        self.log = log
        self.batch = Swift.max(batch, 1)
        self.follow = follow
    }

    public func makeAsyncIterator() -> Iterator { Iterator(s: self) }

    public struct Iterator: AsyncIteratorProtocol {
        let s: Subscription
        var buffer: [SubscribedEvent] = []
        var index = 0
        var unacknowledged: (bank: BankStore, upTo: UInt64)? = nil
        var turn = 0
        var watcher: AppendWatcher? = nil

        init(s: Subscription) { self.s = s }

        public mutating func next() async throws -> SubscribedEvent? {
            while true {
                if index < buffer.count {
                    index += 1
                    return buffer[index - 1]
                }
                // The consumer is past the batch's last element: it handled the batch.
                if let u = unacknowledged {
                    try u.bank.acknowledge(s.name, log: s.log.name, upTo: u.upTo)
                    unacknowledged = nil
                }
                if try refill() { continue }
                guard s.follow, !Task.isCancelled else { return nil }
                let w = watcher ?? AppendWatcher(banks: s.banks)
                watcher = w
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().async { w.wait(timeout: 1); c.resume() }
                }
                if Task.isCancelled { return nil }
            }
        }

        /// Reads the next batch of the first bank (in turn) that has one.
        private mutating func refill() throws -> Bool {
            for k in 0..<s.banks.count {
                let b = s.banks[(turn + k) % s.banks.count]
                let p = try b.pending(s.name, log: s.log, limit: s.batch)
                guard p.next - 1 > p.checkpoint else { continue }
                turn = (turn + k + 1) % s.banks.count
                buffer = p.items.map { SubscribedEvent(bank: b.id, seq: $0.seq, event: $0.item) }
                index = 0
                unacknowledged = (b, p.next - 1)
                if !buffer.isEmpty { return true }
                // A gap only (a block removed by retention): move past it.
                try b.acknowledge(s.name, log: s.log.name, upTo: p.next - 1)
                unacknowledged = nil
            }
            return false
        }
    }
}
