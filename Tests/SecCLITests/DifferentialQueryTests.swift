#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Random queries over `events`, run through `secq query --format json`, against a naive
/// evaluator written here. The evaluator shares no code with SecQuery: it reads the raw
/// CloudTrail records with Foundation (OracleRecord) and applies the documented semantics
/// (README and docs/query.md) in plain loops.
///
/// A fixed seed runs in CI; `SECQ_DIFF_QUERIES=2000` runs more, `SECQ_DIFF_SEED=n` another
/// sequence. A mismatch prints the query, its seed and number, and the rows that differ.
@Suite struct DifferentialQueryTests {
    static let nowText = "2026-11-08T00:00:00Z"

    @Test func randomQueriesAgreeWithANaiveEvaluator() throws {
        let env = ProcessInfo.processInfo.environment
        let count = env["SECQ_DIFF_QUERIES"].flatMap(Int.init) ?? 200
        let seed = env["SECQ_DIFF_SEED"].flatMap(UInt64.init) ?? 20261108
        let oracle = DiffOracle(GeneratedData.shared.records)
        let store = IngestedStore.shared.dir
        var gen = QueryGenerator(oracle: oracle, rng: SplitMix(seed: seed))
        var failures = 0
        let started = Date()
        for i in 0..<count {
            let q = gen.next()
            let r = try secq(["query", "--store", store, "--format", "json", "--now", Self.nowText, q.text])
            let context = "seed \(seed), query #\(i): \(q.text)"
            guard r.status == 0 else {
                Issue.record("\(context)\nsecq failed (\(r.status)): \(r.err)")
                failures += 1
                continue
            }
            let got = r.out.split(separator: "\n").map { line -> [String: Any] in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            }
            if let diff = q.check(got, oracle) {
                Issue.record("\(context)\n\(diff)")
                failures += 1
            }
            if failures >= 10 { Issue.record("stopping after 10 mismatches"); break }
        }
        print("differential: \(count) queries (seed \(seed)) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

extension DifferentialQueryTests {
    /// `seq` has no column either (a block's first plus the row): as an aggregate
    /// argument it once read as null. A bank's sequence numbers are 1...N with no gap, so
    /// min 1, max N, sum N(N+1)/2 and N distinct, N the bank's events (counted here).
    @Test func sequenceNumberAsAggregateArgument() throws {
        let perBank = Dictionary(grouping: GeneratedData.shared.records, by: \.bank).mapValues(\.count)
        let r = try secq(["query", "--store", IngestedStore.shared.dir, "--format", "json",
                          "stats min(seq) as lo, max(seq) as hi, sum(seq) as total, dc(seq) as n by bank"])
        #expect(r.status == 0, "\(r.err)")
        let rows = try ndjson(r.out)
        #expect(rows.count == perBank.count)
        for row in rows {
            let n = perBank[row["bank"] as! String]!
            #expect(row["lo"] as? Int == 1 && row["hi"] as? Int == n && row["n"] as? Int == n)
            #expect(row["total"] as? Int == n * (n + 1) / 2)
        }
    }

    /// `bank`, `account` and `source` are the same on every row of a block and have no
    /// column: as aggregate arguments they once read as null (dc 0, count 0, min null).
    @Test func blockConstantFieldsAsAggregateArguments() throws {
        let records = GeneratedData.shared.records
        var expected: [[String?]] = []
        for outcome in Set(records.map(\.outcome)) {
            let rs = records.filter { $0.outcome == outcome }
            let accounts = Set(rs.map(\.account)), banks = Set(rs.map(\.bank))
            expected.append([outcome, String(accounts.count), String(rs.count), accounts.min(), accounts.max(),
                             String(banks.count), String(rs.count)])
        }
        let r = try secq(["query", "--store", IngestedStore.shared.dir, "--format", "json",
                          "events | stats dc(account), count(account), min(account), max(account), dc(bank), count(source) by outcome"])
        #expect(r.status == 0, "\(r.err)")
        let cols = ["outcome", "dc(account)", "count(account)", "min(account)", "max(account)", "dc(bank)", "count(source)"]
        let got = r.out.split(separator: "\n").map { line in
            let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            return cols.map { DiffQuery.cell(o[$0]) }
        }
        #expect(DiffQuery.multisetDiff(expected: expected, got: got) == nil, "\(DiffQuery.multisetDiff(expected: expected, got: got) ?? "")")
    }
}

extension DifferentialQueryTests {
    /// Groups by four dictionary columns whose table sizes multiply past the dense
    /// array's bound (65,536) within one account's blocks: rows are grouped by their
    /// combined code in a hash map, then merged across blocks by dictionary id.
    @Test func manyGroupsByCombinedCode() throws {
        let records = GeneratedData.shared.records.filter { $0.principal != nil }
        let perAccount = Dictionary(grouping: records, by: \.account).values.map { rs in
            Set(rs.map(\.principal)).count * Set(rs.map(\.srcIP)).count * Set(rs.map(\.action)).count * Set(rs.map(\.outcome)).count
        }
        #expect(perAccount.max()! > 1 << 16, "the data no longer reaches the hashed path: \(perAccount.max()!)")
        var groups: [[String?]: (n: Int, first: Int64)] = [:]
        for r in records {
            let k = [r.principal, r.srcIP, r.action, r.outcome]
            let g = groups[k]
            groups[k] = (n: (g?.n ?? 0) + 1, first: min(g?.first ?? .max, r.time))
        }
        let expected = groups.map { k, g in k + [String(g.n), OV.time(g.first).rendered] }
        let r = try secq(["query", "--store", IngestedStore.shared.dir, "--format", "json",
                          "events | where exists(principal) | stats count() as n, min(time) as first by principal, src_ip, action, outcome"])
        #expect(r.status == 0, "\(r.err)")
        let cols = ["principal", "src_ip", "action", "outcome", "n", "first"]
        let got = r.out.split(separator: "\n").map { line in
            let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            return cols.map { DiffQuery.cell(o[$0]) }
        }
        #expect(got.count == expected.count)
        #expect(DiffQuery.multisetDiff(expected: expected, got: got) == nil, "\(DiffQuery.multisetDiff(expected: expected, got: got) ?? "")")
    }
}

// MARK: - The naive evaluator's values and records

/// A value as the evaluator sees it.
enum OV: Hashable {
    case text(String)
    case ip([UInt8], String) // 16 bytes (IPv4 as ::ffff:a.b.c.d) and canonical text
    case time(Int64)
    case int(Int64)

    // Used from one test at a time.
    nonisolated(unsafe) static let iso: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()

    var rendered: String {
        switch self {
        case .text(let s): return s
        case .ip(_, let s): return s
        case .time(let t):
            precondition(t % 1000 == 0, "CloudTrail times are whole seconds")
            return OV.iso.string(from: Date(timeIntervalSince1970: Double(t) / 1000))
        case .int(let i): return String(i)
        }
    }

    /// The query literal for this value.
    var literal: String {
        let s = rendered.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"" + s + "\""
    }

    static func ipBytes(_ s: String) -> [UInt8]? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, s, &v4) == 1 {
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + withUnsafeBytes(of: &v4) { Array($0) }
        }
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Sort order: missing first, then by value (text by its UTF-8 bytes).
    static func less(_ a: OV?, _ b: OV?) -> Bool {
        guard let b else { return false }
        guard let a else { return true }
        switch (a, b) {
        case (.text(let x), .text(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case (.ip(let x, _), .ip(let y, _)): return x.lexicographicallyPrecedes(y)
        case (.time(let x), .time(let y)), (.int(let x), .int(let y)): return x < y
        default: fatalError("mixed types \(a) \(b)")
        }
    }
}

/// One record's fields, from OracleRecord and its raw JSON.
struct DiffRecord {
    let eventID: String
    let time: Int64
    let fields: [String: OV]

    /// `bin:N` is `bin(time, N ms)`.
    func value(_ f: String) -> OV? {
        if f.hasPrefix("bin:"), let size = Int64(f.dropFirst(4)) {
            return .time((time >= 0 ? time / size : (time - size + 1) / size) * size)
        }
        return f == "time" ? .time(time) : f == "event_id" ? .text(eventID) : fields[f]
    }
}

struct DiffOracle {
    static let textFields = ["action", "outcome", "principal", "region", "account", "bank", "error_code", "principal_type"]
    static let allFields = textFields + ["src_ip", "time"]

    let records: [DiffRecord]
    let byID: [String: Int]
    let minTime: Int64, maxTime: Int64

    init(_ raw: [OracleRecord]) {
        records = raw.map { r in
            var f: [String: OV] = ["action": .text(r.action), "outcome": .text(r.outcome), "region": .text(r.region),
                                   "account": .text(r.account), "bank": .text(r.bank)]
            if let p = r.principal { f["principal"] = .text(p) }
            if let e = r.json["errorCode"] as? String { f["error_code"] = .text(e) }
            if let t = (r.json["userIdentity"] as? [String: Any])?["type"] as? String { f["principal_type"] = .text(t) }
            if let ip = r.srcIP, let b = OV.ipBytes(ip) { f["src_ip"] = .ip(b, ip) }
            return DiffRecord(eventID: r.eventID, time: r.time, fields: f)
        }
        byID = Dictionary(records.enumerated().map { ($0.element.eventID, $0.offset) }, uniquingKeysWith: { a, _ in a })
        minTime = records.map(\.time).min()!
        maxTime = records.map(\.time).max()!
    }
}

// MARK: - Predicates

struct Net {
    let bytes: [UInt8] // 16
    let bits: Int      // prefix length in the 128-bit space
    let v4: Bool
    let text: String

    func contains(_ ip: [UInt8]) -> Bool {
        let isV4 = ip[0..<12].elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])
        guard isV4 == v4 else { return false }
        for bit in 0..<bits where (ip[bit / 8] >> (7 - bit % 8)) & 1 != (bytes[bit / 8] >> (7 - bit % 8)) & 1 { return false }
        return true
    }

    /// The network of `ip` with a prefix of `prefix` bits (of 32 for IPv4, of 128 for IPv6).
    init(ip: [UInt8], prefix: Int) {
        let isV4 = ip[0..<12].elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])
        v4 = isV4
        bits = isV4 ? 96 + prefix : prefix
        var b = ip
        for bit in bits..<128 { b[bit / 8] &= ~(UInt8(1) << UInt8(7 - bit % 8)) }
        bytes = b
        var buf = [CChar](repeating: 0, count: 64)
        if isV4 {
            text = "\(b[12]).\(b[13]).\(b[14]).\(b[15])/\(prefix)"
        } else {
            var a = in6_addr()
            withUnsafeMutableBytes(of: &a) { for i in 0..<16 { $0[i] = b[i] } }
            text = String(cString: inet_ntop(AF_INET6, &a, &buf, 64)) + "/\(prefix)"
        }
    }
}

