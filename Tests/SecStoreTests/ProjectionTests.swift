import Foundation
import SecModel
import Testing
@testable import SecStore

/// Counts calls across copies of a projection value.
///
/// `@unchecked Sendable`: `n` is only touched under `lock`.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}

struct FoldFailed: Error {}

/// The API baselines, failing in the transaction of batch `failAt` after folding it:
/// a crash between the writes and the commit.
struct FailingBaselines: Projection {
    static let name = APIBaselines.name
    static let version = APIBaselines.version
    static let databases = APIBaselines.databases
    static let fields = APIBaselines.fields
    static let sources = APIBaselines.sources
    let failAt: Int
    let calls = CallCounter()

    func fold(_ events: [Event], into state: ProjectionWriter) throws {
        try APIBaselines().fold(events, into: state)
        if calls.next() == failAt { throw FoldFailed() }
    }
}

/// The API baselines under a new version number, as after a change of layout.
struct NextVersionBaselines: Projection {
    static let name = APIBaselines.name
    static let version = APIBaselines.version + 1
    static let databases = APIBaselines.databases
    static let fields = APIBaselines.fields
    static let sources = APIBaselines.sources
    func fold(_ events: [Event], into state: ProjectionWriter) throws { try APIBaselines().fold(events, into: state) }
}

@Suite struct ProjectionTests {
    static let services = ["s3.amazonaws.com", "ec2.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com"]

    /// `batches` batches of CloudTrail-like events over the two accounts of acme-bank,
    /// times spread over a week and out of order.
    static func batches(_ count: Int, size: Int, seed: UInt64 = 1) -> [[Event]] {
        var m = EventMaker(seed: seed)
        var t0: Int64 = 1_780_000_000_000
        return (0..<count).map { _ in
            (0..<size).map { i in
                let account = m.next() % 3 == 0 ? "111122224444" : "111122223333"
                var e = m.event(account: account, time: t0 + Int64(m.next() % 604_800_000))
                e.service = services[Int(m.next() % UInt64(services.count))]
                if i % 97 == 0 { e.principal = nil }
                t0 += 1
                return e
            }
        }
    }

    /// The fields the log reader returns, for comparing with what was appended.
    static func comparable(_ e: Event) -> String {
        var e = e
        e.seq = 0; e.bank = ""; e.eventID = nil
        return String(describing: e)
    }

    static func sameEvents(_ a: [Event], _ b: [Event]) -> Bool {
        a.map(comparable).sorted() == b.map(comparable).sorted()
    }

    @Test func logReadsEveryAppendedEventInSequenceOrder() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        bank.blockRows = 300
        let batches = ProjectionTests.batches(4, size: 1000)
        var ranges: [ClosedRange<UInt64>] = []
        for b in batches {
            let r = try bank.append(b)
            ranges.append(r.firstSeq...r.lastSeq)
        }
        // Read in runs that end in the middle of blocks.
        var all: [Event] = []
        var next: UInt64 = 1
        while true {
            let run = try bank.read { try $0.log(from: next, limit: 777, raw: true) }
            if run.events.isEmpty { break }
            #expect(run.next == run.events.last!.seq + 1)
            all += run.events
            next = run.next
        }
        #expect(all.map(\.seq) == Array(1...4000))
        #expect(all.allSatisfy { $0.bank == "acme-bank" })
        for (b, r) in zip(batches, ranges) {
            let read = all.filter { r.contains($0.seq) }
            #expect(ProjectionTests.sameEvents(read, b), "batch \(r) reads back as appended")
        }
        // Within a block (one account), rows are in time order.
        let blocks = try bank.read { snap in
            var keys: [UInt64] = []
            try snap.blocksInSequence { s, _ in keys.append(s); return true }
            return keys
        }
        #expect(blocks.count >= 4 * 4)

