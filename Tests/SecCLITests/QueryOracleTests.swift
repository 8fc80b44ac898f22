import Foundation
import SecModel
import SecQuery
import SecStore
import Testing

/// Query answers against a naive evaluation of the same records read with Foundation.
@Suite struct QueryOracleTests {
    let data = GeneratedData.shared
    let ingested = IngestedStore.shared

    func query(_ text: String) throws -> QueryResult {
        let engine = QueryEngine(store: ingested.store)
        return try engine.run(try engine.prepare(text, now: Timestamp.parse("2026-11-08T00:00:00Z")!))
    }

    /// Rows of `key..., count` as a dictionary.
    func counts(_ r: QueryResult) -> [[String]: Int64] {
        var out: [[String]: Int64] = [:]
        for row in r.rows {
            guard case .int(let n) = row.last! else { continue }
            out[row.dropLast().map(\.text)] = n
        }
        return out
    }

    @Test func everyRecordIsStoredOnceInItsBank() throws {
        #expect(ingested.summary.stored == data.records.count)
        #expect(ingested.summary.quarantined == 0)
        let perBank = data.summary["per_bank"] as! [String: Int]
        let got = counts(try query("events | stats count() by bank"))
        #expect(got == Dictionary(uniqueKeysWithValues: perBank.map { ([$0.key], Int64($0.value)) }))
    }

