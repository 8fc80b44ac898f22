import Foundation
import SecDetect
import SecEngine
import SecModel
import SecStore
import Testing

/// The behavioural detectors through the engine and a real store: the baselines they
/// read are the `baselines` projection, folded through each batch inside its transaction.
@Suite struct BehaviouralEngineTests {
    static let account = "111122223333"
    static let alice = "arn:aws:iam::111122223333:user/alice"
    static let t0 = Timestamp.parse("2026-11-10T10:00:00Z")!

    static func call(_ action: String, ip: String, ua: String, at t: Int64) -> Event {
        let raw = #"{"eventID":"\#(UUID().uuidString.lowercased())","eventName":"\#(action)"}"#
        var e = Event(time: t, account: account, source: .cloudtrail, eventClass: .apiActivity, raw: Array(raw.utf8))
        e.principal = alice
        e.service = "iam.amazonaws.com"
        e.action = action
        e.srcIP = IPAddress(ip)
        e.userAgent = ua
        e.region = "us-east-1"
        e.outcome = .success
        return e
    }

    /// Alice's 8 ordinary days, then (appended after the baselines last caught up) an
    /// attacker's first `ListUsers` from outside, and her own `ListUsers` two hours later.
    static func store(_ tag: String) throws -> (Store, BankStore) {
        let store = try Store(path: temporaryDirectory(tag), create: true)
        try store.register(Org(banks: [.init(id: "acme-bank", name: "Acme", accounts: [.init(id: account, name: "prod", ou: "prod")])]))
        let bank = try store.bank("acme-bank")
        let history = stride(from: Int64(8 * 24), to: 1, by: -6).map {
            call("GetUser", ip: "44.10.20.30", ua: "aws-cli/2.15.0", at: t0 - $0 * 3_600_000)
        }
        _ = try bank.append(history)
        try bank.catchUp(Baselines())
        _ = try bank.append([call("ListUsers", ip: "185.220.101.7", ua: "python-requests/2.31.0", at: t0),
                             call("ListUsers", ip: "44.10.20.30", ua: "aws-cli/2.15.0", at: t0 + 7_200_000)])
        return (store, bank)
    }

    static func behavioural(_ bank: BankStore) throws -> [Finding] {
        try bank.findings().filter { $0.type.description.hasSuffix("/AnomalousBehavior") }
    }

    @Test func theViewAnswersAsOfTheLog() throws {
        let (_, bank) = try Self.store("behav-asof")
        let head = try bank.status(Baselines()).head
        #expect(try bank.status(Baselines()).checkpoint == head - 2, "the baselines lag the last two events")

        _ = try DetectionEngine().run(bank, batch: 1000)
        // The attacker's call is a never-called API from a new network and client, though
        // the baselines (folded through the batch) also hold alice's own later call: its
        // first seen is the attacker's time. Her own call is then a seen API.
        let found = try Self.behavioural(bank)
        #expect(found.count == 1)
        let f = try #require(found.first)
        #expect(f.type.description == "Discovery:IAMUser/AnomalousBehavior")
        #expect(f.count == 1)
        #expect(f.reasons == ["api", "network", "user_agent"])
        #expect(f.evidence.map(\.seq) == [head - 1])
        // The lag was folded in the batch's transaction (and, with the finding's own
        // event the batch appended, the projection is at the new head).
        #expect(try bank.status(Baselines()).checkpoint == head + 1)
        #expect(try bank.status(Baselines()).head == head + 1)
    }

    /// Per-key state keys hold input text: a principal's ARN may be longer than LMDB's
    /// key limit (IAM paths reach 512 characters). Its window entry is kept under a
    /// hashed key, read back by the next run, and the finding it leads to is made.
    @Test func aWindowKeyLongerThanLMDBsLimitIsKept() throws {
        let dir = temporaryDirectory("long-key")
        let store = try Store(path: dir, create: true)
        try store.register(Org(banks: [.init(id: "acme-bank", name: "Acme", accounts: [.init(id: Self.account, name: "prod", ou: "prod")])]))
        let bank = try store.bank("acme-bank")
        let who = "arn:aws:iam::111122223333:user/" + String(repeating: "team/", count: 110) + "alice"
        #expect(who.utf8.count > 511)
        func login(_ ip: String, _ t: Int64) -> Event {
            var e = Self.call("ConsoleLogin", ip: ip, ua: "Mozilla/5.0", at: t)
            e.principal = who
            e.service = "signin.amazonaws.com"
            e.eventClass = .authentication
            return e
        }
        _ = try bank.append([login("44.10.20.30", Self.t0)])
        _ = try DetectionEngine().run(bank)
        // A second run (a new engine: the state comes back from the store) sees the
        // sign-in from a distant network 30 minutes later.
        _ = try bank.append([login("81.2.3.4", Self.t0 + 1_800_000)])
        _ = try DetectionEngine().run(bank)
        let f = try bank.findings().filter { $0.type.description == "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B" }
        #expect(f.count == 1 && f.first?.principal == who)
        #expect(f.first?.evidence.count == 2)
        // The store keeps the value in its dictionary under a digest: a look-up by the
        // principal (postings) finds both sign-ins.
        let q = try secq(["query", "--store", dir, "--format", "json", "where principal == \"\(who)\" and source == \"cloudtrail\" | stats count() as n"])
        #expect(q.out == "{\"n\":2}\n", "\(q.err)")
    }

    @Test func batchesOfOneGiveTheSameFindings() throws {
        let (_, one) = try Self.store("behav-batch1")
        let (_, all) = try Self.store("behav-batchall")
        _ = try DetectionEngine().run(one, batch: 1)
        _ = try DetectionEngine().run(all, batch: 1000)
        let a = try Self.behavioural(one), b = try Self.behavioural(all)
        #expect(a.count == 1)
        // Ids, counts, times, reasons and evidence sequence numbers (event ids differ:
        // each store's events were made anew).
        #expect(a.map(\.id) == b.map(\.id))
        #expect(a.map(\.count) == b.map(\.count))
        #expect(a.map(\.reasons) == b.map(\.reasons))
        #expect(a.map { $0.evidence.map(\.seq) } == b.map { $0.evidence.map(\.seq) })
    }

    @Test func aLearningPeriodThatIsNotASpanIsRefused() throws {
        let r = try secq(["detect", "--store", temporaryDirectory("behav-badspan"), "--learning-period", "a week"])
        #expect(r.status != 0)
        #expect(r.err.contains("--learning-period: 'a week' is not a span"))
    }

    @Test func aLongerLearningPeriodKeepsItQuiet() throws {
        let (_, bank) = try Self.store("behav-learning")
        var engine = DetectionEngine()
        engine.learningPeriod = 10 * 86_400_000
        _ = try engine.run(bank)
        #expect(try Self.behavioural(bank).isEmpty)
    }
}