indirect enum Pred {
    /// `spelled`: the literal as written when it is not the value's canonical text.
    case cmp(String, String, OV, spelled: String? = nil)
    case inList(String, [OV], negated: Bool)
    case cidr([Net], negated: Bool)
    case text(String, String, String)
    case exists(String)
    case and(Pred, Pred)
    case or(Pred, Pred)
    case not(Pred)

    var text: String {
        switch self {
        case .cmp(let f, let op, let v, let spelled): return "\(f) \(op) \(spelled.map { "\"\($0)\"" } ?? v.literal)"
        case .inList(let f, let vs, let neg): return "\(f) \(neg ? "not in" : "in") (\(vs.map(\.literal).joined(separator: ", ")))"
        case .cidr(let nets, let neg):
            return "src_ip \(neg ? "not in" : "in") cidr(\(nets.map { "\"\($0.text)\"" }.joined(separator: ", ")))"
        case .text(let f, let op, let needle): return "\(f) \(op) \(OV.text(needle).literal)"
        case .exists(let f): return "exists(\(f))"
        case .and(let a, let b): return "(\(a.text) and \(b.text))"
        case .or(let a, let b): return "(\(a.text) or \(b.text))"
        case .not(let a): return "not (\(a.text))"
        }
    }

    /// The documented semantics: a comparison with a missing value is false except `!=`
    /// and `not in`; `in cidr` and `not in cidr` are false for a missing address; the text
    /// operators and `=~` ignore case.
    func eval(_ r: DiffRecord) -> Bool {
        switch self {
        case .cmp(let f, let op, let lit, _):
            guard let v = r.value(f) else { return op == "!=" }
            switch op {
            case "==": return v == lit
            case "!=": return v != lit
            case "<": return OV.less(v, lit)
            case ">": return OV.less(lit, v)
            case "<=": return !OV.less(lit, v)
            case ">=": return !OV.less(v, lit)
            case "=~": return v.rendered.caseInsensitiveCompare(lit.rendered) == .orderedSame
            default: fatalError(op)
            }
        case .inList(let f, let vs, let neg):
            guard let v = r.value(f) else { return neg }
            return vs.contains(v) != neg
        case .cidr(let nets, let neg):
            guard case .ip(let b, _)? = r.value("src_ip") else { return false }
            return nets.contains { $0.contains(b) } != neg
        case .text(let f, let op, let needle):
            guard let v = r.value(f)?.rendered else { return false }
            switch op {
            case "contains": return v.range(of: needle, options: .caseInsensitive) != nil
            case "startswith": return v.range(of: needle, options: [.caseInsensitive, .anchored]) != nil
            case "endswith": return v.range(of: needle, options: [.caseInsensitive, .anchored, .backwards]) != nil
            default: fatalError(op)
            }
        case .exists(let f): return r.value(f) != nil
        case .and(let a, let b): return a.eval(r) && b.eval(r)
        case .or(let a, let b): return a.eval(r) || b.eval(r)
        case .not(let a): return !a.eval(r)
        }
    }
}

