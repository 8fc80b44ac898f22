import Foundation
import SecIngest
import SecModel
import Testing
@testable import SecDetect

/// An in-memory baselines view that folds events as the store's `baselines` projection
/// does (first seen is the earliest event time), for the items the detectors ask about.
final class FakeBaselines: BaselineView, @unchecked Sendable {
    var learningPeriod: Int64 = 7 * 86_400_000
    var entities: [BaselineEntity: Int64] = [:]
    var items: [BaselineEntity: [String: Int64]] = [:]

    static func key(_ item: BaselineItem) -> String {
        switch item {
        case .api(let s, let a): "api " + s + ":" + a
        case .network(let ip): "network " + baselineNetwork(ip)
        case .region(let r): "region " + r
        case .userAgent(let u): "ua " + u
        case .remotePort(let p): "port \(p)"
        }
    }

    func see(_ entity: BaselineEntity, _ t: Int64, _ its: [BaselineItem]) {
        entities[entity] = min(entities[entity] ?? t, t)
        for i in its { items[entity, default: [:]][Self.key(i)] = min(items[entity]?[Self.key(i)] ?? t, t) }
    }

    func fold(_ e: Event) {
        switch e.source {
        case .cloudtrail:
            guard let p = e.principal else { return }
            var its: [BaselineItem] = []
            if let s = e.service, let a = e.action { its.append(.api(service: s, action: a)) }
            if let ip = e.srcIP { its.append(.network(ip)) }
            if let r = e.region { its.append(.region(r)) }
            if let u = e.userAgent { its.append(.userAgent(u)) }
            see(BaselineEntity(.principal, account: e.account, p), e.time, its)
        case .vpcflow:
            guard let iface = e.resource else { return }
            var port = e.dstPort
            if let dp = e.dstPort, let sp = e.srcPort, dp >= 32768, sp < dp { port = e.srcPort }
            see(BaselineEntity(.interface, account: e.account, iface), e.time, port.map { [.remotePort($0)] } ?? [])
        default:
            break
        }
    }

    func firstSeen(_ entity: BaselineEntity) -> Int64? { entities[entity] }
    func firstSeen(_ entity: BaselineEntity, _ item: BaselineItem) -> Int64? { items[entity]?[Self.key(item)] }
}

/// Feeds events in order, each folded into the baselines first (as the engine does),
/// numbering them as the store would; returns all drafts.
func runWith<D: Detector>(_ d: inout D, _ view: FakeBaselines, _ events: [Event]) -> [FindingDraft] {
    var out: [FindingDraft] = []
    for (i, var e) in events.enumerated() {
        if e.seq == 0 { e.seq = UInt64(i + 1) }
        view.fold(e)
        out += d.observe(e, baselines: view)
    }
    return out
}

let day = 86_400
let usualUA = "aws-cli/2.15.0 Python/3.11"
let attackerUA = "python-requests/2.31.0"

/// Alice's ordinary week: IAM reads from her office network with the CLI, from 8 days
/// before the test's time (`historyDays` back).
func aliceHistory(historyDays: Int = 8) -> [Event] {
    stride(from: historyDays * day, to: 3600, by: -6 * 3600).flatMap { back in
        [ct("GetUser", seconds: -back), ct("ListAccessKeys", seconds: -back + 60)]
    }
}

@Suite struct AnomalousBehaviorTests {
    func drafts(_ events: [Event]) -> [FindingDraft] {
        var d = AnomalousBehaviorDetector()
        return runWith(&d, FakeBaselines(), events)
    }

    @Test func tacticTable() {
        #expect(APITactic.of(service: "iam.amazonaws.com", action: "CreateAccessKey") == .persistence)
        #expect(APITactic.of(service: "iam.amazonaws.com", action: "AttachUserPolicy") == .privilegeEscalation)
        #expect(APITactic.of(service: "cloudtrail.amazonaws.com", action: "StopLogging") == .defenseEvasion)
        #expect(APITactic.of(service: "ec2.amazonaws.com", action: "ModifySnapshotAttribute") == .exfiltration)
        #expect(APITactic.of(service: "kms.amazonaws.com", action: "ScheduleKeyDeletion") == .impact)
        #expect(APITactic.of(service: "secretsmanager.amazonaws.com", action: "GetSecretValue") == .credentialAccess)
        #expect(APITactic.of(service: "signin.amazonaws.com", action: "ConsoleLogin") == .initialAccess)
        #expect(APITactic.of(service: "ec2.amazonaws.com", action: "DescribeInstances") == .discovery)
        #expect(APITactic.of(service: "iam.amazonaws.com", action: "ListUsers") == .discovery)
        // Data reads and writes are no tactic.
        #expect(APITactic.of(service: "s3.amazonaws.com", action: "GetObject") == nil)
        #expect(APITactic.of(service: "s3.amazonaws.com", action: "PutObject") == nil)
    }

