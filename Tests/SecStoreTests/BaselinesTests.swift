import Foundation
import SecModel
import Testing
@testable import SecStore

@Suite struct BaselinesTests {
    /// CloudTrail events (as `ProjectionTests.batches`) mixed with VPC flow, Route 53 and
    /// RDS events, times spread over two weeks and out of order.
    static func mixed(_ count: Int, size: Int, seed: UInt64 = 3,
                      accounts: [String] = ["111122223333", "111122223333", "111122224444"]) -> [[Event]] {
        var m = EventMaker(seed: seed)
        var t0: Int64 = 1_780_000_000_000
        let agents = ["aws-cli/2.15", "Boto3/1.34", "console.amazonaws.com", "terraform/1.7"]
        return (0..<count).map { _ in
            (0..<size).map { i -> Event in
                let account = accounts[Int(m.next() % UInt64(accounts.count))]
                let t = t0 + Int64(m.next() % 1_209_600_000)
                t0 += 1
                switch i % 5 {
                case 0:
                    var e = Event(time: t, account: account, source: .vpcflow, eventClass: .networkActivity, raw: [])
                    e.region = "us-east-1"
                    e.resource = "eni-0\(m.next() % 6)"
                    e.srcIP = IPAddress("10.0.0.\(m.next() % 8)")
                    e.dstIP = IPAddress("203.0.113.\(m.next() % 30)")
                    e.srcPort = Int64(32768 + m.next() % 1000)
                    e.dstPort = [443, 80, 22, 5432, 8443, 53][Int(m.next() % 6)]
                    if m.next() % 4 == 0 { swap(&e.srcIP, &e.dstIP); swap(&e.srcPort, &e.dstPort) }
                    e.bytes = Int64(m.next() % 10_000)
                    return e
                case 1:
                    var e = Event(time: t, account: account, source: .route53, eventClass: .dnsActivity, raw: [])
                    e.region = "eu-west-1"
                    e.resource = "i-0\(m.next() % 5)"
                    e.resourceType = "AWS::EC2::Instance"
                    e.queryName = ["example.com", "s3.amazonaws.com", "x7f3kq9z.evil.test", "a.b.c.d.internal"][Int(m.next() % 4)]
                    e.action = ["A", "AAAA", "TXT"][Int(m.next() % 3)]
                    return e
                case 2:
                    var e = Event(time: t, account: account, source: .rds, eventClass: .authentication, raw: [])
                    e.region = "us-east-1"
                    e.resource = "db-\(m.next() % 3)/app"
                    e.principal = ["app", "admin", "report"][Int(m.next() % 3)]
                    e.srcIP = IPAddress("10.1.\(m.next() % 3).\(m.next() % 20)")
                    return e
                default:
                    var e = m.event(account: account, time: t)
                    e.service = ProjectionTests.services[Int(m.next() % UInt64(ProjectionTests.services.count))]
                    e.userAgent = agents[Int(m.next() % UInt64(agents.count))]
                    if e.service == "s3.amazonaws.com" && e.action == "GetObject" {
                        e.resource = "bucket-\(m.next() % 4)/key\(m.next() % 50)"
                    }
                    return e
                }
            }
        }
    }

    static func entries(_ bank: BankStore) throws -> [String: [(key: [UInt8], value: [UInt8])]] {
        try bank.projectionEntries(Baselines())
    }

    static func same(_ a: [String: [(key: [UInt8], value: [UInt8])]], _ b: [String: [(key: [UInt8], value: [UInt8])]]) -> Bool {
        Baselines.databases.allSatisfy { n in
            a[n]!.map(\.key) == b[n]!.map(\.key) && a[n]!.map(\.value) == b[n]!.map(\.value)
        }
    }

