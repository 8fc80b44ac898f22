#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SecModel
@testable import SecCLI
import SecIngest
import SecStore

/// The package root, found from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Runs a program and returns its exit status and output.
@discardableResult
func run(_ exe: String, _ args: [String], input: Data? = nil) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let inPipe = Pipe()
    p.standardInput = inPipe
    try p.run()
    if let input { inPipe.fileHandleForWriting.write(input) }
    try inPipe.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

func temporaryDirectory(_ tag: String) -> String {
    let d = NSTemporaryDirectory() + "secq-\(tag)-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// A data set made by tools/gen, shared by the tests of one process (generated once).
final class GeneratedData: @unchecked Sendable {
    // Immutable after init.
    let dir: String
    let org: Org
    let summary: [String: Any]
    let truth: [[String: Any]]
    /// Every record, read back independently with JSONSerialization.
    let records: [OracleRecord]

    /// Every source, as the demo generates them.
    static let allSources: GeneratedData = {
        do { return try GeneratedData(records: 30_000, seed: 7, sources: "all") } catch { fatalError("tools/gen failed: \(error)") }
    }()

    static let shared: GeneratedData = {
        do { return try GeneratedData(records: 10_000, seed: 7) } catch { fatalError("tools/gen failed: \(error)") }
    }()

    init(records count: Int, seed: Int, sources: String = "cloudtrail") throws {
        dir = temporaryDirectory("gen")
        let r = try run("/usr/bin/env", ["python3", packageRoot + "/tools/gen", "--out", dir, "--records", String(count),
                                          "--seed", String(seed), "--sources", sources, "--jobs", "1", "--quiet",
                                          "--force"])
        guard r.status == 0 else { throw CLIError(message: "tools/gen: \(r.err)") }
        org = try JSONDecoder().decode(Org.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/org.json")))
        summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as! [String: Any]
        truth = try String(contentsOfFile: dir + "/truth.jsonl", encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        var owners: [String: String] = [:]
        for b in org.banks { for a in b.accounts { owners[a.id] = b.id } }
        var recs: [OracleRecord] = []
        for path in try IngestInput.files(under: [dir + "/AWSLogs"]) where path.contains("/CloudTrail/") {
            let bytes = try IngestInput.read(path: path).bytes
            let doc = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
            for case let r as [String: Any] in doc["Records"] as! [Any] {
                recs.append(OracleRecord(r, owners: owners))
            }
        }
        records = recs
    }
}

/// A CloudTrail record read with Foundation, mapped to the core fields as DESIGN.md
/// states them: the oracle the query tests compare with.
struct OracleRecord {
    let json: [String: Any]
    let bank: String
    let account: String
    let time: Int64
    let action: String
    let principal: String?
    let srcIP: String?
    let outcome: String
    let eventID: String
    let region: String

    init(_ r: [String: Any], owners: [String: String]) {
        json = r
        account = r["recipientAccountId"] as! String
        bank = owners[account] ?? "?"
        let iso = ISO8601DateFormatter()
        time = Int64(iso.date(from: r["eventTime"] as! String)!.timeIntervalSince1970 * 1000)
        action = r["eventName"] as! String
        let ui = r["userIdentity"] as? [String: Any] ?? [:]
        if let arn = ui["arn"] as? String { principal = arn }
        else if ui["type"] as? String == "Root" { principal = "arn:aws:iam::\(account):root" }
        else if ui["type"] as? String == "AWSService" { principal = ui["invokedBy"] as? String }
        else { principal = ui["principalId"] as? String }
        srcIP = OracleRecord.canonicalIP(r["sourceIPAddress"] as? String)
        let consoleFailure = (r["responseElements"] as? [String: Any])?["ConsoleLogin"] as? String == "Failure"
        outcome = r["errorCode"] != nil || consoleFailure ? "failure" : "success"
        eventID = r["eventID"] as! String
        region = r["awsRegion"] as! String
    }

    /// The address in canonical text (inet_ntop), nil when it is not an address.
    static func canonicalIP(_ s: String?) -> String? {
        guard let s else { return nil }
        var v4 = in_addr(), v6 = in6_addr()
        var buf = [CChar](repeating: 0, count: 64)
        if inet_pton(AF_INET, s, &v4) == 1 { return String(cString: inet_ntop(AF_INET, &v4, &buf, 64)) }
        if inet_pton(AF_INET6, s, &v6) == 1 { return String(cString: inet_ntop(AF_INET6, &v6, &buf, 64)) }
        return nil
    }

    /// `raw.a.b` read with Foundation.
    func raw(_ path: [String]) -> Any? {
        var cur: Any? = json
        for p in path { cur = (cur as? [String: Any])?[p] }
        return cur is NSNull ? nil : cur
    }
}

/// A store holding the shared generated data, ingested with small batches so every
/// bank has many blocks (time ranges cross block boundaries).
final class IngestedStore: @unchecked Sendable {
    let dir: String
    let store: Store
    let summary: IngestSummary

    static let shared: IngestedStore = {
        do { return try IngestedStore(GeneratedData.shared) } catch { fatalError("ingest failed: \(error)") }
    }()

    init(_ data: GeneratedData, batchSize: Int = 700) throws {
        dir = temporaryDirectory("store")
        store = try Store(path: dir, create: true)
        try store.register(data.org)
        var opts = IngestOptions(paths: [data.dir + "/AWSLogs"])
        opts.batchSize = batchSize
        summary = try IngestPipeline(store: store, options: opts).run()
    }
}

/// The objects of NDJSON output, one per non-empty line (a line that is not an object
/// fails the test that reads it).
func ndjson(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { line in
        guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "not a JSON object: \(line.prefix(200))"])
        }
        return o
    }
}
