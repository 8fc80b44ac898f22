import Foundation
import SecDetect
import SecModel
import SecQuery
import Yams

/// An invalid rule file: the message, the file and where in it, rendered like a query
/// error (`--> rules/x.yml:4:12`, the line, carets under the place).
public struct RuleFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var text: String
    public var error: QueryError

    public var location: SourceLocation { error.range.location(in: text) }
    public var message: String { error.message }
    /// The error as a person reads it.
    public var description: String { error.render(query: text, name: file) }
}

/// Reads rule files (`schemas/rule.schema.json`).
public enum RuleLoader {
    /// Parses one rule file's text. `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(RuleFileError) -> Rule {
        let doc = YAMLDoc(text: text, file: file)
        do throws(PositionedError) {
            return try doc.rule()
        } catch {
            throw doc.error(error)
        }
    }

    /// Reads and parses one file.
    public static func load(path: String) throws -> Rule {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuleFileError(file: path, text: "", error: QueryError(.init("unreadable"), "cannot read the file", at: .point(0)))
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// The `.yml` and `.yaml` files of a path: the file itself, or a folder's files
    /// (recursively), in name order.
    public static func ruleFiles(_ path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [] }
        guard isDir.boolValue else { return [path] }
        let base = path.hasSuffix("/") ? path : path + "/"
        var out: [String] = []
        if let e = FileManager.default.enumerator(atPath: path) {
            for case let rel as String in e where rel.hasSuffix(".yml") || rel.hasSuffix(".yaml") {
                out.append(base + rel)
            }
        }
        return out.sorted()
    }
}

/// A composed YAML document with positions.
struct YAMLDoc {
    let text: String
    let file: String
    let lineStarts: [Int]
    let utf8: [UInt8]

    init(text: String, file: String) {
        self.text = text
        self.file = file
        utf8 = Array(text.utf8)
        var starts = [0]
        for (i, b) in utf8.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        lineStarts = starts
    }

    func error(_ e: PositionedError) -> RuleFileError {
        let s = min(max(e.offset, 0), utf8.count)
        return RuleFileError(file: file, text: text,
                             error: QueryError(.init("invalidRule"), e.message,
                                               at: SourceRange(start: s, end: min(s + e.length, utf8.count)), help: e.help))
    }

    /// The byte offset of a Yams mark (line and column from 1, column in scalars).
    func offset(_ mark: Mark?) -> Int {
        guard let mark, mark.line >= 1, mark.line <= lineStarts.count else { return 0 }
        var o = lineStarts[mark.line - 1]
        var col = 1
        while col < mark.column, o < utf8.count, utf8[o] != UInt8(ascii: "\n") {
            // Step one scalar.
            o += 1
            while o < utf8.count, utf8[o] & 0xC0 == 0x80 { o += 1 }
            col += 1
        }
        return o
    }

    func offset(_ node: Node) -> Int { offset(node.mark) }

    func root() throws(PositionedError) -> Node {
        do {
            // Timestamps stay text: rule files hold none, and Sigma dates are not read.
            guard let n = try Yams.compose(yaml: text, Resolver.default.removing(.timestamp)) else {
                throw PositionedError("the file is empty", offset: 0)
            }
            return n
        } catch let e as PositionedError {
            throw e
        } catch let e as YamlError {
            switch e {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                throw PositionedError("not valid YAML: \(problem)", offset: offset(mark), length: 1)
            case .reader(let problem, _, _, _):
                throw PositionedError("not valid YAML: \(problem)", offset: 0)
            default:
                throw PositionedError("not valid YAML: \(e)", offset: 0)
            }
        } catch {
            throw PositionedError("not valid YAML: \(error)", offset: 0)
        }
    }

    func mapping(_ n: Node, _ what: String) throws(PositionedError) -> [(key: String, keyNode: Node, value: Node)] {
        guard case .mapping(let m) = n else {
            throw PositionedError("\(what) must be a mapping of keys to values", offset: offset(n), length: 1)
        }
        var out: [(String, Node, Node)] = []
        var seen = Set<String>()
        for (k, v) in m {
            guard let s = k.string else { throw PositionedError("keys must be text", offset: offset(k), length: 1) }
            guard seen.insert(s).inserted else {
                throw PositionedError("'\(s)' is given twice", offset: offset(k), length: s.utf8.count)
            }
            out.append((s, k, v))
        }
        return out
    }

    func scalar(_ n: Node, _ key: String) throws(PositionedError) -> String {
        guard case .scalar(let s) = n else {
            throw PositionedError("'\(key)' must be a single value", offset: offset(n), length: 1)
        }
        return s.string
    }

