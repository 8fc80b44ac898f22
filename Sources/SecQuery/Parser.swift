import SecModel

/// Turns query text into a ``Query``: recursive descent over the ``Lexer``'s tokens.
///
/// Pure: no I/O, no global state; the same text always gives the same tree or the same
/// error. The parser knows the grammar only: which fields and functions exist, and what
/// types they have, is the binder's business.
///
/// ```
/// query  := [table] ('|' stage)*  |  stage ('|' stage)*  |  '|' stage ...  |  (empty)
/// expr   := or;  or := and ('or'|'||' and)*;  and := not ('and'|'&&' not)*
/// not    := ('not'|'!') not | cmp
/// cmp    := add [('=='|'!='|'<'|'<='|'>'|'>='|'=~'|[not] 'contains'|'startswith'|'endswith'|'matches') add
///                | [not] 'in' '(' expr (',' expr)* ')' | [not] 'in' 'cidr' '(' args ')']
///           (not = 'not' | '!', so KQL's `!contains` and `!in` work)
/// add    := mul (('+'|'-') mul)*;  mul := unary (('*'|'/'|'%') unary)*;  unary := '-' unary | primary
/// primary:= literal | name '(' args ')' | path | '(' expr ')'
/// path   := name ('.' name | '[' int ']')*      (a '[' must touch what it indexes)
/// ```
///
/// Keywords are case-insensitive and contextual: `by`, `as`, `desc` ... are plain names
/// where a name fits. Only `and or not in contains startswith endswith matches true false
/// null` cannot start a field name in an expression; backquote them (`` `in` ``) there.
public enum Parser {
    /// The stage keywords, in the order error messages list them.
    public static let stages = ["where", "since", "between", "fields", "eval", "sort", "head", "stats", "top", "rare", "dedup", "timechart", "sequence"]

    /// Words that cannot begin a field reference inside an expression.
    public static let reservedInExpressions: Set<String> = ["and", "or", "not", "in", "contains", "startswith", "endswith", "matches", "true", "false", "null"]

    /// Deepest nesting of parentheses, `not`, `-`, calls and `in` lists the parser follows.
    public static let maxNesting = 64
    /// Deepest expression tree accepted (long `or` chains count one level per `or`), so
    /// that code walking the tree recursively (the binder, `dump()`, `==`) stays far from
    /// the end of a 512 KiB thread stack even in a debug build.
    public static let maxTreeDepth = 256

    /// Parses a whole query.
    /// - Parameter text: the query, e.g. `events | since 24h | where action == "ConsoleLogin"`.
    /// - Returns: the syntax tree; empty text gives a query with no table and no stages.
    /// - Throws: the first ``QueryError`` in the text (lexical or syntactic).
    public static func parse(_ text: String) throws(QueryError) -> Query {
        var state = ParseState(text)
        return try ParseState.typed { () throws in try state.parseQuery() }
    }

    /// Parses one expression, as detection rules and `secq` flags write them
    /// (`action == "ConsoleLogin" and outcome == "failure"`).
    /// - Throws: ``QueryError`` when the text is not exactly one expression.
    public static func parseExpression(_ text: String) throws(QueryError) -> Expr {
        var state = ParseState(text)
        return try ParseState.typed { () throws in
            let e = try state.parseTopExpr()
            let t = try state.peek()
            guard t.kind == .end else { throw state.unexpected(t, "'and', 'or' or the end after the expression", keywords: ParseState.expressionKeywords) }
            return e
        }
    }
}

/// Stage names from other query languages, and what secq calls them.
private let foreignStages: [String: String] = [
    "summarize": "use 'stats', like 'stats count() by principal'",
    "project": "use 'fields'", "table": "use 'fields'", "select": "use 'fields'",
    "extend": "use 'eval'",
    "take": "use 'head'", "limit": "use 'head'",
    "order": "use 'sort'",
    "search": "use 'where'", "filter": "use 'where'",
    "distinct": "use 'dedup'", "uniq": "use 'dedup'",
    "count": "use 'stats count()'",
    "tail": "use 'sort time desc | head'",
]

struct ParseState {
    let text: String
    let bytes: [UInt8]
    /// Tokens up to the first lexical error (then without `.end`) or up to `.end`.
    var tokens: [Token] = []
    var lexError: QueryError?
    var index = 0
    var nesting = 0

    static let expressionKeywords = ["and", "or", "not", "in", "contains", "startswith", "endswith", "matches"]

    init(_ text: String) {
        self.text = text
        bytes = Array(text.utf8)
        var lexer = Lexer(text)
        while true {
            do {
                let t = try lexer.next()
                tokens.append(t)
                if t.kind == .end { break }
            } catch {
                // Reported only when the parser reaches it, so an earlier syntax error wins.
                lexError = error
                break
            }
        }
    }

    /// Runs parser code and narrows its error to `QueryError`, the only error it throws.
    ///
    /// Inside, the parser uses untyped `throws`: a debug build gives every `try` of a
    /// typed-throws call its own error slot in the frame, which made each level of
    /// nesting cost several times the stack.
    static func typed<T>(_ body: () throws -> T) throws(QueryError) -> T {
        do {
            return try body()
        } catch let error as QueryError {
            throw error
        } catch {
            preconditionFailure("the parser throws only QueryError, not \(type(of: error))")
        }
    }

    // MARK: Token access

    func peek(_ offset: Int = 0) throws -> Token {
        let i = index + offset
        if i < tokens.count { return tokens[i] }
        if let lexError { throw lexError }
        return tokens[tokens.count - 1]
    }

    @discardableResult
    mutating func advance() throws -> Token {
        let t = try peek()
        if t.kind != .end { index += 1 }
        return t
    }