    @Test func newAPIFromNewNetworkAndClientFires() throws {
        let out = drafts(aliceHistory() + [ct("ListUsers", ip: "203.0.113.9", seconds: 0, ua: attackerUA)])
        #expect(out.count == 1)
        let d = try #require(out.first)
        #expect(d.type.description == "Discovery:IAMUser/AnomalousBehavior")
        #expect(d.severity == 2.0)
        #expect(d.reasons == ["api", "network", "user_agent"])
        #expect(d.aggregationKey == ["arn:aws:iam::111122223333:user/alice"])
        #expect(d.description.contains("network 203.0.113.0/24"))
        #expect(d.description.contains("user agent \(attackerUA)"))
    }

    @Test func persistenceTacticHasItsOwnType() {
        let out = drafts(aliceHistory() + [ct("CreateAccessKey", ip: "203.0.113.9", seconds: 0, ua: attackerUA)])
        #expect(out.map(\.type.description) == ["Persistence:IAMUser/AnomalousBehavior"])
        #expect(out.first?.severity == 5.0)
    }

    @Test func aBurstOfNewAPIsFromTheUsualPlaceFiresOnTheFifth() {
        let apis = ["ListUsers", "ListRoles", "ListPolicies", "ListGroups", "GetAccountSummary"]
        let burst = apis.enumerated().map { ct($1, seconds: $0 * 60) }
        let out = drafts(aliceHistory() + burst)
        #expect(out.count == 1)
        #expect(out.first?.reasons == ["api", "rate"])
        #expect(out.first?.evidence.count == 5)
    }

    @Test func nearMisses() {
        // Still learning: her history is 2 days long.
        #expect(drafts(aliceHistory(historyDays: 2) + [ct("ListUsers", ip: "203.0.113.9", seconds: 0, ua: attackerUA)]).isEmpty)
        // An API she calls every day, from a new network and client.
        #expect(drafts(aliceHistory() + [ct("GetUser", ip: "203.0.113.9", seconds: 0, ua: attackerUA)]).isEmpty)
        // A new API with a new client, from her usual network: one context feature only.
        #expect(drafts(aliceHistory() + [ct("ListUsers", ip: "44.10.20.99", seconds: 0, ua: attackerUA)]).isEmpty)
        // A new API from a new network with her usual client.
        #expect(drafts(aliceHistory() + [ct("ListUsers", ip: "203.0.113.9", seconds: 0)]).isEmpty)
        // Four new APIs in ten minutes: below the burst.
        let four = ["ListUsers", "ListRoles", "ListPolicies", "ListGroups"].enumerated().map { ct($1, seconds: $0 * 60) }
        #expect(drafts(aliceHistory() + four).isEmpty)
        // Five, spread over an hour.
        let spread = ["ListUsers", "ListRoles", "ListPolicies", "ListGroups", "GetAccountSummary"].enumerated()
            .map { ct($1, seconds: $0 * 900) }
        #expect(drafts(aliceHistory() + spread).isEmpty)
        // A call of no tactic (an object write).
        #expect(drafts(aliceHistory() + [ct("PutObject", source: "s3.amazonaws.com", ip: "203.0.113.9", seconds: 0, ua: attackerUA)]).isEmpty)
        // No baselines, no anomaly.
        var d = AnomalousBehaviorDetector()
        #expect(run(&d, aliceHistory() + [ct("ListUsers", ip: "203.0.113.9", seconds: 0, ua: attackerUA)]).isEmpty)
    }

