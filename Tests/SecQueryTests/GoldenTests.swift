import Foundation
import SecModel
import Testing
@testable import SecQuery

/// Golden tests: parse trees, bound forms and plans, and rendered errors, kept as plain
/// files in `Tests/SecQueryTests/Golden/` so a change to any of them shows as a diff.
///
/// A file is a header of `#` lines, then cases:
///
/// ```
/// === name
/// the query (one or more lines)
/// ---
/// the expected output
/// ```
///
/// With `SECQ_GOLDEN_UPDATE=1` the files are rewritten with the actual outputs instead of
/// failing; `tools/golden` does that and shows what changed.
@Suite struct GoldenTests {
    /// Every time in the golden files counts back from here.
    static let now = Timestamp.parse("2026-11-29T12:00:00Z")!
    /// The organisation plans are made for: two banks, three accounts.
    static let banks = ["b1", "b2"]
    static let accountsOf = ["b1": ["111111111111", "222222222222"], "b2": ["333333333333"]]

    /// Every error code a query can produce. A new code goes here and gets a case in
    /// `errors.golden`.
    static let allCodes: [QueryError.Code] = [
        .unexpectedCharacter, .unterminatedString, .invalidEscape, .invalidNumber, .invalidDuration, .invalidTime,
        .unexpectedToken, .expectedExpression, .unknownStage, .unknownTable, .unknownKeyword, .nestingTooDeep,
        .unknownField, .unknownFunction, .typeMismatch, .invalidArgument,
        .tooManyGroups, .tooManyPartials,
    ]

    // MARK: - Outputs

    /// The parse tree, or the rendered error.
    static func parseOutput(_ query: String) -> String {
        do { return try Parser.parse(query).dump() } catch { return rendered(error, query) }
    }

    /// The bound form and the plan at ``now`` over ``banks``, or the rendered error.
    static func planOutput(_ query: String) -> String {
        do {
            let bound = try Binder(now: now).bind(try Parser.parse(query))
            let plan = Planner.plan(bound, banks: banks, accountsOf: accountsOf)
            return "bound:\n" + indent(bound.dump()) + "\nplan:\n" + indent(plan.dump())
        } catch {
            return rendered(error, query)
        }
    }

    /// The error a query produces, with its code; nil when it runs without one.
    static func queryError(_ query: String, expecting tag: String) -> QueryError? {
        do {
            let parsed = try Parser.parse(query)
            let bound = try Binder(now: now).bind(parsed)
            switch tag {
            case QueryError.Code.tooManyGroups.rawValue:
                return try groupLimitError(query, parsed: parsed, bound: bound)
            case QueryError.Code.tooManyPartials.rawValue:
                return try partialLimitError(bound)
            default:
                return nil
            }
        } catch let e as QueryError {
            return e
        } catch {
            return nil
        }
    }

    /// `tooManyGroups` without a store: the query's bound stages run over five rows with a
    /// different value in every slot, under a limit of 2 groups; the error is placed the
    /// way `QueryEngine.run` places it.
    static func groupLimitError(_ query: String, parsed: Query, bound: BoundQuery) throws -> QueryError? {
        let width = bound.slots.count
        let rows: [[Value]] = (0..<5).map { i in (0..<width).map { _ in .string("v\(i)") } }
        var notes: [String] = []
        var context = RowPipeline.Context(groupLimit: 2)
        do {
            _ = try RowPipeline.run(bound.stages, rows: rows, width: width, notes: &notes, context: &context)
            return nil
        } catch let e as GroupLimitExceeded {
            let prepared = QueryEngine.Prepared(text: query, parsed: parsed, bound: bound,
                                                plan: Planner.plan(bound, banks: banks, accountsOf: accountsOf))
            return e.queryError(at: QueryEngine.statsRange(prepared, boundStage: e.stage) ?? .point(0))
        }
    }

    /// `tooManyPartials` without a store: the query's last stage, a sequence keyed on
    /// `src_ip` whose first step matches failures, runs over failures from four addresses
    /// a second apart, allowed 3 partial sequences.
    static func partialLimitError(_ bound: BoundQuery) throws -> QueryError? {
        guard case .sequence(let matcher)? = bound.stages.last else { return nil }
        var m = matcher
        m.limit = 3
        let rows: [[Value]] = (0..<4).map { i in
            var row = [Value](repeating: .null, count: Field.allCases.count)
            row[Int(Field.time.columnID)] = .time(now + Int64(i) * 1000)
            row[Int(Field.seq.columnID)] = .int(Int64(i))
            row[Int(Field.bank.columnID)] = .string("b1")
            row[Int(Field.srcIP.columnID)] = .string("10.0.0.\(i)")
            row[Int(Field.outcome.columnID)] = .string("failure")
            return row
        }
        do {
            _ = try m.run(rows)
            return nil
        } catch {
            return error
        }
    }

    static func rendered(_ error: any Error, _ query: String) -> String {
        guard let e = error as? QueryError else { return "error: \(error)" }
        var text = e.render(query: query, color: false)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }

    // MARK: - Tests

    @Test func parseTrees() throws {
        try check("parse.golden") { c in Self.parseOutput(c.query) }
    }

    @Test func boundFormsAndPlans() throws {
        try check("plans.golden") { c in Self.planOutput(c.query) }
    }

