import SecModel

/// One token of a query, with the bytes of the text it came from.
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `[A-Za-z_][A-Za-z0-9_]*`. Keywords (`where`, `and`, `by` ...) are identifiers
        /// too: the parser recognises them by position, case-insensitively.
        case identifier(String)
        /// A backquoted name, `` `detail-type` ``: never a keyword.
        case quotedIdentifier(String)
        /// A string literal in double or single quotes, escapes decoded.
        case string(String)
        /// An unsigned integer literal; the parser checks it fits `Int64` (after a `-`).
        case integer(UInt64)
        case decimal(Double)
        /// Digits followed directly by a unit: `500ms`, `30s`, `10m`, `24h`, `7d`, `2w`, `1y`.
        case duration(SecModel.Span)
        /// An unquoted RFC 3339 time or date (`2026-11-01T00:00:00Z`, `2026-11-01`), in
        /// milliseconds since the epoch.
        case time(Int64)
        case punct(Punct)
        /// The end of the text; its range is empty and sits just after the last token.
        case end
    }

    /// Operators and punctuation; the raw value is the spelling.
    public enum Punct: String, Sendable, CaseIterable {
        case pipe = "|", comma = ",", leftParen = "(", rightParen = ")"
        case leftBracket = "[", rightBracket = "]", dot = ".", assign = "="
        case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
        case caseInsensitiveEqual = "=~"
        case plus = "+", minus = "-", star = "*", slash = "/", percent = "%"
        case ampersands = "&&", bars = "||", bang = "!"
    }

    public var kind: Kind
    public var range: SourceRange

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

/// Splits query text into tokens, skipping whitespace and comments (`#` or `//` to the end
/// of the line).
///
/// Works on the UTF-8 bytes of the text; token ranges are byte offsets. Pure: the same
/// text always gives the same tokens or the same error.
///
/// ```swift
/// var lexer = Lexer("where x == 1")
/// while true { let t = try lexer.next(); if t.kind == .end { break } }
/// ```
public struct Lexer: Sendable {
    let bytes: [UInt8]
    var position = 0
    /// End of the last token returned, where the `.end` token sits.
    var lastEnd = 0