    @Test func theSessionStaysUnusualForAnHourAfterItsFirstCall() {
        // The first call from the new network makes it "seen"; the next new API ten
        // minutes later is still from a network first used within the hour.
        let session = [ct("GetUser", ip: "203.0.113.9", seconds: 0, ua: attackerUA),
                       ct("ListUsers", ip: "203.0.113.9", seconds: 600, ua: attackerUA),
                       ct("ListRoles", ip: "203.0.113.9", seconds: 2 * 3600, ua: attackerUA)]
        let out = drafts(aliceHistory() + session)
        #expect(out.map(\.type.description) == ["Discovery:IAMUser/AnomalousBehavior"])
        #expect(out.first?.evidence.map(\.time) == [at(600)])
    }
}

let roleSession = "arn:aws:sts::111122223333:assumed-role/web-ec2-role/i-0123456789abcdef0"
let roleIdentity = #"{"type":"AssumedRole","principalId":"AROAWEB:i-0123456789abcdef0","arn":"\#(roleSession)","accountId":"111122223333","accessKeyId":"ASIAWEB","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAWEB","arn":"arn:aws:iam::111122223333:role/web-ec2-role","accountId":"111122223333","userName":"web-ec2-role"},"attributes":{"creationDate":"2026-11-02T09:00:00Z","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}}"#

/// The instance's own calls, from its NAT address, for 8 days.
func instanceHistory(days: Int = 8, identity: String = roleIdentity) -> [Event] {
    stride(from: days * day, to: 3600, by: -4 * 3600).map {
        ct("DescribeTags", source: "ec2.amazonaws.com", identity: identity, ip: "54.10.20.30", seconds: -$0, ua: "aws-sdk-go/1.44")
    }
}

@Suite struct InstanceCredentialExfiltrationTests {
    func drafts(_ events: [Event]) -> [FindingDraft] {
        var d = InstanceCredentialExfiltrationDetector()
        return runWith(&d, FakeBaselines(), events)
    }

    @Test func sessionNames() {
        #expect(InstanceCredentialExfiltrationDetector.instanceSession(roleSession)?.instance == "i-0123456789abcdef0")
        #expect(InstanceCredentialExfiltrationDetector.instanceSession("arn:aws:sts::1:assumed-role/r/i-0abc1234")?.role == "r")
        #expect(InstanceCredentialExfiltrationDetector.instanceSession("arn:aws:sts::1:assumed-role/r/alice") == nil)
        #expect(InstanceCredentialExfiltrationDetector.instanceSession("arn:aws:iam::1:user/i-0123456789abcdef0") == nil)
        // Upper-case hex, a wrong length, a path of four parts: not an instance session.
        #expect(InstanceCredentialExfiltrationDetector.instanceSession("arn:aws:sts::1:assumed-role/r/i-0ABC1234") == nil)
        #expect(InstanceCredentialExfiltrationDetector.instanceSession("arn:aws:sts::1:assumed-role/r/i-0abc123") == nil)
        #expect(InstanceCredentialExfiltrationDetector.instanceSession("arn:aws:sts::1:assumed-role/p/r/i-0abc1234") == nil)
    }

    @Test func instanceCredentialsFromOutsideFire() throws {
        let out = drafts(instanceHistory() + [ct("ListBuckets", source: "s3.amazonaws.com", identity: roleIdentity,
                                                 ip: "185.220.101.7", seconds: 0, ua: attackerUA)])
        let d = try #require(out.first)
        #expect(out.count == 1)
        #expect(d.type.description == "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS")
        #expect(d.severity == 8.0)
        #expect(d.principal == roleSession)
        #expect(d.srcIP == IPAddress("185.220.101.7"))
        #expect(d.reasons == ["network"])
    }

    @Test func nearMisses() {
        func call(_ ip: String, _ identity: String = roleIdentity) -> Event {
            ct("ListBuckets", source: "s3.amazonaws.com", identity: identity, ip: ip, seconds: 0)
        }
        // Its own NAT network.
        #expect(drafts(instanceHistory() + [call("54.10.20.31")]).isEmpty)
        // A private address (a VPC endpoint).
        #expect(drafts(instanceHistory() + [call("10.0.3.7")]).isEmpty)
        // A new instance, still learning.
        #expect(drafts(instanceHistory(days: 2) + [call("185.220.101.7")]).isEmpty)
        // A role session that is not an instance's.
        let human = roleIdentity.replacingOccurrences(of: "i-0123456789abcdef0", with: "alice")
        #expect(drafts(instanceHistory(identity: human) + [call("185.220.101.7", human)]).isEmpty)
        // The same outside network used a day ago: no longer new.
        #expect(drafts(instanceHistory() + [call("185.220.101.7").shifted(-day), call("185.220.101.7")]).count == 1)
    }
}

