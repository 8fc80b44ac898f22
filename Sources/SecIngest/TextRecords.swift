#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecModel

/// Why one record of a text log cannot become an event. The reason names what is wrong
/// (`bad sc-status`, `too few fields: 12, at least 17`) and never quotes the record.
struct Refusal: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

extension ParseOutput {
    /// Keeps the event `make` builds from one record, or quarantines the record with the
    /// reason `make` throws.
    @inline(__always)
    mutating func take(_ context: ParseContext, _ record: UnsafeRawBufferPointer, offset: Int64, line: Int,
                       _ make: () throws(Refusal) -> Event) {
        do {
            keep(try make(), offset: offset)
        } catch {
            refuse(context, record, offset: offset, line: line, reason: error.reason)
        }
    }
}

extension ParseContext {
    /// The account for a record that carries none (``account(record:)`` with nil), or the
    /// refusal every parser gives when neither the path nor `--account` names one.
    func accountOrRefuse() throws(Refusal) -> String {
        guard let account = account(record: nil) else { throw Refusal(ParseContext.noAccountReason) }
        return account
    }
}

/// Field helpers for the text formats: AWS's `-` placeholder, numbers and addresses that
/// must parse when present, and the clock times and zones of text logs.
extension Text {
    /// The field as a string; nil when it is empty or `-`.
    @inline(__always)
    static func present(_ b: UnsafeRawBufferPointer) -> String? {
        b.count == 0 || isDash(b) ? nil : string(b)
    }

    /// The field as a number; nil when it is empty or `-`, a refusal naming `field` when
    /// it is anything else that is not a decimal integer.
    @inline(__always)
    static func number(_ b: UnsafeRawBufferPointer, _ field: String) throws(Refusal) -> Int64? {
        if b.count == 0 || isDash(b) { return nil }
        guard let v = int(b) else { throw Refusal("bad \(field)") }
        return v
    }

    /// The field as an address; nil when it is empty or `-`, a refusal naming `field`
    /// when it is anything else that is not an IPv4 or IPv6 address.
    @inline(__always)
    static func address(_ b: UnsafeRawBufferPointer, _ field: String) throws(Refusal) -> IPAddress? {
        if b.count == 0 || isDash(b) { return nil }
        guard let v = ip(b) else { throw Refusal("bad \(field)") }
        return v
    }

    /// Where an ASCII literal first occurs in `hay`.
    static func firstIndex(of needle: StaticString, in hay: UnsafeRawBufferPointer) -> Int? {
        let m = needle.utf8CodeUnitCount
        guard m > 0, hay.count >= m else { return nil }
        let first = needle.utf8Start.pointee
        var k = 0
        while let j = Bytes.firstIndex(of: first, in: hay, from: k, to: hay.count - m + 1) {
            if memcmp(hay.baseAddress! + j, needle.utf8Start, m) == 0 { return j }
            k = j + 1
        }
        return nil
    }

    /// `count` decimal digits at `b[at...]` as a number; nil when one is not a digit or
    /// they run past the end.
    @inline(__always)
    static func digits(_ b: UnsafeRawBufferPointer, at i: Int, count: Int) -> Int? {
        guard i >= 0, i + count <= b.count else { return nil }
        var v = 0
        for k in i ..< i + count {
            let d = b[k] &- 48
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    /// Milliseconds from the epoch to the start of a civil date; nil for a month or day
    /// out of range.
    static func dayMillis(year: Int, month: Int, day: Int) -> Int64? {
        guard (1 ... 12).contains(month), (1 ... 31).contains(day) else { return nil }
        return Int64(Timestamp.days(year: year, month: month, day: day)) * 86_400_000
    }

    /// `HH:MM:SS` with an optional fraction (`.5`, `.123`, `.123456`, cut to
    /// milliseconds): milliseconds since midnight.
    static func clockMillis(_ b: UnsafeRawBufferPointer) -> Int64? {
        guard b.count >= 8, b[2] == 58, b[5] == 58, let h = digits(b, at: 0, count: 2),
              let m = digits(b, at: 3, count: 2), let s = digits(b, at: 6, count: 2),
              h < 24, m < 60, s <= 60 else { return nil }
        var ms = Int64(h * 3600 + m * 60 + s) * 1000
        guard b.count > 8 else { return ms }
        guard b[8] == 46, b.count > 9 else { return nil }
        var scale: Int64 = 100
        for k in 9 ..< b.count {
            let d = b[k] &- 48
            guard d < 10 else { return nil }
            ms += Int64(d) * scale
            scale /= 10
        }
        return ms
    }

    /// A numeric UTC offset (`+0000`, `-0530`, `+05:30`, `+02`): seconds east of UTC.
    static func utcOffset(_ b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= 3, b[0] == 43 || b[0] == 45, let h = digits(b, at: 1, count: 2), h <= 14 else { return nil }
        var m = 0
        switch b.count {
        case 3: break
        case 5: guard let mm = digits(b, at: 3, count: 2) else { return nil }; m = mm
        case 6: guard b[3] == 58, let mm = digits(b, at: 4, count: 2) else { return nil }; m = mm
        default: return nil
        }
        guard m < 60 else { return nil }
        let seconds = h * 3600 + m * 60
        return b[0] == 45 ? -seconds : seconds
    }
}
