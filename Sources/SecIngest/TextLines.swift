#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecModel

/// Walking a piece of line-oriented input: each line without its `\n` (and `\r`), with
/// its byte offset and line number in the whole input.
struct LineCursor {
    let buf: UnsafeRawBufferPointer
    let baseOffset: Int64
    private(set) var line: Int
    private var pos = 0

    init(_ buf: UnsafeRawBufferPointer, offset: Int64, line: Int) {
        self.buf = buf
        baseOffset = offset
        self.line = line - 1
    }

    /// The next line: its bytes (no line end), offset in the input and line number.
    mutating func next() -> (text: UnsafeRawBufferPointer, offset: Int64, line: Int)? {
        guard pos < buf.count else { return nil }
        let start = pos
        let nl = Bytes.firstIndex(of: 0x0A, in: buf, from: pos) ?? buf.count
        pos = nl + 1
        var end = nl
        if end > start && buf[end - 1] == 0x0D { end -= 1 }
        line += 1
        return (UnsafeRawBufferPointer(rebasing: buf[start ..< end]), baseOffset + Int64(start), line)
    }
}

/// Small parsers over byte slices, for the text formats.
enum Text {
    /// Whether a slice is the placeholder `-` (a missing value in AWS text logs).
    @inline(__always)
    static func isDash(_ b: UnsafeRawBufferPointer) -> Bool { b.count == 1 && b[0] == 45 }

    /// Whether a line holds nothing but spaces and tabs (not a record: skipped silently).
    @inline(__always)
    static func isBlank(_ b: UnsafeRawBufferPointer) -> Bool {
        for c in b where c != 32 && c != 9 { return false }
        return true
    }

    /// A decimal integer of at most 18 digits (optional leading `-`); nil for anything
    /// else, `-` included.
    @inline(__always)
    static func int(_ b: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        let n = b.count
        guard n > 0, n <= 19 else { return nil }
        var neg = false
        if b[0] == 45 { neg = true; i = 1; guard n > 1 else { return nil } }
        // 18 digits at most: no value wraps around.
        guard n - i <= 18 else { return nil }
        var v: Int64 = 0
        while i < n {
            let c = b[i] &- 48
            guard c < 10 else { return nil }
            v = v &* 10 &+ Int64(c)
            i += 1
        }
        return neg ? -v : v
    }

    /// A decimal number (`0.000`, `-1`, `12.5`); nil for anything else.
    static func double(_ b: UnsafeRawBufferPointer) -> Double? {
        guard b.count > 0, b.count < 64, !isDash(b) else { return nil }
        return Double(String(decoding: b, as: UTF8.self))
    }

    /// Dotted-quad IPv4 or IPv6 text; nil for anything else, `-` included.
    @inline(__always)
    static func ip(_ b: UnsafeRawBufferPointer) -> IPAddress? {
        let n = b.count
        guard n >= 2 else { return nil }
        // Fast path: IPv4 without leading zeros.
        var out: UInt32 = 0, cur: UInt32 = 0, digits = 0, parts = 0
        var i = 0
        while i < n {
            let c = b[i]
            if c == 46 {
                guard digits > 0, cur <= 255, parts < 3 else { break }
                out = out << 8 | cur; parts += 1; cur = 0; digits = 0
            } else if c &- 48 < 10 {
                if digits == 1 && cur == 0 { break }
                cur = cur &* 10 &+ UInt32(c &- 48); digits += 1
                if digits > 3 { break }
            } else { break }
            i += 1
        }
        if i == n, parts == 3, digits > 0, cur <= 255 { return IPAddress(v4: out << 8 | cur) }
        guard Bytes.firstIndex(of: 58, in: b) != nil else { return nil }
        if let v6 = ipv6(b) { return v6 }
        // An embedded IPv4 tail (`::ffff:192.0.2.1`) or a zone (`fe80::1%eth0`): the full parser.
        guard Bytes.firstIndex(of: 46, in: b) != nil || Bytes.firstIndex(of: 37, in: b) != nil else { return nil }
        return IPAddress(String(decoding: b, as: UTF8.self))
    }

