import SecModel
import Testing
@testable import SecQuery

/// Tokens of `text` in a compact form: `id:where == int:1 end`.
func tokenList(_ text: String) throws -> String {
    try Lexer.tokenize(text).map { token -> String in
        switch token.kind {
        case .identifier(let s): return "id:\(s)"
        case .quotedIdentifier(let s): return "qid:\(s)"
        case .string(let s): return "str:\(s)"
        case .integer(let n): return "int:\(n)"
        case .decimal(let d): return "dec:\(d)"
        case .duration(let span): return "dur:\(span.millis)"
        case .time(let t): return "time:\(Timestamp.rfc3339(millis: t))"
        case .punct(let p): return p.rawValue
        case .end: return "end"
        }
    }.joined(separator: " ")
}

func lexError(_ text: String) -> QueryError? {
    do {
        _ = try Lexer.tokenize(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct LexerTests {
    @Test(arguments: [
        ("", "end"),
        ("   \n\t  ", "end"),
        ("where", "id:where"),
        ("_x1 A_b", "id:_x1 id:A_b"),
        ("`detail-type`", "qid:detail-type"),
        ("``", "qid:"),
        ("| , ( ) [ ] . =", "| , ( ) [ ] . ="),
        ("== != < <= > >= =~", "== != < <= > >= =~"),
        ("+ - * / %", "+ - * / %"),
        ("&& || !", "&& || !"),
        ("a||b|c", "id:a || id:b | id:c"),
        ("x!=1", "id:x != int:1"),
        ("!x", "! id:x"),
        ("a=~b", "id:a =~ id:b"),
        ("0 42 007", "int:0 int:42 int:7"),
        ("18446744073709551615", "int:18446744073709551615"),
        ("1.5 0.25 2e6 1.5e-3 3E+2", "dec:1.5 dec:0.25 dec:2000000.0 dec:0.0015 dec:300.0"),
        ("1.", "int:1 ."),
        ("500ms 30s 10m 24h 7d 2w 1y", "dur:500 dur:30000 dur:600000 dur:86400000 dur:604800000 dur:1209600000 dur:31536000000"),
        ("0s", "dur:0"),
        ("2026-11-01T00:00:00Z", "time:2026-11-01T00:00:00Z"),
        ("2026-11-01", "time:2026-11-01T00:00:00Z"),
        ("2026-11-01t10:30:00.5z", "time:2026-11-01T10:30:00.500Z"),
        ("2026-11-01T10:30:00+01:00", "time:2026-11-01T09:30:00Z"),
        ("2026-11-01T10:30:00-05:30", "time:2026-11-01T16:00:00Z"),
        ("2026-11-01T10:30Z", "time:2026-11-01T10:30:00Z"),
        ("2024-02-29", "time:2024-02-29T00:00:00Z"),
        ("2026-11-01,2026-11-02)", "time:2026-11-01T00:00:00Z , time:2026-11-02T00:00:00Z )"),
        ("2026-11", "int:2026 - int:11"),
        ("10-3", "int:10 - int:3"),
        ("x-1", "id:x - int:1"),
        ("a.b[0].`c d`", "id:a . id:b [ int:0 ] . qid:c d"),
    ])
    func tokens(text: String, expected: String) throws {
        #expect(try tokenList(text) == expected + (expected.hasSuffix("end") ? "" : " end"))
    }

    @Test(arguments: [
        (#""plain""#, "plain"),
        ("'single'", "single"),
        (#""say \"hi\"""#, #"say "hi""#),
        (#"'it\'s'"#, "it's"),
        (#"'a "quoted" word'"#, #"a "quoted" word"#),
        (#""back\\slash""#, #"back\slash"#),
        (#""tab\there\nnew\r""#, "tab\there\nnew\r"),
        (#""nul\0""#, "nul\0"),
        (#""\u{e9}\u{1F600}\u{41}""#, "é😀A"),
        (#""2001:db8::1""#, "2001:db8::1"),
        (#""10.0.0.0/8""#, "10.0.0.0/8"),
        (##""# not a comment // either""##, "# not a comment // either"),
        (#""héllo wörld""#, "héllo wörld"),
        (#""""#, ""),
    ])
    func strings(text: String, expected: String) throws {
        let tokens = try Lexer.tokenize(text)
        #expect(tokens.count == 2)
        #expect(tokens[0].kind == .string(expected))
        #expect(tokens[0].range == SourceRange(start: 0, end: text.utf8.count))
    }

    @Test func commentsAndWhitespace() throws {
        #expect(try tokenList("events # the table\n| where // a filter\n  x == 1 #end") == "id:events | id:where id:x == int:1 end")
        #expect(try tokenList("a / b // c") == "id:a / id:b end")
        #expect(try tokenList("# only a comment") == "end")
        // No-break spaces, ideographic spaces and a BOM arrive with pasted text.
        #expect(try tokenList("\u{FEFF}where\u{00A0}x\u{3000}==\u{2009}1") == "id:where id:x == int:1 end")
    }

    @Test func rangesAreUTF8ByteOffsets() throws {
        let tokens = try Lexer.tokenize(#"x == "é" and y"#)
        #expect(tokens.map(\.range) == [
            SourceRange(start: 0, end: 1), SourceRange(start: 2, end: 4), SourceRange(start: 5, end: 9),
            SourceRange(start: 10, end: 13), SourceRange(start: 14, end: 15), SourceRange(start: 15, end: 15),
        ])
    }

    @Test func endSitsAfterTheLastToken() throws {
        let tokens = try Lexer.tokenize("head 5   # trailing\n\n")
        #expect(tokens.last == Token(.end, .point(6)))
        var lexer = Lexer("x")
        _ = try lexer.next()
        #expect(try lexer.next().kind == .end)
        #expect(try lexer.next().kind == .end)
    }

    @Test(arguments: [
        ("@x", "unexpectedCharacter", 0, 1),
        ("x ; y", "unexpectedCharacter", 2, 3),
        ("x & y", "unexpectedCharacter", 2, 3),
        ("a → b", "unexpectedCharacter", 2, 5),
        ("ünïcode", "unexpectedCharacter", 0, 2),
        ("x == \u{201C}a\u{201D}", "unexpectedCharacter", 5, 8),
        ("\"abc", "unterminatedString", 0, 4),
        ("'abc\ndef'", "unterminatedString", 0, 4),
        ("\"abc\\", "unterminatedString", 0, 5),
        ("`abc", "unterminatedString", 0, 4),
        (#""\d""#, "invalidEscape", 1, 3),
        (#""\é""#, "invalidEscape", 1, 4),
        (#""\u{}""#, "invalidEscape", 1, 5),
        (#""\u{110000}""#, "invalidEscape", 1, 11),
        (#""\u{D800}""#, "invalidEscape", 1, 9),
        (#""\u41""#, "invalidEscape", 1, 3),
        (#""\u{123456789}""#, "invalidEscape", 1, 14),
        ("18446744073709551616", "invalidNumber", 0, 20),
        ("1e999", "invalidNumber", 0, 5),
        ("0x1F", "invalidNumber", 0, 4),
        ("10_000", "invalidNumber", 0, 6),
        ("10min", "invalidDuration", 0, 5),
        ("10H", "invalidDuration", 0, 3),
        ("1.5h", "invalidDuration", 0, 4),
        ("5months", "invalidDuration", 0, 7),
        ("99999999999999999999y", "invalidDuration", 0, 21),
        ("999999999999y", "invalidDuration", 0, 13),
        ("2026-13-01", "invalidTime", 0, 10),
        ("2026-02-29", "invalidTime", 0, 10),
        ("2026-11-31", "invalidTime", 0, 10),
        ("2026-11-01T24:00:00Z", "invalidTime", 0, 20),
        ("2026-11-01T10:00:00Zx", "invalidTime", 0, 21),
        ("2026-11-01T10", "invalidTime", 0, 13),
        ("2026-11-01T10:00:00+1", "invalidTime", 0, 21),
    ])
    func errors(text: String, code: String, start: Int, end: Int) {
        let error = lexError(text)
        #expect(error?.code.rawValue == code)
        #expect(error?.range == SourceRange(start: start, end: end))
    }

    @Test func durationHelpSuggestsTheUnit() {
        #expect(lexError("10min")?.help == "did you mean '10m'?")
        #expect(lexError("3days")?.help == "did you mean '3d'?")
        #expect(lexError("2H")?.help == "did you mean '2h'?")
        #expect(lexError("5q")?.code == .invalidNumber)
    }

    @Test func messagesQuoteUserInputSafely() {
        #expect(lexError("x \u{7}")?.message == #"unexpected character '\u{7}'"#)
        #expect(lexError(#""\q""#)?.message == #"unknown escape '\q' in string"#)
    }
}
