import Foundation
import SecDetect
import SecModel
import SecQuery
import Yams

/// A Sigma rule for `logsource: {product: aws, service: cloudtrail}`, compiled to a secq
/// `where` expression over one CloudTrail event (docs/detection.md, "Sigma").
///
/// Supported: selections (a mapping is an AND of its fields, a list of mappings an OR, a
/// list of values an OR, or an AND with `all`), null values, the modifiers `contains`,
/// `startswith`, `endswith`, `re`, `cidr`, `all` and their combinations, `*` and `?`
/// wildcards, and conditions with `and`, `or`, `not`, parentheses, `1 of x*`,
/// `all of x*`, `1 of them`, `all of them`. Anything else is ``SigmaUnsupported``.
public enum SigmaRule {
    /// Levels to severities: informational 1.0, low 3.0, medium 5.0, high 7.0, critical 9.0.
    public static let severities: [String: Double] = [
        "informational": 1.0, "low": 3.0, "medium": 5.0, "high": 7.0, "critical": 9.0,
    ]

    /// ATT&CK tactics (`attack.defense-evasion` tags) to threat purposes. ATT&CK's newer
    /// `stealth` and `defense-impairment` (disabling logs and sensors) become GuardDuty's
    /// `Stealth`, the purpose of its own CloudTrailLoggingDisabled.
    public static let tactics: [(tag: String, purpose: String)] = [
        ("stealth", "Stealth"), ("defense-impairment", "Stealth"),
        ("initial-access", "InitialAccess"), ("execution", "Execution"), ("persistence", "Persistence"),
        ("privilege-escalation", "PrivilegeEscalation"), ("defense-evasion", "DefenseEvasion"),
        ("credential-access", "CredentialAccess"), ("discovery", "Discovery"), ("lateral-movement", "LateralMovement"),
        ("collection", "Collection"), ("command-and-control", "CommandAndControl"), ("exfiltration", "Exfiltration"),
        ("impact", "Impact"), ("reconnaissance", "Recon"), ("resource-development", "ResourceDevelopment"),
    ]

    /// CloudTrail record paths read as secq fields; every other path is read as `raw.<path>`.
    public static let fieldMap: [String: String] = [
        "eventName": "action", "eventSource": "service", "errorCode": "error_code", "userAgent": "user_agent",
        "awsRegion": "region", "userIdentity.type": "principal_type", "recipientAccountId": "account",
    ]

    public static let supportedModifiers: Set<String> = ["contains", "startswith", "endswith", "re", "cidr", "all"]

    /// Whether a YAML text is a Sigma rule (has top-level `logsource` and `detection`).
    public static func looksLikeSigma(_ text: String) -> Bool {
        guard let n = try? Yams.compose(yaml: text, Resolver.default.removing(.timestamp)), case .mapping(let m) = n else {
            return false
        }
        return m["logsource"] != nil && m["detection"] != nil
    }