    /// The end of the last token consumed.
    var previousEnd: Int { index > 0 ? tokens[index - 1].range.end : 0 }

    func range(from start: Int) -> SourceRange { SourceRange(start: start, end: max(start, previousEnd)) }

    func source(_ t: Token) -> String {
        String(decoding: bytes[t.range.start..<t.range.end], as: UTF8.self)
    }

    /// `" after 'where'"`: the previous token as a message names it; a string literal's
    /// content stays out of messages, and at the start there is nothing to name.
    var afterPrevious: String {
        guard index > 0 else { return "" }
        if case .string = tokens[index - 1].kind { return " after the string" }
        return " after " + QueryError.quote(source(tokens[index - 1]))
    }

    static func isKeyword(_ t: Token, _ keyword: String) -> Bool {
        if case .identifier(let w) = t.kind { return w.utf8.count == keyword.utf8.count && w.lowercased() == keyword }
        return false
    }

    static func isPunct(_ t: Token, _ p: Token.Punct) -> Bool { t.kind == .punct(p) }

    func atKeyword(_ keyword: String, _ offset: Int = 0) throws -> Bool {
        ParseState.isKeyword(try peek(offset), keyword)
    }

    func atPunct(_ p: Token.Punct, _ offset: Int = 0) throws -> Bool {
        ParseState.isPunct(try peek(offset), p)
    }

    mutating func acceptKeyword(_ keyword: String) throws -> Token? {
        try atKeyword(keyword) ? try advance() : nil
    }

    mutating func acceptPunct(_ p: Token.Punct) throws -> Token? {
        try atPunct(p) ? try advance() : nil
    }

    /// A name token: an identifier or a backquoted name.
    static func name(_ t: Token) -> String? {
        switch t.kind {
        case .identifier(let s), .quotedIdentifier(let s): return s
        default: return nil
        }
    }

    static func startsExpression(_ t: Token) -> Bool {
        switch t.kind {
        case .identifier, .quotedIdentifier, .string, .integer, .decimal, .duration, .time: return true
        case .punct(let p): return p == .leftParen || p == .minus || p == .bang
        case .end: return false
        }
    }

    mutating func enter(_ t: Token) throws {
        nesting += 1
        guard nesting <= Parser.maxNesting else {
            throw QueryError(.nestingTooDeep, "expression is nested too deeply", at: t.range,
                             help: "at most \(Parser.maxNesting) levels of parentheses, 'not', calls and lists")
        }
    }

    // MARK: Errors

    /// "expected ..." at `t`, suggesting the keyword a misspelt word was meant to be.
    /// - Parameters:
    ///   - expected: what fits here, e.g. `'asc', 'desc', ',' or '|' after the sort key`.
    ///   - keywords: keywords that fit here, for "did you mean".
    ///   - aliases: other spellings people use for them (`descending` -> `desc`).
    func unexpected(_ t: Token, _ expected: String, keywords: [String] = [], aliases: [String: String] = [:], help: String? = nil) -> QueryError {
        let message = "expected \(expected)"
        if case .identifier(let w) = t.kind {
            let lw = w.lowercased()
            if let alias = aliases[lw] {
                return QueryError(.unknownKeyword, message, at: t.range, help: "did you mean '\(alias)'?")
            }
            if let s = Suggest.nearest(w, in: keywords), s != lw {
                return QueryError(.unknownKeyword, message, at: t.range, help: "did you mean '\(s)'?")
            }
            if help == nil, Parser.stages.contains(lw) {
                return QueryError(.unexpectedToken, message, at: t.range, help: "add '|' before '\(lw)' to start a new stage")
            }
        }
        if help == nil, ParseState.isPunct(t, .rightParen) || ParseState.isPunct(t, .rightBracket) {
            return QueryError(.unexpectedToken, message, at: t.range, help: "this \(QueryError.quote(source(t))) has no opening partner")
        }
        return QueryError(.unexpectedToken, message, at: t.range, help: help)
    }

    /// Requires the end of the current stage: `|` or the end of the query.
    mutating func endStage(_ expected: String, keywords: [String] = [], aliases: [String: String] = [:]) throws {
        let t = try peek()
        if t.kind == .end || ParseState.isPunct(t, .pipe) { return }
        throw unexpected(t, expected, keywords: keywords, aliases: aliases)
    }

    // MARK: Query and stages

    mutating func parseQuery() throws -> Query {
        var query = Query()
        let first = try peek()
        switch first.kind {
        case .end:
            return query
        case .punct(.pipe):
            break
        case .identifier(let w) where Query.tables.contains(w.lowercased()):
            try advance()
            query.table = TableRef(name: w.lowercased(), range: first.range)
            let t = try peek()
            if t.kind != .end, !ParseState.isPunct(t, .pipe) {
                let help = ParseState.name(t).flatMap { Parser.stages.contains($0.lowercased()) ? "add '|' before '\($0)'" : nil }
                throw QueryError(.unexpectedToken, "expected '|' after the table name", at: t.range,
                                 help: help ?? "stages follow the table after '|', like '\(w.lowercased()) | where ...'")
            }
        case .identifier(let w) where Parser.stages.contains(w.lowercased()):
            query.stages.append(try parseStage())
        case .identifier(let w):
            throw try unknownFirstWord(first, w)
        default:
            throw QueryError(.unexpectedToken, "expected a table (events, findings, compliance, baselines) or a stage to start the query",
                             at: first.range)
        }
        while true {
            let t = try peek()
            if t.kind == .end { return query }
            guard ParseState.isPunct(t, .pipe) else {
                // Every stage parser ends at '|' or the end; this is a safety net.
                throw unexpected(t, "'|' or the end of the query")
            }
            try advance()
            query.stages.append(try parseStage())
        }
    }

