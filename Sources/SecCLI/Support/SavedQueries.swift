import Foundation

/// Saved queries: `STORE/queries/NAME.secq`, run as `secq query @NAME`.
///
/// A file holds one query. Lines starting with `#` (after blanks) are comments: the
/// first of them describe the query in `secq queries`. `$name` is a parameter, replaced
/// by the text of `--param name=VALUE` before the query is parsed (inside string
/// literals too, so a file decides how a value is quoted: `principal == "$user"`);
/// `$$` is a dollar sign. Every parameter must be given, and no other.
struct SavedQuery {
    let name: String
    let path: String
    /// The file's text as written.
    let text: String

    static func directory(store: String) -> String { store + "/queries" }

    /// Names are file names without the extension: letters, digits, `-` and `_`.
    static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 100
            && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 45 || $0 == 95 }
    }

    static func load(_ name: String, store: String) throws -> SavedQuery {
        guard isValidName(name) else {
            throw CLIError(message: "'@\(name)' is not a saved query name (letters, digits, '-' and '_')", code: 2)
        }
        let path = directory(store: store) + "/\(name).secq"
        guard let data = FileManager.default.contents(atPath: path) else {
            let known = (try? all(store: store).map(\.name)) ?? []
            let hint = known.isEmpty ? "no queries are saved in \(directory(store: store))"
                : "saved: " + known.map { "@" + $0 }.joined(separator: ", ")
            throw CLIError(message: "no saved query '@\(name)' (\(path)); \(hint)", code: 2)
        }
        return SavedQuery(name: name, path: path, text: String(decoding: data, as: UTF8.self))
    }

    /// Every saved query of the store, by name.
    static func all(store: String) throws -> [SavedQuery] {
        let dir = directory(store: store)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return try names.filter { $0.hasSuffix(".secq") }.map { String($0.dropLast(5)) }
            .filter(isValidName).sorted().map { try load($0, store: store) }
    }

    /// The comment lines at the top, without their `#`.
    var description: String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.drop(while: { $0 == " " || $0 == "\t" })
            guard t.hasPrefix("#") else { break }
            lines.append(t.dropFirst().trimmingCharacters(in: .whitespaces))
        }
        return lines.joined(separator: " ")
    }

    /// The parameters the query names, in order of first use.
    var parameters: [String] {
        var seen: [String] = []
        _ = scan { name in
            if !seen.contains(name) { seen.append(name) }
            return ""
        }
        return seen
    }

    /// The query to parse: comment lines blanked (so line numbers stay the file's) and
    /// parameters replaced.
    func resolved(_ params: [String: String]) throws -> String {
        let missing = parameters.filter { params[$0] == nil }
        if !missing.isEmpty {
            throw CLIError(message: "@\(name) needs " + missing.map { "--param \($0)=VALUE" }.joined(separator: " "), code: 2)
        }
        let unknown = params.keys.filter { !parameters.contains($0) }.sorted()
        if !unknown.isEmpty {
            let takes = parameters.isEmpty ? "takes no parameters" : "takes " + parameters.map { "$" + $0 }.joined(separator: ", ")
            throw CLIError(message: "@\(name) \(takes); not " + unknown.map { "'\($0)'" }.joined(separator: ", "), code: 2)
        }
        return scan { params[$0]! }
    }

    /// The text with comment lines blanked and each `$name` replaced by `replace(name)`.
    private func scan(_ replace: (String) -> String) -> String {
        var out = ""
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if i > 0 { out += "\n" }
            if line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#") { continue }
            var chars = line[...]
            while let c = chars.first {
                chars = chars.dropFirst()
                guard c == "$" else { out.append(c); continue }
                if chars.first == "$" { out.append("$"); chars = chars.dropFirst(); continue }
                let name = chars.prefix { $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }
                if name.isEmpty || name.first!.isNumber { out.append("$"); continue }
                out += replace(String(name))
                chars = chars.dropFirst(name.count)
            }
        }
        return out
    }
}
