#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SecIngest
import SecModel
import SecStore
import Testing
@testable import SecCLI

/// CloudTrail and flow logs over three months, and every CloudTrail record read back
/// with Foundation: the oracle of what retention must archive, delete and keep.
final class MonthsOfData: @unchecked Sendable {
    // Immutable after init.
    let dir: String
    let org: Org
    /// (bank, account, region, day, time) of every CloudTrail record.
    let trail: [(bank: String, account: String, region: String, day: String, time: Int64)]

    static let shared: MonthsOfData = {
        do { return try MonthsOfData() } catch { fatalError("tools/gen failed: \(error)") }
    }()

    init() throws {
        dir = temporaryDirectory("months")
        let r = try run("/usr/bin/env", ["python3", packageRoot + "/tools/gen", "--out", dir, "--records", "12000", "--days", "90",
                                          "--start", "2026-06-01", "--seed", "11", "--sources", "cloudtrail,vpcflow",
                                          "--jobs", "1", "--quiet", "--force"])
        guard r.status == 0 else { throw CLIError(message: "tools/gen: \(r.err)") }
        org = try JSONDecoder().decode(Org.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/org.json")))
        var owners: [String: String] = [:]
        for b in org.banks { for a in b.accounts { owners[a.id] = b.id } }
        var out: [(String, String, String, String, Int64)] = []
        for path in try IngestInput.files(under: [dir + "/AWSLogs"]) where path.contains("/CloudTrail/") {
            let doc = try JSONSerialization.jsonObject(with: Data(try IngestInput.read(path: path).bytes)) as! [String: Any]
            for case let rec as [String: Any] in doc["Records"] as! [Any] {
                let o = OracleRecord(rec, owners: owners)
                out.append((o.bank, o.account, o.region, String((rec["eventTime"] as! String).prefix(10)), o.time))
            }
        }
        trail = out
    }
}

@Suite(.serialized) struct RetentionCLITests {
    let data = MonthsOfData.shared
    static let asOf = "2026-09-01T00:00:00Z"
    /// cloudtrail 60d and vpcflow 30d before asOf.
    static let trailCutoff = Timestamp.parse("2026-07-03T00:00:00Z")!
    static let holdFrom = Timestamp.parse("2026-06-10T00:00:00Z")!, holdTo = Timestamp.parse("2026-06-20T00:00:00Z")!

    var heldAccount: String { data.org.banks[0].accounts[0].id }
    var heldBank: String { data.org.banks[0].id }

    func policy() -> String {
        """
        {"default": {"cloudtrail": "60d", "vpcflow": "30d", "*": "forever"},
         "legal_holds": [{"bank": "\(heldBank)", "account": "\(heldAccount)",
                          "from": "2026-06-10T00:00:00Z", "to": "2026-06-20T00:00:00Z", "reason": "case 42"}]}
        """
    }

    func held(_ r: (bank: String, account: String, region: String, day: String, time: Int64)) -> Bool {
        r.bank == heldBank && r.account == heldAccount && r.time >= RetentionCLITests.holdFrom && r.time <= RetentionCLITests.holdTo
    }

    /// A store with the data, ingested in small batches (many blocks, most straddling a cut-off).
    func ingested(_ tag: String) throws -> String {
        let store = temporaryDirectory(tag)
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let r = try secq(["ingest", "--store", store, "--batch", "500", "--no-progress", data.dir + "/AWSLogs"])
        #expect(r.status == 0, "\(r.err)")
        try policy().write(toFile: store + "/retention.json", atomically: true, encoding: .utf8)
        return store
    }

    func count(_ store: String, _ query: String) throws -> [String: Int] {
        let r = try secq(["query", "--store", store, "--format", "json", query + " | stats count() as n by bank"])
        #expect(r.status == 0, "\(r.err)")
        var out: [String: Int] = [:]
        for o in try ndjson(r.out) { out[o["bank"] as! String] = o["n"] as? Int }
        return out
    }

