import SecModel

/// A `timechart` in the terminal: one line per bucket with its time, values and a
/// horizontal bar scaled to the width.
///
/// - Without `by`: the time, every aggregate's value, and a bar of the first aggregate.
/// - With `by`: the time, the bucket's total over the series of the first aggregate, and
///   one bar stacking the series in column order; a legend above names each series'
///   mark, one a line. On a terminal the series are told apart by colour and shade, otherwise by
///   characters. The numbers per series are in `--format csv` and `json`.
///
/// Nulls, and values below zero, draw no bar.
enum BarChart {
    static let plainMarks: [Character] = ["#", "=", "+", "*", "o", "x", "%", "@", "~", ":", "-", ".", "$", "&", "/", "|"]
    static let shades: [Character] = ["█", "▓", "▒", "░"]
    static let colours = [31, 32, 33, 34, 35, 36]

    /// - Parameters:
    ///   - bars: the columns the bar stacks; column 0 is the time.
    ///   - series: the bar columns are series (`by`).
    ///   - width: the line width to fill.
    ///   - color: ANSI colours (on a terminal only).
    static func render(columns: [String], rows: [[Value]], bars: Range<Int>, series seriesChart: Bool, width: Int, color: Bool) -> String {
        // Values shown as text: every aggregate without series, the total with them.
        let shown: [String] = seriesChart ? ["total"] : Array(columns.dropFirst())
        func number(_ v: Value) -> Double {
            switch v {
            case .int(let i): return Double(i)
            case .double(let d) where d.isFinite: return d
            default: return 0
            }
        }
        var lines: [[String]] = []
        var segments: [[Double]] = []
        for row in rows {
            let parts = bars.map { max(0, $0 < row.count ? number(row[$0]) : 0) }
            segments.append(parts)
            var cells = [row[0].text]
            if seriesChart {
                let exact = bars.map { $0 < row.count ? row[$0] : .null }
                cells.append(total(exact).text)
            } else {
                cells += row.dropFirst().map(\.text)
            }
            lines.append(cells)
        }
        let header = ["time"] + shown
        var widths = header.map(\.count)
        for l in lines { for (i, c) in l.enumerated() { widths[i] = max(widths[i], c.count) } }
        let prefix = widths.reduce(0, +) + 2 * widths.count
        let barWidth = max(10, width - prefix - 1)
        let top = segments.map { $0.reduce(0, +) }.max() ?? 0

        func mark(_ i: Int) -> String {
            guard color else { return String(plainMarks[i % plainMarks.count]) }
            return "\u{1B}[\(colours[i % colours.count])m\(shades[(i / colours.count) % shades.count])\u{1B}[0m"
        }
        func cell(_ s: String, _ i: Int) -> String {
            // Time left-aligned, numbers right-aligned.
            let pad = String(repeating: " ", count: widths[i] - s.count)
            return i == 0 ? s + pad : pad + s
        }
        var out = ""
        if seriesChart {
            for (i, c) in bars.enumerated() { out += "\(mark(i)) \(columns[c])\n" }
        }
        out += header.enumerated().map { cell($0.element, $0.offset) }.joined(separator: "  ") + "\n"
        for (l, parts) in zip(lines, segments) {
            var s = l.enumerated().map { cell($0.element, $0.offset) }.joined(separator: "  ") + "  "
            // Cumulative rounding: the segments add up to the whole bar.
            var sum = 0.0, drawn = 0
            for (i, p) in parts.enumerated() {
                sum += p
                let end = top > 0 ? Int((sum / top * Double(barWidth)).rounded()) : 0
                let n = end - drawn
                if n > 0 {
                    if color {
                        s += "\u{1B}[\(colours[i % colours.count])m" + String(repeating: shades[(i / colours.count) % shades.count], count: n) + "\u{1B}[0m"
                    } else {
                        s += String(repeating: seriesChart ? plainMarks[i % plainMarks.count] : "#", count: n)
                    }
                }
                drawn = max(drawn, end)
            }
            while s.hasSuffix(" ") { s.removeLast() }
            out += s + "\n"
        }
        return out
    }

    /// The sum of a bucket's series: null when every one is null.
    static func total(_ values: [Value]) -> Value {
        var acc: Value = .null
        for v in values {
            switch (acc, v) {
            case (_, .null): continue
            case (.null, _): acc = v
            case (.int(let a), .int(let b)): acc = .int(a &+ b)
            case (.int(let a), .double(let b)): acc = .double(Double(a) + b)
            case (.double(let a), .int(let b)): acc = .double(a + Double(b))
            case (.double(let a), .double(let b)): acc = .double(a + b)
            default: continue
            }
        }
        return acc
    }
}