// MARK: - Queries and their expected answers

/// A generated query: its text, which records it selects, and what its tail does.
struct DiffQuery {
    enum Tail {
        case rows(String)                                    // fields event_id, f
        case stats(keys: [String], dc: String?, countOf: Bool, minMax: Bool)
        case sorted(fields: [String], keys: [(String, Bool)], head: Int?)
        case top(Int, String)
        case dedup(String)
    }

    var text: String
    var from: Int64?, to: Int64?
    var pred: Pred?
    var tail: Tail

    func selected(_ o: DiffOracle) -> [DiffRecord] {
        o.records.filter { r in
            if let from, r.time < from { return false }
            if let to, r.time > to { return false }
            return pred?.eval(r) ?? true
        }
    }

    typealias Row = [String?]

    static func cell(_ v: Any?) -> String? {
        switch v {
        case nil, is NSNull: return nil
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return "\(v!)"
        }
    }

    static func show(_ r: Row) -> String { "[" + r.map { $0.map { "\"\($0)\"" } ?? "null" }.joined(separator: ", ") + "]" }

    static func multiset(_ rows: [Row]) -> [[String?]: Int] {
        var m: [[String?]: Int] = [:]
        for r in rows { m[r, default: 0] += 1 }
        return m
    }

    /// The rows of `a` not in `b` (as multisets), at most 5, shown.
    static func minus(_ a: [Row], _ b: [Row]) -> [String] {
        var mb = multiset(b)
        var out: [String] = []
        for r in a {
            if let n = mb[r], n > 0 { mb[r] = n - 1 } else { out.append(show(r)) }
        }
        return out
    }

