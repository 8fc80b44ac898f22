/// Time parsing and formatting on bytes, without Foundation's formatters (hot path).
public enum Timestamp {
    /// Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
    @inlinable
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The civil date of a day number.
    public static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Parses RFC 3339 / ISO 8601 (`2026-11-01T12:00:00Z`, fractional seconds, `+hh:mm`
    /// offsets, a space for `T`, or a date alone) into milliseconds since the epoch.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        guard n >= 10 else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int? {
            guard i < n else { return nil }
            let c = bytes[i]
            return c >= 48 && c <= 57 ? Int(c - 48) : nil
        }
        @inline(__always) func num(_ i: Int, _ len: Int) -> Int? {
            var v = 0
            for k in 0..<len { guard let d = digit(i + k) else { return nil }; v = v * 10 + d }
            return v
        }
        guard let y = num(0, 4), bytes[4] == 45, let mo = num(5, 2), bytes[7] == 45, let d = num(8, 2),
              (1...12).contains(mo), (1...31).contains(d) else { return nil }
        var ms = Int64(days(year: y, month: mo, day: d)) * 86_400_000
        if n == 10 { return ms }
        guard bytes[10] == 84 || bytes[10] == 116 || bytes[10] == 32, n >= 16,
              let h = num(11, 2), bytes[13] == 58, let mi = num(14, 2), h < 24, mi < 60 else { return nil }
        var i = 16
        var sec = 0
        if i < n, bytes[i] == 58 {
            guard let s = num(17, 2), s <= 60 else { return nil }
            sec = s; i = 19
        }
        var frac: Int64 = 0
        if i < n, bytes[i] == 46 || bytes[i] == 44 {
            i += 1
            var scale: Int64 = 100, any = false
            while let dg = digit(i) { frac += Int64(dg) * scale; scale /= 10; i += 1; any = true }
            guard any else { return nil }
        }
        ms += Int64(h * 3600 + mi * 60 + sec) * 1000 + frac
        if i == n { return ms } // no zone: UTC
        let z = bytes[i]
        if z == 90 || z == 122 { return i + 1 == n ? ms : nil }
        guard z == 43 || z == 45, let oh = num(i + 1, 2) else { return nil }
        var om = 0
        if i + 3 < n { let j = bytes[i + 3] == 58 ? i + 4 : i + 3; guard let m = num(j, 2) else { return nil }; om = m; guard j + 2 == n else { return nil } }
        else { guard i + 3 == n else { return nil } }
        let off = Int64(oh * 3600 + om * 60) * 1000
        return z == 43 ? ms - off : ms + off
    }

    public static func parse(_ text: String) -> Int64? {
        var t = text
        return t.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Formats milliseconds as RFC 3339 UTC; milliseconds shown only when not zero.
    public static func rfc3339(millis: Int64) -> String {
        rfc3339(millis: millis, offsetSeconds: 0)
    }

    /// RFC 3339 in a zone `offsetSeconds` east of UTC (`2026-11-02T11:00:01+01:00`);
    /// an offset of 0 is written `Z`.
    public static func rfc3339(millis: Int64, offsetSeconds: Int) -> String {
        let millis = millis + Int64(offsetSeconds) * 1000
        var dayNo = millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000
        var rem = millis - dayNo * 86_400_000
        if rem < 0 { rem += 86_400_000; dayNo -= 1 }
        let (y, m, d) = civil(days: Int(dayNo))
        let ms = Int(rem % 1000), s = Int(rem / 1000)
        func p2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var out = "\(y)-\(p2(m))-\(p2(d))T\(p2(s / 3600)):\(p2(s / 60 % 60)):\(p2(s % 60))"
        if ms != 0 { out += "." + String(ms + 1000).dropFirst() }
        if offsetSeconds == 0 { return out + "Z" }
        let a = abs(offsetSeconds) / 60
        return out + (offsetSeconds < 0 ? "-" : "+") + p2(a / 60) + ":" + p2(a % 60)
    }
}

/// A span of time written `30s`, `10m`, `24h`, `7d`, `2w`, `1y` (365 days) or `500ms`.
public struct Span: Sendable, Hashable, CustomStringConvertible {
    public var millis: Int64
    public init(millis: Int64) { self.millis = millis }

    public init?(_ text: some StringProtocol) {
        let s = String(text)
        let digits = s.prefix { $0.isNumber }
        guard !digits.isEmpty, let n = Int64(digits) else { return nil }
        let unit: Int64
        switch s.dropFirst(digits.count) {
        case "ms": unit = 1
        case "s": unit = 1000
        case "m": unit = 60_000
        case "h": unit = 3_600_000
        case "d": unit = 86_400_000
        case "w": unit = 7 * 86_400_000
        case "y": unit = 365 * 86_400_000
        default: return nil
        }
        millis = n * unit
    }

    public var description: String {
        for (u, name) in [(Int64(86_400_000), "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")] where millis % u == 0 && millis != 0 {
            return "\(millis / u)\(name)"
        }
        return "\(millis)ms"
    }
}
