import Foundation
import SecIngest
import SecModel
import Testing
@testable import SecDetect

/// Records as the logs hold them, parsed by the project's parsers.
enum Logs {
    static func parse(_ text: String, _ format: InputFormat, file: String, account: String? = nil) -> [Event] {
        let bytes = Array(text.utf8)
        let out = bytes.withUnsafeBytes { IngestParser.parse(bytes: $0, file: file, format: format, account: account) }
        precondition(out.quarantined.isEmpty, "fixture did not parse: \(out.quarantined.map(\.reason))")
        return out.events.map { var e = $0; e.bank = "acme"; return e }
    }

    /// A Route 53 Resolver query log line (the Developer Guide's shape) from instance
    /// `i-0abc`; `answers` are `(type, rdata)` pairs.
    static func query(_ name: String, rcode: String = "NOERROR", answers: [(String, String)] = [], seconds: Int,
                      instance: String = "i-0abc") -> Event {
        let ans = answers.map { #"{"Rdata":"\#($0.1)","Type":"\#($0.0)","Class":"IN"}"# }.joined(separator: ",")
        let line = """
        {"version":"1.100000","account_id":"\(account)","region":"us-east-1","vpc_id":"vpc-0a1b2c3d4e5f60718",\
        "query_timestamp":"\(Timestamp.rfc3339(millis: at(seconds)))","query_name":"\(name).","query_type":"A",\
        "query_class":"IN","rcode":"\(rcode)","answers":[\(ans)],"srcaddr":"10.0.0.5","srcport":"53000",\
        "transport":"UDP","srcids":{"instance":"\(instance)"}}
        """
        return parse(line, .route53, file: "AWSLogs/\(account)/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/q.log").first!
    }

    /// A PostgreSQL log entry of RDS instance `db-main` (prefix `%t:%r:%u@%d:[%p]:`).
    static func postgres(_ message: String, level: String = "LOG", ip: String, seconds: Int) -> Event {
        let t = Date(timeIntervalSince1970: Double(at(seconds)) / 1000)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let line = "\(f.string(from: t)) UTC:\(ip)(53422):app@payments:[4242]:\(level):  \(message)\n"
        return parse(line, .rdsPostgres, file: "rds/aws/rds/instance/db-main/postgresql/postgresql.log.2026-11-02-10",
                     account: account)[0]
    }

    static func pgFailed(ip: String, seconds: Int) -> Event {
        postgres(#"password authentication failed for user "app""#, level: "FATAL", ip: ip, seconds: seconds)
    }

    static func pgConnected(ip: String, seconds: Int) -> Event {
        postgres("connection authorized: user=app database=payments application_name=psql", ip: ip, seconds: seconds)
    }

    /// An S3 server access log line (the S3 User Guide's shape) for bucket `data-bucket`.
    static func s3access(_ operation: String, key: String = "-", ip: String, seconds: Int) -> Event {
        let t = Date(timeIntervalSince1970: Double(at(seconds)) / 1000)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "dd/MMM/yyyy:HH:mm:ss"
        let method = operation.split(separator: ".")[1]
        let line = #"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be data-bucket [\#(f.string(from: t)) +0000] \#(ip) arn:aws:iam::111122223333:user/alice 891CE47D2EXAMPLE \#(operation) \#(key) "\#(method) /data-bucket/\#(key) HTTP/1.1" 200 - 3462 3462 70 10 "-" "aws-cli/2.15.30" - 9vKBE6vMhrNiWHZmb2L0mXOcqPGzQOI5XLnCtZNPxev= SigV4 TLS_AES_128_GCM_SHA384 AuthHeader data-bucket.s3.us-east-1.amazonaws.com TLSv1.3 - -"#
        return parse(line, .s3access, file: "s3-logs/\(account)/us-east-1/data-bucket/2026/11/02/2026-11-02-10-00-00-5A1B2C3D4E5F6A7B")[0]
    }
}

@Suite struct DNSDetectorTests {
    /// Generated names in the style of known families (Conficker: 4-10 random letters;
    /// CryptoLocker: 12-15; Ramnit; digit-mixing generators), and real names, long CDN
    /// and AWS ones included, that must not score as generated.
    static let generated = ["qwlmhqdk.info", "bvtjfmhx.biz", "kqvlbslthnvd.net", "xbkwwfkqwmyvm.org", "bdelmjakrusjhm.com",
                            "fjxwnbvrqyep.ru", "nvpqsxmrlgtk.co.uk", "a3f9k2m8q1z7.com", "ywqmzlfkcv.ws", "cgsjwmnrk.cn"]
    static let real = ["www.googleapis.com", "cloudflare.com", "login.microsoftonline.com", "e1234.dscx.akamaiedge.net",
                       "d111111abcdef8.cloudfront.net", "my-bucket.s3.dualstack.us-east-1.amazonaws.com",
                       "ip-10-0-0-5.ec2.internal", "5.0.0.10.in-addr.arpa", "objects.githubusercontent.com",
                       "files.pythonhosted.org", "api.datadoghq.eu", "www.wellsfargo.com", "tiktokcdn.com",
                       "splunkcloud.com", "registry.npmjs.org", "securitytoken.servicecontrolpolicy.com",
                       "www.bankofamerica.com", "fonts.gstatic.com", "stackoverflow.com", "connect.facebook.net",
                       "xn--bcher-kva.example", "acme-bank-payments-prod.example-bank.co.uk"]

    @Test func dgaScoreSeparatesGeneratedFromRealNames() {
        for n in Self.generated { #expect(DGAScore.looksGenerated(n), "\(n): \(DGAScore.score(n) ?? -1)") }
        for n in Self.real { #expect(!DGAScore.looksGenerated(n), "\(n): \(DGAScore.score(n) ?? -1)") }
        #expect(DGAScore.label("www.kqvlbslthnvd.net") == "kqvlbslthnvd")
        #expect(DGAScore.score("x.y.ec2.internal") == nil && DGAScore.score("short.com") == nil)
    }

    @Test func dgaDomainRequest() {
        let nx = Self.generated.prefix(5).enumerated().map { Logs.query($1, rcode: "NXDOMAIN", seconds: $0 * 30) }
        #expect(nx.allSatisfy { $0.errorCode == "NXDOMAIN" && $0.resource == "i-0abc" })
        let hits = run(DGADomainRequestDetector(), nx)
        #expect(hits.map(\.type.description) == ["Trojan:EC2/DGADomainRequest.B"])
        #expect(hits.first?.aggregationKey == ["i-0abc"] && hits.first?.evidence.count == 5)
        // Near misses: the same names answered; four of them; one name five times; real
        // names unanswered; five names from five instances; spread over more than 10 minutes.
        #expect(run(DGADomainRequestDetector(), Self.generated.prefix(5).enumerated().map {
            Logs.query($1, answers: [("A", "44.1.2.3")], seconds: $0) }).isEmpty)
        #expect(run(DGADomainRequestDetector(), Array(nx.prefix(4))).isEmpty)
        #expect(run(DGADomainRequestDetector(), (0..<5).map { Logs.query("qwlmhqdk.info", rcode: "NXDOMAIN", seconds: $0) }).isEmpty)
        #expect(run(DGADomainRequestDetector(), Self.real.enumerated().map { Logs.query($1, rcode: "NXDOMAIN", seconds: $0) }).isEmpty)
        #expect(run(DGADomainRequestDetector(), Self.generated.prefix(5).enumerated().map {
            Logs.query($1, rcode: "NXDOMAIN", seconds: $0, instance: "i-0\($0)") }).isEmpty)
        #expect(run(DGADomainRequestDetector(), Self.generated.prefix(5).enumerated().map {
            Logs.query($1, rcode: "NXDOMAIN", seconds: $0 * 200) }).isEmpty)
    }

    @Test func metadataDNSRebind() {
        let rebind = Logs.query("imds.attacker-rebind.example", answers: [("A", "169.254.169.254")], seconds: 0)
        let hits = run(MetadataDNSRebindRule(), [rebind])
        #expect(hits.map(\.type.description) == ["UnauthorizedAccess:EC2/MetadataDNSRebind"])
        #expect(hits.first?.aggregationKey == ["i-0abc", "attacker-rebind.example"])
        let v6 = Logs.query("x.rebind6.example", answers: [("CNAME", "y.rebind6.example."), ("AAAA", "FD00:EC2::254")], seconds: 1)
        #expect(run(MetadataDNSRebindRule(), [v6]).count == 1, "IPv6 metadata address, any case, behind a CNAME")
        // Near misses: the service's own names; a neighbouring link-local address; an
        // ordinary answer.
        #expect(run(MetadataDNSRebindRule(), [
            Logs.query("instance-data.ec2.internal", answers: [("A", "169.254.169.254")], seconds: 0),
            Logs.query("instance-data.eu-west-1.compute.internal", answers: [("A", "169.254.169.254")], seconds: 0),
            Logs.query("x.rebind.example", answers: [("A", "169.254.169.253")], seconds: 0),
            Logs.query("x.rebind.example", answers: [("TXT", "\\\"169.254.169.254\\\"")], seconds: 0),
            Logs.query("www.example.com", answers: [("A", "93.184.216.34")], seconds: 0),
        ]).isEmpty)
    }
}

