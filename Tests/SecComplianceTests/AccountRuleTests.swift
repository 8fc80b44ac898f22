import Foundation
import SecModel
import Testing
@testable import SecCompliance

/// Rules over an account's whole state: the account's items in, one evaluation per
/// region (or `global`) out.
@Suite struct AccountRuleTests {
    static let acct = Items.account

    static func trail(_ id: String, region: String, multi: Bool, logging: Bool? = nil, status: String = "OK") -> ConfigItem {
        let logs = logging.map { ",\"isLogging\":\($0)" } ?? ""
        return Items.item(Items.json("AWS::CloudTrail::Trail", id: id, arn: "arn:aws:cloudtrail:\(region):\(acct):trail/\(id)",
                                     region: region, status: status,
                                     conf: "{\"name\":\"\(id)\",\"s3BucketName\":\"trail-logs\",\"isMultiRegionTrail\":\(multi),\"homeRegion\":\"\(region)\",\"logFileValidationEnabled\":true\(logs)}"))
    }

    static func volume(region: String) -> ConfigItem {
        Items.item(Items.json("AWS::EC2::Volume", id: "vol-\(region)", region: region,
                              conf: "{\"volumeId\":\"v\",\"state\":\"in-use\",\"attachments\":[{}],\"encrypted\":true}"))
    }

    static func accountItem(_ conf: String) -> ConfigItem {
        Items.item(Items.json(accountResourceType, id: acct, region: "global", conf: conf))
    }

    func run(_ rule: String, _ items: [ConfigItem], parameters: [String: JSONValue] = [:]) -> [String: Evaluation] {
        let policy = CompliancePolicy(disabled: Set(ManagedRules.all.map(\.name)).subtracting([rule]),
                                      parameters: parameters.isEmpty ? [:] : [rule: parameters])
        var out: [String: Evaluation] = [:]
        for e in ComplianceEvaluator(policy: policy).evaluate(changed: items, account: items) where e.rule == rule {
            #expect(e.resourceType == accountResourceType && e.resourceId == Self.acct)
            out[e.region] = e
        }
        return out
    }

    @Test func cloudtrailEnabled() {
        let regions = [Self.volume(region: "eu-west-1"), Self.volume(region: "eu-central-1")]
        // A multi-region trail covers every region.
        var r = run("cloudtrail-enabled", regions + [Self.trail("org", region: "eu-west-1", multi: true)])
        #expect(r.keys.sorted() == ["eu-central-1", "eu-west-1"])
        #expect(r.values.allSatisfy { $0.status == .compliant })
        // A single-region trail covers its region only.
        r = run("cloudtrail-enabled", regions + [Self.trail("local", region: "eu-west-1", multi: false)])
        #expect(r["eu-west-1"]?.status == .compliant)
        #expect(r["eu-central-1"]?.status == .nonCompliant)
        #expect(r["eu-central-1"]?.reason.contains("eu-central-1") == true)
        // A trail that stopped logging, or was deleted, covers nothing.
        r = run("cloudtrail-enabled", regions + [Self.trail("org", region: "eu-west-1", multi: true, logging: false)])
        #expect(r.values.allSatisfy { $0.status == .nonCompliant })
        r = run("cloudtrail-enabled", regions + [Self.trail("org", region: "eu-west-1", multi: true, status: "ResourceDeleted")])
        #expect(r.values.allSatisfy { $0.status == .nonCompliant })
        // No trail ever recorded: Config may not record trails.
        r = run("cloudtrail-enabled", regions)
        #expect(r.values.allSatisfy { $0.status == .insufficientData })
        // Parameters select the trail.
        r = run("cloudtrail-enabled", regions + [Self.trail("org", region: "eu-west-1", multi: true)],
                parameters: ["s3BucketName": .string("elsewhere")])
        #expect(r.values.allSatisfy { $0.status == .nonCompliant && $0.reason.contains("s3BucketName") })
    }

    @Test func multiRegionTrail() {
        let base = [Self.volume(region: "eu-west-1")]
        #expect(run("multi-region-cloudtrail-enabled", base + [Self.trail("org", region: "eu-west-1", multi: true)])["eu-west-1"]?.status == .compliant)
        let single = run("multi-region-cloudtrail-enabled", base + [Self.trail("local", region: "eu-west-1", multi: false)])["eu-west-1"]
        #expect(single?.status == .nonCompliant)
        #expect(single?.reason.contains("isMultiRegionTrail") == true)
    }

