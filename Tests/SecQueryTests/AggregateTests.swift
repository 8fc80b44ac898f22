import Foundation
import SecModel
import Testing
@testable import SecQuery

/// A small deterministic random number generator for test inputs.
private struct Mix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &+ 0x9E3779B97F4A7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

/// The sketches against exact answers on random data, whole and merged.
@Suite struct SketchTests {
    /// Values below and at most `x` in sorted `xs`.
    func ranks(_ xs: [Double], _ x: Double) -> (below: Int, atMost: Int) {
        var lo = 0, hi = xs.count
        while lo < hi { let m = (lo + hi) / 2; if xs[m] < x { lo = m + 1 } else { hi = m } }
        var lo2 = lo, hi2 = xs.count
        while lo2 < hi2 { let m = (lo2 + hi2) / 2; if xs[m] <= x { lo2 = m + 1 } else { hi2 = m } }
        return (lo, lo2)
    }

    /// Checks that `got` is within the documented rank error of the nearest-rank answer.
    func expectWithinBound(_ got: Double?, p: Double, sorted xs: [Double], _ what: String) {
        guard let got else { Issue.record("no answer: \(what)"); return }
        let n = xs.count
        let target = max(1, Int((p * Double(n)).rounded(.up)))
        let bound = QuantileSketch.rankErrorBound(Int64(n))
        let r = ranks(xs, got)
        // Some copy of `got` has rank in (below, atMost]: within the bound of the target.
        #expect(Double(r.below + 1) <= Double(target) + bound && Double(r.atMost) >= Double(target) - bound,
                "\(what): p\(p) rank \(r.below + 1)...\(r.atMost), exact \(target), bound \(bound)")
        // The documented figure: under 1% of n up to a billion values.
        #expect(bound / Double(n) < 0.01)
    }

    @Test(arguments: [0, 1, 2])
    func quantileSketchWholeAndMerged(seed: Int) {
        var rng = Mix(UInt64(seed))
        let n = 300_000
        // Skewed, with many repeats: log-normal-ish sizes.
        let xs: [Double] = (0..<n).map { i in
            let u = Double(rng.next() % 1_000_000) / 1_000_000
            return seed == 2 ? Double(i) : (exp(u * 12)).rounded()
        }
        var whole = QuantileSketch()
        for x in xs { whole.add(x) }
        #expect(whole.count == Int64(n))
        // Merged from uneven parts, in a tree, as blocks, units and banks are.
        var parts: [QuantileSketch] = []
        var i = 0
        while i < n {
            let len = Int(rng.next() % 20_000) + 1
            var s = QuantileSketch()
            for x in xs[i..<min(i + len, n)] { s.add(x) }
            parts.append(s)
            i += len
        }
        while parts.count > 1 {
            var next: [QuantileSketch] = []
            for j in stride(from: 0, to: parts.count, by: 2) {
                var a = parts[j]
                if j + 1 < parts.count { a.merge(parts[j + 1]) }
                next.append(a)
            }
            parts = next
        }
        let merged = parts[0]
        #expect(merged.count == Int64(n))
        let sorted = xs.sorted()
        for p in [0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0] {
            expectWithinBound(whole.quantile(p), p: p, sorted: sorted, "whole seed \(seed)")
            expectWithinBound(merged.quantile(p), p: p, sorted: sorted, "merged seed \(seed)")
        }
        #expect(whole.quantile(1.0) == sorted.last)
        #expect(whole.quantile(0.0) == sorted.first)
    }

    @Test func hyperLogLogWholeAndMerged() {
        var rng = Mix(99)
        for n in [1_000, 50_000, 250_000] {
            var whole = HyperLogLog()
            var parts = [HyperLogLog](repeating: HyperLogLog(), count: 7)
            var exact = Set<String>()
            for _ in 0..<(n * 2) {
                let v = Value.string("10.\(rng.next() % UInt64(n))")
                whole.add(v)
                parts[Int(rng.next() % 7)].add(v)
                exact.insert(v.text)
            }
            var merged = HyperLogLog()
            for p in parts { merged.merge(p) }
            #expect(merged == whole, "merging registers equals adding every value to one")
            let err = abs(Double(whole.estimate) - Double(exact.count)) / Double(exact.count)
            // 3 standard errors of 0.8%.
            #expect(err < 0.025, "n \(exact.count) estimate \(whole.estimate)")
        }
    }

    func agg(_ kind: BoundAggregate.Kind, percent: Double = 0) -> BoundAggregate {
        BoundAggregate(kind: kind, argument: .field(.bytes), name: "\(kind)", percent: percent)
    }

    @Test func distinctCountIsExactUpToItsBoundThenEstimated() {
        var a = Accumulator(), b = Accumulator()
        for i in 0..<Accumulator.exactDistinct { a.add(.dc, .int(Int64(i))) }
        #expect(!a.estimated)
        #expect(a.result(agg(.dc)) == .int(Int64(Accumulator.exactDistinct)))
        // Half overlapping: the union passes the bound, so the merge estimates.
        for i in (Accumulator.exactDistinct / 2)..<(Accumulator.exactDistinct * 3 / 2) { b.add(.dc, .int(Int64(i))) }
        #expect(!b.estimated)
        var whole = a
        whole.merge(b)
        #expect(whole.estimated)
        guard case .int(let n) = whole.result(agg(.dc)) else { Issue.record("not a count"); return }
        let exact = Double(Accumulator.exactDistinct * 3 / 2)
        #expect(abs(Double(n) - exact) / exact < 0.025)
        var table = GroupTable()
        table.groups[[.string("g")]] = [whole]
        #expect(table.notes(aggregates: [agg(.dc)]) == ["dc estimated (HyperLogLog, standard error 0.8%)"])
    }

    @Test func percentilesAreExactUpToTheirBound() {
        var rng = Mix(5)
        var parts = [Accumulator](repeating: Accumulator(), count: 3)
        var all: [Int64] = []
        for _ in 0..<(Accumulator.exactSamples - 1) {
            let x = Int64(rng.next() % 5000)
            all.append(x)
            parts[Int(rng.next() % 3)].add(.p99, .int(x))
        }
        var acc = parts[0]
        acc.merge(parts[1]); acc.merge(parts[2])
        #expect(!acc.estimated)
        all.sort()
        for p in [50.0, 90, 95, 99, 100, 1, 0] {
            let rank = max(1, Int((p / 100 * Double(all.count)).rounded(.up)))
            #expect(acc.result(agg(.percentile, percent: p)) == .int(all[rank - 1]), "p\(p)")
        }
        // Past the bound: the sketch answers, and says so.
        acc.add(.p50, .int(7)); acc.add(.p50, .int(7))
        #expect(acc.estimated)
        #expect(acc.samples == nil && acc.sketch?.count == Int64(Accumulator.exactSamples + 1))
        #expect(Accumulator().result(agg(.p50)) == .null)
        var t = Accumulator()
        t.add(.p50, .time(1_000)); t.add(.p50, .time(3_000)); t.add(.p50, .time(2_000))
        #expect(t.result(agg(.p50, percent: 50)) == .time(2_000))
    }

    @Test func valuesKeepTheFirstHundredInOrderAcrossMerges() {
        var rng = Mix(11)
        var parts = [Accumulator](repeating: Accumulator(), count: 5)
        var exact = Set<String>()
        for _ in 0..<5_000 {
            let s = "v\(rng.next() % 900)"
            exact.insert(s)
            parts[Int(rng.next() % 5)].add(.values, .string(s))
        }
        var acc = Accumulator()
        for p in parts { acc.merge(p) }
        let expected = exact.sorted().prefix(Accumulator.valuesLimit).map { Value.string($0) }
        #expect(acc.result(agg(.values)) == .list(Array(expected)))
        #expect(!acc.estimated)
    }

    @Test func firstAndLastByTimeThenSequenceAcrossMerges() {
        var rng = Mix(3)
        var rows: [(t: Int64, seq: Int64, v: String)] = []
        for i in 0..<2_000 { rows.append((Int64(rng.next() % 50), Int64(i), "a\(rng.next() % 1000)")) }
        var parts = [Accumulator](repeating: Accumulator(), count: 4)
        var lasts = [Accumulator](repeating: Accumulator(), count: 4)
        for r in rows.shuffled() {
            let k = Int(rng.next() % 4)
            parts[k].add(.first, .string(r.v), time: r.t, seq: r.seq)
            lasts[k].add(.last, .string(r.v), time: r.t, seq: r.seq)
        }
        var first = Accumulator(), last = Accumulator()
        for p in parts.reversed() { first.merge(p) }
        for p in lasts { last.merge(p) }
        let byOrder = rows.sorted { ($0.t, $0.seq) < ($1.t, $1.seq) }
        #expect(first.result(agg(.first)) == .string(byOrder.first!.v))
        #expect(last.result(agg(.last)) == .string(byOrder.last!.v))
    }
}