    func unknownFirstWord(_ t: Token, _ w: String) throws -> QueryError {
        let next = try peek(1)
        let looksLikeTable = next.kind == .end || ParseState.isPunct(next, .pipe)
        let table = Suggest.nearest(w, in: Query.tables)
        let stage = Suggest.nearest(w, in: Parser.stages)
        let quoted = QueryError.quote(w)
        if let foreign = foreignStages[w.lowercased()] {
            return QueryError(.unknownStage, "unknown stage \(quoted)", at: t.range, help: foreign)
        }
        if looksLikeTable, let table {
            return QueryError(.unknownTable, "unknown table \(quoted)", at: t.range, help: "did you mean '\(table)'?")
        }
        if let stage {
            return QueryError(.unknownStage, "unknown stage \(quoted)", at: t.range, help: "did you mean '\(stage)'?")
        }
        if let table {
            return QueryError(.unknownTable, "unknown table \(quoted)", at: t.range, help: "did you mean '\(table)'?")
        }
        if looksLikeTable {
            return QueryError(.unknownTable, "unknown table \(quoted)", at: t.range, help: "tables are events, findings, compliance and baselines")
        }
        if case .punct(let p) = next.kind, [.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .caseInsensitiveEqual].contains(p) {
            return QueryError(.unknownStage, "expected a table or a stage to start the query", at: t.range,
                              help: "to filter, start with 'where', like 'where \(w) \(p.rawValue) ...'")
        }
        return QueryError(.unknownStage, "unknown stage \(quoted)", at: t.range,
                          help: "a query starts with a table (events, findings, compliance, baselines) or a stage (where, stats, sort, head, ...)")
    }

    mutating func parseStage() throws -> Stage {
        let t = try peek()
        guard case .identifier(let w) = t.kind else {
            throw QueryError(.unexpectedToken, "expected a stage name after '|' (where, stats, sort, head, ...)", at: t.range)
        }
        switch w.lowercased() {
        case "where": return .where(try parseWhere())
        case "since": return .since(try parseSince())
        case "between": return .between(try parseBetween())
        case "fields": return .fields(try parseFields())
        case "eval": return .eval(try parseEval())
        case "sort": return .sort(try parseSort())
        case "head": return .head(try parseHead())
        case "stats": return .stats(try parseStats())
        case "top": return .top(try parseTop())
        case "rare": return .rare(try parseTop())
        case "dedup": return .dedup(try parseDedup())
        case "timechart": return .timechart(try parseTimechart())
        case "sequence": return .sequence(try parseSequence())
        default: throw unknownStage(t, w)
        }
    }

    func unknownStage(_ t: Token, _ w: String) -> QueryError {
        let lw = w.lowercased()
        let quoted = QueryError.quote(w)
        if let foreign = foreignStages[lw] {
            return QueryError(.unknownStage, "unknown stage \(quoted)", at: t.range, help: foreign)
        }
        if let s = Suggest.nearest(w, in: Parser.stages) {
            return QueryError(.unknownStage, "unknown stage \(quoted)", at: t.range, help: "did you mean '\(s)'?")
        }
        if Query.tables.contains(lw) {
            return QueryError(.unknownStage, "unknown stage \(quoted)", at: t.range, help: "a table can only start the query, like '\(lw) | ...'")
        }
        return QueryError(.unknownStage, "unknown stage \(quoted)", at: t.range,
                          help: "stages are " + Parser.stages.dropLast().joined(separator: ", ") + " and " + Parser.stages.last!)
    }

    static let afterExpression = "'and', 'or' or '|' after the condition"

    mutating func parseWhere() throws -> WhereStage {
        let keyword = try advance()
        let predicate = try parseTopExpr()
        try endStage(ParseState.afterExpression, keywords: ParseState.expressionKeywords)
        return WhereStage(predicate: predicate, range: range(from: keyword.range.start))
    }

    mutating func parseSince() throws -> SinceStage {
        let keyword = try advance()
        let span = try expectDuration(example: "24h")
        try endStage("'|' after the duration")
        return SinceStage(duration: span, range: range(from: keyword.range.start))
    }

    /// A duration token after the previous token; `positive` refuses `0s`.
    mutating func expectDuration(example: String, positive: Bool = false) throws -> SecModel.Span {
        let t = try peek()
        switch t.kind {
        case .duration(let span):
            if positive, span.millis <= 0 {
                throw QueryError(.invalidDuration, "duration \(QueryError.quote(source(t))) must be longer than zero", at: t.range)
            }
            try advance()
            return span
        case .integer:
            let digits = source(t)
            throw QueryError(.invalidDuration, "duration \(QueryError.quote(digits)) has no unit", at: t.range,
                             help: "add a unit, like '\(digits)h' (ms, s, m, h, d, w, y)")
        default:
            throw QueryError(.unexpectedToken, "expected a duration\(afterPrevious), like \(example)", at: t.range)
        }
    }

    mutating func parseBetween() throws -> BetweenStage {
        let keyword = try advance()
        let from = try expectTime()
        guard try acceptKeyword("and") != nil else {
            throw unexpected(try peek(), "'and' between the two times", keywords: ["and"])
        }
        let to = try expectTime()
        let r = range(from: keyword.range.start)
        if from > to {
            throw QueryError(.invalidTime, "start time \(QueryError.quote(Literal.formatTime(from))) is after end time \(QueryError.quote(Literal.formatTime(to)))",
                             at: r, help: "swap the two times")
        }
        try endStage("'|' after the end time")
        return BetweenStage(from: from, to: to, range: r)
    }