    func list(_ n: Node, _ key: String) throws(PositionedError) -> [Node] {
        if case .sequence(let s) = n { return Array(s) }
        throw PositionedError("'\(key)' must be a list", offset: offset(n), length: 1, help: "write [a, b] or one '- item' a line")
    }

    func int(_ n: Node, _ key: String, _ range: ClosedRange<Int>) throws(PositionedError) -> Int {
        let s = try scalar(n, key)
        guard let i = Int(s), range.contains(i) else {
            throw PositionedError("'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound)",
                                  offset: offset(n), length: s.utf8.count)
        }
        return i
    }

    func span(_ n: Node, _ key: String) throws(PositionedError) -> Int64 {
        let s = try scalar(n, key)
        guard let d = Span(s), d.millis > 0, d.millis <= 30 * 86_400_000 else {
            throw PositionedError("'\(key)' must be a duration from 1ms to 30d, like 10m", offset: offset(n),
                                  length: s.utf8.count, help: "units: ms, s, m, h, d, w")
        }
        return d.millis
    }

    func fields(_ n: Node, _ key: String) throws(PositionedError) -> [FieldRef] {
        var out: [FieldRef] = []
        for item in try list(n, key) {
            out.append(try field(item, key))
        }
        return out
    }

    func field(_ n: Node, _ key: String) throws(PositionedError) -> FieldRef {
        let s = try scalar(n, key)
        guard let f = FieldRef(s) else {
            throw PositionedError("unknown field '\(s)'", offset: offset(n), length: s.utf8.count,
                                  help: "a secq field (principal, src_ip, account, ...) or raw.<path>")
        }
        return f
    }

    /// A secq `where` expression from a scalar; errors point into the file.
    func expression(_ n: Node, _ key: String) throws(PositionedError) -> EventFilter {
        let s = try scalar(n, key)
        do throws(QueryError) {
            return try EventFilter(s, now: 0)
        } catch {
            let (o, len) = place(error.range, in: s, node: n)
            throw PositionedError(error.message, offset: o, length: len, help: error.help)
        }
    }

    /// Where a range of a scalar's text is in the file: each line of the text is looked
    /// for in the file from the scalar's start (plain, quoted and block scalars alike);
    /// the scalar's start when it cannot be found (escapes in quotes).
    func place(_ r: SourceRange, in s: String, node: Node) -> (Int, Int) {
        let start = offset(node)
        let bytes = Array(s.utf8)
        var lineStart = 0
        var from = start
        var i = 0
        while true {
            let end = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let line = Array(bytes[lineStart..<end])
            guard let found = find(line, from: from) else { break }
            if r.start <= end || end == bytes.count {
                let o = found + min(max(r.start - lineStart, 0), line.count)
                return (o, max(0, min(r.end, end) - r.start))
            }
            from = found + line.count
            lineStart = end + 1
            i += 1
            if lineStart > bytes.count || i > 10_000 { break }
        }
        return (start, 1)
    }

    func find(_ needle: [UInt8], from: Int) -> Int? {
        if needle.isEmpty { return from }
        guard from + needle.count <= utf8.count else { return nil }
        var i = from
        while i + needle.count <= utf8.count {
            if utf8[i] == needle[0], Array(utf8[i..<i + needle.count]) == needle { return i }
            i += 1
        }
        return nil
    }

    static let keys = ["id", "finding_type", "severity", "title", "description", "sources", "where", "threshold",
                       "sequence", "aggregation_key"]

    func rule() throws(PositionedError) -> Rule {
        let r = try root()
        let m = try mapping(r, "a rule file")
        var byKey: [String: Node] = [:]
        for (k, kn, v) in m {
            guard Self.keys.contains(k) else {
                throw PositionedError("unknown key '\(k)'", offset: offset(kn), length: k.utf8.count,
                                      help: "keys: " + Self.keys.joined(separator: ", "))
            }
            byKey[k] = v
        }
        func need(_ k: String) throws(PositionedError) -> Node {
            guard let v = byKey[k] else { throw PositionedError("missing '\(k)'", offset: offset(r)) }
            return v
        }
        let idNode = try need("id")
        let id = try scalar(idNode, "id")
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw PositionedError("'id' must be letters, digits, '.', '_' or '-'", offset: offset(idNode), length: max(id.utf8.count, 1))
        }
        let typeNode = try need("finding_type")
        let typeText = try scalar(typeNode, "finding_type")
        guard let type = FindingType(typeText) else {
            throw PositionedError("'\(typeText)' is not a finding type", offset: offset(typeNode), length: max(typeText.utf8.count, 1),
                                  help: "GuardDuty's form ThreatPurpose:ResourceType/ThreatFamily.Variant")
        }
        let sevNode = try need("severity")
        let sevText = try scalar(sevNode, "severity")
        guard let sev = Double(sevText), sev >= 1.0, sev <= 10.0 else {
            throw PositionedError("'severity' must be a number from 1.0 to 10.0", offset: offset(sevNode), length: max(sevText.utf8.count, 1))
        }
        let title = try template(try need("title"), "title")
        let description = try byKey["description"].map { (n) throws(PositionedError) in try template(n, "description") }
        var sources = Set(Source.allCases)
        if let n = byKey["sources"] {
            sources = []
            for item in try list(n, "sources") {
                let s = try scalar(item, "sources")
                guard let src = Source(rawValue: s) else {
                    throw PositionedError("unknown source '\(s)'", offset: offset(item), length: s.utf8.count,
                                          help: "sources: " + Source.allCases.map(\.rawValue).joined(separator: ", "))
                }
                sources.insert(src)
            }
        }
        let aggregation = try byKey["aggregation_key"].map { (n) throws(PositionedError) in try fields(n, "aggregation_key") }
            ?? [FieldRef("principal")!]