extension Event {
    func shifted(_ seconds: Int) -> Event {
        var e = self
        e.time += Int64(seconds) * 1000
        return e
    }
}

func getObject(_ identity: String = roleIdentity, seconds: Int, bytes: Int = 2048) -> Event {
    ct("GetObject", source: "s3.amazonaws.com", identity: identity,
       params: #"{"bucketName":"reports","key":"r/\#(seconds).csv"}"#,
       extra: #","additionalEventData":{"bytesTransferredIn":0,"bytesTransferredOut":\#(bytes)},"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::reports/r.csv"}],"eventCategory":"Data""#,
       ip: "54.10.20.30", seconds: seconds)
}

/// `perHour` object reads an hour, every hour, for `days` days before the test's time.
func readHistory(days: Int = 8, perHour: Int = 2) -> [Event] {
    stride(from: days * 24, to: 1, by: -1).flatMap { h in
        (0..<perHour).map { getObject(seconds: -h * 3600 + $0 * (3000 / perHour)) }
    }
}

@Suite struct S3AnomalousBehaviorTests {
    func drafts(_ events: [Event]) -> [FindingDraft] {
        var d = S3AnomalousBehaviorDetector()
        return runWith(&d, FakeBaselines(), events)
    }

    func burst(_ n: Int, over seconds: Int = 1800) -> [Event] {
        (0..<n).map { getObject(seconds: $0 * seconds / n) }
    }

    @Test func aMassDownloadFiresOnce() throws {
        let out = drafts(readHistory() + burst(300))
        #expect(out.count == 1)
        let d = try #require(out.first)
        #expect(d.type.description == "Exfiltration:S3/AnomalousBehavior")
        #expect(d.severity == 8.0)
        #expect(d.reasons == ["objects"])
        #expect(d.principal == roleSession)
        // It fired on the 100th read of the burst.
        #expect(d.evidence.first?.time == getObject(seconds: 99 * 1800 / 300).time)
    }

    @Test func aBurstAcrossAnHourBoundaryIsNotItsOwnBaseline() {
        // 60 reads before the hour and 60 after: the first hour does not become the
        // baseline the second is compared with.
        let start = -30 * 60
        let split = (0..<120).map { getObject(seconds: start + $0 * 30) }
        #expect(drafts(readHistory() + split).count == 1)
    }

    @Test func nearMisses() {
        // 80 reads: below the minimum of 100.
        #expect(drafts(readHistory() + burst(80)).isEmpty)
        // 150 reads by a principal that reads 40 an hour: under 5 times its usual.
        #expect(drafts(readHistory(perHour: 40) + burst(150)).isEmpty)
        // 300 reads spread over six hours.
        #expect(drafts(readHistory() + burst(300, over: 6 * 3600)).isEmpty)
        // Still learning (2 days of history).
        #expect(drafts(readHistory(days: 2) + burst(300)).isEmpty)
    }

    @Test func stateSavedMidBurstGivesTheSameDrafts() throws {
        let events = readHistory() + burst(300)
        let whole = drafts(events)
        let view = FakeBaselines()
        var first = S3AnomalousBehaviorDetector()
        var out = runWith(&first, view, Array(events.prefix(events.count - 250)))
        var second = S3AnomalousBehaviorDetector()
        try second.loadState(try first.saveState())
        var rest = Array(events.suffix(250))
        for i in rest.indices { rest[i].seq = UInt64(events.count - 250 + i + 1) }
        out += runWith(&second, view, rest)
        #expect(out == whole)
        #expect(try second.saveState() == (try { var d = S3AnomalousBehaviorDetector(); _ = runWith(&d, FakeBaselines(), events); return try d.saveState() }()))
    }
}

func outFlow(_ dst: String, port: Int64, seconds: Int, bytes: Int64 = 6000, src: String = "10.0.1.5",
             action: String = "ACCEPT") -> Event {
    var e = flow(src, dst, port: port, seconds: seconds)
    e.set(.bytes, .int(bytes))
    e.set(.action, .string(action))
    return e
}

