/// Source positions and the errors a query can produce, rendered the way people read them.
///
/// Every stage of the query pipeline (lexer, parser, binder, planner) reports problems as a
/// ``QueryError``: a code for programs, a short lowercase message for people, the byte range
/// of the query text to blame and an optional help line. ``QueryError/render(query:name:color:)``
/// prints it with the offending line and carets under the range:
///
/// ```
/// error: unknown field 'princpal'
///  --> query:1:16
///   |
/// 1 | events | where princpal == "root"
///   |                ^^^^^^^^ did you mean 'principal'?
/// ```

// MARK: - Source positions

/// A half-open range of UTF-8 byte offsets into the query text: `start..<end`.
///
/// Offsets count bytes of `text.utf8`, so they are cheap to produce while lexing and
/// independent of how the text is displayed. ``location(in:)`` turns one into the line
/// and column people read. An empty range (`start == end`) marks a point, such as the
/// end of the query.
public struct SourceRange: Sendable, Hashable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        precondition(start <= end, "SourceRange start \(start) after end \(end)")
        self.start = start
        self.end = end
    }

    /// An empty range at one offset.
    public static func point(_ offset: Int) -> SourceRange { SourceRange(start: offset, end: offset) }

    public var isEmpty: Bool { start == end }
    public var count: Int { end - start }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(start: Swift.min(start, other.start), end: Swift.max(end, other.end))
    }

    /// Line and column (both from 1) where the range starts. Columns count characters,
    /// not bytes; offsets past the end of `text` are clamped to it.
    public func location(in text: String) -> SourceLocation {
        SourceLocation(offset: start, in: text)
    }

    /// The text the range covers (clamped to `text`).
    public func text(in source: String) -> Substring {
        let utf8 = source.utf8
        let lo = utf8.index(utf8.startIndex, offsetBy: Swift.min(Swift.max(start, 0), utf8.count))
        let hi = utf8.index(utf8.startIndex, offsetBy: Swift.min(Swift.max(end, start, 0), utf8.count))
        return source[lo..<hi]
    }

    public var description: String { "\(start)..<\(end)" }
}

