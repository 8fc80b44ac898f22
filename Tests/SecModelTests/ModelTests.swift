#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SecModel
import Testing

/// Addresses, prefixes and times against the C library and Foundation.
@Suite struct ModelTests {
    /// inet_pton then inet_ntop: the canonical text, or nil.
    func libc(_ s: String) -> String? {
        var v4 = in_addr(), v6 = in6_addr()
        var buf = [CChar](repeating: 0, count: 64)
        if inet_pton(AF_INET, s, &v4) == 1 { return String(cString: inet_ntop(AF_INET, &v4, &buf, 64)) }
        if inet_pton(AF_INET6, s, &v6) == 1 { return String(cString: inet_ntop(AF_INET6, &v6, &buf, 64)) }
        return nil
    }

    @Test(arguments: [
        "10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.001.1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "",
        "::", "::1", "2001:db8::1", "2001:0db8:0000:0000:0000:ff00:0042:8329", "fe80::1:2:3:4", "1::", "::ffff:1.2.3.4",
        "2001:db8::1::2", "12345::", "g::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "::1.2.3.4", "1:0:0:2::3",
    ])
    func addressesParseAndPrintLikeTheCLibrary(text: String) {
        let mine = IPAddress(text)
        let theirs = libc(text)
        #expect((mine == nil) == (theirs == nil), "\(text)")
        // glibc prints IPv4-compatible and -mapped addresses with a dotted tail; secq
        // keeps RFC 5952's hex form for the former and shows the latter as IPv4.
        if let mine, let theirs, !theirs.contains(".") {
            #expect(mine.description == theirs, "\(text)")
        }
    }