        // A run from the middle of a block, with some fields only and no raw records.
        let rest = try bank.read { try $0.log(from: 1234, limit: .max) }
        #expect(rest.events.map(\.seq) == Array(1234...4000) && rest.next == 4001)
        let mid = try bank.read { try $0.log(from: 1234, limit: 10, fields: [.principal]) }
        #expect(mid.events.map(\.seq) == Array(1234...1243))
        for (e, full) in zip(mid.events, all[1233...]) {
            #expect(e.principal == full.principal && e.time == full.time && e.account == full.account)
            #expect(e.action == nil && e.srcIP == nil && e.raw.isEmpty)
        }
        // Past the head: nothing, and `next` stays past the head.
        let past = try bank.read { try $0.log(from: 4001, limit: 10) }
        #expect(past.events.isEmpty && past.next == 4001)
        #expect(try bank.read { try $0.time(ofSequence: 17) } == all[16].time)
    }

    @Test func logOfSomeSourcesPassesOverTheOtherBlocks() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        var batch = ProjectionTests.batches(1, size: 900)[0]
        for i in batch.indices where i % 3 == 0 {
            batch[i].source = .vpcflow
            batch[i].eventClass = .networkActivity
        }
        _ = try bank.append(batch)
        let all = try ProjectionTests.allEvents(bank)
        let run = try bank.read { try $0.log(from: 1, limit: 10_000, sources: [.cloudtrail]) }
        #expect(run.events.map(\.seq) == all.filter { $0.source == .cloudtrail }.map(\.seq))
        #expect(run.events.count == 600 && run.next == 901)
        let flows = try bank.read { try $0.log(from: 1, limit: 10_000, sources: [.vpcflow]) }
        #expect(flows.events.count == 300 && flows.events.allSatisfy { $0.eventClass == .networkActivity })
    }

    /// The baselines, computed with a naive loop over the log in sequence order.
    static func naiveBaselines(_ events: [Event], cap: Int = 10_000) -> [APIBaselines.API] {
        struct K: Hashable { var account, region, principal, service, action: String }
        var apis: [K: APIBaselines.API] = [:]
        var perPrincipal: [[String]: Int] = [:]
        for e in events.sorted(by: { $0.seq < $1.seq }) {
            guard let p = e.principal, let a = e.action else { continue }
            let k = K(account: e.account, region: e.region ?? "", principal: p, service: e.service ?? "", action: a)
            if var x = apis[k] {
                x.count += 1; x.firstSeen = min(x.firstSeen, e.time); x.lastSeen = max(x.lastSeen, e.time)
                apis[k] = x
            } else if perPrincipal[[k.account, k.region, p], default: 0] < cap {
                perPrincipal[[k.account, k.region, p], default: 0] += 1
                apis[k] = APIBaselines.API(account: k.account, region: k.region, principal: p, service: k.service,
                                           action: a, firstSeen: e.time, lastSeen: e.time, count: 1)
            }
        }
        return Array(apis.values)
    }

    static func allEvents(_ bank: BankStore) throws -> [Event] {
        try bank.read { try $0.log(from: 1, limit: .max) }.events
    }

    @Test func batchedCatchUpEqualsRebuildByteForByte() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        for b in ProjectionTests.batches(5, size: 700) {
            _ = try bank.append(b)
            try bank.catchUp(APIBaselines(), batch: 333)
        }
        let status = try bank.status(APIBaselines())
        #expect(status.checkpoint == 3500 && status.head == 3500 && status.lagEvents == 0 && status.lagMillis == 0)
        #expect(status.entries > 0 && status.bytes > 0)
        let incremental = try bank.projectionEntries(APIBaselines())
        #expect(incremental.keys.sorted() == ["apis", "principals"])

        let expected = ProjectionTests.naiveBaselines(try ProjectionTests.allEvents(bank))
        #expect(Set(try APIBaselines.apis(in: bank)) == Set(expected))

        try bank.rebuild(APIBaselines(), batch: 10_000)
        let rebuilt = try bank.projectionEntries(APIBaselines())
        for name in APIBaselines.databases {
            #expect(rebuilt[name]!.map(\.key) == incremental[name]!.map(\.key))
            #expect(rebuilt[name]!.map(\.value) == incremental[name]!.map(\.value))
        }
    }

    @Test(arguments: [1, 3, 6])
    func aFailedBatchLeavesStateAndCheckpointAsBefore(failAt: Int) throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        for b in ProjectionTests.batches(3, size: 1000, seed: 9) { _ = try bank.append(b) }
        #expect(throws: FoldFailed.self) { try bank.catchUp(FailingBaselines(failAt: failAt), batch: 400) }
        let after = try bank.status(APIBaselines())
        // Batches before the failing one are committed with their checkpoint; that one is not.
        #expect(after.checkpoint == UInt64(400 * (failAt - 1)))
        try bank.catchUp(APIBaselines(), batch: 400)

        let other = try TempStore()
        let clean = try other.store.bank("acme-bank")
        for b in ProjectionTests.batches(3, size: 1000, seed: 9) { _ = try clean.append(b) }
        try clean.catchUp(APIBaselines())
        let a = try bank.projectionEntries(APIBaselines()), b = try clean.projectionEntries(APIBaselines())
        for name in APIBaselines.databases {
            #expect(a[name]!.map(\.key) == b[name]!.map(\.key))
            #expect(a[name]!.map(\.value) == b[name]!.map(\.value))
        }
    }

    @Test func aNewVersionDropsTheStateAndFoldsTheLogAgain() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        for b in ProjectionTests.batches(2, size: 500) { _ = try bank.append(b) }
        let fresh = try bank.status(APIBaselines())
        let (t1, t1000) = try bank.read { (try $0.time(ofSequence: 1)!, try $0.time(ofSequence: 1000)!) }
        #expect(fresh.storedVersion == nil && fresh.checkpoint == 0 && fresh.head == 1000 && fresh.lagEvents == 1000)
        #expect(fresh.lagMillis == max(0, t1000 - t1) && fresh.entries == 0)
        try bank.catchUp(APIBaselines())
        let before = try bank.projectionEntries(APIBaselines())
        let stale = try bank.status(NextVersionBaselines())
        #expect(stale.needsRebuild && stale.storedVersion == APIBaselines.version)
        #expect(try bank.catchUp(NextVersionBaselines()) == 1000)
        let now = try bank.status(NextVersionBaselines())
        #expect(!now.needsRebuild && now.checkpoint == 1000)
        let after = try bank.projectionEntries(NextVersionBaselines())
        #expect(after["apis"]!.map(\.value) == before["apis"]!.map(\.value))
        // Caught up: nothing more to fold.
        #expect(try bank.catchUp(NextVersionBaselines()) == 0)
    }

    @Test func aPrincipalKeepsAtMostCapAPIsTheFirstItCalled() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        for b in ProjectionTests.batches(3, size: 800, seed: 4) { _ = try bank.append(b) }
        let p = APIBaselines(cap: 3)
        try bank.catchUp(p, batch: 250)
        let events = try ProjectionTests.allEvents(bank)
        let kept = try APIBaselines.apis(in: bank)
        #expect(Set(kept) == Set(ProjectionTests.naiveBaselines(events, cap: 3)))
        let perPrincipal = Dictionary(grouping: kept) { [$0.account, $0.region, $0.principal] }
        #expect(perPrincipal.values.allSatisfy { $0.count <= 3 })
        #expect(perPrincipal.values.contains { $0.count == 3 })
        // Calls of APIs not kept are counted on the principal.
        let principals = try bank.projectionEntries(p)["principals"]!
        let notKept = try principals.reduce(UInt64(0)) { $0 + (try APIBaselines.decodePrincipal($1.value).notKept) }
        let all = events.filter { $0.principal != nil && $0.action != nil }.count
        #expect(notKept == UInt64(all) - kept.reduce(0) { $0 + $1.count })
        #expect(notKept > 0)
    }
}