    @Test func errorMessages() throws {
        try check("errors.golden") { c in
            let tag = c.tag ?? ""
            guard let e = Self.queryError(c.query, expecting: tag) else {
                Issue.record("\(c.name): the query gives no error")
                return "(no error)"
            }
            #expect(e.code.rawValue == tag, "\(c.name): the error's code is \(e.code)")
            return Self.rendered(e, c.query)
        }
    }

    /// Every code has a case, every case's tag is a known code.
    @Test func everyErrorCodeHasACase() throws {
        let file = try GoldenFile(url: Self.directory.appendingPathComponent("errors.golden"))
        let tags = Set(file.cases.compactMap(\.tag))
        let codes = Set(Self.allCodes.map(\.rawValue))
        for code in Self.allCodes {
            #expect(tags.contains(code.rawValue), "no case in errors.golden for \(code)")
        }
        for tag in tags.subtracting(codes) {
            Issue.record("errors.golden has a case for '\(tag)', which is not in GoldenTests.allCodes")
        }
        #expect(file.cases.allSatisfy { $0.tag != nil }, "every error case is named 'code: what'")
    }

    /// A scan that materialises no column (a bare `count()`) says so instead of ending
    /// its line in a space.
    @Test func aScanThatReadsNoColumnSaysSo() throws {
        let bound = try Binder(now: Self.now).bind(try Parser.parse("events | stats count()"))
        #expect(bound.dump().split(separator: "\n").contains("scan slots (none)"))
    }

    @Test func theFileFormatRoundTrips() throws {
        let text = "# header\n\n=== a\nevents\n---\n(query events)\n\n=== b: two lines\nevents\n| head\n---\nx\n\ny\n"
        let file = try GoldenFile(text: text)
        #expect(file.header == "# header")
        #expect(file.cases.map(\.name) == ["a", "b: two lines"])
        #expect(file.cases[1].query == "events\n| head")
        #expect(file.cases[1].expected == "x\n\ny")
        #expect(file.cases[1].tag == "b")
        #expect(file.cases[0].tag == nil)
        #expect(file.text == text)
        #expect(firstDifference("a\nb\nc", "a\nx\nc") == "line 2:\n  expected: b\n  actual:   x")
    }

    // MARK: - Running a file

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static var updating: Bool { ProcessInfo.processInfo.environment["SECQ_GOLDEN_UPDATE"] == "1" }

    /// Compares every case's output with the file, or rewrites the file when updating.
    func check(_ name: String, output: (GoldenFile.Case) -> String) throws {
        let url = Self.directory.appendingPathComponent(name)
        var file = try GoldenFile(url: url)
        #expect(!file.cases.isEmpty, "\(name) has no cases")
        var seen = Set<String>()
        var changed: [String] = []
        for i in file.cases.indices {
            let c = file.cases[i]
            #expect(seen.insert(c.name).inserted, "\(name): two cases named '\(c.name)'")
            let actual = output(c)
            guard actual != c.expected else { continue }
            if Self.updating {
                file.cases[i].expected = actual
                changed.append(c.name)
            } else {
                Issue.record("\(name): '\(c.name)' differs at \(firstDifference(c.expected, actual))\nrun tools/golden to regenerate, then review the diff")
            }
        }
        if Self.updating && !changed.isEmpty {
            try file.text.write(to: url, atomically: true, encoding: .utf8)
            print("golden: rewrote \(name): \(changed.count) case(s) changed: \(changed.joined(separator: ", "))")
        }
    }
}

/// The first line where two texts differ, both sides shown.
func firstDifference(_ expected: String, _ actual: String) -> String {
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    for i in 0..<max(e.count, a.count) {
        let l = i < e.count ? String(e[i]) : "(end)"
        let r = i < a.count ? String(a[i]) : "(end)"
        if l != r { return "line \(i + 1):\n  expected: \(l)\n  actual:   \(r)" }
    }
    return "(no difference)"
}

/// A golden file: `#` header lines, then `=== name` / query / `---` / expected cases,
/// separated by blank lines.
struct GoldenFile {
    struct Case {
        var name: String
        var query: String
        var expected: String
        /// For `=== code: what`, the code.
        var tag: String? {
            guard let colon = name.firstIndex(of: ":") else { return nil }
            return String(name[..<colon])
        }
    }

    var header: String
    var cases: [Case]

    init(url: URL) throws {
        try self.init(text: String(contentsOf: url, encoding: .utf8))
    }

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    init(text: String) throws {
        var header: [Substring] = []
        var cases: [Case] = []
        var name: String?
        var query: [Substring] = []
        var expected: [Substring] = []
        var inExpected = false
        func finish() throws {
            guard let n = name else { return }
            guard inExpected else { throw FormatError(description: "case '\(n)' has no '---' line") }
            while expected.last?.isEmpty == true { expected.removeLast() }
            cases.append(Case(name: n, query: query.joined(separator: "\n"), expected: expected.joined(separator: "\n")))
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("=== ") {
                try finish()
                name = String(line.dropFirst(4))
                query = []
                expected = []
                inExpected = false
            } else if name == nil {
                header.append(line)
            } else if !inExpected && line == "---" {
                inExpected = true
            } else if inExpected {
                expected.append(line)
            } else {
                query.append(line)
            }
        }
        try finish()
        while header.last?.isEmpty == true { header.removeLast() }
        self.header = header.joined(separator: "\n")
        self.cases = cases
    }

    var text: String {
        var out = header.isEmpty ? "" : header + "\n\n"
        out += cases.map { "=== \($0.name)\n\($0.query)\n---\n\($0.expected)\n" }.joined(separator: "\n")
        return out
    }
}