    /// IPv6 text made of hex groups and at most one `::`, parsed in place; nil for
    /// anything else (including the forms ``ip(_:)`` hands to the full parser).
    static func ipv6(_ b: UnsafeRawBufferPointer) -> IPAddress? {
        let n = b.count
        guard n >= 2, n <= 39 else { return nil }
        var groups = SIMD8<UInt16>()
        var count = 0, gap = -1, i = 0
        if b[0] == 58 {
            guard b[1] == 58 else { return nil }
            gap = 0; i = 2
        }
        while i < n {
            var v: UInt16 = 0, digits = 0
            while i < n, digits < 5 {
                let c = b[i]
                let h: UInt8
                if c &- 48 < 10 { h = c &- 48 } else if (c | 0x20) &- 97 < 6 { h = (c | 0x20) &- 87 } else { break }
                v = v << 4 | UInt16(h); digits += 1; i += 1
            }
            guard digits > 0, digits <= 4, count < 8 else { return nil }
            groups[count] = v; count += 1
            if i == n { break }
            guard b[i] == 58, i + 1 < n else { return nil }
            i += 1
            if b[i] == 58 {
                guard gap < 0 else { return nil }
                gap = count; i += 1
            }
        }
        if gap < 0 {
            guard count == 8 else { return nil }
        } else {
            guard count < 8 else { return nil }
            let tail = count - gap
            var spread = SIMD8<UInt16>()
            for k in 0 ..< gap { spread[k] = groups[k] }
            for k in 0 ..< tail { spread[8 - tail + k] = groups[gap + k] }
            groups = spread
        }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for k in 0 ..< 4 { hi = hi << 16 | UInt64(groups[k]) }
        for k in 4 ..< 8 { lo = lo << 16 | UInt64(groups[k]) }
        return IPAddress(hi: hi, lo: lo)
    }

    /// Splits `host:port` (IPv4 `1.2.3.4:80`, IPv6 `[::1]:80` or `::1:80` as ELB
    /// writes it: the last colon separates the port).
    static func hostPort(_ b: UnsafeRawBufferPointer) -> (ip: IPAddress?, port: Int64?) {
        guard !isDash(b), let colon = Bytes.lastIndex(of: 58, in: b) else { return (ip(b), nil) }
        var host = UnsafeRawBufferPointer(rebasing: b[..<colon])
        if host.count >= 2, host[0] == 91, host[host.count - 1] == 93 {
            host = UnsafeRawBufferPointer(rebasing: host[1 ..< host.count - 1])
        }
        return (ip(host), int(UnsafeRawBufferPointer(rebasing: b[(colon + 1)...])))
    }

    /// A DNS name as analysts match it: ASCII letters lower-cased and the trailing dot
    /// of a fully qualified name dropped (`Example.COM.` becomes `example.com`); the
    /// root, `.`, stays. Fills `out` (cleared first).
    static func dnsName(_ b: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var n = b.count
        if n > 1 && b[n - 1] == 0x2E { n -= 1 }
        for k in 0 ..< n {
            let c = b[k]
            out.append(c &- 0x41 < 26 ? c | 0x20 : c)
        }
    }

    /// The IANA number of a protocol a log names (`TCP` 6, `UDP` 17, `ICMP` 1, in any
    /// case); nil for other names.
    static func ipProtocol(_ b: UnsafeRawBufferPointer) -> Int64? {
        func isName(_ s: StaticString) -> Bool {
            guard b.count == s.utf8CodeUnitCount else { return false }
            for k in 0 ..< b.count where b[k] & 0xDF != s.utf8Start[k] { return false }
            return true
        }
        if isName("TCP") { return 6 }
        if isName("UDP") { return 17 }
        if isName("ICMP") { return 1 }
        return nil
    }

    /// A field as a string (bytes that are not UTF-8 decode as U+FFFD; `raw` keeps them).
    @inline(__always)
    static func string(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }

