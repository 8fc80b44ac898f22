#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecModel

/// Reads values off a ``JSONScanner``'s tape for the normalisers of JSON formats:
/// strings (interned, since values repeat from record to record), numbers, times and
/// addresses, each from a tape index (-1 meaning absent, as the scanner's look-ups
/// return).
///
/// Not thread-safe: one per normaliser, and a normaliser per ``ParseScratch``.
final class TapeReader {
    let scanner = JSONScanner()
    // Exclusivity checks are off here for speed, as in JSONScanner: one thread at a
    // time, and `scratch` and `otherScratch` are never both borrowed by the same call.
    @exclusivity(unchecked) private var strings = StringInterner()
    @exclusivity(unchecked) private var addresses = AddressCache()
    @exclusivity(unchecked) private var scratch: [UInt8] = []
    @exclusivity(unchecked) private var otherScratch: [UInt8] = []

    @inline(__always) static func eq(_ k: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        memcmp(k.baseAddress!, s.utf8Start, s.utf8CodeUnitCount) == 0
    }

    /// Calls `body` with each member's key (unescaped) and tape index, in order.
    @inline(__always)
    func forEachMember(_ obj: Int, _ body: (UnsafeRawBufferPointer, Int) -> Void) {
        let s = scanner
        var i = obj + 1
        let end = Int(s[obj].next)
        while i < end {
            let e = s[i]
            let key = UnsafeRawBufferPointer(start: s.base + Int(e.keyStart), count: Int(e.keyEnd - e.keyStart))
            if e.flags & JSONScanner.keyEscaped != 0 {
                otherScratch.removeAll(keepingCapacity: true)
                JSONScanner.unescape(key, into: &otherScratch)
                let copy = otherScratch
                copy.withUnsafeBytes { body($0, i) }
            } else {
                body(key, i)
            }
            i = Int(e.next)
        }
    }

    /// Whether entry `i` is of the given kind (false for -1).
    @inline(__always) func isKind(_ i: Int, _ kind: JSONScanner.Kind) -> Bool {
        i >= 0 && scanner[i].kind == kind
    }

    /// `i` when it is an object, else -1, so look-ups through it find nothing.
    @inline(__always) func object(_ i: Int) -> Int { isKind(i, .object) ? i : -1 }

    /// Whether entry `i` is a non-empty string.
    @inline(__always) func isText(_ i: Int) -> Bool {
        i >= 0 && scanner[i].kind == .string && scanner[i].end > scanner[i].start
    }

    /// The string at `i`, from the interner; nil unless a non-empty string.
    @inline(__always) func text(_ i: Int) -> String? {
        guard isText(i) else { return nil }
        if scanner[i].flags & JSONScanner.stringEscaped == 0 { return strings.intern(scanner.bytes(i)) }
        scratch.removeAll(keepingCapacity: true)
        JSONScanner.unescape(scanner.bytes(i), into: &scratch)
        return scratch.withUnsafeBytes { strings.intern($0) }
    }

    /// The string at `i`, not cached (values unique to a record).
    @inline(__always) func uniqueText(_ i: Int) -> String? {
        guard isText(i) else { return nil }
        if scanner[i].flags & JSONScanner.stringEscaped == 0 {
            return String(decoding: scanner.bytes(i), as: UTF8.self)
        }
        scratch.removeAll(keepingCapacity: true)
        JSONScanner.unescape(scanner.bytes(i), into: &scratch)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// The string for `bytes`, from the interner: for values a normaliser rewrites.
    func intern(_ bytes: UnsafeRawBufferPointer) -> String { strings.intern(bytes) }

    /// Calls `body` with the (unescaped) bytes of string entry `i`.
    @inline(__always) func withText<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        scanner.withStringBytes(i, scratch: &scratch, body)
    }

    /// Like ``withText(_:_:)`` with a second buffer, for use inside `withText`'s body.
    func withOtherText<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        scanner.withStringBytes(i, scratch: &otherScratch, body)
    }

    /// Whether string entry `i` is exactly `s`.
    @inline(__always) func textIs(_ i: Int, _ s: StaticString) -> Bool {
        guard i >= 0, scanner[i].kind == .string else { return false }
        return withText(i) { b in b.count == s.utf8CodeUnitCount && Self.eq(b, s) }
    }

    /// The number at `i` as an integer (fractions truncated).
    func integer(_ i: Int) -> Int64? {
        guard i >= 0, scanner[i].kind == .number else { return nil }
        let b = scanner.bytes(i)
        var v: Int64 = 0
        var neg = false
        var k = 0
        if b[0] == 0x2D { neg = true; k = 1 }
        var plain = true
        while k < b.count {
            let d = b[k] &- 0x30
            if d >= 10 { plain = false; break }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { plain = false; break }
            v = a
            k += 1
        }
        if plain { return neg ? -v : v }
        guard let d = Text.double(b), d.isFinite, abs(d) < 9.2e18 else { return nil }
        return Int64(d)
    }

    /// An integer written as a JSON number or as a string of digits (`"53000"`).
    func integerOrDigits(_ i: Int) -> Int64? {
        if isText(i) { return withText(i) { Text.int($0) } }
        return integer(i)
    }

    /// A number written as a JSON number or as a decimal string (`"5.5"`).
    func double(_ i: Int) -> Double? {
        guard i >= 0 else { return nil }
        switch scanner[i].kind {
        case .number: return Text.double(scanner.bytes(i))
        case .string: return withText(i) { Text.double($0) }
        default: return nil
        }
    }

    /// The RFC 3339 time (or `YYYY-MM-DD hh:mm:ss`, taken as UTC) in string entry `i`,
    /// in milliseconds since the epoch.
    func time(_ i: Int) -> Int64? {
        guard isKind(i, .string) else { return nil }
        return withText(i) { Timestamp.parse($0) }
    }

    /// The IPv4 or IPv6 address in string entry `i`.
    func ip(_ i: Int) -> IPAddress? {
        guard isText(i) else { return nil }
        return withText(i) { Text.ip($0) }
    }

    /// The address or service name in string entry `i` (CloudTrail's `sourceIPAddress`),
    /// cached, since the same ones repeat.
    func addressOrService(_ i: Int) -> AddressCache.Parsed? {
        guard isText(i) else { return nil }
        return withText(i) { addresses.parse($0) }
    }

    /// The value at `i` for a refusal reason: at most 40 characters, printable ASCII.
    func quotedValue(_ i: Int) -> String {
        let b = scanner[i].kind == .string ? scanner.bytes(i) : scanner.rawText(i)
        var out = ""
        for c in b.prefix(40) {
            out.unicodeScalars.append(c >= 0x20 && c < 0x7F && c != 0x27 ? Unicode.Scalar(c) : "?")
        }
        return b.count > 40 ? out + "..." : out
    }
}
