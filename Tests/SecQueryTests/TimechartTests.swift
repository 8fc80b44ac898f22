import SecModel
import Testing
@testable import SecQuery

/// `timechart`: parsing, binding, its errors, and the pivot on rows made by hand.
@Suite struct TimechartTests {
    let now = Timestamp.parse("2026-11-08T00:00:00Z")!

    func bind(_ q: String) throws -> BoundQuery { try Binder(now: now).bind(try Parser.parse(q)) }


    @Test func bindsToStatsByBinThenThePivot() throws {
        let b = try bind("events | timechart span=1h count() by outcome")
        #expect(b.dump() == """
            table events
            scan slots time, outcome
            stats count() as count(), count() as (rows) by time=bin($0:time, 3600000), outcome=$9:outcome
            timechart span=1h count() by series
            output time
            """)
        let plain = try bind("events | timechart span=5m count() as n, sum(bytes) | where n > 3")
        #expect(plain.columns == ["time", "n", "sum(bytes)"])
        guard case .timechart(let t) = plain.stages[1] else { Issue.record("no pivot"); return }
        #expect(t.span == 300_000 && !t.split && t.aggregates.map(\.name) == ["n", "sum(bytes)"])
        // The leading stats is the one the scan's fast path aggregates.
        #expect(FastStats(query: plain) != nil)
    }

    @Test func errors() {
        #expect(bindError("events | timechart count()") == """
            error: 'timechart' needs a bucket size
             --> query:1:10
              |
            1 | events | timechart count()
              |          ^^^^^^^^^ write it like 'timechart span=1h count()'
            """)
        #expect(bindError("events | timechart span=500ms count()") == """
            error: timechart span '500ms' is shorter than 1s
             --> query:1:25
              |
            1 | events | timechart span=500ms count()
              |                         ^^^^^ use a span of at least 1s, like span=1s
            """)
        #expect(bindError("events | timechart span=5 count()") == """
            error: duration '5' has no unit
             --> query:1:25
              |
            1 | events | timechart span=5 count()
              |                         ^ add a unit, like '5h' (ms, s, m, h, d, w, y)
            """)
        #expect(bindError(#"events | timechart span="1h" count()"#).hasPrefix("error: expected a duration after 'span=', like 1h")
                || bindError(#"events | timechart span="1h" count()"#).hasPrefix("error: expected a duration"))
        #expect(bindError("events | timechart span=1h cuont()") == """
            error: unknown aggregate 'cuont'
             --> query:1:28
              |
            1 | events | timechart span=1h cuont()
              |                            ^^^^^ did you mean 'count'?
            """)
        #expect(bindError("events | timechart span=1h sum(action)").hasPrefix("error: 'sum' needs numbers, but 'action' is text"))
        #expect(bindError("events | timechart span=1h count() by outcome, action") == """
            error: 'timechart' splits by one field
             --> query:1:48
              |
            1 | events | timechart span=1h count() by outcome, action
              |                                                ^^^^^^ combine them first, for example 'eval k = concat(a, b)'
            """)
        #expect(bindError("events | timechart span=1h count() by outcome | head 3") == """
            error: 'timechart ... by' must be the last stage
             --> query:1:49
              |
            1 | events | timechart span=1h count() by outcome | head 3
              |                                                 ^^^^ its columns are the series values; drop 'by' to add stages after it
            """)
        #expect(bindError("events | stats count() by action | timechart span=1h count()") == """
            error: 'timechart' needs a 'time' column
             --> query:1:36
              |
            1 | events | stats count() by action | timechart span=1h count()
              |                                    ^^^^^^^^^ keep 'time' in the stages before it
            """)
    }

    // MARK: - The pivot

    let hour: Int64 = 3_600_000
    func agg(_ k: BoundAggregate.Kind, _ name: String) -> BoundAggregate { BoundAggregate(kind: k, argument: k == .count ? nil : .field(.bytes), name: name) }

    @Test func fillsEmptyBucketsWithoutSeries() throws {
        let t = TimechartPivot(span: hour, split: false, aggregates: [agg(.count, "n"), agg(.sum, "s")], range: .point(0))
        // Rows as the stats makes them: time, aggregates, row count (sorted by time).
        let rows: [[Value]] = [[.time(2 * hour), .int(3), .int(30), .int(3)], [.time(5 * hour), .int(1), .null, .int(1)]]
        let (cols, out) = try t.pivot(rows)
        #expect(cols == ["time", "n", "s"])
        #expect(out == [[.time(2 * hour), .int(3), .int(30)], [.time(3 * hour), .int(0), .null],
                        [.time(4 * hour), .int(0), .null], [.time(5 * hour), .int(1), .null]])
        #expect(try t.pivot([]).rows.isEmpty)
    }

    @Test func seriesColumnsNullAndOther() throws {
        // 22 series s00...s21 (s00 busiest) and a null one, over two buckets an hour apart.
        var rows: [[Value]] = []
        for i in 0..<22 { rows.append([.time(0), .string(String(format: "s%02d", i)), .int(Int64(100 - i)), .int(Int64(i)), .double(Double(i)), .int(Int64(100 - i))]) }
        rows.append([.time(2 * hour), .null, .int(90), .double(0.5), .double(2), .int(90)])
        let t = TimechartPivot(span: hour, split: true, aggregates: [agg(.count, "n"), agg(.sum, "s"), agg(.avg, "a")], range: .point(0))
        let (cols, out) = try t.pivot(rows)
        // Kept: s00...s18 and null (90 rows, after s10's 90 by order); s19, s20, s21 go to other.
        let kept = (0..<19).map { String(format: "s%02d", $0) } + ["null"]
        #expect(cols == ["time"] + kept.map { "n: " + $0 } + ["n: other"] + kept.map { "s: " + $0 } + ["s: other"] + kept.map { "a: " + $0 })
        #expect(out.count == 3)
        let first = Dictionary(uniqueKeysWithValues: zip(cols, out[0]))
        #expect(first["n: s00"] == .int(100) && first["n: null"] == .int(0) && first["n: other"] == .int(81 + 80 + 79))
        #expect(first["s: other"] == .int(19 + 20 + 21) && first["s: null"] == .null && first["a: s03"] == .double(3))
        let middle = Dictionary(uniqueKeysWithValues: zip(cols, out[1]))
        #expect(middle["time"] == .time(hour) && middle["n: s05"] == .int(0) && middle["n: other"] == .int(0) && middle["s: other"] == .null && middle["a: s05"] == .null)
        let last = Dictionary(uniqueKeysWithValues: zip(cols, out[2]))
        #expect(last["n: null"] == .int(90) && last["s: null"] == .double(0.5) && last["n: s00"] == .int(0))
        #expect(t.bars(cols) == 1..<22)
        // One aggregate: columns named by the value alone.
        let one = TimechartPivot(span: hour, split: true, aggregates: [agg(.count, "n")], range: .point(0))
        let (c1, _) = try one.pivot([[.time(0), .string("b"), .int(1), .int(1)], [.time(0), .string("a"), .int(1), .int(1)]])
        #expect(c1 == ["time", "a", "b"])
    }

    @Test func refusesTooManyBuckets() throws {
        let t = TimechartPivot(span: 1000, split: false, aggregates: [agg(.count, "n")], range: SourceRange(start: 9, end: 30))
        let ok = [[Value.time(0), .int(1), .int(1)], [.time(99_999_000), .int(1), .int(1)]]
        #expect(try t.pivot(ok).rows.count == 100_000)
        do {
            _ = try t.pivot([[.time(0), .int(1), .int(1)], [.time(100_000_000), .int(1), .int(1)]])
            Issue.record("no error")
        } catch {
            #expect(error.message == "timechart would make 100001 buckets, more than 100000")
            #expect(error.range == SourceRange(start: 9, end: 30))
            #expect(error.help == "use a bigger span, like span=10s, or a shorter time range")
        }
    }
}
