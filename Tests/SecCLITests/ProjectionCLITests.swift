import Foundation
import SecModel
import SecStore
import Testing

@Suite struct ProjectionCLITests {
    let data = GeneratedData.shared

    /// Every key and value of the API baselines of each bank of the store at `path`.
    static func state(_ path: String, banks: [String]) throws -> [String: [String: [[UInt8]]]] {
        let store = try Store(path: path)
        var out: [String: [String: [[UInt8]]]] = [:]
        for b in banks {
            let entries = try store.bank(b).projectionEntries(APIBaselines())
            out[b] = entries.mapValues { $0.flatMap { [$0.key, $0.value] } }
        }
        return out
    }

    /// `secq projection status --format json`, one object per bank (of one projection).
    static func status(_ path: String, projection: String = APIBaselines.name) throws -> [String: [String: Any]] {
        let r = try secq(["projection", "status", "--store", path, "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        var out: [String: [String: Any]] = [:]
        for line in r.out.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if o["projection"] as? String != projection { continue }
            out[o["bank"] as! String] = o
        }
        return out
    }

    /// The account directories of the generated data, in three groups (several ingests).
    func accountGroups() throws -> [[String]] {
        let accounts = try FileManager.default.contentsOfDirectory(atPath: data.dir + "/AWSLogs").sorted()
        return [0, 1, 2].map { g in accounts.enumerated().filter { $0.offset % 3 == g }.map { data.dir + "/AWSLogs/" + $0.element } }
    }

    @Test func baselinesCountWhatTheRawRecordsSay() throws {
        let store = temporaryDirectory("proj-oracle")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let r = try secq(["ingest", "--store", store, "--batch", "700", data.dir + "/AWSLogs"])
        #expect(r.status == 0, "\(r.err)")

        // Independently: group the records read with Foundation.
        struct K: Hashable { var bank, account, region, principal, service, action: String }
        var expected: [K: (first: Int64, last: Int64, count: UInt64)] = [:]
        for rec in data.records {
            guard let p = rec.principal else { continue }
            let k = K(bank: rec.bank, account: rec.account, region: rec.region, principal: p,
                      service: rec.json["eventSource"] as! String, action: rec.action)
            let x = expected[k] ?? (rec.time, rec.time, 0)
            expected[k] = (min(x.first, rec.time), max(x.last, rec.time), x.count + 1)
        }
        let s = try Store(path: store)
        var found: [K: (first: Int64, last: Int64, count: UInt64)] = [:]
        for b in data.org.banks {
            for a in try APIBaselines.apis(in: s.bank(b.id)) {
                found[K(bank: b.id, account: a.account, region: a.region, principal: a.principal, service: a.service,
                        action: a.action)] = (a.firstSeen, a.lastSeen, a.count)
            }
        }
        #expect(found.count == expected.count)
        #expect(Set(found.keys) == Set(expected.keys))
        let wrong = expected.filter { k, v in found[k].map { $0 != v } ?? true }
        #expect(wrong.isEmpty, "\(wrong.count) APIs differ, e.g. \(wrong.first.map { "\($0.key)" } ?? "")")
        #expect(expected.values.reduce(0) { $0 + $1.count } > 0)
    }

    @Test func severalIngestsThenRebuildGiveTheSameBytes() throws {
        let store = temporaryDirectory("proj-rebuild")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        for group in try accountGroups() {
            let r = try secq(["ingest", "--store", store, "--batch", "500"] + group)
            #expect(r.status == 0, "\(r.err)")
            for (bank, s) in try ProjectionCLITests.status(store) {
                #expect(s["checkpoint"] as? Int == s["head"] as? Int, "\(bank) is caught up after ingest")
                #expect(s["lag_events"] as? Int == 0 && s["lag_seconds"] as? Double == 0)
            }
        }
        let banks = data.org.banks.map(\.id)
        let incremental = try ProjectionCLITests.state(store, banks: banks)
        let heads = try ProjectionCLITests.status(store).mapValues { $0["head"] as! Int }
        #expect(heads.values.reduce(0, +) == data.records.count)

        let r = try secq(["projection", "rebuild", "api-baselines", "--store", store, "--batch", "1000"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.split(separator: "\n").count == banks.count)
        let rebuilt = try ProjectionCLITests.state(store, banks: banks)
        for b in banks {
            #expect(rebuilt[b]!["apis"]!.count > 0)
            #expect(rebuilt[b] == incremental[b], "bank \(b): rebuilt state equals the incremental one")
        }
    }

    @Test func killNineDuringCatchUpThenResumeGivesTheUninterruptedState() throws {
        let dir = temporaryDirectory("proj-kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let banks = data.org.banks.map(\.id)
        // The reference: an uninterrupted fold.
        let reference = dir + "/reference"
        #expect(try secq(["init", "--store", reference, "--org", data.dir + "/org.json"]).status == 0)
        #expect(try secq(["ingest", "--store", reference, "--batch", "700", data.dir + "/AWSLogs"]).status == 0)
        let expected = try ProjectionCLITests.state(reference, banks: banks)

        var interrupted = 0
        for (i, delay) in [60, 200, 450, 900].enumerated() {
            let store = dir + "/s\(i)"
            #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
            let r = try secq(["ingest", "--store", store, "--batch", "700", "--no-projections", data.dir + "/AWSLogs"])
            #expect(r.status == 0, "\(r.err)")
            #expect(try ProjectionCLITests.status(store).values.allSatisfy { $0["checkpoint"] as? Int == 0 })
            // Small batches: many commits for the kill to land between (or in).
            try secqKilled(after: delay, ["projection", "catch-up", "--store", store, "--batch", "50"])
            let left = try ProjectionCLITests.status(store)
            if left.values.contains(where: { ($0["checkpoint"] as! Int) < ($0["head"] as! Int) }) { interrupted += 1 }
            let resumed = try secq(["projection", "catch-up", "--store", store])
            #expect(resumed.status == 0, "\(resumed.err)")
            #expect(try ProjectionCLITests.state(store, banks: banks) == expected, "killed after \(delay) ms")
            #expect(try ProjectionCLITests.status(store).values.allSatisfy { $0["checkpoint"] as? Int == $0["head"] as? Int })
        }
        #expect(interrupted > 0, "at least one kill landed before the catch-up finished")
    }

    @Test func quarantineRetryCatchesProjectionsUp() throws {
        let dir = temporaryDirectory("proj-retry")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let account = "000011112222"
        let record = #"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::\#(account):user/u","accountId":"\#(account)"},"eventTime":"2026-11-02T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","eventID":"00000000-0000-4000-8000-000000000001","recipientAccountId":"\#(account)"}"#
        try "{\"Records\":[\(record)]}".write(toFile: dir + "/late.json", atomically: true, encoding: .utf8)
        let store = dir + "/store"
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        #expect(try secq(["ingest", "--store", store, dir + "/late.json"]).status == 0)
        let org = #"{"banks":[{"id":"late-bank","name":"Late","accounts":[{"id":"\#(account)","name":"late","ou":"prod"}]}]}"#
        try org.write(toFile: dir + "/org.json", atomically: true, encoding: .utf8)
        #expect(try secq(["init", "--store", store, "--org", dir + "/org.json"]).status == 0)
        let r = try secq(["quarantine", "retry", "--store", store])
        #expect(r.status == 0 && r.out.contains("stored 1"), "\(r.out) \(r.err)")
        let late = try ProjectionCLITests.status(store)["late-bank"]
        #expect(late?["checkpoint"] as? Int == 1 && late?["head"] as? Int == 1 && late?["entries"] as? Int == 2)
    }

    @Test func unknownProjectionIsNamedWithASuggestion() throws {
        let store = temporaryDirectory("proj-unknown")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let r = try secq(["projection", "rebuild", "api-baseline", "--store", store])
        #expect(r.status != 0)
        #expect(r.err.contains("unknown projection 'api-baseline' (did you mean 'api-baselines'?)"), "\(r.err)")
        let bad = try secq(["projection", "rebuild", "api-baselines", "--store", store, "--batch", "0"])
        #expect(bad.status != 0 && bad.err.contains("--batch must be at least 1"), "\(bad.err)")
    }
}