    @Test func randomAddressesRoundTrip() {
        var seed: UInt64 = 42
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed }
        for _ in 0..<2000 {
            let ip = IPAddress(hi: next() | 1 << 60, lo: next())
            #expect(libc(ip.description) == ip.description)
            #expect(IPAddress(ip.description) == ip)
            let v4 = IPAddress(v4: UInt32(truncatingIfNeeded: next()))
            #expect(libc(v4.description) == v4.description)
            #expect(IPAddress(v4.description) == v4)
        }
    }

    @Test func prefixes() throws {
        let net = try #require(CIDR("10.1.0.0/16"))
        #expect(net.contains(IPAddress("10.1.200.3")!))
        #expect(!net.contains(IPAddress("10.2.0.1")!))
        #expect(!net.contains(IPAddress("::a01:1")!), "an IPv6 address is never in an IPv4 prefix")
        let v6 = try #require(CIDR("2001:db8::/32"))
        #expect(v6.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(!v6.contains(IPAddress("2001:db9::1")!))
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("2001:db8::/129") == nil && CIDR("x/8") == nil)
        #expect(CIDR("0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        #expect(CIDR("10.1.2.3/8")!.description == "10.0.0.0/8")
        // Each family's "anything" holds only its own family.
        let any6 = try #require(CIDR("::/0")), any4 = try #require(CIDR("0.0.0.0/0"))
        #expect(any6.contains(IPAddress("2001:db8::1")!) && !any6.contains(IPAddress("8.8.8.8")!))
        #expect(any4.contains(IPAddress("8.8.8.8")!) && !any4.contains(IPAddress("2001:db8::1")!))
        #expect(CIDR("::ffff:8.8.0.0/16")!.contains(IPAddress("8.8.8.8")!), "an IPv4-mapped prefix is an IPv4 one")
        #expect(!CIDR("::/64")!.contains(IPAddress("1.2.3.4")!))
    }

    /// Addresses read from 16 stored bytes equal those parsed from text.
    @Test func addressesFromBytes() {
        for text in ["8.8.8.8", "2001:db8::1", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "10.0.0.255"] {
            let ip = IPAddress(text)!
            let viaRaw = ip.bytes.withUnsafeBytes { IPAddress(bytes: $0) }
            #expect(viaRaw == ip && IPAddress(bytes: ip.bytes) == ip, "\(text)")
        }
    }

    @Test func timesAgainstFoundation() {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var t: Int64 = 0
        for _ in 0..<2000 {
            t = (t &* 6364136223846793005 &+ 1442695040888963407)
            let ms = Int64(UInt64(bitPattern: t) % 4_102_444_800_000) // 1970 to 2100
            let text = Timestamp.rfc3339(millis: ms)
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            #expect(Int64((iso.date(from: iso.string(from: date))!.timeIntervalSince1970 * 1000).rounded()) == ms)
            #expect(Timestamp.parse(text) == ms, "\(text)")
            #expect(Timestamp.parse(iso.string(from: date)) == ms)
        }
        #expect(Timestamp.parse("2026-11-01T12:00:00+02:00") == Timestamp.parse("2026-11-01T10:00:00Z"))
        #expect(Timestamp.parse("2026-11-01") == Timestamp.parse("2026-11-01T00:00:00Z"))
        #expect(Timestamp.parse("2026-13-01T00:00:00Z") == nil)
        #expect(Timestamp.parse("yesterday") == nil)
    }

    @Test func spans() {
        #expect(Span("24h")?.millis == 86_400_000)
        #expect(Span("10m")?.millis == 600_000)
        #expect(Span("7d")?.description == "1w" || Span("7d")?.description == "7d")
        #expect(Span("5x") == nil && Span("h") == nil)
    }

    @Test func fieldValuesReadTheEvent() {
        var e = Event(time: 1_700_000_000_000, account: "111122223333", source: .cloudtrail, eventClass: .authentication, raw: [])
        e.principal = "arn:aws:iam::111122223333:user/a"
        e.srcIP = IPAddress("2001:db8::7")
        e.bytes = 42
        e.mfa = true
        #expect(e.value(of: .principal) == .string("arn:aws:iam::111122223333:user/a"))
        #expect(e.value(of: .srcIP) == .ip(IPAddress("2001:db8::7")!))
        #expect(e.value(of: .bytes) == .int(42))
        #expect(e.value(of: .mfa) == .bool(true))
        #expect(e.value(of: .time) == .time(1_700_000_000_000))
        #expect(e.value(of: .eventClass) == .string("authentication"))
        #expect(e.value(of: .dstPort) == .null && e.value(of: .region) == .null)
    }

    @Test func orgValidation() {
        let org = Org(banks: [
            .init(id: "Acme", name: "A", accounts: [.init(id: "12345", name: "x", ou: "prod")]),
            .init(id: "beta", name: "B", accounts: [.init(id: "111122223333", name: "y", ou: "prod")]),
            .init(id: "gamma", name: "C", accounts: [.init(id: "111122223333", name: "z", ou: "dev")]),
        ])
        let problems = org.validate()
        #expect(problems.contains { $0.contains("bank id 'Acme'") })
        #expect(problems.contains { $0.contains("account id '12345'") })
        #expect(problems.contains { $0.contains("claimed by banks 'beta' and 'gamma'") })
    }
}

@Suite struct ZonedTimeTests {
    /// RFC 3339 with an offset names the same instant, against Foundation's formatter.
    @Test(arguments: [0, 3600, -18000, 19800, -34200, 50400])
    func offsetsNameTheSameInstant(_ offset: Int) throws {
        let fractions = ISO8601DateFormatter()
        fractions.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let seconds = ISO8601DateFormatter()
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<500 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            let millis = Int64(x >> 24) % 4_000_000_000_000 - 500_000_000_000
            let text = Timestamp.rfc3339(millis: millis, offsetSeconds: offset)
            let parsed = try #require(fractions.date(from: text) ?? seconds.date(from: text), "\(text)")
            #expect(Int64((parsed.timeIntervalSince1970 * 1000).rounded()) == millis, "\(text)")
            #expect(Timestamp.parse(text) == millis, "\(text)")
            if offset != 0 {
                let sign = offset < 0 ? "-" : "+"
                let a = abs(offset) / 60
                #expect(text.hasSuffix(sign + String(format: "%02d:%02d", a / 60, a % 60)))
            } else {
                #expect(text.hasSuffix("Z"))
            }
        }
    }
}
