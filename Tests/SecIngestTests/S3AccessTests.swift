import Foundation
import SecModel
import Testing
@testable import SecIngest

/// S3 server access log lines shaped like the examples in the Amazon S3 User Guide
/// ("Amazon S3 server access log format"), with documentation addresses and ids.
@Suite struct S3AccessTests {
    static let owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
    /// Date-partitioned delivery: `<prefix><account>/<region>/<bucket>/YYYY/MM/DD/...`.
    static let path = "s3-logs/111122223333/us-west-1/amzn-s3-demo-bucket1/2019/02/06/2019-02-06-00-00-38-5A1B2C3D4E5F6A7B"

    /// Every field, as logs are written today (access point, ACL required, source region).
    static let versioning = #"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes us-east-1"#

    /// An IAM user reading an object whose key has an encoded space; a non-zero offset.
    static let getObject = #"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:10:15:02 +0200] 198.51.100.23 arn:aws:iam::111122223333:user/alice 891CE47D2EXAMPLE REST.GET.OBJECT reports/2019/q1%20summary.csv "GET /amzn-s3-demo-bucket1/reports/2019/q1%20summary.csv?x-id=GetObject HTTP/1.1" 200 - 3462992 3462992 70 10 "https://console.aws.amazon.com/" "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0" - 9vKBE6vMhrNiWHZmb2L0mXOcqPGzQOI5XLnCtZNPxev+Hf+7tpT6sxDwDty4LHBUOZJG96N1234= SigV4 TLS_AES_128_GCM_SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSv1.3 - -"#

    /// An unauthenticated request refused.
    static let anonymousDenied = #"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:01:57 +0000] 203.0.113.77 - A1206F460EXAMPLE REST.GET.OBJECT secret/payroll.xlsx "GET /secret/payroll.xlsx HTTP/1.1" 403 AccessDenied 243 - 12 - "-" "curl/8.5.0" - Mp5vDuRz6SsVbhJQ0mRCmQCgk0Kc9z6bVmN7i6EXAMPLE= - - - amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com - - -"#

    /// An assumed role writing from IPv6; `-` bytes sent (zero).
    static let putObjectIPv6 = #"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:02:10 +0000] 2001:db8:85a3::8a2e:370:7334 arn:aws:sts::111122223333:assumed-role/Etl/etl-session 7B4A0FABBEXAMPLE REST.PUT.OBJECT incoming/batch-0001.json "PUT /incoming/batch-0001.json HTTP/1.1" 200 - - 5120 45 22 "-" "aws-sdk-java/2.25.0" - Tr6dDZ4t9lX0mEXAMPLEid2= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSv1.2 - -"#

    /// An older line that stops after the version id (18 fields).
    static let older = #"6ec976a42247d687d5d1c87bb53e87c60c925765f87415f472d240c5d18337a7 amzn-s3-demo-bucket2 [16/Aug/2017:21:55:07 +0000] 209.118.103.150 6ec976a42247d687d5d1c87bb53e87c60c925765f87415f472d240c5d18337a7 CC487A9D90678CAB REST.HEAD.BUCKET - "HEAD /amzn-s3-demo-bucket2 HTTP/1.1" 404 NoSuchBucket 290 - 9 - "-" "aws-sdk-java/1.7.11" -"#

    /// The oldest shape: the fields up to the user agent only (17).
    static let oldest = #"6ec976a42247d687d5d1c87bb53e87c60c925765f87415f472d240c5d18337a7 amzn-s3-demo-bucket2 [16/Aug/2017:21:56:00 -0500] 209.118.103.151 svc:logging.s3.amazonaws.com 0A1B2C3D4E5F6A7B WEBSITE.GET.OBJECT index.html "GET /index.html HTTP/1.1" 304 - - 1024 3 - "-" "Mozilla/5.0""#

    static let all = [versioning, getObject, anonymousDenied, putObjectIPv6, older, oldest]