@Suite struct DataDetectorTests {
    @Test func rdsFailedLogin() {
        let fails = (0..<20).map { Logs.pgFailed(ip: "44.2.2.2", seconds: $0 * 10) }
        #expect(fails.allSatisfy { $0.action == "auth_failed" && $0.resource == "db-main/payments" })
        let hits = run(RDSFailedLoginDetector(), fails)
        #expect(hits.map(\.type.description) == ["CredentialAccess:RDS/AnomalousBehavior.FailedLogin"])
        #expect(hits.first?.aggregationKey == ["db-main/payments", "44.2.2.2"] && hits.first?.severity == 2.0)
        // Near misses: 19 failures; a success among them; failures from 20 addresses;
        // failures spread over more than the hour.
        #expect(run(RDSFailedLoginDetector(), Array(fails.prefix(19))).isEmpty)
        let interrupted = Array(fails.prefix(10)) + [Logs.pgConnected(ip: "44.2.2.2", seconds: 101)] + Array(fails.suffix(10))
        #expect(run(RDSFailedLoginDetector(), interrupted).isEmpty)
        #expect(run(RDSFailedLoginDetector(), (0..<20).map { Logs.pgFailed(ip: "44.2.2.\($0 + 1)", seconds: $0) }).isEmpty)
        #expect(run(RDSFailedLoginDetector(), (0..<20).map { Logs.pgFailed(ip: "44.2.2.2", seconds: $0 * 200) }).isEmpty)
        // The same failures then a success also give SuccessfulBruteForce.
        let brute = fails + [Logs.pgConnected(ip: "44.2.2.2", seconds: 300)]
        #expect(run(RDSBruteForceDetector(), brute).map(\.type.description) == ["CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce"])
    }

