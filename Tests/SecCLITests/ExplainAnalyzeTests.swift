import Foundation
import SecModel
@testable import SecQuery
import SecStore
import Testing

/// `explain --analyze`'s per-stage counts and the group limit, on the shared ingested store.
@Suite struct ExplainAnalyzeTests {
    let ingested = IngestedStore.shared
    static let now = Timestamp.parse("2026-11-08T00:00:00Z")!

    func run(_ text: String, groupLimit: Int = Executor.defaultGroupLimit) throws -> QueryResult {
        let engine = QueryEngine(store: ingested.store)
        return try engine.run(try engine.prepare(text, now: Self.now), groupLimit: groupLimit)
    }

    func count(_ text: String) throws -> Int {
        guard case .int(let n)? = try run(text + " | stats count()").rows.first?.first else { return -1 }
        return Int(n)
    }

    @Test func scanStageCountsWhatTheFilterMatched() throws {
        let r = try run(#"where outcome == "failure""#)
        let scan = try #require(r.stats.stages.first)
        #expect(scan.name.hasPrefix("scan where"))
        let failures = try count(#"where outcome == "failure""#)
        #expect(scan.rowsOut == failures)
        #expect(scan.rowsOut == r.rows.count)
        #expect(scan.rowsIn == r.stats.rowsScanned)
        let all = try count("where true")
        #expect(scan.rowsIn == all)
        let blocks = try #require(scan.blocks)
        #expect(blocks.considered == blocks.read + blocks.skipped)
        #expect(blocks.read > 0 && blocks.read <= blocks.considered)
        #expect(r.stats.stages.count == 1)
    }

    @Test func eachLaterStageCountsItsRows() throws {
        // head during the scan: N rows out.
        let h = try run("head 7")
        #expect(h.stats.stages.map(\.name) == ["scan", "head 7 (during the scan)"])
        #expect(h.stats.stages.last?.rowsOut == 7 && h.rows.count == 7)

        // A filter after fields, then a sort with head: a heap of 5.
        let failures = try count(#"where outcome == "failure""#)
        let q = try run(#"fields time, principal, outcome | where outcome == "failure" | sort time desc | head 5"#)
        let names = q.stats.stages.map(\.name)
        #expect(names.count == 4, "\(names)")
        #expect(q.stats.stages[1].rowsIn == q.stats.stages[0].rowsOut)
        #expect(q.stats.stages[2].name.hasPrefix("filter") && q.stats.stages[2].rowsOut == failures)
        #expect(q.stats.stages[3].name.contains("heap of 5"))
        #expect(q.stats.stages[3].rowsIn == failures && q.stats.stages[3].rowsOut == 5 && q.rows.count == 5)

        // dedup: one row per distinct principal, as many as a stats by principal has groups.
        let d = try run("fields principal | dedup principal")
        let groups = try run("stats count() by principal").rows.count
        #expect(d.stats.stages.last?.name.hasPrefix("dedup") == true)
        let all = try count("where true")
        #expect(d.stats.stages.last?.rowsOut == groups && d.stats.stages.last?.rowsIn == all)

        // A leading stats aggregates during the scan: its groups are the rows out.
        let s = try run(#"where outcome == "failure" | stats count() by principal"#)
        #expect(s.stats.stages.count == 2)
        #expect(s.stats.stages[1].rowsIn == failures && s.stats.stages[1].rowsOut == s.rows.count)
    }

    func limitError(_ text: String, limit: Int) throws -> QueryError? {
        do { _ = try run(text, groupLimit: limit) } catch let e as QueryError { return e }
        return nil
    }

    @Test func tooManyGroupsStopsTheQueryAtItsStage() throws {
        let principals = try run("stats count() by principal").rows.count
        #expect(principals > 3)
        // The same query under a limit it fits in answers as before.
        #expect(try run("stats count() by principal", groupLimit: principals).rows.count == principals)

        let cases: [(String, String)] = [
            (#"where outcome == "failure" | stats count() by principal, action"#, "stats count() by principal, action"),
            ("top 5 principal", "top 5 principal"),
            ("fields principal, action | stats count() by principal", "stats count() by principal"),
            ("stats count() by action | stats count() by action", "stats count() by action"),
        ]
        for (text, blamed) in cases {
            let e = try #require(try limitError(text, limit: 2), "\(text)")
            #expect(e.code == .tooManyGroups)
            #expect(e.message.contains("more than 2 groups"))
            #expect(e.help?.contains("by") == true && e.help?.contains("since") == true)
            #expect(e.range.text(in: text) == blamed[...], "\(text)")
            #expect(e.render(query: text).contains("^^^"))
        }
        // Groups every scan piece sees count once per piece: past twice the limit in
        // all, the query stops though its answer alone would fit.
        let outcomes = try run("stats count() by outcome").rows.count
        let held = try #require(try limitError("stats count() by outcome", limit: outcomes))
        #expect(held.code == .tooManyGroups)
        #expect(held.message.contains("held by the scan's pieces together"), "\(held.message)")
        // Of two stats, the one past the limit is blamed: here the first.
        let text = "stats count() by principal, action | stats count() by principal"
        let e = try #require(try limitError(text, limit: principals))
        #expect(e.range.text(in: text) == "stats count() by principal, action")
    }
}