    /// An unquoted RFC 3339 time or a quoted one.
    mutating func expectTime() throws -> Int64 {
        let t = try peek()
        switch t.kind {
        case .time(let millis):
            try advance()
            return millis
        case .string(let s):
            guard let millis = Lexer.parseTime(s) else {
                throw QueryError(.invalidTime, "invalid time \(QueryError.quote(s))", at: t.range,
                                 help: "write RFC 3339, like 2026-11-01T00:00:00Z or 2026-11-01")
            }
            try advance()
            return millis
        default:
            throw QueryError(.unexpectedToken, "expected a time\(afterPrevious), like 2026-11-01T00:00:00Z", at: t.range)
        }
    }

    mutating func parseFields() throws -> FieldsStage {
        let keyword = try advance()
        var fields: [FieldPath] = []
        repeat {
            let t = try peek()
            guard ParseState.name(t) != nil else {
                throw QueryError(.unexpectedToken, "expected a field name\(afterPrevious)", at: t.range)
            }
            fields.append(try parseFieldPath())
        } while try acceptPunct(.comma) != nil
        try endStage("',' or '|' after the field name")
        return FieldsStage(fields: fields, range: range(from: keyword.range.start))
    }

    mutating func parseEval() throws -> EvalStage {
        let keyword = try advance()
        var assignments: [Assignment] = []
        repeat {
            let nameToken = try peek()
            guard let name = ParseState.name(nameToken) else {
                throw QueryError(.unexpectedToken, "expected a column name\(afterPrevious), like 'eval mb = bytes / 1048576'", at: nameToken.range)
            }
            try advance()
            let eq = try peek()
            guard ParseState.isPunct(eq, .assign) else {
                let help: String? = ParseState.isPunct(eq, .equal) ? "assign with a single '='"
                    : ParseState.isPunct(eq, .dot) || ParseState.isPunct(eq, .leftBracket) ? "eval makes a new column: its name is a plain name" : nil
                throw QueryError(.unexpectedToken, "expected '=' after \(QueryError.quote(name)) in 'eval'", at: eq.range, help: help)
            }
            try advance()
            let value = try parseTopExpr()
            assignments.append(Assignment(name: name, nameRange: nameToken.range, value: value, range: range(from: nameToken.range.start)))
        } while try acceptPunct(.comma) != nil
        try endStage("',' or '|' after the expression", keywords: ParseState.expressionKeywords)
        return EvalStage(assignments: assignments, range: range(from: keyword.range.start))
    }

    static let sortAliases = ["descending": "desc", "decending": "desc", "descend": "desc", "ascending": "asc", "ascend": "asc", "asending": "asc"]

    mutating func parseSort() throws -> SortStage {
        let keyword = try advance()
        if try atKeyword("by"), ParseState.startsExpression(try peek(1)) {
            throw QueryError(.unexpectedToken, "expected a sort key after 'sort'", at: try peek().range, help: "write 'sort x' without 'by'")
        }
        var keys: [SortKey] = []
        repeat {
            let expr = try parseTopExpr()
            var descending = false
            if try acceptKeyword("desc") != nil { descending = true } else { _ = try acceptKeyword("asc") }
            keys.append(SortKey(expr: expr, descending: descending, range: range(from: expr.range.start)))
        } while try acceptPunct(.comma) != nil
        try endStage("'asc', 'desc', ',' or '|' after the sort key", keywords: ["asc", "desc"] + ParseState.expressionKeywords, aliases: ParseState.sortAliases)
        return SortStage(keys: keys, range: range(from: keyword.range.start))
    }

    /// An optional row count (`head 20`, `top 5 ...`).
    mutating func optionalCount(default value: Int) throws -> Int {
        let t = try peek()
        guard case .integer(let n) = t.kind else { return value }
        guard n <= UInt64(Int.max) else {
            throw QueryError(.invalidNumber, "count \(QueryError.quote(source(t))) is too large", at: t.range)
        }
        try advance()
        return Int(n)
    }

    mutating func parseHead() throws -> HeadStage {
        let keyword = try advance()
        let count = try optionalCount(default: HeadStage.defaultCount)
        try endStage("a number of rows or '|' after 'head'")
        return HeadStage(count: count, range: range(from: keyword.range.start))
    }

    mutating func parseStats() throws -> StatsStage {
        let keyword = try advance()
        let aggregates = try parseAggregates()
        var by: [Expr] = []
        if try acceptKeyword("by") != nil {
            by = try parseKeys()
            try endStage("',' or '|' after the group key", keywords: ParseState.expressionKeywords)
        } else {
            try endStage("'as', ',', 'by' or '|' after the aggregate", keywords: ["as", "by"])
        }
        return StatsStage(aggregates: aggregates, by: by, range: range(from: keyword.range.start))
    }

    /// `count() as n, dc(x), ...`: at least one; a bare `count` means `count()`.
    mutating func parseAggregates() throws -> [Aggregate] {
        var aggregates: [Aggregate] = []
        repeat {
            let t = try peek()
            let expected = "expected an aggregate like 'count()' or 'sum(bytes)'\(afterPrevious)"
            guard case .identifier(let w) = t.kind else { throw QueryError(.unexpectedToken, expected, at: t.range) }
            let call: Call
            if try atPunct(.leftParen, 1) {
                call = try parseCall()
            } else if w.lowercased() == "count" {
                try advance()
                call = Call(name: w, nameRange: t.range, args: [], range: t.range)
            } else {
                let next = try peek(1)
                let help: String
                if w.lowercased() == "by" {
                    help = "put an aggregate before 'by', like 'count() by ...'"
                } else if ParseState.isPunct(next, .assign), case .identifier(let f) = (try peek(2)).kind {
                    help = "name an aggregate with 'as', like '\(f)(...) as \(w)'"
                } else {
                    help = "to count rows per \(QueryError.quote(w)), write 'count() by \(w)'"
                }
                throw QueryError(.unexpectedToken, expected, at: t.range, help: help)
            }
            var alias: String?
            var aliasRange: SourceRange?
            if try acceptKeyword("as") != nil {
                let n = try peek()
                guard let name = ParseState.name(n) else {
                    throw QueryError(.unexpectedToken, "expected a column name after 'as'", at: n.range)
                }
                try advance()
                alias = name
                aliasRange = n.range
            }
            aggregates.append(Aggregate(call: call, alias: alias, aliasRange: aliasRange, range: range(from: t.range.start)))
        } while try acceptPunct(.comma) != nil
        return aggregates
    }