    /// Decodes `%XX` escapes (and, when `plus` is set, `+` as a space).
    static func percentDecoded(_ b: UnsafeRawBufferPointer, plus: Bool = false) -> String {
        guard Bytes.firstIndex(of: 37, in: b) != nil || (plus && Bytes.firstIndex(of: 43, in: b) != nil) else {
            return string(b)
        }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        @inline(__always) func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }
        while i < b.count {
            let c = b[i]
            if c == 37, i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) {
                out.append(h << 4 | l); i += 3; continue
            }
            out.append(plus && c == 43 ? 32 : c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits a line into fields separated by single spaces, where a field starting
    /// with `"` runs to the next unescaped `"` (its content returned without the
    /// quotes) and one starting with `[` runs to the next `]` (brackets kept).
    ///
    /// Fills `fields` (cleared first) with the fields' ranges in `line`; returns false
    /// when a quote or bracket is not closed.
    static func splitQuoted(_ line: UnsafeRawBufferPointer, into fields: inout [Range<Int>]) -> Bool {
        fields.removeAll(keepingCapacity: true)
        let n = line.count
        var i = 0
        while i < n {
            let c = line[i]
            if c == 34 { // "
                // The closing quote is the next one not escaped by an odd run of backslashes.
                var from = i + 1
                var j: Int
                while true {
                    guard let q = Bytes.firstIndex(of: 34, in: line, from: from) else { return false }
                    var k = q - 1
                    while k > i && line[k] == 92 { k -= 1 }
                    j = q
                    if (q - 1 - k) % 2 == 0 { break }
                    from = q + 1
                }
                fields.append(i + 1 ..< j)
                i = j + 1
            } else if c == 91 { // [
                guard let j = Bytes.firstIndex(of: 93, in: line, from: i) else { return false }
                fields.append(i ..< j + 1)
                i = j + 1
            } else {
                let j = Bytes.firstIndex(of: 32, in: line, from: i) ?? n
                fields.append(i ..< j)
                i = j
            }
            while i < n && line[i] == 32 { i += 1 }
        }
        return true
    }

    /// Splits a line at every `separator` byte (tabs, single spaces): fills `fields`.
    @inline(__always)
    static func split(_ line: UnsafeRawBufferPointer, separator: UInt8, into fields: inout [Range<Int>]) {
        fields.removeAll(keepingCapacity: true)
        var i = 0
        let n = line.count
        while true {
            let j = Bytes.firstIndex(of: separator, in: line, from: i) ?? n
            fields.append(i ..< j)
            if j >= n { break }
            i = j + 1
        }
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes in `r`, rebased.
    @inline(__always)
    subscript(slice r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: self[r]) }

    /// Whether the bytes equal an ASCII literal.
    @inline(__always)
    func equals(_ s: StaticString) -> Bool {
        count == s.utf8CodeUnitCount && (count == 0 || memcmp(baseAddress!, s.utf8Start, count) == 0)
    }

    /// Whether the bytes start with an ASCII literal.
    @inline(__always)
    func hasPrefix(_ s: StaticString) -> Bool {
        count >= s.utf8CodeUnitCount && (s.utf8CodeUnitCount == 0 || memcmp(baseAddress!, s.utf8Start, s.utf8CodeUnitCount) == 0)
    }
}

extension ParseOutput {
    /// Quarantines one line (or record) of input with its reason, counting it.
    mutating func refuse(_ context: ParseContext, _ piece: UnsafeRawBufferPointer, offset: Int64, line: Int, reason: String) {
        let why = Bytes.isBinary(piece) ? "binary data (non-text bytes)" : reason
        quarantined.append(QuarantinedRecord(file: context.file, offset: offset, line: line, reason: why, slice: piece))
        records += 1
    }

    /// Keeps a new event, made here from its first fields, then lets `complete` set its
    /// other fields where it lies in `events`. A hot parser uses this rather than
    /// building a local `Event` and appending it: the compiler copies a value that large
    /// on its way into the array, retaining and releasing each of its fields.
    @inline(__always)
    mutating func keep(time: Int64, account: String, source: Source, eventClass: EventClass, raw: [UInt8],
                       offset: Int64, completing complete: (inout Event) -> Void) {
        events.append(Event(time: time, account: account, source: source, eventClass: eventClass, raw: raw))
        complete(&events[events.count - 1])
        eventOffsets.append(offset)
        records += 1
    }

    /// Makes room for the events of `lines` more lines, so that a chunk's events are not
    /// copied again and again as the arrays grow.
    mutating func reserve(lines: Int) {
        events.reserveCapacity(events.count + lines)
        eventOffsets.reserveCapacity(eventOffsets.count + lines)
    }

    /// Keeps one normalised event with the offset of its record.
    @inline(__always)
    mutating func keep(_ event: Event, offset: Int64) {
        events.append(event)
        eventOffsets.append(offset)
        records += 1
    }
}