/// An interface's ordinary week: HTTPS and Postgres, every 2 hours.
func interfaceHistory(days: Int = 8, bytes: Int64 = 6000) -> [Event] {
    stride(from: days * day, to: 3600, by: -2 * 3600).flatMap {
        [outFlow("52.1.1.1", port: 443, seconds: -$0, bytes: bytes), outFlow("52.1.1.2", port: 5432, seconds: -$0 + 60)]
    }
}

@Suite struct NetworkPortUnusualTests {
    func drafts(_ events: [Event]) -> [FindingDraft] {
        var d = NetworkPortUnusualDetector()
        return runWith(&d, FakeBaselines(), events)
    }

    @Test func aNewRemotePortFires() throws {
        let out = drafts(interfaceHistory() + [outFlow("185.220.101.7", port: 4444, seconds: 0)])
        let d = try #require(out.first)
        #expect(out.count == 1)
        #expect(d.type.description == "Behavior:EC2/NetworkPortUnusual")
        #expect(d.aggregationKey == ["eni-0abc", "4444"])
        #expect(d.resource == "eni-0abc")
        #expect(d.severity == 5.0)
    }

    @Test func nearMisses() {
        // A port it uses.
        #expect(drafts(interfaceHistory() + [outFlow("185.220.101.7", port: 5432, seconds: 0)]).isEmpty)
        // A common port (web, DNS, NTP), new for it or not.
        #expect(drafts(interfaceHistory() + [outFlow("185.220.101.7", port: 80, seconds: 0)]).isEmpty)
        // Rejected.
        #expect(drafts(interfaceHistory() + [outFlow("185.220.101.7", port: 4444, seconds: 0, action: "REJECT")]).isEmpty)
        // To a private address.
        #expect(drafts(interfaceHistory() + [outFlow("10.0.9.9", port: 4444, seconds: 0)]).isEmpty)
        // From outside (the interface is not the one calling).
        #expect(drafts(interfaceHistory() + [outFlow("10.0.1.5", port: 4444, seconds: 0, src: "185.220.101.7")]).isEmpty)
        // Still learning.
        #expect(drafts(interfaceHistory(days: 2) + [outFlow("185.220.101.7", port: 4444, seconds: 0)]).isEmpty)
    }
}

@Suite struct TrafficVolumeUnusualTests {
    func drafts(_ events: [Event]) -> [FindingDraft] {
        var d = TrafficVolumeUnusualDetector()
        return runWith(&d, FakeBaselines(), events)
    }

    let gib: Int64 = 1 << 30

    @Test func farMoreBytesOutFires() throws {
        let burst = (0..<4).map { outFlow("185.220.101.7", port: 443, seconds: $0 * 300, bytes: gib / 2) }
        let out = drafts(interfaceHistory(bytes: 10_000_000) + burst)
        let d = try #require(out.first)
        #expect(out.count == 1)
        #expect(d.type.description == "Behavior:EC2/TrafficVolumeUnusual")
        #expect(d.aggregationKey == ["eni-0abc"])
        // The threshold (1 GiB) is reached by the second flow.
        #expect(d.evidence.first?.time == at(300))
    }

    @Test func nearMisses() {
        // 600 MB: under the 1 GiB minimum.
        #expect(drafts(interfaceHistory(bytes: 10_000_000) + [outFlow("185.220.101.7", port: 443, seconds: 0, bytes: 600_000_000)]).isEmpty)
        // 2 GiB from an interface that sends 300 MB an hour: under 10 times its usual.
        let busy = interfaceHistory(bytes: 300_000_000)
        #expect(drafts(busy + [outFlow("185.220.101.7", port: 443, seconds: 0, bytes: 2 * gib)]).isEmpty)
        // Inbound to the interface.
        #expect(drafts(interfaceHistory(bytes: 10_000_000) + [outFlow("10.0.1.5", port: 443, seconds: 0, bytes: 2 * gib, src: "185.220.101.7")]).isEmpty)
        // Still learning.
        #expect(drafts(interfaceHistory(days: 2, bytes: 10_000_000) + [outFlow("185.220.101.7", port: 443, seconds: 0, bytes: 2 * gib)]).isEmpty)
    }
}