    @Test func guardDuty() {
        let base = [Self.volume(region: "eu-west-1"), Self.volume(region: "eu-central-1")]
        let detector = Items.item(Items.json("AWS::GuardDuty::Detector", id: "d-1", region: "eu-west-1",
                                             conf: "{\"Enable\":true,\"FindingPublishingFrequency\":\"SIX_HOURS\"}"))
        var r = run("guardduty-enabled-centralized", base + [detector])
        #expect(r["eu-west-1"]?.status == .compliant)
        #expect(r["eu-central-1"]?.status == .nonCompliant)
        r = run("guardduty-enabled-centralized", base)
        #expect(r.values.allSatisfy { $0.status == .insufficientData })
        let off = Items.item(Items.json("AWS::GuardDuty::Detector", id: "d-2", region: "eu-central-1", conf: "{\"Enable\":false}"))
        #expect(run("guardduty-enabled-centralized", base + [detector, off])["eu-central-1"]?.reason.contains("disabled") == true)
    }

    static let strong = "{\"MinimumPasswordLength\":14,\"RequireSymbols\":true,\"RequireNumbers\":true,\"RequireUppercaseCharacters\":true,\"RequireLowercaseCharacters\":true,\"AllowUsersToChangePassword\":true,\"ExpirePasswords\":true,\"MaxPasswordAge\":90,\"PasswordReusePrevention\":24}"

    @Test func passwordPolicy() {
        func eval(_ conf: String, _ p: [String: JSONValue] = [:]) -> Evaluation? {
            run("iam-password-policy", [Self.accountItem(conf)], parameters: p)["global"]
        }
        #expect(eval("{\"passwordPolicy\":\(Self.strong)}")?.status == .compliant)
        let weak = Self.strong.replacingOccurrences(of: "\"MinimumPasswordLength\":14", with: "\"MinimumPasswordLength\":8")
            .replacingOccurrences(of: "\"RequireSymbols\":true", with: "\"RequireSymbols\":false")
        let e = eval("{\"passwordPolicy\":\(weak)}")
        #expect(e?.status == .nonCompliant)
        #expect(e?.reason == "RequireSymbols false, MinimumPasswordLength 8 < 14")
        #expect(eval("{\"passwordPolicy\":\(weak)}", ["MinimumPasswordLength": .number(8), "RequireSymbols": .bool(false)])?.status == .compliant)
        #expect(eval("{\"passwordPolicy\":null}")?.reason.contains("IAM default") == true)
        #expect(eval("{}")?.status == .insufficientData)
        #expect(run("iam-password-policy", [Self.volume(region: "eu-west-1")])["global"]?.status == .insufficientData)
    }

    @Test func rootAccessKeys() {
        func eval(_ n: Int) -> Evaluation? {
            run("iam-root-access-key-check", [Self.accountItem("{\"accountSummary\":{\"AccountAccessKeysPresent\":\(n),\"AccountMFAEnabled\":1}}")])["global"]
        }
        #expect(eval(0)?.status == .compliant)
        #expect(eval(1)?.status == .nonCompliant)
        #expect(eval(1)?.reason.contains("AccountAccessKeysPresent 1") == true)
    }

    @Test func vpcFlowLogs() {
        let vpc = Items.item(Items.json("AWS::EC2::VPC", id: "vpc-1", conf: "{\"vpcId\":\"vpc-1\",\"cidrBlock\":\"10.0.0.0/16\",\"isDefault\":false}"))
        let log = Items.item(Items.json("AWS::EC2::FlowLog", id: "fl-1", time: "2026-11-05T08:00:00.000Z",
                                        conf: "{\"flowLogId\":\"fl-1\",\"resourceId\":\"vpc-1\",\"trafficType\":\"REJECT\",\"logDestinationType\":\"s3\"}"))
        let policy = CompliancePolicy(disabled: Set(ManagedRules.all.map(\.name)).subtracting(["vpc-flow-logs-enabled"]))
        let ev = ComplianceEvaluator(policy: policy)
        #expect(ev.evaluate(changed: [vpc], account: [vpc]).first?.status == .nonCompliant)
        // A new flow log re-evaluates the VPCs of its account.
        let after = ev.evaluate(changed: [log], account: [vpc, log])
        #expect(after.count == 1 && after[0].resourceId == "vpc-1" && after[0].status == .compliant)
        // As of the flow log's capture (two days after the VPC's): the VPC was not
        // compliant before the log existed.
        #expect(after.first?.evaluatedAt == log.captureTime && log.captureTime > vpc.captureTime)
        let strict = ComplianceEvaluator(policy: CompliancePolicy(disabled: policy.disabled,
                                                                  parameters: ["vpc-flow-logs-enabled": ["trafficType": .string("ALL")]]))
        #expect(strict.evaluate(changed: [log], account: [vpc, log]).first?.reason.contains("not trafficType ALL") == true)
    }
}

