import Foundation
import Testing
@testable import SecCompliance

/// One row of a rule's table: an item in Config's shape and what the rule must say.
struct RuleCase: Sendable, CustomStringConvertible {
    var rule: String
    var label: String
    var item: String
    var status: ComplianceStatus
    /// Words the reason must hold (the setting it names).
    var reason: String
    var parameters: [String: JSONValue] = [:]

    var description: String { "\(rule): \(label)" }
}

private typealias I = Items

private let acct = Items.account
private func volume(_ conf: String) -> String {
    I.json("AWS::EC2::Volume", id: "vol-1", arn: "arn:aws:ec2:eu-west-1:\(acct):volume/vol-1", conf: conf)
}
private func db(_ enc: Bool, _ pub: Bool) -> String {
    I.json("AWS::RDS::DBInstance", id: "db-ABC", arn: "arn:aws:rds:eu-west-1:\(acct):db:ledger",
           conf: "{\"dBInstanceIdentifier\":\"ledger\",\"engine\":\"postgres\",\"publiclyAccessible\":\(pub),\"storageEncrypted\":\(enc),\"kmsKeyId\":\(enc ? "\"arn:aws:kms:eu-west-1:\(acct):key/k1\"" : "null")}")
}
private func trail(validation: Bool, kms: String?) -> String {
    I.json("AWS::CloudTrail::Trail", id: "org-trail", arn: "arn:aws:cloudtrail:eu-west-1:\(acct):trail/org-trail",
           conf: "{\"name\":\"org-trail\",\"s3BucketName\":\"trail-logs\",\"isMultiRegionTrail\":true,\"homeRegion\":\"eu-west-1\",\"logFileValidationEnabled\":\(validation),\"kmsKeyId\":\(kms.map { "\"\($0)\"" } ?? "null")}")
}
private func key(manager: String = "CUSTOMER", spec: String = "SYMMETRIC_DEFAULT", state: String = "Enabled", rotation: Bool?) -> String {
    I.json("AWS::KMS::Key", id: "k1", arn: "arn:aws:kms:eu-west-1:\(acct):key/k1",
           conf: "{\"keyId\":\"k1\",\"keyManager\":\"\(manager)\",\"keySpec\":\"\(spec)\",\"keyState\":\"\(state)\",\"enabled\":true}",
           supp: rotation.map { "{\"KeyRotationStatus\":{\"keyRotationEnabled\":\($0)}}" } ?? "{}")
}
private func user(console: Bool, mfa: Int?, attached: [String] = [], inline: [String] = [], keys: String? = nil) -> String {
    var conf = "{\"path\":\"/\",\"userName\":\"ana\",\"userId\":\"AIDA1\",\"arn\":\"arn:aws:iam::\(acct):user/ana\","
    conf += "\"userPolicyList\":[\(inline.map { "{\"policyName\":\"\($0)\",\"policyDocument\":\"%7B%7D\"}" }.joined(separator: ","))],"
    conf += "\"attachedManagedPolicies\":[\(attached.map { "{\"policyName\":\"\($0)\",\"policyArn\":\"arn:aws:iam::aws:policy/\($0)\"}" }.joined(separator: ","))],"
    conf += "\"groupList\":[\"engineers\"],\"loginProfile\":\(console ? "{\"createDate\":\"2025-02-03T10:15:00.000Z\"}" : "null")"
    if let mfa { conf += ",\"mfaDevices\":[\(Array(repeating: "{\"serialNumber\":\"arn:aws:iam::\(acct):mfa/ana\"}", count: mfa).joined(separator: ","))]" }
    if let keys { conf += ",\"accessKeys\":\(keys)" }
    return I.json("AWS::IAM::User", id: "AIDA1", arn: "arn:aws:iam::\(acct):user/ana", region: "global", conf: conf + "}")
}
private func policy(_ statements: String, arn: String = "arn:aws:iam::\(acct):policy/ops") -> String {
    let doc = "{\"Version\":\"2012-10-17\",\"Statement\":\(statements)}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    return I.json("AWS::IAM::Policy", id: "ANPA1", arn: arn, region: "global",
                  conf: "{\"policyName\":\"ops\",\"policyVersionList\":[{\"document\":\"\(doc)\",\"versionId\":\"v2\",\"isDefaultVersion\":true}]}")
}

