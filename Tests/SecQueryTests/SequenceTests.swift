import SecModel
import Testing
@testable import SecQuery

/// `sequence`: binding, its errors, and the state machine on event rows made by hand.
@Suite struct SequenceTests {
    let now = Timestamp.parse("2026-11-08T00:00:00Z")!

    func bind(_ q: String) throws -> BoundQuery { try Binder(now: now).bind(try Parser.parse(q)) }


    func matcher(_ q: String) throws -> SequenceMatcher {
        guard case .sequence(let m)? = try bind(q).stages.last else { throw QueryError(.invalidArgument, "no sequence stage", at: .point(0)) }
        return m
    }

    static let t0 = Timestamp.parse("2026-11-03T12:00:00Z")!

    /// An event row (core fields in `Field` order) at t0 + `sec` seconds.
    func ev(_ sec: Int64, _ ip: String, _ outcome: String, seq: Int64, bank: String = "b1", action: String = "ConsoleLogin") -> [Value] {
        var row = [Value](repeating: .null, count: Field.allCases.count)
        func put(_ f: Field, _ v: Value) { row[Int(f.columnID)] = v }
        put(.time, .time(SequenceTests.t0 + sec * 1000))
        put(.seq, .int(seq))
        put(.bank, .string(bank))
        put(.srcIP, .string(ip))
        put(.outcome, .string(outcome))
        put(.action, .string(action))
        return row
    }

    /// The sequence numbers of each matched sequence.
    func seqs(_ m: SequenceMatcher, _ rows: [[Value]]) throws -> [[Int64]] {
        try m.run(rows).rows.map { r in
            guard case .list(let l) = r.last! else { return [] }
            return l.map { if case .int(let i) = $0 { i } else { -1 } }
        }
    }

    static let bruteForce = #"events | sequence by src_ip within 10m [outcome == "failure"] with runs=5 [outcome == "success"]"#