    public init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// All tokens of `text`, ending with `.end`.
    /// - Throws: the first lexical error, as a ``QueryError``.
    public static func tokenize(_ text: String) throws(QueryError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let t = try lexer.next()
            tokens.append(t)
            if t.kind == .end { return tokens }
        }
    }

    /// The next token; `.end` at the end of the text, and again on every later call.
    /// - Throws: ``QueryError`` with code `unexpectedCharacter`, `unterminatedString`,
    ///   `invalidEscape`, `invalidNumber`, `invalidDuration` or `invalidTime`.
    public mutating func next() throws(QueryError) -> Token {
        try skipTrivia()
        guard position < bytes.count else { return Token(.end, .point(lastEnd)) }
        let start = position
        let kind = try scan()
        lastEnd = position
        return Token(kind, SourceRange(start: start, end: position))
    }

    // MARK: Trivia

    mutating func skipTrivia() throws(QueryError) {
        while position < bytes.count {
            let c = bytes[position]
            switch c {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C:
                position += 1
            case UInt8(ascii: "#"):
                skipLine()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                skipLine()
            case 0x80...:
                // Pasted text brings no-break and other Unicode spaces, and a BOM.
                let (scalar, length) = decodeScalar(at: position)
                guard let scalar, scalar.properties.isWhitespace || scalar.value == 0xFEFF else { return }
                position += length
            default:
                return
            }
        }
    }

    mutating func skipLine() {
        while position < bytes.count, bytes[position] != 0x0A { position += 1 }
    }

    // MARK: Tokens

    func peek(_ offset: Int = 0) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    static func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 48 && $0 <= 57 } ?? false }
    static func isLetter(_ c: UInt8?) -> Bool {
        guard let c else { return false }
        return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
    }
    static func isWordByte(_ c: UInt8?) -> Bool { isLetter(c) || isDigit(c) }

    mutating func scan() throws(QueryError) -> Token.Kind {
        let c = bytes[position]
        if Lexer.isLetter(c) {
            let start = position
            while Lexer.isWordByte(peek()) { position += 1 }
            return .identifier(text(start, position))
        }
        if Lexer.isDigit(c) { return try scanNumber() }
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return .string(try scanString(quote: c))
        case UInt8(ascii: "`"): return .quotedIdentifier(try scanQuotedName())
        default: break
        }
        if let p = scanPunct() { return .punct(p) }
        throw unexpectedCharacter()
    }

    mutating func scanPunct() -> Token.Punct? {
        let c = bytes[position], n = peek(1)
        func take(_ p: Token.Punct, _ length: Int) -> Token.Punct { position += length; return p }
        switch (c, n) {
        case (UInt8(ascii: "|"), UInt8(ascii: "|")): return take(.bars, 2)
        case (UInt8(ascii: "|"), _): return take(.pipe, 1)
        case (UInt8(ascii: ","), _): return take(.comma, 1)
        case (UInt8(ascii: "("), _): return take(.leftParen, 1)
        case (UInt8(ascii: ")"), _): return take(.rightParen, 1)
        case (UInt8(ascii: "["), _): return take(.leftBracket, 1)
        case (UInt8(ascii: "]"), _): return take(.rightBracket, 1)
        case (UInt8(ascii: "."), _): return take(.dot, 1)
        case (UInt8(ascii: "="), UInt8(ascii: "=")): return take(.equal, 2)
        case (UInt8(ascii: "="), UInt8(ascii: "~")): return take(.caseInsensitiveEqual, 2)
        case (UInt8(ascii: "="), _): return take(.assign, 1)
        case (UInt8(ascii: "!"), UInt8(ascii: "=")): return take(.notEqual, 2)
        case (UInt8(ascii: "!"), _): return take(.bang, 1)
        case (UInt8(ascii: "<"), UInt8(ascii: "=")): return take(.lessEqual, 2)
        case (UInt8(ascii: "<"), _): return take(.less, 1)
        case (UInt8(ascii: ">"), UInt8(ascii: "=")): return take(.greaterEqual, 2)
        case (UInt8(ascii: ">"), _): return take(.greater, 1)
        case (UInt8(ascii: "+"), _): return take(.plus, 1)
        case (UInt8(ascii: "-"), _): return take(.minus, 1)
        case (UInt8(ascii: "*"), _): return take(.star, 1)
        case (UInt8(ascii: "/"), _): return take(.slash, 1)
        case (UInt8(ascii: "%"), _): return take(.percent, 1)
        case (UInt8(ascii: "&"), UInt8(ascii: "&")): return take(.ampersands, 2)
        default: return nil
        }
    }

    func unexpectedCharacter() -> QueryError {
        let (scalar, length) = decodeScalar(at: position)
        let range = SourceRange(start: position, end: position + length)
        guard let scalar else {
            return QueryError(.unexpectedCharacter, "invalid UTF-8 in the query", at: range)
        }
        let shown = QueryError.quote(String(Character(scalar)))
        let help: String?
        switch scalar {
        case "\u{201C}", "\u{201D}", "\u{201E}", "\u{00AB}", "\u{00BB}": help = "use a straight double quote '\"'"
        case "\u{2018}", "\u{2019}", "\u{201A}": help = "use a straight single quote"
        case "\u{2013}", "\u{2014}", "\u{2212}": help = "use a plain minus '-'"
        case ";": help = "separate stages with '|'"
        case "&": help = "write 'and' or '&&'"
        case "~": help = "write '=~' for case-insensitive equality or 'matches' for a regex"
        case "{", "}": help = "group expressions with '(' and ')'"
        case ":": help = "write times as RFC 3339 with a 'T', like 2026-11-01T10:00:00Z, or in quotes"
        default:
            help = scalar.properties.isAlphabetic ? "put names with other characters in backquotes, like `\(Character(scalar))`" : nil
        }
        return QueryError(.unexpectedCharacter, "unexpected character \(shown)", at: range, help: help)
    }

    // MARK: Numbers, durations, times

    mutating func scanNumber() throws(QueryError) -> Token.Kind {
        let start = position
        while Lexer.isDigit(peek()) { position += 1 }
        if position - start == 4, peek() == UInt8(ascii: "-"), Lexer.isDigit(peek(1)), Lexer.isDigit(peek(2)),
           peek(3) == UInt8(ascii: "-"), Lexer.isDigit(peek(4)), Lexer.isDigit(peek(5)) {
            return try scanTime(start: start)
        }
        var isDecimal = false
        if peek() == UInt8(ascii: "."), Lexer.isDigit(peek(1)) {
            isDecimal = true
            position += 1
            while Lexer.isDigit(peek()) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            let signed = peek(1) == UInt8(ascii: "+") || peek(1) == UInt8(ascii: "-")
            if Lexer.isDigit(peek(signed ? 2 : 1)) {
                isDecimal = true
                position += signed ? 2 : 1
                while Lexer.isDigit(peek()) { position += 1 }
            }
        }
        let numberEnd = position
        while Lexer.isWordByte(peek()) { position += 1 }
        let range = SourceRange(start: start, end: position)
        let whole = text(start, position)
        if position > numberEnd {
            return .duration(try duration(digits: text(start, numberEnd), unit: text(numberEnd, position), isDecimal: isDecimal, whole: whole, range: range))
        }
        if isDecimal {
            guard let d = Double(whole), d.isFinite else {
                throw QueryError(.invalidNumber, "number \(QueryError.quote(whole)) is out of range", at: range)
            }
            return .decimal(d)
        }
        guard let n = UInt64(whole) else {
            throw QueryError(.invalidNumber, "integer \(QueryError.quote(whole)) is too large", at: range,
                             help: "integers go up to 9223372036854775807")
        }
        return .integer(n)
    }

    static let units: [(String, Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000), ("y", 31_536_000_000),
    ]

    /// Unit names people write that mean one of ours.
    static let unitAliases: [String: String] = [
        "msec": "ms", "msecs": "ms", "millis": "ms", "millisecond": "ms", "milliseconds": "ms",
        "sec": "s", "secs": "s", "second": "s", "seconds": "s",
        "min": "m", "mins": "m", "minute": "m", "minutes": "m",
        "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
        "day": "d", "days": "d", "week": "w", "weeks": "w", "wk": "w",
        "yr": "y", "yrs": "y", "year": "y", "years": "y",
    ]

    func duration(digits: String, unit: String, isDecimal: Bool, whole: String, range: SourceRange) throws(QueryError) -> SecModel.Span {
        let quoted = QueryError.quote(whole)
        guard let (_, scale) = Lexer.units.first(where: { $0.0 == unit }) else {
            if let alias = Lexer.unitAliases[unit.lowercased()] ?? Lexer.units.first(where: { $0.0 == unit.lowercased() })?.0 {
                throw QueryError(.invalidDuration, "invalid duration \(quoted)", at: range,
                                 help: isDecimal ? "units are ms, s, m, h, d, w and y" : "did you mean '\(digits)\(alias)'?")
            }
            if let first = unit.first, "smhdwy".contains(first) {
                throw QueryError(.invalidDuration, "invalid duration \(quoted)", at: range, help: "units are ms, s, m, h, d, w and y")
            }
            throw QueryError(.invalidNumber, "invalid number \(quoted)", at: range,
                             help: "numbers are digits with an optional fraction and exponent, like 42, 1.5 or 2e6")
        }
        if isDecimal {
            throw QueryError(.invalidDuration, "duration \(quoted) is not a whole number", at: range,
                             help: "use a smaller unit, like '90m' for 1.5h")
        }
        guard let n = Int64(digits), case let (millis, false) = n.multipliedReportingOverflow(by: scale) else {
            throw QueryError(.invalidDuration, "duration \(quoted) is too long", at: range)
        }
        return SecModel.Span(millis: millis)
    }

    /// `YYYY-MM-DD`, optionally `Thh:mm[:ss[.fff]]` and a zone (`Z`, `+hh:mm`, `-hh:mm`).
    mutating func scanTime(start: Int) throws(QueryError) -> Token.Kind {
        position = start + 10
        if peek() == UInt8(ascii: "T") || peek() == UInt8(ascii: "t"), Lexer.isDigit(peek(1)) {
            position += 1
            while Lexer.isDigit(peek()) || peek() == UInt8(ascii: ":") || peek() == UInt8(ascii: ".") { position += 1 }
            if peek() == UInt8(ascii: "Z") || peek() == UInt8(ascii: "z") {
                position += 1
            } else if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-"), Lexer.isDigit(peek(1)) {
                position += 1
                while Lexer.isDigit(peek()) || peek() == UInt8(ascii: ":") { position += 1 }
            }
        }
        // Glued letters or digits make the whole word the bad time.
        while Lexer.isWordByte(peek()) { position += 1 }
        let whole = text(start, position)
        guard let millis = Lexer.parseTime(whole) else {
            throw QueryError(.invalidTime, "invalid time \(QueryError.quote(whole))", at: SourceRange(start: start, end: position),
                             help: "write RFC 3339, like 2026-11-01T00:00:00Z or 2026-11-01")
        }
        return .time(millis)
    }

    /// RFC 3339 text to milliseconds, refusing dates that do not exist (`2026-02-30`).
    /// Also used for quoted times in `between`.
    static func parseTime(_ text: String) -> Int64? {
        guard let millis = Timestamp.parse(text) else { return nil }
        let b = Array(text.utf8.prefix(10))
        func num(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(b[$1]) - 48 } }
        let year = num(0..<4), month = num(5..<7), day = num(8..<10)
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1] ? millis : nil
    }

    // MARK: Strings and quoted names

    /// A string in `quote` (`"` or `'`); escapes `\"`, `\'`, `\\`, `\n`, `\t`, `\r`, `\0`,
    /// `\u{1F600}`. A string ends on its line: a line break before the closing quote is
    /// an unterminated string.
    mutating func scanString(quote: UInt8) throws(QueryError) -> String {
        let start = position
        position += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek(), c != 0x0A else {
                throw QueryError(.unterminatedString, "unterminated string", at: SourceRange(start: start, end: position),
                                 help: "add a closing \(quote == UInt8(ascii: "\"") ? "'\"'" : "\"'\"")")
            }
            if c == quote { position += 1; break }
            if c != UInt8(ascii: "\\") { out.append(c); position += 1; continue }
            let escapeStart = position
            position += 1
            switch peek() {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "'"): out.append(0x27)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "0"): out.append(0x00)
            case UInt8(ascii: "u"):
                out.append(contentsOf: try unicodeEscape(start: escapeStart))
                continue
            case nil, 0x0A:
                throw QueryError(.unterminatedString, "unterminated string", at: SourceRange(start: start, end: position),
                                 help: "add a closing \(quote == UInt8(ascii: "\"") ? "'\"'" : "\"'\"")")
            default:
                let (_, length) = decodeScalar(at: position)
                let range = SourceRange(start: escapeStart, end: position + length)
                let seq = text(range.start, range.end)
                throw QueryError(.invalidEscape, "unknown escape \(QueryError.quote(seq)) in string", at: range,
                                 help: "write '\\\\' for a backslash, so a regex digit is '\\\\d'")
            }
            position += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `\u{X...}` with 1 to 8 hex digits naming a Unicode scalar; `position` is on the `u`.
    mutating func unicodeEscape(start: Int) throws(QueryError) -> [UInt8] {
        position += 1
        var value: UInt32 = 0
        var digits = 0
        var ok = peek() == UInt8(ascii: "{")
        if ok {
            position += 1
            while let c = peek(), let v = Lexer.hexValue(c) {
                if digits < 8 { value = value << 4 | v }
                digits += 1
                position += 1
            }
            ok = peek() == UInt8(ascii: "}") && (1...8).contains(digits)
            if peek() == UInt8(ascii: "}") { position += 1 }
        }
        guard ok, let scalar = Unicode.Scalar(value) else {
            let range = SourceRange(start: start, end: position)
            throw QueryError(.invalidEscape, "invalid unicode escape \(QueryError.quote(text(range.start, range.end)))", at: range,
                             help: "write '\\u{' then 1 to 8 hex digits of a scalar and '}', like '\\u{e9}'")
        }
        return Array(String(Character(scalar)).utf8)
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 48...57: return UInt32(c - 48)
        case 65...70: return UInt32(c - 55)
        case 97...102: return UInt32(c - 87)
        default: return nil
        }
    }

    /// `` `odd-name` ``: any characters but a backquote or a line break.
    mutating func scanQuotedName() throws(QueryError) -> String {
        let start = position
        position += 1
        while let c = peek(), c != UInt8(ascii: "`"), c != 0x0A { position += 1 }
        guard peek() == UInt8(ascii: "`") else {
            throw QueryError(.unterminatedString, "unterminated quoted name", at: SourceRange(start: start, end: position),
                             help: "add a closing '`'")
        }
        position += 1
        return text(start + 1, position - 1)
    }

    // MARK: Helpers

    func text(_ start: Int, _ end: Int) -> String {
        String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The scalar starting at `offset` and its length in bytes; nil for invalid UTF-8
    /// (length 1).
    func decodeScalar(at offset: Int) -> (Unicode.Scalar?, Int) {
        var decoder = UTF8()
        var iterator = bytes[offset...].makeIterator()
        switch decoder.decode(&iterator) {
        case .scalarValue(let s): return (s, UTF8.width(s))
        default: return (nil, 1)
        }
    }
}
