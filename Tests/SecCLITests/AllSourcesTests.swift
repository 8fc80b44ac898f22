#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Every source the generator writes, through the CLI: each record stored once, in its
/// source, every event valid against schemas/event.schema.json, re-ingest and crash
/// recovery exact.
@Suite(.serialized) struct AllSourcesTests {
    let data = GeneratedData.allSources

    var inputs: [String] {
        ["AWSLogs", "cloudfront", "rds", "s3-access-logs"].map { data.dir + "/" + $0 }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Records per source, from the generator's summary.
    var perSource: [String: Int] {
        (data.summary["per_source"] as! [String: [String: Any]]).mapValues { $0["records"] as! Int }
    }

    func storedPerSource(_ store: String) throws -> [String: Int] {
        let r = try secq(["query", "--store", store, "--format", "json", "events | stats count() by source"])
        #expect(r.status == 0, "\(r.err)")
        var out: [String: Int] = [:]
        for line in r.out.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            out[o["source"] as! String] = o["count()"] as? Int
        }
        return out
    }

    @Test func everyRecordOfEverySourceIsStoredOnceAndValid() throws {
        let store = temporaryDirectory("all")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let r = try secq(["ingest", "--store", store, "--json"] + inputs)
        #expect(r.status == 0, "\(r.err)")
        let s = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(s["quarantined"] as? Int == 0)
        #expect(s["stored"] as? Int == data.summary["records"] as? Int)
        #expect(try storedPerSource(store) == perSource)
        let q = try secq(["quarantine", "list", "--store", store, "--format", "json"])
        #expect(q.out.isEmpty, "\(q.out.prefix(2000))")

        // Every event is valid against the published schema.
        let schema = try EventSchema(path: packageRoot + "/schemas/event.schema.json")
        let all = try secq(["query", "--store", store, "--format", "json", "events"])
        var checked = 0
        for line in all.out.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let problems = schema.problems(o)
            #expect(problems.isEmpty, "\(problems) in \(line.prefix(400))")
            if !problems.isEmpty { break }
            checked += 1
        }
        #expect(checked == data.summary["records"] as? Int)

        // Filters on a field most sources' blocks have no column for (those blocks are
        // skipped or kept whole without reading rows) agree with the events themselves.
        var byType: [String: Int] = [:]
        var ports: [Int?] = []
        for line in all.out.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            byType[o["principal_type"] as? String ?? "", default: 0] += 1
            ports.append(o["dst_port"] as? Int)
        }
        // Number comparisons (a tight loop over the column, blocks ruled out by its range).
        let numeric: [(String, (Int?) -> Bool)] = [
            ("dst_port == 22", { $0 == 22 }), ("dst_port != 443", { $0 != 443 }), ("dst_port > 1024", { ($0 ?? .min) > 1024 }),
            ("1024 >= dst_port", { $0.map { $0 <= 1024 } ?? false }), ("dst_port < 0", { ($0 ?? 0) < 0 }),
        ]
        #expect(ports.contains(22) && ports.contains(nil))
        for (filter, holds) in numeric {
            let c = try secq(["query", "--store", store, "--format", "csv", "events | where \(filter) | stats count()"])
            #expect(c.out.split(separator: "\n").last.map(String.init) == String(ports.filter(holds).count), "\(filter): \(c.out) \(c.err)")
        }
        #expect(byType.count > 2 && byType["Root", default: 0] > 0 && byType["", default: 0] > 0)
        let total = byType.values.reduce(0, +)
        for (filter, want) in [("principal_type == \"Root\"", byType["Root", default: 0]),
                               ("principal_type != \"Root\"", total - byType["Root", default: 0]),
                               ("not exists(principal_type)", byType["", default: 0]),
                               ("principal_type in (\"Root\", \"IAMUser\")", byType["Root", default: 0] + byType["IAMUser", default: 0])] {
            let c = try secq(["query", "--store", store, "--format", "csv", "events | where \(filter) | stats count()"])
            #expect(c.out.split(separator: "\n").last.map(String.init) == String(want), "\(filter): \(c.out) \(c.err)")
        }

        // Again: nothing new.
        let again = try secq(["ingest", "--store", store, "--json"] + inputs)
        let a = try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as! [String: Any]
        #expect(a["stored"] as? Int == 0)
        #expect(a["duplicate_files"] as? Int == a["files"] as? Int)
        #expect(try secq(["verify", "--store", store]).status == 0)
    }

    /// A large flow log read in pieces (held whole) and streamed (SECQ_WHOLE_FILE_LIMIT=0),
    /// killed mid-way and ingested again: every record exactly once.
    @Test(arguments: [("whole", 400), ("streamed", 400), ("streamed", 1200)])
    func killedFlowLogIngestResumesExactly(path: String, afterMilliseconds delay: Int) throws {
        let dir = temporaryDirectory("vpckill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gen = try run("/usr/bin/env", ["python3", packageRoot + "/tools/gen", "--only", "vpcflow", "--records", "300000",
                                            "--files", "1", "--seed", "3", "--out", dir + "/data", "--quiet", "--force"])
        try #require(gen.status == 0, "\(gen.err)")
        let store = dir + "/store"
        #expect(try secq(["init", "--store", store, "--org", dir + "/data/org.json"]).status == 0)
        try secqKilled(after: delay, ["ingest", "--store", store, "--batch", "2000", dir + "/data/AWSLogs"],
                       environment: path == "streamed" ? ["SECQ_WHOLE_FILE_LIMIT": "0"] : [:])
        #expect(try secq(["verify", "--store", store]).status == 0)
        let resumed = try secq(["ingest", "--store", store, "--json", dir + "/data/AWSLogs"])
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(try storedPerSource(store) == ["vpcflow": 300_000])
        #expect(try secq(["verify", "--store", store]).status == 0)
    }
}

