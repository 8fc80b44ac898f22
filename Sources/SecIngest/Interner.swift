#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecModel

/// A small direct-mapped cache from bytes to `String`, so values that repeat from record
/// to record (event source and name, region, user agent, ARNs, account ids) are
/// allocated once per parser instead of once per event.
///
/// Bounded: a fixed number of slots, a new value replaces whatever was in its slot.
/// Strings of up to 15 UTF-8 bytes are not cached: Swift stores them inline, without
/// allocating. Bytes that are not valid UTF-8 decode with U+FFFD and never hit the
/// cache (the cached string's bytes differ from the input), which is correct, only slower.
struct StringInterner {
    private struct Slot {
        var hash: UInt64 = 0
        var string: String = ""
        var used = false
    }

    private var slots: [Slot]
    private let mask: Int

    init(slots: Int = 4096) {
        var n = 1
        while n < slots { n <<= 1 }
        self.slots = Array(repeating: Slot(), count: n)
        mask = n - 1
    }

    @inline(__always)
    static func hash(_ b: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        var i = 0
        let n = b.count
        let p = b.baseAddress!
        while i + 8 <= n {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xFF51_AFD7_ED55_8CCD
        return h ^ (h >> 32)
    }

    /// The string for `b`, from the cache when it is there.
    @inline(__always)
    mutating func intern(_ b: UnsafeRawBufferPointer) -> String {
        let n = b.count
        if n <= 15 { return String(decoding: b, as: UTF8.self) }
        let h = StringInterner.hash(b)
        let idx = Int(truncatingIfNeeded: h) & mask
        return slots.withUnsafeMutableBufferPointer { s in
            if s[idx].used && s[idx].hash == h {
                let hit: Bool? = s[idx].string.utf8.withContiguousStorageIfAvailable {
                    $0.count == n && memcmp($0.baseAddress!, b.baseAddress!, n) == 0
                }
                if hit == true { return s[idx].string }
            }
            let str = String(decoding: b, as: UTF8.self)
            s[idx] = Slot(hash: h, string: str, used: true)
            return str
        }
    }
}

/// A small direct-mapped cache of `sourceIPAddress` texts and what they parse to, so
/// the same address seen in many records is parsed (and its service name allocated) once.
struct AddressCache {
    enum Parsed {
        case ip(IPAddress)
        case service(String)
    }

    private struct Slot {
        var hash: UInt64 = 0
        var text: [UInt8] = []
        var value: Parsed = .service("")
    }

    private var slots: [Slot?]
    private let mask: Int

    init(slots: Int = 1024) {
        var n = 1
        while n < slots { n <<= 1 }
        self.slots = Array(repeating: nil, count: n)
        mask = n - 1
    }

    mutating func parse(_ b: UnsafeRawBufferPointer) -> Parsed {
        let h = StringInterner.hash(b)
        let idx = Int(truncatingIfNeeded: h) & mask
        if let s = slots[idx], s.hash == h, s.text.elementsEqual(b) { return s.value }
        let text = String(decoding: b, as: UTF8.self)
        let value: Parsed = IPAddress(text).map { .ip($0) } ?? .service(text)
        slots[idx] = Slot(hash: h, text: Array(b), value: value)
        return value
    }
}
