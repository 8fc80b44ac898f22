import ArgumentParser
import Foundation
import SecModel
import SecQuery
import SecStore

struct QueryOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The query ('-' reads it from standard input; @NAME runs STORE/queries/NAME.secq).",
                                 valueName: "query"))
    var text: String

    @Option(name: .customLong("param"), help: ArgumentHelp("A saved query's parameter: replaces $NAME (repeatable).",
                                                           valueName: "name=value"))
    var params: [String] = []

    @Option(name: .customLong("bank"), help: "Only this bank (repeatable; default: every bank).")
    var banks: [String] = []

    @Option(help: ArgumentHelp("What 'since' and 'ago()' count back from (RFC 3339; default: now).", valueName: "time"))
    var now: String?

    func queryText(store: String) throws -> String {
        if text.hasPrefix("@") {
            var values: [String: String] = [:]
            for p in params {
                guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                    throw CLIError(message: "--param '\(p)' is not NAME=VALUE", code: 2)
                }
                values[String(p[..<eq])] = String(p[p.index(after: eq)...])
            }
            return try SavedQuery.load(String(text.dropFirst()), store: store).resolved(values)
        }
        if !params.isEmpty { throw CLIError(message: "--param is for saved queries (@NAME)", code: 2) }
        guard text == "-" else { return text }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }

    func nowMillis() throws -> Int64 {
        guard let now else { return Int64(Date().timeIntervalSince1970 * 1000) }
        guard let t = Timestamp.parse(now) else { throw CLIError(message: "--now '\(now)' is not an RFC 3339 time", code: 2) }
        return t
    }

    func prepare(_ store: Store) throws -> (QueryEngine, QueryEngine.Prepared) {
        let engine = QueryEngine(store: store)
        let text = try queryText(store: store.path)
        let banks = self.banks.isEmpty ? nil : try selectedBanks(store, self.banks)
        do {
            return (engine, try engine.prepare(text, banks: banks, now: try nowMillis()))
        } catch let e as QueryError {
            FileHandle.standardError.write(Data(e.render(query: text).utf8))
            if !e.render(query: text).hasSuffix("\n") { Terminal.err("") }
            throw ExitCode(2)
        }
    }
}

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Search every bank's events with a pipeline query.",
        discussion: """
        A query is a pipeline: a table, then stages separated by '|'.

          events | since 24h | where action == "ConsoleLogin" and outcome == "failure"
                 | stats count() as failures by principal, src_ip
                 | where failures > 5 | sort failures desc | head 20

        Stages: where EXPR, since 24h, between T and T, fields a, b, eval x = EXPR,
        stats AGG [as name], ... [by f, bin(time, 1h)], sort f [desc], head N,
        top N f [by g], rare N f, dedup f, timechart span=1h AGG, ... [by f],
        sequence [by f] [within D] [A] [B] ... [until [U]].
        Aggregates: count(), count(f), dc(f), sum(f), avg(f), min(f), max(f),
        p50(f), p90(f), p95(f), p99(f), percentile(f, N), values(f), first(f), last(f).
          dc: exact up to 100,000 distinct values per group, then a HyperLogLog
            estimate (standard error 0.8%).
          p50 ... p99, percentile: nearest rank, exact up to 10,000 values per group,
            then a quantile sketch whose rank error is under 1% of the group's values.
            Numbers and times only.
          values: the distinct values sorted, the first 100. first / last: the value
            of the group's earliest / latest event that has one (time, then sequence).
          An estimated answer is said on standard error: "note: dc(src_ip) estimated ...".

        timechart: one row per bucket of the span (UTC, first bucket with data to
        the last; empty ones count 0, other aggregates null). 'by f' makes a column
        per value of f (at most 20, the busiest; the rest summed into 'other' for
        count and sum) and ends the query. The table format draws bar charts.

          events | where outcome == "failure" | timechart span=1h count() by action

        sequence [by f, ...] [within D] [A] [B] with runs=N ... [until [U]]: ordered
        event patterns, as EQL. Events are taken in time order (ties by bank, then
        sequence number); per value of the 'by' fields a state machine keeps at most
        one partial sequence per step: a partial that has matched k steps advances when
        an event matches step k+1 (and is replaced by a newer one arriving at the same
        step); an event matching the first step starts a new one. 'with runs=N' is the
        step written N times. 'within D' drops a partial whose first event is more than
        D before the event that would advance it. An event matching 'until' drops every
        partial of its key. Each completed sequence is a row: sequence (a number), the
        keys, start, end, events (their sequence numbers; in JSON the events' fields;
        the table prints a line per event). It ends the query; at most 1,000,000
        partials may wait at once (an error past that).

          events | where action == "ConsoleLogin"
                 | sequence by src_ip within 10m [outcome == "failure"] with runs=5
                   [outcome == "success"]

        Operators: == != < <= > >= =~ (ignores case), in (a, b), in cidr("10.0.0.0/8"),
        contains, startswith, endswith (ignore case), matches "regex", exists(f),
        and, or, not, + - * / %. raw.requestParameters.bucketName reads the
        original record.
        Functions: lower, upper, len, coalesce, tostring, toint, now(), ago(24h),
        bin(time, 1h), substr(s, start[, length]) (characters, from 0),
        split(s, sep[, i]) (a list, or piece i from 0), concat(a, ...) (nulls
        as empty), if(cond, a, b), ip("10.0.0.1"), cidr("10.0.0.0/8")
        (src_ip == cidr(...) tests membership; in (cidr(...), ip(...)) mixes).
        Type errors (an address compared with a number, len of a number,
        arithmetic on text) are reported before the query runs.
        The full reference: docs/query.md.

        Output: a table on a terminal, NDJSON when piped (or --format json|csv|table).
        Without 'fields' or 'stats', JSON rows are whole events with every field set.

        Saved queries: 'secq query @NAME --param k=v' runs STORE/queries/NAME.secq with
        $k replaced by v ('secq queries' lists them).
        """)

    @OptionGroup var options: StoreOptions
    @OptionGroup var query: QueryOptions
    @Option(help: "Output format: table, json (NDJSON), csv; default table on a terminal, json otherwise.")
    var format: OutputFormat?
    @Flag(help: "Print time taken and blocks read to standard error.") var timing = false
    @Option(name: .customLong("repeat"), help: ArgumentHelp("Run the query this many times and report the fastest (for benchmarks).", valueName: "n"))
    var repeats: Int = 1
    @Option(help: ArgumentHelp("Print times in this zone (IANA name like Europe/Paris, or +hh:mm); default UTC.",
                               valueName: "zone"))
    var tz: String?

    func validate() throws {
        if let tz, OutputZone(tz) == nil {
            throw ValidationError("--tz '\(tz)' is neither an IANA time zone (Europe/Paris) nor an offset (+05:30)")
        }
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let (engine, prepared) = try query.prepare(store)
            var result: QueryResult
            do { result = try engine.run(prepared) } catch let e as QueryError {
                FileHandle.standardError.write(Data(e.render(query: prepared.text).utf8))
                if !e.render(query: prepared.text).hasSuffix("\n") { Terminal.err("") }
                throw ExitCode(2)
            }
            for _ in 1..<max(repeats, 1) {
                let again = try engine.run(prepared)
                if again.stats.seconds < result.stats.seconds { result = again }
            }
            let fmt = format ?? (Terminal.stdoutIsTTY ? .table : .json)
            ResultWriter.write(result, format: fmt, zone: tz.flatMap(OutputZone.init))
            // On standard error, so JSON and CSV rows stay pipeable.
            for note in result.notes { Terminal.err("note: " + note) }
            if timing {
                let s = result.stats
                Terminal.err(String(format: "%.3f ms  banks %d  blocks %d considered, %d read, %d skipped by dictionary  rows %d scanned, %d matched",
                                    s.seconds * 1000, s.banks, s.blocksConsidered, s.blocksRead, s.blocksSkippedByDictionary, s.rowsScanned, s.rowsMatched))
            }
        }
    }
}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show how a query is parsed, bound and planned, and which blocks it reads.",
        discussion: """
            With --analyze the query also runs, and the blocks and rows it read are counted, then a table \
            gives each stage as run: rows in and out and time spent; the scan's row also counts the blocks \
            considered, read and skipped (out of the time range, or no dictionary value could match). \
            Streaming stages before the first head run during the scan; a sort followed by head keeps \
            only the head's rows (a bounded heap).
            """)

    @OptionGroup var options: StoreOptions
    @OptionGroup var query: QueryOptions
    @Flag(help: "Run the query and report what it read.") var analyze = false

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let (engine, prepared) = try query.prepare(store)
            let out = Output()
            out.line("parsed:")
            out.line(indent(prepared.parsed.dump()))
            out.line("bound:")
            out.line(indent(prepared.bound.dump()))
            out.line("plan:")
            out.line(indent(prepared.plan.dump()))
            out.line("blocks:")
            for c in try engine.candidateBlocks(prepared) {
                out.line("  \(c.bank): \(c.blocks) of \(c.total) blocks considered")
            }
            if analyze {
                let r = try engine.run(prepared)
                let s = r.stats
                out.line("analyze:")
                out.line(String(format: "  %.3f ms", s.seconds * 1000))
                out.line("  blocks considered \(s.blocksConsidered), in time range \(s.blocksInRange), read \(s.blocksRead), skipped by dictionary \(s.blocksSkippedByDictionary)")
                out.line("  rows scanned \(s.rowsScanned), matched \(s.rowsMatched), returned \(r.rows.count)")
                out.line("stages:")
                out.write(Self.stageTable(s.stages))
            }
            out.flush()
        }
    }

    /// One line per stage run: rows in and out, time, and for the scan its blocks.
    static func stageTable(_ stages: [StageProfile]) -> String {
        let header = ["stage", "rows in", "rows out", "ms", "blocks considered/read/skipped"]
        var rows = [header]
        for p in stages {
            let suffix = " (during the scan)"
            let inScan = p.name.hasSuffix(suffix)
            let body = inScan ? String(p.name.dropLast(suffix.count)) : p.name
            let name = (body.count > 60 ? String(body.prefix(59)) + "…" : body) + (inScan ? suffix : "")
            rows.append([name, String(p.rowsIn), String(p.rowsOut), inScan ? "(scan)" : String(format: "%.3f", p.seconds * 1000),
                         p.blocks.map { "\($0.considered)/\($0.read)/\($0.skipped)" } ?? ""])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        var text = ""
        for r in rows {
            var cells: [String] = []
            for (c, v) in r.enumerated() {
                let pad = String(repeating: " ", count: widths[c] - v.count)
                cells.append(c == 0 ? v + pad : pad + v)
            }
            text += "  " + cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        return text
    }

    private func indent(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }
}

/// Writes query results as a table, NDJSON or CSV.
enum ResultWriter {
    /// Columns a table shows for whole events (JSON and CSV show every field).
    static let eventTableColumns: [Field] = [.time, .bank, .account, .region, .source, .action, .outcome, .principal, .srcIP]

    static func write(_ r: QueryResult, format: OutputFormat, zone: OutputZone? = nil) {
        var r = r
        if let zone { r.rows = r.rows.map { $0.map(zone.localise) } }
        let out = Output()
        // Whole events: every core field first, then raw./eval columns.
        let coreCount = r.outputsEvents ? Field.allCases.count : 0
        if let events = r.sequenceEvents, format != .csv {
            writeSequences(r, events: events, format: format, zone: zone, out: out)
            out.flush()
            return
        }
        switch format {
        case .json:
            for row in r.rows {
                var fields: [(String, JSONLine.Scalar)] = []
                for (i, name) in r.columns.enumerated() where i < row.count {
                    if r.outputsEvents && row[i].isNull { continue }
                    fields.append((name, JSONLine.scalar(row[i])))
                }
                out.line(JSONLine.object(fields))
            }
        case .csv:
            out.line(CSV.row(r.columns))
            for row in r.rows { out.line(CSV.row(row.map(\.text))) }
        case .table where r.chart != nil:
            let chart = r.chart!
            let tty = Terminal.stdoutIsTTY
            out.write(BarChart.render(columns: r.columns, rows: r.rows, bars: chart.bars, series: chart.series,
                                      width: tty ? Terminal.width : 100, color: tty && ProcessEnv.get("NO_COLOR") == nil))
            out.line("(\(r.rows.count) bucket\(r.rows.count == 1 ? "" : "s"))")
        case .table:
            var idx = Array(r.columns.indices)
            if r.outputsEvents {
                idx = eventTableColumns.map { Int($0.columnID) } + Array(coreCount..<r.columns.count)
            }
            let header = idx.map { r.columns[$0] }
            let rows = r.rows.map { row in idx.map { $0 < row.count ? row[$0].text : "" } }
            out.write(TableRenderer.render(header: header, rows: rows))
            out.line("(\(r.rows.count) row\(r.rows.count == 1 ? "" : "s"))")
        }
        out.flush()
    }

    /// Columns a table shows for each event of a sequence.
    static let sequenceEventColumns: [Field] = [.time, .bank, .seq, .account, .action, .outcome, .principal, .srcIP]

    /// `sequence` results: in JSON, each row's `events` is a list of the events (their
    /// non-null core fields); in a table, a line per sequence (number, keys, first and
    /// last time) with its events' lines under it.
    static func writeSequences(_ r: QueryResult, events: [[[Value]]], format: OutputFormat, zone: OutputZone?, out: Output) {
        let fields = Field.allCases
        let events = zone.map { z in events.map { $0.map { $0.map(z.localise) } } } ?? events
        if format == .json {
            for (row, evs) in zip(r.rows, events) {
                var cells: [(String, JSONLine.Scalar)] = []
                for (i, name) in r.columns.enumerated() where i < row.count {
                    if name == "events" && i == r.columns.count - 1 {
                        cells.append((name, .list(evs.map { ev in
                            .object(zip(fields, ev).filter { !$0.1.isNull }.map { ($0.0.rawValue, JSONLine.scalar($0.1)) })
                        })))
                    } else {
                        cells.append((name, JSONLine.scalar(row[i])))
                    }
                }
                out.line(JSONLine.object(cells))
            }
            return
        }
        let cols = sequenceEventColumns.map { Int($0.columnID) }
        let all = events.flatMap { $0.map { ev in cols.map { $0 < ev.count ? ev[$0].text : "" } } }
        let lines = TableRenderer.render(header: sequenceEventColumns.map(\.rawValue), rows: all).split(separator: "\n").map(String.init)
        out.line("  " + lines[0])
        out.line("  " + lines[1])
        var next = 2
        let keyCount = r.columns.count - 4
        for (row, evs) in zip(r.rows, events) {
            var head = "sequence \(row[0].text)"
            for k in 0..<keyCount { head += "  \(r.columns[1 + k])=\(row[1 + k].text)" }
            head += "  \(row[1 + keyCount].text) .. \(row[2 + keyCount].text)  (\(evs.count) event\(evs.count == 1 ? "" : "s"))"
            out.line(head)
            for _ in evs where next < lines.count { out.line("  " + lines[next]); next += 1 }
        }
        out.line("(\(r.rows.count) sequence\(r.rows.count == 1 ? "" : "s"))")
    }
}

struct QueriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queries",
        abstract: "List the saved queries (STORE/queries/NAME.secq) and their parameters.",
        discussion: """
        A saved query is a file of one query; '#' lines at its top describe it, and $NAME
        marks a parameter. Run one with: secq query @NAME --param NAME=VALUE ...

        Example file STORE/queries/key-activity.secq:
          # Every call an access key made.
          events | where access_key == "$key" | fields time, bank, account, principal, action, src_ip | sort time
        """)

    @OptionGroup var options: StoreOptions
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        try reportingErrors {
            let saved = try SavedQuery.all(store: options.path)
            let out = Output()
            if format == .json {
                for q in saved {
                    out.line(JSONLine.object([
                        ("name", .string(q.name)), ("parameters", .list(q.parameters.map { .string($0) })),
                        ("description", .string(q.description)), ("path", .string(q.path)),
                    ]))
                }
            } else {
                let rows = saved.map { ["@" + $0.name, $0.parameters.map { "$" + $0 }.joined(separator: " "), $0.description] }
                out.write(TableRenderer.render(header: ["query", "parameters", "description"], rows: rows))
                if saved.isEmpty { out.line("(no saved queries in \(SavedQuery.directory(store: options.path)))") }
            }
            out.flush()
        }
    }
}

/// The zone `--tz` names: times are written in RFC 3339 with its offset at each instant
/// (daylight saving included) instead of UTC.
struct OutputZone {
    let zone: TimeZone

    init?(_ text: String) {
        if let z = TimeZone(identifier: text) { zone = z; return }
        // +hh:mm, -hhmm, +hh
        let u = Array(text.utf8)
        guard u.count >= 3, u[0] == 43 || u[0] == 45 else { return nil }
        let digits = u.dropFirst().filter { $0 != 58 }
        guard digits.count == 2 || digits.count == 4, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let n = digits.map { Int($0 - 48) }
        let h = n[0] * 10 + n[1], m = n.count == 4 ? n[2] * 10 + n[3] : 0
        guard h <= 14, m < 60, let z = TimeZone(secondsFromGMT: (u[0] == 45 ? -1 : 1) * (h * 3600 + m * 60)) else { return nil }
        zone = z
    }

    /// A value with its times written in the zone (as text); other values unchanged.
    func localise(_ v: Value) -> Value {
        switch v {
        case .time(let t):
            let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t) / 1000))
            return .string(Timestamp.rfc3339(millis: t, offsetSeconds: offset))
        case .list(let l): return .list(l.map(localise))
        default: return v
        }
    }
}
