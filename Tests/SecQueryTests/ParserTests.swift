import Foundation
import SecModel
import Testing
@testable import SecQuery

/// `dump()` of the parsed query, or the error description when it does not parse.
func dump(_ query: String) -> String {
    do {
        return try Parser.parse(query).dump()
    } catch {
        return "\(error)"
    }
}

/// The dump of `where EXPR` without the query wrapper: `(where ...)`.
func whereDump(_ expr: String) -> String {
    do {
        let q = try Parser.parse("where " + expr)
        return q.stages[0].dump()
    } catch {
        return "\(error)"
    }
}

@Suite struct StageTests {
    @Test(arguments: [
        ("", "(query)"),
        ("# just a comment", "(query)"),
        ("events", "(query events)"),
        ("findings | head", "(query findings\n  (head 10))"),
        ("compliance", "(query compliance)"),
        ("baselines", "(query baselines)"),
        ("where x == 1 | head 3", "(query\n  (where (== (field x) 1))\n  (head 3))"),
        ("| head 3", "(query\n  (head 3))"),
        ("events | where action == \"ConsoleLogin\"", "(query events\n  (where (== (field action) \"ConsoleLogin\")))"),
        ("events | since 24h", "(query events\n  (since 1d))"),
        ("events | since 90m", "(query events\n  (since 90m))"),
        ("events | since 500ms", "(query events\n  (since 500ms))"),
        ("events | since 2w", "(query events\n  (since 14d))"),
        ("events | between 2026-11-01T00:00:00Z and 2026-11-02T00:00:00Z",
         "(query events\n  (between 2026-11-01T00:00:00Z 2026-11-02T00:00:00Z))"),
        ("events | between 2026-11-01 and \"2026-11-01T12:30:00+01:00\"",
         "(query events\n  (between 2026-11-01T00:00:00Z 2026-11-01T11:30:00Z))"),
        ("events | between '2026-11-01 10:00:00' and 2026-11-01T10:00:00Z",
         "(query events\n  (between 2026-11-01T10:00:00Z 2026-11-01T10:00:00Z))"),
        ("events | fields principal, src_ip, raw.userIdentity.arn", "(query events\n  (fields principal src_ip raw.userIdentity.arn))"),
        ("events | fields `in`, raw.`detail-type`, by", "(query events\n  (fields `in` raw.`detail-type` `by`))"),
        ("events | eval mb = bytes / 1048576", "(query events\n  (eval (= mb (/ (field bytes) 1048576))))"),
        ("events | eval a = x, b = lower(y), `odd name` = 1",
         "(query events\n  (eval (= a (field x)) (= b (call lower (field y))) (= `odd name` 1)))"),
        ("events | sort failures desc", "(query events\n  (sort (desc (field failures))))"),
        ("events | sort a, b asc, c desc", "(query events\n  (sort (asc (field a)) (asc (field b)) (desc (field c))))"),
        ("events | sort count() desc, -bytes", "(query events\n  (sort (desc (call count)) (asc (neg (field bytes)))))"),
        ("events | head", "(query events\n  (head 10))"),
        ("events | head 20", "(query events\n  (head 20))"),
        ("events | head 0", "(query events\n  (head 0))"),
        ("events | stats count()", "(query events\n  (stats (call count)))"),
        ("events | stats count", "(query events\n  (stats (call count)))"),
        ("events | stats count() as failures by principal, src_ip",
         "(query events\n  (stats (as (call count) failures) (by (field principal) (field src_ip))))"),
        ("events | stats count(f), dc(src_ip) as ips, sum(bytes), avg(bytes), min(time), max(time), p50(x), p90(x), p95(x), p99(x), values(region), first(action), last(action)",
         "(query events\n  (stats (call count (field f)) (as (call dc (field src_ip)) ips) (call sum (field bytes)) (call avg (field bytes)) (call min (field time)) (call max (field time)) (call p50 (field x)) (call p90 (field x)) (call p95 (field x)) (call p99 (field x)) (call values (field region)) (call first (field action)) (call last (field action))))"),
        ("events | stats count() by bin(time, 1h), account",
         "(query events\n  (stats (call count) (by (call bin (field time) 1h) (field account))))"),
        ("events | stats anything(1, \"x\") as `weird col`", "(query events\n  (stats (as (call anything 1 \"x\") `weird col`)))"),
        ("events | top 5 src_ip by account", "(query events\n  (top 5 (field src_ip) (by (field account))))"),
        ("events | top principal", "(query events\n  (top 10 (field principal)))"),
        ("events | top 3 src_ip, dst_port", "(query events\n  (top 3 (field src_ip) (field dst_port)))"),
        ("events | rare 5 user_agent by principal", "(query events\n  (rare 5 (field user_agent) (by (field principal))))"),
        ("events | dedup principal", "(query events\n  (dedup (field principal)))"),
        ("events | dedup principal, src_ip", "(query events\n  (dedup (field principal) (field src_ip)))"),
        ("events | timechart span=1h count()", "(query events\n  (timechart (span 1h) (call count)))"),
        ("events | timechart span = 5m count() as n, dc(src_ip) by outcome",
         "(query events\n  (timechart (span 5m) (as (call count) n) (call dc (field src_ip)) (by (field outcome))))"),
        ("events | timechart count() by f", "(query events\n  (timechart (call count) (by (field f))))"),
        ("events | sequence by principal within 10m [action == \"ConsoleLogin\" and outcome == \"failure\"] [action == \"ConsoleLogin\"]",
         "(query events\n  (sequence (by (field principal)) (within 10m) (step (and (== (field action) \"ConsoleLogin\") (== (field outcome) \"failure\"))) (step (== (field action) \"ConsoleLogin\"))))"),
        ("events | sequence by principal within 10m [outcome == \"failure\"] with runs=5 [outcome == \"success\"] until [action == \"Logout\"]",
         "(query events\n  (sequence (by (field principal)) (within 10m) (step (runs 5) (== (field outcome) \"failure\")) (step (== (field outcome) \"success\")) (until (== (field action) \"Logout\"))))"),
        ("events | sequence by principal, account within 1h [a] until b",
         "(query events\n  (sequence (by (field principal) (field account)) (within 1h) (step (field a)) (until (field b))))"),
        ("events | sequence within 10m by principal [a] [b]",
         "(query events\n  (sequence (by (field principal)) (within 10m) (step (field a)) (step (field b))))"),
        ("events | sequence by principal with maxspan=10m [a] [b]",
         "(query events\n  (sequence (by (field principal)) (within 10m) (step (field a)) (step (field b))))"),
        ("events | sequence [a]", "(query events\n  (sequence (step (field a))))"),
        ("events | sequence by principal [a] [b]", "(query events\n  (sequence (by (field principal)) (step (field a)) (step (field b))))"),
    ])
    func stage(query: String, expected: String) {
        #expect(dump(query) == expected)
    }