/// Aggregates of the wrong type are refused before anything runs, with the place.
@Suite struct AggregateBindingTests {
    @Test func percentilesAndSumsOfTextOrAddressesAreRefused() {
        #expect(bindError("events | stats p99(region) by account") == """
            error: 'p99' needs numbers or times, but 'region' is text
             --> query:1:20
              |
            1 | events | stats p99(region) by account
              |                    ^^^^^^
            """)
        #expect(bindError("events | stats sum(src_ip)").contains("'sum' needs numbers, but 'src_ip' is an address"))
        #expect(bindError("events | stats avg(principal)").contains("'avg' needs numbers, but 'principal' is text"))
        #expect(bindError("events | stats percentile(src_ip, 50)").contains("'percentile' needs numbers or times, but 'src_ip' is an address"))
        #expect(bindError("events | stats percentile(bytes, 150)").contains("'percentile' takes a number from 0 to 100"))
        #expect(bindError("events | stats percentile(bytes)").contains("'percentile' takes a field and a percentile"))
        #expect(bindError("events | stats p50(bytes), p90(time), values(region), first(action), last(src_ip), percentile(bytes, 99.9)") == "bound")
        #expect(bindError("events | fields action | stats first(action)").contains("'first' orders rows by their event time"))
        #expect(bindError("events | stats p42(bytes)").contains("unknown aggregate 'p42'"))
    }
}
