import SecModel

/// NDJSON objects written by hand: keys in the given order, values escaped per RFC 8259.
enum JSONLine {
    enum Scalar {
        case null, bool(Bool), int(Int64), double(Double), string(String), time(Int64), list([Scalar])
        case object([(String, Scalar)])
    }

    static func object(_ fields: [(String, Scalar)]) -> String {
        var s = "{"
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { s += "," }
            escape(k, into: &s)
            s += ":"
            write(v, into: &s)
        }
        return s + "}"
    }

    static func write(_ v: Scalar, into s: inout String) {
        switch v {
        case .null: s += "null"
        case .bool(let b): s += b ? "true" : "false"
        case .int(let i): s += String(i)
        case .double(let d): s += d.isFinite ? Value.format(d) : "null"
        case .string(let t): escape(t, into: &s)
        case .time(let t): escape(Timestamp.rfc3339(millis: t), into: &s)
        case .list(let l):
            s += "["
            for (i, x) in l.enumerated() { if i > 0 { s += "," }; write(x, into: &s) }
            s += "]"
        case .object(let fields):
            s += object(fields)
        }
    }

    static func scalar(_ v: Value) -> Scalar {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let t): return .string(t)
        case .time(let t): return .time(t)
        case .ip, .cidr: return .string(v.text)
        case .list(let l): return .list(l.map(scalar))
        }
    }

    static func escape(_ t: String, into s: inout String) {
        s += "\""
        var plain = true
        for u in t.utf8 where u < 0x20 || u == 0x22 || u == 0x5c { plain = false; break }
        if plain { s += t; s += "\""; return }
        for ch in t.unicodeScalars {
            switch ch {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if ch.value < 0x20 {
                    let h = String(ch.value, radix: 16)
                    s += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    s.unicodeScalars.append(ch)
                }
            }
        }
        s += "\""
    }
}

/// An aligned text table, truncating wide cells to fit the terminal.
enum TableRenderer {
    static func render(header: [String], rows: [[String]], maxWidth: Int? = nil) -> String {
        let width = maxWidth ?? (Terminal.stdoutIsTTY ? Terminal.width : Int.max)
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        // Shrink the widest columns until the line fits.
        let sep = 2
        while widths.reduce(0, +) + sep * (widths.count - 1) > width, let i = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[i] > 8 {
            widths[i] -= 1
        }
        func line(_ cells: [String]) -> String {
            var s = ""
            for (i, w) in widths.enumerated() {
                var c = i < cells.count ? cells[i] : ""
                if c.count > w { c = String(c.prefix(max(w - 1, 0))) + "…" }
                s += c
                if i < widths.count - 1 { s += String(repeating: " ", count: w - c.count + sep) }
            }
            while s.hasSuffix(" ") { s.removeLast() }
            return s + "\n"
        }
        var out = line(header)
        out += line(widths.map { String(repeating: "-", count: $0) })
        for r in rows { out += line(r) }
        return out
    }
}

/// CSV per RFC 4180.
enum CSV {
    static func row(_ cells: [String]) -> String {
        cells.map { c in
            c.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + c.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : c
        }.joined(separator: ",")
    }
}
