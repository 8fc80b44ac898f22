import Foundation
import Testing

/// The `baselines` table and `secq baseline`, checked against the generator's raw
/// CloudTrail records counted with Foundation.
@Suite(.serialized) struct BaselineQueryTests {
    static let store: String = {
        let data = GeneratedData.shared
        let dir = temporaryDirectory("baselines")
        _ = try? secq(["init", "--store", dir, "--org", data.dir + "/org.json"])
        _ = try? secq(["ingest", "--store", dir, "--no-progress", data.dir + "/AWSLogs"])
        return dir
    }()

    func rows(_ query: String) throws -> [[String: Any]] {
        let r = try secq(["query", "--store", Self.store, "--format", "json", query])
        #expect(r.status == 0, "\(r.err)")
        return try ndjson(r.out)
    }

    /// Per (bank, account, region, principal, service:action): count, first and last time.
    static let apis: [[String]: (n: Int, first: Int64, last: Int64)] = {
        var out: [[String]: (n: Int, first: Int64, last: Int64)] = [:]
        for r in GeneratedData.shared.records {
            guard let p = r.principal, let service = r.json["eventSource"] as? String else { continue }
            let k = [r.bank, r.account, r.region, p, service + ":" + r.action]
            let g = out[k]
            out[k] = ((g?.n ?? 0) + 1, min(g?.first ?? .max, r.time), max(g?.last ?? .min, r.time))
        }
        return out
    }()

    @Test func apiRowsEqualTheRecords() throws {
        let got = try rows(#"baselines | where kind == "api" | fields bank, account, region, principal, key, count, first_seen, last_seen"#)
        #expect(got.count == Self.apis.count)
        var seen = 0
        for o in got {
            let k = ["bank", "account", "region", "principal", "key"].map { o[$0] as? String ?? "" }
            guard let want = Self.apis[k] else { Issue.record("no such API in the records: \(k)"); continue }
            #expect(o["count"] as? Int == want.n, "\(k)")
            #expect(o["first_seen"] as? String == OV.time(want.first).rendered, "\(k)")
            #expect(o["last_seen"] as? String == OV.time(want.last).rendered, "\(k)")
            seen += 1
        }
        #expect(seen == Self.apis.count)
    }

    @Test func aggregatesOverBaselines() throws {
        // Calls per bank, and principals per bank, from the records.
        var calls: [String: Int] = [:], principals: [String: Set<[String]>] = [:]
        for (k, v) in Self.apis {
            calls[k[0], default: 0] += v.n
            principals[k[0], default: []].insert([k[0], k[1], k[3]])
        }
        let got = try rows(#"baselines | where kind == "api" | stats sum(count) as calls, dc(principal) as p by bank | sort bank"#)
        #expect(got.count == calls.count)
        for o in got {
            let b = o["bank"] as? String ?? ""
            #expect(o["calls"] as? Int == calls[b], "\(b)")
        }
        let own = try rows(#"baselines | where entity_type == "principal" and kind == "principal" | stats count() as n by bank"#)
        for o in own {
            let b = o["bank"] as? String ?? ""
            #expect(o["n"] as? Int == principals[b]?.count, "principals of \(b)")
        }
    }

    @Test func profileOfOnePrincipal() throws {
        // The busiest principal of the records, whole ARN.
        var perPrincipal: [String: Int] = [:]
        for (k, v) in Self.apis { perPrincipal[k[3], default: 0] += v.n }
        let (arn, n) = try #require(perPrincipal.max { $0.value < $1.value })
        let r = try secq(["baseline", "--store", Self.store, "--principal", arn, "--format", "json", "--limit", "1000"])
        #expect(r.status == 0, "\(r.err)")
        var total = 0, apiCalls = 0
        for o in try ndjson(r.out) {
            #expect(o["entity"] as? String == arn)
            total += o["count"] as? Int ?? 0
            let apis = (o["kinds"] as? [String: Any])?["api"] as? [[String: Any]] ?? []
            apiCalls += apis.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
            let counts = apis.map { $0["count"] as? Int ?? 0 }
            #expect(counts == counts.sorted(by: >), "most frequent first")
        }
        #expect(total == n && apiCalls == n)
        let text = try secq(["baseline", "--store", Self.store, "--principal", arn])
        #expect(text.out.hasPrefix("principal \(arn)\n") && text.out.contains("api ("))
    }

    /// The change feed through `secq subscribe --feed baselines`: numbered 1...n in each
    /// bank, one entry per new thing the table keeps, then nothing more.
    @Test func changeFeedSubscription() throws {
        let r = try secq(["subscribe", "--store", Self.store, "--name", "novelty", "--feed", "baselines", "--batch", "97"])
        #expect(r.status == 0, "\(r.err)")
        var perBank: [String: [Int]] = [:]
        var perKind: [String: Int] = [:]
        for o in try ndjson(r.out) {
            perBank[o["bank"] as! String, default: []].append(o["feed_seq"] as! Int)
            perKind[o["kind"] as! String, default: 0] += 1
        }
        #expect(perBank.count == 3)
        for (bank, seqs) in perBank { #expect(seqs == Array(1...seqs.count), "\(bank): feed numbers in order, none missing") }
        // What the table keeps, counted independently of the feed.
        func count(_ q: String) throws -> Int { try rows(q).count }
        #expect(perKind["new_api"] == (try count(#"baselines | where kind == "api" | stats count() by bank, account, principal, key"#)))
        for (feed, kind) in [("new_network", "network"), ("new_region", "region"), ("new_user_agent", "user_agent"), ("new_bucket", "bucket")] {
            #expect(perKind[feed, default: 0] == (try count(#"baselines | where entity_type == "principal" and kind == "\#(kind)""#)), "\(feed)")
        }
        #expect(perKind["new_principal"] == (try count(#"baselines | where entity_type == "account" and kind == "principal""#)))
        // Caught up: nothing more, and every bank's checkpoint at the feed's head.
        let again = try secq(["subscribe", "--store", Self.store, "--name", "novelty", "--feed", "baselines"])
        #expect(again.status == 0 && again.out.isEmpty)
        let subs = try secq(["subscribers", "--store", Self.store, "--format", "json"])
        let feedRows = try ndjson(subs.out).filter { $0["log"] as? String == "baselines" }
        #expect(feedRows.count == 3 && feedRows.allSatisfy { $0["lag"] as? Int == 0 && ($0["head"] as? Int ?? 0) > 0 })
    }

    @Test func timeStagesAreRefusedWithAHint() throws {
        let r = try secq(["query", "--store", Self.store, "baselines | since 1d"])
        #expect(r.status != 0)
        #expect(r.err.contains("'since' reads event times") && r.err.contains("^^^^^") && r.err.contains("last_seen"))
        let u = try secq(["query", "--store", Self.store, #"baselines | where princpal == "x""#])
        #expect(u.err.contains("did you mean 'principal'?"))
    }
}