    @Test func failedConsoleLoginsByPrincipalAndAddress() throws {
        var expected: [[String]: Int64] = [:]
        for r in data.records where r.action == "ConsoleLogin" && r.outcome == "failure" {
            expected[[r.principal ?? "", r.srcIP ?? ""], default: 0] += 1
        }
        #expect(!expected.isEmpty)
        let got = counts(try query(#"events | where action == "ConsoleLogin" and outcome == "failure" | stats count() by principal, src_ip"#))
        #expect(got == expected)
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 6, 7])
    func timeRangesAcrossBlockBoundaries(seed: Int) throws {
        var rng = SplitMix(seed: UInt64(seed))
        let times = data.records.map(\.time)
        let lo = times.min()!, hi = times.max()!
        var a = lo + Int64(rng.next() % UInt64(hi - lo)), b = lo + Int64(rng.next() % UInt64(hi - lo))
        if a > b { swap(&a, &b) }
        a = a / 1000 * 1000; b = b / 1000 * 1000
        var expected: [[String]: Int64] = [:]
        for r in data.records where r.time >= a && r.time <= b { expected[[r.account], default: 0] += 1 }
        let q = "events | between \(Timestamp.rfc3339(millis: a)) and \(Timestamp.rfc3339(millis: b)) | stats count() by account"
        #expect(counts(try query(q)) == expected, "\(q)")
        // The same range written as time predicates, with a row-level filter on top.
        var expected2: [[String]: Int64] = [:]
        for r in data.records where r.time > a && r.time < b && r.region == "us-east-1" { expected2[[r.bank], default: 0] += 1 }
        let q2 = #"events | where time > "\#(Timestamp.rfc3339(millis: a))" and time < "\#(Timestamp.rfc3339(millis: b))" and region == "us-east-1" | stats count() by bank"#
        #expect(counts(try query(q2)) == expected2, "\(q2)")
    }

    @Test func needleOnAPrincipalUsesPostingsAndCountsRight() throws {
        var byPrincipal: [String: Int] = [:]
        for r in data.records { if let p = r.principal { byPrincipal[p, default: 0] += 1 } }
        // A rare principal and a busy one.
        let sorted = byPrincipal.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        for (p, n) in [sorted.first!, sorted[sorted.count / 2], sorted.last!] {
            let engine = QueryEngine(store: ingested.store)
            let prepared = try engine.prepare("events | where principal == \"\(p)\" | stats count()", now: 0)
            #expect(prepared.plan.lookups.map(\.field) == [.principal])
            let r = try engine.run(prepared)
            #expect(r.rows.first?.first == .int(Int64(n)), "\(p)")
            let total = try ingested.store.org().banks.reduce(0) { n, b in n + Int(try ingested.store.bank(b.id).read { try $0.state().blocks }) }
            if n < 20 { #expect(r.stats.blocksConsidered < total, "postings narrowed the blocks") }
        }
    }

    @Test func eventIDLookUpReturnsTheVerbatimRecord() throws {
        let pick = data.records[data.records.count / 3]
        let r = try query("events | where event_id == \"\(pick.eventID)\" | fields event_id, action, principal, raw.eventTime")
        #expect(r.rows.count == 1)
        #expect(r.rows.first?.map(\.text) == [pick.eventID, pick.action, pick.principal ?? "", pick.json["eventTime"] as! String])
    }

    @Test func ipv6AddressesAndPrefixes() throws {
        let v6 = data.records.compactMap { r -> String? in r.srcIP.flatMap { $0.contains(":") ? $0 : nil } }
        #expect(!v6.isEmpty, "the generator writes IPv6 sources")
        let one = v6[v6.count / 2]
        let exact = data.records.filter { $0.srcIP == one }.count
        #expect(counts(try query("events | where src_ip == \"\(one)\" | stats count() by src_ip")) == [[one]: Int64(exact)])
        // A /32 prefix, checked against the first two groups of the raw text (expanded).
        let groups = expand(one).split(separator: ":").prefix(2).joined(separator: ":")
        let inPrefix = data.records.filter { $0.srcIP.map { expand($0).hasPrefix(groups + ":") } ?? false }.count
        let cidr = groups + "::/32"
        let r = try query("events | where src_ip in cidr(\"\(cidr)\") | stats count()")
        #expect(r.rows.first?.first == .int(Int64(inPrefix)))
        // IPv4 prefixes never match IPv6 sources, and the other way round.
        let v4in6 = try query("events | where src_ip in cidr(\"0.0.0.0/0\") and src_ip in cidr(\"\(cidr)\") | stats count()")
        #expect(v4in6.rows.first?.first == .int(0))
    }

    /// `2001:db8::1` as eight 4-digit groups.
    func expand(_ s: String) -> String {
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, s, &v6) == 1 else { return s }
        return withUnsafeBytes(of: &v6) { b in stride(from: 0, to: 16, by: 2).map { String(format: "%02x%02x", b[$0], b[$0 + 1]) }.joined(separator: ":") }
    }

    @Test func rawPathsReadTheOriginalRecord() throws {
        var expected: [[String]: Int64] = [:]
        for r in data.records {
            if let bucket = r.raw(["requestParameters", "bucketName"]) as? String, r.action == "GetObject" {
                expected[[bucket], default: 0] += 1
            }
        }
        #expect(!expected.isEmpty)
        let got = counts(try query(#"events | where action == "GetObject" | stats count() by raw.requestParameters.bucketName"#))
        #expect(got == expected)
        let bucket = expected.keys.sorted { $0[0] < $1[0] }.first![0]
        let filtered = try query("events | where raw.requestParameters.bucketName == \"\(bucket)\" and action == \"GetObject\" | stats count()")
        #expect(filtered.rows.first?.first == .int(expected[[bucket]]!))
    }

    @Test func emptyResults() throws {
        #expect(try query(#"events | where principal == "arn:aws:iam::000000000000:user/nobody""#).rows.isEmpty)
        #expect(try query(#"events | where principal == "arn:aws:iam::000000000000:user/nobody" | stats count()"#).rows.map { $0.map(\.text) } == [["0"]])
        #expect(try query("events | between 2020-01-01 and 2020-01-02 | stats count() by bank").rows.isEmpty)
        #expect(try query(#"events | where event_id == "00000000-0000-4000-8000-000000000000""#).rows.isEmpty)
    }

    @Test func distinctCountsAndTopN() throws {
        var ips: [String: Set<String>] = [:]
        var actions: [String: Int64] = [:]
        for r in data.records {
            if let ip = r.srcIP { ips[r.account, default: []].insert(ip) }
            actions[r.action, default: 0] += 1
        }
        let dc = counts(try query("events | stats dc(src_ip) by account"))
        #expect(dc == Dictionary(uniqueKeysWithValues: ips.map { ([$0.key], Int64($0.value.count)) }))
        let top = try query("events | stats count() as n by action | sort n desc, action | head 5")
        let expectedTop = actions.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(5)
        #expect(top.rows.map { $0.map(\.text) } == expectedTop.map { [$0.key, String($0.value)] })
    }

    @Test func fieldsSortAndHead() throws {
        let logins = data.records.filter { $0.action == "ConsoleLogin" }.sorted { ($0.time, $0.eventID) < ($1.time, $1.eventID) }
        let r = try query(#"events | where action == "ConsoleLogin" | fields time, event_id | sort time, event_id | head 7"#)
        #expect(r.columns == ["time", "event_id"])
        #expect(r.rows.map { $0[1].text } == logins.prefix(7).map(\.eventID))
        // Text operators ignore case; startswith on a dictionary column.
        let n = data.records.filter { ($0.principal ?? "").lowercased().contains(":user/") }.count
        #expect(try query(#"events | where principal contains ":USER/" | stats count()"#).rows.first?.first == .int(Int64(n)))
    }
}

/// `timechart` against buckets counted from the raw records with Foundation.
extension QueryOracleTests {
    static let hour: Int64 = 3_600_000

    /// Hour buckets of `records`, from the first to the last (empty ones included).
    func hours(_ records: [OracleRecord]) -> [Int64] {
        let starts = records.map { $0.time / Self.hour * Self.hour }
        guard let lo = starts.min(), let hi = starts.max() else { return [] }
        return (0...((hi - lo) / Self.hour)).map { lo + $0 * Self.hour }
    }

    @Test(arguments: [nil, "ConsoleLogin"])
    func timechartCountByOutcome(action: String?) throws {
        let records = data.records.filter { action == nil || $0.action == action }
        var expected: [Int64: [String: Int64]] = [:]
        for r in records { expected[r.time / Self.hour * Self.hour, default: [:]][r.outcome, default: 0] += 1 }
        let series = Set(records.map(\.outcome)).sorted()
        let q = "events " + (action.map { "| where action == \"\($0)\" " } ?? "") + "| timechart span=1h count() by outcome"
        let r = try query(q)
        #expect(r.columns == ["time"] + series, "\(q)")
        let buckets = hours(records)
        #expect(r.rows.map { $0[0] } == buckets.map { .time($0) }, "\(q)")
        for row in r.rows {
            guard case .time(let t) = row[0] else { continue }
            #expect(Array(row.dropFirst()) == series.map { .int(expected[t]?[$0] ?? 0) }, "\(q) at \(Timestamp.rfc3339(millis: t))")
        }
        #expect(r.chart == ChartLayout(bars: 1..<(series.count + 1), series: true))
        if action != nil { #expect(buckets.count > expected.count, "the sparse action leaves empty hours") }
    }

    @Test func timechartSumAndDistinctWithEmptyBuckets() throws {
        let records = data.records.filter { $0.outcome == "failure" }
        var n: [Int64: Int64] = [:], chars: [Int64: Int64] = [:], users: [Int64: Set<String>] = [:]
        for r in records {
            let t = r.time / Self.hour * Self.hour
            n[t, default: 0] += 1
            chars[t, default: 0] += Int64(r.action.count)
            if let p = r.principal { users[t, default: []].insert(p) }
        }
        let r = try query(#"events | where outcome == "failure" | timechart span=1h count() as n, sum(len(action)) as chars, dc(principal) as users"#)
        #expect(r.columns == ["time", "n", "chars", "users"])
        let buckets = hours(records)
        #expect(buckets.count > n.count, "failures leave empty hours")
        #expect(r.rows.count == buckets.count)
        for (row, t) in zip(r.rows, buckets) {
            let want: [Value] = [.time(t), .int(n[t] ?? 0), chars[t].map(Value.int) ?? .null, .int(Int64(users[t]?.count ?? 0))]
            #expect(row == want, "\(Timestamp.rfc3339(millis: t))")
        }
        // The same buckets by day, from stats: the pivot adds only the empty ones.
        let day = try query(#"events | where outcome == "failure" | timechart span=1d count() as n"#)
        let statsDay = try query(#"events | where outcome == "failure" | stats count() as n by bin(time, 1d)"#)
        #expect(day.rows.filter { $0[1] != .int(0) } == statsDay.rows)
    }
}

/// A small deterministic random number generator for test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E3779B97F4A7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

/// Percentiles, values, first, last and dc against answers computed from the records
/// with Foundation and plain Swift.
@Suite struct AggregateOracleTests {
    let data = GeneratedData.shared
    let ingested = IngestedStore.shared

    func query(_ text: String) throws -> QueryResult {
        let engine = QueryEngine(store: ingested.store)
        return try engine.run(try engine.prepare(text, now: Timestamp.parse("2026-11-08T00:00:00Z")!))
    }

    struct Expected {
        var bytes: [Int64] = []
        var regions = Set<String>()
        var ips = Set<String>()
        var firstTime = Int64.max, lastTime = Int64.min
        var firsts = Set<String>(), lasts = Set<String>()
    }

    /// Per account, from the raw records: `bytes` is bytesTransferredIn + bytesTransferredOut.
    func expected() -> [String: Expected] {
        var out: [String: Expected] = [:]
        for r in data.records {
            var e = out[r.account] ?? Expected()
            let bin = (r.raw(["additionalEventData", "bytesTransferredIn"]) as? NSNumber)?.int64Value
            let bout = (r.raw(["additionalEventData", "bytesTransferredOut"]) as? NSNumber)?.int64Value
            if bin != nil || bout != nil { e.bytes.append((bin ?? 0) + (bout ?? 0)) }
            e.regions.insert(r.region)
            if let ip = r.srcIP { e.ips.insert(ip) }
            // Rows with the same time are told apart by sequence number, which only the
            // store knows: any of them is a right answer.
            if r.time < e.firstTime { e.firstTime = r.time; e.firsts = [r.action] } else if r.time == e.firstTime { e.firsts.insert(r.action) }
            if r.time > e.lastTime { e.lastTime = r.time; e.lasts = [r.action] } else if r.time == e.lastTime { e.lasts.insert(r.action) }
            out[r.account] = e
        }
        return out
    }

    func nearestRank(_ xs: [Int64], _ p: Double) -> String {
        guard !xs.isEmpty else { return "" }
        let s = xs.sorted()
        return String(s[max(1, Int((p * Double(s.count)).rounded(.up))) - 1])
    }

    func check(_ r: QueryResult, _ what: String) {
        let exp = expected()
        #expect(r.rows.count == exp.count, "\(what)")
        #expect(exp.values.contains { $0.bytes.count > 10 }, "the data has bytes to rank")
        #expect(r.notes.isEmpty, "no group is past the exact bounds")
        for row in r.rows {
            guard let e = exp[row[0].text] else { Issue.record("unexpected account \(row[0].text)"); continue }
            #expect(row[1].text == nearestRank(e.bytes, 0.5), "\(what) p50 \(row[0].text)")
            #expect(row[2].text == nearestRank(e.bytes, 0.99), "\(what) p99 \(row[0].text)")
            #expect(row[3] == .list(e.regions.sorted().prefix(100).map { Value.string($0) }), "\(what) values \(row[0].text)")
            #expect(e.firsts.contains(row[4].text), "\(what) first \(row[0].text): \(row[4].text) not in \(e.firsts)")
            #expect(e.lasts.contains(row[5].text), "\(what) last \(row[0].text): \(row[5].text) not in \(e.lasts)")
            #expect(row[6] == .int(Int64(e.ips.count)), "\(what) dc \(row[0].text)")
        }
    }

    @Test func fromTheColumns() throws {
        let r = try query("events | stats p50(bytes), p99(bytes), values(region), first(action), last(action), dc(src_ip) by account")
        #expect(r.columns == ["account", "p50(bytes)", "p99(bytes)", "values(region)", "first(action)", "last(action)", "dc(src_ip)"])
        check(r, "columns")
    }

    @Test func fromRowsOfAnEarlierStage() throws {
        // An `eval` first: the aggregates run over rows, not block columns.
        let r = try query("events | eval b = bytes | stats p50(b), p99(b), values(region), first(action), last(action), dc(src_ip) by account")
        check(r, "rows")
    }

    @Test func percentileOfNAndOfTimes() throws {
        let exp = expected()
        let r = try query("events | stats percentile(bytes, 75) as q, p50(time) as t, count() by account")
        var times: [String: [Int64]] = [:]
        for rec in data.records { times[rec.account, default: []].append(rec.time) }
        for row in r.rows {
            #expect(row[1].text == nearestRank(exp[row[0].text]!.bytes, 0.75))
            let ts = times[row[0].text]!.sorted()
            #expect(row[2] == .time(ts[Int((0.5 * Double(ts.count)).rounded(.up)) - 1]))
        }
    }
}

/// `sequence` against a naive state machine over the raw records.
@Suite struct SequenceOracleTests {
    let data = GeneratedData.shared
    let ingested = IngestedStore.shared

    /// EQL's sequence semantics written out plainly for one key's events in time order:
    /// `steps` already expanded by runs; returns each completed sequence's record indexes.
    static func naive(_ events: [Int], steps: [(OracleRecord) -> Bool], within: Int64, records: [OracleRecord]) -> [[Int]] {
        var waiting: [Int: [Int]] = [:]  // steps matched -> the partial's records
        var done: [[Int]] = []
        for e in events {
            let r = records[e]
            var next = waiting
            for matchedSoFar in (1..<steps.count).reversed() {
                guard let p = waiting[matchedSoFar], steps[matchedSoFar](r) else { continue }
                if next[matchedSoFar] == p { next[matchedSoFar] = nil }
                if r.time - records[p[0]].time > within { continue }
                if matchedSoFar + 1 == steps.count { done.append(p + [e]) } else { next[matchedSoFar + 1] = p + [e] }
            }
            if steps[0](r) {
                if steps.count == 1 { done.append([e]) } else { next[1] = [e] }
            }
            waiting = next
        }
        return done
    }

    @Test func fiveFailedConsoleLoginsThenASuccessWithinTenMinutes() throws {
        let records = data.records
        var byKey: [String?: [Int]] = [:]
        for (i, r) in records.enumerated() where r.action == "ConsoleLogin" { byKey[r.srcIP, default: []].append(i) }
        var expected: [[String]] = []
        var ends: [(Int64, String, [String])] = []
        for (_, idx) in byKey {
            let sorted = idx.sorted { (records[$0].time, records[$0].bank) < (records[$1].time, records[$1].bank) }
            // The raw records cannot order events of one key at the same instant (the store
            // orders them by sequence number): the data must have none.
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                #expect(records[a].time != records[b].time || records[a].bank != records[b].bank, "tie at \(records[a].time)")
            }
            let failure: (OracleRecord) -> Bool = { $0.outcome == "failure" }
            let success: (OracleRecord) -> Bool = { $0.outcome == "success" }
            for s in SequenceOracleTests.naive(sorted, steps: Array(repeating: failure, count: 5) + [success], within: 600_000, records: records) {
                let last = records[s.last!]
                ends.append((last.time, last.bank, s.map { records[$0].eventID }))
            }
        }
        expected = ends.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
        #expect(!expected.isEmpty)

        let engine = QueryEngine(store: ingested.store)
        let q = #"events | where action == "ConsoleLogin" | sequence by src_ip within 10m [outcome == "failure"] with runs=5 [outcome == "success"]"#
        let r = try engine.run(try engine.prepare(q, now: Timestamp.parse("2026-11-08T00:00:00Z")!))
        #expect(r.columns == ["sequence", "src_ip", "start", "end", "events"])
        let events = try #require(r.sequenceEvents)
        let idColumn = Int(Field.eventID.columnID)
        let got = events.map { $0.map { $0[idColumn].text } }
        #expect(got == expected)
        #expect(r.rows.map { $0[0] } == (1...r.rows.count).map { .int(Int64($0)) })
        for (row, evs) in zip(r.rows, events) {
            #expect(row[2] == evs.first![Int(Field.time.columnID)] && row[3] == evs.last![Int(Field.time.columnID)])
            #expect(evs.allSatisfy { $0[Int(Field.srcIP.columnID)] == row[1] })
        }

        // Each console brute force of the generator's truth ends in one of them.
        let scenarios = data.truth.filter { $0["scenario"] as? String == "console_bruteforce" }
        #expect(!scenarios.isEmpty)
        for s in scenarios {
            let ids = Set(s["event_ids"] as! [String])
            #expect(got.contains { Set($0).isSubset(of: ids) && $0.count == 6 }, "\(s["description"] ?? "")")
        }
    }
}
