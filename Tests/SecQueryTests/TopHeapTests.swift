import Foundation
import SecModel
import Testing
@testable import SecQuery

/// `sort ... | head N` by a bounded heap against a plain Swift sort of the same rows.
@Suite struct TopHeapTests {
    /// A deterministic generator (splitmix64).
    struct Mix {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
    }

    /// Rows of (int or null, string or null, row number); few distinct values, so many ties.
    static func rows(_ count: Int, _ mix: inout Mix) -> [(Int?, String?, Int)] {
        (0..<count).map { i in
            (mix.next(5) == 0 ? nil : mix.next(6) - 2, mix.next(4) == 0 ? nil : ["a", "b", "c"][mix.next(3)], i)
        }
    }

    /// The oracle: nulls before everything ascending (after descending), ties in input order.
    static func oracle(_ rows: [(Int?, String?, Int)], keys: [(column: Int, descending: Bool)], limit: Int) -> [Int] {
        func less<T: Comparable>(_ x: T?, _ y: T?) -> Bool {
            switch (x, y) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let a?, let b?): return a < b
            }
        }
        let sorted = rows.sorted { a, b in
            for k in keys {
                let (lt, gt) = k.column == 0 ? (less(a.0, b.0), less(b.0, a.0)) : (less(a.1, b.1), less(b.1, a.1))
                if !lt && !gt { continue }
                return k.descending ? gt : lt
            }
            return a.2 < b.2
        }
        return Array(sorted.prefix(limit)).map(\.2)
    }

    static func values(_ rows: [(Int?, String?, Int)]) -> [[Value]] {
        rows.map { [$0.0.map { .int(Int64($0)) } ?? .null, $0.1.map(Value.string) ?? .null, .int(Int64($0.2))] }
    }

    @Test func heapMatchesFullSortOnRandomRows() throws {
        var mix = Mix(state: 42)
        for trial in 0..<300 {
            let n = mix.next(60)
            let input = Self.rows(n, &mix)
            var keys: [(column: Int, descending: Bool)] = [(mix.next(2), mix.next(2) == 1)]
            if mix.next(2) == 1 { keys.append((1 - keys[0].column, mix.next(2) == 1)) }
            let limit = [0, 1, 3, 10, 100][mix.next(5)]
            let sortKeys = keys.map { BoundStage.SortKey(expr: .slot($0.column, "c\($0.column)"), descending: $0.descending) }
            let want = Self.oracle(input, keys: keys, limit: limit)

            let heap = RowPipeline.topRows(Self.values(input), keys: sortKeys, limit: limit)
            #expect(heap.map { $0[2] } == want.map { .int(Int64($0)) }, "trial \(trial) keys \(keys) head \(limit)")

            // Through the pipeline: the sort-then-head pair runs as one heap stage and
            // answers what the full sort followed by head answers.
            var notes: [String] = []
            var context = RowPipeline.Context()
            let piped = try RowPipeline.run([.sort(sortKeys), .head(limit)], rows: Self.values(input), width: 3,
                                            notes: &notes, context: &context)
            let full = try RowPipeline.run([.sort(sortKeys)], rows: Self.values(input), width: 3)
            #expect(piped == Array(full.prefix(limit)))
            #expect(context.profile.count == 1 && context.profile[0].name.contains("heap of \(limit)"))
            #expect(context.profile.first?.rowsIn == n && context.profile.first?.rowsOut == min(n, limit))
        }
    }

    @Test func groupLimitStopsAStatsInThePipeline() throws {
        let rows: [[Value]] = (0..<10).map { [.int(Int64($0 % 4))] }
        let aggs = try Self.countAggregate()
        let stats = BoundStage.stats(keys: [NamedExpr(name: "k", expr: .slot(0, "k"))], aggregates: try #require(aggs))
        var notes: [String] = []
        var context = RowPipeline.Context(groupLimit: 4, stageOffset: 2)
        #expect(try RowPipeline.run([stats], rows: rows, width: 1, notes: &notes, context: &context).count == 4)
        context.groupLimit = 3
        #expect {
            try RowPipeline.run([.head(100), stats], rows: rows, width: 1, notes: &notes, context: &context)
        } throws: { e in
            guard let e = e as? GroupLimitExceeded else { return false }
            return e.limit == 3 && e.stage == 3
        }
    }

    /// `count()` as the binder binds it.
    static func countAggregate() throws -> [BoundAggregate]? {
        let bound = try Binder(now: 0).bind(try Parser.parse("stats count() by action"))
        guard case .stats(_, let aggs)? = bound.stages.first else { return nil }
        return aggs
    }
}
