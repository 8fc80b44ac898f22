import Foundation
import SecModel
import SecStore
import Testing

/// The bad inputs every source must survive, through the CLI: each gives a clear reason
/// in the quarantine, and the good records of the same file are stored.
@Suite struct BadInputCLITests {
    static let account = "111122223333"
    static let org = #"{"banks":[{"id":"acme-bank","name":"Acme","accounts":[{"id":"111122223333","name":"prod","ou":"prod"}]}]}"#

    static func record(_ n: Int, account: String = account, time: String? = nil, extra: String = "") -> String {
        let t = time ?? "2026-11-02T10:00:\(String(format: "%02d", n))Z"
        return #"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::\#(account):user/u\#(n)","accountId":"\#(account)"},"eventTime":"\#(t)","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.\#(n)","eventID":"00000000-0000-4000-8000-0000000000\#(String(format: "%02d", n))","recipientAccountId":"\#(account)"\#(extra)}"#
    }

    /// A store with the one-bank org, the input written to `name`, ingested.
    func ingest(_ name: String, _ body: [UInt8], org: String = BadInputCLITests.org,
                extra: [String] = []) throws -> (dir: String, store: String, summary: [String: Any], quarantine: [[String: Any]]) {
        let dir = temporaryDirectory("bad")
        try Data(org.utf8).write(to: URL(fileURLWithPath: dir + "/org.json"))
        let store = dir + "/store"
        #expect(try secq(["init", "--store", store, "--org", dir + "/org.json"]).status == 0)
        let file = dir + "/" + name
        try Data(body).write(to: URL(fileURLWithPath: file))
        let r = try secq(["ingest", "--store", store, "--json"] + extra + [file])
        #expect(r.status == 0, "\(r.err)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        return (dir, store, summary, try quarantine(store))
    }

