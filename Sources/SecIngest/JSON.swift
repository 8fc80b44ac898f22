#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict (RFC 8259) one-pass JSON scanner over bytes that records every value of
/// one JSON text on a reusable *tape*, so field look-ups afterwards are walks over a
/// small array instead of re-parsing.
///
/// Each tape entry holds a value's kind, its byte range, its key's byte range (inside an
/// object), flags for backslash escapes and the index of the entry after its subtree
/// (`next`), so a look-up skips a whole nested object in one step. Children of a
/// container are the entries from `index + 1` to `next`, linked by their `next`.
///
/// Strictness: structure, literals, numbers (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`),
/// escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`) and control characters in strings are
/// checked; the first violation stops the scan with its offset and a short message.
/// Two deliberate leniencies: bytes that are not valid UTF-8 inside strings are accepted
/// (kept verbatim in the raw record; decoded values show U+FFFD), and lone surrogate
/// escapes are accepted (decoded as U+FFFD). Duplicate keys are allowed; look-ups find the
/// first. Nesting is limited to ``maxDepth`` levels.
///
/// Not thread-safe: one scanner per parser; the tape is valid until the next scan.
final class JSONScanner {
    enum Kind: UInt8 {
        case object = 1, array, string, number, `true`, `false`, null
    }

    struct Entry {
        /// Strings: first byte after the opening quote; others: first byte.
        var start: Int32
        /// Strings: the closing quote; others: one past the last byte.
        var end: Int32
        /// First byte of the key text (inside an object), or -1.
        var keyStart: Int32
        /// The key's closing quote.
        var keyEnd: Int32
        /// Index of the first entry after this value's subtree.
        var next: Int32
        var kind: Kind
        /// `stringEscaped` and `keyEscaped`.
        var flags: UInt8
    }

    static let stringEscaped: UInt8 = 1
    static let keyEscaped: UInt8 = 2
    static let maxDepth = 512

    // Exclusivity checks are off for these properties: they cost a runtime call per
    // access on the hot path, and the scanner is used by one thread at a time, never
    // re-entered, with no overlapping inout access (the debug test suite ran with the
    // checks on before they were turned off).
    @exclusivity(unchecked) private(set) var entries: UnsafeMutablePointer<Entry>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private var stack: UnsafeMutablePointer<Int32>
    /// The bytes of the last scan (valid only while the caller keeps them alive).
    @exclusivity(unchecked) private(set) var base: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!
    @exclusivity(unchecked) private(set) var length = 0

    /// Where and why the last scan failed.
    @exclusivity(unchecked) private(set) var failureOffset = 0
    @exclusivity(unchecked) private(set) var failureMessage: StaticString = ""

    init(capacity: Int = 256) {
        self.capacity = capacity
        entries = .allocate(capacity: capacity)
        stack = .allocate(capacity: JSONScanner.maxDepth + 1)
    }

