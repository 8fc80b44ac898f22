import SecModel
import Testing
@testable import SecIngest

/// The byte-level helpers the text parsers share, against String-based oracles.
@Suite struct TextTests {
    static let addresses = [
        "2001:db8:1234:a100:8d6e:3477:df66:f105", "2001:DB8::1", "::", "::1", "1::", "fe80::", "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8", "2001:db8:4006:812::200e", "0:0:0:0:0:0:0:0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "::ffff:192.0.2.1", "fe80::1%eth0", "64:ff9b::198.51.100.7",
        // not addresses
        ":", ":::", "1:2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1::2:3:4:5:6:7:8", "g::1", "1:2:3:4:5:6:7:",
        ":1:2:3:4:5:6:7", "2001:db8::1 ", "-",
    ]

    @Test(arguments: addresses)
    func addressesAgreeWithTheFullParser(text: String) {
        let fast = Array(text.utf8).withUnsafeBytes { Text.ip($0) }
        #expect(fast == IPAddress(text))
    }

    @Test func ipv6FastPathValues() {
        let v = Array("2001:db8::ff00:42:8329".utf8).withUnsafeBytes { Text.ipv6($0) }
        #expect(v == IPAddress(hi: 0x2001_0db8_0000_0000, lo: 0x0000_ff00_0042_8329))
        #expect(Array("::ffff:192.0.2.1".utf8).withUnsafeBytes { Text.ipv6($0) } == nil, "left to the full parser")
    }

    @Test(arguments: [
        (#"a "b c" d"#, ["a", "b c", "d"]),
        (#""x \"y\" z" w"#, [#"x \"y\" z"#, "w"]),
        (#""ends in backslash \\" next"#, [#"ends in backslash \\"#, "next"]),
        (#""- - - " "-""#, ["- - - ", "-"]),
        (#"[01/Feb/2024:00:00:00 +0000] "q""#, ["[01/Feb/2024:00:00:00 +0000]", "q"]),
    ])
    func splitQuoted(line: String, fields: [String]) {
        var ranges: [Range<Int>] = []
        let bytes = Array(line.utf8)
        let ok = bytes.withUnsafeBytes { Text.splitQuoted($0, into: &ranges) }
        #expect(ok)
        #expect(ranges.map { String(decoding: bytes[$0], as: UTF8.self) } == fields)
    }

    @Test func splitQuotedRefusesAnUnclosedQuote() {
        var ranges: [Range<Int>] = []
        #expect(Array(#"a "b \" c"#.utf8).withUnsafeBytes { Text.splitQuoted($0, into: &ranges) } == false)
    }

    /// Integers against Swift's own parser; 19 digits and more are refused, never wrapped.
    @Test(arguments: ["0", "7", "-12", "443", "123456789012345678", "-123456789012345678", "1234567890123456789",
                      "99999999999999999999", "-", "", "1x", "--1", "+5", " 1"])
    func integers(_ text: String) {
        let got = Array(text.utf8).withUnsafeBytes { Text.int($0) }
        let digits = text.utf8.filter { $0 >= 48 && $0 <= 57 }.count
        let expected = digits <= 18 && !text.hasPrefix("+") ? Int64(text) : nil
        #expect(got == expected, "\(text)")
    }

    @Test func blank() {
        for (text, blank) in [("", true), ("  \t ", true), (" x ", false)] {
            #expect(Array(text.utf8).withUnsafeBytes { Text.isBlank($0) } == blank)
        }
    }
}
