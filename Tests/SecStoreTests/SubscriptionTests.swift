import Foundation
import SecModel
import Testing
@testable import SecStore

struct ConsumerFailed: Error {}

@Suite struct SubscriptionTests {
    /// Appends `count` batches of `size` events to acme-bank; returns the head.
    @discardableResult
    static func append(_ bank: BankStore, batches count: Int, size: Int, seed: UInt64) throws -> UInt64 {
        for b in ProjectionTests.batches(count, size: size, seed: seed) { _ = try bank.append(b) }
        return try bank.read { try $0.state().nextSeq - 1 }
    }

    @Test func consumeIsExactlyOnceAcrossFailedBatches() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        try SubscriptionTests.append(bank, batches: 3, size: 400, seed: 5)
        try bank.openSubscriber("counter", log: EventLog(), start: .beginning)
        // Each consumed event increments its own counter (key: seq) in the consumer's
        // database; every third batch fails after writing.
        var calls = 0
        func step() throws -> Int {
            try bank.consume("counter", log: EventLog(fields: [.action]), databases: ["seen"], limit: 170) { items, w in
                calls += 1
                let db = w.database("seen")
                for (seq, _) in items {
                    let key = withUnsafeBytes(of: seq.bigEndian) { Array($0) }
                    let n = try db.get(key).map { $0[0] } ?? 0
                    try db.put(key, [n + 1])
                }
                if calls % 3 == 0 { throw ConsumerFailed() }
            }
        }
        var failures = 0
        func drain() throws {
            while true {
                do { if try step() == 0 { return } } catch is ConsumerFailed { failures += 1 }
            }
        }
        try drain()
        var head = try SubscriptionTests.append(bank, batches: 2, size: 333, seed: 6)
        try drain()
        #expect(failures > 0)
        head = try bank.read { try $0.state().nextSeq - 1 }
        #expect(try bank.subscriberCheckpoint("counter") == head)
        let seen = try bank.subscriberEntries("counter", database: "seen")
        #expect(seen.count == Int(head))
        #expect(seen.map { $0.key.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } } == Array(1...head))
        #expect(seen.allSatisfy { $0.value == [1] }, "every event consumed exactly once")
    }

    @Test func subscriberCheckpointsAreSeparateAndStartWhereAsked() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        let head = try SubscriptionTests.append(bank, batches: 1, size: 100, seed: 1)
        #expect(try bank.openSubscriber("a", log: EventLog(), start: .beginning) == (0, true))
        #expect(try bank.openSubscriber("b", log: EventLog(), start: .end) == (head, true))
        #expect(try bank.openSubscriber("c", log: EventLog(), start: .at(40)) == (39, true))
        // An existing subscriber stays where it is, unless reset.
        #expect(try bank.openSubscriber("c", log: EventLog(), start: .beginning) == (39, false))
        #expect(try bank.openSubscriber("c", log: EventLog(), start: .at(7), reset: true) == (6, true))
        try bank.acknowledge("a", upTo: 50)
        try bank.acknowledge("a", upTo: 20) // never moves back
        #expect(try bank.subscribers().map { "\($0.name)=\($0.checkpoint)" } == ["a=50", "b=\(head)", "c=6"])
        #expect(try bank.pending("c", log: EventLog(), limit: 5).items.map(\.seq) == [7, 8, 9, 10, 11])
        #expect(try bank.deleteSubscriber("b"))
        #expect(try bank.subscriberCheckpoint("b") == nil)
        #expect(throws: StoreError.self) { try bank.openSubscriber("bad name", log: EventLog(), start: .end) }
    }

    /// The async sequence: stopping mid-batch redelivers that batch only; following sees
    /// appends made while it waits.
    @Test func asyncSequenceIsAtLeastOnceAndFollows() async throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        let head = try SubscriptionTests.append(bank, batches: 2, size: 500, seed: 3)
        var got: [UInt64] = []
        // Three runs that each stop part way (a consumer that goes away), then one to the end.
        for stop in [130, 260, 1] {
            var n = 0
            for try await e in try Subscription(store: t.store, name: "s", banks: ["acme-bank"], batch: 100, follow: false) {
                got.append(e.seq)
                n += 1
                if n == stop { break }
            }
        }
        for try await e in try Subscription(store: t.store, name: "s", banks: ["acme-bank"], batch: 100, follow: false) {
            got.append(e.seq)
        }
        #expect(Set(got) == Set(1...head), "no gaps")
        var counts: [UInt64: Int] = [:]
        for s in got { counts[s, default: 0] += 1 }
        let dups = counts.filter { $0.value > 1 }.keys.sorted()
        // Runs stopped at 130 and 260 events (batches of 100): 101...130 and 301...360 were
        // given again (the third run's one event, 301, is among them, given three times).
        #expect(dups == Array(101...130) + Array(301...360))
        #expect(counts[301] == 3)
        #expect(try bank.subscriberCheckpoint("s") == head)

        // Following: a task waits at the head; an append shows up.
        let store = t.store
        try bank.openSubscriber("f", log: EventLog(), start: .end)
        let follower = Task { () throws -> [UInt64] in
            var seen: [UInt64] = []
            for try await e in try Subscription(store: store, name: "f", banks: ["acme-bank"], start: .end, batch: 50) {
                seen.append(e.seq)
                if seen.count == 120 { break }
            }
            return seen
        }
        try await Task.sleep(for: .milliseconds(300))
        let newHead = try SubscriptionTests.append(bank, batches: 1, size: 120, seed: 9)
        let seen = try await follower.value
        #expect(seen == Array(head + 1...newHead))
    }
}