    /// Checks every normalised field against the line, read by an independent splitter
    /// (a regular expression) and Foundation's date parser.
    static func check(_ ev: Event, against line: String) throws {
        let pattern = #"^(\S+) (\S+) \[([^\]]+)\] (\S+) (\S+) (\S+) (\S+) (\S+) "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) "([^"]*)" "([^"]*)""#
        let re = try NSRegularExpression(pattern: pattern)
        let match = try #require(re.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)))
        let g = (0 ... 17).map { Substring(line[Range(match.range(at: $0), in: line)!]) }
        #expect(ev.time == oracleMillis(String(g[3]), format: "dd/MMM/yyyy:HH:mm:ss Z"))
        #expect(ev.account == "111122223333")
        #expect(ev.region == "us-west-1")
        #expect(ev.source == .s3access)
        #expect(ev.eventClass == .datastoreActivity)
        #expect(ev.srcIP == dashless(g[4]).flatMap { IPAddress($0) })
        #expect(ev.principal == dashless(g[5]))
        #expect(ev.eventID == dashless(g[6]))
        #expect(ev.action == dashless(g[7]))
        let key = dashless(g[8])
        #expect(ev.resource == String(g[2]) + (key.map { "/" + $0.removingPercentEncoding! } ?? ""))
        #expect(ev.resourceType == (key == nil ? "AWS::S3::Bucket" : "AWS::S3::Object"))
        #expect(ev.url == g[9].split(separator: " ").dropFirst().first.map(String.init))
        let status = Int64(g[10])
        #expect(ev.httpStatus == status)
        #expect(ev.outcome == (status.map { $0 < 400 ? .success : .failure } ?? .unknown))
        #expect(ev.errorCode == dashless(g[11]))
        #expect(ev.bytes == (Int64(g[12]) ?? 0))
        #expect(ev.userAgent == dashless(g[17]))
        #expect(ev.raw == Array(line.utf8))
        for absent in [ev.accessKey, ev.service, ev.queryName, ev.findingType, ev.title] { #expect(absent == nil) }
        #expect(ev.dstIP == nil && ev.srcPort == nil && ev.dstPort == nil && ev.proto == nil && ev.packets == nil)
    }

    @Test(arguments: all.indices)
    func everyFieldMatchesTheLine(_ i: Int) throws {
        let out = parseText(Self.all[i], format: .s3access, file: Self.path)
        #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))")
        let ev = try #require(out.events.first)
        try Self.check(ev, against: Self.all[i])
    }

    @Test func principalTypes() {
        let out = parseText(Self.all.joined(separator: "\n"), format: .s3access, file: Self.path)
        #expect(out.events.map(\.principalType) == ["CanonicalUser", "IAMUser", "Anonymous", "AssumedRole", "CanonicalUser", "AWSService"])
        #expect(out.events[2].principal == nil)
        #expect(S3AccessParser.arnPrincipalType("arn:aws:iam::111122223333:root") == "Root")
        #expect(S3AccessParser.arnPrincipalType("arn:aws:iam::111122223333:role/Admin") == "Role")
        #expect(S3AccessParser.arnPrincipalType("arn:aws:sts::111122223333:federated-user/bob") == "FederatedUser")
        #expect(S3AccessParser.arnPrincipalType("arn:aws:iam::111122223333") == nil)
    }

    @Test func namedValues() throws {
        let out = parseText([Self.getObject, Self.oldest].joined(separator: "\n"), format: .s3access, file: Self.path)
        let get = try #require(out.events.first)
        #expect(get.time == Timestamp.parse("2019-02-06T08:15:02Z"))
        #expect(get.resource == "amzn-s3-demo-bucket1/reports/2019/q1 summary.csv")
        #expect(get.url == "/amzn-s3-demo-bucket1/reports/2019/q1%20summary.csv?x-id=GetObject")
        #expect(get.bytes == 3462992)
        let old = try #require(out.events.last)
        #expect(old.time == Timestamp.parse("2017-08-17T02:56:00Z"))
        #expect(old.bytes == 0)
        #expect(old.outcome == .success)
    }

    /// A service name where the remote address would be is kept as the source service.
    @Test func aServiceNameAsRemoteAddress() throws {
        let line = Self.getObject.replacingOccurrences(of: "198.51.100.23", with: "access-analyzer.amazonaws.com")
        let out = parseText(line, format: .s3access, file: Self.path)
        let ev = try #require(out.events.first)
        #expect(out.quarantined.isEmpty)
        #expect(ev.srcIP == nil)
        #expect(ev.srcService == "access-analyzer.amazonaws.com")
    }

    @Test func badLinesAreQuarantinedAndTheRestKept() throws {
        let fewer = Self.getObject.split(separator: " ").prefix(16).joined(separator: " ")
        let bad: [(String, String)] = [
            (fewer, "too few fields: 13, at least 17"),
            (Self.getObject.replacingOccurrences(of: "06/Feb/2019", with: "06/Fub/2019"), "bad time"),
            (Self.getObject.replacingOccurrences(of: "+0200]", with: "+02x0]"), "bad time"),
            (Self.getObject.replacingOccurrences(of: "\" 200 -", with: "\" 2OO -"), "bad HTTP status"),
            (Self.getObject.replacingOccurrences(of: "198.51.100.23", with: "198.51.100.300"), "bad remote IP"),
            (Self.getObject.replacingOccurrences(of: "\" 200 - 3462992", with: "\" 200 - 34x62992"), "bad bytes sent"),
            (String(Self.getObject.prefix(while: { $0 != "\"" })) + "\"GET /unclosed", "unclosed quote or bracket"),
        ]
        let text = ([Self.versioning] + bad.map(\.0) + ["", "   ", Self.older]).joined(separator: "\n") + "\n"
        let out = parseText(text, format: .s3access, file: Self.path)
        #expect(out.events.map(rawText) == [Self.versioning, Self.older])
        #expect(out.quarantined.map(\.reason) == bad.map(\.1))
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == bad.map(\.0))
        #expect(out.quarantined.map(\.line) == Array(2 ... bad.count + 1))
        let second = try #require(out.quarantined.first)
        #expect(second.offset == Int64(Self.versioning.utf8.count + 1))
        #expect(out.records == 2 + bad.count)
    }