    /// One or more comma-separated expressions (group keys, `top` fields, `dedup` fields).
    mutating func parseKeys() throws -> [Expr] {
        var keys: [Expr] = []
        repeat {
            let t = try peek()
            if ParseState.isKeyword(t, "by") {
                throw QueryError(.expectedExpression, "expected a field\(afterPrevious)", at: t.range)
            }
            keys.append(try parseTopExpr())
        } while try acceptPunct(.comma) != nil
        return keys
    }

    mutating func parseTop() throws -> TopStage {
        let keyword = try advance()
        let count = try optionalCount(default: TopStage.defaultCount)
        let fields = try parseKeys()
        var by: [Expr] = []
        if try acceptKeyword("by") != nil {
            by = try parseKeys()
            try endStage("',' or '|' after the group key", keywords: ParseState.expressionKeywords)
        } else {
            try endStage("',', 'by' or '|' after the field", keywords: ["by"])
        }
        return TopStage(count: count, fields: fields, by: by, range: range(from: keyword.range.start))
    }

    mutating func parseDedup() throws -> DedupStage {
        let keyword = try advance()
        let fields = try parseKeys()
        try endStage("',' or '|' after the field", keywords: ParseState.expressionKeywords)
        return DedupStage(fields: fields, range: range(from: keyword.range.start))
    }

    mutating func parseTimechart() throws -> TimechartStage {
        let keyword = try advance()
        var span: SecModel.Span?
        if try atKeyword("span") {
            let next = try peek(1)
            if ParseState.isPunct(next, .assign) {
                try advance()
                try advance()
                let token = try peek()
                span = try expectDuration(example: "1h", positive: true)
                if let d = span, d.millis < 1000 {
                    throw QueryError(.invalidDuration, "timechart span \(QueryError.quote(source(token))) is shorter than 1s", at: token.range,
                                     help: "use a span of at least 1s, like span=1s")
                }
            } else if case .duration = next.kind {
                throw QueryError(.unexpectedToken, "expected '=' after 'span'", at: next.range, help: "write 'span=\(source(next))'")
            }
        }
        let aggregates = try parseAggregates()
        var by: [Expr] = []
        if try acceptKeyword("by") != nil {
            by = try parseKeys()
            try endStage("',' or '|' after the group key", keywords: ParseState.expressionKeywords)
        } else {
            try endStage("'as', ',', 'by' or '|' after the aggregate", keywords: ["as", "by"])
        }
        return TimechartStage(span: span, aggregates: aggregates, by: by, range: range(from: keyword.range.start))
    }

    mutating func parseSequence() throws -> SequenceStage {
        let keyword = try advance()
        var by: [Expr] = []
        var within: SecModel.Span?
        var sawBy = false
        while true {
            if !sawBy, try acceptKeyword("by") != nil {
                by = try parseKeys()
                sawBy = true
            } else if within == nil, try acceptKeyword("within") != nil {
                within = try expectDuration(example: "10m", positive: true)
            } else if within == nil, try atKeyword("with"), try atKeyword("maxspan", 1) {
                try advance()
                try advance()
                try expectAssign(after: "maxspan", example: "maxspan=10m")
                within = try expectDuration(example: "10m", positive: true)
            } else {
                break
            }
        }
        var steps: [SequenceStep] = []
        while let open = try acceptPunct(.leftBracket) {
            let predicate = try parseTopExpr()
            guard try acceptPunct(.rightBracket) != nil else {
                throw unexpected(try peek(), "']' after the step's condition", keywords: ParseState.expressionKeywords)
            }
            var runs = 1
            if try atKeyword("with") {
                let runsToken = try peek(1)
                guard ParseState.isKeyword(runsToken, "runs") else {
                    throw unexpected(runsToken, "'runs=' after 'with'", keywords: ["runs"])
                }
                try advance()
                try advance()
                try expectAssign(after: "runs", example: "runs=3")
                let n = try peek()
                guard case .integer(let value) = n.kind else {
                    throw QueryError(.unexpectedToken, "expected a number after 'runs='", at: n.range)
                }
                guard value >= 1, value <= UInt64(Int.max) else {
                    throw QueryError(.invalidNumber, "'runs' must be at least 1", at: n.range)
                }
                try advance()
                runs = Int(value)
            }
            steps.append(SequenceStep(predicate: predicate, runs: runs, range: range(from: open.range.start)))
        }
        guard !steps.isEmpty else {
            throw unexpected(try peek(), "'[' to start the first step, like [action == \"ConsoleLogin\"]", keywords: ["by", "within"])
        }
        var until: Expr?
        if try acceptKeyword("until") != nil {
            if try acceptPunct(.leftBracket) != nil {
                until = try parseTopExpr()
                guard try acceptPunct(.rightBracket) != nil else {
                    throw unexpected(try peek(), "']' after the condition of 'until'", keywords: ParseState.expressionKeywords)
                }
            } else {
                until = try parseTopExpr()
            }
        }
        try endStage(until == nil ? "'[', 'until' or '|' after the step" : "'|' after 'until'", keywords: until == nil ? ["until", "with"] : [])
        return SequenceStage(by: by, within: within, steps: steps, until: until, range: range(from: keyword.range.start))
    }