    @Test func theDesignExample() {
        let query = """
            events | since 24h | where action == "ConsoleLogin" and outcome == "failure"
                   | stats count() as failures by principal, src_ip | where failures > 5
                   | sort failures desc | head 20
            """
        #expect(dump(query) == """
            (query events
              (since 1d)
              (where (and (== (field action) "ConsoleLogin") (== (field outcome) "failure")))
              (stats (as (call count) failures) (by (field principal) (field src_ip)))
              (where (> (field failures) 5))
              (sort (desc (field failures)))
              (head 20))
            """)
    }

    @Test func keywordsAreCaseInsensitiveNamesAreNot() {
        let upper = dump("EVENTS | Since 1h | WHERE Principal == 1 AND NOT x IN (1) OR y CONTAINS 'a' | STATS COUNT() AS N BY Principal | SORT N DESC | HEAD 5")
        let lower = dump("events | since 1h | where Principal == 1 and not x in (1) or y contains 'a' | stats COUNT() as N by Principal | sort N desc | head 5")
        #expect(upper == lower)
        #expect(upper.contains("(field Principal)"))
        #expect(upper.contains("(call COUNT)"))   // function names are kept as written
        #expect(dump("Findings").hasPrefix("(query findings"))
        #expect(dump("where X == TRUE or y == False or z == NULL") == "(query\n  (where (or (or (== (field X) true) (== (field y) false)) (== (field z) null))))")
    }

    @Test func commentsAndLayout() {
        let query = """
            # failed console logins, by user
            events
            | where action == "ConsoleLogin"   // the API call
                and outcome == "failure"       # only failures
            | head 5
            """
        #expect(dump(query) == "(query events\n  (where (and (== (field action) \"ConsoleLogin\") (== (field outcome) \"failure\")))\n  (head 5))")
    }

    @Test func keywordsAreContextual() {
        // Stage keywords and `by`, `as`, `desc` ... are plain names where a name fits.
        #expect(dump("where by == 1 and as == 2 and desc == 3 and where == 4") ==
            "(query\n  (where (and (and (and (== (field `by`) 1) (== (field as) 2)) (== (field desc) 3)) (== (field where) 4))))")
        // A key list cannot hold a bare `by`; text forms always backquote it.
        #expect(dump("stats count() as by by x, `by`") == "(query\n  (stats (as (call count) `by`) (by (field x) (field `by`))))")
        #expect(errorCode("stats count() by by") == .expectedExpression)
        #expect(errorCode("stats count() by x, by") == .expectedExpression)
        #expect(dump("where `and` == 1 and `not`.x == 2") == "(query\n  (where (and (== (field `and`) 1) (== (field `not`.x) 2))))")
    }

    @Test func ranges() throws {
        let text = #"events | where action == "x" | stats count() as n by principal | sort n desc"#
        let q = try Parser.parse(text)
        #expect(q.table == TableRef(name: "events", range: SourceRange(start: 0, end: 6)))
        #expect(q.stages.map { $0.range.text(in: text) } == [#"where action == "x""#, "stats count() as n by principal", "sort n desc"])
        #expect(q.stages.map { $0.keywordRange.text(in: text) } == ["where", "stats", "sort"])
        guard case .where(let w) = q.stages[0], case .binary(.equal, let l, let r, let range) = w.predicate else {
            Issue.record("unexpected tree")
            return
        }
        #expect(range.text(in: text) == #"action == "x""#)
        #expect(l.range.text(in: text) == "action")
        #expect(r.range.text(in: text) == #""x""#)
        guard case .stats(let s) = q.stages[1] else { Issue.record("not stats"); return }
        #expect(s.aggregates[0].range.text(in: text) == "count() as n")
        #expect(s.aggregates[0].call.range.text(in: text) == "count()")
        #expect(s.aggregates[0].call.nameRange.text(in: text) == "count")
        #expect(s.aggregates[0].aliasRange.map { $0.text(in: text) } == "n")
        #expect(s.by[0].range.text(in: text) == "principal")
        guard case .sort(let so) = q.stages[2] else { Issue.record("not sort"); return }
        #expect(so.keys[0].range.text(in: text) == "n desc")
    }

    @Test func expressionRangesCoverWhatWasWritten() throws {
        let text = #"where not (a.b[1] + -2) in (1, 2) and f(x, "y") and -x"#
        let q = try Parser.parse(text)
        guard case .where(let w) = q.stages[0], case .binary(.and, let left, let negation, _) = w.predicate,
              case .binary(.and, let notExpr, let call, _) = left else {
            Issue.record("unexpected tree")
            return
        }
        #expect(notExpr.range.text(in: text) == "not (a.b[1] + -2) in (1, 2)")
        guard case .unary(.not, .inList(let subject, let list, false, _), _) = notExpr else { Issue.record("not an in-list"); return }
        #expect(subject.range.text(in: text) == "a.b[1] + -2")    // parentheses leave no node
        #expect(list.map { $0.range.text(in: text) } == ["1", "2"])
        #expect(call.range.text(in: text) == #"f(x, "y")"#)
        #expect(negation.range.text(in: text) == "-x")
    }

    @Test func firstWordsFromOtherLanguagesPointAtOurs() {
        #expect(renderedError("take 5").hasSuffix("^^^^ use 'head'"))
        #expect(renderedError("events | limit 5").hasSuffix("^^^^^ use 'head'"))
        #expect(renderedError("events | project a, b").hasSuffix("^^^^^^^ use 'fields'"))
    }

    @Test func tableNameAndDefaults() throws {
        #expect(try Parser.parse("").tableName == "events")
        #expect(try Parser.parse("where x").tableName == "events")
        #expect(try Parser.parse("compliance | head").tableName == "compliance")
        #expect(try Parser.parse("where x").table == nil)
    }

    @Test func aLexicalErrorLaterDoesNotHideAnEarlierSyntaxError() {
        #expect(errorCode(#"where x == ) | where y == "open"#) == .expectedExpression)
        #expect(errorCode(#"where x == 1 | where y == "open"#) == .unterminatedString)
    }
}

@Suite struct ExpressionTests {
    @Test(arguments: [
        ("a == 1", "(where (== (field a) 1))"),
        ("a != 1", "(where (!= (field a) 1))"),
        ("a < 1", "(where (< (field a) 1))"),
        ("a <= 1", "(where (<= (field a) 1))"),
        ("a > 1", "(where (> (field a) 1))"),
        ("a >= 1", "(where (>= (field a) 1))"),
        ("a =~ \"Root\"", "(where (=~ (field a) \"Root\"))"),
        ("a contains \"x\"", "(where (contains (field a) \"x\"))"),
        ("a startswith \"x\"", "(where (startswith (field a) \"x\"))"),
        ("a endswith \"x\"", "(where (endswith (field a) \"x\"))"),
        ("a matches \"^ab+$\"", "(where (matches (field a) \"^ab+$\"))"),
        ("a not contains \"x\"", "(where (not (contains (field a) \"x\")))"),
        ("a !contains \"x\"", "(where (not (contains (field a) \"x\")))"),
        ("a not startswith \"x\"", "(where (not (startswith (field a) \"x\")))"),
        ("a not endswith \"x\"", "(where (not (endswith (field a) \"x\")))"),
        ("a not matches \"x\"", "(where (not (matches (field a) \"x\")))"),
        ("a in (1, 2, 3)", "(where (in (field a) 1 2 3))"),
        ("a in (\"x\")", "(where (in (field a) \"x\"))"),
        ("a not in (1, 2)", "(where (not-in (field a) 1 2))"),
        ("a !in (1, 2)", "(where (not-in (field a) 1 2))"),
        ("src_ip in cidr(\"10.0.0.0/8\", \"2001:db8::/32\")", "(where (in-cidr (field src_ip) \"10.0.0.0/8\" \"2001:db8::/32\"))"),
        ("src_ip not in cidr(\"10.0.0.0/8\")", "(where (not-in-cidr (field src_ip) \"10.0.0.0/8\"))"),
        ("src_ip in CIDR('192.168.0.0/16')", "(where (in-cidr (field src_ip) \"192.168.0.0/16\"))"),
        ("a and b", "(where (and (field a) (field b)))"),
        ("a && b", "(where (and (field a) (field b)))"),
        ("a or b", "(where (or (field a) (field b)))"),
        ("a || b", "(where (or (field a) (field b)))"),
        ("not a", "(where (not (field a)))"),
        ("!a", "(where (not (field a)))"),
        ("not not a", "(where (not (not (field a))))"),
        ("a + b - c", "(where (- (+ (field a) (field b)) (field c)))"),
        ("a * b / c % d", "(where (% (/ (* (field a) (field b)) (field c)) (field d)))"),
        ("-a", "(where (neg (field a)))"),
        ("- -a", "(where (neg (neg (field a))))"),
        ("exists(raw.errorCode)", "(where (call exists (field raw.errorCode)))"),
        ("f()", "(where (call f))"),
        ("lower(user_agent) contains \"python\"", "(where (contains (call lower (field user_agent)) \"python\"))"),
        ("coalesce(a, b, \"none\") == \"x\"", "(where (== (call coalesce (field a) (field b) \"none\") \"x\"))"),
    ])
    func operators(expr: String, expected: String) {
        #expect(whereDump(expr) == expected)
    }

    @Test(arguments: [
        ("a or b and not c == 1", "(where (or (field a) (and (field b) (not (== (field c) 1)))))"),
        ("a and b or c and d", "(where (or (and (field a) (field b)) (and (field c) (field d))))"),
        ("not a and b", "(where (and (not (field a)) (field b)))"),
        ("not a == 1 or b", "(where (or (not (== (field a) 1)) (field b)))"),
        ("(a or b) and c", "(where (and (or (field a) (field b)) (field c)))"),
        ("a + b * c == d - e / f", "(where (== (+ (field a) (* (field b) (field c))) (- (field d) (/ (field e) (field f)))))"),
        ("(a + b) * c", "(where (* (+ (field a) (field b)) (field c)))"),
        ("-a * b", "(where (* (neg (field a)) (field b)))"),
        ("-(a * b)", "(where (neg (* (field a) (field b))))"),
        ("a - -1", "(where (- (field a) -1))"),
        ("a-1", "(where (- (field a) 1))"),
        ("bytes / 1024 > 10 and x in (1) or y =~ \"z\"", "(where (or (and (> (/ (field bytes) 1024) 10) (in (field x) 1)) (=~ (field y) \"z\")))"),
        ("a + 1 in (2, 3)", "(where (in (+ (field a) 1) 2 3))"),
        ("not a in (1)", "(where (not (in (field a) 1)))"),
        ("a == (b == c)", "(where (== (field a) (== (field b) (field c))))"),
        ("((((a))))", "(where (field a))"),
        ("a && b || !c", "(where (or (and (field a) (field b)) (not (field c))))"),
    ])
    func precedence(expr: String, expected: String) {
        #expect(whereDump(expr) == expected)
    }

    @Test(arguments: [
        (#"x == "plain""#, #"(where (== (field x) "plain"))"#),
        (#"x == 'single'"#, #"(where (== (field x) "single"))"#),
        (#"x == "q\"uote\\back\nline\ttab""#, #"(where (== (field x) "q\"uote\\back\nline\ttab"))"#),
        (#"x == 'it\'s'"#, #"(where (== (field x) "it's"))"#),
        (#"x == "\u{e9}\u{1F600}""#, #"(where (== (field x) "é😀"))"#),
        (#"x == "\u{7}""#, #"(where (== (field x) "\u{7}"))"#),
        (#"src_ip == "2001:db8::1""#, #"(where (== (field src_ip) "2001:db8::1"))"#),
        (#"src_ip == "fe80::1%eth0""#, #"(where (== (field src_ip) "fe80::1%eth0"))"#),
        ("x == 42", "(where (== (field x) 42))"),
        ("x == -42", "(where (== (field x) -42))"),
        ("x == 9223372036854775807", "(where (== (field x) 9223372036854775807))"),
        ("x == -9223372036854775808", "(where (== (field x) -9223372036854775808))"),
        ("x == 1.5", "(where (== (field x) 1.5))"),
        ("x == -0.25", "(where (== (field x) -0.25))"),
        ("x == 2e3", "(where (== (field x) 2000.0))"),
        ("x == 1.0", "(where (== (field x) 1.0))"),
        ("x == true", "(where (== (field x) true))"),
        ("x == false", "(where (== (field x) false))"),
        ("x == null", "(where (== (field x) null))"),
        ("x != NULL", "(where (!= (field x) null))"),
        ("x < 30s", "(where (< (field x) 30s))"),
        ("x < 24h", "(where (< (field x) 1d))"),
        ("x < 1500ms", "(where (< (field x) 1500ms))"),
        ("x < 1y", "(where (< (field x) 365d))"),
        ("time > 2026-11-01T00:00:00Z", "(where (> (field time) 2026-11-01T00:00:00Z))"),
        ("time > 2026-11-01", "(where (> (field time) 2026-11-01T00:00:00Z))"),
        ("time > 2026-11-01T10:00:00.250+02:00", "(where (> (field time) 2026-11-01T08:00:00.250Z))"),
        ("time > 2026-11-01 - 1d", "(where (> (field time) (- 2026-11-01T00:00:00Z 1d)))"),
    ])
    func literals(expr: String, expected: String) {
        #expect(whereDump(expr) == expected)
    }

    @Test(arguments: [
        ("principal", "(field principal)"),
        ("raw.requestParameters.bucketName", "(field raw.requestParameters.bucketName)"),
        ("raw.resources[0].ARN", "(field raw.resources[0].ARN)"),
        ("raw.a[0][12].b", "(field raw.a[0][12].b)"),
        ("raw.`detail-type`", "(field raw.`detail-type`)"),
        ("`odd key`.x", "(field `odd key`.x)"),
        ("raw.`a.b`", "(field raw.`a.b`)"),
        ("raw.in.by.not", "(field raw.in.by.not)"),
        ("raw.``", "(field raw.``)"),
        ("raw .x", "(field raw.x)"),
    ])
    func fieldPaths(expr: String, expected: String) {
        #expect(whereDump(expr) == "(where \(expected))")
    }

    @Test func fieldPathSegments() throws {
        let e = try Parser.parseExpression("raw.resources[0].`detail-type`")
        guard case .field(let path) = e else { Issue.record("not a field"); return }
        #expect(path.segments == [.name("raw"), .name("resources"), .index(0), .name("detail-type")])
        #expect(path.root == "raw")
        #expect(!path.isSimple)
    }

    @Test func anIndexMustTouchItsField() {
        // In a sequence the next step starts with '[': a space keeps it a step.
        #expect(dump("sequence by principal [a] [b]") == "(query\n  (sequence (by (field principal)) (step (field a)) (step (field b))))")
        #expect(errorCode("sequence by principal[a] [b]") == .unexpectedToken)
    }

    @Test func parseExpressionAlone() throws {
        #expect(try Parser.parseExpression(#"action == "ConsoleLogin" and outcome == "failure""#).dump() ==
            #"(and (== (field action) "ConsoleLogin") (== (field outcome) "failure"))"#)
        #expect(throws: QueryError.self) { try Parser.parseExpression("a == 1 | head") }
        #expect(throws: QueryError(.expectedExpression, "expected an expression", at: .point(0))) { try Parser.parseExpression("") }
        #expect(throws: QueryError.self) { try Parser.parseExpression("a b") }
    }
}

/// Every parsed query in the tests above, for the properties below.
let corpus: [String] = [
    "",
    "events",
    #"events | since 24h | where action == "ConsoleLogin" and outcome == "failure" | stats count() as failures by principal, src_ip | where failures > 5 | sort failures desc | head 20"#,
    "where x == 1 | head 3",
    "findings | where severity >= 7.5 and finding_type startswith \"UnauthorizedAccess:\" | sort severity desc",
    "events | between 2026-11-01T00:00:00Z and \"2026-11-02\" | fields principal, raw.userIdentity.arn, raw.resources[0].ARN",
    "events | eval mb = bytes / 1048576, slow = duration > 30s | where mb > 100 or slow",
    "events | where src_ip in cidr(\"10.0.0.0/8\", \"2001:db8::/32\") and not dst_port in (22, 3389) | top 10 src_ip by account",
    "events | where raw.`detail-type` =~ \"aws api call via cloudtrail\" and user_agent not contains 'aws-cli'",
    "events | timechart span=1h count() as n, dc(principal) by outcome",
    "events | rare 5 user_agent by principal | dedup principal, user_agent",
    "events | sequence by principal within 10m [action == \"ConsoleLogin\" and outcome == \"failure\"] with runs=5 [action == \"ConsoleLogin\" and outcome == \"success\"] until [action == \"Logout\"]",
    "events | where -x * 2 - -3 % 4 > a + b * c and (a or b) and not (c and d) or e",
    "events | where x == -9223372036854775808 and y == 1.5e-7 and z == null and w == true and t > 2026-11-01T10:00:00.5Z",
    "events | stats count(), p95(bytes) as p, values(region) by bin(time, 1h), account | sort p desc, account",
    "events | where `in` == 1 and raw.in == 2 and `a b`.c[3] == 'x\\n\\t\"\\u{1F600}'",
    "events | where a == (b == c) and (a < b) == (c < d) and not not x and -(-x) == x",
    "events | where f(g(h(1)), \"s\", 2026-11-01) in (1, (2), -3)",
]

@Suite struct PropertyTests {
    /// The canonical text of a tree parses back to the same tree.
    @Test(arguments: corpus)
    func roundTrip(query: String) throws {
        let parsed = try Parser.parse(query)
        let printed = parsed.description
        let reparsed = try Parser.parse(printed)
        #expect(reparsed.dump() == parsed.dump(), "printed as: \(printed)")
        #expect(reparsed.description == printed)
    }

    @Test func printingTreesTheParserDoesNotBuild() throws {
        // A minus before a number is folded by the parser; a tree built by hand keeps it.
        let r = SourceRange.point(0)
        let negatedFive = Expr.unary(.negate, .literal(.int(5), range: r), range: r)
        #expect(negatedFive.description == "-(5)")
        #expect(try Parser.parseExpression(negatedFive.description).dump() == "(neg 5)")
        let doubleNegation = Expr.unary(.negate, .unary(.negate, .field(FieldPath(segments: [.name("x")], range: r)), range: r), range: r)
        #expect(doubleNegation.description == "- -x")
        #expect(Expr.literal(.time(Timestamp.parse("0999-01-01")!), range: r).description == "0999-01-01T00:00:00Z")
    }

    /// Whitespace, line breaks and comments between tokens change no tree.
    @Test(arguments: corpus)
    func layoutDoesNotMatter(query: String) throws {
        let expected = try Parser.parse(query).dump()
        let tokens = try Lexer.tokenize(query)
        let bytes = Array(query.utf8)
        var rng = SplitMix64(seed: UInt64(query.utf8.count))
        let fillers = [" ", "\n", "\t", "  \n  ", " # comment\n", " // comment\n", "\r\n", "\u{00A0}"]
        for _ in 0..<20 {
            var out = ""
            var previous = 0
            for t in tokens where t.kind != .end {
                let text = String(decoding: bytes[t.range.start..<t.range.end], as: UTF8.self)
                let filler = fillers[Int(rng.next() % UInt64(fillers.count))]
                if t.range.start > previous {
                    out += filler
                } else if text != "[", rng.next() % 2 == 0 {
                    // Touching tokens may be pulled apart, except an index and its field.
                    out += filler
                }
                out += text
                previous = t.range.end
            }
            out += fillers[Int(rng.next() % UInt64(fillers.count))]
            #expect(dump(out) == expected, "variant: \(out)")
        }
    }

    /// Random edits of good queries never crash the parser, and every error points inside
    /// the text and renders.
    @Test func mutationsNeverCrash() {
        var rng = SplitMix64(seed: 42)
        let alphabet: [[Character]] = (Array("()[]|,.=!<>~+-*/%&\"'`\\#: \n\t0123456789abcdeyz_é\u{201C}").map { [$0] }
            + ["in", "not", "and", "by", "2026-11-01", "24h", "cidr("].map(Array.init))
        for query in corpus where !query.isEmpty {
            for _ in 0..<200 {
                var chars = Array(query)
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    let i = Int(rng.next() % UInt64(chars.count + 1))
                    let piece = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                    switch rng.next() % 3 {
                    case 0 where i < chars.count: chars.remove(at: i)
                    case 1 where i < chars.count: chars.replaceSubrange(i...i, with: piece)
                    default: chars.insert(contentsOf: piece, at: i)
                    }
                }
                let text = String(chars)
                do {
                    let parsed = try Parser.parse(text)
                    do {
                        #expect(try Parser.parse(parsed.description).dump() == parsed.dump(), "round trip of \(text)")
                    } catch {
                        Issue.record("\(text) printed as \(parsed.description), which fails: \(error)")
                    }
                } catch {
                    #expect(error.range.start >= 0 && error.range.end <= text.utf8.count, "range of \(error) in \(text)")
                    #expect(!error.message.isEmpty && error.message.first!.isLowercase || error.message.first == "'")
                    #expect(!error.message.hasSuffix("."))
                    #expect(error.render(query: text).hasPrefix("error: "))
                }
            }
        }
    }

    @Test func parsingIsFast() throws {
        // A long but realistic query: parse it many times; a debug build still takes well
        // under a millisecond each.
        let query = corpus[2] + " | " + corpus[11].dropFirst("events | ".count)
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for _ in 0..<200 { _ = try Parser.parse(query) }
        }
        #expect(elapsed < .seconds(2))
    }
}

/// A small deterministic generator, so property tests fail the same way every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The deepest input the parser accepts must not exhaust a small stack: 512 KiB is what
/// macOS gives secondary threads and Swift concurrency's pool, and a debug build (these
/// tests) uses far more stack per call than a release build.
@Suite struct StackDepthTests {
    static func repeated(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }
    static let n = Parser.maxNesting

    static let deepest: [(String, String)] = [
        ("parentheses", "where " + repeated("(", n) + "x" + repeated(")", n)),
        ("calls", "where " + repeated("f(", n) + "x" + repeated(")", n)),
        ("in lists", "where " + repeated("x in (", n) + "1" + repeated(")", n)),
        ("not", "where " + repeated("not ", n) + "x"),
        ("minus", "where " + repeated("-", n) + "x"),
        ("or chain", "where " + (1..<Parser.maxTreeDepth).map { "x == \($0)" }.joined(separator: " or ")),
    ]

    @Test(arguments: deepest)
    func deepestAcceptedInputFitsInASmallStack(name: String, query: String) {
        let outcome = onSmallStack {
            do {
                let q = try Parser.parse(query)
                let printed = try Parser.parse(q.description)
                return q == q && printed.dump() == q.dump() ? "ok" : "round trip differs"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcome == "ok")
    }

    @Test func oneLevelMoreIsAnError() {
        #expect(errorCode("where " + Self.repeated("(", Self.n + 1) + "x" + Self.repeated(")", Self.n + 1)) == .nestingTooDeep)
        #expect(errorCode("where " + Self.repeated("x in (", Self.n + 1) + "1" + Self.repeated(")", Self.n + 1)) == .nestingTooDeep)
        #expect(errorCode("where " + (1...Parser.maxTreeDepth).map { "x == \($0)" }.joined(separator: " or ")) == .nestingTooDeep)
    }

    /// Runs `body` on a thread with a 512 KiB stack and returns its result.
    func onSmallStack(_ body: @escaping @Sendable () -> String) -> String {
        // The semaphore orders the write before the read.
        nonisolated(unsafe) var result = ""
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            result = body()
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        return result
    }
}