    static func multisetDiff(expected: [Row], got: [Row]) -> String? {
        let missing = minus(expected, got), extra = minus(got, expected)
        if missing.isEmpty && extra.isEmpty { return nil }
        return "expected \(expected.count) rows, got \(got.count)\n"
            + "  missing (expected, not returned): \(missing.count)\n" + missing.prefix(5).map { "    " + $0 }.joined(separator: "\n")
            + "\n  unexpected (returned, not expected): \(extra.count)\n" + extra.prefix(5).map { "    " + $0 }.joined(separator: "\n")
    }

    static func orderedDiff(expected: [Row], got: [Row], what: String) -> String? {
        if expected == got { return nil }
        let i = (0..<min(expected.count, got.count)).first { expected[$0] != got[$0] } ?? min(expected.count, got.count)
        return "\(what): expected \(expected.count) rows, got \(got.count); first difference at row \(i): expected "
            + (i < expected.count ? show(expected[i]) : "none") + ", got " + (i < got.count ? show(got[i]) : "none")
    }

    /// nil when secq's rows match the evaluator's, else a short description of the difference.
    func check(_ json: [[String: Any]], _ o: DiffOracle) -> String? {
        let sel = selected(o)
        func project(_ cols: [String]) -> [Row] { json.map { obj in cols.map { DiffQuery.cell(obj[$0]) } } }
        switch tail {
        case .rows(let f):
            return DiffQuery.multisetDiff(expected: sel.map { [$0.eventID, $0.value(f)?.rendered] }, got: project(["event_id", f]))

        case .stats(let keys, let dc, let countOf, let minMax):
            var groups: [[OV?]: (n: Int, set: Int, distinct: Set<OV>, lo: Int64, hi: Int64)] = [:]
            for r in sel {
                let k = keys.map { r.value($0) }
                var g = groups[k] ?? (0, 0, [], .max, .min)
                g.n += 1
                if let dc, let v = r.value(dc) { g.distinct.insert(v); g.set += 1 }
                g.lo = min(g.lo, r.time); g.hi = max(g.hi, r.time)
                groups[k] = g
            }
            if keys.isEmpty && groups.isEmpty { groups[[]] = (0, 0, [], .max, .min) }
            var cols = keys.map { $0.hasPrefix("bin:") ? "time" : $0 } + ["count()"]
            if let dc { cols.append("dc(\(dc))"); if countOf { cols.append("count(\(dc))") } }
            if minMax { cols += ["min(time)", "max(time)"] }
            let expected: [Row] = groups.map { k, g in
                var row: Row = k.map { $0?.rendered } + [String(g.n)]
                if dc != nil { row.append(String(g.distinct.count)); if countOf { row.append(String(g.set)) } }
                if minMax { row += g.n == 0 ? [nil, nil] : [OV.time(g.lo).rendered, OV.time(g.hi).rendered] }
                return row
            }
            return DiffQuery.multisetDiff(expected: expected, got: project(cols))

        case .sorted(let fields, let keys, let head):
            let all: [[OV?]] = sel.map { r in fields.map { r.value($0) } }
            let idx = keys.map { k in fields.firstIndex(of: k.0)! }
            let sorted = all.sorted { a, b in
                for (i, (_, desc)) in zip(idx, keys) {
                    if a[i] == b[i] { continue }
                    return desc ? OV.less(b[i], a[i]) : OV.less(a[i], b[i])
                }
                return false
            }
            let render: ([OV?]) -> Row = { $0.map { $0?.rendered } }
            let expected = sorted.prefix(head ?? Int.max).map(render)
            let got = project(fields)
            // Sort keys covering every column are a total order on the rows: compare in order.
            if Set(keys.map(\.0)) == Set(fields) { return DiffQuery.orderedDiff(expected: expected, got: got, what: "ordered rows") }
            // Otherwise ties may come in any order: the key columns in order, and the rows
            // as a multiset (within all the selected rows when `head` cuts a tie).
            let keyCols: (Row) -> Row = { r in idx.map { r[$0] } }
            if let d = DiffQuery.orderedDiff(expected: expected.map(keyCols), got: got.map(keyCols), what: "sort keys") { return d }
            if head == nil { return DiffQuery.multisetDiff(expected: expected, got: got) }
            let extra = DiffQuery.minus(got, sorted.map(render))
            return extra.isEmpty ? nil : "rows not among the selected ones: " + extra.prefix(5).joined(separator: ", ")

        case .top(let n, let f):
            var counts: [OV?: Int] = [:]
            for r in sel { counts[r.value(f), default: 0] += 1 }
            let byRendered = Dictionary(counts.map { ($0.key?.rendered, $0.value) }, uniquingKeysWith: +)
            let got = project([f, "count"])
            let wantCounts = counts.values.sorted(by: >).prefix(n).map { String($0) }
            if got.map({ $0[1] }) != wantCounts.map(Optional.some) {
                return "top counts: expected \(wantCounts), got \(got.map { $0[1] ?? "null" })"
            }
            for row in got where byRendered[row[0]].map(String.init) != row[1] {
                return "top row \(DiffQuery.show(row)): \(f) has \(byRendered[row[0]].map(String.init) ?? "no") rows"
            }
            if Set(got.map { $0[0] }).count != got.count { return "top repeats a value" }
            return nil

        case .dedup(let f):
            // The first row of each distinct value: which row is first depends on scan order,
            // so check the set of values and that each row is a selected one with that value.
            let want = Set(sel.map { $0.value(f)?.rendered })
            let got = project(["event_id", f])
            let keys = got.map { $0[1] }
            if Set(keys).count != keys.count { return "dedup repeats a value: \(keys)" }
            if Set(keys) != want {
                return "dedup values: missing \(want.subtracting(keys).prefix(5).map { $0 ?? "null" }), "
                    + "unexpected \(Set(keys).subtracting(want).prefix(5).map { $0 ?? "null" })"
            }
            let selIDs = Set(sel.map(\.eventID))
            for row in got {
                guard let id = row[0], selIDs.contains(id), let i = o.byID[id], o.records[i].value(f)?.rendered == row[1] else {
                    return "dedup row \(DiffQuery.show(row)) is not a selected event with that value"
                }
            }
            return nil
        }
    }
}