    mutating func expectAssign(after word: String, example: String) throws {
        let t = try peek()
        guard ParseState.isPunct(t, .assign) else {
            throw QueryError(.unexpectedToken, "expected '=' after '\(word)'", at: t.range, help: "write '\(example)'")
        }
        try advance()
    }

    // MARK: Expressions

    /// An expression that is not inside another: checks the depth of the finished tree.
    mutating func parseTopExpr() throws -> Expr {
        let e = try parseExpr()
        if ParseState.depth(of: e) > Parser.maxTreeDepth {
            throw QueryError(.nestingTooDeep, "expression is nested too deeply", at: e.range,
                             help: "split it into stages, or use 'in (...)' for long lists of alternatives")
        }
        return e
    }

    /// Depth of a tree, walked without recursion.
    static func depth(of root: Expr) -> Int {
        var deepest = 0
        var stack: [(Expr, Int)] = [(root, 1)]
        while let (e, d) = stack.popLast() {
            deepest = max(deepest, d)
            switch e {
            case .literal, .field: break
            case .call(let c): stack += c.args.map { ($0, d + 1) }
            case .unary(_, let x, _): stack.append((x, d + 1))
            case .binary(_, let l, let r, _): stack += [(l, d + 1), (r, d + 1)]
            case .inList(let x, let list, _, _), .inCIDR(let x, let list, _, _): stack += ([x] + list).map { ($0, d + 1) }
            }
            if deepest > Parser.maxTreeDepth { break }
        }
        return deepest
    }

    // Expressions are parsed by precedence climbing (one `parseBinary` frame per operand
    // instead of one function per precedence level), error messages are built in separate
    // functions, and the recursive functions use untyped `throws` (see `typed`): a level of
    // nesting then costs about 5 KiB of stack in a debug build, so `Parser.maxNesting`
    // levels fit in the 512 KiB stack of a secondary thread on macOS (StackDepthTests).

    mutating func parseExpr() throws -> Expr {
        try parseBinary(1)
    }

    /// An operand followed by binary operators binding at least as tight as `minimum`
    /// (``BinaryOp/precedence``: 1 `or`, 2 `and`, 3 `not`, 4 comparisons, 5 `+ -`, 6 `* / %`).
    mutating func parseBinary(_ minimum: Int) throws -> Expr {
        var left = try parsePrefix(minimum)
        var compared = false
        while true {
            let t = try peek()
            guard let precedence = try infixPrecedence(t), precedence >= minimum else {
                if minimum <= 4, ParseState.isPunct(t, .assign) { throw assignInsteadOfEqual(t) }
                return left
            }
            if precedence == 4 {
                // Comparisons do not chain: `a < b < c` is a mistake, not `(a < b) < c`.
                if compared { throw chainedComparison(t) }
                compared = true
                left = try parseComparison(left)
            } else {
                compared = false
                try advance()
                let right = try parseBinary(precedence + 1)
                left = .binary(ParseState.binaryOperator(t), left, right, range: left.range.union(right.range))
            }
        }
    }

    /// Precedence of `t` as an infix operator, nil when it is none.
    func infixPrecedence(_ t: Token) throws -> Int? {
        switch t.kind {
        case .punct(.bars): return 1
        case .punct(.ampersands): return 2
        case .punct(.equal), .punct(.notEqual), .punct(.less), .punct(.lessEqual), .punct(.greater), .punct(.greaterEqual),
             .punct(.caseInsensitiveEqual):
            return 4
        case .punct(.plus), .punct(.minus): return 5
        case .punct(.star), .punct(.slash), .punct(.percent): return 6
        case .punct(.bang): return try negatesOperator() ? 4 : nil
        case .identifier(let w):
            switch w.lowercased() {
            case "or": return 1
            case "and": return 2
            case "in", "contains", "startswith", "endswith", "matches": return 4
            case "not": return try negatesOperator() ? 4 : nil
            default: return nil
            }
        default: return nil
        }
    }

    /// Whether the token after the current `not` or `!` is `in` or a word operator.
    func negatesOperator() throws -> Bool {
        let next = try peek(1)
        return ParseState.isKeyword(next, "in") || ParseState.stringOperator(next) != nil
    }

    /// The operator of a precedence 1, 2, 5 or 6 token.
    static func binaryOperator(_ t: Token) -> BinaryOp {
        switch t.kind {
        case .punct(.bars): return .or
        case .punct(.ampersands): return .and
        case .punct(.plus): return .add
        case .punct(.minus): return .subtract
        case .punct(.star): return .multiply
        case .punct(.slash): return .divide
        case .punct(.percent): return .remainder
        default: return isKeyword(t, "or") ? .or : .and
        }
    }

    /// `not x`, `-x` or a primary; `not` only where it may bind (`a == not b` is an error).
    mutating func parsePrefix(_ minimum: Int) throws -> Expr {
        let t = try peek()
        if minimum <= 3, ParseState.isKeyword(t, "not") || ParseState.isPunct(t, .bang) {
            try advance()
            try enter(t)
            defer { nesting -= 1 }
            let operand = try parseBinary(3)
            return .unary(.not, operand, range: t.range.union(operand.range))
        }
        if ParseState.isPunct(t, .minus) {
            try advance()
            if let folded = try negativeLiteral(minus: t) { return folded }
            try enter(t)
            defer { nesting -= 1 }
            let operand = try parsePrefix(7)
            return .unary(.negate, operand, range: t.range.union(operand.range))
        }
        return try parsePrimary()
    }