@Suite struct PolicyTests {
    @Test func defaultsAreAWSs() throws {
        let p = CompliancePolicy.defaults
        let ports = try #require(ManagedRules.named("restricted-common-ports"))
        #expect(p.parameters(of: ports).ports("blockedPorts") == [20, 21, 3389, 3306, 4333])
        #expect(p.parameters(of: try #require(ManagedRules.named("access-keys-rotated"))).int("maxAccessKeyAge") == 90)
        let pw = p.parameters(of: try #require(ManagedRules.named("iam-password-policy")))
        #expect(pw.int("MinimumPasswordLength") == 14 && pw.int("PasswordReusePrevention") == 24 && pw.int("MaxPasswordAge") == 90)
        #expect(p.rules.count == ManagedRules.all.count)
    }

    @Test func aPolicyFile() throws {
        let p = try CompliancePolicy(json: Array("""
        {"disabled": ["s3-bucket-versioning-enabled"],
         "parameters": {"restricted-common-ports": {"blockedPorts": [5432]}, "access-keys-rotated": {"maxAccessKeyAge": 30}}}
        """.utf8))
        #expect(!p.rules.contains { $0.name == "s3-bucket-versioning-enabled" })
        #expect(p.parameters(of: ManagedRules.named("restricted-common-ports")!).ports("blockedPorts") == [5432])
        #expect(p.fingerprint != CompliancePolicy.defaults.fingerprint)
    }

    @Test(arguments: [
        ("{\"disabled\": [\"restricted-sshh\"]}", "unknown rule 'restricted-sshh' in 'disabled'"),
        ("{\"parameters\": {\"restricted-ssh\": {\"port\": 22}}}", "unknown parameter 'port' of 'restricted-ssh' (it takes none)"),
        ("{\"parameters\": {\"access-keys-rotated\": {\"maxAccessKeyAge\": \"soon\"}}}", "parameter 'maxAccessKeyAge' of 'access-keys-rotated' must be a whole number"),
        ("{\"rules\": {}}", "unknown key 'rules' (expected 'disabled', 'parameters')"),
        ("[1]", "the policy is not a JSON object"),
    ])
    func badPolicies(_ text: String, _ message: String) {
        #expect(throws: CompliancePolicy.Error(message: message)) { try CompliancePolicy(json: Array(text.utf8)) }
    }
}

/// The AWS Config documentation's examples (../shared/corpus/aws-config-examples):
/// every configuration item in them is read and evaluated; the ones whose answer the
/// documents make plain are checked.
@Suite struct CorpusTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus/aws-config-examples/extracted").path

    static func items() -> [ConfigItem]? {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return nil }
        var out: [ConfigItem] = []
        for f in files.sorted() where f.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: dir + "/" + f), let doc = JSONValue(parsing: Array(data)) else { continue }
            let list = doc.member("configurationItems")?.array ?? ConfigItem.itemJSON(raw: Array(data)).map { [$0] } ?? []
            out += list.compactMap { ConfigItem(item: $0, account: "123456789012", region: "us-east-1", time: 0) }
        }
        return out
    }

    @Test func documentationExamples() throws {
        guard let items = Self.items() else {
            print("corpus not found at \(Self.dir): skipped")
            return
        }
        #expect(items.count >= 6, "items read: \(items.count)")
        let ev = ComplianceEvaluator()
        var seen: [String: ComplianceStatus] = [:]
        for item in items {
            for rule in ManagedRules.all {
                if let e = ev.evaluate(rule, item: item, account: items) { seen["\(rule.name) \(item.resourceId)"] = e.status }
            }
        }
        // The example security group allows nothing in: closed to SSH and the common ports.
        #expect(seen["restricted-ssh sg-3f1fef43"] == .compliant)
        #expect(seen["restricted-common-ports sg-3f1fef43"] == .compliant)
        #expect(seen["vpc-default-security-group-closed sg-3f1fef43"] == .notApplicable)
        // The 2014 snapshot's attached volume predates the encrypted field: no verdict.
        #expect(seen["encrypted-volumes vol-ce676ccc"] == .insufficientData)
        // Instances without metadataOptions cannot be judged for IMDSv2.
        let imds = seen.filter { $0.key.hasPrefix("ec2-imdsv2-check ") }
        #expect(!imds.isEmpty && imds.values.allSatisfy { $0 == .insufficientData }, "\(imds)")
        #expect(!seen.isEmpty)
    }
}

/// schemas/compliance.schema.json names every rule, its parameters and their defaults
/// as the code has them.
@Suite struct SchemaTests {
    @Test func schemaMatchesTheRules() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("schemas/compliance.schema.json"))
        let schema = try #require(JSONValue(parsing: Array(data)))
        let names = (schema.path("properties", "disabled", "items", "enum")?.array ?? []).compactMap(\.string)
        #expect(names == ManagedRules.all.map(\.name))
        let params = try #require(schema.path("properties", "parameters", "properties")?.object)
        for r in ManagedRules.all {
            let props = params[r.name]?["properties"]?.object ?? [:]
            #expect(Set(props.keys) == Set(r.parameters.map(\.name)), "\(r.name)")
            for p in r.parameters {
                #expect(props[p.name]?["default"] == p.defaultValue, "\(r.name).\(p.name)")
            }
        }
    }
}