/// Crash and resume on inputs whose records cross piece ends (PostgreSQL entries over
/// several lines) or go to two banks from one file: exact counts after the resume.
@Suite(.serialized) struct PositionalResumeTests {
    static let org = #"{"banks":[{"id":"acme-bank","name":"Acme","accounts":[{"id":"111122223333","name":"prod","ou":"prod"}]},{"id":"zenith-bank","name":"Zenith","accounts":[{"id":"999988887777","name":"prod","ou":"prod"}]}]}"#

    func count(_ store: String) throws -> [String: Int] { try bankCounts(store) }

    func killAndResume(_ file: String, dir: String, expected: [String: Int], delays: [Int]) throws {
        for delay in delays {
            let store = dir + "/store-\(delay)"
            #expect(try secq(["init", "--store", store, "--org", dir + "/org.json"]).status == 0)
            // Small pieces and batches: many commits, entries cut at piece ends.
            let env = ["SECQ_PIECE_SIZE": "65536", "SECQ_WHOLE_FILE_LIMIT": "0"]
            try secqKilled(after: delay, ["ingest", "--store", store, "--batch", "300", file], environment: env)
            #expect(try secq(["verify", "--store", store]).status == 0)
            let resumed = try secq(["ingest", "--store", store, "--json", file])
            #expect(resumed.status == 0, "\(resumed.err)")
            #expect(try count(store) == expected, "killed after \(delay) ms")
            let q = try secq(["quarantine", "list", "--store", store, "--format", "json"])
            #expect(q.out.isEmpty, "\(q.out.prefix(500))")
        }
    }