let resourceCases: [RuleCase] = [
    // restricted-ssh
    RuleCase(rule: "restricted-ssh", label: "22 from the corporate range", item: I.sg([I.perm(22, "10.20.0.0/16")]), status: .compliant, reason: "not open"),
    RuleCase(rule: "restricted-ssh", label: "22 from 0.0.0.0/0", item: I.sg([I.perm(443, "10.0.0.0/8"), I.perm(22, "0.0.0.0/0")]), status: .nonCompliant, reason: "tcp/22 from 0.0.0.0/0"),
    RuleCase(rule: "restricted-ssh", label: "22 from ::/0", item: I.sg([I.perm(22, "::/0")]), status: .nonCompliant, reason: "tcp/22 from ::/0"),
    RuleCase(rule: "restricted-ssh", label: "a range 0-1024 from anywhere", item: I.sg(["{\"fromPort\":0,\"toPort\":1024,\"ipProtocol\":\"tcp\",\"ipv4Ranges\":[{\"cidrIp\":\"0.0.0.0/0\"}]}"]), status: .nonCompliant, reason: "tcp/22"),
    RuleCase(rule: "restricted-ssh", label: "all traffic from anywhere", item: I.sg([I.perm(nil, "0.0.0.0/0", proto: "-1")]), status: .nonCompliant, reason: "all traffic from 0.0.0.0/0"),
    RuleCase(rule: "restricted-ssh", label: "udp/22 from anywhere", item: I.sg([I.perm(22, "0.0.0.0/0", proto: "udp")]), status: .compliant, reason: "not open"),
    RuleCase(rule: "restricted-ssh", label: "open egress only", item: I.sg([], egress: [I.perm(nil, "0.0.0.0/0", proto: "-1")]), status: .compliant, reason: "not open"),
    RuleCase(rule: "restricted-ssh", label: "deleted group", item: I.sg([I.perm(22, "0.0.0.0/0")], status: "ResourceDeleted"), status: .notApplicable, reason: "deleted"),
    RuleCase(rule: "restricted-ssh", label: "no longer recorded", item: I.sg([I.perm(22, "0.0.0.0/0")], status: "ResourceNotRecorded"), status: .insufficientData, reason: "ResourceNotRecorded"),
    // restricted-common-ports
    RuleCase(rule: "restricted-common-ports", label: "3389 from ::/0", item: I.sg([I.perm(3389, "::/0")]), status: .nonCompliant, reason: "tcp/3389 from ::/0"),
    RuleCase(rule: "restricted-common-ports", label: "3306 from 0.0.0.0/0", item: I.sg([I.perm(3306, "0.0.0.0/0")]), status: .nonCompliant, reason: "tcp/3306"),
    RuleCase(rule: "restricted-common-ports", label: "22 is not a default blocked port", item: I.sg([I.perm(22, "0.0.0.0/0")]), status: .compliant, reason: "20,21,3389,3306,4333"),
    RuleCase(rule: "restricted-common-ports", label: "5432 blocked by the policy", item: I.sg([I.perm(5432, "0.0.0.0/0")]), status: .nonCompliant, reason: "tcp/5432", parameters: ["blockedPorts": .string("5432, 1433")]),
    RuleCase(rule: "restricted-common-ports", label: "3389 from a private range", item: I.sg([I.perm(3389, "192.168.0.0/16")]), status: .compliant, reason: "not open"),
    // vpc-default-security-group-closed
    RuleCase(rule: "vpc-default-security-group-closed", label: "default group with rules", item: I.sg([I.perm(443, "10.0.0.0/8")], name: "default", egress: [I.perm(nil, "0.0.0.0/0", proto: "-1")]), status: .nonCompliant, reason: "1 inbound and 1 outbound"),
    RuleCase(rule: "vpc-default-security-group-closed", label: "default group closed", item: I.sg([], name: "default"), status: .compliant, reason: "no inbound"),
    RuleCase(rule: "vpc-default-security-group-closed", label: "another group", item: I.sg([I.perm(443, "0.0.0.0/0")]), status: .notApplicable, reason: "not a default"),
    // s3-bucket-public-read-prohibited
    RuleCase(rule: "s3-bucket-public-read-prohibited", label: "private bucket", item: I.bucket(), status: .compliant, reason: "no public read"),
    RuleCase(rule: "s3-bucket-public-read-prohibited", label: "policy grants GetObject to *", item: I.bucket(bpa: I.bpaOff, statements: [I.sslDeny, I.publicRead]), status: .nonCompliant, reason: "s3:GetObject to Principal *"),
    RuleCase(rule: "s3-bucket-public-read-prohibited", label: "public policy but Block Public Access on", item: I.bucket(bpa: I.bpaOn, statements: [I.publicRead]), status: .compliant, reason: "no public read"),
    RuleCase(rule: "s3-bucket-public-read-prohibited", label: "ACL grants Read to AllUsers", item: I.bucket(bpa: nil, acl: "{\"grantList\":[{\"grantee\":\"AllUsers\",\"permission\":\"Read\"}],\"owner\":{\"id\":\"abc\"}}"), status: .nonCompliant, reason: "ACL grants Read to AllUsers"),
    RuleCase(rule: "s3-bucket-public-read-prohibited", label: "deleted bucket", item: I.bucket(bpa: I.bpaOff, statements: [I.publicRead], status: "ResourceDeleted"), status: .notApplicable, reason: "deleted"),
    // s3-bucket-public-write-prohibited
    RuleCase(rule: "s3-bucket-public-write-prohibited", label: "public read only", item: I.bucket(bpa: I.bpaOff, statements: [I.publicRead]), status: .compliant, reason: "no public write"),
    RuleCase(rule: "s3-bucket-public-write-prohibited", label: "PutObject to AWS *", item: I.bucket(bpa: I.bpaOff, statements: [I.publicWrite]), status: .nonCompliant, reason: "s3:PutObject to Principal *"),
    RuleCase(rule: "s3-bucket-public-write-prohibited", label: "ACL FullControl to AuthenticatedUsers", item: I.bucket(bpa: nil, acl: "{\"grantList\":[{\"grantee\":{\"uri\":\"http://acs.amazonaws.com/groups/global/AuthenticatedUsers\"},\"permission\":\"FullControl\"}]}"), status: .nonCompliant, reason: "AuthenticatedUsers"),
    // s3-bucket-level-public-access-prohibited
    RuleCase(rule: "s3-bucket-level-public-access-prohibited", label: "all on", item: I.bucket(), status: .compliant, reason: "all four"),
    RuleCase(rule: "s3-bucket-level-public-access-prohibited", label: "all off", item: I.bucket(bpa: I.bpaOff), status: .nonCompliant, reason: "blockPublicAcls, ignorePublicAcls, blockPublicPolicy, restrictPublicBuckets false"),
    RuleCase(rule: "s3-bucket-level-public-access-prohibited", label: "none configured", item: I.bucket(bpa: nil), status: .nonCompliant, reason: "no bucket-level"),
    RuleCase(rule: "s3-bucket-level-public-access-prohibited", label: "excluded bucket", item: I.bucket(bpa: I.bpaOff), status: .compliant, reason: "excluded", parameters: ["excludedPublicBuckets": .string("web, b")]),
    // s3-bucket-server-side-encryption-enabled
    RuleCase(rule: "s3-bucket-server-side-encryption-enabled", label: "KMS default encryption", item: I.bucket(), status: .compliant, reason: "aws:kms"),
    RuleCase(rule: "s3-bucket-server-side-encryption-enabled", label: "none", item: I.bucket(sse: nil), status: .nonCompliant, reason: "ServerSideEncryptionConfiguration"),
    // s3-bucket-ssl-requests-only
    RuleCase(rule: "s3-bucket-ssl-requests-only", label: "denies insecure transport", item: I.bucket(), status: .compliant, reason: "aws:SecureTransport"),
    RuleCase(rule: "s3-bucket-ssl-requests-only", label: "no policy", item: I.bucket(statements: []), status: .nonCompliant, reason: "aws:SecureTransport false"),
    // s3-bucket-logging-enabled
    RuleCase(rule: "s3-bucket-logging-enabled", label: "logs", item: I.bucket(), status: .compliant, reason: "logs-bucket"),
    RuleCase(rule: "s3-bucket-logging-enabled", label: "no logging", item: I.bucket(logging: nil), status: .nonCompliant, reason: "destinationBucketName"),
    RuleCase(rule: "s3-bucket-logging-enabled", label: "logs elsewhere than targetBucket", item: I.bucket(), status: .nonCompliant, reason: "not targetBucket central", parameters: ["targetBucket": .string("central")]),
    // s3-bucket-versioning-enabled
    RuleCase(rule: "s3-bucket-versioning-enabled", label: "enabled", item: I.bucket(), status: .compliant, reason: "Enabled"),
    RuleCase(rule: "s3-bucket-versioning-enabled", label: "suspended", item: I.bucket(versioning: "Suspended"), status: .nonCompliant, reason: "versioning Suspended"),
    RuleCase(rule: "s3-bucket-versioning-enabled", label: "MFA delete asked for", item: I.bucket(), status: .nonCompliant, reason: "isMfaDeleteEnabled", parameters: ["isMfaDeleteEnabled": .bool(true)]),
    // s3-account-level-public-access-blocks
    RuleCase(rule: "s3-account-level-public-access-blocks", label: "all on", item: I.json("AWS::S3::AccountPublicAccessBlock", id: acct, conf: I.bpaOn), status: .compliant, reason: "on"),
    RuleCase(rule: "s3-account-level-public-access-blocks", label: "policy blocks off", item: I.json("AWS::S3::AccountPublicAccessBlock", id: acct, conf: "{\"blockPublicAcls\":true,\"ignorePublicAcls\":true,\"blockPublicPolicy\":false,\"restrictPublicBuckets\":false}"), status: .nonCompliant, reason: "blockPublicPolicy, restrictPublicBuckets false"),
    RuleCase(rule: "s3-account-level-public-access-blocks", label: "policy blocks off, not asked for", item: I.json("AWS::S3::AccountPublicAccessBlock", id: acct, conf: "{\"blockPublicAcls\":true,\"ignorePublicAcls\":true,\"blockPublicPolicy\":false,\"restrictPublicBuckets\":false}"), status: .compliant, reason: "on", parameters: ["BlockPublicPolicy": .bool(false), "RestrictPublicBuckets": .string("false")]),
    // cloud-trail-log-file-validation-enabled, cloud-trail-encryption-enabled
    RuleCase(rule: "cloud-trail-log-file-validation-enabled", label: "on", item: trail(validation: true, kms: "k"), status: .compliant, reason: "logFileValidationEnabled true"),
    RuleCase(rule: "cloud-trail-log-file-validation-enabled", label: "off", item: trail(validation: false, kms: "k"), status: .nonCompliant, reason: "logFileValidationEnabled false"),
    RuleCase(rule: "cloud-trail-encryption-enabled", label: "KMS", item: trail(validation: true, kms: "arn:aws:kms:eu-west-1:1:key/k"), status: .compliant, reason: "kmsKeyId"),
    RuleCase(rule: "cloud-trail-encryption-enabled", label: "no KMS", item: trail(validation: true, kms: nil), status: .nonCompliant, reason: "no kmsKeyId"),
    // encrypted-volumes
    RuleCase(rule: "encrypted-volumes", label: "attached and encrypted", item: volume("{\"volumeId\":\"vol-1\",\"state\":\"in-use\",\"attachments\":[{\"instanceId\":\"i-1\",\"state\":\"attached\"}],\"encrypted\":true,\"kmsKeyId\":\"k\"}"), status: .compliant, reason: "encrypted true"),
    RuleCase(rule: "encrypted-volumes", label: "attached, not encrypted", item: volume("{\"volumeId\":\"vol-1\",\"state\":\"in-use\",\"attachments\":[{\"instanceId\":\"i-1\",\"state\":\"attached\"}],\"encrypted\":false}"), status: .nonCompliant, reason: "encrypted false"),
    RuleCase(rule: "encrypted-volumes", label: "not attached", item: volume("{\"volumeId\":\"vol-1\",\"state\":\"available\",\"attachments\":[],\"encrypted\":false}"), status: .notApplicable, reason: "not attached"),
    RuleCase(rule: "encrypted-volumes", label: "the key by id, Config giving its ARN", item: volume("{\"volumeId\":\"vol-1\",\"state\":\"in-use\",\"attachments\":[{}],\"encrypted\":true,\"kmsKeyId\":\"arn:aws:kms:eu-west-1:\(acct):key/1234abcd-12ab-34cd-56ef-1234567890ab\"}"), status: .compliant, reason: "kmsId 1234abcd", parameters: ["kmsId": .string("1234abcd-12ab-34cd-56ef-1234567890ab")]),
    RuleCase(rule: "encrypted-volumes", label: "wrong key", item: volume("{\"volumeId\":\"vol-1\",\"state\":\"in-use\",\"attachments\":[{}],\"encrypted\":true,\"kmsKeyId\":\"k\"}"), status: .nonCompliant, reason: "kmsId other", parameters: ["kmsId": .string("other")]),
    // rds
    RuleCase(rule: "rds-storage-encrypted", label: "encrypted", item: db(true, false), status: .compliant, reason: "storageEncrypted true"),
    RuleCase(rule: "rds-storage-encrypted", label: "not encrypted", item: db(false, false), status: .nonCompliant, reason: "storageEncrypted false"),
    RuleCase(rule: "rds-instance-public-access-check", label: "private", item: db(true, false), status: .compliant, reason: "publiclyAccessible false"),
    RuleCase(rule: "rds-instance-public-access-check", label: "public", item: db(true, true), status: .nonCompliant, reason: "publiclyAccessible true"),
    RuleCase(rule: "rds-snapshots-public-prohibited", label: "public snapshot", item: I.json("AWS::RDS::DBSnapshot", id: "snap-1", conf: "{\"dBSnapshotIdentifier\":\"snap-1\"}", supp: "{\"DBSnapshotAttributes\":[{\"attributeName\":\"restore\",\"attributeValues\":[\"all\"]}]}"), status: .nonCompliant, reason: "restore includes 'all'"),
    RuleCase(rule: "rds-snapshots-public-prohibited", label: "shared with one account", item: I.json("AWS::RDS::DBSnapshot", id: "snap-1", conf: "{\"dBSnapshotIdentifier\":\"snap-1\"}", supp: "{\"DBSnapshotAttributes\":[{\"attributeName\":\"restore\",\"attributeValues\":[\"444455556666\"]}]}"), status: .compliant, reason: "not public"),
    // ec2-imdsv2-check
    RuleCase(rule: "ec2-imdsv2-check", label: "tokens required", item: I.json("AWS::EC2::Instance", id: "i-1", conf: "{\"instanceId\":\"i-1\",\"state\":{\"name\":\"running\"},\"metadataOptions\":{\"httpTokens\":\"required\",\"httpEndpoint\":\"enabled\"}}"), status: .compliant, reason: "required"),
    RuleCase(rule: "ec2-imdsv2-check", label: "tokens optional", item: I.json("AWS::EC2::Instance", id: "i-1", conf: "{\"instanceId\":\"i-1\",\"state\":{\"name\":\"running\"},\"metadataOptions\":{\"httpTokens\":\"optional\"}}"), status: .nonCompliant, reason: "httpTokens optional"),
    RuleCase(rule: "ec2-imdsv2-check", label: "terminated", item: I.json("AWS::EC2::Instance", id: "i-1", conf: "{\"instanceId\":\"i-1\",\"state\":{\"name\":\"terminated\"}}"), status: .notApplicable, reason: "terminated"),
    // cmk-backing-key-rotation-enabled
    RuleCase(rule: "cmk-backing-key-rotation-enabled", label: "rotating", item: key(rotation: true), status: .compliant, reason: "keyRotationEnabled true"),
    RuleCase(rule: "cmk-backing-key-rotation-enabled", label: "not rotating", item: key(rotation: false), status: .nonCompliant, reason: "keyRotationEnabled false"),
    RuleCase(rule: "cmk-backing-key-rotation-enabled", label: "AWS managed", item: key(manager: "AWS", rotation: false), status: .notApplicable, reason: "AWS managed"),
    RuleCase(rule: "cmk-backing-key-rotation-enabled", label: "asymmetric", item: key(spec: "RSA_2048", rotation: false), status: .notApplicable, reason: "RSA_2048"),
    RuleCase(rule: "cmk-backing-key-rotation-enabled", label: "no rotation status", item: key(rotation: nil), status: .insufficientData, reason: "KeyRotationStatus"),
    // iam-user-mfa-enabled
    RuleCase(rule: "iam-user-mfa-enabled", label: "console user with MFA", item: user(console: true, mfa: 1), status: .compliant, reason: "1 MFA device"),
    RuleCase(rule: "iam-user-mfa-enabled", label: "console user without MFA", item: user(console: true, mfa: 0), status: .nonCompliant, reason: "mfaDevices empty"),
    RuleCase(rule: "iam-user-mfa-enabled", label: "programmatic user", item: user(console: false, mfa: 0), status: .notApplicable, reason: "loginProfile null"),
    RuleCase(rule: "iam-user-mfa-enabled", label: "programmatic user, all users asked for", item: user(console: false, mfa: 0), status: .nonCompliant, reason: "mfaDevices empty", parameters: ["includeProgrammaticUsers": .bool(true)]),
    RuleCase(rule: "iam-user-mfa-enabled", label: "Config's own item (no MFA field)", item: user(console: true, mfa: nil), status: .insufficientData, reason: "mfaDevices"),
    // iam-user-no-policies-check
    RuleCase(rule: "iam-user-no-policies-check", label: "through groups only", item: user(console: true, mfa: 1), status: .compliant, reason: "no policies"),
    RuleCase(rule: "iam-user-no-policies-check", label: "managed policy attached", item: user(console: true, mfa: 1, attached: ["ReadOnlyAccess"]), status: .nonCompliant, reason: "attachedManagedPolicies ReadOnlyAccess"),
    RuleCase(rule: "iam-user-no-policies-check", label: "inline policy", item: user(console: true, mfa: 1, inline: ["s3-all"]), status: .nonCompliant, reason: "userPolicyList s3-all"),
    // access-keys-rotated (the item is captured 2026-11-03)
    RuleCase(rule: "access-keys-rotated", label: "a young key", item: user(console: false, mfa: nil, keys: "[{\"accessKeyId\":\"AKIA1\",\"status\":\"Active\",\"createDate\":\"2026-10-01T00:00:00Z\"}]"), status: .compliant, reason: "younger than 90"),
    RuleCase(rule: "access-keys-rotated", label: "an old key", item: user(console: false, mfa: nil, keys: "[{\"accessKeyId\":\"AKIA1\",\"status\":\"Active\",\"createDate\":\"2026-01-01T00:00:00Z\"}]"), status: .nonCompliant, reason: "AKIA1 is 306 days old (maxAccessKeyAge 90)"),
    RuleCase(rule: "access-keys-rotated", label: "an old inactive key", item: user(console: false, mfa: nil, keys: "[{\"accessKeyId\":\"AKIA1\",\"status\":\"Inactive\",\"createDate\":\"2026-01-01T00:00:00Z\"}]"), status: .notApplicable, reason: "no active"),
    RuleCase(rule: "access-keys-rotated", label: "a 33-day key, maxAccessKeyAge 30", item: user(console: false, mfa: nil, keys: "[{\"accessKeyId\":\"AKIA1\",\"status\":\"Active\",\"createDate\":\"2026-10-01T00:00:00Z\"}]"), status: .nonCompliant, reason: "33 days old (maxAccessKeyAge 30)", parameters: ["maxAccessKeyAge": .number(30)]),
    RuleCase(rule: "access-keys-rotated", label: "Config's own item (no keys)", item: user(console: false, mfa: nil), status: .insufficientData, reason: "accessKeys"),
    // iam-policy-no-statements-with-admin-access
    RuleCase(rule: "iam-policy-no-statements-with-admin-access", label: "admin statement", item: policy("[{\"Sid\":\"all\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]"), status: .nonCompliant, reason: "Action * on Resource * (Sid all)"),
    RuleCase(rule: "iam-policy-no-statements-with-admin-access", label: "scoped statement", item: policy("{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":\"*\"}"), status: .compliant, reason: "no statement"),
    RuleCase(rule: "iam-policy-no-statements-with-admin-access", label: "deny all", item: policy("[{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]"), status: .compliant, reason: "no statement"),
    RuleCase(rule: "iam-policy-no-statements-with-admin-access", label: "AWS managed", item: policy("[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]", arn: "arn:aws:iam::aws:policy/AdministratorAccess"), status: .notApplicable, reason: "AWS managed"),
]