    /// After a `-`: a number literal folded with its sign, so that -9223372036854775808 fits.
    mutating func negativeLiteral(minus: Token) throws -> Expr? {
        let t = try peek()
        switch t.kind {
        case .integer(let magnitude):
            let value: Int64
            if magnitude <= UInt64(Int64.max) {
                value = -Int64(magnitude)
            } else if magnitude == UInt64(Int64.max) + 1 {
                value = .min
            } else {
                throw tooLarge(t, from: minus)
            }
            try advance()
            return .literal(.int(value), range: minus.range.union(t.range))
        case .decimal(let d):
            try advance()
            return .literal(.double(-d), range: minus.range.union(t.range))
        default:
            return nil
        }
    }

    /// After `left`, on a comparison operator, `in`, or `not`/`!` before `in` or a word operator.
    mutating func parseComparison(_ left: Expr) throws -> Expr {
        let t = try advance()
        if let op = ParseState.comparison(t) {
            if op == .less, try atPunct(.greater) { throw lessGreater(try peek()) }
            let right = try parseBinary(5)
            return .binary(op, left, right, range: left.range.union(right.range))
        }
        if ParseState.isKeyword(t, "in") { return try parseInTail(left, negated: false) }
        let next = try advance()
        guard let op = ParseState.stringOperator(next) else { return try parseInTail(left, negated: true) }
        let right = try parseBinary(5)
        let r = left.range.union(right.range)
        return .unary(.not, .binary(op, left, right, range: r), range: r)
    }

    static func comparison(_ t: Token) -> BinaryOp? {
        switch t.kind {
        case .punct(.equal): return .equal
        case .punct(.notEqual): return .notEqual
        case .punct(.less): return .less
        case .punct(.lessEqual): return .lessEqual
        case .punct(.greater): return .greater
        case .punct(.greaterEqual): return .greaterEqual
        case .punct(.caseInsensitiveEqual): return .caseInsensitiveEqual
        default: return stringOperator(t)
        }
    }

    /// The word operators that `not` may precede.
    static func stringOperator(_ t: Token) -> BinaryOp? {
        guard case .identifier(let w) = t.kind else { return nil }
        switch w.lowercased() {
        case "contains": return .contains
        case "startswith": return .startsWith
        case "endswith": return .endsWith
        case "matches": return .matches
        default: return nil
        }
    }

    /// After `in` or `not in`: `(a, b, ...)` or `cidr("10.0.0.0/8", ...)`.
    mutating func parseInTail(_ left: Expr, negated: Bool) throws -> Expr {
        let t = try peek()
        if ParseState.isKeyword(t, "cidr"), try atPunct(.leftParen, 1) {
            let call = try parseCall()
            return try ParseState.inCIDR(left, call, negated: negated)
        }
        guard ParseState.isPunct(t, .leftParen) else { throw expectedList(t) }
        try advance()
        try enter(t)
        defer { nesting -= 1 }
        let (items, close) = try parseList(isCall: nil)
        return .inList(left, items, negated: negated, range: left.range.union(close.range))
    }

    @inline(never)
    static func inCIDR(_ left: Expr, _ call: Call, negated: Bool) throws -> Expr {
        guard !call.args.isEmpty else {
            throw QueryError(.expectedExpression, "expected a network like \"10.0.0.0/8\" in 'cidr()'", at: SourceRange.point(call.range.end - 1))
        }
        return .inCIDR(left, call.args, negated: negated, range: left.range.union(call.range))
    }

    /// `a, b, ...)` after an opening parenthesis: the items and the closing token. An empty
    /// list is allowed for a call (`count()`), never for `in`.
    mutating func parseList(isCall name: Token?) throws -> ([Expr], Token) {
        var items: [Expr] = []
        if try !listIsEmpty(isCall: name) {
            repeat {
                items.append(try parseExpr())
            } while try acceptPunct(.comma) != nil
        }
        return (items, try closeList(isCall: name))
    }

    @inline(never)
    func listIsEmpty(isCall name: Token?) throws -> Bool {
        let t = try peek()
        if ParseState.isPunct(t, .star) { throw starArgument(name, t) }
        guard ParseState.isPunct(t, .rightParen) else { return false }
        guard name != nil else { throw emptyList(t) }
        return true
    }

    @inline(never)
    mutating func closeList(isCall name: Token?) throws -> Token {
        let close = try peek()
        guard ParseState.isPunct(close, .rightParen) else { throw unclosedList(name, found: close) }
        return try advance()
    }

    /// A literal, a field path, a call or a parenthesised expression. The recursive cases
    /// have their own small functions; the rest never recurses.
    mutating func parsePrimary() throws -> Expr {
        let t = try peek()
        if ParseState.isPunct(t, .leftParen) { return try parseParenthesized() }
        if try startsCall(t) { return .call(try parseCall()) }
        return try parseLeaf(t)
    }

    func startsCall(_ t: Token) throws -> Bool {
        guard case .identifier(let w) = t.kind, !Parser.reservedInExpressions.contains(w.lowercased()) else { return false }
        return try atPunct(.leftParen, 1)
    }

    mutating func parseParenthesized() throws -> Expr {
        let open = try advance()
        try enter(open)
        defer { nesting -= 1 }
        let inner = try parseExpr()
        guard try acceptPunct(.rightParen) != nil else { throw unclosedParenthesis(open, found: try peek()) }
        return inner
    }

    /// `name(args)`; the parser is on the name.
    mutating func parseCall() throws -> Call {
        let name = try advance()
        let open = try advance()
        try enter(open)
        defer { nesting -= 1 }
        let (args, close) = try parseList(isCall: name)
        return makeCall(name, args, close)
    }

    func makeCall(_ name: Token, _ args: [Expr], _ close: Token) -> Call {
        Call(name: ParseState.name(name) ?? source(name), nameRange: name.range, args: args,
             range: name.range.union(close.range))
    }

