import Foundation
import SecDetect
import SecIngest
import SecModel
import Testing
@testable import SecRules

@Suite struct SigmaTests {
    func sigma(_ detection: String, level: String = "high", tags: String = "[attack.defense-evasion]") throws -> Rule {
        try SigmaRule.parse("""
        title: Test Rule - one
        id: 0000-1111
        logsource:
            product: aws
            service: cloudtrail
        detection:
        \(detection)
        level: \(level)
        tags: \(tags)
        """, file: "t.yml")
    }

    func fires(_ r: Rule, _ e: Event) -> Bool { !run(r.detector, [e]).isEmpty }

    @Test func typeSeverityAndID() throws {
        let r = try sigma("    selection:\n        eventName: StopLogging\n    condition: selection")
        #expect(r.id == "sigma.0000-1111")
        #expect(r.findingType.description == "DefenseEvasion:IAMUser/Sigma.TestRuleOne")
        #expect(r.severity == 7.0)
        #expect(try sigma("    selection:\n        eventName: X\n    condition: selection", level: "informational", tags: "[]").severity == 1.0)
        #expect(try sigma("    selection:\n        eventName: X\n    condition: selection", level: "critical", tags: "[]")
            .findingType.description == "Unknown:IAMUser/Sigma.TestRuleOne")
        #expect(SigmaRule.findingType(title: "Trail off", tags: ["attack.t1685.002", "attack.defense-impairment"])
            == "Stealth:IAMUser/Sigma.TrailOff")
        let hit = run(r.detector, [ct("StopLogging", source: "cloudtrail.amazonaws.com")])
        #expect(hit.first?.title == "Test Rule - one: StopLogging by arn:aws:iam::111122223333:user/alice")
    }

    @Test func selectionsAndLists() throws {
        // A map is an AND; a list of values an OR; equality ignores case.
        let r = try sigma("""
            selection:
                eventSource: iam.amazonaws.com
                eventName:
                    - CreateUser
                    - createaccesskey
            condition: selection
        """)
        #expect(fires(r, ct("CreateUser")) && fires(r, ct("CreateAccessKey")))
        #expect(!fires(r, ct("DeleteUser")) && !fires(r, ct("CreateUser", source: "sso.amazonaws.com")))
        // A list of maps is an OR of ANDs.
        let l = try sigma("""
            selection:
                - eventName: CreateUser
                  userAgent|contains: boto
                - eventName: DeleteUser
            condition: selection
        """)
        #expect(fires(l, ct("CreateUser", ua: "Boto3/1.2")) && fires(l, ct("DeleteUser")))
        #expect(!fires(l, ct("CreateUser")))
    }

    @Test func modifiers() throws {
        let s = try sigma("    selection:\n        userAgent|startswith: 'aws-cli/2'\n        userAgent|endswith: 'Python/3.11'\n    condition: selection")
        #expect(fires(s, ct("X", ua: "AWS-CLI/2.15.0 Python/3.11")) && !fires(s, ct("X", ua: "aws-cli/1.1 Python/3.11")))
        let all = try sigma("    selection:\n        userAgent|contains|all: [boto, linux]\n    condition: selection")
        #expect(fires(all, ct("X", ua: "Boto3 Linux/6")) && !fires(all, ct("X", ua: "Boto3 Darwin")))
        let re = try sigma("    selection:\n        eventName|re: '^Get.*Token$'\n    condition: selection")
        #expect(fires(re, ct("GetSessionToken")) && !fires(re, ct("getsessiontoken")))
        let cidr = try sigma("    selection:\n        sourceIPAddress|cidr: '44.10.0.0/16'\n    condition: selection")
        #expect(fires(cidr, ct("X", ip: "44.10.20.30")) && !fires(cidr, ct("X", ip: "45.10.20.30")))
        let wild = try sigma("    selection:\n        eventName: 'Describe*'\n    condition: selection")
        #expect(fires(wild, ct("DescribeInstances")) && !fires(wild, ct("ListDescribe")))
        let raw = try sigma("    selection:\n        requestParameters.userName|contains: bob\n    condition: selection")
        #expect(fires(raw, ct("X", params: #"{"userName":"Bobby"}"#)) && !fires(raw, ct("X", params: #"{"userName":"al"}"#)))
        // null: the field is absent.
        let null = try sigma("    selection:\n        eventName: X\n        errorCode: null\n    condition: selection")
        #expect(fires(null, ct("X")) && !fires(null, ct("X", error: "AccessDenied")))
    }

    @Test func conditions() throws {
        let base = """
            selection_a:
                eventName: A
            selection_b:
                eventName: B
            filter_alice:
                userIdentity.arn|endswith: '/alice'
        """
        func r(_ c: String) throws -> Rule { try sigma(base + "\n    condition: \(c)") }
        let bob = #"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accountId":"111122223333"}"#
        let oneOf = try r("1 of selection_* and not filter_alice")
        #expect(fires(oneOf, ct("A", identity: bob)) && fires(oneOf, ct("B", identity: bob)))
        #expect(!fires(oneOf, ct("A")) && !fires(oneOf, ct("C", identity: bob)))
        #expect(!fires(try r("all of selection_*"), ct("A")))
        #expect(fires(try r("1 of them"), ct("Z")) == true) // filter_alice matches alice
        #expect(!fires(try r("all of them"), ct("A")))
        let paren = try r("(selection_a or selection_b) and not (filter_alice)")
        #expect(fires(paren, ct("B", identity: bob)) && !fires(paren, ct("B")))
        #expect(fires(try r("selection_a or selection_b and filter_alice"), ct("A", identity: bob)))
    }

    @Test func unsupportedFeaturesAreNamed() throws {
        func feature(_ detection: String) -> String? {
            do { _ = try sigma(detection); return nil } catch let e as SigmaUnsupported { return e.feature } catch { return "\(error)" }
        }
        #expect(feature("    selection:\n        eventName: A\n    condition: selection | count() > 5") == "aggregation '| count()'")
        #expect(feature("    selection:\n        eventName: A\n    timeframe: 5m\n    condition: selection") == "timeframe")
        #expect(feature("    selection:\n        eventName|base64offset|contains: A\n    condition: selection") == "modifier 'base64offset'")
        #expect(feature("    selection:\n        eventName|windash: A\n    condition: selection") == "modifier 'windash'")
        #expect(feature("    selection:\n        userIdentity.arn|fieldref: requestParameters.userName\n    condition: selection")
            == "field reference (modifier 'fieldref')")
        #expect(feature("    a:\n        eventName: A\n    b:\n        eventName: B\n    condition: a | near b") == "aggregation '| near'")
        #expect(feature("    keywords:\n        - evil\n    condition: keywords")?.hasPrefix("keyword search") == true)
        // A condition naming no selection is an error, not an unsupported feature.
        #expect(throws: RuleFileError.self) { try sigma("    selection:\n        eventName: A\n    condition: selektion") }
    }

    // MARK: - The corpus

    /// Every CloudTrail Sigma rule of the corpus loads or is reported with its feature.
    @Test func corpusRulesLoadOrAreReported() throws {
        guard let dir = corpus("sigma") else { return }
        let results = RuleSet.load([dir.appendingPathComponent("rules/cloud/aws").path,
                                    dir.appendingPathComponent("unsupported").path], sigma: true)
        let main = results.filter { $0.file.contains("/rules/cloud/aws/") }
        #expect(main.count == 57)
        for r in results {
            #expect(r.status != .invalid, "\(r.file): \(r.message ?? "")")
            if r.status == .unsupported { #expect(!(r.message ?? "").isEmpty) }
        }
        let loaded = main.filter { $0.status == .loaded }.count
        print("sigma corpus: \(main.count) CloudTrail rules: \(loaded) loaded, \(main.count - loaded) unsupported;",
              "unsupported/: \(results.count - main.count) rules, \(results.filter { !$0.file.contains("/rules/cloud/aws/") && $0.status == .loaded }.count) loaded")
        for r in results where r.status == .unsupported {
            print("  unsupported: \(URL(fileURLWithPath: r.file).lastPathComponent): \(r.message ?? "")")
        }
        #expect(loaded >= 45)
    }

    /// Sigma rule file -> corpus records it must fire on: Stratus Red Team detonations
    /// (`stratus:<technique>`) and Panther test cases with ExpectedResult true
    /// (`panther:<rule id>`). Not listed: aws_ec2_startup_script_change.yml against the
    /// ec2-user-data detonation, whose ModifyInstanceAttribute carries `userData` and no
    /// `attribute: userData` (the rule rightly stays quiet); Panther's EBS encryption
    /// test record, which has no eventTime and is no CloudTrail record to the parser.
    static let positives: [(String, String)] = [
        ("aws_cloudtrail_disable_logging.yml", "stratus:aws.defense-evasion.cloudtrail-stop"),
        ("aws_cloudtrail_disable_logging.yml", "stratus:aws.defense-evasion.cloudtrail-delete"),
        ("aws_cloudtrail_vpc_flow_logs_deleted.yml", "stratus:aws.defense-evasion.vpc-remove-flow-logs"),
        ("aws_snapshot_backup_exfiltration.yml", "stratus:aws.exfiltration.ec2-share-ebs-snapshot"),
        ("aws_cloudtrail_security_group_change_ingress_egress.yml", "stratus:aws.exfiltration.ec2-security-group-open-port-22-ingress"),
        ("aws_cloudtrail_ssm_malicious_usage.yml", "stratus:aws.execution.ssm-send-command"),
        ("aws_cloudtrail_console_login_success_without_mfa.yml", "stratus:aws.initial-access.console-login-without-mfa"),
        ("aws_new_lambda_layer_attached.yml", "stratus:aws.persistence.lambda-layer-extension"),
        ("aws_cloudtrail_new_acl_entries.yml", "panther:AWS.EC2.NetworkACLModified"),
        ("aws_cloudtrail_new_route_added.yml", "panther:AWS.EC2.RouteTableModified"),
        ("aws_snapshot_backup_exfiltration.yml", "panther:AWS.CloudTrail.SnapshotMadePublic"),
        ("aws_cloudtrail_vpc_flow_logs_deleted.yml", "panther:AWS.VPCFlow.LogsDeleted"),
        ("aws_config_disable_recording.yml", "panther:AWS.ConfigService.DisabledDeleted"),
        ("aws_disable_bucket_versioning.yml", "panther:AWS.S3.SuspendVersioning"),
        ("aws_cloudtrail_bucket_deleted.yml", "panther:AWS.S3.BucketDeleted"),
        ("aws_sts_getsessiontoken_misuse.yml", "panther:AWS.STS.GetSessionToken.Misuse"),
        ("aws_s3_data_management_tampering.yml", "panther:AWS.S3.DisableBucketLogging"),
        ("aws_cloudtrail_disable_logging.yml", "panther:AWS.CloudTrail.Stopped"),
    ]

    /// Records of a corpus reference, parsed by the real CloudTrail parser.
    static func records(_ ref: String) -> [Event]? {
        if ref.hasPrefix("stratus:") {
            guard let dir = corpus("stratus-red-team/detonation-logs"),
                  let data = try? Data(contentsOf: dir.appendingPathComponent(ref.dropFirst(8) + ".json")) else { return nil }
            return CloudTrailParser.parse(bytes: Array(data), file: "x.json").events
        }
        guard let dir = corpus("panther-analysis/extracted_tests"),
              let text = try? String(contentsOf: dir.appendingPathComponent("AWS.CloudTrail.jsonl"), encoding: .utf8) else { return nil }
        let id = String(ref.dropFirst(8))
        var out: [Event] = []
        for line in text.split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  o["rule_id"] as? String == id, o["expected_result"] as? Bool == true,
                  let log = o["log"] as? [String: Any], log["eventName"] != nil,
                  let bytes = try? JSONSerialization.data(withJSONObject: log) else { continue }
            out += CloudTrailParser.parse(bytes: Array(bytes), file: "x.json").events
        }
        return out
    }

    /// The same record with another `eventName`.
    static func renamed(_ e: Event, _ name: String) -> Event {
        var o = try! JSONSerialization.jsonObject(with: Data(e.raw)) as! [String: Any]
        o["eventName"] = name
        let bytes = try! JSONSerialization.data(withJSONObject: o)
        return CloudTrailParser.parse(bytes: Array(bytes), file: "x.json").events[0]
    }

    @Test func corpusPositivesFireAndNearMissesDoNot() throws {
        guard let dir = corpus("sigma/rules/cloud/aws/cloudtrail") else { return }
        var fired = 0, nearMisses = 0
        for (file, ref) in Self.positives {
            let rule = try SigmaRule.parse(try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8), file: file)
            guard let events = Self.records(ref), !events.isEmpty else { Issue.record("no records for \(ref)"); continue }
            let hits = events.filter { !run(rule.detector, [$0]).isEmpty }
            #expect(!hits.isEmpty, "\(file) fires on no record of \(ref)")
            guard let hit = hits.first else { continue }
            fired += 1
            // Near miss: the same record with an eventName the rule does not name.
            let miss = Self.renamed(hit, "Get" + (hit.action ?? "X") + "Status")
            #expect(run(rule.detector, [miss]).isEmpty, "\(file) fires on the near miss \(miss.action ?? "")")
            nearMisses += 1
        }
        print("sigma corpus positives: \(fired) of \(Self.positives.count) fire; \(nearMisses) near misses quiet")
    }

    /// Records of techniques no rule names stay quiet under the rules that load.
    @Test func unrelatedStratusRecordsAreQuiet() throws {
        guard let dir = corpus("sigma/rules/cloud/aws/cloudtrail"),
              let events = Self.records("stratus:aws.credential-access.secretsmanager-retrieve-secrets") else { return }
        var set = DetectorSet(RuleSet.load([dir.path], sigma: true).compactMap { $0.rule?.detector })
        let found = events.flatMap { set.observe($0) }
        #expect(found.isEmpty, "\(found.map(\.detector))")
    }
}