    @Test func postgresEntriesAcrossPiecesResumeExactly() throws {
        let dir = temporaryDirectory("pgkill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(Self.org.utf8).write(to: URL(fileURLWithPath: dir + "/org.json"))
        var text = ""
        let entries = 60_000
        for i in 0 ..< entries {
            let s = String(format: "%02d:%02d", (i / 60) % 60, i % 60)
            text += "2026-11-28 10:\(s) UTC:10.0.1.\(i % 200)(5\(i % 10)000):app@payments:[\(1000 + i % 50)]:LOG:  statement: SELECT *\n"
            text += "\tFROM accounts\n\tWHERE id = \(i);\n"
        }
        let file = dir + "/rds/111122223333/db-1/postgresql.log.2026-11-28-10"
        try FileManager.default.createDirectory(atPath: dir + "/rds/111122223333/db-1", withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try killAndResume(file, dir: dir, expected: ["acme-bank": entries, "zenith-bank": 0], delays: [300, 900])
    }

    @Test func oneFlowLogForTwoBanksResumesExactly() throws {
        let dir = temporaryDirectory("twobanks")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(Self.org.utf8).write(to: URL(fileURLWithPath: dir + "/org.json"))
        var text = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
        let lines = 120_000
        var perBank = ["acme-bank": 0, "zenith-bank": 0]
        for i in 0 ..< lines {
            // Runs of each account, so pieces hold one bank, the other, or both.
            let mine = (i / 700) % 3 != 0
            perBank[mine ? "acme-bank" : "zenith-bank", default: 0] += 1
            text += "2 \(mine ? "111122223333" : "999988887777") eni-0\(i % 9)a 10.0.\(i % 250).1 192.0.2.\(i % 200) \(40000 + i % 20000) 443 6 \(i % 90 + 1) \(i * 7 % 100000) \(1793491200 + i / 10) \(1793491260 + i / 10) ACCEPT OK\n"
        }
        let file = dir + "/flows.log"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try killAndResume(file, dir: dir, expected: perBank, delays: [300, 900])
    }
}

/// The subset of JSON Schema that schemas/event.schema.json uses: required keys, no
/// other keys, and per key a type, an enum, a pattern, bounds and formats (date-time,
/// IPv4/IPv6 as parsed by inet_pton).
struct EventSchema {
    let required: [String]
    let properties: [String: [String: Any]]
    let seconds = ISO8601DateFormatter()
    let fractions: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    init(path: String) throws {
        let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        required = o["required"] as! [String]
        properties = o["properties"] as! [String: [String: Any]]
        precondition(o["additionalProperties"] as? Bool == false)
    }

    func problems(_ event: [String: Any]) -> [String] {
        var out: [String] = []
        for k in required where event[k] == nil { out.append("missing \(k)") }
        for (k, v) in event {
            guard let p = properties[k] else { out.append("unknown key \(k)"); continue }
            switch p["type"] as? String {
            case "string":
                guard let s = v as? String else { out.append("\(k) is not a string"); continue }
                if let e = p["enum"] as? [String], !e.contains(s) { out.append("\(k) = \(s) not in its enum") }
                if let pat = p["pattern"] as? String, s.range(of: pat, options: .regularExpression) == nil {
                    out.append("\(k) = \(s) does not match \(pat)")
                }
                if p["format"] as? String == "date-time", fractions.date(from: s) == nil, seconds.date(from: s) == nil {
                    out.append("\(k) = \(s) is not RFC 3339")
                }
                if p["anyOf"] != nil, !Self.isAddress(s) { out.append("\(k) = \(s) is not an IP address") }
            case "integer":
                guard let n = v as? NSNumber, n.doubleValue.rounded() == n.doubleValue else {
                    out.append("\(k) is not an integer"); continue
                }
                if let lo = p["minimum"] as? Int, n.intValue < lo { out.append("\(k) = \(n) below \(lo)") }
                if let hi = p["maximum"] as? Int, n.intValue > hi { out.append("\(k) = \(n) above \(hi)") }
            case "number":
                guard let n = v as? NSNumber else { out.append("\(k) is not a number"); continue }
                if let lo = p["minimum"] as? Double, n.doubleValue < lo { out.append("\(k) below \(lo)") }
                if let hi = p["maximum"] as? Double, n.doubleValue > hi { out.append("\(k) above \(hi)") }
            case "boolean":
                if !(v is Bool) { out.append("\(k) is not a boolean") }
            default:
                out.append("\(k): the schema names no type")
            }
        }
        return out
    }

    static func isAddress(_ s: String) -> Bool {
        var a4 = in_addr(), a6 = in6_addr()
        return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1
    }
}