    @Test func binds() throws {
        let b = try bind(#"events | where action == "ConsoleLogin" | sequence by src_ip within 10m [outcome == "failure"] with runs=5 [outcome == "success"] until [action == "Logout"]"#)
        #expect(b.columns == ["sequence", "src_ip", "start", "end", "events"])
        #expect(!b.outputsEvents)
        #expect(b.stages.map(\.description) == [
            #"sequence by src_ip=$14:src_ip within 10m [$9:outcome == "failure"] with runs=5 [$9:outcome == "success"] until [$8:action == "Logout"]"#,
        ])
        // The scan reads every core field: rows carry their events.
        #expect(b.slots.compactMap { $0?.name } == Field.allCases.map(\.rawValue))
    }

    @Test func errors() {
        #expect(bindError("events | sequence by src_ip within 10m") == """
            error: expected '[' to start the first step, like [action == "ConsoleLogin"]
             --> query:1:39
              |
            1 | events | sequence by src_ip within 10m
              |                                       ^
            """)
        #expect(bindError(#"events | sequence by src_ip [outcome == "failure"] with runs=0 [outcome == "success"]"#) == """
            error: 'runs' must be at least 1
             --> query:1:62
              |
            1 | events | sequence by src_ip [outcome == "failure"] with runs=0 [outcome == "success"]
              |                                                              ^
            """)
        #expect(bindError(#"events | sequence by src_ip within "10m" [a]"#) == """
            error: expected a duration after 'within', like 10m
             --> query:1:36
              |
            1 | events | sequence by src_ip within "10m" [a]
              |                                    ^^^^^
            """)
        #expect(bindError(#"events | sequence by src_ip within 10 [outcome == "failure"]"#) == """
            error: duration '10' has no unit
             --> query:1:36
              |
            1 | events | sequence by src_ip within 10 [outcome == "failure"]
              |                                    ^^ add a unit, like '10h' (ms, s, m, h, d, w, y)
            """)
        #expect(bindError(#"events | sequence by src_ip [outcom == "failure"]"#) == """
            error: unknown field 'outcom'
             --> query:1:30
              |
            1 | events | sequence by src_ip [outcom == "failure"]
              |                              ^^^^^^ did you mean 'outcome'?
            """)
        #expect(bindError(#"events | sequence by src_ip [outcome == "failure"] | head 3"#) == """
            error: 'sequence' must be the last stage
             --> query:1:54
              |
            1 | events | sequence by src_ip [outcome == "failure"] | head 3
              |                                                      ^^^^ each of its rows carries the sequence's events; filter events before it
            """)
        #expect(bindError("events | stats count() by src_ip | sequence [count > 3]") == """
            error: 'sequence' matches events, but the rows here are not events
             --> query:1:36
              |
            1 | events | stats count() by src_ip | sequence [count > 3]
              |                                    ^^^^^^^^ put it before 'fields', 'stats', 'top', 'rare' and 'timechart'
            """)
        #expect(bindError("events | sequence [bytes + 1] [outcome == \"success\"]").hasPrefix("error: expected a condition, not '(bytes + 1)'")
                || bindError("events | sequence [bytes + 1] [outcome == \"success\"]").hasPrefix("error: expected a condition"))
    }

    @Test func fiveFailuresThenASuccess() throws {
        let m = try matcher(SequenceTests.bruteForce)
        var rows = (0..<5).map { ev(Int64($0) * 10, "1.1.1.1", "failure", seq: Int64($0) + 1) }
        rows.append(ev(60, "1.1.1.1", "success", seq: 6))
        #expect(try seqs(m, rows) == [[1, 2, 3, 4, 5, 6]])
        let out = try m.run(rows)
        #expect(out.rows[0].dropLast() == [.int(1), .string("1.1.1.1"), .time(SequenceTests.t0), .time(SequenceTests.t0 + 60_000)])
        #expect(out.events[0].count == 6 && out.events[0][5][Int(Field.outcome.columnID)] == .string("success"))
        // Four failures are not enough; the success starts nothing.
        #expect(try seqs(m, Array(rows.dropFirst())) == [])
        // Input order does not matter: rows are taken by time, bank, sequence number.
        #expect(try seqs(m, rows.reversed()) == [[1, 2, 3, 4, 5, 6]])
    }

    @Test func runsKeepTheLatestFailures() throws {
        // Seven failures, then a success: the partial of the latest five replaced the older ones.
        let m = try matcher(SequenceTests.bruteForce)
        var rows = (0..<7).map { ev(Int64($0) * 10, "1.1.1.1", "failure", seq: Int64($0) + 1) }
        rows.append(ev(100, "1.1.1.1", "success", seq: 8))
        #expect(try seqs(m, rows) == [[3, 4, 5, 6, 7, 8]])
        // Other events of the key may come between the runs; other keys do not count.
        var mixed = [ev(0, "1.1.1.1", "failure", seq: 1), ev(1, "2.2.2.2", "failure", seq: 2), ev(2, "1.1.1.1", "failure", seq: 3),
                     ev(3, "2.2.2.2", "success", seq: 4), ev(4, "1.1.1.1", "failure", seq: 5), ev(5, "1.1.1.1", "failure", seq: 6)]
        mixed.append(ev(6, "1.1.1.1", "failure", seq: 7))
        mixed.append(ev(7, "1.1.1.1", "success", seq: 8))
        #expect(try seqs(m, mixed) == [[1, 3, 5, 6, 7, 8]])
    }

    @Test func replacementOfPartials() throws {
        let m = try matcher(#"events | sequence by src_ip [action == "A"] [action == "B"] [action == "C"]"#)
        func e(_ s: Int64, _ a: String) -> [Value] { ev(s, "k", "success", seq: s, action: a) }
        // a1 a2 b c: state 1 holds a2 (it replaced a1).
        #expect(try seqs(m, [e(1, "A"), e(2, "A"), e(3, "B"), e(4, "C")]) == [[2, 3, 4]])
        // a1 b1 a2 b2 c: state 2 holds (a2, b2).
        #expect(try seqs(m, [e(1, "A"), e(2, "B"), e(3, "A"), e(4, "B"), e(5, "C")]) == [[3, 4, 5]])
        // A completed sequence leaves the machine: a second C matches nothing.
        #expect(try seqs(m, [e(1, "A"), e(2, "B"), e(3, "C"), e(4, "C")]) == [[1, 2, 3]])
        // Without 'by', every event shares one key.
        let one = try matcher(#"events | sequence [action == "A"] [action == "B"]"#)
        #expect(try seqs(one, [ev(1, "x", "s", seq: 1, action: "A"), ev(2, "y", "s", seq: 2, action: "B")]) == [[1, 2]])
    }

    @Test func withinExpires() throws {
        let m = try matcher(SequenceTests.bruteForce)
        // First failure at 0, success at exactly 10m: kept.
        var rows = (0..<5).map { ev(Int64($0) * 60, "1.1.1.1", "failure", seq: Int64($0) + 1) }
        rows.append(ev(600, "1.1.1.1", "success", seq: 6))
        #expect(try seqs(m, rows) == [[1, 2, 3, 4, 5, 6]])
        // One second more: the partial starting at 0 is too old; no other has five failures.
        rows[5] = ev(601, "1.1.1.1", "success", seq: 6)
        #expect(try seqs(m, rows) == [])
        // A sixth failure inside the window gives a younger partial that completes.
        rows.insert(ev(590, "1.1.1.1", "failure", seq: 7), at: 5)
        #expect(try seqs(m, rows) == [[2, 3, 4, 5, 7, 6]])
    }

    @Test func untilResetsTheKey() throws {
        let m = try matcher(SequenceTests.bruteForce.replacingOccurrences(of: "within 10m ", with: "") + #" until [action == "Logout"]"#)
        var rows = (0..<3).map { ev(Int64($0), "1.1.1.1", "failure", seq: Int64($0) + 1) }
        rows.append(ev(3, "1.1.1.1", "success", seq: 4, action: "Logout"))
        rows += (4..<6).map { ev(Int64($0), "1.1.1.1", "failure", seq: Int64($0) + 1) }
        rows.append(ev(6, "1.1.1.1", "success", seq: 7))
        #expect(try seqs(m, rows) == [])
        // A Logout of another key resets nothing.
        rows[3] = ev(3, "9.9.9.9", "success", seq: 4, action: "Logout")
        #expect(try seqs(m, rows) == [[1, 2, 3, 5, 6, 7]])
    }

    @Test func tiesAreOrderedByBankThenSequenceNumber() throws {
        let m = try matcher(#"events | sequence [outcome == "failure"] [outcome == "success"]"#)
        // Same time: b1's events come before b2's, then by sequence number.
        let rows = [ev(0, "k", "success", seq: 1, bank: "b2"), ev(0, "k", "failure", seq: 9, bank: "b1"), ev(0, "k", "success", seq: 10, bank: "b1")]
        #expect(try seqs(m, rows) == [[9, 10]])
        let later = [ev(0, "k", "success", seq: 1, bank: "b1"), ev(0, "k", "failure", seq: 2, bank: "b2")]
        #expect(try seqs(m, later) == [])
    }

    @Test func tooManyPartials() throws {
        var m = try matcher(SequenceTests.bruteForce)
        m.limit = 3
        let rows = (0..<4).map { ev(Int64($0), "10.0.0.\($0)", "failure", seq: Int64($0)) }
        #expect(throws: QueryError.self) { try m.run(rows) }
        do { _ = try m.run(rows) } catch { #expect(error.code == .tooManyPartials) }
        // Partials that 'within' has expired are dropped first.
        let spread = (0..<4).map { ev(Int64($0) * 700, "10.0.0.\($0)", "failure", seq: Int64($0)) }
        #expect(try seqs(m, spread) == [])
        // The real limit.
        #expect(SequenceMatcher.maxPending == 1_000_000)
    }
}