    /// Lines per partition of the archive's CloudTrail files, read with Foundation.
    func archivedTrail(_ dir: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        let e = FileManager.default.enumerator(atPath: dir)!
        while let p = e.nextObject() as? String {
            guard p.hasPrefix("source=cloudtrail/"), p.hasSuffix(".ndjson.gz") else { continue }
            let text = try IngestInput.read(path: dir + "/" + p).bytes
            let part = p.split(separator: "/").dropLast().joined(separator: "/")
            for line in text.split(separator: 10) {
                let o = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
                #expect(o["raw"] is String && o["seq"] is Int && o["action"] is String, "\(p)")
                out[part, default: 0] += 1
            }
        }
        return out
    }

    func expectedTrail() -> [String: Int] {
        var out: [String: Int] = [:]
        for r in data.trail where r.time < RetentionCLITests.trailCutoff && !held(r) {
            out["source=cloudtrail/bank=\(r.bank)/account=\(r.account)/region=\(r.region)/day=\(r.day)", default: 0] += 1
        }
        return out
    }

    @Test func applyArchivesExactlyTheExpiredAndKeepsTheRest() throws {
        let store = try ingested("ret-apply")
        let archive = temporaryDirectory("ret-archive")
        defer { try? FileManager.default.removeItem(atPath: store); try? FileManager.default.removeItem(atPath: archive) }
        let cut = Timestamp.rfc3339(millis: RetentionCLITests.trailCutoff)
        let totalBefore = try count(store, "events")
        let flowCut = "2026-08-02T00:00:00Z"
        // The legal hold covers every source of its account and time range.
        let heldFlow = "account == \"\(heldAccount)\" and time >= 2026-06-10T00:00:00Z and time <= 2026-06-20T00:00:00Z"
        let flowExpired = try count(store, "events | where source == \"vpcflow\" and time < \(flowCut) and not (\(heldFlow))")
        let flowHeld = try count(store, "events | where source == \"vpcflow\" and time < \(flowCut) and \(heldFlow)")
        #expect(!flowHeld.isEmpty)
        let keptQuery = "events | where (source == \"cloudtrail\" and time >= \(cut)) or (source == \"vpcflow\" and time >= \(flowCut))"
            + " | eval id = raw.eventID | fields bank, account, time, action, principal, src_ip, dst_port, bytes, id"
        let keptBefore = try secq(["query", "--store", store, "--format", "json", keptQuery])

        // Plan: the oracle's counts, and nothing changes.
        let plan = try secq(["retention", "plan", "--store", store, "--as-of", RetentionCLITests.asOf, "--format", "json"])
        #expect(plan.status == 0, "\(plan.err)")
        var planned: [String: Int] = [:], plannedHeld = 0
        for o in try ndjson(plan.out) where o["source"] as? String == "cloudtrail" {
            planned[o["bank"] as! String] = o["events"] as? Int
            plannedHeld += o["held"] as! Int
        }
        var expectedByBank: [String: Int] = [:]
        for r in data.trail where r.time < RetentionCLITests.trailCutoff && !held(r) { expectedByBank[r.bank, default: 0] += 1 }
        let heldCount = data.trail.filter { $0.time < RetentionCLITests.trailCutoff && held($0) }.count
        #expect(heldCount > 0)
        #expect(planned == expectedByBank)
        #expect(plannedHeld == heldCount)
        #expect(try count(store, "events") == totalBefore)

        let apply = try secq(["retention", "apply", "--store", store, "--as-of", RetentionCLITests.asOf, "--archive", archive,
                              "--batch", "3000", "--json"])
        #expect(apply.status == 0, "\(apply.err)")
        let deleted = try ndjson(apply.out).reduce(0) { $0 + ($1["events_deleted"] as! Int) }
        #expect(deleted == expectedByBank.values.reduce(0, +) + flowExpired.values.reduce(0, +))

        // The archive holds exactly the expired CloudTrail records, partition by partition.
        #expect(try archivedTrail(archive) == expectedTrail())
        // No expired event is left but the held ones; the others are all there, unchanged.
        let oldTrail = try count(store, "events | where source == \"cloudtrail\" and time < \(cut)")
        #expect(oldTrail == [heldBank: heldCount])
        #expect(try count(store, "events | where source == \"vpcflow\" and time < \(flowCut)") == flowHeld)
        let keptAfter = try secq(["query", "--store", store, "--format", "json", keptQuery])
        let before = keptBefore.out.split(separator: "\n").sorted(), after = keptAfter.out.split(separator: "\n").sorted()
        #expect(before.count == after.count)
        #expect(before == after, "the events kept changed")
        let verify = try secq(["verify", "--store", store])
        #expect(verify.status == 0, "\(verify.out)")
        #expect(verify.out.contains("deleted by retention"))
        let av = try secq(["archive", "verify", archive])
        #expect(av.status == 0, "\(av.out)\(av.err)")
        #expect(av.out.contains("\(deleted) events"))

        // Again: nothing more to do, the archive unchanged.
        let again = try secq(["retention", "apply", "--store", store, "--as-of", RetentionCLITests.asOf, "--archive", archive, "--json"])
        #expect(try ndjson(again.out).allSatisfy { $0["events_deleted"] as? Int == 0 })
        #expect(try archivedTrail(archive) == expectedTrail())

        // DuckDB reads the archive and counts the same (skipped when duckdb is missing).
        let duck = try run("/usr/bin/env", ["python3", packageRoot + "/tools/archive-check", archive])
        #expect(duck.status == 0 || duck.status == 3, "\(duck.out)\(duck.err)")

        // An altered archive file is caught.
        let e = FileManager.default.enumerator(atPath: archive)!
        var victim = ""
        while let p = e.nextObject() as? String { if p.hasSuffix(".ndjson.gz") { victim = p; break } }
        let h = FileHandle(forWritingAtPath: archive + "/" + victim)!
        h.seekToEndOfFile(); h.write(Data([0])); h.closeFile()
        let bad = try secq(["archive", "verify", archive])
        #expect(bad.status == 1)
        #expect(bad.out.contains("FAIL \(victim): SHA-256 differs"), "\(bad.out)")
    }

