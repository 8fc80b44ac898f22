#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SecModel
import Testing

/// `secq subscribe` running in another process, its standard output read on a thread.
final class StreamingSecq: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var eof = false
    private let pipe = Pipe()

    init(_ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: secqBinary)
        process.arguments = args
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let fd = pipe.fileHandleForReading.fileDescriptor
        Thread.detachNewThread { [self] in
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                lock.lock()
                if n <= 0 { eof = true; lock.unlock(); return }
                bytes.append(contentsOf: buf[0..<n])
                lock.unlock()
            }
        }
    }

    /// The complete lines read so far.
    var lines: [String] {
        lock.lock(); defer { lock.unlock() }
        let end = bytes.lastIndex(of: 10).map { $0 + 1 } ?? 0
        return String(decoding: bytes[0..<end], as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Waits (up to `timeout` seconds) until `done(lines)`; returns whether it happened.
    func wait(timeout: Double, until done: ([String]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if done(lines) { return true }
            usleep(2000)
        }
        return done(lines)
    }

    /// SIGTERM, then waits for the exit and the end of its output.
    func stop() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        _ = wait(timeout: 10) { _ in lock.withLock { eof } }
        return process.terminationStatus
    }
}

@Suite(.serialized) struct SubscribeCLITests {
    let data = GeneratedData.shared

    func accountGroups() throws -> [[String]] {
        let accounts = try FileManager.default.contentsOfDirectory(atPath: data.dir + "/AWSLogs").sorted()
        return [0, 1, 2].map { g in accounts.enumerated().filter { $0.offset % 3 == g }.map { data.dir + "/AWSLogs/" + $0.element } }
    }

    static func parse(_ line: String) throws -> (bank: String, seq: Int, object: [String: Any]) {
        let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        return (o["bank"] as! String, o["seq"] as! Int, o)
    }