    @Test func rebuildEqualsIncrementalByteForByteInEveryBankIncludingTheFeed() throws {
        let t = try TempStore()
        for (i, (name, accounts)) in [("acme-bank", ["111122223333", "111122224444"]), ("zenith-bank", ["999988887777"])].enumerated() {
            let bank = try t.store.bank(name)
            bank.blockRows = 400
            for b in BaselinesTests.mixed(4, size: 900, seed: UInt64(5 + i), accounts: accounts) {
                _ = try bank.append(b)
                try bank.catchUp(Baselines(), batch: 317)
            }
            let incremental = try BaselinesTests.entries(bank)
            #expect(incremental["feed"]!.count > 0 && incremental["items"]!.count > 0)
            try bank.rebuild(Baselines(), batch: 100_000)
            #expect(BaselinesTests.same(try BaselinesTests.entries(bank), incremental), "\(name): one batch")
            try bank.rebuild(Baselines(), batch: 7)
            #expect(BaselinesTests.same(try BaselinesTests.entries(bank), incremental), "\(name): tiny batches")
            let feed = try bank.read { try $0.feed(from: 1, limit: .max) }
            #expect(feed.map(\.feedSeq) == Array(1...UInt64(feed.count)))
            #expect(feed.allSatisfy { $0.bank == name })
            #expect(feed.map(\.seq) == feed.map(\.seq).sorted(), "the feed follows the log's order")
        }
    }

    /// The baselines, failing in the transaction of batch `failAt` after folding it.
    struct FailingFold: Projection {
        static let name = Baselines.name
        static let version = Baselines.version
        static let databases = Baselines.databases
        static let fields = Baselines.fields
        static let sources = Baselines.sources
        let failAt: Int
        let calls = CallCounter()

        func fold(_ events: [Event], into state: ProjectionWriter) throws {
            try Baselines().fold(events, into: state)
            if calls.next() == failAt { throw FoldFailed() }
        }
    }

    @Test(arguments: [1, 4])
    func aFailedBatchLeavesStateAndFeedAsBefore(failAt: Int) throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        for b in BaselinesTests.mixed(3, size: 800, seed: 21) { _ = try bank.append(b) }
        #expect(throws: FoldFailed.self) { try bank.catchUp(FailingFold(failAt: failAt), batch: 300) }
        let feedBefore = try bank.read { try $0.feed(from: 1, limit: .max) }
        try bank.catchUp(Baselines(), batch: 300)