        let kinds = ["where", "threshold", "sequence"].filter { byKey[$0] != nil }
        guard kinds.count == 1 else {
            if kinds.isEmpty {
                throw PositionedError("a rule needs one of 'where', 'threshold' or 'sequence'", offset: offset(r))
            }
            let second = m.first { $0.key == kinds[1] }!.keyNode
            throw PositionedError("a rule has one of 'where', 'threshold' or 'sequence', not both '\(kinds[0])' and '\(kinds[1])'",
                                  offset: offset(second), length: kinds[1].utf8.count)
        }
        let logic: Rule.Logic
        switch kinds[0] {
        case "where":
            logic = .match(try expression(byKey["where"]!, "where"))
        case "threshold":
            logic = try threshold(byKey["threshold"]!)
        default:
            logic = try sequence(byKey["sequence"]!)
        }
        return Rule(id: id, findingType: type, severity: sev, title: title, description: description, sources: sources,
                    aggregationKey: aggregation, logic: logic, origin: file)
    }

    func template(_ n: Node, _ key: String) throws(PositionedError) -> Template {
        let s = try scalar(n, key)
        guard !s.isEmpty else { throw PositionedError("'\(key)' is empty", offset: offset(n)) }
        do throws(PositionedError) {
            return try Template(s)
        } catch {
            let (o, len) = place(SourceRange(start: error.offset, end: error.offset + error.length), in: s, node: n)
            throw PositionedError(error.message, offset: o, length: len, help: error.help)
        }
    }

    func threshold(_ n: Node) throws(PositionedError) -> Rule.Logic {
        let m = try mapping(n, "'threshold'")
        var f: EventFilter?, count: Int?, distinct: FieldRef?, by: [FieldRef] = [], window: Int64?
        for (k, kn, v) in m {
            switch k {
            case "where": f = try expression(v, "where")
            case "count": count = try int(v, "count", 1...1000)
            case "distinct": distinct = try field(v, "distinct")
            case "by": by = try fields(v, "by")
            case "window": window = try span(v, "window")
            default:
                throw PositionedError("unknown key '\(k)' in 'threshold'", offset: offset(kn), length: k.utf8.count,
                                      help: "keys: where, count, distinct, by, window")
            }
        }
        guard let f else { throw PositionedError("'threshold' needs 'where'", offset: offset(n)) }
        guard let count else { throw PositionedError("'threshold' needs 'count'", offset: offset(n)) }
        guard let window else { throw PositionedError("'threshold' needs 'window'", offset: offset(n)) }
        return .threshold(filter: f, count: count, distinct: distinct, by: by, window: window)
    }

    func sequence(_ n: Node) throws(PositionedError) -> Rule.Logic {
        let m = try mapping(n, "'sequence'")
        var steps: [EventFilter]?, by: [FieldRef] = [], within: Int64?
        for (k, kn, v) in m {
            switch k {
            case "steps":
                let items = try list(v, "steps")
                guard (2...10).contains(items.count) else {
                    throw PositionedError("'steps' must list 2 to 10 expressions", offset: offset(v), length: 1)
                }
                var out: [EventFilter] = []
                for item in items { out.append(try expression(item, "steps")) }
                steps = out
            case "by": by = try fields(v, "by")
            case "within": within = try span(v, "within")
            default:
                throw PositionedError("unknown key '\(k)' in 'sequence'", offset: offset(kn), length: k.utf8.count,
                                      help: "keys: by, within, steps")
            }
        }
        guard let steps else { throw PositionedError("'sequence' needs 'steps'", offset: offset(n)) }
        guard let within else { throw PositionedError("'sequence' needs 'within'", offset: offset(n)) }
        return .sequence(by: by, within: within, steps: steps)
    }
}