    deinit {
        entries.deallocate()
        stack.deallocate()
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: entries, count: count)
        entries.deallocate()
        entries = bigger
        capacity *= 2
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }

    @inline(__always) private func fail(_ offset: Int, _ message: StaticString) -> Int {
        failureOffset = offset
        failureMessage = message
        return -1
    }

    /// Offsets fit: `scan` refuses inputs of 2 GiB or more.
    @inline(__always) private func i32(_ v: Int) -> Int32 { Int32(truncatingIfNeeded: v) }

    /// Scans the JSON value that starts at `buf[0]` (no leading whitespace).
    ///
    /// - Returns: the offset one past the value's last byte, or -1 when the value is
    ///   malformed (see ``failureOffset`` and ``failureMessage``). Bytes after the value
    ///   are not looked at.
    func scan(_ buf: UnsafeRawBufferPointer) -> Int {
        count = 0
        length = 0
        guard let b = buf.baseAddress, buf.count > 0 else { return fail(0, "unexpected end of input") }
        guard buf.count < Int(Int32.max) else { return fail(0, "record larger than 2 GiB") }
        let p = b.assumingMemoryBound(to: UInt8.self)
        base = p
        length = buf.count
        return scan(p, buf.count)
    }

    private func scan(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var depth = 0
        var i = 0
        var keyS: Int32 = -1, keyE: Int32 = -1, keyFlags: UInt8 = 0
        var wantKey = false
        outer: while true {
            while i < n && JSONScanner.isSpace(p[i]) { i += 1 }
            guard i < n else { return fail(i, "unexpected end of input") }
            if wantKey {
                guard p[i] == 0x22 else { return fail(i, "expected '\"' to start a key") }
                var esc = false
                let e = scanString(p, n, i + 1, &esc)
                if e < 0 { return -1 }
                keyS = i32(i + 1)
                keyE = i32(e)
                keyFlags = esc ? JSONScanner.keyEscaped : 0
                i = e + 1
                while i < n && JSONScanner.isSpace(p[i]) { i += 1 }
                guard i < n else { return fail(i, "unexpected end of input") }
                guard p[i] == 0x3A else { return fail(i, "expected ':'") }
                i += 1
                while i < n && JSONScanner.isSpace(p[i]) { i += 1 }
                guard i < n else { return fail(i, "unexpected end of input") }
                wantKey = false
            }
            if count == capacity { grow() }
            let idx = count
            count += 1
            let e = entries + idx
            let c = p[i]
            switch c {
            case 0x7B, 0x5B: // { [
                guard depth < JSONScanner.maxDepth else { return fail(i, "nesting deeper than 512 levels") }
                e.initialize(to: Entry(start: i32(i), end: -1, keyStart: keyS, keyEnd: keyE, next: -1,
                                       kind: c == 0x7B ? .object : .array, flags: keyFlags))
                stack[depth] = i32(idx)
                depth += 1
                i += 1
                while i < n && JSONScanner.isSpace(p[i]) { i += 1 }
                keyS = -1; keyE = -1; keyFlags = 0
                if i < n && p[i] == c + 2 { // } or ]
                    e.pointee.end = i32(i + 1)
                    e.pointee.next = i32(count)
                    depth -= 1
                    i += 1
                } else {
                    wantKey = c == 0x7B
                    continue outer
                }
            case 0x22:
                var esc = false
                let end = scanString(p, n, i + 1, &esc)
                if end < 0 { return -1 }
                e.initialize(to: Entry(start: i32(i + 1), end: i32(end), keyStart: keyS, keyEnd: keyE,
                                       next: i32(idx + 1), kind: .string,
                                       flags: keyFlags | (esc ? JSONScanner.stringEscaped : 0)))
                i = end + 1
            case 0x74, 0x66, 0x6E: // t f n
                let kind: Kind
                let len: Int
                if c == 0x74, n - i >= 4, p[i + 1] == 0x72, p[i + 2] == 0x75, p[i + 3] == 0x65 {
                    kind = .true; len = 4
                } else if c == 0x66, n - i >= 5, p[i + 1] == 0x61, p[i + 2] == 0x6C, p[i + 3] == 0x73, p[i + 4] == 0x65 {
                    kind = .false; len = 5
                } else if c == 0x6E, n - i >= 4, p[i + 1] == 0x75, p[i + 2] == 0x6C, p[i + 3] == 0x6C {
                    kind = .null; len = 4
                } else {
                    return fail(i, "invalid literal")
                }
                e.initialize(to: Entry(start: i32(i), end: i32(i + len), keyStart: keyS, keyEnd: keyE,
                                       next: i32(idx + 1), kind: kind, flags: keyFlags))
                i += len
            case 0x2D, 0x30 ... 0x39:
                let end = scanNumber(p, n, i)
                if end < 0 { return -1 }
                e.initialize(to: Entry(start: i32(i), end: i32(end), keyStart: keyS, keyEnd: keyE,
                                       next: i32(idx + 1), kind: .number, flags: keyFlags))
                i = end
            default:
                return fail(i, "expected a value")
            }
            keyS = -1; keyE = -1; keyFlags = 0
            // After a value: close containers or move to the next member.
            while true {
                if depth == 0 { return i }
                while i < n && JSONScanner.isSpace(p[i]) { i += 1 }
                guard i < n else { return fail(i, "unexpected end of input") }
                let top = entries + Int(stack[depth - 1])
                let d = p[i]
                if d == 0x2C {
                    i += 1
                    wantKey = top.pointee.kind == .object
                    continue outer
                }
                if top.pointee.kind == .object {
                    guard d == 0x7D else { return fail(i, "expected ',' or '}'") }
                } else {
                    guard d == 0x5D else { return fail(i, "expected ',' or ']'") }
                }
                top.pointee.end = i32(i + 1)
                top.pointee.next = i32(count)
                depth -= 1
                i += 1
            }
        }
    }

    /// The high bit of each byte of `w` that is a `"`, a `\` or below 0x20, plus
    /// possibly higher bytes above such a byte (borrows only spread upwards), so the
    /// lowest set bit is exact.
    @inline(__always) private static func specials(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let q = w ^ 0x2222_2222_2222_2222
        let s = w ^ 0x5C5C_5C5C_5C5C_5C5C
        let zq = (q &- ones) & ~q
        let zs = (s &- ones) & ~s
        let ctl = (w &- 0x2020_2020_2020_2020) & ~w
        return (zq | zs | ctl) & highs
    }

    /// Scans a string body from `start` (just after the opening quote).
    /// - Returns: the index of the closing quote, or -1.
    @inline(__always)
    private func scanString(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ escaped: inout Bool) -> Int {
        // Fast path, inlined: no escape or control byte before the closing quote.
        var i = start
        let raw = UnsafeRawPointer(p)
        while i + 8 <= n {
            let m = JSONScanner.specials(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            if m != 0 {
                i += m.trailingZeroBitCount >> 3
                if p[i] == 0x22 { return i }
                break
            }
            i += 8
        }
        return scanStringSlow(p, n, start, &escaped)
    }

    /// Scans a string body from `start`, eight bytes at a time up to the next quote,
    /// backslash or control byte, handling escapes.
    /// - Returns: the index of the closing quote, or -1.
    @inline(never)
    private func scanStringSlow(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ escaped: inout Bool) -> Int {
        var i = start
        let raw = UnsafeRawPointer(p)
        while true {
            // Little-endian loads: the lowest flagged byte is the first special one.
            var found = false
            while i + 8 <= n {
                let m = JSONScanner.specials(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                if m != 0 { i += m.trailingZeroBitCount >> 3; found = true; break }
                i += 8
            }
            if !found {
                while i < n {
                    let c = p[i]
                    if c == 0x22 || c == 0x5C || c < 0x20 { break }
                    i += 1
                }
                guard i < n else { return fail(start - 1, "unterminated string") }
            }
            let c = p[i]
            if c == 0x22 { return i }
            if c == 0x5C {
                escaped = true
                guard i + 1 < n else { return fail(start - 1, "unterminated string") }
                switch p[i + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: i += 2
                case 0x75:
                    guard i + 6 <= n, JSONScanner.hexValue(p[i + 2]) >= 0, JSONScanner.hexValue(p[i + 3]) >= 0,
                          JSONScanner.hexValue(p[i + 4]) >= 0, JSONScanner.hexValue(p[i + 5]) >= 0
                    else { return fail(i, "invalid \\u escape") }
                    i += 6
                default: return fail(i, "invalid escape")
                }
            } else {
                return fail(i, "control character in string")
            }
        }
    }

    private func scanNumber(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        @inline(__always) func digit(_ j: Int) -> Bool { j < n && p[j] &- 0x30 < 10 }
        var i = start
        if p[i] == 0x2D { i += 1 }
        guard i < n else { return fail(i, "unexpected end of input") }
        if p[i] == 0x30 {
            i += 1
        } else if digit(i) {
            while digit(i) { i += 1 }
        } else {
            return fail(i, "invalid number")
        }
        if i < n && p[i] == 0x2E {
            i += 1
            guard digit(i) else { return fail(i, "invalid number") }
            while digit(i) { i += 1 }
        }
        if i < n && p[i] | 0x20 == 0x65 {
            i += 1
            if i < n && (p[i] == 0x2B || p[i] == 0x2D) { i += 1 }
            guard digit(i) else { return fail(i, "invalid number") }
            while digit(i) { i += 1 }
        }
        return i
    }

    @inline(__always) static func hexValue(_ c: UInt8) -> Int {
        switch c {
        case 0x30 ... 0x39: return Int(c - 0x30)
        case 0x41 ... 0x46: return Int(c - 0x41 + 10)
        case 0x61 ... 0x66: return Int(c - 0x61 + 10)
        default: return -1
        }
    }

    // MARK: - Walking the tape

    @inline(__always) subscript(_ i: Int) -> Entry { entries[i] }

    /// The bytes of entry `i`: a string's text between its quotes (still escaped), or the
    /// raw text of any other value.
    @inline(__always) func bytes(_ i: Int) -> UnsafeRawBufferPointer {
        let e = entries[i]
        return UnsafeRawBufferPointer(start: base + Int(e.start), count: Int(e.end - e.start))
    }

    /// The whole raw text of entry `i`, quotes included for strings.
    func rawText(_ i: Int) -> UnsafeRawBufferPointer {
        let e = entries[i]
        if e.kind == .string {
            return UnsafeRawBufferPointer(start: base + Int(e.start) - 1, count: Int(e.end - e.start) + 2)
        }
        return bytes(i)
    }

    /// Whether entry `i`'s key is `key` (compared after unescaping when needed).
    @inline(__always) func keyIs(_ i: Int, _ key: StaticString) -> Bool {
        let e = entries[i]
        let n = Int(e.keyEnd - e.keyStart)
        if e.flags & JSONScanner.keyEscaped != 0 { return escapedKeyIs(i, key) }
        return n == key.utf8CodeUnitCount && memcmp(base + Int(e.keyStart), key.utf8Start, n) == 0
    }

    private func escapedKeyIs(_ i: Int, _ key: StaticString) -> Bool {
        let e = entries[i]
        var out: [UInt8] = []
        JSONScanner.unescape(UnsafeRawBufferPointer(start: base + Int(e.keyStart), count: Int(e.keyEnd - e.keyStart)),
                             into: &out)
        return out.elementsEqual(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
    }

    /// Whether entry `i`'s key equals the given UTF-8 bytes.
    func keyIs(_ i: Int, bytes key: UnsafeRawBufferPointer) -> Bool {
        let e = entries[i]
        let n = Int(e.keyEnd - e.keyStart)
        if e.flags & JSONScanner.keyEscaped != 0 {
            var out: [UInt8] = []
            JSONScanner.unescape(UnsafeRawBufferPointer(start: base + Int(e.keyStart), count: n), into: &out)
            return out.elementsEqual(key)
        }
        return n == key.count && (n == 0 || memcmp(base + Int(e.keyStart), key.baseAddress!, n) == 0)
    }

    /// The member of object entry `obj` named `key`, or -1.
    @inline(__always) func member(_ obj: Int, _ key: StaticString) -> Int {
        guard obj >= 0, entries[obj].kind == .object else { return -1 }
        var i = obj + 1
        let end = Int(entries[obj].next)
        while i < end {
            if keyIs(i, key) { return i }
            i = Int(entries[i].next)
        }
        return -1
    }

    /// The member of object entry `obj` named `key` or `key` with its first letter in
    /// the other case (`accountId` or `AccountId`: the AWS SDKs and CLI capitalise the
    /// keys some APIs write in camel case), or -1. Escaped keys must match exactly.
    func member(_ obj: Int, _ key: StaticString, eitherInitialCase: Bool) -> Int {
        let n = key.utf8CodeUnitCount
        guard eitherInitialCase, n > 0, obj >= 0, entries[obj].kind == .object else { return member(obj, key) }
        let first = key.utf8Start[0]
        let isLetter = (first | 0x20) &- 0x61 < 26
        var i = obj + 1
        let end = Int(entries[obj].next)
        while i < end {
            let e = entries[i]
            if e.flags & JSONScanner.keyEscaped != 0 {
                if escapedKeyIs(i, key) { return i }
            } else if Int(e.keyEnd - e.keyStart) == n {
                let k = base + Int(e.keyStart)
                let initial = isLetter ? k[0] | 0x20 == first | 0x20 : k[0] == first
                if initial && memcmp(k + 1, key.utf8Start + 1, n - 1) == 0 { return i }
            }
            i = Int(e.next)
        }
        return -1
    }

    /// Element `index` of array entry `arr`, or -1.
    func element(_ arr: Int, _ index: Int) -> Int {
        guard arr >= 0, entries[arr].kind == .array, index >= 0 else { return -1 }
        var i = arr + 1
        let end = Int(entries[arr].next)
        var k = 0
        while i < end {
            if k == index { return i }
            k += 1
            i = Int(entries[i].next)
        }
        return -1
    }

    /// Decodes string entry `i` into `scratch` when it has escapes.
    /// - Returns: the string's UTF-8 bytes (pointing into the input or into `scratch`);
    ///   only valid until `scratch` changes.
    func withStringBytes<R>(_ i: Int, scratch: inout [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let b = bytes(i)
        if entries[i].flags & JSONScanner.stringEscaped == 0 { return body(b) }
        scratch.removeAll(keepingCapacity: true)
        JSONScanner.unescape(b, into: &scratch)
        return scratch.withUnsafeBytes(body)
    }

    // MARK: - Shared byte helpers

    /// Appends the unescaped UTF-8 of a JSON string body (between the quotes) to `out`.
    /// Surrogate pairs are joined; lone surrogates become U+FFFD. Invalid UTF-8 bytes are
    /// copied through as they are (decoding to `String` repairs them).
    static func unescape(_ s: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = s.count
        var i = 0
        out.reserveCapacity(out.count + n)
        func hex4(_ j: Int) -> Int {
            guard j + 4 <= n else { return -1 }
            let a = hexValue(s[j]), b = hexValue(s[j + 1]), c = hexValue(s[j + 2]), d = hexValue(s[j + 3])
            guard a >= 0, b >= 0, c >= 0, d >= 0 else { return -1 }
            return a << 12 | b << 8 | c << 4 | d
        }
        func put(_ scalar: UInt32) {
            switch scalar {
            case 0 ..< 0x80: out.append(UInt8(scalar))
            case 0x80 ..< 0x800:
                out.append(UInt8(0xC0 | scalar >> 6)); out.append(UInt8(0x80 | scalar & 0x3F))
            case 0x800 ..< 0x10000:
                out.append(UInt8(0xE0 | scalar >> 12)); out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                out.append(UInt8(0x80 | scalar & 0x3F))
            default:
                out.append(UInt8(0xF0 | scalar >> 18)); out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
                out.append(UInt8(0x80 | scalar >> 6 & 0x3F)); out.append(UInt8(0x80 | scalar & 0x3F))
            }
        }
        while i < n {
            let c = s[i]
            guard c == 0x5C, i + 1 < n else { out.append(c); i += 1; continue }
            let d = s[i + 1]
            i += 2
            switch d {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                let u = hex4(i)
                guard u >= 0 else { put(0xFFFD); continue }
                i += 4
                if u >= 0xD800 && u < 0xDC00 {
                    if i + 6 <= n, s[i] == 0x5C, s[i + 1] == 0x75 {
                        let lo = hex4(i + 2)
                        if lo >= 0xDC00 && lo < 0xE000 {
                            put(UInt32(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)))
                            i += 6
                            continue
                        }
                    }
                    put(0xFFFD)
                } else if u >= 0xDC00 && u < 0xE000 {
                    put(0xFFFD)
                } else {
                    put(UInt32(u))
                }
            default: out.append(d) // \" \\ \/
            }
        }
    }

    /// Whether the object starting at `buf[at]` (a `{`) has `key` as its first key,
    /// written without escapes.
    static func objectStartsWithKey(_ buf: UnsafeRawBufferPointer, at: Int, key: StaticString) -> Bool {
        var i = at + 1
        let n = buf.count
        while i < n && isSpace(buf[i]) { i += 1 }
        let k = key.utf8CodeUnitCount
        guard i + k + 2 <= n, buf[i] == 0x22, buf[i + k + 1] == 0x22 else { return false }
        return memcmp(buf.baseAddress! + i + 1, key.utf8Start, k) == 0
    }
}