    @Test func s3MaliciousIPCaller() throws {
        let intel = ThreatIntel(threats: try IndicatorList(text: "44.66.0.0/16\n", file: "t"))
        let rule = S3MaliciousIPCallerRule(intel: intel)
        let bucket = #"{"bucketName":"data-bucket","Host":"data-bucket.s3.us-east-1.amazonaws.com"}"#
        let object = #"{"bucketName":"data-bucket","key":"reports/q1.csv","Host":"data-bucket.s3.us-east-1.amazonaws.com"}"#
        let cases: [(Event, String)] = [
            (ct("ListObjects", source: "s3.amazonaws.com", params: bucket, ip: "44.66.1.2"), "Discovery"),
            (ct("GetBucketAcl", source: "s3.amazonaws.com", params: bucket, ip: "44.66.1.2"), "Discovery"),
            (ct("GetObject", source: "s3.amazonaws.com", params: object, ip: "44.66.1.2"), "Exfiltration"),
            (ct("CopyObject", source: "s3.amazonaws.com", params: object, ip: "44.66.1.2"), "Exfiltration"),
            (ct("PutBucketPolicy", source: "s3.amazonaws.com", params: bucket, ip: "44.66.1.2"), "Impact"),
            (ct("DeleteObject", source: "s3.amazonaws.com", params: object, ip: "44.66.1.2", error: "AccessDenied"), "Impact"),
            (Logs.s3access("REST.HEAD.BUCKET", ip: "44.66.1.2", seconds: 0), "Discovery"),
            (Logs.s3access("REST.GET.OBJECT_ACL", key: "a.csv", ip: "44.66.1.2", seconds: 0), "Discovery"),
            (Logs.s3access("REST.GET.OBJECT", key: "a.csv", ip: "44.66.1.2", seconds: 0), "Exfiltration"),
            (Logs.s3access("REST.PUT.OBJECT", key: "a.csv", ip: "44.66.1.2", seconds: 0), "Impact"),
            (Logs.s3access("REST.DELETE.OBJECT", key: "a.csv", ip: "44.66.1.2", seconds: 0), "Impact"),
        ]
        for (e, purpose) in cases {
            let hits = run(rule, [e])
            #expect(hits.map(\.type.description) == ["\(purpose):S3/MaliciousIPCaller.Custom"], "\(e.source) \(e.action ?? "")")
            #expect(hits.first?.aggregationKey == ["data-bucket", "44.66.1.2"])
        }
        // Near misses: the same calls from an unlisted address; a listed address calling IAM.
        #expect(run(rule, [ct("GetObject", source: "s3.amazonaws.com", params: object, ip: "44.67.1.2"),
                           Logs.s3access("REST.GET.OBJECT", key: "a.csv", ip: "44.67.1.2", seconds: 0),
                           ct("ListUsers", ip: "44.66.1.2")]).isEmpty)
    }

    @Test func deletingTheTrailBucketDisablesLogging() {
        let create = ct("CreateTrail", source: "cloudtrail.amazonaws.com",
                        params: #"{"name":"org-trail","s3BucketName":"acme-cloudtrail-logs","isMultiRegionTrail":true}"#,
                        response: #"{"name":"org-trail","s3BucketName":"acme-cloudtrail-logs","trailARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail"}"#)
        let delete = ct("DeleteBucket", source: "s3.amazonaws.com",
                        params: #"{"bucketName":"acme-cloudtrail-logs","Host":"acme-cloudtrail-logs.s3.amazonaws.com"}"#, seconds: 60)
        let hits = run(TrailBucketDeletionDetector(), [create, delete])
        #expect(hits.map(\.type.description) == ["Stealth:IAMUser/CloudTrailLoggingDisabled"])
        #expect(hits.first?.aggregationKey == ["org-trail"] && hits.first?.resource == "org-trail")
        #expect(hits.first?.findingID == run(CloudTrailLoggingDisabledRule(), [ct("StopLogging", source: "cloudtrail.amazonaws.com",
            params: #"{"name":"org-trail"}"#)]).first?.findingID, "one finding with the trail's other disabling causes")
        let policy = ct("DeleteBucketPolicy", source: "s3.amazonaws.com", params: #"{"bucketName":"acme-cloudtrail-logs"}"#, seconds: 60)
        #expect(run(TrailBucketDeletionDetector(), [create, policy]).count == 1)
        // Near misses: an unrelated bucket; the trail bucket with no trail seen; a failed
        // delete; the trail moved to another bucket first; another account's trail.
        let other = ct("DeleteBucket", source: "s3.amazonaws.com", params: #"{"bucketName":"acme-scratch"}"#, seconds: 60)
        #expect(run(TrailBucketDeletionDetector(), [create, other]).isEmpty)
        #expect(run(TrailBucketDeletionDetector(), [delete]).isEmpty)
        let failed = ct("DeleteBucket", source: "s3.amazonaws.com", params: #"{"bucketName":"acme-cloudtrail-logs"}"#,
                        seconds: 60, error: "BucketNotEmpty")
        #expect(run(TrailBucketDeletionDetector(), [create, failed]).isEmpty)
        let moved = ct("UpdateTrail", source: "cloudtrail.amazonaws.com", params: #"{"name":"org-trail","s3BucketName":"acme-trail-v2"}"#, seconds: 30)
        #expect(run(TrailBucketDeletionDetector(), [create, moved, delete]).isEmpty)
        #expect(run(TrailBucketDeletionDetector(), [create, moved, ct("DeleteBucket", source: "s3.amazonaws.com",
            params: #"{"bucketName":"acme-trail-v2"}"#, seconds: 60)]).count == 1)
        var elsewhere = delete
        elsewhere.account = "444455556666"
        #expect(run(TrailBucketDeletionDetector(), [create, elsewhere]).isEmpty)
    }

    @Test func trailBucketStateIsBoundedAndSurvivesSaveAndLoad() throws {
        var d = TrailBucketDeletionDetector(maxBuckets: 3)
        let creates = (0..<5).map { ct("CreateTrail", source: "cloudtrail.amazonaws.com",
                                        params: #"{"name":"t\#($0)","s3BucketName":"b\#($0)"}"#, seconds: $0) }
        _ = run(&d, creates)
        #expect(d.state.buckets.keys.sorted() == ["\(account)|b2", "\(account)|b3", "\(account)|b4"])
        var restored = TrailBucketDeletionDetector(maxBuckets: 3)
        try restored.loadState(try d.saveState())
        #expect(try restored.saveState() == d.saveState())
        #expect(run(&restored, [ct("DeleteBucket", source: "s3.amazonaws.com", params: #"{"bucketName":"b4"}"#, seconds: 9)]).count == 1)
        #expect(run(&restored, [ct("DeleteBucket", source: "s3.amazonaws.com", params: #"{"bucketName":"b0"}"#, seconds: 9)]).isEmpty)
    }
}