/// Random queries over the values the data holds.
struct QueryGenerator {
    let oracle: DiffOracle
    var rng: SplitMix

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }

    /// A value of `f` that some record holds (or, now and then, one that none does).
    mutating func value(_ f: String) -> OV {
        if chance(8) {
            switch f {
            case "src_ip": return .ip(OV.ipBytes("192.0.2.77")!, "192.0.2.77")
            case "time": return .time(oracle.minTime - 3_600_000)
            default: return .text("no-such-\(f)")
            }
        }
        for _ in 0..<20 {
            if let v = oracle.records[int(oracle.records.count)].value(f) { return v }
        }
        return .text("no-such-\(f)")
    }

    mutating func flipCase(_ s: String) -> String {
        String(s.map { chance(50) ? Character($0.uppercased()) : Character($0.lowercased()) })
    }

    mutating func leaf() -> Pred {
        switch int(11) {
        case 0, 1, 2:
            let f = pick(DiffOracle.allFields)
            let v = value(f)
            // An IPv6 literal in capitals or written out in full names the same address.
            if case .ip(let b, let t) = v, t.contains(":"), chance(50) {
                let full = stride(from: 0, to: 16, by: 2).map { String(format: "%02X%02X", b[$0], b[$0 + 1]) }.joined(separator: ":")
                return .cmp(f, chance(65) ? "==" : "!=", v, spelled: chance(50) ? t.uppercased() : full)
            }
            return .cmp(f, chance(65) ? "==" : "!=", v)
        case 3:
            let f = pick(DiffOracle.allFields)
            return .cmp(f, pick(["<", ">", "<=", ">="]), value(f))
        case 4:
            let f = pick(DiffOracle.textFields)
            guard case .text(let s) = value(f) else { return .exists(f) }
            return .cmp(f, "=~", .text(flipCase(s)))
        case 5, 6:
            let f = pick(DiffOracle.textFields + ["src_ip"])
            return .inList(f, (0..<(1 + int(4))).map { _ in value(f) }, negated: chance(35))
        case 7:
            var nets: [Net] = []
            if chance(25) {
                nets = [("10.0.0.0", 8), ("172.16.0.0", 12), ("192.168.0.0", 16)].map { Net(ip: OV.ipBytes($0.0)!, prefix: $0.1) }
            } else {
                // Networks around the data's addresses, and now and then ::/0 (every IPv6
                // address and no IPv4 one, though secq holds IPv4 as ::ffff:a.b.c.d).
                if chance(15) { nets.append(Net(ip: OV.ipBytes("::")!, prefix: 0)) }
                for _ in 0..<(1 + int(2)) {
                    guard case .ip(let b, let t) = value("src_ip") else { continue }
                    nets.append(Net(ip: b, prefix: t.contains(":") ? pick([32, 48, 64, 128]) : pick([8, 16, 24, 32])))
                }
                if nets.isEmpty { nets = [Net(ip: OV.ipBytes("10.0.0.0")!, prefix: 8)] }
            }
            return .cidr(nets, negated: chance(35))
        case 8, 9:
            let f = pick(DiffOracle.textFields)
            guard case .text(let s) = value(f), !s.isEmpty else { return .exists(f) }
            let chars = Array(s)
            let op = pick(["contains", "startswith", "endswith"])
            let n = 1 + int(min(chars.count, 12))
            let start = op == "startswith" ? 0 : op == "endswith" ? chars.count - n : int(chars.count - n + 1)
            return .text(f, op, flipCase(String(chars[start..<(start + n)])))
        default:
            return .exists(pick(["principal", "src_ip", "error_code", "principal_type"]))
        }
    }

    mutating func pred(_ depth: Int) -> Pred {
        guard depth > 0, chance(45) else { return leaf() }
        switch int(5) {
        case 0, 1: return .and(pred(depth - 1), pred(depth - 1))
        case 2, 3: return .or(pred(depth - 1), pred(depth - 1))
        default: return .not(pred(depth - 1))
        }
    }

    mutating func next() -> DiffQuery {
        var stages: [String] = []
        var from: Int64?, to: Int64?
        let now = Int64(OV.iso.date(from: DifferentialQueryTests.nowText)!.timeIntervalSince1970 * 1000)
        switch int(4) {
        case 0:
            let hours = 1 + int(24 * 8)
            stages.append("since \(hours)h")
            from = now - Int64(hours) * 3_600_000
        case 1:
            // Bounds at record times now and then, to check both ends are inclusive.
            func t(_ g: inout QueryGenerator) -> Int64 {
                g.chance(50) ? g.oracle.records[g.int(g.oracle.records.count)].time
                    : g.oracle.minTime + Int64(g.int(Int(g.oracle.maxTime - g.oracle.minTime) / 1000)) * 1000
            }
            var a = t(&self), b = t(&self)
            if a > b { swap(&a, &b) }
            stages.append("between \(OV.time(a).rendered) and \(OV.time(b).rendered)")
            from = a; to = b
        default: break
        }
        var pred: Pred?
        if chance(85) {
            let p = self.pred(3)
            pred = p
            // Split a conjunction into two `where` stages now and then.
            if case .and(let a, let b) = p, chance(50) {
                stages += ["where \(a.text)", "where \(b.text)"]
            } else {
                stages.append("where \(p.text)")
            }
            if chance(30) { stages.reverse() } // the time stage after the where
        }
        let tail: DiffQuery.Tail
        let fields = DiffOracle.allFields
        switch int(5) {
        case 0:
            let f = pick(fields)
            tail = .rows(f)
            stages.append("fields event_id, \(f)")
        case 1:
            var keys: [String] = []
            let nKeys = chance(10) ? 0 : chance(60) ? 1 : 2
            while keys.count < nKeys { let k = pick(DiffOracle.textFields + ["src_ip"]); if !keys.contains(k) { keys.append(k) } }
            // A time bin as one key now and then (10 minutes, an hour or a day).
            let bins: [(String, Int64)] = [("10m", 600_000), ("1h", 3_600_000), ("1d", 86_400_000)]
            var keyText = keys
            if !keys.isEmpty, chance(30) {
                let (d, ms) = pick(bins)
                let i = int(keys.count)
                keys[i] = "bin:\(ms)"
                keyText[i] = "bin(time, \(d))"
            }
            let dc = chance(50) ? pick(DiffOracle.textFields + ["src_ip"]) : nil
            let minMax = chance(50), countOf = chance(50)
            tail = .stats(keys: keys, dc: dc, countOf: countOf, minMax: minMax)
            var aggs = ["count()"]
            if let dc { aggs.append("dc(\(dc))"); if countOf { aggs.append("count(\(dc))") } }
            if minMax { aggs += ["min(time)", "max(time)"] }
            stages.append("stats " + aggs.joined(separator: ", ") + (keys.isEmpty ? "" : " by " + keyText.joined(separator: ", ")))
        case 2:
            let a = pick(fields)
            var b = pick(fields)
            while b == a { b = pick(fields) }
            var keys = [(a, chance(40))]
            if chance(60) { keys.append((b, chance(40))) }
            let head = chance(75) ? 1 + int(30) : nil
            tail = .sorted(fields: [a, b], keys: keys, head: head)
            stages.append("fields \(a), \(b)")
            stages.append("sort " + keys.map { $0.0 + ($0.1 ? " desc" : pick(["", " asc"])) }.joined(separator: ", "))
            if let head { stages.append("head \(head)") }
        case 3:
            let n = 1 + int(10), f = pick(DiffOracle.textFields + ["src_ip"])
            tail = .top(n, f)
            stages.append("top \(n) \(f)")
        default:
            let f = pick(DiffOracle.textFields + ["src_ip"])
            tail = .dedup(f)
            stages += ["dedup \(f)", "fields event_id, \(f)"]
        }
        return DiffQuery(text: (["events"] + stages).joined(separator: " | "), from: from, to: to, pred: pred, tail: tail)
    }
}
