import Foundation
import SecModel
import Testing
@testable import SecStore

@Suite struct RetentionTests {
    static let day: Int64 = 86_400_000
    static let start: Int64 = 1_780_000_000_000 // 2026-05-28

    /// A bank with 40 days of events of one account, appended in batches of 10 days so
    /// blocks span several days (some straddle any cut-off).
    func filled(_ t: TempStore) throws -> (BankStore, [Event]) {
        let bank = try t.store.bank("acme-bank")
        bank.blockRows = 64
        var maker = EventMaker(seed: 3)
        var all: [Event] = []
        for batch in 0..<4 {
            var events: [Event] = []
            for i in 0..<300 {
                let time = RetentionTests.start + Int64(batch) * 10 * RetentionTests.day + Int64(i) * RetentionTests.day / 30
                events.append(maker.event(account: i % 3 == 0 ? "111122224444" : "111122223333", time: time))
            }
            _ = try bank.append(events)
            all += events
        }
        return (bank, all)
    }

    func policy(_ json: String) throws -> RetentionPolicy {
        try RetentionPolicy.parse(Data(json.utf8), file: "test.json", banks: ["acme-bank", "zenith-bank"], org: TempStore.defaultOrg)
    }

    func storedTimes(_ bank: BankStore) throws -> [Int64] {
        try bank.read { snap in try snap.log(from: 1, limit: .max).events.map(\.time) }
    }

