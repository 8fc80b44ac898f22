import SecModel

/// `sequence [by f, ...] [within D] [A] [B] with runs=N ... [until [U]]`, with EQL's
/// semantics: a state machine per key value.
///
/// - Events are taken in time order; ties by bank, then sequence number.
/// - The key is the values of the `by` expressions (one key for every event without
///   `by`; a null value is a key value like any other).
/// - `[A] with runs=N` is the step written N times: N events matching A, one after the
///   other for the key (other events of the key may come between them).
/// - A partial sequence that has matched k steps waits in state k of its key. An event
///   matching step k+1 advances it; an event matching the first step starts a new one.
///   Each event is offered to the states from the last to the first, so one event
///   advances a given partial at most once (it may advance several partials, and start a
///   new one, when it matches several steps). A state holds at most one partial: the
///   one arriving last replaces the one waiting there (so `[a] with runs=5 [b]` pairs the
///   `b` with the latest five `a`s).
/// - `within D`: a partial whose first event is more than D before the event offered to
///   it is dropped, not advanced (a gap of exactly D is kept).
/// - `until U`: an event matching U drops every partial of its key and is matched to no
///   step.
/// - A partial that matches the last step is a sequence: one output row, numbered from 1
///   in the order sequences complete.
///
/// At most ``maxPending`` partials wait at once across all keys; past that (after
/// dropping those `within` has expired) the query fails with an error naming the stage.
public struct SequenceMatcher: Sendable, Equatable, CustomStringConvertible {
    public static let maxPending = 1_000_000

    public var keys: [NamedExpr]
    /// ms; nil without `within`.
    public var within: Int64?
    /// The step conditions as written (over event-row slots).
    public var steps: [BoundExpr]
    /// `runs` of each written step.
    public var runs: [Int]
    public var until: BoundExpr?
    /// The stage, blamed when too many partials wait.
    public var range: SourceRange
    /// Partials allowed to wait (``maxPending``; smaller in tests).
    public var limit: Int = SequenceMatcher.maxPending

    public init(keys: [NamedExpr], within: Int64?, steps: [BoundExpr], runs: [Int], until: BoundExpr?, range: SourceRange) {
        self.keys = keys; self.within = within; self.steps = steps; self.runs = runs; self.until = until; self.range = range
    }

    /// The output columns: `sequence`, the keys, `start`, `end`, `events`.
    public var columns: [String] { ["sequence"] + keys.map(\.name) + ["start", "end", "events"] }

    public var description: String {
        var s = "sequence"
        if !keys.isEmpty { s += " by " + keys.map { "\($0.name)=\($0.expr)" }.joined(separator: ", ") }
        if let within { s += " within \(SecModel.Span(millis: within))" }
        for (e, n) in zip(steps, runs) { s += " [\(e)]" + (n > 1 ? " with runs=\(n)" : "") }
        if let until { s += " until [\(until)]" }
        return s
    }

    static let timeSlot = Field.allCases.firstIndex(of: .time)!
    static let bankSlot = Field.allCases.firstIndex(of: .bank)!
    static let seqSlot = Field.allCases.firstIndex(of: .seq)!

    /// A partial sequence: the rows matched so far and the time of the first.
    struct Partial: Equatable {
        var rows: [Int]
        var start: Int64
    }

    /// The matched sequences of `input` (event rows, in any order): one row each, and
    /// each one's events (their core fields, in `Field` order).
    public func run(_ input: [[Value]]) throws(QueryError) -> (rows: [[Value]], events: [[[Value]]]) {
        func ms(_ v: Value) -> Int64 {
            switch v { case .time(let t), .int(let t): return t; default: return .min }
        }
        func slot(_ r: [Value], _ i: Int) -> Value { i < r.count ? r[i] : .null }
        let order = input.indices.sorted { a, b in
            let x = input[a], y = input[b]
            let tx = ms(slot(x, Self.timeSlot)), ty = ms(slot(y, Self.timeSlot))
            if tx != ty { return tx < ty }
            let bx = slot(x, Self.bankSlot), by = slot(y, Self.bankSlot)
            if bx != by { return Value.order(bx, by) }
            let sx = ms(slot(x, Self.seqSlot)), sy = ms(slot(y, Self.seqSlot))
            if sx != sy { return sx < sy }
            return a < b
        }
        // The expanded steps: written step i, runs[i] times.
        var stepOf: [Int] = []
        for (i, n) in runs.enumerated() { stepOf += Array(repeating: i, count: n) }
        let n = stepOf.count
        // states[key][k]: the partial that has matched k steps (k in 1..<n).
        var states: [[Value]: [Partial?]] = [:]
        var pending = 0
        var out: [[Value]] = []
        var events: [[[Value]]] = []
        let core = Field.allCases.count

        func emit(_ p: Partial, key: [Value]) {
            let rows = p.rows.map { input[$0] }
            let last = ms(slot(rows.last!, Self.timeSlot))
            out.append([.int(Int64(out.count + 1))] + key
                       + [.time(p.start), .time(last), .list(rows.map { slot($0, Self.seqSlot) })])
            events.append(rows.map { Array($0.prefix(core)) + Array(repeating: .null, count: max(0, core - $0.count)) })
        }

        for r in order {
            let row = input[r]
            let src = RowSource(row: row)
            let matched = steps.map { Eval.truth(Eval.evaluate($0, src)) }
            let stops = until.map { Eval.truth(Eval.evaluate($0, src)) } ?? false
            if !stops && !matched.contains(true) { continue }
            let key = keys.map { Eval.evaluate($0.expr, src) }
            let t = ms(slot(row, Self.timeSlot))
            if stops {
                if let s = states.removeValue(forKey: key) { pending -= s.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
                continue
            }
            var state = states[key] ?? Array(repeating: nil, count: n)
            var k = n - 1
            while k >= 1 {
                if matched[stepOf[k]], var p = state[k] {
                    state[k] = nil
                    pending -= 1
                    if let within, t - p.start > within {
                        k -= 1
                        continue
                    }
                    p.rows.append(r)
                    if k + 1 == n {
                        emit(p, key: key)
                    } else {
                        if state[k + 1] == nil { pending += 1 }
                        state[k + 1] = p
                    }
                }
                k -= 1
            }
            if matched[stepOf[0]] {
                let p = Partial(rows: [r], start: t)
                if n == 1 {
                    emit(p, key: key)
                } else {
                    if state[1] == nil { pending += 1 }
                    state[1] = p
                }
            }
            if state.allSatisfy({ $0 == nil }) { states.removeValue(forKey: key) } else { states[key] = state }
            if pending > limit {
                // Drop what `within` has expired before giving up.
                if let within {
                    for (key, s) in states {
                        var s = s
                        for i in s.indices where s[i] != nil && t - s[i]!.start > within {
                            s[i] = nil
                            pending -= 1
                        }
                        states[key] = s.allSatisfy { $0 == nil } ? nil : s
                    }
                }
                if pending > limit {
                    throw QueryError(.tooManyPartials, "sequence has more than \(limit) partial sequences waiting", at: range,
                                     help: within == nil ? "add 'within D' so old partial sequences expire, or filter events before the stage"
                                         : "use a shorter 'within', or filter events before the stage")
                }
            }
        }
        return (out, events)
    }
}

extension QueryError.Code {
    /// A `sequence` with more partial sequences waiting than ``SequenceMatcher/maxPending``.
    public static let tooManyPartials = QueryError.Code("tooManyPartials")
}
