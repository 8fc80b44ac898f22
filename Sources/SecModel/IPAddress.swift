/// An IPv4 or IPv6 address, held as 16 bytes (IPv4 as `::ffff:a.b.c.d`).
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// High and low 64 bits, network order.
    public var hi: UInt64
    public var lo: UInt64

    public init(hi: UInt64, lo: UInt64) { self.hi = hi; self.lo = lo }

    public init(v4: UInt32) { hi = 0; lo = 0xffff_0000_0000 | UInt64(v4) }

    public var isV4: Bool { hi == 0 && (lo >> 32) == 0xffff }
    public var v4: UInt32 { UInt32(truncatingIfNeeded: lo) }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    /// From 16 bytes in network order, read directly (the stores' dictionaries hold
    /// addresses this way, and a scan may decode millions).
    public init(bytes b: UnsafeRawBufferPointer) {
        precondition(b.count == 16)
        hi = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        lo = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    public init(bytes b: some Collection<UInt8>) {
        precondition(b.count == 16)
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, x) in b.enumerated() {
            if i < 8 { h = h << 8 | UInt64(x) } else { l = l << 8 | UInt64(x) }
        }
        hi = h; lo = l
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool { (a.hi, a.lo) < (b.hi, b.lo) }

    /// Parses dotted IPv4 or RFC 4291 IPv6 text (with `::`, and an embedded IPv4 tail).
    public init?(_ text: some StringProtocol) {
        var s = Substring(text)
        if let pct = s.firstIndex(of: "%") { s = s[..<pct] } // zone id
        if let v4 = IPAddress.parseV4(s.utf8) { self.init(v4: v4); return }
        guard s.contains(":") else { return nil }
        guard let r = IPAddress.parseV6(s) else { return nil }
        self = r
    }

    static func parseV4(_ u: Substring.UTF8View) -> UInt32? {
        var parts = 0, cur: UInt32 = 0, digits = 0, out: UInt32 = 0
        for c in u {
            if c == UInt8(ascii: ".") {
                guard digits > 0, cur <= 255, parts < 3 else { return nil }
                out = out << 8 | cur; parts += 1; cur = 0; digits = 0
            } else if c >= 48 && c <= 57 {
                // A leading zero ("010") could mean octal to some parsers: refuse it.
                if digits == 1 && cur == 0 { return nil }
                cur = cur * 10 + UInt32(c - 48); digits += 1
                if digits > 3 { return nil }
            } else { return nil }
        }
        guard parts == 3, digits > 0, cur <= 255 else { return nil }
        return out << 8 | cur
    }

    static func parseV6(_ s: Substring) -> IPAddress? {
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        var seenGap = false
        var halves: [String] = []
        if let r = s.firstRange(of: "::") {
            halves = [String(s[..<r.lowerBound]), String(s[r.upperBound...])]
            if halves[1].contains("::") { return nil }
        } else {
            halves = [String(s)]
        }
        func parseGroups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, p) in pieces.enumerated() {
                if i == pieces.count - 1, p.contains("."), let v4 = parseV4(p.utf8) {
                    out.append(UInt16(v4 >> 16)); out.append(UInt16(v4 & 0xffff)); continue
                }
                guard !p.isEmpty, p.utf8.count <= 4, let v = UInt16(p, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = parseGroups(halves[0]) else { return nil }
        groups = head
        if halves.count == 2 {
            seenGap = true
            guard let t = parseGroups(halves[1]) else { return nil }
            tail = t
        }
        if seenGap {
            guard groups.count + tail.count <= 7 else { return nil }
            groups += [UInt16](repeating: 0, count: 8 - groups.count - tail.count) + tail
        }
        guard groups.count == 8 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<4 { h = h << 16 | UInt64(groups[i]) }
        for i in 4..<8 { l = l << 16 | UInt64(groups[i]) }
        return IPAddress(hi: h, lo: l)
    }

    public var description: String {
        if isV4 {
            let v = v4
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        }
        var g = [UInt16](repeating: 0, count: 8)
        for i in 0..<4 { g[i] = UInt16(truncatingIfNeeded: hi >> (48 - 16 * UInt64(i))) }
        for i in 0..<4 { g[4 + i] = UInt16(truncatingIfNeeded: lo >> (48 - 16 * UInt64(i))) }
        // RFC 5952: compress the longest run (length >= 2) of zero groups.
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ r: Range<Int>) -> String { r.map { String(g[$0], radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLen)..<8)
    }
}

/// An address prefix, `10.0.0.0/8` or `2001:db8::/32`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public var network: IPAddress
    /// Prefix length over the 128-bit form (an IPv4 /8 is stored as /104).
    public var bits: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let ip = IPAddress(parts[0]) else { return nil }
        var len = ip.isV4 ? 32 : 128
        if parts.count == 2 {
            guard let l = Int(parts[1]), l >= 0, l <= len else { return nil }
            len = l
        }
        bits = ip.isV4 ? 96 + len : len
        network = CIDR.mask(ip, bits)
    }

    static func mask(_ ip: IPAddress, _ bits: Int) -> IPAddress {
        func m(_ n: Int) -> UInt64 { n <= 0 ? 0 : n >= 64 ? ~0 : ~0 << UInt64(64 - n) }
        return IPAddress(hi: ip.hi & m(bits), lo: ip.lo & m(bits - 64))
    }

    /// True for an IPv4 prefix (`a.b.c.d/n`, or the same written `::ffff:a.b.c.d/n`).
    public var isV4: Bool { bits >= 96 && network.isV4 }

    /// Addresses of the prefix's own family: `::/0` holds every IPv6 address and no IPv4
    /// one (IPv4 addresses are kept as `::ffff:a.b.c.d`, but an analyst's `::/0`, like a
    /// security group's, means IPv6), and `0.0.0.0/0` every IPv4 address.
    public func contains(_ ip: IPAddress) -> Bool { ip.isV4 == isV4 && CIDR.mask(ip, bits) == network }

    public var description: String {
        network.isV4 && bits >= 96 ? "\(network)/\(bits - 96)" : "\(network)/\(bits)"
    }
}