    @Test func deletingExpiredBlocksKeepsTheChainVerifiable() throws {
        let t = try TempStore()
        let (bank, all) = try filled(t)
        let asOf = RetentionTests.start + 40 * RetentionTests.day
        let p = try policy(#"{"default": {"cloudtrail": "25d"}}"#)
        let cutoff = asOf - 25 * RetentionTests.day
        let expiring = try bank.expiring(policy: p, asOf: asOf)
        // Oracle: the events appended with a time before the cut-off.
        let expected = all.filter { $0.time < cutoff }.count
        #expect(expected > 0 && expected < all.count)
        #expect(expiring.reduce(0) { $0 + $1.expiredRows.count } == expected)
        #expect(expiring.contains { !$0.whole }, "some block straddles the cut-off")
        let events = try expiring.map { try bank.events(of: $0) }
        let r = try bank.deleteExpired(expiring, events: events, archived: [], archiveDir: "", now: asOf)
        #expect(r.eventsDeleted == expected)
        let left = try storedTimes(bank)
        #expect(left.count == all.count - expected)
        #expect(left.allSatisfy { $0 >= cutoff })
        #expect(left.sorted() == all.map(\.time).filter { $0 >= cutoff }.sorted())
        let report = try bank.verify()
        #expect(report.ok, "\(report.problem ?? "")")
        #expect(report.tombstones == expiring.count)
        #expect(report.deletedEvents == UInt64(expected))
        // Idempotency: appending the kept events again stores nothing; the deleted ones
        // may come back (their keys went with them).
        let again = try bank.append(all)
        #expect(again.stored == expected)
        #expect(try bank.verify().ok)
        // Nothing left to delete after a second pass over the same cut-off? The restored
        // events have expired again, and only they.
        #expect(try bank.expiring(policy: p, asOf: asOf).reduce(0) { $0 + $1.expiredRows.count } == expected)
    }

    @Test func legalHoldsWin() throws {
        let t = try TempStore()
        let (bank, all) = try filled(t)
        let asOf = RetentionTests.start + 40 * RetentionTests.day
        let from = RetentionTests.start + 5 * RetentionTests.day, to = RetentionTests.start + 8 * RetentionTests.day
        let p = try policy("""
            {"default": {"*": "20d"}, "legal_holds": [{"bank": "acme-bank", "account": "111122224444",
             "from": "\(Timestamp.rfc3339(millis: from))", "to": "\(Timestamp.rfc3339(millis: to))", "reason": "case 42"}]}
            """)
        let cutoff = asOf - 20 * RetentionTests.day
        let held = all.filter { $0.time < cutoff && $0.account == "111122224444" && $0.time >= from && $0.time <= to }
        #expect(!held.isEmpty)
        let expiring = try bank.expiring(policy: p, asOf: asOf)
        #expect(expiring.reduce(0) { $0 + $1.held } == held.count)
        _ = try bank.deleteExpired(expiring, events: try expiring.map { try bank.events(of: $0) }, archived: [], archiveDir: "", now: asOf)
        let left = try bank.read { snap in try snap.log(from: 1, limit: .max, raw: true).events }
        #expect(Set(left.filter { $0.time < cutoff }.map(\.raw)) == Set(held.map(\.raw)))
        #expect(try bank.verify().ok)
    }

    /// Removes a block's value, raw section and seq entry the way someone with write
    /// access to the file would, leaving the chain as it was.
    func removeByHand(_ bank: BankStore, _ key: BlockKey, firstSeq: UInt64, chainToo: Bool = false) throws {
        try bank.env.write { txn in
            _ = try key.bytes.withUnsafeBytes { try txn.delete(bank.blocks, $0) }
            _ = try key.bytes.withUnsafeBytes { try txn.delete(bank.raw, $0) }
            _ = try BE.bytes(firstSeq).withUnsafeBytes { try txn.delete(bank.seq, $0) }
            if chainToo { _ = try BE.bytes(firstSeq).withUnsafeBytes { try txn.delete(bank.chain, $0) } }
        }
    }

    func aBlock(_ bank: BankStore, index: Int) throws -> (UInt64, BlockKey) {
        var all: [(UInt64, BlockKey)] = []
        try bank.read { snap in try snap.blocksInSequence { all.append(($0, $1)); return true } }
        return all[index]
    }

    @Test func aBlockDeletedByHandFailsVerifyNamingIt() throws {
        let t = try TempStore()
        let (bank, _) = try filled(t)
        #expect(try bank.verify().ok)
        let (first, key) = try aBlock(bank, index: 3)
        try removeByHand(bank, key, firstSeq: first)
        let report = try bank.verify()
        #expect(!report.ok)
        #expect(report.badBlock == key)
        #expect(report.problem?.contains("block \(key.blockSeq) (seq \(first)-") == true, "\(report.problem ?? "")")
        #expect(report.problem?.contains("no retention tombstone") == true)
    }

    @Test func aBlockAndItsChainEntryDeletedByHandFailVerify() throws {
        let t = try TempStore()
        let (bank, _) = try filled(t)
        let (first, key) = try aBlock(bank, index: 2)
        try removeByHand(bank, key, firstSeq: first, chainToo: true)
        let report = try bank.verify()
        #expect(!report.ok)
        #expect(report.problem?.contains("sequence gap: expected a block starting at seq \(first)") == true, "\(report.problem ?? "")")
    }

    @Test func aForgedTombstoneFailsVerify() throws {
        let t = try TempStore()
        let (bank, _) = try filled(t)
        let (first, key) = try aBlock(bank, index: 1)
        try removeByHand(bank, key, firstSeq: first)
        // Mark the chain entry deleted, as retention would, but without its record.
        try bank.env.write { txn in
            var link = try BE.bytes(first).withUnsafeBytes { k in try txn.get(bank.chain, k) { try ChainLink(decoding: $0) } }!
            link.kind = .tombstone
            try txn.put(bank.chain, BE.bytes(first), link.encoded)
        }
        let report = try bank.verify()
        #expect(report.badBlock == key)
        #expect(report.problem?.contains("tombstone without a retention record") == true, "\(report.problem ?? "")")
    }

    @Test(arguments: [
        (#"{"default": {"cloudtrail": "90 days"}}"#, "'default.cloudtrail' must be a period"),
        (#"{"default": {"cloudtrial": "90d"}}"#, "'default.cloudtrial' is not a source"),
        (#"{"banks": {"acme": {"*": "1y"}}}"#, "'banks.acme' is not a registered bank"),
        (#"{"banks": {"acme-bank": {"accounts": {"123": {"*": "1y"}}}}}"#, "'banks.acme-bank.accounts.123' is not a 12-digit account id"),
        (#"{"legal_holds": [{"bank": "acme-bank"}]}"#, "'legal_holds[0].reason' is required"),
        (#"{"legal_holds": [{"bank": "acme-bank", "reason": "x", "from": "yesterday"}]}"#, "'legal_holds[0].from' must be an RFC 3339 time"),
        (#"{"defaults": {}}"#, "'defaults' is not a key of a retention policy"),
        (#"{"banks": {"acme-bank": {"ous": {"payments": {"*": "1y"}}}}}"#, "'banks.acme-bank.ous.payments' is not the OU of any account of the bank (known: dev, prod)"),
        ("{", "is not valid JSON"),
    ])
    func policyErrorsNameTheFileAndKey(_ json: String, _ message: String) throws {
        do {
            _ = try policy(json)
            Issue.record("accepted \(json)")
        } catch let e as StoreError {
            #expect(e.code == .invalidPolicy)
            #expect(e.message.hasPrefix("retention policy 'test.json': "), "\(e.message)")
            #expect(e.message.contains(message), "\(e.message)")
        }
    }

    @Test func periodsComeFromTheMostSpecificScope() throws {
        let p = try policy("""
            {"default": {"cloudtrail": "400d", "vpcflow": "90d", "finding": "7y", "*": "365d"},
             "banks": {"acme-bank": {"vpcflow": "30d", "ous": {"dev": {"vpcflow": "10d", "alb": "5d"}, "prod": {"alb": "60d"}},
                                     "accounts": {"111122223333": {"cloudtrail": "forever", "*": "2w"}}}}}
            """)
        let d = RetentionTests.day
        #expect(p.period(bank: "acme-bank", account: "111122223333", source: .cloudtrail) == nil)
        #expect(p.period(bank: "acme-bank", account: "111122223333", source: .alb)?.millis == 14 * d)
        // 111122224444 is in OU dev: its OU's entry before the bank's.
        #expect(p.period(bank: "acme-bank", account: "111122224444", source: .vpcflow)?.millis == 10 * d)
        #expect(p.period(bank: "acme-bank", account: "111122224444", source: .vpcflow)?.rule == "banks.acme-bank.ous.dev.vpcflow=10d")
        #expect(p.period(bank: "acme-bank", account: "111122224444", source: .s3access)?.millis == 365 * d)
        // 111122223333 is in OU prod, but its account entry's "*" comes first.
        #expect(p.period(bank: "acme-bank", account: "111122223333", source: .vpcflow)?.millis == 14 * d)
        // The bank's OUs are its own: zenith's prod account does not take acme's prod entry.
        #expect(p.period(bank: "zenith-bank", account: "999988887777", source: .alb)?.millis == 365 * d)
        #expect(p.period(bank: "acme-bank", account: "111122224444", source: .cloudtrail)?.millis == 400 * d)
        #expect(p.period(bank: "zenith-bank", account: "999988887777", source: .finding)?.millis == 7 * 365 * d)
        #expect(p.period(bank: "zenith-bank", account: "999988887777", source: .rds)?.rule == "default.*=1y")
    }

    @Test func compactRefusesABankThisProcessHasOpen() throws {
        let t = try TempStore()
        _ = try filled(t)
        #expect(throws: StoreError.self) { try t.store.compact(bank: "acme-bank") }
    }

    /// Another handle on the store in this process (LMDB forbids opening a file twice
    /// in one process) cannot compact a bank this process has open either.
    @Test func compactRefusesABankOpenInThisProcessThroughAnotherStore() throws {
        let t = try TempStore()
        _ = try filled(t)
        let other = try Store(path: t.dir)
        #expect { _ = try other.compact(bank: "acme-bank") } throws: { e in
            (e as? StoreError)?.code == .busy && "\(e)".contains("is open in this process")
        }
    }
}

/// Rows moved out of a rewritten block keep their old sequence numbers, so readers that
/// had read them do not read them again, and readers that had not do.
@Suite struct RetentionReplayTests {
    let day = RetentionTests.day

    /// The input: 1,200 events over 40 days in 4 batches, the same at every call:
    /// CloudTrail (idempotency keys), or flow log lines identified by their offsets in a
    /// file (positional), with the file each batch is.
    func input(positional: Bool) -> [(events: [Event], origin: BankStore.PartOrigin?)] {
        var maker = EventMaker(seed: 5)
        return (0..<4).map { batch in
            var events: [Event] = []
            for i in 0..<300 {
                let time = RetentionTests.start + Int64(batch) * 10 * day + Int64(i) * day / 30
                var e = maker.event(account: i % 3 == 0 ? "111122224444" : "111122223333", time: time)
                if positional { e.source = .vpcflow; e.eventClass = .networkActivity; e.eventID = nil }
                events.append(e)
            }
            let file = SHA256Digest.hash(Array("flow file \(batch)".utf8))
            return (events, positional ? .init(file: file, range: 0 ..< 30_000, offsets: events.indices.map { Int64($0 * 100) }) : nil)
        }
    }

    /// A bank filled with the input, in blocks of 64.
    func filled(_ t: TempStore, positional: Bool) throws -> BankStore {
        let bank = try t.store.bank("acme-bank")
        bank.blockRows = 64
        for b in input(positional: positional) { _ = try bank.append(parts: [b.events], origins: [b.origin]) }
        return bank
    }

    /// Everything the subscriber is given until it is at the head (raw records).
    func drain(_ bank: BankStore, _ name: String, limit: Int = 1000) throws -> [[UInt8]] {
        var got: [[UInt8]] = []
        while true {
            var batch: [[UInt8]] = []
            let before = try bank.subscriberCheckpoint(name)!
            try bank.consume(name, log: EventLog(raw: true), limit: limit) { items, _ in batch = items.map(\.item.raw) }
            got += batch
            if try bank.subscriberCheckpoint(name)! == before { return got }
        }
    }

    func apply(_ bank: BankStore, cutoffDays: Int64, asOf: Int64) throws -> [ExpiringBlock] {
        let p = try RetentionPolicy.parse(Data(#"{"default": {"*": "\#(cutoffDays)d"}}"#.utf8), file: "t.json", banks: ["acme-bank"])
        let expiring = try bank.expiring(policy: p, asOf: asOf)
        _ = try bank.deleteExpired(expiring, events: try expiring.map { try bank.events(of: $0) }, archived: [], archiveDir: "", now: asOf)
        return expiring
    }

    func baselines(_ bank: BankStore) throws -> [String: [[UInt8]]] {
        try bank.projectionEntries(Baselines()).mapValues { $0.map { $0.key + [0xff] + $0.value } }
    }

    func remaining(_ bank: BankStore) throws -> [[UInt8]] {
        try bank.read { snap in try snap.log(from: 1, limit: .max, raw: true).events.map(\.raw) }
    }

    @Test(arguments: [false, true])
    func movedRowsAreReadOnceByEachReader(positional: Bool) throws {
        let t = try TempStore()
        let bank = try filled(t, positional: positional)
        let all = try remaining(bank)
        #expect(all.count == 1200 && Set(all).count == 1200)
        let asOf = RetentionTests.start + 40 * day
        // Where the first cut-off falls: a block straddling it, and a reader stopped inside it.
        let p = try RetentionPolicy.parse(Data(#"{"default": {"*": "25d"}}"#.utf8), file: "t.json", banks: ["acme-bank"])
        // The straddling block with the most rows kept: readers stop among its expired
        // rows and among its kept rows; a second cut-off falls among its kept rows.
        let straddling = try #require(try bank.expiring(policy: p, asOf: asOf).filter { !$0.whole }
            .max { ($0.lastSeq - $0.firstSeq) - UInt64($0.expiredRows.count) < ($1.lastSeq - $1.firstSeq) - UInt64($1.expiredRows.count) })
        let keptRows = try bank.events(of: straddling).dropFirst(straddling.expiredRows.count)
        try #require(keptRows.count >= 8)
        let stops = ["behind": straddling.firstSeq + UInt64(straddling.expiredRows.count / 2),
                     "behind-kept": straddling.firstSeq + UInt64(straddling.expiredRows.count) + 2]
        let secondCutoffHours = (asOf - keptRows[keptRows.startIndex + keptRows.count / 2].time) / 3_600_000

        try bank.openSubscriber("ahead", log: EventLog(), start: .beginning)
        try bank.openSubscriber("lagging", log: EventLog(), start: .beginning)
        let aheadBefore = try drain(bank, "ahead")
        #expect(try drain(bank, "lagging") == all)
        var readBefore: [String: [[UInt8]]] = [:]
        for (name, stop) in stops {
            try bank.openSubscriber(name, log: EventLog(), start: .beginning)
            try bank.consume(name, log: EventLog(raw: true), limit: Int(stop)) { items, _ in readBefore[name] = items.map(\.item.raw) }
            #expect(readBefore[name]?.count == Int(stop))
        }
        #expect(aheadBefore == all)
        try bank.catchUp(Baselines())
        let baselinesBefore = try baselines(bank)

        _ = try apply(bank, cutoffDays: 25, asOf: asOf)
        let left = try remaining(bank)
        #expect(left.count < all.count)
        #expect(try bank.verify().ok)

        // Caught up before: nothing again, the moved rows included; baselines unchanged.
        #expect(try drain(bank, "ahead").isEmpty)
        try bank.catchUp(Baselines())
        #expect(try baselines(bank) == baselinesBefore)
        // Stopped inside the straddling block: what it had not read and is still there,
        // each once (the rest of that block's kept rows included).
        for name in stops.keys {
            let after = try drain(bank, name, limit: 37)
            let read = Set(readBefore[name]!)
            #expect(after.sorted { $0.lexicographicallyPrecedes($1) }
                    == left.filter { !read.contains($0) }.sorted { $0.lexicographicallyPrecedes($1) }, "\(name)")
        }
        // A reader created now, and one reset to the beginning, read every event left once.
        try bank.openSubscriber("new", log: EventLog(), start: .beginning)
        #expect(try drain(bank, "new").sorted { $0.lexicographicallyPrecedes($1) } == left.sorted { $0.lexicographicallyPrecedes($1) })
        try bank.openSubscriber("ahead", log: EventLog(), start: .beginning, reset: true)
        #expect(try drain(bank, "ahead").count == left.count)

        // A second cut-off among the moved rows moves some of them a second time: still
        // read once, also by a reader that had not caught up with the first move.
        try bank.openSubscriber("steady", log: EventLog(), start: .beginning)
        _ = try drain(bank, "steady")
        let p2 = try RetentionPolicy.parse(Data(#"{"default": {"*": "\#(secondCutoffHours)h"}}"#.utf8), file: "t.json", banks: ["acme-bank"])
        let second = try bank.expiring(policy: p2, asOf: asOf)
        #expect(second.contains { !$0.whole && $0.firstSeq > straddling.lastSeq }, "a block of moved rows straddles the second cut-off")
        _ = try bank.deleteExpired(second, events: try second.map { try bank.events(of: $0) }, archived: [], archiveDir: "", now: asOf)
        #expect(try drain(bank, "steady").isEmpty)
        #expect(try drain(bank, "new").isEmpty)
        #expect(try drain(bank, "lagging").isEmpty)
        #expect(try bank.verify().ok)
        // Appending the original input again stores nothing that is still there (flow
        // files: nothing at all, their ranges are remembered).
        let stillThere = try remaining(bank)
        for b in input(positional: positional) {
            let events = positional ? b.events : b.events.filter { stillThere.contains($0.raw) }
            let r = try bank.append(parts: [events], origins: [b.origin])
            #expect(r.stored == 0 && r.duplicates == events.count)
        }
        #expect(try remaining(bank).count == stillThere.count)
    }

    /// Events restored from an archive (appended with their old sequence numbers) are
    /// not given again to readers that had read them, and are to readers that had not.
    @Test(arguments: [false, true])
    func restoredEventsAreReadOnceByEachReader(positional: Bool) throws {
        let t = try TempStore()
        let bank = try filled(t, positional: positional)
        let all = try remaining(bank)
        let asOf = RetentionTests.start + 40 * day
        try bank.openSubscriber("ahead", log: EventLog(), start: .beginning)
        _ = try drain(bank, "ahead")
        try bank.catchUp(Baselines())
        let baselinesBefore = try baselines(bank)
        let p = try RetentionPolicy.parse(Data(#"{"default": {"*": "25d"}}"#.utf8), file: "t.json", banks: ["acme-bank"])
        let expiring = try bank.expiring(policy: p, asOf: asOf)
        let events = try expiring.map { try bank.events(of: $0) }
        _ = try bank.deleteExpired(expiring, events: events, archived: [], archiveDir: "", now: asOf)
        // What the archive held, restored as `secq ingest` restores it.
        var archived: [Event] = []
        for (b, block) in expiring.enumerated() { for r in block.expiredRows { archived.append(events[b][r]) } }
        let restored = archived.map { e -> Event in var e = e; e.originSeq = e.seq; e.seq = 0; return e }
        let (parts, origins) = BankStore.identityParts(restored, keyed: { !$0.source.isPositional }, bank: "acme-bank")
        #expect(try bank.append(parts: parts, origins: origins).stored == archived.count)
        #expect(try remaining(bank).sorted { $0.lexicographicallyPrecedes($1) } == all.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(try bank.append(parts: parts, origins: origins).stored == 0, "restoring twice stores nothing")
        #expect(try bank.verify().ok)

        #expect(try drain(bank, "ahead").isEmpty)
        try bank.catchUp(Baselines())
        #expect(try baselines(bank) == baselinesBefore)
        try bank.openSubscriber("fresh", log: EventLog(), start: .beginning)
        #expect(try drain(bank, "fresh").count == all.count)
        try bank.openSubscriber("ahead", log: EventLog(), start: .beginning, reset: true)
        #expect(try drain(bank, "ahead").count == all.count)
        // A rebuild folds every event of the restored log once (what the projection had
        // read before is forgotten with its state).
        #expect(try bank.rebuild(Baselines()) == all.count)
    }
}
