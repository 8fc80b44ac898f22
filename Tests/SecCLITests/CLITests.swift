#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SecModel
import SecStore
import Testing

/// The `secq` executable next to the test bundle (built by `swift build --build-tests`).
let secqBinary: String = {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for dir in [here, here.deletingLastPathComponent(), URL(fileURLWithPath: packageRoot + "/.build/debug")] {
        let p = dir.appendingPathComponent("secq").path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return packageRoot + "/.build/debug/secq"
}()

/// Starts secq, kills it with SIGKILL after `delay` milliseconds, waits for it.
func secqKilled(after delay: Int, _ args: [String], environment: [String: String] = [:]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: secqBinary)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    usleep(useconds_t(delay * 1000))
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
}

func secq(_ args: [String], input: Data? = nil) throws -> (status: Int32, out: String, err: String) {
    try #require(FileManager.default.isExecutableFile(atPath: secqBinary), "build secq first: swift build --build-tests")
    return try run(secqBinary, args, input: input)
}

/// Events per bank as `secq stats --format json` reports them.
func bankCounts(_ store: String) throws -> [String: Int] {
    let r = try secq(["stats", "--store", store, "--format", "json"])
    var out: [String: Int] = [:]
    for line in r.out.split(separator: "\n") {
        let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        out[o["bank"] as! String] = o["events"] as? Int
    }
    return out
}

@Suite struct CLITests {
    let data = GeneratedData.shared

    @Test func reingestingStoresNothingNew() throws {
        let store = temporaryDirectory("reingest")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let first = try secq(["ingest", "--store", store, "--json", data.dir + "/AWSLogs"])
        #expect(first.status == 0, "\(first.err)")
        let a = try JSONSerialization.jsonObject(with: Data(first.out.utf8)) as! [String: Any]
        #expect(a["stored"] as? Int == data.records.count)
        let second = try secq(["ingest", "--store", store, "--json", data.dir + "/AWSLogs"])
        let b = try JSONSerialization.jsonObject(with: Data(second.out.utf8)) as! [String: Any]
        #expect(b["stored"] as? Int == 0)
        #expect(b["duplicate_files"] as? Int == b["files"] as? Int)
        // The same records through another path (standard input, NDJSON) are duplicates too.
        let someFile = try FileManager.default.subpathsOfDirectory(atPath: data.dir + "/AWSLogs").first { $0.hasSuffix(".json.gz") }!
        let gz = try Data(contentsOf: URL(fileURLWithPath: data.dir + "/AWSLogs/" + someFile))
        let third = try secq(["ingest", "--store", store, "--json", "-"], input: gz)
        let c = try JSONSerialization.jsonObject(with: Data(third.out.utf8)) as! [String: Any]
        #expect(c["stored"] as? Int == 0)
        #expect((c["duplicates"] as? Int ?? 0) > 0)
    }

    @Test(arguments: [150, 600, 1500])
    func killNineThenResumeGivesTheUninterruptedCounts(afterMilliseconds delay: Int) throws {
        let store = temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        try secqKilled(after: delay, ["ingest", "--store", store, "--batch", "200", "--jobs", "2", data.dir + "/AWSLogs"])

        // The store opens and verifies as it was left, then the same ingest completes it.
        #expect(try secq(["verify", "--store", store]).status == 0)
        let resumed = try secq(["ingest", "--store", store, data.dir + "/AWSLogs"])
        #expect(resumed.status == 0, "\(resumed.err)")
        let perBank = data.summary["per_bank"] as! [String: Int]
        #expect(try bankCounts(store) == perBank)
        let v = try secq(["verify", "--store", store])
        #expect(v.status == 0, "\(v.out)")
        #expect(try secq(["quarantine", "list", "--store", store, "--format", "json"]).out.isEmpty)
    }

    @Test func foreignAndUnownedAccountsAreQuarantinedAndNothingElseIsLost() throws {
        let dir = temporaryDirectory("refused")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let banks = data.org.banks
        let mine = banks[0].accounts[0].id, theirs = banks[1].accounts[0].id, nobody = "000011112222"
        func record(_ account: String, _ n: Int) -> String {
            #"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::\#(account):user/u","accountId":"\#(account)"},"eventTime":"2026-11-02T10:00:0\#(n)Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.\#(n)","eventID":"00000000-0000-4000-8000-00000000000\#(n)","recipientAccountId":"\#(account)"}"#
        }
        let file = dir + "/mixed.json"
        let body = "{\"Records\":[" + [record(mine, 1), record(theirs, 2), record(nobody, 3), record(mine, 4)].joined(separator: ",") + "]}"
        try body.write(toFile: file, atomically: true, encoding: .utf8)
        let store = dir + "/store"
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)

        let r = try secq(["ingest", "--store", store, "--bank", banks[0].id, "--json", "--strict", file])
        #expect(r.status == 2, "--strict fails when anything was quarantined")
        let s = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(s["stored"] as? Int == 2)
        #expect(s["quarantined"] as? Int == 2)