    /// Compiles a Sigma rule. Throws ``SigmaUnsupported`` for a feature outside the subset,
    /// ``RuleFileError`` for a file that is not a valid rule.
    public static func parse(_ text: String, file: String) throws -> Rule {
        let doc = YAMLDoc(text: text, file: file)
        do {
            let root = try doc.root()
            let m = try doc.mapping(root, "a Sigma rule")
            var byKey: [String: Node] = [:]
            for (k, _, v) in m { byKey[k] = v }
            func text(_ k: String) throws(PositionedError) -> String {
                guard let n = byKey[k] else { throw PositionedError("missing '\(k)'", offset: doc.offset(root)) }
                return try doc.scalar(n, k)
            }
            let sigmaID = try text("id")
            let title = try text("title")
            // Log source.
            guard let ls = byKey["logsource"] else { throw PositionedError("missing 'logsource'", offset: doc.offset(root)) }
            var product = "", service = ""
            for (k, _, v) in try doc.mapping(ls, "'logsource'") {
                if k == "product" { product = try doc.scalar(v, k) }
                if k == "service" { service = try doc.scalar(v, k) }
            }
            guard product == "aws", service == "cloudtrail" else {
                throw SigmaUnsupported(file: file, feature: "logsource \(product)/\(service) (only aws/cloudtrail)")
            }
            let levelText = byKey["level"].flatMap { $0.string }?.lowercased() ?? "medium"
            guard let severity = severities[levelText] else {
                throw PositionedError("unknown level '\(levelText)'", offset: doc.offset(byKey["level"]!),
                                      length: levelText.utf8.count, help: "informational, low, medium, high or critical")
            }
            var tags: [String] = []
            if let t = byKey["tags"], case .sequence(let s) = t { tags = s.compactMap(\.string) }
            let typeText = findingType(title: title, tags: tags)
            guard let type = FindingType(typeText) else {
                throw PositionedError("cannot make a finding type from the title", offset: doc.offset(byKey["title"]!))
            }
            guard let det = byKey["detection"] else { throw PositionedError("missing 'detection'", offset: doc.offset(root)) }
            let expr = try compileDetection(det, doc: doc)
            let filter: EventFilter
            do throws(QueryError) {
                filter = try EventFilter(expr, now: 0)
            } catch {
                // A value the expression language refuses (a bad regex or network).
                throw PositionedError("the detection compiles to an invalid expression: \(error.message) in \(expr)",
                                      offset: doc.offset(det), length: 1)
            }
            let cleanTitle = title.replacingOccurrences(of: "{", with: "(").replacingOccurrences(of: "}", with: ")")
            let titleTemplate = try Template(cleanTitle + ": {action|an API} by {principal}")
            return Rule(id: "sigma." + sigmaID, findingType: type, severity: severity, title: titleTemplate,
                        description: try Template("Sigma rule \(sigmaID.replacingOccurrences(of: "{", with: "(")): {action|an API} from {src_ip|an unknown address}"),
                        sources: [.cloudtrail], aggregationKey: [FieldRef("principal")!], logic: .match(filter), origin: file)
        } catch let e as PositionedError {
            throw doc.error(e)
        }
    }

    /// `<Tactic>:IAMUser/Sigma.<TitleInCamelCase>`; the tactic from the first ATT&CK
    /// tactic tag, `Unknown` without one.
    public static func findingType(title: String, tags: [String]) -> String {
        var purpose = "Unknown"
        for t in tags {
            let l = t.lowercased()
            guard l.hasPrefix("attack.") else { continue }
            if let hit = tactics.first(where: { "attack." + $0.tag == l || "attack." + $0.tag.replacingOccurrences(of: "-", with: "_") == l }) {
                purpose = hit.purpose
                break
            }
        }
        let words = title.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        let camel = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return "\(purpose):IAMUser/Sigma.\(camel.isEmpty ? "Rule" : camel)"
    }

    // MARK: - Detection

    static func compileDetection(_ det: Node, doc: YAMLDoc) throws -> String {
        let m = try doc.mapping(det, "'detection'")
        var selections: [(String, String)] = []
        var conditions: [String] = []
        for (k, _, v) in m {
            switch k {
            case "condition":
                if case .sequence(let s) = v {
                    for c in s { conditions.append(try doc.scalar(c, k)) }
                } else {
                    conditions.append(try doc.scalar(v, k))
                }
            case "timeframe":
                throw SigmaUnsupported(file: doc.file, feature: "timeframe")
            default:
                selections.append((k, try selection(v, name: k, doc: doc)))
            }
        }
        guard !conditions.isEmpty else { throw PositionedError("'detection' has no 'condition'", offset: doc.offset(det)) }
        let parts = try conditions.map { c in
            var cond = Condition(text: c, selections: selections, file: doc.file)
            return try cond.compile()
        }
        return parts.count == 1 ? parts[0] : parts.map { "(\($0))" }.joined(separator: " or ")
    }

    static func selection(_ n: Node, name: String, doc: YAMLDoc) throws -> String {
        switch n {
        case .mapping:
            return try fieldMap(n, doc: doc)
        case .sequence(let s):
            var ors: [String] = []
            for item in s {
                guard case .mapping = item else {
                    throw SigmaUnsupported(file: doc.file, feature: "keyword search (selection '\(name)' lists plain values)")
                }
                ors.append("(" + (try fieldMap(item, doc: doc)) + ")")
            }
            guard !ors.isEmpty else { throw PositionedError("selection '\(name)' is empty", offset: doc.offset(n)) }
            return ors.count == 1 ? ors[0] : "(" + ors.joined(separator: " or ") + ")"
        default:
            throw SigmaUnsupported(file: doc.file, feature: "keyword search (selection '\(name)' is a plain value)")
        }
    }

    static func fieldMap(_ n: Node, doc: YAMLDoc) throws -> String {
        var ands: [String] = []
        for (k, _, v) in try doc.mapping(n, "a selection") {
            let pieces = k.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let path = pieces[0]
            let mods = Array(pieces.dropFirst())
            for mod in mods where !supportedModifiers.contains(mod) {
                throw SigmaUnsupported(file: doc.file, feature: mod == "fieldref" ? "field reference (modifier 'fieldref')" : "modifier '\(mod)'")
            }
            guard !path.isEmpty else { throw SigmaUnsupported(file: doc.file, feature: "keyword search (a value without a field)") }
            let values: [Node]
            if case .sequence(let s) = v { values = Array(s) } else { values = [v] }
            guard !values.isEmpty else { throw PositionedError("field '\(path)' has no value", offset: doc.offset(v)) }
            let all = mods.contains("all")
            let op = mods.first { $0 != "all" }
            if mods.filter({ $0 != "all" }).count > 1 {
                throw SigmaUnsupported(file: doc.file, feature: "modifiers '\(mods.joined(separator: "|"))' together")
            }
            var conds: [String] = []
            for value in values {
                guard case .scalar(let s) = value else {
                    throw PositionedError("the values of '\(k)' must be plain values", offset: doc.offset(value), length: 1)
                }
                let isNull = value.null != nil && s.style == .plain
                conds.append(try condition(path: path, op: op, value: isNull ? nil : s.string, file: doc.file))
            }
            ands.append(conds.count == 1 ? conds[0] : "(" + conds.joined(separator: all ? " and " : " or ") + ")")
        }
        guard !ands.isEmpty else { throw PositionedError("a selection is empty", offset: doc.offset(n)) }
        return ands.joined(separator: " and ")
    }

    /// The secq name of a CloudTrail path.
    static func field(_ path: String, cidr: Bool = false) -> String {
        if cidr, path == "sourceIPAddress" { return "src_ip" }
        if let f = fieldMap[path] { return f }
        let segs = path.split(separator: ".").map { s -> String in
            let plain = s.first.map { $0.isLetter || $0 == "_" } == true && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            return plain ? String(s) : "`" + s.replacingOccurrences(of: "`", with: "") + "`"
        }
        return "raw." + segs.joined(separator: ".")
    }

    static func literal(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    /// A Sigma value with `*`/`?` wildcards (`\*` a literal star) as an ICU pattern, or
    /// nil when it has none.
    static func wildcardPattern(_ v: String) -> String? {
        var out = ""
        var wild = false
        var chars = Array(v)[...]
        while let c = chars.popFirst() {
            if c == "\\", let n = chars.first, n == "*" || n == "?" || n == "\\" {
                chars.removeFirst()
                out += NSRegularExpression.escapedPattern(for: String(n))
            } else if c == "*" {
                out += ".*"; wild = true
            } else if c == "?" {
                out += "."; wild = true
            } else {
                out += NSRegularExpression.escapedPattern(for: String(c))
            }
        }
        return wild ? out : nil
    }

    static func condition(path: String, op: String?, value: String?, file: String) throws -> String {
        let f = field(path, cidr: op == "cidr")
        guard let value else {
            if op != nil { throw SigmaUnsupported(file: file, feature: "null with modifier '\(op!)'") }
            return "\(f) == null"
        }
        switch op {
        case nil:
            if let p = wildcardPattern(value) { return "\(f) matches \(literal("(?is)^" + p + "$"))" }
            return "\(f) =~ \(literal(value))"
        case "contains", "startswith", "endswith":
            if let p = wildcardPattern(value) {
                let pre = op == "startswith" ? "^" : "", post = op == "endswith" ? "$" : ""
                return "\(f) matches \(literal("(?is)" + pre + p + post))"
            }
            return "\(f) \(op!) \(literal(value))"
        case "re":
            return "\(f) matches \(literal(value))"
        case "cidr":
            return "\(f) in cidr(\(literal(value)))"
        default:
            throw SigmaUnsupported(file: file, feature: "modifier '\(op!)'")
        }
    }

    /// A Sigma condition: names, `and`, `or`, `not`, parentheses, `1 of`/`all of`.
    struct Condition {
        let text: String
        let selections: [(String, String)]
        let file: String
        var tokens: [String] = []
        var i = 0

        init(text: String, selections: [(String, String)], file: String) {
            self.text = text; self.selections = selections; self.file = file
        }

        mutating func compile() throws -> String {
            if let bar = text.firstIndex(of: "|") {
                let agg = text[text.index(after: bar)...].trimmingCharacters(in: .whitespaces)
                let word = agg.split(separator: " ").first.map(String.init) ?? agg
                throw SigmaUnsupported(file: file, feature: "aggregation '| \(word)'")
            }
            var toks: [String] = []
            var cur = ""
            for c in text {
                if c == "(" || c == ")" {
                    if !cur.isEmpty { toks.append(cur); cur = "" }
                    toks.append(String(c))
                } else if c.isWhitespace {
                    if !cur.isEmpty { toks.append(cur); cur = "" }
                } else {
                    cur.append(c)
                }
            }
            if !cur.isEmpty { toks.append(cur) }
            tokens = toks
            let e = try orExpr()
            guard i == tokens.count else { throw PositionedError("unexpected '\(tokens[i])' in condition '\(text)'", offset: 0) }
            return e
        }

        mutating func orExpr() throws -> String {
            var parts = [try andExpr()]
            while i < tokens.count, tokens[i].lowercased() == "or" { i += 1; parts.append(try andExpr()) }
            return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: " or ") + ")"
        }

        mutating func andExpr() throws -> String {
            var parts = [try notExpr()]
            while i < tokens.count, tokens[i].lowercased() == "and" { i += 1; parts.append(try notExpr()) }
            return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: " and ") + ")"
        }

        mutating func notExpr() throws -> String {
            if i < tokens.count, tokens[i].lowercased() == "not" { i += 1; return "not " + (try notExpr()) }
            return try primary()
        }

        mutating func primary() throws -> String {
            guard i < tokens.count else { throw PositionedError("condition '\(text)' ends too early", offset: 0) }
            let t = tokens[i]; i += 1
            switch t.lowercased() {
            case "(":
                let e = try orExpr()
                guard i < tokens.count, tokens[i] == ")" else { throw PositionedError("missing ')' in condition '\(text)'", offset: 0) }
                i += 1
                return "(" + e + ")"
            case "near":
                throw SigmaUnsupported(file: file, feature: "near")
            case "1", "all":
                guard i + 1 < tokens.count, tokens[i].lowercased() == "of" else {
                    if t == "1" { throw PositionedError("expected 'of' after '1' in condition '\(text)'", offset: 0) }
                    return try name(t)
                }
                let pattern = tokens[i + 1]; i += 2
                let names = try match(pattern)
                let exprs = selections.filter { names.contains($0.0) }.map { "(" + $0.1 + ")" }
                return exprs.count == 1 ? exprs[0] : "(" + exprs.joined(separator: t == "1" ? " or " : " and ") + ")"
            default:
                if Int(t) != nil { throw SigmaUnsupported(file: file, feature: "'\(t) of' (only '1 of' and 'all of')") }
                return try name(t)
            }
        }

        func name(_ t: String) throws -> String {
            guard let s = selections.first(where: { $0.0 == t }) else {
                throw PositionedError("condition names '\(t)', which is no selection", offset: 0)
            }
            return "(" + s.1 + ")"
        }

        func match(_ pattern: String) throws -> Set<String> {
            let names: [String]
            if pattern == "them" {
                names = selections.map(\.0).filter { !$0.hasPrefix("_") }
            } else if pattern.hasSuffix("*") {
                let prefix = String(pattern.dropLast())
                names = selections.map(\.0).filter { $0.hasPrefix(prefix) }
            } else {
                names = selections.map(\.0).filter { $0 == pattern }
            }
            guard !names.isEmpty else { throw PositionedError("'\(pattern)' in condition '\(text)' names no selection", offset: 0) }
            return Set(names)
        }
    }
}

/// A Sigma rule that uses a feature outside the supported subset: reported, not loaded.
public struct SigmaUnsupported: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var feature: String
    public var description: String { "\(file): unsupported Sigma feature: \(feature)" }
}
