import Foundation
import SecModel
import Testing
@testable import SecIngest

/// CloudFront standard log lines shaped like the example in the CloudFront Developer
/// Guide ("Standard logging reference"), with documentation addresses and ids.
@Suite struct CloudFrontTests {
    static let path = "cloudfront/E2EXAMPLE1ABCD.2019-12-04-21.a1b2c3d4.gz"
    static let account = "111122223333"
    static let fieldsLine = "#Fields: " + CloudFrontParser.standardFields
    static let header = "#Version: 1.0\n" + fieldsLine + "\n"

    static func line(_ fields: [String]) -> String { fields.joined(separator: "\t") }

    /// A page served from the cache.
    static let hit = line(["2019-12-04", "21:02:31", "LAX1", "392", "192.0.2.100", "GET", "d111111abcdef8.cloudfront.net", "/index.html", "200", "-",
                           "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36",
                           "-", "-", "Hit", "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==", "d111111abcdef8.cloudfront.net", "https", "23", "0.001", "-",
                           "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "Hit", "HTTP/2.0", "-", "-", "11040", "0.001", "Hit", "text/html", "78", "-", "-"])

    /// A request with a query string and a referrer, to an alternate domain name, from IPv6.
    static let withQuery = line(["2019-12-04", "21:02:31", "LAX1", "172", "2001:db8:85a3::8a2e:370:7334", "GET", "d111111abcdef8.cloudfront.net", "/search", "200",
                                 "https://www.example.com/start?x=1%202", "curl/8.5.0", "q=bank%20login&page=2", "session=abc", "Miss",
                                 "k6WGMNkEzR5BEM_SaF47gjtX9zBDO2m349OY2an0QPEaUum1ZOLrow==", "www.example.com", "https", "95", "0.128", "-",
                                 "TLSv1.3", "TLS_AES_128_GCM_SHA256", "Miss", "HTTP/1.1", "-", "-", "51234", "0.127", "Miss", "application/json", "-", "-", "-"])

    /// A refused request: WAF block.
    static let denied = line(["2019-12-04", "21:03:59", "SFO5-C1", "915", "203.0.113.77", "POST", "d111111abcdef8.cloudfront.net", "/admin/login", "403", "-",
                              "python-requests/2.31.0", "-", "-", "Error", "p0Yq8CIxVYD6Dk0VNTW1nA7Q3xF0qL3aC3lOo4J-hyIxWD5k3XKkfA==", "d111111abcdef8.cloudfront.net",
                              "https", "410", "0.002", "-", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "Error", "HTTP/1.1", "-", "-", "40112", "0.002", "Error",
                              "text/html", "915", "-", "-"])

    /// The viewer went away before an answer: status 000.
    static let abandoned = line(["2019-12-04", "21:04:10", "IAD89-C3", "0", "198.51.100.9", "GET", "d111111abcdef8.cloudfront.net", "/large.bin", "000", "-",
                                 "Wget/1.21", "-", "-", "Error", "Xk7pXoR2xq4r0GmPbvYl2lH8mC4Fh2qHq1lNqzEXAMPLE==", "d111111abcdef8.cloudfront.net",
                                 "http", "120", "12.301", "-", "-", "-", "Error", "HTTP/1.1", "-", "-", "33210", "-", "ClientCommError", "-", "-", "-", "-"])

    static let all = [hit, withQuery, denied, abandoned]

    /// Checks every normalised field against the line, split here by the header's names.
    static func check(_ ev: Event, against line: String, fields names: String = CloudFrontParser.standardFields) {
        let f = Dictionary(uniqueKeysWithValues: zip(names.split(separator: " ").map(String.init),
                                                     line.split(separator: "\t", omittingEmptySubsequences: false)))
        #expect(ev.time == oracleMillis("\(f["date"]!) \(f["time"]!)", format: "yyyy-MM-dd HH:mm:ss"))
        #expect(ev.account == account)
        #expect(ev.source == .cloudfront)
        #expect(ev.eventClass == .httpActivity)
        #expect(ev.action == f["cs-method"].flatMap(dashless))
        #expect(ev.srcIP == f["c-ip"].flatMap(dashless).flatMap { IPAddress($0) })
        #expect(ev.srcPort == f["c-port"].flatMap { Int64($0) })
        #expect(ev.httpStatus == f["sc-status"].flatMap { Int64($0) })
        #expect(ev.bytes == f["sc-bytes"].flatMap { Int64($0) })
        #expect(ev.eventID == f["x-edge-request-id"].flatMap(dashless))
        #expect(ev.resource == (f["cs(Host)"] ?? f["x-host-header"]).flatMap(dashless))
        #expect(ev.resourceType == "AWS::CloudFront::Distribution")
        #expect(ev.userAgent == f["cs(User-Agent)"].flatMap(dashless).map { $0.removingPercentEncoding! })
        let query = f["cs-uri-query"].flatMap(dashless)
        #expect(ev.url == f["cs-uri-stem"].flatMap(dashless).map { $0 + (query.map { "?" + $0 } ?? "") })
        let status = ev.httpStatus ?? 0
        #expect(ev.outcome == (status == 0 ? .unknown : status < 400 ? .success : .failure))
        #expect(ev.raw == Array(line.utf8))
        #expect(ev.principal == nil && ev.principalType == nil && ev.errorCode == nil && ev.dstIP == nil && ev.region == nil)
    }

    @Test func everyFieldMatchesTheLine() {
        let out = parseText(Self.header + Self.all.joined(separator: "\n") + "\n", format: .cloudfront, file: Self.path, account: Self.account)
        #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))")
        #expect(out.records == Self.all.count) // header lines are not records
        for (ev, line) in zip(out.events, Self.all) { Self.check(ev, against: line) }
        #expect(out.events.count == Self.all.count)
    }

    @Test func namedValues() throws {
        let out = parseText(Self.header + Self.withQuery + "\n" + Self.hit, format: .cloudfront, file: Self.path, account: Self.account)
        let q = try #require(out.events.first)
        #expect(q.time == Timestamp.parse("2019-12-04T21:02:31Z"))
        #expect(q.url == "/search?q=bank%20login&page=2")
        #expect(q.resource == "d111111abcdef8.cloudfront.net")
        #expect(q.srcIP?.description == "2001:db8:85a3::8a2e:370:7334")
        #expect(q.srcPort == 51234)
        let hit = try #require(out.events.last)
        #expect(hit.userAgent == "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36")
        #expect(hit.url == "/index.html")
    }

    @Test func theFieldsLineDrivesTheColumns() throws {
        let names = "time date cs-uri-stem c-ip sc-status cs-method x-host-header x-edge-request-id"
        let line = ["21:05:00", "2019-12-05", "/api/v1/accounts", "192.0.2.44", "401", "GET", "api.example.com", "Zl5x1q7hK8EXAMPLEid=="].joined(separator: "\t")
        let out = parseText("#Version: 1.0\n#Fields: \(names)\n\(line)\n", format: .cloudfront, file: Self.path, account: Self.account)
        let ev = try #require(out.events.first)
        Self.check(ev, against: line, fields: names)
        #expect(ev.time == Timestamp.parse("2019-12-05T21:05:00Z"))
        #expect(ev.resource == "api.example.com") // x-host-header when there is no cs(Host)
        #expect(ev.outcome == .failure)
        #expect(ev.bytes == nil && ev.srcPort == nil && ev.userAgent == nil)
    }

    @Test func theHeaderCarriesAcrossPiecesAndCanChange() {
        let names = "date time c-ip cs-method cs-uri-stem sc-status"
        let short = ["2019-12-05", "00:00:01", "192.0.2.1", "HEAD", "/", "200"].joined(separator: "\t")
        let text = Self.header + Self.hit + "\n" + Self.denied + "\n#Fields: \(names)\n" + short + "\n" + short + "\n"
        let whole = parseText(text, format: .cloudfront, file: Self.path, account: Self.account)
        #expect(whole.quarantined.isEmpty)
        #expect(whole.events.map(rawText) == [Self.hit, Self.denied, short, short])
        for cuts in [[1], [2], [3], [4], [5], [1, 2, 3, 4, 5, 6]] {
            let pieces = parseInPieces(text, format: .cloudfront, file: Self.path, cutAfter: cuts, account: Self.account)
            #expect(pieces.events == whole.events, "cut after \(cuts)")
            #expect(pieces.eventOffsets == whole.eventOffsets, "cut after \(cuts)")
        }
    }

    @Test func linesWithoutAHeaderUseTheStandardLayout() throws {
        // A legacy line of 24 fields (before cs-protocol-version and the rest were added).
        let legacy = Self.hit.split(separator: "\t", omittingEmptySubsequences: false).prefix(24).joined(separator: "\t")
        let out = parseText(Self.hit + "\n" + legacy + "\n", format: .cloudfront, file: Self.path, account: Self.account)
        #expect(out.quarantined.isEmpty)
        #expect(out.events.count == 2)
        Self.check(out.events[0], against: Self.hit)
        #expect(out.events[1].srcPort == nil)
        #expect(out.events[1].userAgent == out.events[0].userAgent)
    }

    @Test func badLinesAreQuarantinedAndTheRestKept() {
        func with(_ column: Int, _ value: String) -> String {
            var f = Self.hit.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            f[column] = value
            return Self.line(f)
        }
        let bad: [(String, String)] = [
            (Self.hit.split(separator: "\t").prefix(20).joined(separator: "\t"), "20 fields where the #Fields line names 33"),
            (Self.hit + "\textra", "34 fields where the #Fields line names 33"),
            (with(0, "2019-13-04"), "bad date or time"),
            (with(0, "04/12/2019"), "bad date or time"),
            (with(1, "21:61:31"), "bad date or time"),
            (with(8, "2x0"), "bad sc-status"),
            (with(3, "-12x"), "bad sc-bytes"),
            (with(4, "192.0.2.256"), "bad c-ip"),
            (with(26, "port"), "bad c-port"),
        ]
        let text = Self.header + ([Self.hit] + bad.map(\.0) + ["", Self.denied]).joined(separator: "\n")
        let out = parseText(text, format: .cloudfront, file: Self.path, account: Self.account)
        #expect(out.events.map(rawText) == [Self.hit, Self.denied])
        #expect(out.quarantined.map(\.reason) == bad.map(\.1))
        #expect(out.quarantined.map(\.line) == Array(4 ..< 4 + bad.count))
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == bad.map(\.0))
    }

    @Test func binaryAndNonUTF8() throws {
        let agent = Array("Mozilla/5.0%20".utf8) + [0xE9, 0xFF] + Array("%20x".utf8)
        var fields = Self.hit.split(separator: "\t", omittingEmptySubsequences: false).map { Array($0.utf8) }
        fields[10] = agent
        let odd = Array(fields.joined(separator: [0x09]))
        let garbage: [UInt8] = [0x00, 0x9F, 0x01, 0x02, 0x03]
        let bytes = Array(Self.header.utf8) + odd + [0x0A] + garbage + [0x0A]
        let out = parseText(bytes, format: .cloudfront, file: Self.path, account: Self.account)
        let ev = try #require(out.events.first)
        #expect(ev.raw == odd)
        #expect(ev.userAgent == "Mozilla/5.0 \u{FFFD}\u{FFFD} x")
        #expect(out.quarantined.map(\.reason) == ["binary data (non-text bytes)"])
        #expect(out.quarantined.first?.bytes == garbage)
    }

    @Test func aQuarantinedLineParsesAgainAfterTheContextHeader() throws {
        let custom = "#Fields: date time c-ip cs-method cs-uri-stem sc-status\r\n"
        let short = ["2019-12-05", "00:00:01", "192.0.2.1", "HEAD", "/", "200"].joined(separator: "\t")
        for (text, header) in [(Self.header + Self.hit + "\n", Self.header), ("#Version: 1.0\n" + custom + short, "#Version: 1.0\n" + custom),
                               (String(custom.dropLast(2)) + "\n" + short, String(custom.dropLast(2)) + "\n")] {
            let context = ParseContext(file: Self.path) // no account: the data line is quarantined
            let bytes = Array(text.utf8)
            let first = bytes.withUnsafeBytes { IngestParser.parse(bytes: $0, format: .cloudfront, offset: 0, line: 1, context: context) }
            let q = try #require(first.quarantined.first)
            #expect(context.header == Array(header.utf8))
            let again = parseText((context.header ?? []) + q.bytes, format: .cloudfront, file: Self.path, account: Self.account)
            let direct = parseText(text, format: .cloudfront, file: Self.path, account: Self.account)
            #expect(again.events.map(\.raw) == direct.events.map(\.raw))
            #expect(again.events.map(\.time) == direct.events.map(\.time))
            #expect(!again.events.isEmpty)
        }
    }

    @Test func noAccountQuarantines() {
        let out = parseText(Self.header + Self.hit, format: .cloudfront, file: Self.path)
        #expect(out.events.isEmpty)
        #expect(out.quarantined.map(\.reason) == [ParseContext.noAccountReason])
        let fromPath = parseText(Self.header + Self.hit, format: .cloudfront, file: "logs/111122223333/cf/E2EXAMPLE1ABCD.2019-12-04-21.a1b2c3d4")
        #expect(fromPath.events.first?.account == "111122223333")
    }

    @Test func recognition() {
        #expect(InputFormat.detect(prefix: Array((Self.header + Self.hit).utf8), path: Self.path) == .cloudfront)
        #expect(InputFormat.detect(prefix: Array((Self.fieldsLine + "\n" + Self.hit).utf8), path: Self.path) == .cloudfront)
        for text in ["#Version: 1.0\n#Fields: date time s-ip cs-method cs-uri-stem sc-status\n", "#Version: 1.0\n", Self.hit, "# x-edge-location"] {
            #expect(!Array(text.utf8).withUnsafeBytes { CloudFrontParser.recognises($0) }, "\(text)")
        }
    }
}