        let q = try secq(["quarantine", "list", "--store", store, "--format", "json"])
        let entries = try q.out.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(entries.count == 2)
        let reasons = Set(entries.map { $0["reason"] as! String })
        #expect(reasons == ["account '\(theirs)' belongs to bank '\(banks[1].id)', not '\(banks[0].id)' named by --bank",
                            "account '\(nobody)' belongs to no registered bank"])
        // Offsets point at the refused records in the file.
        let offsets = Set(entries.map { $0["offset"] as! Int })
        let bytes = Array(body.utf8)
        for o in offsets { #expect(String(decoding: bytes[o..<(o + 20)], as: UTF8.self).hasPrefix("{\"eventVersion\"")) }
        #expect(try bankCounts(store)[banks[0].id] == 2)
        // The refused bytes are kept verbatim: the first refused record is the other bank's.
        let first = entries.min { ($0["offset"] as! Int) < ($1["offset"] as! Int) }!
        let shown = try secq(["quarantine", "show", "--store", store, String(first["id"] as! Int)])
        #expect(shown.out.trimmingCharacters(in: .newlines) == record(theirs, 2))
    }

    @Test func verifyExitsNonZeroAndNamesTheBlock() throws {
        let store = temporaryDirectory("tamper")
        defer { try? FileManager.default.removeItem(atPath: store) }
        _ = try secq(["init", "--store", store, "--org", data.dir + "/org.json"])
        _ = try secq(["ingest", "--store", store, "--batch", "500", data.dir + "/AWSLogs"])
        #expect(try secq(["verify", "--store", store]).status == 0)
        let bank = data.org.banks[0].id
        let opened = try Store(path: store)
        var target: BlockKey?
        var needle: [UInt8] = []
        try opened.bank(bank).read { snap in
            try snap.blocksInSequence { _, k in target = k; return false }
            try snap.block(target!) { v in needle = BlockHeaderMagic.prefix + Array(v[4..<36]) }
        }
        let path = store + "/banks/\(bank)/data.mdb"
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        let fh = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        for range in file.ranges(of: Data(needle)) {
            let at = range.lowerBound + 300
            try fh.seek(toOffset: UInt64(at))
            try fh.write(contentsOf: Data([file[at] ^ 0x80]))
        }
        try fh.close()
        let v = try secq(["verify", "--store", store])
        #expect(v.status == 1)
        #expect(v.out.contains("FAIL \(bank): block \(target!.blockSeq) "), "\(v.out)")
    }

    @Test func queryErrorsPointAtThePlace() throws {
        let store = temporaryDirectory("qerr")
        defer { try? FileManager.default.removeItem(atPath: store) }
        _ = try secq(["init", "--store", store, "--org", data.dir + "/org.json"])
        let r = try secq(["query", "--store", store, "events | where princpal == \"root\""])
        #expect(r.status == 2)
        #expect(r.err == """
            error: unknown field 'princpal'
             --> query:1:16
              |
            1 | events | where princpal == "root"
              |                ^^^^^^^^ did you mean 'principal'?

            """)
        let t = try secq(["query", "--store", store, "events | where src_ip == \"10.0.0.300\""])
        #expect(t.status == 2)
        #expect(t.err.hasPrefix("error: '10.0.0.300' is not an IP address"))
        let u = try secq(["query", "--store", store, "--bank", "acme", "events"])
        #expect(u.status == 1)
        #expect(u.err.contains("unknown bank 'acme'"))
    }
}

enum BlockHeaderMagic {
    static let prefix: [UInt8] = Array("SQB1".utf8)
}

@Suite struct CutInputTests {
    let data = GeneratedData.shared

    /// A gzip file cut in the middle: libdeflate refuses it whole, the streaming reader
    /// keeps every record before the cut, and the cut is quarantined with its reason.
    @Test func truncatedGzipKeepsTheRecordsBeforeTheCut() throws {
        let dir = temporaryDirectory("cut")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The largest generated file, so the cut leaves several whole records before it.
        let root = data.dir + "/AWSLogs/"
        let files = try FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.hasSuffix(".json.gz") }
        let biggest = try files.max { try Data(contentsOf: URL(fileURLWithPath: root + $0)).count < Data(contentsOf: URL(fileURLWithPath: root + $1)).count }!
        let whole = try Data(contentsOf: URL(fileURLWithPath: root + biggest))
        let cutFile = dir + "/cut.json.gz"
        try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: cutFile))

        // What the cut keeps, by an independent reader: zlib through Foundation is not
        // available on Linux, so gunzip the prefix with the system's gzip.
        let r = try run("/bin/sh", ["-c", "gzip -dc < '\(cutFile)' 2>/dev/null; true"])
        let inflated = Array(r.out.utf8)
        // Complete records are the ones whose closing '}' at depth 2 precedes the cut:
        // count the eventIDs whose record is followed by a comma or the array end.
        let text = String(decoding: inflated, as: UTF8.self)
        let completeIDs = text.components(separatedBy: "\"eventID\":\"").dropFirst().filter { part in
            part.contains("\"recipientAccountId\"") && (part.contains("},{") || part.contains("}]"))
        }.count

        let store = dir + "/store"
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let ing = try secq(["ingest", "--store", store, "--json", cutFile])
        #expect(ing.status == 0, "\(ing.err)")
        let s = try JSONSerialization.jsonObject(with: Data(ing.out.utf8)) as! [String: Any]
        #expect(s["cut_files"] as? Int == 1)
        #expect(completeIDs > 0)
        #expect(s["stored"] as? Int == completeIDs, "every complete record before the cut is stored")
        let q = try secq(["quarantine", "list", "--store", store, "--format", "json"])
        let reasons = try q.out.split(separator: "\n").map { (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["reason"] as! String }
        #expect(reasons.contains { $0.contains("gzip") }, "\(reasons)")
    }
}