        let other = try TempStore()
        let clean = try other.store.bank("acme-bank")
        for b in BaselinesTests.mixed(3, size: 800, seed: 21) { _ = try clean.append(b) }
        try clean.catchUp(Baselines())
        #expect(BaselinesTests.same(try BaselinesTests.entries(bank), try BaselinesTests.entries(clean)))
        let feed = try clean.read { try $0.feed(from: 1, limit: .max) }
        #expect(Array(feed.prefix(feedBefore.count)) == feedBefore, "the committed batches' feed is a prefix")
        #expect(feedBefore.allSatisfy { $0.seq <= UInt64(300 * (failAt - 1)) })
    }

    /// The items, counted with a naive loop over the log read back, keyed by
    /// "entity kind|account|entity|item kind|key".
    static func naiveItems(_ events: [Event]) -> [String: (first: Int64, last: Int64, count: UInt64, sum: UInt64)] {
        var out: [String: (first: Int64, last: Int64, count: UInt64, sum: UInt64)] = [:]
        func add(_ ek: String, _ acct: String, _ ent: String, _ ik: String, _ key: String, _ t: Int64, _ s: UInt64 = 0) {
            let k = "\(ek)|\(acct)|\(ent)|\(ik)|\(key)"
            let x = out[k] ?? (t, t, 0, 0)
            out[k] = (min(x.first, t), max(x.last, t), x.count + 1, x.sum + s)
        }
        for e in events {
            switch e.source {
            case .cloudtrail:
                guard let p = e.principal else { continue }
                add("principal", e.account, p, "api", "\(e.service ?? ""):\(e.action!)", e.time)
                if let ip = e.srcIP {
                    let text = ip.description
                    let net: String
                    if ip.isV4 {
                        net = text.split(separator: ".").prefix(3).joined(separator: ".") + ".0/24"
                    } else {
                        let b = ip.bytes
                        net = IPAddress(bytes: b.prefix(6) + [UInt8](repeating: 0, count: 10)).description + "/48"
                    }
                    add("principal", e.account, p, "network", net, e.time)
                    add("principal", e.account, p, "ip", text, e.time)
                }
                add("principal", e.account, p, "region", e.region!, e.time)
                add("principal", e.account, p, "user_agent", e.userAgent!, e.time)
                if let r = e.resource, e.action == "GetObject" {
                    let bucket = String(r.split(separator: "/")[0])
                    add("principal", e.account, p, "bucket", bucket, e.time, UInt64(e.bytes ?? 0))
                    let day = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(e.time) / 1000)).prefix(10)
                    add("principal", e.account, p, "bucket_day", "\(bucket) \(day)", e.time, UInt64(e.bytes ?? 0))
                }
                add("account", e.account, e.account, "principal", p, e.time)
            case .vpcflow:
                let outbound = e.srcIP!.description.hasPrefix("10.")
                let peer = outbound ? e.dstIP! : e.srcIP!, port = outbound ? e.dstPort! : e.srcPort!
                add("interface", e.account, e.resource!, "remote_port", "\(port)", e.time)
                add("interface", e.account, e.resource!, "peer", peer.description, e.time, UInt64(e.bytes!))
                let hour = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(e.time) / 1000)).prefix(13)
                add("interface", e.account, e.resource!, "peer_hour", "\(peer) \(hour)", e.time, UInt64(e.bytes!))
                if port == 53 { add("interface", e.account, e.resource!, "resolver", peer.description, e.time) }
            case .route53:
                add("instance", e.account, e.resource!, "domain", e.queryName!, e.time)
                add("instance", e.account, e.resource!, "query_type", e.action!, e.time)
            case .rds:
                let db = String(e.resource!.split(separator: "/")[0])
                add("db", e.account, db, "user", e.principal!, e.time)
                add("db", e.account, db, "client", e.srcIP!.description, e.time)
            default: break
            }
        }
        return out
    }

    @Test func everyItemKindCountsWhatANaiveLoopCounts() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        for b in BaselinesTests.mixed(3, size: 1000, seed: 11) { _ = try bank.append(b) }
        try bank.catchUp(Baselines(), batch: 450)
        let events = try ProjectionTests.allEvents(bank)
        let expected = BaselinesTests.naiveItems(events)
        var found: [String: (first: Int64, last: Int64, count: UInt64, sum: UInt64)] = [:]
        for i in try Baselines.items(in: bank) {
            found["\(i.entityKind.name)|\(i.account)|\(i.entity)|\(i.kind.name)|\(i.key)"] = (i.firstSeen, i.lastSeen, i.count, i.sum)
        }
        #expect(Set(found.keys) == Set(expected.keys))
        let wrong = expected.filter { k, v in found[k].map { $0 != v } ?? true }
        #expect(wrong.isEmpty, "\(wrong.count) items differ, e.g. \(wrong.first.map { "\($0.key) \($0.value) vs \(String(describing: found[$0.key]))" } ?? "")")
        for kind in Baselines.ItemKind.allCases {
            #expect(expected.keys.contains { $0.contains("|\(kind.name)|") }, "the data has \(kind.name) items")
        }

        // Entity totals, errors and query-name statistics.
        let profiles = try Baselines.profiles(in: bank)
        for (ref, p) in profiles {
            let mine = events.filter { e in
                guard e.account == ref.account else { return false }
                switch ref.kind {
                case .principal: return e.source == .cloudtrail && e.principal == ref.id
                case .account: return e.source == .cloudtrail && e.principal != nil
                case .interface: return e.source == .vpcflow && e.resource == ref.id
                case .instance: return e.source == .route53 && e.resource == ref.id
                case .db: return e.source == .rds && e.resource!.hasPrefix(ref.id + "/")
                }
            }
            #expect(p.count == UInt64(mine.count), "\(ref)")
            #expect(p.errors == UInt64(mine.filter { $0.outcome == .failure }.count))
            #expect(p.firstSeen == mine.map(\.time).min()! && p.lastSeen == mine.map(\.time).max()!)
            #expect(p.hourOfWeek.reduce(0) { $0 + UInt64($1) } == p.count)
            // Every event is in a closed hour (mean * hours) or in the open one.
            #expect(abs(p.hourly.mean * Double(p.hourly.n) + Double(p.openCount) - Double(p.count)) < 1e-6 * Double(p.count))
            if ref.kind == .instance {
                let lengths = mine.map { Double($0.queryName!.utf8.count) }
                let mean = lengths.reduce(0, +) / Double(lengths.count)
                let variance = lengths.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(lengths.count)
                #expect(abs(p.nameLength.mean - mean) < 1e-9 && abs(p.nameLength.variance - variance) < 1e-9)
                #expect(p.nameLength.max == lengths.max()!)
                // Entropy of "example.com": e x a m p l e . c o m -> e:2 m:2 others 1 of 11.
                let ent = mine.map { name -> Double in
                    var c: [Character: Double] = [:]
                    for ch in name.queryName! { c[ch, default: 0] += 1 }
                    let n = Double(name.queryName!.count)
                    return -c.values.map { $0 / n * log2($0 / n) }.reduce(0, +)
                }
                #expect(abs(p.nameEntropy.mean - ent.reduce(0, +) / Double(ent.count)) < 1e-9)
                #expect(p.nameEntropy.max == ent.max()!)
            } else {
                #expect(p.nameLength.n == 0)
            }
        }
        #expect(profiles.keys.contains { $0.kind == .db } && profiles.keys.contains { $0.kind == .interface })
    }

    @Test func hourlyRateIsTheMeanAndVarianceOfEveryHourFromTheFirstCountingEmptyOnesAsZero() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        var m = EventMaker(seed: 2)
        let start: Int64 = 1_780_000_000_000
        var time = start
        var batch: [Event] = []
        for _ in 0..<3000 {
            time += Int64(m.next() % 600_000) * (m.next() % 10 == 0 ? 40 : 1) // bursts and gaps of hours
            var e = m.event(account: "111122223333", time: time)
            e.principal = "arn:aws:iam::111122223333:user/one"
            batch.append(e)
        }
        for chunk in stride(from: 0, to: batch.count, by: 700) { _ = try bank.append(Array(batch[chunk..<min(chunk + 700, batch.count)])) }
        try bank.catchUp(Baselines(), batch: 500)
        let p = try bank.read { try $0.profile(EntityRef(kind: .principal, account: "111122223333", id: "arn:aws:iam::111122223333:user/one")) }!
        // Naively: count per hour from the first hour to the last, the last one open.
        var perHour: [Int64: Double] = [:]
        for e in batch { perHour[e.time / 3_600_000, default: 0] += 1 }
        let first = batch.first!.time / 3_600_000, last = batch.last!.time / 3_600_000
        let closed = (first..<last).map { perHour[$0] ?? 0 }
        let mean = closed.reduce(0, +) / Double(closed.count)
        let variance = closed.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(closed.count)
        #expect(p.hourly.n == UInt64(closed.count) && p.openCount == UInt64(perHour[last]!))
        #expect(abs(p.hourly.mean - mean) < 1e-9 && abs(p.hourly.variance - variance) < 1e-6)
        #expect(p.hourly.max == closed.max()!)
        // Hour of week, 0 = Monday 00:00 UTC.
        var how = [UInt32](repeating: 0, count: 168)
        let cal = { () -> Calendar in var c = Calendar(identifier: .iso8601); c.timeZone = TimeZone(identifier: "UTC")!; return c }()
        for e in batch {
            let d = cal.dateComponents([.weekday, .hour], from: Date(timeIntervalSince1970: Double(e.time) / 1000))
            how[((d.weekday! + 5) % 7) * 24 + d.hour!] += 1
        }
        #expect(p.hourOfWeek == how)
    }

    @Test func aPrincipalSprayingAHundredThousandAddressesStaysWithinItsCaps() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        var m = EventMaker(seed: 8)
        let principal = "arn:aws:iam::111122223333:user/noisy"
        for chunk in 0..<10 {
            let events = (0..<10_000).map { i -> Event in
                let n = UInt32(chunk * 10_000 + i)
                var e = m.event(account: "111122223333", time: 1_780_000_000_000 + Int64(n) * 1000)
                e.principal = principal
                e.srcIP = IPAddress(v4: 0x0A00_0000 | n) // 100 000 addresses, 391 /24s
                e.userAgent = "agent-\(n)"
                e.action = "Action\(n % 20_000)"
                return e
            }
            _ = try bank.append(events)
            try bank.catchUp(Baselines(), batch: 25_000)
        }
        let ref = EntityRef(kind: .principal, account: "111122223333", id: principal)
        let p = try bank.read { try $0.profile(ref) }!
        let items = try Baselines.items(in: bank).filter { $0.entity == principal }
        func kept(_ k: Baselines.ItemKind) -> Int { items.filter { $0.kind == k }.count }
        #expect(kept(.ip) == 10_000 && p.overCap[Int(Baselines.ItemKind.ip.rawValue)] == 90_000)
        #expect(kept(.userAgent) == 100 && p.overCap[Int(Baselines.ItemKind.userAgent.rawValue)] == 99_900)
        // 20 000 actions, each called 5 times: the calls of the last 10 000 are not kept.
        #expect(kept(.api) == 10_000 && p.overCap[Int(Baselines.ItemKind.api.rawValue)] == 50_000)
        #expect(kept(.network) == 391 && p.overCap[Int(Baselines.ItemKind.network.rawValue)] == 0)
        // The first kept, the newest dropped.
        #expect(items.contains { $0.kind == .ip && $0.key == "10.0.0.0" })
        #expect(!items.contains { $0.kind == .ip && $0.key == "10.0.39.16" }) // address 10 000
        let feed = try bank.read { try $0.feed(from: 1, limit: .max) }
        #expect(feed.filter { $0.kind == "new_user_agent" }.count == 100)
        // Everything the principal holds: its kept items, whatever it sprayed.
        let stored = try BaselinesTests.entries(bank)["items"]!.count
        #expect(stored == 10_000 + 100 + 10_000 + 391 + 2 + 1, "ips, agents, apis, networks, regions, the account's principal")
    }

    @Test func theFeedSaysWhetherTheEntityWasLearningAndReadsFromAnyFeedSeq() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        var m = EventMaker(seed: 1)
        let day: Int64 = 86_400_000, t0: Int64 = 1_780_000_000_000
        func event(_ time: Int64, _ action: String, _ ip: String) -> Event {
            var e = m.event(account: "111122223333", time: time)
            e.principal = "arn:aws:iam::111122223333:user/u"
            e.action = action; e.service = "iam.amazonaws.com"; e.srcIP = IPAddress(ip); e.region = "us-east-1"
            e.userAgent = "cli"
            return e
        }
        _ = try bank.append([event(t0, "ListUsers", "198.51.100.1"), event(t0 + day, "GetUser", "198.51.100.2"),
                             event(t0 + 6 * day, "ListUsers", "198.51.100.3")])
        _ = try bank.append([event(t0 + 7 * day - 1, "CreateUser", "198.51.100.4"),
                             event(t0 + 7 * day, "CreateAccessKey", "203.0.113.9"),
                             event(t0 + 3 * day, "ListRoles", "2001:db8:1:2::1")])
        try bank.catchUp(Baselines())
        let feed = try bank.read { try $0.feed(from: 1, limit: 100) }
        let principalFeed = feed.filter { $0.entityType == "principal" }
        #expect(principalFeed.map { "\($0.kind) \($0.key) \($0.learning)" } == [
            "new_api iam.amazonaws.com:ListUsers true", "new_network 198.51.100.0/24 true", "new_region us-east-1 true",
            "new_user_agent cli true",
            "new_api iam.amazonaws.com:GetUser true",
            // The second batch is stored in time order (one block per account).
            "new_api iam.amazonaws.com:ListRoles true", "new_network 2001:db8:1::/48 true",
            "new_api iam.amazonaws.com:CreateUser true",
            "new_api iam.amazonaws.com:CreateAccessKey false", "new_network 203.0.113.0/24 false",
        ])
        #expect(feed.filter { $0.entityType == "account" }.map(\.kind) == ["new_principal"])
        #expect(feed.map(\.feedSeq) == Array(1...UInt64(feed.count)))
        let from5 = try bank.read { try $0.feed(from: 5, limit: 2) }
        #expect(from5 == Array(feed[4..<6]))
        #expect(try bank.read { try $0.feed(from: UInt64(feed.count) + 1, limit: 10) }.isEmpty)
        let ref = EntityRef(kind: .principal, account: "111122223333", id: "arn:aws:iam::111122223333:user/u")
        #expect(try bank.read { try $0.isLearning(ref, at: t0 + 7 * day - 1) })
        #expect(try !bank.read { try $0.isLearning(ref, at: t0 + 7 * day) })
        #expect(try bank.read { try $0.isLearning(EntityRef(kind: .principal, account: "111122223333", id: "nobody"), at: t0) })

        // Stable JSON field names.
        let json = String(decoding: try JSONEncoder().encode(feed[0]), as: UTF8.self)
        let o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(Set(o.keys) == ["feed_seq", "kind", "bank", "account", "region", "entity_type", "entity", "key", "time",
                                "seq", "learning"])
        #expect(o["feed_seq"] as? Int == 1 && o["seq"] as? Int == 1 && o["bank"] as? String == "acme-bank")
    }
}