    /// Per bank, the sequence numbers of the lines, in the order they came.
    static func seqsByBank(_ lines: [String]) throws -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for l in lines { let p = try parse(l); out[p.bank, default: []].append(p.seq) }
        return out
    }

    /// Every event of the store as `secq query --format json` prints it, by bank and seq.
    static func reference(_ store: String) throws -> [String: [Int: String]] {
        let r = try secq(["query", "events", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        var out: [String: [Int: String]] = [:]
        for line in r.out.split(separator: "\n") {
            let p = try parse(String(line))
            out[p.bank, default: [:]][p.seq] = String(line)
        }
        return out
    }

    static func checkpoints(_ store: String, _ name: String) throws -> [String: Int] {
        let r = try secq(["subscribers", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        var out: [String: Int] = [:]
        for line in r.out.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if o["name"] as? String == name { out[o["bank"] as! String] = o["checkpoint"] as? Int }
        }
        return out
    }

    @Test func followerAndCatchingUpSubscriberSeeEveryEventOnceInOrderAcrossRestarts() throws {
        let store = temporaryDirectory("sub-two")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let groups = try accountGroups()
        #expect(try secq(["ingest", "--store", store, "--batch", "700"] + groups[0]).status == 0)

        func total() throws -> Int { try bankCounts(store).values.reduce(0, +) }
        var followed: [String] = []
        var follower = try StreamingSecq(["subscribe", "--store", store, "--name", "follower", "--follow", "--batch", "200"])
        var caughtUp: [String] = []
        func catchUp() throws {
            let r = try secq(["subscribe", "--store", store, "--name", "batches", "--batch", "300"])
            #expect(r.status == 0, "\(r.err)")
            caughtUp += r.out.split(separator: "\n").map(String.init)
        }
        try catchUp()
        let first = try total()
        #expect(follower.wait(timeout: 20) { $0.count == first })

        #expect(try secq(["ingest", "--store", store, "--batch", "700"] + groups[1]).status == 0)
        try catchUp()
        let second = try total()
        #expect(follower.wait(timeout: 20) { $0.count == second })
        // Restart the follower: SIGTERM leaves its checkpoint after the last batch written.
        #expect(follower.stop() == 0)
        followed += follower.lines
        follower = try StreamingSecq(["subscribe", "--store", store, "--name", "follower", "--follow", "--batch", "200"])

        #expect(try secq(["ingest", "--store", store, "--batch", "700"] + groups[2]).status == 0)
        try catchUp()
        let all = try total()
        #expect(all == data.records.count)
        #expect(follower.wait(timeout: 20) { followed.count + $0.count == all })
        #expect(follower.stop() == 0)
        followed += follower.lines

        let reference = try SubscribeCLITests.reference(store)
        for (who, lines) in [("follower", followed), ("batches", caughtUp)] {
            let seqs = try SubscribeCLITests.seqsByBank(lines)
            #expect(Set(seqs.keys) == Set(reference.keys))
            for (bank, ref) in reference {
                #expect(seqs[bank] == Array(1...ref.count), "\(who) in \(bank): every event once, in sequence order")
            }
            // Each line is the event as 'secq query --format json' prints it.
            let differing = try lines.filter { l in let p = try SubscribeCLITests.parse(l); return reference[p.bank]?[p.seq] != l }
            #expect(differing.isEmpty, "\(who): \(differing.count) lines differ from the query's, e.g. \(differing.first?.prefix(300) ?? "")")
            let cps = try SubscribeCLITests.checkpoints(store, who)
            for (bank, ref) in reference { #expect(cps[bank] == ref.count) }
        }
    }

    @Test func closedPipeLeavesTheCheckpointAtTheLastBatchTheReaderTook() throws {
        let store = temporaryDirectory("sub-pipe")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        #expect(try secq(["ingest", "--store", store, "--batch", "700", data.dir + "/AWSLogs"]).status == 0)
        let batch = 50
        var duplicates: [Int] = []
        for stopAt in [1, 120, 777] {
            let name = "pipe\(stopAt)"
            // Read until `stopAt` lines arrived, then close the pipe.
            let p = Process()
            p.executableURL = URL(fileURLWithPath: secqBinary)
            p.arguments = ["subscribe", "--store", store, "--name", name, "--batch", String(batch)]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            var bytes: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while bytes.filter({ $0 == 10 }).count < stopAt {
                let n = buf.withUnsafeMutableBytes { read(out.fileHandleForReading.fileDescriptor, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                bytes += buf[0..<n]
            }
            try out.fileHandleForReading.close()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "a closed pipe ends the command cleanly")
            let end = bytes.lastIndex(of: 10).map { $0 + 1 } ?? 0
            let taken = String(decoding: bytes[0..<end], as: UTF8.self).split(separator: "\n").map(String.init)
            let readSeqs = try SubscribeCLITests.seqsByBank(taken)
            // The checkpoint never passes what the reader took.
            for (bank, cp) in try SubscribeCLITests.checkpoints(store, name) {
                #expect(cp <= (readSeqs[bank]?.last ?? 0), "\(bank): checkpoint \(cp) within what was read")
            }
            let rest = try secq(["subscribe", "--store", store, "--name", name, "--batch", String(batch)])
            #expect(rest.status == 0)
            let again = try SubscribeCLITests.seqsByBank(rest.out.split(separator: "\n").map(String.init))
            let counts = try bankCounts(store)
            for (bank, n) in counts {
                let a = readSeqs[bank] ?? [], b = again[bank] ?? []
                #expect(Set(a + b) == Set(1...n), "\(bank): no gaps")
                let twice = Set(a).intersection(b)
                // Given twice: only the start of the batch the reader stopped in.
                #expect(twice.count <= batch)
                #expect(twice.sorted() == Array(b.prefix(twice.count)), "\(bank): the redelivered events are the rerun's first")
                duplicates.append(twice.count)
            }
            #expect(duplicates.suffix(counts.count).filter { $0 > 0 }.count <= 1, "at most one bank's batch is given again")
        }
    }

    @Test func followerSeesANewIngestWithinASecond() throws {
        let dir = temporaryDirectory("sub-follow")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let account = data.org.banks[0].accounts[0].id
        var latencies: [Double] = [], fromStart: [Double] = []
        let follower = try StreamingSecq(["subscribe", "--store", store, "--name", "tail", "--from", "end", "--follow"])
        defer { _ = follower.stop() }
        usleep(300_000)
        for i in 1...3 {
            let record = #"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::\#(account):user/u","accountId":"\#(account)"},"eventTime":"2026-11-02T10:00:0\#(i)Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","eventID":"00000000-0000-4000-8000-00000000000\#(i)","recipientAccountId":"\#(account)"}"#
            try "{\"Records\":[\(record)]}".write(toFile: dir + "/r\(i).json", atomically: true, encoding: .utf8)
            let t0 = Date()
            #expect(try secq(["ingest", "--store", store, "--no-projections", dir + "/r\(i).json"]).status == 0)
            let ingested = Date()
            #expect(follower.wait(timeout: 5) { $0.count == i }, "the follower saw ingest \(i)")
            let seen = Date()
            latencies.append(seen.timeIntervalSince(ingested))
            fromStart.append(seen.timeIntervalSince(t0))
        }
        let lines = follower.lines
        #expect(try lines.map { try SubscribeCLITests.parse($0).seq } == [1, 2, 3])
        // Typically the line is there before the ingest process has exited (it syncs and
        // catches projections up after its commit).
        print("follow: seen after the ingest exited (s): \(latencies.map { String(format: "%.4f", $0) }); after it started: \(fromStart.map { String(format: "%.3f", $0) })")
    }

    @Test func whereFiltersAsTheRecordsSayAndTheCheckpointPassesWhatItDrops() throws {
        let store = IngestedStore.shared.dir
        let name = "failures-\(UUID().uuidString.prefix(8))"
        let r = try secq(["subscribe", "--store", store, "--name", name, "--batch", "400",
                          "--where", #"action == "ConsoleLogin" and outcome == "failure""#])
        #expect(r.status == 0, "\(r.err)")
        struct K: Hashable { var bank, account, principal: String; var time: Int64 }
        var found: [K: Int] = [:]
        for line in r.out.split(separator: "\n") {
            let o = try SubscribeCLITests.parse(String(line)).object
            #expect(o["action"] as? String == "ConsoleLogin" && o["outcome"] as? String == "failure")
            let t = Int64(ISO8601DateFormatter().date(from: o["time"] as! String)!.timeIntervalSince1970 * 1000)
            found[K(bank: o["bank"] as! String, account: o["account"] as! String, principal: o["principal"] as? String ?? "", time: t), default: 0] += 1
        }
        var expected: [K: Int] = [:]
        for rec in data.records where rec.action == "ConsoleLogin" && rec.outcome == "failure" {
            expected[K(bank: rec.bank, account: rec.account, principal: rec.principal ?? "", time: rec.time), default: 0] += 1
        }
        #expect(!expected.isEmpty)
        #expect(found == expected)
        let heads = try bankCounts(store)
        #expect(try SubscribeCLITests.checkpoints(store, name) == heads, "the checkpoint moved past the events filtered out")
        #expect(try secq(["subscribe", "--store", store, "--name", name, "--delete"]).status == 0)
        #expect(try SubscribeCLITests.checkpoints(store, name).isEmpty)
    }

    @Test func badWhereAndFromAreRefusedWithReasons() throws {
        let store = IngestedStore.shared.dir
        let r = try secq(["subscribe", "--store", store, "--name", "bad", "--where", #"princpal == "x""#])
        #expect(r.status == 2)
        #expect(r.err.contains("unknown field 'princpal'") && r.err.contains("did you mean 'principal'"), "\(r.err)")
        #expect(r.err.contains("--where:1:1") && r.err.contains("| princpal == \"x\"") && r.err.contains("^^^^^^^^"), "\(r.err)")
        let stages = try secq(["subscribe", "--store", store, "--name", "bad", "--where", #"action == "x" | head 3"#])
        #expect(stages.status == 2 && stages.err.contains("one expression"), "\(stages.err)")
        #expect(try SubscribeCLITests.checkpoints(store, "bad").isEmpty, "nothing is created by a refused command")

        let name = "from-\(UUID().uuidString.prefix(8))"
        #expect(try secq(["subscribe", "--store", store, "--name", name, "--from", "end"]).out.isEmpty)
        let again = try secq(["subscribe", "--store", store, "--name", name, "--from", "beginning"])
        #expect(again.status == 2 && again.err.contains("--reset"), "\(again.err)")
        let reset = try secq(["subscribe", "--store", store, "--name", name, "--from", "5", "--reset", "--bank", "acme-bank"])
        #expect(reset.status == 0)
        let first = try reset.out.split(separator: "\n").first.map { try SubscribeCLITests.parse(String($0)).seq }
        #expect(first == 5)
        #expect(try secq(["subscribe", "--store", store, "--name", name, "--delete"]).status == 0)
        #expect(try secq(["subscribe", "--store", store, "--name", "no such"]).status != 0)
    }
}