    @Test func killedApplyResumesAndFinishes() throws {
        let store = try ingested("ret-kill")
        let archive = temporaryDirectory("ret-kill-archive")
        defer { try? FileManager.default.removeItem(atPath: store); try? FileManager.default.removeItem(atPath: archive) }
        let args = ["retention", "apply", "--store", store, "--as-of", RetentionCLITests.asOf, "--archive", archive, "--batch", "200"]
        for delay in [150, 300, 450] {
            try secqKilled(after: delay, args)
            let v = try secq(["verify", "--store", store])
            #expect(v.status == 0, "after kill at \(delay) ms: \(v.out)")
        }
        let r = try secq(args)
        #expect(r.status == 0, "\(r.err)")
        #expect(try secq(["verify", "--store", store]).status == 0)
        let av = try secq(["archive", "verify", archive])
        #expect(av.status == 0, "\(av.out)")
        #expect(try archivedTrail(archive) == expectedTrail())
        // Killed after a batch's commit, before its manifest was written: the archive's
        // manifest is behind the store's. A run with nothing left to delete writes it.
        try FileManager.default.removeItem(atPath: archive + "/_manifest-\(heldBank).json")
        #expect(try secq(["archive", "verify", archive]).status == 1)
        #expect(try secq(args).status == 0)
        let again = try secq(["archive", "verify", archive])
        #expect(again.status == 0, "\(again.out)")
        let cut = Timestamp.rfc3339(millis: RetentionCLITests.trailCutoff)
        #expect(try count(store, "events | where source == \"cloudtrail\" and time < \(cut)") == [heldBank: data.trail.filter { $0.time < RetentionCLITests.trailCutoff && held($0) }.count])
    }

    /// Every event as a line (every field but its sequence number, and its whole raw
    /// record), read from the store, sorted: what must be the same after an archive
    /// is restored.
    func everything(_ store: String) throws -> [String] {
        let s = try Store(path: store)
        var out: [String] = []
        for b in try s.org().banks {
            let events = try s.bank(b.id).read { snap in try snap.log(from: 1, limit: .max, raw: true).events }
            for e in events {
                let fields = Field.allCases.filter { $0 != .seq }.map { "\($0.rawValue)=\(e.value(of: $0).text)" }
                out.append(fields.joined(separator: " ") + " raw=" + Data(e.raw).base64EncodedString())
            }
        }
        return out.sorted()
    }