    @Test func binaryGarbageIsQuarantined() {
        let garbage: [UInt8] = [0x00, 0x01, 0x02, 0xFF, 0x10, 0x00, 0x1B, 0x7F]
        let bytes = Array(Self.versioning.utf8) + [0x0A] + garbage + [0x0A] + Array(Self.older.utf8)
        let out = parseText(bytes, format: .s3access, file: Self.path)
        #expect(out.events.count == 2)
        #expect(out.quarantined.map(\.reason) == ["binary data (non-text bytes)"])
        #expect(out.quarantined.first?.bytes == garbage)
    }

    @Test func nonUTF8InAFieldKeepsTheEventAndItsBytes() throws {
        var bytes = Array(Self.getObject.utf8)
        let python = try #require(Self.getObject.range(of: "Python"))
        let at = Self.getObject.utf8.distance(from: Self.getObject.startIndex, to: python.lowerBound)
        bytes.insert(contentsOf: [0xC3, 0x28, 0xFF], at: at) // inside the user agent
        let out = parseText(bytes, format: .s3access, file: Self.path)
        let ev = try #require(out.events.first)
        #expect(ev.raw == bytes)
        #expect(ev.userAgent?.contains("\u{FFFD}") == true)
        #expect(ev.userAgent?.hasSuffix("Python/3.11.8 Linux/6.5.0") == true)
    }

    @Test func accountFromTheOperatorOrQuarantine() throws {
        let none = parseText(Self.versioning, format: .s3access, file: "logs/2019-02-06-00-00-38-5A1B2C3D4E5F6A7B")
        #expect(none.events.isEmpty)
        #expect(none.quarantined.map(\.reason) == [ParseContext.noAccountReason])
        let given = parseText(Self.versioning, format: .s3access, file: "logs/x", account: "444455556666")
        let ev = try #require(given.events.first)
        #expect(ev.account == "444455556666")
        #expect(ev.region == nil)
    }

    @Test func recognition() {
        for line in Self.all {
            #expect(InputFormat.detect(prefix: Array((line + "\n").utf8), path: "logs/file") == .s3access)
        }
        let notS3 = [
            "2026-11-28 10:00:00 UTC::@:[1]:LOG:  starting",
            "#Version: 1.0",
            "abc amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3",
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be bucket 06/Feb/2019:00:00:38",
            "",
        ]
        for text in notS3 { #expect(!Array(text.utf8).withUnsafeBytes { S3AccessParser.recognises($0) }, "\(text)") }
    }
}
