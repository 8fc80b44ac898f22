import Testing
@testable import SecQuery

/// The error `Parser.parse` throws for `query`, rendered (without the final line break).
func renderedError(_ query: String, name: String = "query") -> String {
    do {
        let parsed = try Parser.parse(query)
        return "parsed: " + parsed.dump()
    } catch {
        var text = error.render(query: query, name: name)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

/// The error the binder reports for `query` (parsed, then bound at `now`), rendered
/// without colour and without the final line break; "bound" when it binds.
func bindError(_ query: String, now: Int64 = 0) -> String {
    do {
        _ = try Binder(now: now).bind(try Parser.parse(query))
        return "bound"
    } catch {
        var text = withoutANSI(error.render(query: query))
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

func withoutANSI(_ text: String) -> String {
    var out = ""
    var inEscape = false
    for c in text {
        if c == "\u{1B}" { inEscape = true } else if inEscape { if c == "m" { inEscape = false } } else { out.append(c) }
    }
    return out
}

/// The code of the error `Parser.parse` throws for `query`, or nil when it parses.
func errorCode(_ query: String) -> QueryError.Code? {
    do {
        _ = try Parser.parse(query)
        return nil
    } catch {
        return error.code
    }
}

@Suite struct RenderTests {
    @Test func theExampleFromTheDesign() {
        // The binder reports unknown fields; render is the same for every stage.
        let query = #"events | where princpal == "root""#
        let error = QueryError(.unknownField, "unknown field 'princpal'", at: SourceRange(start: 15, end: 23),
                               help: "did you mean 'principal'?")
        #expect(error.render(query: query) == #"""
            error: unknown field 'princpal'
             --> query:1:16
              |
            1 | events | where princpal == "root"
              |                ^^^^^^^^ did you mean 'principal'?

            """#)
    }

    @Test func fileNameAndNoHelp() {
        let error = QueryError(.typeMismatch, "cannot compare 'bytes' with a string", at: SourceRange(start: 6, end: 11))
        #expect(error.render(query: "where bytes > \"x\"", name: "rules/big.secq") == """
            error: cannot compare 'bytes' with a string
             --> rules/big.secq:1:7
              |
            1 | where bytes > "x"
              |       ^^^^^

            """)
    }

    @Test func gutterWidensForLineTen() {
        let query = (1...9).map { "# comment \($0)" }.joined(separator: "\n") + "\nevents | wher x"
        #expect(renderedError(query) == """
            error: unknown stage 'wher'
              --> query:10:10
               |
            10 | events | wher x
               |          ^^^^ did you mean 'where'?
            """)
    }

    @Test func rangeOverLinesIsUnderlinedToTheEndOfItsFirstLine() {
        let query = "where (a ==\n 1)"
        let error = QueryError(.typeMismatch, "bad", at: SourceRange(start: 6, end: 15))
        #expect(error.render(query: query) == """
            error: bad
             --> query:1:7
              |
            1 | where (a ==
              |       ^^^^^

            """)
    }

    @Test func columnsCountCharactersNotBytes() {
        #expect(renderedError(#"where x == "héllo" wher"#) == #"""
            error: expected 'and', 'or' or '|' after the condition
             --> query:1:20
              |
            1 | where x == "héllo" wher
              |                    ^^^^
            """#)
    }

    @Test func tabsShowAsFourSpaces() {
        #expect(renderedError("events\t| wher\tx") == """
            error: unknown stage 'wher'
             --> query:1:10
              |
            1 | events    | wher    x
              |             ^^^^ did you mean 'where'?
            """)
    }

    @Test func crlfLineBreaks() {
        #expect(renderedError("events\r\n| wher x\r\n") == """
            error: unknown stage 'wher'
             --> query:2:3
              |
            2 | | wher x
              |   ^^^^ did you mean 'where'?
            """)
    }

    @Test func controlAndBidiCharactersNeverReachTheTerminal() {
        let query = "where x == \"a\u{202E}b\u{1B}[31m\" and"
        let text = renderedError(query)
        #expect(!text.contains("\u{202E}"))
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("\u{FFFD}"))
    }

    @Test func color() {
        let error = QueryError(.unknownStage, "unknown stage 'wher'", at: SourceRange(start: 0, end: 4), help: "did you mean 'where'?")
        let text = error.render(query: "wher x", color: true)
        #expect(text.hasPrefix("\u{1B}[1;31merror\u{1B}[0m\u{1B}[1m: unknown stage 'wher'"))
        #expect(text.contains("\u{1B}[1;31m^^^^ did you mean 'where'?\u{1B}[0m"))
        #expect(withoutANSI(text) == error.render(query: "wher x"))
    }

    @Test func quoteEscapesAndShortens() {
        #expect(QueryError.quote("princpal") == "'princpal'")
        #expect(QueryError.quote("a\nb\u{202E}") == #"'a\u{a}b\u{202e}'"#)
        #expect(QueryError.quote(String(repeating: "x", count: 50)) == "'" + String(repeating: "x", count: 40) + "...'")
    }

    @Test func descriptionForLogs() {
        let error = QueryError(.unknownStage, "unknown stage 'wher'", at: SourceRange(start: 9, end: 13), help: "did you mean 'where'?")
        #expect(error.description == "error[unknownStage] at 9..<13: unknown stage 'wher' (did you mean 'where'?)")
    }

    @Test func catchByCode() {
        var caught = false
        do {
            _ = try Parser.parse("events | wher")
        } catch QueryError.Code.unknownStage {
            caught = true
        } catch {}
        #expect(caught)
    }
}

@Suite struct SourceLocationTests {
    @Test(arguments: [
        ("abc", 0, 1, 1),
        ("abc", 3, 1, 4),
        ("a\nbc", 2, 2, 1),
        ("a\nbc", 3, 2, 2),
        ("é\nx", 2, 1, 2),      // after the two bytes of é: column 2
        ("é\nx", 3, 2, 1),
        ("abc", 99, 1, 4),      // clamped
    ])
    func location(text: String, offset: Int, line: Int, column: Int) {
        #expect(SourceRange.point(offset).location(in: text) == SourceLocation(line: line, column: column))
    }

    @Test func rangeHelpers() {
        let r = SourceRange(start: 2, end: 5)
        #expect(r.union(SourceRange(start: 7, end: 9)) == SourceRange(start: 2, end: 9))
        #expect(r.text(in: "abcdefg") == "cde")
        #expect(r.count == 3)
        #expect(SourceRange.point(4).isEmpty)
    }
}

/// One golden rendering per error code the lexer and parser produce, and the places
/// where the caret is easy to get wrong (multi-line queries, the end of the query).
@Suite struct ErrorGoldenTests {
    static let cases: [(code: String, query: String, rendered: String)] = [
        ("unexpectedCharacter", "events | where x == 1; head 5", """
            error: unexpected character ';'
             --> query:1:22
              |
            1 | events | where x == 1; head 5
              |                      ^ separate stages with '|'
            """),
        ("unexpectedCharacter", "events | where \u{201C}root\u{201D}", """
            error: unexpected character '\u{201C}'
             --> query:1:16
              |
            1 | events | where \u{201C}root\u{201D}
              |                ^ use a straight double quote '"'
            """),
        ("unterminatedString", #"events | where x == "abc"#, #"""
            error: unterminated string
             --> query:1:21
              |
            1 | events | where x == "abc
              |                     ^^^^ add a closing '"'
            """#),
        ("unterminatedString", "where x == 'abc\n| head 5", #"""
            error: unterminated string
             --> query:1:12
              |
            1 | where x == 'abc
              |            ^^^^ add a closing "'"
            """#),
        ("unterminatedString", "where raw.`detail-type == 1", """
            error: unterminated quoted name
             --> query:1:11
              |
            1 | where raw.`detail-type == 1
              |           ^^^^^^^^^^^^^^^^^ add a closing '`'
            """),
        ("invalidEscape", #"events | where user_agent matches "\d+""#, #"""
            error: unknown escape '\d' in string
             --> query:1:36
              |
            1 | events | where user_agent matches "\d+"
              |                                    ^^ write '\\' for a backslash, so a regex digit is '\\d'
            """#),
        ("invalidEscape", #"where x == "\u{110000}""#, #"""
            error: invalid unicode escape '\u{110000}'
             --> query:1:13
              |
            1 | where x == "\u{110000}"
              |             ^^^^^^^^^^ write '\u{' then 1 to 8 hex digits of a scalar and '}', like '\u{e9}'
            """#),
        ("invalidNumber", "events | head 99999999999999999999", """
            error: integer '99999999999999999999' is too large
             --> query:1:15
              |
            1 | events | head 99999999999999999999
              |               ^^^^^^^^^^^^^^^^^^^^ integers go up to 9223372036854775807
            """),
        ("invalidNumber", "where x == -9223372036854775809", """
            error: integer '-9223372036854775809' is too large
             --> query:1:12
              |
            1 | where x == -9223372036854775809
              |            ^^^^^^^^^^^^^^^^^^^^ integers go down to -9223372036854775808
            """),
        ("invalidNumber", "where x == 0x1F", """
            error: invalid number '0x1F'
             --> query:1:12
              |
            1 | where x == 0x1F
              |            ^^^^ numbers are digits with an optional fraction and exponent, like 42, 1.5 or 2e6
            """),
        ("invalidDuration", "events | since 10min", """
            error: invalid duration '10min'
             --> query:1:16
              |
            1 | events | since 10min
              |                ^^^^^ did you mean '10m'?
            """),
        ("invalidDuration", "events | since 24", """
            error: duration '24' has no unit
             --> query:1:16
              |
            1 | events | since 24
              |                ^^ add a unit, like '24h' (ms, s, m, h, d, w, y)
            """),
        ("invalidDuration", "events | since 1.5h", """
            error: duration '1.5h' is not a whole number
             --> query:1:16
              |
            1 | events | since 1.5h
              |                ^^^^ use a smaller unit, like '90m' for 1.5h
            """),
        ("invalidDuration", "sequence by principal within 0s [a] [b]", """
            error: duration '0s' must be longer than zero
             --> query:1:30
              |
            1 | sequence by principal within 0s [a] [b]
              |                              ^^
            """),
        ("invalidTime", "events | between 2026-02-30 and 2026-03-01", """
            error: invalid time '2026-02-30'
             --> query:1:18
              |
            1 | events | between 2026-02-30 and 2026-03-01
              |                  ^^^^^^^^^^ write RFC 3339, like 2026-11-01T00:00:00Z or 2026-11-01
            """),
        ("invalidTime", #"between "yesterday" and 2026-03-01"#, """
            error: invalid time 'yesterday'
             --> query:1:9
              |
            1 | between "yesterday" and 2026-03-01
              |         ^^^^^^^^^^^ write RFC 3339, like 2026-11-01T00:00:00Z or 2026-11-01
            """),
        ("invalidTime", "between 2026-11-02 and 2026-11-01", """
            error: start time '2026-11-02T00:00:00Z' is after end time '2026-11-01T00:00:00Z'
             --> query:1:1
              |
            1 | between 2026-11-02 and 2026-11-01
              | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ swap the two times
            """),
        ("unexpectedToken", "events |", """
            error: expected a stage name after '|' (where, stats, sort, head, ...)
             --> query:1:9
              |
            1 | events |
              |         ^
            """),
        ("unexpectedToken", "events | stats count(x y)", """
            error: expected ')' after arguments of 'count'
             --> query:1:24
              |
            1 | events | stats count(x y)
              |                        ^ separate arguments with ','
            """),
        ("unexpectedToken", "events | stats count(principal", """
            error: expected ')' after arguments of 'count'
             --> query:1:31
              |
            1 | events | stats count(principal
              |                               ^
            """),
        ("unexpectedToken", "events | where x = 1", """
            error: expected '==' to compare, found '='
             --> query:1:18
              |
            1 | events | where x = 1
              |                  ^ '=' only assigns, in 'eval name = ...'
            """),
        ("unexpectedToken", "events where x == 1", """
            error: expected '|' after the table name
             --> query:1:8
              |
            1 | events where x == 1
              |        ^^^^^ add '|' before 'where'
            """),
        ("unexpectedToken", "where a < b < c", """
            error: comparisons cannot be chained
             --> query:1:13
              |
            1 | where a < b < c
              |             ^ join comparisons with 'and', like 'a < b and b < c'
            """),
        ("unexpectedToken", "events\n| where (action == \"ConsoleLogin\"\n| head 5", """
            error: expected ')' to close the '(' at 2:9
             --> query:3:1
              |
            3 | | head 5
              | ^
            """),
        ("expectedExpression", "events | where x ==", """
            error: expected an expression after '=='
             --> query:1:20
              |
            1 | events | where x ==
              |                    ^
            """),
        ("expectedExpression", "events\n| where action == \"ConsoleLogin\"\n| stats count() by # per what?\n\n", """
            error: expected an expression after 'by'
             --> query:3:19
              |
            3 | | stats count() by # per what?
              |                   ^
            """),
        ("expectedExpression", "events | stats count(*)", """
            error: expected an expression or ')' after '('
             --> query:1:22
              |
            1 | events | stats count(*)
              |                      ^ write 'count()' to count rows
            """),
        ("expectedExpression", "where in == 1", """
            error: expected an expression after 'where'
             --> query:1:7
              |
            1 | where in == 1
              |       ^^ 'in' is a keyword; write `in` for a field of that name
            """),
        ("unknownStage", "events | wher x == 1", """
            error: unknown stage 'wher'
             --> query:1:10
              |
            1 | events | wher x == 1
              |          ^^^^ did you mean 'where'?
            """),
        ("unknownStage", "events | summarize count() by principal", """
            error: unknown stage 'summarize'
             --> query:1:10
              |
            1 | events | summarize count() by principal
              |          ^^^^^^^^^ use 'stats', like 'stats count() by principal'
            """),
        ("unknownStage", "principal == \"root\"", """
            error: expected a table or a stage to start the query
             --> query:1:1
              |
            1 | principal == "root"
              | ^^^^^^^^^ to filter, start with 'where', like 'where principal == ...'
            """),
        ("unknownTable", "event | head 5", """
            error: unknown table 'event'
             --> query:1:1
              |
            1 | event | head 5
              | ^^^^^ did you mean 'events'?
            """),
        ("unknownKeyword", "events | where x == 1 adn y == 2", """
            error: expected 'and', 'or' or '|' after the condition
             --> query:1:23
              |
            1 | events | where x == 1 adn y == 2
              |                       ^^^ did you mean 'and'?
            """),
        ("unknownKeyword", "events | sort failures descending", """
            error: expected 'asc', 'desc', ',' or '|' after the sort key
             --> query:1:24
              |
            1 | events | sort failures descending
              |                        ^^^^^^^^^^ did you mean 'desc'?
            """),
        ("unknownKeyword", "events | stats count() bye principal", """
            error: expected 'as', ',', 'by' or '|' after the aggregate
             --> query:1:24
              |
            1 | events | stats count() bye principal
              |                        ^^^ did you mean 'by'?
            """),
        ("nestingTooDeep", "where " + String(repeating: "not ", count: 70) + "x", """
            error: expression is nested too deeply
             --> query:1:263
              |
            1 | where \(String(repeating: "not ", count: 70))x
              | \(String(repeating: " ", count: 262))^^^ at most 64 levels of parentheses, 'not', calls and lists
            """),
    ]

    @Test(arguments: cases)
    func golden(code: String, query: String, rendered: String) {
        #expect(renderedError(query) == rendered)
        #expect(errorCode(query)?.rawValue == code)
    }

    @Test func everyParserCodeHasAGolden() {
        let covered = Set(Self.cases.map(\.code))
        let parserCodes: [QueryError.Code] = [
            .unexpectedCharacter, .unterminatedString, .invalidEscape, .invalidNumber, .invalidDuration, .invalidTime,
            .unexpectedToken, .expectedExpression, .unknownStage, .unknownTable, .unknownKeyword, .nestingTooDeep,
        ]
        for code in parserCodes { #expect(covered.contains(code.rawValue), "no golden for \(code)") }
    }

    @Test func longOrChainsAreRefusedBeforeTheyCanExhaustAStack() {
        let query = "where " + (1...(Parser.maxTreeDepth + 1)).map { "x == \($0)" }.joined(separator: " or ")
        #expect(errorCode(query) == .nestingTooDeep)
        let fine = "where " + (1...100).map { "x == \($0)" }.joined(separator: " or ")
        #expect(errorCode(fine) == nil)
    }
}

@Suite struct SuggestTests {
    static let stages = Parser.stages
    static let fields = ["principal", "principal_type", "src_ip", "dst_ip", "action", "outcome", "access_key"]

    @Test(arguments: [
        ("wher", "where"), ("WHERE", "where"), ("whree", "where"), ("stat", "stats"), ("sotr", "sort"),
        ("haed", "head"), ("timechar", "timechart"), ("seqeunce", "sequence"), ("dedupe", "dedup"),
        ("fileds", "fields"),
    ])
    func stageNames(word: String, expected: String) {
        #expect(Suggest.nearest(word, in: Self.stages) == expected)
    }

    @Test(arguments: [
        ("princpal", "principal"), ("Principal", "principal"), ("pirncipal", "principal"), ("srcip", "src_ip"),
        ("src_ipp", "src_ip"), ("acess_key", "access_key"), ("principal_typ", "principal_type"),
    ])
    func fieldNames(word: String, expected: String) {
        #expect(Suggest.nearest(word, in: Self.fields) == expected)
    }

    @Test(arguments: ["x", "zzzz", "bytes", "", "completely_different"])
    func nothingCloseEnough(word: String) {
        #expect(Suggest.nearest(word, in: Self.fields) == nil)
    }

    @Test func tiesDoNotDependOnOrder() {
        // `an` is one edit from `and`, `in` and `on`; a word it starts beats the others.
        #expect(Suggest.nearest("an", in: ["in", "on", "and"]) == "and")
        #expect(Suggest.nearest("an", in: ["and", "on", "in"]) == "and")
        #expect(Suggest.nearest("ab", in: Set(["ac", "ad"])) == "ac")
    }

    @Test(arguments: [("kitten", "sitting", 3), ("ab", "ba", 1), ("", "abc", 3), ("Where", "wHERE", 0), ("ca", "abc", 3)])
    func distance(a: String, b: String, d: Int) {
        #expect(Suggest.distance(a, b) == d)
    }
}