@Suite struct ResourceRuleTests {
    @Test(arguments: resourceCases)
    func rule(_ c: RuleCase) throws {
        let rule = try #require(ManagedRules.named(c.rule), "no rule \(c.rule)")
        let policy = CompliancePolicy(parameters: c.parameters.isEmpty ? [:] : [c.rule: c.parameters])
        let item = Items.item(c.item)
        let e = try #require(ComplianceEvaluator(policy: policy).evaluate(rule, item: item))
        #expect(e.status == c.status, "\(c): \(e.reason)")
        #expect(e.reason.contains(c.reason), "\(c): reason '\(e.reason)'")
        #expect(e.resource == (item.arn ?? item.resourceId))
        #expect(e.evaluatedAt == item.captureTime)
    }

    /// Every resource rule has a compliant and a non-compliant row, and the table names
    /// only rules that exist.
    @Test func everyResourceRuleHasItsTable() {
        for r in ManagedRules.all where !r.resourceTypes.isEmpty && r.name != "vpc-flow-logs-enabled" {
            let rows = resourceCases.filter { $0.rule == r.name }
            #expect(rows.contains { $0.status == .compliant }, "\(r.name) has no compliant row")
            #expect(rows.contains { $0.status == .nonCompliant }, "\(r.name) has no non-compliant row")
        }
        #expect(resourceCases.allSatisfy { ManagedRules.named($0.rule) != nil })
    }