/// A line and a column, both counted from 1; columns count characters.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The location of a UTF-8 byte offset in `text`.
    public init(offset: Int, in text: String) {
        let utf8 = text.utf8
        let clamped = Swift.min(Swift.max(offset, 0), utf8.count)
        let target = utf8.index(utf8.startIndex, offsetBy: clamped)
        var line = 1
        var lineStart = utf8.startIndex
        var i = utf8.startIndex
        while i < target {
            if utf8[i] == UInt8(ascii: "\n") {
                line += 1
                lineStart = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        self.init(line: line, column: text[lineStart..<target].count + 1)
    }

    public var description: String { "\(line):\(column)" }
}

// MARK: - Errors

/// A problem with a query, found by the lexer, parser, binder or planner.
///
/// Messages are lowercase, have no final period and put user input in single quotes
/// (use ``quote(_:)``); `help` is a short hint shown after the carets, such as
/// `did you mean 'where'?`. Match on the code, never on the message:
///
/// ```swift
/// do { let q = try Parser.parse(text) } catch QueryError.Code.unknownStage { ... }
/// ```
public struct QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for programs. An open set: later stages add their own codes in an
    /// extension (`extension QueryError.Code { static let x = Code("x") }`).
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Lexer.
        /// A character that cannot start any token (`@`, `;`, a curly quote ...).
        public static let unexpectedCharacter = Code("unexpectedCharacter")
        /// A string or backquoted name without its closing quote on the same line.
        public static let unterminatedString = Code("unterminatedString")
        /// An unknown `\x` escape or a bad `\u{...}` in a string.
        public static let invalidEscape = Code("invalidEscape")
        /// A number that is malformed or does not fit (integers are 64-bit).
        public static let invalidNumber = Code("invalidNumber")
        /// A duration with a bad unit or value (`10min`, `1.5h`, a missing unit).
        public static let invalidDuration = Code("invalidDuration")
        /// A timestamp that is not valid RFC 3339, or a `between` that ends before it starts.
        public static let invalidTime = Code("invalidTime")

        // Parser.
        /// A token where the grammar wants something else; the message names what.
        public static let unexpectedToken = Code("unexpectedToken")
        /// An operand is missing (`where x ==`, `count(*)`, `(`).
        public static let expectedExpression = Code("expectedExpression")
        /// A word after `|` that is no stage.
        public static let unknownStage = Code("unknownStage")
        /// A first word that is neither a table nor a stage.
        public static let unknownTable = Code("unknownTable")
        /// A word where only keywords fit that looks like a misspelt one (`adn`, `dsc`).
        public static let unknownKeyword = Code("unknownKeyword")
        /// Parentheses or `not`s nested deeper than the parser allows.
        public static let nestingTooDeep = Code("nestingTooDeep")

        // Binder and planner (not produced by the parser).
        public static let unknownField = Code("unknownField")
        public static let unknownFunction = Code("unknownFunction")
        public static let typeMismatch = Code("typeMismatch")
        public static let invalidArgument = Code("invalidArgument")
    }

    public var code: Code
    /// Lowercase, no final period, user input in single quotes.
    public var message: String
    /// The bytes of the query text to blame; empty at the end of the query.
    public var range: SourceRange
    /// Shown after the carets, e.g. `did you mean 'principal'?`.
    public var help: String?

    public init(_ code: Code, _ message: String, at range: SourceRange, help: String? = nil) {
        self.code = code
        self.message = message
        self.range = range
        self.help = help
    }

    /// `error[code] at 15..<23: message (help)`: for logs and test failures; people get
    /// ``render(query:name:color:)``.
    public var description: String {
        "error[\(code)] at \(range): \(message)" + (help.map { " (\($0))" } ?? "")
    }

    /// User input as it goes in a message: single-quoted, control and bidirectional
    /// characters escaped, cut to 40 characters.
    public static func quote(_ text: some StringProtocol) -> String {
        var out = ""
        var n = 0
        for ch in text {
            if n == 40 { out += "..."; break }
            n += 1
            for s in ch.unicodeScalars {
                if isUnsafeForDisplay(s) { out += "\\u{\(String(s.value, radix: 16))}" } else { out.unicodeScalars.append(s) }
            }
        }
        return "'" + out + "'"
    }

    /// Control characters and bidirectional overrides ("Trojan Source") never reach a
    /// terminal from a diagnostic.
    static func isUnsafeForDisplay(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0..<0x20, 0x7F..<0xA0, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// The error as a person reads it: message, location, the query line and carets.
    ///
    /// ```
    /// error: unknown stage 'wher'
    ///  --> query:1:10
    ///   |
    /// 1 | events | wher x == 1
    ///   |          ^^^^ did you mean 'where'?
    /// ```
    ///
    /// A range that spans lines is underlined to the end of its first line; an empty
    /// range (the end of the query) gets one caret. Tabs display as four spaces.
    /// - Parameters:
    ///   - query: the text the error's range points into.
    ///   - name: where the query came from, shown before the line and column (a file name).
    ///   - color: add ANSI colours for a terminal.
    public func render(query: String, name: String = "query", color: Bool = false) -> String {
        let loc = range.location(in: query)
        let lineText = QueryError.line(loc.line, of: query)
        let chars = Array(lineText)
        // Display columns before the range and under it.
        let startIndex = Swift.min(loc.column - 1, chars.count)
        let width: Int = {
            if range.end <= range.start { return 1 }
            let endLoc = SourceLocation(offset: range.end, in: query)
            let endColumn = endLoc.line == loc.line ? endLoc.column - 1 : chars.count
            return Swift.max(1, endColumn - startIndex)
        }()
        func display(_ cs: ArraySlice<Character>) -> String {
            var s = ""
            for c in cs {
                if c == "\t" { s += "    " } else if c.unicodeScalars.contains(where: QueryError.isUnsafeForDisplay) { s += "\u{FFFD}" } else { s.append(c) }
            }
            return s
        }
        let shown = display(chars[...])
        let pad = String(repeating: " ", count: display(chars[..<startIndex]).count)
        let underEnd = Swift.min(startIndex + width, chars.count)
        let caretCount = Swift.max(1, display(chars[startIndex..<underEnd]).count)
        let carets = String(repeating: "^", count: caretCount)

        let number = String(loc.line)
        let gutter = String(repeating: " ", count: number.count)
        let (bold, red, blue, reset) = color ? ("\u{1B}[1m", "\u{1B}[1;31m", "\u{1B}[1;34m", "\u{1B}[0m") : ("", "", "", "")
        var out = "\(red)error\(reset)\(bold): \(message)\(reset)\n"
        out += "\(gutter)\(blue)-->\(reset) \(name):\(loc.line):\(loc.column)\n"
        out += "\(gutter) \(blue)|\(reset)\n"
        out += "\(blue)\(number) |\(reset) \(shown)\n"
        out += "\(gutter) \(blue)|\(reset) \(pad)\(red)\(carets)"
        if let help { out += " \(help)" }
        out += "\(reset)\n"
        return out
    }

    /// Line `n` (from 1) of `text`, without its line break.
    static func line(_ n: Int, of text: String) -> Substring {
        var current = 1
        var start = text.startIndex
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == "\n" || text[i] == "\r\n" {
                if current == n { break }
                current += 1
                start = text.index(after: i)
            }
            i = text.index(after: i)
        }
        var line = text[start..<i]
        if line.hasSuffix("\r") { line = line.dropLast() }
        return line
    }
}

extension QueryError.Code {
    /// Lets callers write `catch QueryError.Code.unknownStage { ... }`.
    public static func ~= (code: QueryError.Code, error: any Error) -> Bool {
        (error as? QueryError)?.code == code
    }

    public static func ~= (code: QueryError.Code, error: QueryError) -> Bool {
        error.code == code
    }
}