    func json(_ store: String, _ args: [String]) throws -> [Substring] {
        let r = try secq(args + ["--store", store, "--format", "json"])
        #expect(r.status == 0, "\(args): \(r.err)")
        return r.out.split(separator: "\n").sorted()
    }

    @Test func anArchiveIngestedAgainRestoresEveryEventOnce() throws {
        let store = try ingested("ret-restore")
        let archive = temporaryDirectory("ret-restore-archive")
        defer { try? FileManager.default.removeItem(atPath: store); try? FileManager.default.removeItem(atPath: archive) }
        #expect(try secq(["detect", "--store", store, "--learning-period", "1d"]).status == 0)
        let before = try everything(store)
        let findingsBefore = try json(store, ["findings"])
        let baselinesBefore = try json(store, ["query", "baselines"])
        #expect(!findingsBefore.isEmpty && !baselinesBefore.isEmpty)

        let apply = try secq(["retention", "apply", "--store", store, "--as-of", RetentionCLITests.asOf, "--archive", archive, "--json"])
        #expect(apply.status == 0, "\(apply.err)")
        let deleted = try ndjson(apply.out).reduce(0) { $0 + ($1["events_deleted"] as! Int) }
        #expect(deleted > 0 && deleted < before.count)
        #expect(try everything(store).count == before.count - deleted)

        // The archive (manifests and all) goes back in: every event as it was, once.
        let r = try secq(["ingest", "--store", store, "--json", "--no-progress", archive])
        #expect(r.status == 0, "\(r.err)")
        let s = try #require(try ndjson(r.out).first)
        #expect(s["stored"] as? Int == deleted, "\(r.out)")
        #expect(s["quarantined"] as? Int == 0 && s["duplicates"] as? Int == 0, "\(r.out)")
        let after = try everything(store)
        #expect(after.count == before.count)
        #expect(after == before, "restored events differ from the archived ones")
        #expect(try secq(["verify", "--store", store]).status == 0)

        // Nothing twice: the same events in other files (decompressed copies), and the
        // original logs, store nothing.
        let copy = temporaryDirectory("ret-restore-copy")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let e = FileManager.default.enumerator(atPath: archive)!
        while let p = e.nextObject() as? String {
            guard p.hasSuffix(".ndjson.gz") else { continue }
            let target = copy + "/" + p.replacingOccurrences(of: ".ndjson.gz", with: ".ndjson")
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(try IngestInput.read(path: archive + "/" + p).bytes).write(to: URL(fileURLWithPath: target))
        }
        let again = try #require(try ndjson(try secq(["ingest", "--store", store, "--json", "--no-progress", copy]).out).first)
        #expect(again["stored"] as? Int == 0 && again["duplicates"] as? Int == deleted, "\(again)")
        let original = try #require(try ndjson(try secq(["ingest", "--store", store, "--json", "--no-progress", data.dir + "/AWSLogs"]).out).first)
        #expect(original["stored"] as? Int == 0, "\(original)")
        #expect(try everything(store) == before)

        // Readers that had read the events before they left do not read them again:
        // baselines count nothing twice, detection finds nothing new.
        #expect(try json(store, ["query", "baselines"]) == baselinesBefore)
        #expect(try secq(["detect", "--store", store, "--learning-period", "1d"]).status == 0)
        #expect(try json(store, ["findings"]) == findingsBefore)

        // Into another store (an investigation copy): the archive's sequence numbers mean
        // nothing there, so the events come in as new ones, once.
        let other = temporaryDirectory("ret-restore-other")
        defer { try? FileManager.default.removeItem(atPath: other) }
        #expect(try secq(["init", "--store", other, "--org", data.dir + "/org.json"]).status == 0)
        let fresh = try #require(try ndjson(try secq(["ingest", "--store", other, "--json", "--no-progress", archive]).out).first)
        #expect(fresh["stored"] as? Int == deleted && fresh["quarantined"] as? Int == 0, "\(fresh)")
        let freshAgain = try #require(try ndjson(try secq(["ingest", "--store", other, "--json", "--no-progress", copy]).out).first)
        #expect(freshAgain["stored"] as? Int == 0, "\(freshAgain)")
        let known = Set(before), restoredThere = try everything(other)
        #expect(restoredThere.count == deleted && restoredThere.allSatisfy { known.contains($0) })
    }