    /// The not-applicable row every resource rule shares: a deleted resource of each of
    /// its types (an item of status ResourceDeleted, configuration gone, as Config
    /// records it) is NOT_APPLICABLE, whatever the rule checks.
    @Test func everyResourceRuleFindsADeletedResourceNotApplicable() {
        var checked = 0
        for rule in ManagedRules.all {
            for type in rule.resourceTypes.sorted() {
                let deleted = Items.json(type, id: "gone-1", arn: "arn:aws:test:eu-west-1:\(Items.account):gone-1",
                                         status: "ResourceDeleted", conf: "null")
                let e = ComplianceEvaluator().evaluate(rule, item: Items.item(deleted))
                #expect(e?.status == .notApplicable, "\(rule.name) on a deleted \(type): \(String(describing: e?.status))")
                checked += 1
            }
        }
        #expect(checked >= 20)
    }

    /// An item of another type is not the rule's: it gives no evaluation.
    @Test func otherTypesAreNotEvaluated() throws {
        let rule = try #require(ManagedRules.named("restricted-ssh"))
        #expect(ComplianceEvaluator().evaluate(rule, item: Items.item(Items.bucket())) == nil)
    }

    /// The item inside a change notification (SNS, with the message as JSON text) and
    /// with `configuration` as JSON text is read like the item alone.
    @Test func itemsInNotificationsAndAsText() throws {
        let item = Items.sg([Items.perm(22, "0.0.0.0/0")])
        let message = "{\"configurationItemDiff\":null,\"configurationItem\":\(item),\"notificationCreationTime\":\"2026-11-03T10:00:01Z\",\"messageType\":\"ConfigurationItemChangeNotification\",\"recordVersion\":\"1.3\"}"
        let sns = "{\"Type\":\"Notification\",\"Message\":\(Items.quoted(message)),\"Timestamp\":\"2026-11-03T10:00:02Z\"}"
        let fromSNS = try #require(ConfigItem(raw: Array(sns.utf8), account: "0", region: nil, time: 0))
        #expect(fromSNS == Items.item(item))
        let eventBridge = "{\"detail-type\":\"Config Configuration Item Change\",\"account\":\"\(Items.account)\",\"detail\":\(message)}"
        #expect(ConfigItem(raw: Array(eventBridge.utf8), account: "0", region: nil, time: 0) == Items.item(item))
        let conf = try #require(Items.item(item).configuration)
        let textual = Items.json("AWS::EC2::SecurityGroup", id: "sg-0a1b2c3d4e5f", arn: "arn:aws:ec2:eu-west-1:\(Items.account):security-group/sg-0a1b2c3d4e5f",
                                 conf: Items.quoted(conf.jsonText))
        let e = ComplianceEvaluator().evaluate(ManagedRules.named("restricted-ssh")!, item: Items.item(textual))
        #expect(e?.status == .nonCompliant)
        #expect(Items.item(textual).captureTime == Timestamp.parse("2026-11-03T10:00:00Z"))
    }
}

import SecModel
