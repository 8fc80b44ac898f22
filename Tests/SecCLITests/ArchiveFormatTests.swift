import Foundation
import SecIngest
import SecModel
import Testing
@testable import SecCLI

/// An archive line read back is the event that was written, field for field.
@Suite struct ArchiveFormatTests {
    /// Parses archive text for a store whose bank `acme-bank` has the log `log`.
    func parse(_ text: String, path: String = "archive/source=x/bank=acme-bank/a.ndjson", log: String = "0123456789abcdef") -> ParseOutput {
        let context = ParseContext(file: path)
        context.bankLogs = ["acme-bank": log]
        var out = Array(text.utf8).withUnsafeBytes { IngestParser.parse(bytes: $0, format: .archive, offset: 0, line: 1, context: context) }
        out.append(IngestParser.finish(format: .archive, context: context))
        return out
    }

    func sample() -> [Event] {
        var a = Event(time: 1_780_000_123_456, account: "111122223333", source: .cloudtrail, eventClass: .authentication,
                      raw: Array(#"{"eventID":"0b7e6d1c-1111-2222-3333-444455556666","note":"tab\there, quote \" and é"}"#.utf8))
        a.seq = 41; a.bank = "acme-bank"; a.region = "eu-west-1"; a.action = "ConsoleLogin"; a.outcome = .failure
        a.principal = "arn:aws:iam::111122223333:user/alice"; a.principalType = "IAMUser"; a.accessKey = "AKIAEXAMPLE"
        a.mfa = false; a.srcIP = IPAddress("2001:db8::7"); a.userAgent = "Mozilla/5.0 \"quoted\""; a.errorCode = "Failed authentication"
        a.eventID = "0b7e6d1c-1111-2222-3333-444455556666"
        var b = Event(time: 1_780_000_200_000, account: "111122224444", source: .vpcflow, eventClass: .networkActivity,
                      raw: [0xff, 0xfe, 0x00, 0x41, 0x0a])
        b.seq = 9_000_000_001; b.bank = "acme-bank"; b.srcIP = IPAddress("10.0.0.1"); b.dstIP = IPAddress("198.51.100.9")
        b.srcPort = 443; b.dstPort = 51_000; b.proto = 6; b.bytes = 1_234_567_890_123; b.packets = 0; b.region = ""
        b.outcome = .success; b.action = "ACCEPT"
        var c = Event(time: 1_780_000_300_000, account: "111122223333", source: .finding, eventClass: .detectionFinding,
                      raw: Array(#"{"type":"Recon:EC2/Portscan"}"#.utf8))
        c.seq = 7; c.bank = "acme-bank"; c.severity = 5.5; c.findingType = "Recon:EC2/Portscan"; c.title = "Portscan from 10.0.0.1"
        c.resource = "i-0abc"; c.resourceType = "AWS::EC2::Instance"; c.httpStatus = 200; c.url = "https://x/y?z=1"
        c.queryName = "example.com"; c.service = "ec2.amazonaws.com"; c.srcService = "guardduty.amazonaws.com"
        return [a, b, c]
    }

    @Test func linesReadBackAsTheEventsWritten() throws {
        let events = sample()
        let text = events.map { Archive.line($0, ou: "ou-retail", log: "0123456789abcdef") + "\n" }.joined()
        #expect(text.contains("\"raw_base64\":\"//4AQQo=\""), "a record that is not UTF-8 is kept as base64")
        let out = parse(text)
        #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))")
        try #require(out.events.count == events.count)
        for (got, want) in zip(out.events, events) {
            var expected = want
            expected.originSeq = want.seq
            expected.seq = 0
            #expect(got == expected)
        }
        // From another log (another store, or the bank created again): the same events,
        // without their old sequence numbers (restored as new ones).
        let foreign = parse(text, log: "fedcba9876543210")
        #expect(foreign.events.count == events.count && foreign.events.allSatisfy { $0.originSeq == 0 })
        #expect(zip(foreign.events, out.events).allSatisfy { a, b in var b = b; b.originSeq = 0; return a == b })
    }

    @Test func aBadLineIsRefusedWithItsReasonAndTheRestKept() {
        let good = Archive.line(sample()[0], ou: nil, log: nil)
        let noRaw = #"{"time":"2026-05-28T20:08:43.456Z","seq":3,"bank":"acme-bank","account":"111122223333","source":"cloudtrail","class":"api_activity"}"#
        let badAccount = #"{"time":"2026-05-28T20:08:43.456Z","seq":4,"bank":"acme-bank","account":"1234","source":"cloudtrail","class":"api_activity","raw":"{}"}"#
        let noSeq = #"{"time":"2026-05-28T20:08:43.456Z","bank":"acme-bank","account":"111122223333","source":"cloudtrail","class":"api_activity","raw":"{}"}"#
        let out = parse([good, noRaw, badAccount, noSeq, good].joined(separator: "\n") + "\n")
        #expect(out.events.count == 2)
        #expect(out.quarantined.map(\.reason) == ["archive line has no raw record (raw or raw_base64)",
                                                  "archive line has no 12-digit account",
                                                  "archive line has no seq (its sequence number in its bank)"])
    }

    /// The format a refused archive line's raw record is kept under, and which formats'
    /// records are known by their place in a file.
    @Test func formatsOfSources() {
        #expect(InputFormat(recordOf: .cloudtrail) == .cloudtrail)
        #expect(InputFormat(recordOf: .nlb) == .nlb)
        #expect(InputFormat(recordOf: .config) == .config)
        #expect(InputFormat(recordOf: .rds) == nil && InputFormat(recordOf: .finding) == nil)
        let positional = InputFormat.allCases.filter(\.isPositional).map(\.rawValue).sorted()
        #expect(positional == ["alb", "cloudfront", "elb", "nlb", "rds-mysql", "rds-postgres", "route53", "s3access", "vpcflow"])
    }

    @Test func archivesAreRecognisedByPathAndContentAndManifestsSkipped() {
        let line = Archive.line(sample()[0], ou: nil, log: nil) + "\n"
        #expect(InputFormat.detect(prefix: Array(line.utf8), path: "/restore/batch.json") == .archive)
        #expect(InputFormat.detect(prefix: Array("x".utf8), path: "/a/source=vpcflow/bank=b/account=1/region=r/day=d/seq-1-2.ndjson.gz") == .archive)
        let manifest = #"{\#n  "bank" : "acme-bank",\#n  "events" : 2,\#n  "files" : []\#n}"#
        #expect(InputFormat.detect(prefix: Array(manifest.utf8), path: "/a/_manifest-acme-bank.json") == .archive)
        let out = parse(manifest, path: "/a/_manifest-acme-bank.json")
        #expect(out.events.isEmpty && out.quarantined.isEmpty)
        #expect(out.warnings.first?.contains("archive manifest, not events; skipped") == true)
    }
}