    @inline(never)
    mutating func parseLeaf(_ t: Token) throws -> Expr {
        if let literal = try literal(t) {
            try advance()
            return literal
        }
        switch t.kind {
        case .quotedIdentifier: break
        case .identifier(let w) where !Parser.reservedInExpressions.contains(w.lowercased()): break
        default: throw expectedExpression(t)
        }
        return .field(try parseFieldPath())
    }

    /// The literal `t` is, if it is one (`true`, `false` and `null` in any case).
    func literal(_ t: Token) throws -> Expr? {
        switch t.kind {
        case .integer(let n):
            guard n <= UInt64(Int64.max) else { throw tooLarge(t, from: nil) }
            return .literal(.int(Int64(n)), range: t.range)
        case .decimal(let d): return .literal(.double(d), range: t.range)
        case .string(let s): return .literal(.string(s), range: t.range)
        case .duration(let span): return .literal(.duration(span), range: t.range)
        case .time(let millis): return .literal(.time(millis), range: t.range)
        case .identifier(let w):
            switch w.lowercased() {
            case "true": return .literal(.bool(true), range: t.range)
            case "false": return .literal(.bool(false), range: t.range)
            case "null": return .literal(.null, range: t.range)
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: Expression errors (kept out of the recursive functions' frames)

    @inline(never)
    func assignInsteadOfEqual(_ t: Token) -> QueryError {
        QueryError(.unexpectedToken, "expected '==' to compare, found '='", at: t.range, help: "'=' only assigns, in 'eval name = ...'")
    }

    @inline(never)
    func chainedComparison(_ t: Token) -> QueryError {
        QueryError(.unexpectedToken, "comparisons cannot be chained", at: t.range, help: "join comparisons with 'and', like 'a < b and b < c'")
    }

    @inline(never)
    func lessGreater(_ t: Token) -> QueryError {
        QueryError(.unexpectedToken, "expected an expression after '<'", at: t.range, help: "write '!=' for not equal")
    }

    @inline(never)
    func expectedList(_ t: Token) -> QueryError {
        QueryError(.unexpectedToken, "expected '(' or 'cidr(' after 'in'", at: t.range, help: "list the values in parentheses, like 'in (\"a\", \"b\")'")
    }

    @inline(never)
    func emptyList(_ t: Token) -> QueryError {
        QueryError(.expectedExpression, "expected a value in the list after 'in'", at: t.range)
    }

    /// A list without its `)`: the arguments of a call, or the values of `in`.
    @inline(never)
    func unclosedList(_ name: Token?, found: Token) -> QueryError {
        let help = ParseState.startsExpression(found) ? (name == nil ? "separate values with ','" : "separate arguments with ','") : nil
        let expected = name.map { "expected ')' after arguments of \(QueryError.quote(source($0)))" } ?? "expected ')' after the values of 'in'"
        return QueryError(.unexpectedToken, expected, at: found.range, help: help)
    }

    @inline(never)
    func unclosedParenthesis(_ open: Token, found: Token) -> QueryError {
        unexpected(found, "')' to close the '(' at \(open.range.location(in: text))", keywords: ParseState.expressionKeywords)
    }

    @inline(never)
    func starArgument(_ name: Token?, _ star: Token) -> QueryError {
        QueryError(.expectedExpression, "expected an expression or ')' after '('", at: star.range,
                   help: name.map { ParseState.isKeyword($0, "count") } == true ? "write 'count()' to count rows" : nil)
    }

    @inline(never)
    func expectedExpression(_ t: Token) -> QueryError {
        var help: String?
        if case .identifier(let w) = t.kind, Parser.reservedInExpressions.contains(w.lowercased()) {
            help = "\(QueryError.quote(w)) is a keyword; write `\(w)` for a field of that name"
        }
        return QueryError(.expectedExpression, "expected an expression\(afterPrevious)", at: t.range, help: help)
    }

    /// An integer literal beyond `Int64`, with its minus sign when there is one.
    @inline(never)
    func tooLarge(_ t: Token, from minus: Token?) -> QueryError {
        let r = minus.map { $0.range.union(t.range) } ?? t.range
        return QueryError(.invalidNumber, "integer \(QueryError.quote((minus == nil ? "" : "-") + source(t))) is too large", at: r,
                          help: minus == nil ? "integers go up to 9223372036854775807" : "integers go down to -9223372036854775808")
    }

    /// `a.b[0].`c-d``; the parser is on the first name.
    mutating func parseFieldPath() throws -> FieldPath {
        let first = try advance()
        var segments: [FieldPath.Segment] = [.name(ParseState.name(first) ?? "")]
        var end = first.range.end
        while true {
            let t = try peek()
            if ParseState.isPunct(t, .dot) {
                try advance()
                let n = try peek()
                guard let name = ParseState.name(n) else {
                    let help: String? = if case .integer = n.kind { "write an array index in brackets, like 'resources[0]'" }
                        else { "put odd names in backquotes, like raw.`detail-type`" }
                    throw QueryError(.unexpectedToken, "expected a field name after '.'", at: n.range, help: help)
                }
                try advance()
                segments.append(.name(name))
                end = n.range.end
            } else if ParseState.isPunct(t, .leftBracket), t.range.start == end {
                try advance()
                let n = try peek()
                guard case .integer(let k) = n.kind, k <= UInt64(Int.max) else {
                    throw QueryError(.unexpectedToken, "expected an array index (a whole number) after '['", at: n.range)
                }
                try advance()
                let close = try peek()
                guard ParseState.isPunct(close, .rightBracket) else {
                    throw QueryError(.unexpectedToken, "expected ']' after the array index", at: close.range)
                }
                try advance()
                segments.append(.index(Int(k)))
                end = close.range.end
            } else {
                return FieldPath(segments: segments, range: SourceRange(start: first.range.start, end: end))
            }
        }
    }
}