    func quarantine(_ store: String) throws -> [[String: Any]] {
        let q = try secq(["quarantine", "list", "--store", store, "--format", "json"])
        return try q.out.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    @Test func invalidJSONInTheMiddleOfARecordsArray() throws {
        let body = "{\"Records\":[" + Self.record(1) + "," + Self.record(2).replacingOccurrences(of: "\"eventName\":", with: "\"eventName\"") + "," + Self.record(3) + "]}"
        let r = try ingest("broken.json", Array(body.utf8))
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        #expect(r.summary["stored"] as? Int == 2)
        #expect(r.quarantine.count == 1)
        #expect((r.quarantine.first?["reason"] as? String)?.hasPrefix("invalid JSON") == true, "\(r.quarantine)")
        let offset = r.quarantine.first?["offset"] as? Int ?? -1
        #expect(body.utf8.dropFirst(offset).starts(with: Self.record(2).utf8.prefix(20)))
    }

    @Test func aRecordWithoutEventTime() throws {
        let noTime = Self.record(2).replacingOccurrences(of: #""eventTime":"2026-11-02T10:00:02Z","#, with: "")
        let r = try ingest("t.json", Array((Self.record(1) + "\n" + noTime + "\n" + Self.record(3) + "\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        #expect(r.summary["stored"] as? Int == 2)
        #expect(r.quarantine.map { $0["reason"] as? String } == ["record has no eventTime"])
    }

    @Test func binaryGarbageLines() throws {
        var body = Array((Self.record(1) + "\n").utf8)
        body += (0..<300).map { i -> UInt8 in let b = UInt8(truncatingIfNeeded: i &* 37); return b == 10 ? 0 : b } + [10]
        body += Array((Self.record(2) + "\n").utf8)
        let r = try ingest("g.json", body)
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        #expect(r.summary["stored"] as? Int == 2)
        #expect(r.quarantine.map { $0["reason"] as? String } == ["binary data (non-text bytes)"])
    }

    @Test func aTenMegabyteLine() throws {
        var body = Array((Self.record(1) + "\n").utf8)
        body += [UInt8](repeating: UInt8(ascii: "A"), count: 10 << 20) + [10]
        body += Array((Self.record(2) + "\n").utf8)
        let r = try ingest("long.json", body)
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        #expect(r.summary["stored"] as? Int == 2)
        #expect(r.quarantine.count == 1)
        let q = r.quarantine.first ?? [:]
        #expect(q["size"] as? Int == 10 << 20)
        #expect((q["reason"] as? String)?.isEmpty == false)
        #expect(q["offset"] as? Int == Self.record(1).utf8.count + 1)
    }

    @Test func anExactDuplicateFileStoresNothing() throws {
        let body = Array(("{\"Records\":[" + Self.record(1) + "," + Self.record(2) + "]}").utf8)
        let r = try ingest("a.json", body)
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        try Data(body).write(to: URL(fileURLWithPath: r.dir + "/copy.json"))
        let again = try secq(["ingest", "--store", r.store, "--json", r.dir + "/copy.json"])
        let s = try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as! [String: Any]
        #expect(s["duplicate_files"] as? Int == 1)
        #expect(s["stored"] as? Int == 0)
    }

    @Test func aTimeFarInTheFutureIsKeptAndFlagged() throws {
        let future = Self.record(2, time: "2099-01-01T00:00:00Z")
        let r = try ingest("f.json", Array((Self.record(1) + "\n" + future + "\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        #expect(r.summary["stored"] as? Int == 2, "kept")
        #expect(r.quarantine.count == 1)
        #expect(r.quarantine.first?["kept"] as? Bool == true)
        #expect((r.quarantine.first?["reason"] as? String)?.hasPrefix("kept, flagged: event time 2099-01-01T00:00:00") == true)
        // Kept entries are not retried.
        let retry = try secq(["quarantine", "retry", "--store", r.store, "--json"])
        let o = try JSONSerialization.jsonObject(with: Data(retry.out.utf8)) as! [String: Any]
        #expect(o["retried"] as? Int == 0 && o["skipped_kept"] as? Int == 1)
    }

    @Test func nonUTF8BytesInsideAFieldAreKeptVerbatim() throws {
        var body = Array((Self.record(1) + "\n").utf8)
        let odd = Self.record(2, extra: #","userAgent":"curl/8 \#u{FFFD}x""#)
        // Replace the U+FFFD (EF BF BD) by a lone Latin-1 byte: invalid UTF-8.
        var oddBytes = Array(odd.utf8)
        let marker: [UInt8] = [0xEF, 0xBF, 0xBD]
        let at = (0 ..< oddBytes.count - 2).first { Array(oddBytes[$0 ..< $0 + 3]) == marker }!
        oddBytes.replaceSubrange(at ..< at + 3, with: [0xE9])
        body += oddBytes + [10]
        let r = try ingest("u.json", body)
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        #expect(r.summary["stored"] as? Int == 2)
        #expect(r.quarantine.isEmpty)
        // The raw record comes back byte for byte.
        let store = try Store(path: r.store)
        let raws: [[UInt8]] = try store.bank("acme-bank").read { snap in
            var keys: [BlockKey] = []
            try snap.blocks(accounts: nil, from: nil, to: nil) { key, _ in keys.append(key); return true }
            var out: [[UInt8]] = []
            for key in keys {
                guard let raw = try snap.raw(key) else { continue }
                for i in 0 ..< raw.count { out.append(raw.withRecord(i) { Array($0) }) }
            }
            return out
        }
        #expect(raws.contains(oddBytes))
    }

    @Test func retryStoresRecordsOnceTheirAccountIsRegistered() throws {
        let late = "444455556666"
        let body = Self.record(1) + "\n" + Self.record(2, account: late) + "\n" + Self.record(3, account: late) + "\n"
        let r = try ingest("late.json", Array(body.utf8))
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        #expect(r.summary["stored"] as? Int == 1)
        #expect(r.quarantine.count == 2)
        // Nothing changed yet: retrying keeps them, with the same reason.
        let first = try secq(["quarantine", "retry", "--store", r.store, "--json"])
        #expect(first.status == 0, "\(first.err)")
        #expect(try quarantine(r.store).count == 2)
        // Register the account, retry one, then the rest; a second retry stores nothing.
        let org2 = #"{"banks":[{"id":"acme-bank","name":"Acme","accounts":[{"id":"111122223333","name":"prod","ou":"prod"},{"id":"444455556666","name":"new","ou":"dev"}]}]}"#
        try Data(org2.utf8).write(to: URL(fileURLWithPath: r.dir + "/org2.json"))
        #expect(try secq(["init", "--store", r.store, "--org", r.dir + "/org2.json"]).status == 0)
        let id = String(r.quarantine[0]["id"] as! Int)
        let one = try secq(["quarantine", "retry", "--store", r.store, "--json", id])
        let o1 = try JSONSerialization.jsonObject(with: Data(one.out.utf8)) as! [String: Any]
        #expect(o1["retried"] as? Int == 1 && o1["stored"] as? Int == 1)
        let rest = try secq(["quarantine", "retry", "--store", r.store, "--json"])
        let o2 = try JSONSerialization.jsonObject(with: Data(rest.out.utf8)) as! [String: Any]
        #expect(o2["stored"] as? Int == 1 && o2["still_quarantined"] as? Int == 0)
        #expect(try quarantine(r.store).isEmpty)
        #expect(try bankCounts(r.store)["acme-bank"] == 3)
        // The original file again: already ingested, nothing comes back.
        let again = try secq(["ingest", "--store", r.store, "--json", r.dir + "/late.json"])
        #expect(again.status == 0)
        #expect(try quarantine(r.store).isEmpty)
        #expect(try secq(["verify", "--store", r.store]).status == 0)
    }

    /// A file detection could not name is kept whole; retried with --format, its good
    /// records go in and each bad one is left as an entry of its own, at its offset.
    @Test func retryWithAFormatSplitsAWholeFileEntry() throws {
        let owner = String(repeating: "ab", count: 32)
        func line(_ n: Int) -> String {
            #"\#(owner) bucket-1 [06/Feb/2026:00:00:0\#(n) +0000] 192.0.2.\#(n) arn:aws:iam::111122223333:user/u REQ\#(n) REST.GET.OBJECT k\#(n) "GET /bucket-1/k\#(n) HTTP/1.1" 200 - 10 10 1 1 "-" "curl/8" -"#
        }
        let body = "this is not a log line\n" + line(1) + "\n" + line(2) + "\n"
        let dir = temporaryDirectory("retryfmt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(Self.org.utf8).write(to: URL(fileURLWithPath: dir + "/org.json"))
        let store = dir + "/store"
        _ = try secq(["init", "--store", store, "--org", dir + "/org.json"])
        try FileManager.default.createDirectory(atPath: dir + "/logs/111122223333", withIntermediateDirectories: true)
        let file = dir + "/logs/111122223333/access-log"
        try Data(body.utf8).write(to: URL(fileURLWithPath: file))
        let r = try secq(["ingest", "--store", store, "--json", file])
        let s = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(s["stored"] as? Int == 0)
        let before = try quarantine(store)
        #expect(before.map { $0["reason"] as? String } == ["unrecognised format; use --format to name it"])
        let retry = try secq(["quarantine", "retry", "--store", store, "--json", "--format", "s3access"])
        let o = try JSONSerialization.jsonObject(with: Data(retry.out.utf8)) as! [String: Any]
        #expect(o["stored"] as? Int == 2 && o["still_quarantined"] as? Int == 1, "\(retry.out)")
        let after = try quarantine(store)
        #expect(after.count == 1)
        #expect(after.first?["offset"] as? Int == 0)
        #expect(after.first?["id"] as? Int == 2, "a settled entry's id is not handed out again")
        #expect((after.first?["reason"] as? String)?.hasPrefix("too few fields") == true, "\(after)")
        #expect(try bankCounts(store)["acme-bank"] == 2)
    }

    /// A flow log line of a custom format refused for its account is retried under its
    /// header's columns once the account is registered.
    @Test func retryReadsACustomFlowLogLineUnderItsHeader() throws {
        let header = "version vpc-id account-id interface-id srcaddr dstaddr dstport srcport protocol packets bytes start end action log-status"
        let mine = "5 vpc-0a1 111122223333 eni-0a1 10.0.0.1 192.0.2.9 443 50001 6 10 900 1793491200 1793491260 ACCEPT OK"
        let late = "5 vpc-0b2 444455556666 eni-0b2 10.0.0.2 192.0.2.8 22 50002 6 3 180 1793491210 1793491270 REJECT OK"
        let r = try ingest("flow.log", Array((header + "\n" + mine + "\n" + late + "\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: r.dir) }
        #expect(r.summary["stored"] as? Int == 1)
        #expect(r.quarantine.map { $0["reason"] as? String } == ["account '444455556666' belongs to no registered bank"])
        let org2 = #"{"banks":[{"id":"acme-bank","name":"Acme","accounts":[{"id":"111122223333","name":"prod","ou":"prod"},{"id":"444455556666","name":"new","ou":"dev"}]}]}"#
        try Data(org2.utf8).write(to: URL(fileURLWithPath: r.dir + "/org2.json"))
        #expect(try secq(["init", "--store", r.store, "--org", r.dir + "/org2.json"]).status == 0)
        let retry = try secq(["quarantine", "retry", "--store", r.store, "--json"])
        let o = try JSONSerialization.jsonObject(with: Data(retry.out.utf8)) as! [String: Any]
        #expect(o["stored"] as? Int == 1, "\(retry.out)")
        let q = try secq(["query", "--store", r.store, "--format", "json",
                          #"events | where account == "444455556666" | fields dst_port, src_port, action, resource"#])
        let row = try JSONSerialization.jsonObject(with: Data(q.out.utf8)) as? [String: Any]
        #expect(row?["dst_port"] as? Int == 22 && row?["src_port"] as? Int == 50002, "\(q.out)")
        #expect(row?["action"] as? String == "REJECT" && row?["resource"] as? String == "eni-0b2")
    }
}
