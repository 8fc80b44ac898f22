import Foundation
import SecModel
import Testing
@testable import SecIngest

/// Throughput of parse + normalise on one core. Runs only with SECQ_PARSE_BENCH=1, and
/// means something only in a release build:
///
///     SECQ_PARSE_BENCH=1 swift test -c release --filter ParseBenchmark
///
/// Prints records per second of this thread's CPU time (the machine may be shared, so
/// wall time would measure the neighbours) and of wall time; asserts nothing about time.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SECQ_PARSE_BENCH"] == "1"), .serialized)
struct ParseBenchmark {
    /// `count` records cycling through the fixtures, each with its own event id, time
    /// and source address, as a real trail has.
    static func records(_ count: Int) -> [String] {
        let templates = Fixtures.all.map(\.json)
        return (0 ..< count).map { n in
            var r = templates[n % templates.count]
            let id = String(format: "%08x-0000-4000-8000-%012d", n, n)
            if let a = r.range(of: #""eventID":""#), let b = r[a.upperBound...].firstIndex(of: "\"") {
                r.replaceSubrange(a.upperBound ..< b, with: id)
            } else if let a = r.range(of: #""eventID": ""#), let b = r[a.upperBound...].firstIndex(of: "\"") {
                r.replaceSubrange(a.upperBound ..< b, with: id)
            }
            return r
        }
    }

    /// Parses `inputs` (pieces of one input, as a pipeline hands them to a worker) with
    /// one scratch, `rounds` times, and prints the best round. CloudTrail pieces are
    /// parsed on their own; text formats as whole inputs (a header line first).
    func measure(_ label: String, _ inputs: [[UInt8]], records expected: Int, format: InputFormat = .cloudtrail,
                 rounds: Int = 10) {
        let scratch = ParseScratch()
        var bestCPU = Double.infinity, bestWall = Double.infinity
        var events = 0
        for _ in 0 ..< rounds {
            var outputs: [ParseOutput] = []
            outputs.reserveCapacity(inputs.count)
            let cpu0 = Self.threadCPUTime(), wall0 = Self.wallTime()
            for input in inputs {
                outputs.append(input.withUnsafeBytes {
                    format == .cloudtrail
                        ? CloudTrailParser.parse(bytes: $0, file: label, offset: 0, line: 1, scratch: scratch)
                        : IngestParser.parse(bytes: $0, file: Self.textPath, format: format, scratch: scratch)
                })
            }
            bestCPU = min(bestCPU, Self.threadCPUTime() - cpu0)
            bestWall = min(bestWall, Self.wallTime() - wall0)
            events = outputs.reduce(0) { $0 + $1.events.count }
        }
        #expect(events == expected)
        let bytes = inputs.reduce(0) { $0 + $1.count }
        print(String(format: "parse-bench %@: %d records in %d pieces, %.0f B/record, best of %d: %.0f records/s (%.0f MB/s) per CPU-second, %.0f records/s wall",
                     label, expected, inputs.count, Double(bytes) / Double(expected), rounds, Double(expected) / bestCPU,
                     Double(bytes) / bestCPU / 1e6, Double(expected) / bestWall))
    }

    /// NDJSON in the reader's 8 MiB chunks.
    static func ndjsonChunks(_ recs: [String]) -> [[UInt8]] {
        let reader = InputReader(source: BytesSource(Array(recs.joined(separator: "\n").utf8)), name: "bench")
        var chunks: [[UInt8]] = []
        while let c = reader.next() { chunks.append(c.bytes) }
        return chunks
    }

    /// Records documents of 5,000 records (a busy CloudTrail file).
    static func documents(_ recs: [String]) -> [[UInt8]] {
        stride(from: 0, to: recs.count, by: 5000).map {
            Array(Fixtures.recordsDocument(Array(recs[$0 ..< min($0 + 5000, recs.count)])).utf8)
        }
    }

    /// Where the text inputs pretend to come from (the path gives account and region).
    static let textPath = "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/04/01/bench.log"

    /// Text lines cut into inputs of about 8 MiB (a reader's chunk), each starting with `header`.
    static func textInputs(_ lines: [String], header: String?) -> [[UInt8]] {
        var inputs: [[UInt8]] = []
        var cur: [UInt8] = []
        for line in lines {
            if cur.isEmpty, let header { cur += Array(header.utf8); cur.append(0x0A) }
            cur += Array(line.utf8)
            cur.append(0x0A)
            if cur.count >= 8 << 20 { inputs.append(cur); cur = [] }
        }
        if !cur.isEmpty { inputs.append(cur) }
        return inputs
    }

    /// Default-format flow records over 2,000 interfaces, with varying addresses,
    /// ports, counts and times, as a busy VPC writes them.
    static func vpcLines(_ count: Int) -> [String] {
        (0 ..< count).map { n in
            let eni = String(format: "eni-%017x", (n % 2000) &* 40503)
            let action = n % 5 == 0 ? "REJECT" : "ACCEPT"
            return "2 123456789012 \(eni) 10.\(n % 250).\(n / 250 % 250).\(n % 7 + 1) 172.31.\(n % 100).\(n % 200 + 1) "
                + "\(1024 + n % 60000) \(n % 3 == 0 ? 443 : 22) 6 \(n % 50 + 1) \(n % 9000 + 40) \(1_700_000_000 + n / 1000) "
                + "\(1_700_000_060 + n / 1000) \(action) OK"
        }
    }

    /// ALB lines cycling through the documented examples, each with its own client
    /// address and port.
    static func albLines(_ count: Int) -> [String] {
        let templates = ELBFixtures.albLines
        return (0 ..< count).map { n in
            var line = templates[n % templates.count]
            if let r = line.range(of: "192.168.131.39:2817") {
                line.replaceSubrange(r, with: "198.51.\(n % 250).\(n / 250 % 250):\(1024 + n % 60000)")
            }
            return line
        }
    }

    static func threadCPUTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func wallTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    @Test func synthesisedRecords() {
        let recs = Self.records(300_000)
        measure("records-doc", Self.documents(recs), records: recs.count)
        measure("ndjson", Self.ndjsonChunks(recs), records: recs.count)
    }

    @Test func stratusRecordsRepeated() throws {
        guard let dir = CorpusConformanceTests.available("stratus-red-team/detonation-logs") else { return }
        var compact: [String] = []
        for path in try IngestInput.files(under: [dir.path]) {
            let arr = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [Any]
            for r in arr { compact.append(String(decoding: try JSONSerialization.data(withJSONObject: r, options: .withoutEscapingSlashes), as: UTF8.self)) }
        }
        let recs = (0 ..< 300_000).map { compact[$0 % compact.count] }
        measure("stratus-records-doc", Self.documents(recs), records: recs.count)
        measure("stratus-ndjson", Self.ndjsonChunks(recs), records: recs.count)
    }

    @Test func vpcFlowRecords() {
        let lines = Self.vpcLines(1_000_000)
        measure("vpcflow-default", Self.textInputs(lines, header: VPCFixtures.defaultHeader), records: lines.count,
                format: .vpcflow, rounds: 5)
        measure("vpcflow-no-header", Self.textInputs(lines, header: nil), records: lines.count, format: .vpcflow, rounds: 5)
    }

    @Test func albRecords() {
        let lines = Self.albLines(300_000)
        measure("alb", Self.textInputs(lines, header: nil), records: lines.count, format: .alb, rounds: 5)
    }
}