    @Test func compactShrinksTheFileAndAnswersTheSame() throws {
        let store = try ingested("ret-compact")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["retention", "apply", "--store", store, "--as-of", RetentionCLITests.asOf, "--no-archive"]).status == 0)
        let queries = ["events | stats count() by bank, source, action | sort bank, source, action",
                       "events | where action == \"ConsoleLogin\" | fields seq, bank, time, principal, src_ip, outcome"]
        let before = try queries.map { try secq(["query", "--store", store, "--format", "json", $0]).out }
        let r = try secq(["compact", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        for o in try ndjson(r.out) {
            let bank = o["bank"] as! String
            #expect((o["bytes_after"] as! Int) < (o["bytes_before"] as! Int), "\(bank)")
            let attrs = try FileManager.default.attributesOfItem(atPath: store + "/banks/\(bank)/data.mdb")
            #expect((attrs[.size] as! NSNumber).intValue == o["bytes_after"] as! Int)
            #expect((attrs[.posixPermissions] as! NSNumber).intValue == 0o600)
        }
        let after = try queries.map { try secq(["query", "--store", store, "--format", "json", $0]).out }
        #expect(after == before)
        #expect(!before[0].isEmpty)
        #expect(try secq(["verify", "--store", store]).status == 0)
        // Killed while compacting: the bank keeps a whole file.
        try secqKilled(after: 30, ["compact", "--store", store])
        #expect(try secq(["verify", "--store", store]).status == 0)
        #expect(try queries.map { try secq(["query", "--store", store, "--format", "json", $0]).out } == before)
    }

    @Test func compactRefusesWhileAnotherProcessHasTheBank() throws {
        let store = try ingested("ret-busy")
        defer { try? FileManager.default.removeItem(atPath: store) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: secqBinary)
        p.arguments = ["subscribe", "--store", store, "--name", "holder", "--follow", "--bank", heldBank]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        usleep(800_000)
        let r = try secq(["compact", "--store", store, "--bank", heldBank])
        #expect(r.status == 1)
        #expect(r.err.contains("bank '\(heldBank)' is being written by another process (pid \(p.processIdentifier))"), "\(r.err)")
        // With --wait it waits for the holder to go, then compacts.
        let waiting = Process()
        waiting.executableURL = URL(fileURLWithPath: secqBinary)
        waiting.arguments = ["compact", "--store", store, "--bank", heldBank, "--wait", "60s", "--format", "json"]
        let out = Pipe(), err = Pipe()
        waiting.standardOutput = out
        waiting.standardError = err
        try waiting.run()
        usleep(1_500_000)
        #expect(waiting.isRunning, "compact --wait returned while the bank was held")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        waiting.waitUntilExit()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let result = try ndjson(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        #expect(waiting.terminationStatus == 0, "\(said)")
        #expect(said.contains("waiting (--wait)"), "\(said)")
        #expect(result.first?["bank"] as? String == heldBank)
        #expect(try secq(["verify", "--store", store]).status == 0)
    }

    @Test func compactDoesNotWaitForReadersAndTheyKeepTheirFile() throws {
        let store = try ingested("ret-readers")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["retention", "apply", "--store", store, "--as-of", RetentionCLITests.asOf, "--no-archive"]).status == 0)
        let query = ["query", "--store", store, "--format", "json", "events | fields seq, bank, time, source, src_ip, dst_port, action"]
        let expected = try secq(query)
        #expect(expected.status == 0 && expected.out.utf8.count > 1 << 17, "enough output to fill a pipe")
        // A reader stalled mid-answer: its output is a pipe nobody reads yet.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: secqBinary)
        reader.arguments = query
        let out = Pipe()
        reader.standardOutput = out
        reader.standardError = FileHandle.nullDevice
        try reader.run()
        usleep(1_000_000)
        #expect(reader.isRunning, "the reader was to be stalled on its output")
        let r = try secq(["compact", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        for o in try ndjson(r.out) { #expect((o["bytes_after"] as! Int) < (o["bytes_before"] as! Int)) }
        // The reader finishes from the file it opened, with the answer it was giving.
        let answer = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(reader.terminationStatus == 0)
        #expect(answer == expected.out)
        // A process opening the bank now reads the compacted file: the same answer.
        #expect(try secq(query).out == expected.out)
        #expect(try secq(["verify", "--store", store]).status == 0)
    }

    /// A process that opened a bank before a compaction and writes after it is refused
    /// (its file was replaced) rather than writing where nobody reads; the compacted
    /// generation has everything and takes writes.
    @Test func aWriterOfAReplacedGenerationIsRefusedNotLost() throws {
        let store = try ingested("ret-stale")
        defer { try? FileManager.default.removeItem(atPath: store) }
        let count = try self.count(store, "events")
        // This process opens the bank and reads (it holds no writers' lock)...
        let s = try Store(path: store)
        let bank = try s.bank(heldBank)
        let before = try bank.read { snap in try snap.state().events }
        #expect(Int(before) == count[heldBank])
        // ...another compacts it...
        let r = try secq(["compact", "--store", store, "--bank", heldBank])
        #expect(r.status == 0, "\(r.err)")
        // ...and this one may still read its generation, but not write to it.
        #expect(try bank.read { snap in try snap.state().events } == before)
        var e = Event(time: RetentionCLITests.trailCutoff, account: heldAccount, source: .cloudtrail, eventClass: .apiActivity,
                      raw: Array(#"{"eventID":"6c1f0a59-0000-4000-8000-000000000001","eventName":"Late"}"#.utf8))
        e.eventID = "6c1f0a59-0000-4000-8000-000000000001"
        #expect { _ = try bank.append([e]) } throws: { err in
            (err as? StoreError)?.code == .busy && "\(err)".contains("compacted after this process opened it")
        }
        // The compacted generation has every event and takes the write.
        #expect(try self.count(store, "events") == count)
        let late = temporaryDirectory("ret-stale-late") + ".json"
        try Data(#"{"Records":[{"eventVersion":"1.08","eventID":"6c1f0a59-0000-4000-8000-000000000001","eventTime":"2026-07-03T00:00:00Z","eventSource":"signin.amazonaws.com","eventName":"Late","awsRegion":"us-east-1","recipientAccountId":"\#(heldAccount)"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: late))
        let i = try secq(["ingest", "--store", store, "--json", "--no-progress", late])
        #expect(try ndjson(i.out).first?["stored"] as? Int == 1, "\(i.out)\(i.err)")
        #expect(try secq(["verify", "--store", store]).status == 0)
    }

    @Test func planExplainsAMissingOrBadPolicy() throws {
        let store = try ingested("ret-policy")
        defer { try? FileManager.default.removeItem(atPath: store) }
        try FileManager.default.removeItem(atPath: store + "/retention.json")
        let missing = try secq(["retention", "plan", "--store", store])
        #expect(missing.status != 0)
        #expect(missing.err.contains("no retention policy: write '\(store)/retention.json' or pass --policy FILE"), "\(missing.err)")
        let bad = store + "/bad.json"
        try #"{"default": {"vpcflow": "30 days"}}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try secq(["retention", "plan", "--store", store, "--policy", bad])
        #expect(r.err.contains("retention policy '\(bad)': 'default.vpcflow' must be a period"), "\(r.err)")
        let noArchive = try secq(["retention", "apply", "--store", store, "--policy", bad])
        #expect(noArchive.err.contains("--archive DIR"), "\(noArchive.err)")
    }
}
