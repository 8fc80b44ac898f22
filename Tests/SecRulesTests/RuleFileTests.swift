import Foundation
import SecDetect
import SecModel
import SecQuery
import Testing
@testable import SecRules

@Suite struct RuleFileTests {
    // MARK: - The built-ins written as rule files

    @Test func passwordPolicyChange() {
        let r = builtIn("cloudtrail.password-policy-change")
        let hits = run(r, [ct("UpdateAccountPasswordPolicy", params: #"{"minimumPasswordLength":6}"#)])
        #expect(types(hits) == ["Stealth:IAMUser/PasswordPolicyChange"])
        #expect(hits.first?.title == "The password policy of account 111122223333 was changed")
        #expect(hits.first?.aggregationKey == [])
        #expect(run(r, [ct("GetAccountPasswordPolicy"), ct("DeleteAccountPasswordPolicy", error: "AccessDenied"),
                        ct("UpdateAccountPasswordPolicy", source: "sso.amazonaws.com")]).isEmpty)
    }

    @Test func penTestUserAgents() {
        let rules = ["kali", "parrot", "pentoo"].map { builtIn("cloudtrail.pentest-\($0)") }
        let events = [ct("ListUsers", ua: "aws-cli/1.18.69 Python/3.8.5 Linux/5.7.0-kali1-amd64 botocore/1.17.0"),
                      ct("ListUsers", ua: "Boto3/1.26 Python/3.11 Linux/6.1.0-parrot-amd64"),
                      ct("ListUsers", ua: "aws-cli/2 Linux/5.15-pentoo")]
        var set = DetectorSet(rules)
        let hits = events.flatMap { set.observe($0) }
        #expect(types(hits) == ["PenTest:IAMUser/KaliLinux", "PenTest:IAMUser/ParrotLinux", "PenTest:IAMUser/PentooLinux"])
        #expect(hits.first?.title == "ListUsers was called from a Kali Linux machine")
        #expect(hits.first?.aggregationKey == ["arn:aws:iam::111122223333:user/alice"])
        var quiet = DetectorSet(rules)
        #expect([ct("ListUsers", ua: "aws-cli/2 Linux/5.15 alkaline-tools"), ct("ListUsers", ua: "parrotsec-fan/1.0")]
            .flatMap { quiet.observe($0) }.isEmpty)
    }

    @Test func builtInIDsDoNotRepeat() {
        let ids = BuiltInDetectors.all().map(\.id) + BuiltInRules.rules.map(\.id)
        #expect(Set(ids).count == ids.count)
    }

    // MARK: - Loading

    static let whereRule = """
    id: custom.delete-bucket
    finding_type: Impact:S3/BucketDeleted.Custom
    severity: 6.5
    title: "Bucket {raw.requestParameters.bucketName} deleted by {principal}"
    sources: [cloudtrail]
    aggregation_key: [raw.requestParameters.bucketName]
    where: action == "DeleteBucket" and outcome == "success"
    """

    @Test func loadsWhereRule() throws {
        let r = try RuleLoader.parse(Self.whereRule, file: "delete.yml")
        #expect(r.id == "custom.delete-bucket" && r.kind == "where" && r.severity == 6.5 && r.sources == [.cloudtrail])
        let hits = run(r.detector, [ct("DeleteBucket", source: "s3.amazonaws.com", params: #"{"bucketName":"logs"}"#),
                                    ct("DeleteBucket", source: "s3.amazonaws.com", params: #"{"bucketName":"x"}"#, error: "AccessDenied"),
                                    ct("CreateBucket", source: "s3.amazonaws.com", params: #"{"bucketName":"logs"}"#)])
        #expect(hits.count == 1)
        #expect(hits.first?.title == "Bucket logs deleted by arn:aws:iam::111122223333:user/alice")
        #expect(hits.first?.aggregationKey == ["logs"])
        #expect(hits.first?.description == hits.first?.title)
    }

    static let thresholdRule = """
    id: custom.denied-burst
    finding_type: Discovery:IAMUser/DeniedBurst.Custom
    severity: 5
    title: "{principal} was denied {count} times"
    threshold:
      where: error_code == "AccessDenied"
      count: 3
      by: [principal]
      window: 10m
    """

    @Test func thresholdFiresWithinWindowOnly() throws {
        let r = try RuleLoader.parse(Self.thresholdRule, file: "t.yml")
        #expect(r.kind == "threshold" && r.aggregationKey.map(\.name) == ["principal"])
        // Three denials within 10 minutes (0 s, 300 s, 600 s: the window is inclusive).
        let hits = run(r.detector, [0, 300, 600].map { ct("ListUsers", seconds: $0, error: "AccessDenied") })
        #expect(hits.count == 1)
        #expect(hits.first?.title == "arn:aws:iam::111122223333:user/alice was denied 3 times")
        #expect(hits.first?.evidence.count == 3)
        // One second too far apart: the first has left the window.
        #expect(run(r.detector, [0, 300, 601].map { ct("ListUsers", seconds: $0, error: "AccessDenied") }).isEmpty)
        // Successes do not count.
        #expect(run(r.detector, [0, 1, 2].map { ct("ListUsers", seconds: $0) }).isEmpty)
        // Another principal is another group.
        let bob = #"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accountId":"111122223333","userName":"bob"}"#
        #expect(run(r.detector, [ct("ListUsers", seconds: 0, error: "AccessDenied"),
                                 ct("ListUsers", identity: bob, seconds: 1, error: "AccessDenied"),
                                 ct("ListUsers", seconds: 2, error: "AccessDenied")]).isEmpty)
    }

    @Test func thresholdDistinct() throws {
        let text = """
        id: custom.many-regions
        finding_type: Discovery:IAMUser/ManyRegions.Custom
        severity: 4.0
        title: "{principal} called from {count} addresses"
        threshold: {where: 'source == "cloudtrail"', distinct: src_ip, count: 3, by: [principal], window: 1h}
        """
        let r = try RuleLoader.parse(text, file: "d.yml")
        // The same address three times is one distinct value.
        #expect(run(r.detector, [0, 1, 2].map { ct("ListUsers", ip: "44.1.1.1", seconds: $0) }).isEmpty)
        let hits = run(r.detector, ["44.1.1.1", "44.1.1.1", "44.1.1.2", "44.1.1.3"].enumerated().map {
            ct("ListUsers", ip: $0.element, seconds: $0.offset)
        })
        #expect(hits.count == 1 && hits[0].title.hasSuffix("from 3 addresses"))
    }

    static let sequenceRule = """
    id: custom.key-then-admin
    finding_type: PrivilegeEscalation:IAMUser/KeyThenAdmin.Custom
    severity: 8.0
    title: "{principal} created a key, then attached a policy ({action})"
    sequence:
      by: [principal]
      within: 5m
      steps:
        - action == "CreateAccessKey"
        - |
          action == "AttachUserPolicy"
            and raw.requestParameters.policyArn endswith "AdministratorAccess"
    """

    @Test func sequenceFiresInOrderWithinTime() throws {
        let r = try RuleLoader.parse(Self.sequenceRule, file: "s.yml")
        #expect(r.kind == "sequence")
        let attach = { (s: Int) in ct("AttachUserPolicy", params: #"{"userName":"x","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#, seconds: s) }
        let hits = run(r.detector, [ct("CreateAccessKey", seconds: 0), ct("ListUsers", seconds: 10), attach(300)])
        #expect(hits.count == 1 && hits[0].evidence.count == 2)
        #expect(hits.first?.title == "arn:aws:iam::111122223333:user/alice created a key, then attached a policy (AttachUserPolicy)")
        // Too late (301 s), wrong order, or the second step alone: quiet.
        #expect(run(r.detector, [ct("CreateAccessKey", seconds: 0), attach(301)]).isEmpty)
        #expect(run(r.detector, [attach(0), ct("CreateAccessKey", seconds: 10)]).isEmpty)
        #expect(run(r.detector, [attach(0)]).isEmpty)
        // After an expired start, a new first step starts over.
        #expect(run(r.detector, [ct("CreateAccessKey", seconds: 0), ct("CreateAccessKey", seconds: 400), attach(500)]).count == 1)
    }

    /// Saving the state after each prefix and restoring it into a fresh detector gives the
    /// same findings and the same final state bytes as one uninterrupted run.
    @Test func savedStateResumesExactly() throws {
        let rules = [try RuleLoader.parse(Self.thresholdRule, file: "t.yml"), try RuleLoader.parse(Self.sequenceRule, file: "s.yml")]
        let attach = { (s: Int) in ct("AttachUserPolicy", params: #"{"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#, seconds: s) }
        var events = [ct("ListUsers", seconds: 0, error: "AccessDenied"), ct("CreateAccessKey", seconds: 5),
                      ct("ListUsers", seconds: 20, error: "AccessDenied"), attach(30),
                      ct("ListUsers", seconds: 40, error: "AccessDenied"), ct("CreateAccessKey", seconds: 50),
                      ct("ListUsers", seconds: 700, error: "AccessDenied")]
        for i in events.indices { events[i].seq = UInt64(i + 1) }
        for rule in rules {
            var whole = rule.detector
            let all = events.flatMap { whole.observe($0) }
            #expect(!all.isEmpty)
            for cut in 0...events.count {
                var first = rule.detector
                var found = events[..<cut].flatMap { first.observe($0) }
                let bytes = try first.saveState()
                var second = rule.detector
                try second.loadState(bytes)
                found += events[cut...].flatMap { second.observe($0) }
                #expect(found == all, "\(rule.id) cut at \(cut)")
                #expect(try second.saveState() == whole.saveState())
            }
        }
        // Sorted-key JSON: equal states, equal bytes.
        var d = rules[0].detector
        _ = d.observe(events[0])
        let s = String(decoding: try d.saveState(), as: UTF8.self)
        #expect(s.hasPrefix(#"{"partials":{},"windows":{"keys":{"#))
    }

    // MARK: - Errors name the file, line and column, with a caret

    func failure(_ text: String) -> RuleFileError? {
        do { _ = try RuleLoader.parse(text, file: "rules/bad.yml"); return nil } catch { return error }
    }

    @Test func errorsCarryTheirPlace() throws {
        let cases: [(String, line: Int, column: Int, message: String)] = [
            // An expression error points inside the expression, in the file.
            (Self.whereRule.replacingOccurrences(of: #"action == "DeleteBucket""#, with: #"actoin == "DeleteBucket""#),
             7, 8, "unknown field 'actoin'"),
            (Self.whereRule.replacingOccurrences(of: "Impact:S3/BucketDeleted.Custom", with: "BucketDeleted"), 2, 15, "'BucketDeleted' is not a finding type"),
            (Self.whereRule.replacingOccurrences(of: "6.5", with: "11"), 3, 11, "'severity' must be a number from 1.0 to 10.0"),
            (Self.whereRule.replacingOccurrences(of: "sources:", with: "source:"), 5, 1, "unknown key 'source'"),
            (Self.whereRule.replacingOccurrences(of: "{principal}", with: "{princpal}"), 4, 62, "unknown field 'princpal' in the template"),
            (Self.whereRule + "\nthreshold: {where: 'x == 1', count: 2, window: 1m}", 8, 1,
             "a rule has one of 'where', 'threshold' or 'sequence', not both 'where' and 'threshold'"),
            (Self.thresholdRule.replacingOccurrences(of: "10m", with: "10 minutes"), 9, 11, "'window' must be a duration from 1ms to 30d, like 10m"),
            (Self.thresholdRule.replacingOccurrences(of: "count: 3", with: "count: 0"), 7, 10, "'count' must be a whole number from 1 to 1000"),
            (Self.thresholdRule.replacingOccurrences(of: "by: [principal]", with: "by: [principle]"), 8, 8, "unknown field 'principle'"),
            // In a block scalar, at the end of its second line.
            (Self.sequenceRule.replacingOccurrences(of: "endswith \"AdministratorAccess\"", with: "endswith"), 12, 53, "expected"),
            (Self.sequenceRule.replacingOccurrences(of: "and raw.requestParameters.policyArn", with: "and bogus"), 12, 13,
             "unknown field 'bogus'"),
            ("id: x\n  bad: [\n", 2, 6, "not valid YAML"),
            ("id: a\nfinding_type: A:B/C\nseverity: 2\ntitle: t\n", 1, 1, "a rule needs one of 'where', 'threshold' or 'sequence'"),
        ]
        for (text, line, column, message) in cases {
            guard let e = failure(text) else { Issue.record("loaded: \(text)"); continue }
            #expect(e.location == SourceLocation(line: line, column: column), "\(e.description)")
            #expect(e.message.hasPrefix(message), "\(e.message)")
            #expect(e.description.contains("--> rules/bad.yml:\(line):\(column)"))
            #expect(e.description.contains("^"))
        }
        // The rendering shows the file's line and a caret under the place.
        let e = try #require(failure(Self.whereRule.replacingOccurrences(of: #"action == "DeleteBucket""#, with: #"actoin == "DeleteBucket""#)))
        #expect(e.description.contains("""
          |
        7 | where: actoin == "DeleteBucket" and outcome == "success"
          |        ^^^^^^
        """))
    }

    @Test func idsMustNotRepeat() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secq-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.whereRule.write(to: dir.appendingPathComponent("a.yml"), atomically: true, encoding: .utf8)
        try Self.whereRule.write(to: dir.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
        try Self.whereRule.replacingOccurrences(of: "custom.delete-bucket", with: "cloudtrail.pentest-kali")
            .write(to: dir.appendingPathComponent("c.yml"), atomically: true, encoding: .utf8)
        let r = RuleSet.load([dir.path])
        #expect(r.map(\.status) == [.loaded, .invalid, .invalid])
        #expect(r[1].message?.contains("already used") == true)
    }
}
