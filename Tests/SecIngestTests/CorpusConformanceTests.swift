import Foundation
import SecModel
import Testing
@testable import SecIngest

/// Conformance against real CloudTrail records from public projects, when the shared
/// corpus sits beside the package (`../shared/corpus`). Foundation's JSONSerialization
/// is the oracle: which records are valid, and their eventName, eventID and time.
@Suite struct CorpusConformanceTests {
    static let corpus: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0 ..< 3 { url.deleteLastPathComponent() } // Tests/SecIngestTests/<file>
        return url.appendingPathComponent("../shared/corpus").standardizedFileURL
    }()

    static func available(_ sub: String) -> URL? {
        let dir = corpus.appendingPathComponent(sub)
        guard FileManager.default.fileExists(atPath: dir.path) else {
            print("corpus not found at \(dir.path); skipping conformance")
            return nil
        }
        return dir
    }

    /// What the oracle says an event made from `record` must look like, or nil when the
    /// record cannot be an event.
    static func expected(_ record: [String: Any]) -> (name: String, id: String?, time: Int64)? {
        guard let name = record["eventName"] as? String, !name.isEmpty,
              let timeText = record["eventTime"] as? String,
              let time = oracleMillis(timeText) ?? Timestamp.parse(timeText) else { return nil }
        let ui = record["userIdentity"] as? [String: Any]
        let account = [record["recipientAccountId"] as? String, ui?["accountId"] as? String]
            .compactMap { $0 }.first { !$0.isEmpty }
        guard account != nil else { return nil }
        return (name, record["eventID"] as? String, time)
    }

    static func check(_ ev: Event, against record: [String: Any], _ what: String) {
        guard let e = expected(record) else { Issue.record("\(what): oracle refuses a record the parser took"); return }
        #expect(ev.action == e.name, "\(what)")
        #expect(ev.eventID == e.id, "\(what)")
        #expect(ev.time == e.time, "\(what)")
        let reread = (try? JSONSerialization.jsonObject(with: Data(ev.raw))) as? NSDictionary
        #expect(reread == (record as NSDictionary), "\(what): raw is not the record")
    }

    @Test func stratusRedTeamDetonationLogs() throws {
        guard let dir = Self.available("stratus-red-team/detonation-logs") else { return }
        let files = try IngestInput.files(under: [dir.path]).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 30)
        var total = 0
        for path in files {
            let fb = try IngestInput.read(path: path)
            #expect(fb.error == nil)
            let records = try #require(try JSONSerialization.jsonObject(with: Data(fb.bytes)) as? [[String: Any]])
            let out = CloudTrailParser.parse(bytes: fb.bytes, file: path)
            let name = URL(fileURLWithPath: path).lastPathComponent
            #expect(out.quarantined.isEmpty, "\(name): \(out.quarantined.map(\.reason))")
            #expect(out.warnings.isEmpty, "\(name): \(out.warnings)")
            #expect(out.events.count == records.count, "\(name)")
            for (i, (ev, rec)) in zip(out.events, records).enumerated() { Self.check(ev, against: rec, "\(name)#\(i)") }
            total += out.events.count
        }
        #expect(total >= 300)
    }

    @Test func pantherCloudTrailTestLogs() throws {
        guard let dir = Self.available("panther-analysis/extracted_tests") else { return }
        let path = dir.appendingPathComponent("AWS.CloudTrail.jsonl").path
        let fb = try IngestInput.read(path: path)
        let lines = fb.bytes.split(separator: 0x0A)
        #expect(lines.count >= 400)
        var rawRecords: [[UInt8]] = []
        var valid = 0
        for (n, line) in lines.enumerated() {
            let test = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let what = "line \(n + 1) (\(test["rule_id"] ?? "?") / \(test["test_name"] ?? "?"))"
            let record = try #require(test["log"] as? [String: Any])
            // The record's own bytes, sliced from the test line.
            guard case .object(let text)? = JSONPath.lookup(raw: Array(line), path: [.key("log")]) else {
                Issue.record("\(what): no log object"); continue
            }
            let raw = Array(text.utf8)
            rawRecords.append(raw)
            let out = CloudTrailParser.parse(bytes: raw, file: "panther")
            #expect(out.records == 1, "\(what)")
            if Self.expected(record) != nil {
                valid += 1
                #expect(out.quarantined.isEmpty, "\(what): valid record quarantined: \(out.quarantined.map(\.reason))")
                if let ev = out.events.first { Self.check(ev, against: record, what) }
            } else {
                #expect(out.events.isEmpty, "\(what): oracle refuses, parser took it")
                let reason = out.quarantined.first?.reason ?? ""
                #expect(reason.hasPrefix("not a CloudTrail record") || reason.hasPrefix("record has no")
                        || (reason.hasPrefix("eventTime '") && reason.hasSuffix("' is not RFC 3339")), "\(what): \(reason)")
            }
        }
        #expect(valid >= 400)
        // The same records as one NDJSON input and as one Records document.
        let ndjson = rawRecords.joined(separator: [0x0A]).map { $0 }
        let doc = Array(#"{"Records":["#.utf8) + rawRecords.joined(separator: [0x2C]) + Array("]}".utf8)
        for input in [ndjson, doc] {
            let out = CloudTrailParser.parse(bytes: input, file: "panther-all")
            #expect(out.events.count == valid)
            #expect(out.records == rawRecords.count)
            #expect(out.warnings.isEmpty)
        }
    }
}
