import Foundation
import SecModel

/// The managed-rule equivalents, table-driven: `all` in report order.
///
/// Each verdict reads the item's `configuration` and `supplementaryConfiguration` as
/// AWS Config records them. Where Config records nothing a rule needs (MFA devices,
/// access keys, the password policy, root keys) the rule reads the documented extra
/// fields (see docs/compliance.md) and answers INSUFFICIENT_DATA when they are absent.
public enum ManagedRules {
    public static let all: [ManagedRule] = network + s3 + trail + storage + iam + account

    public static func named(_ name: String) -> ManagedRule? { all.first { $0.name == name } }

    static let sg = "AWS::EC2::SecurityGroup"
    static let bucket = "AWS::S3::Bucket"

    // MARK: - Network

    static let network: [ManagedRule] = [
        ManagedRule("restricted-ssh", .resource(types: [sg], related: []), cis: "5.2",
                    summary: "no security group allows tcp/22 from 0.0.0.0/0 or ::/0") { item, _ in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            if let open = SecurityGroup.worldOpen(conf, port: 22) { return .nonCompliant("ingress \(open) (ipPermissions)") }
            return .compliant("tcp/22 is not open to 0.0.0.0/0 or ::/0")
        },
        ManagedRule("restricted-common-ports", .resource(types: [sg], related: []), cis: "5.2",
                    parameters: [ParameterSpec("blockedPorts", .ports, .string("20,21,3389,3306,4333"))],
                    summary: "no security group allows the blocked tcp ports from 0.0.0.0/0 or ::/0") { item, ctx in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            let ports = ctx.parameters.ports("blockedPorts") ?? [20, 21, 3389, 3306, 4333]
            var open: [String] = []
            for p in ports { if let o = SecurityGroup.worldOpen(conf, port: p) { open.append(o) } }
            if !open.isEmpty { return .nonCompliant("ingress \(open.joined(separator: ", ")) (ipPermissions)") }
            return .compliant("blocked ports \(ports.map(String.init).joined(separator: ",")) are not open to the world")
        },
        ManagedRule("vpc-default-security-group-closed", .resource(types: [sg], related: []), cis: "5.3",
                    summary: "a VPC's default security group has no inbound or outbound rules") { item, _ in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            guard conf.member("groupName")?.string == "default" else { return .notApplicable("not a default security group") }
            let inbound = conf.member("ipPermissions")?.array ?? []
            let outbound = conf.member("ipPermissionsEgress")?.array ?? []
            if !inbound.isEmpty || !outbound.isEmpty {
                return .nonCompliant("default security group has \(inbound.count) inbound and \(outbound.count) outbound rules (ipPermissions, ipPermissionsEgress)")
            }
            return .compliant("no inbound or outbound rules")
        },
        ManagedRule("vpc-flow-logs-enabled", .resource(types: ["AWS::EC2::VPC"], related: ["AWS::EC2::FlowLog"]), cis: "3.9",
                    parameters: [ParameterSpec("trafficType", .string)],
                    summary: "every VPC has a flow log (of the traffic type, when given)") { item, ctx in
            let logs = ctx.live("AWS::EC2::FlowLog").filter { f in
                let target = f.configuration?.member("resourceId")?.string
                return target == item.resourceId
            }
            if logs.isEmpty { return .nonCompliant("no flow log for \(item.resourceId) (AWS::EC2::FlowLog)") }
            if let want = ctx.parameters.string("trafficType") {
                let types = logs.compactMap { $0.configuration?.member("trafficType")?.string }
                if !types.contains(where: { $0.caseInsensitiveCompare(want) == .orderedSame }) {
                    return .nonCompliant("flow logs capture \(types.joined(separator: ", ")), not trafficType \(want)")
                }
            }
            return .compliant("flow log \(logs[0].resourceId)")
        },
    ]

    // MARK: - S3

    static let s3: [ManagedRule] = [
        ManagedRule("s3-bucket-public-read-prohibited", .resource(types: [bucket], related: []),
                    summary: "no bucket policy or ACL grants public read (unless Block Public Access overrides it)") { item, _ in
            if let why = S3Bucket.publicGrant(item, write: false) { return .nonCompliant(why) }
            return .compliant("no public read grant in effect")
        },
        ManagedRule("s3-bucket-public-write-prohibited", .resource(types: [bucket], related: []),
                    summary: "no bucket policy or ACL grants public write (unless Block Public Access overrides it)") { item, _ in
            if let why = S3Bucket.publicGrant(item, write: true) { return .nonCompliant(why) }
            return .compliant("no public write grant in effect")
        },
        ManagedRule("s3-bucket-level-public-access-prohibited", .resource(types: [bucket], related: []), cis: "2.1.5",
                    parameters: [ParameterSpec("excludedPublicBuckets", .string)],
                    summary: "the bucket's Block Public Access settings are all on") { item, ctx in
            if ctx.parameters.list("excludedPublicBuckets").contains(item.resourceId) {
                return .compliant("excluded by excludedPublicBuckets")
            }
            guard let bpa = item.supplementary("PublicAccessBlockConfiguration"), bpa.object != nil else {
                return .nonCompliant("no bucket-level Block Public Access (PublicAccessBlockConfiguration)")
            }
            let off = S3Bucket.blockFlags.filter { bpa.member($0)?.bool != true }
            if !off.isEmpty { return .nonCompliant("PublicAccessBlockConfiguration \(off.joined(separator: ", ")) false") }
            return .compliant("all four Block Public Access settings on")
        },
        ManagedRule("s3-account-level-public-access-blocks", .resource(types: ["AWS::S3::AccountPublicAccessBlock"], related: []),
                    cis: "2.1.5",
                    parameters: S3Bucket.blockFlags.map { ParameterSpec($0.prefix(1).uppercased() + $0.dropFirst(), .bool, .bool(true)) },
                    summary: "the account's Block Public Access settings are on (each one the parameters ask for)") { item, ctx in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            var off: [String] = []
            for flag in S3Bucket.blockFlags {
                let param = flag.prefix(1).uppercased() + flag.dropFirst()
                if ctx.parameters.bool(param) != false && conf.member(flag)?.bool != true { off.append(flag) }
            }
            if !off.isEmpty { return .nonCompliant("account Block Public Access \(off.joined(separator: ", ")) false") }
            return .compliant("account Block Public Access on")
        },
        ManagedRule("s3-bucket-server-side-encryption-enabled", .resource(types: [bucket], related: []), cis: "2.1.1",
                    summary: "the bucket has default encryption") { item, _ in
            let rules = item.supplementary("ServerSideEncryptionConfiguration")?.member("rules")?.array ?? []
            let algs = rules.compactMap { $0.path("applyServerSideEncryptionByDefault", "sseAlgorithm")?.string }
            if algs.isEmpty { return .nonCompliant("no default encryption (ServerSideEncryptionConfiguration)") }
            return .compliant("default encryption \(algs.joined(separator: ","))")
        },
        ManagedRule("s3-bucket-ssl-requests-only", .resource(types: [bucket], related: []), cis: "2.1.2",
                    summary: "the bucket policy denies requests without TLS (aws:SecureTransport false)") { item, _ in
            for s in S3Bucket.statements(item) where s.member("Effect")?.string == "Deny" {
                let secure = s.path("Condition", "Bool", "aws:SecureTransport")
                let insecure = secure?.bool == false || secure?.list.contains { $0.bool == false } == true
                if insecure && IAMPolicy.isEveryone(s.member("Principal")) {
                    return .compliant("policy denies aws:SecureTransport false")
                }
            }
            return .nonCompliant("bucket policy does not deny requests with aws:SecureTransport false")
        },
        ManagedRule("s3-bucket-logging-enabled", .resource(types: [bucket], related: []), cis: "3.6",
                    parameters: [ParameterSpec("targetBucket", .string), ParameterSpec("targetPrefix", .string)],
                    summary: "server access logging is on (to the target bucket and prefix, when given)") { item, ctx in
            let logging = item.supplementary("BucketLoggingConfiguration")
            guard let target = logging?.member("destinationBucketName")?.string, !target.isEmpty else {
                return .nonCompliant("no server access logging (BucketLoggingConfiguration.destinationBucketName)")
            }
            if let want = ctx.parameters.string("targetBucket"), want != target {
                return .nonCompliant("logs to \(target), not targetBucket \(want)")
            }
            if let want = ctx.parameters.string("targetPrefix"), want != logging?.member("logFilePrefix")?.string {
                return .nonCompliant("log prefix is not targetPrefix \(want)")
            }
            return .compliant("logs to \(target)")
        },
        ManagedRule("s3-bucket-versioning-enabled", .resource(types: [bucket], related: []),
                    parameters: [ParameterSpec("isMfaDeleteEnabled", .bool)],
                    summary: "versioning is enabled (and MFA delete, when asked)") { item, ctx in
            let v = item.supplementary("BucketVersioningConfiguration")
            let status = v?.member("status")?.string ?? "Off"
            guard status == "Enabled" else { return .nonCompliant("versioning \(status) (BucketVersioningConfiguration.status)") }
            if ctx.parameters.bool("isMfaDeleteEnabled") == true && v?.member("isMfaDeleteEnabled")?.bool != true {
                return .nonCompliant("MFA delete off (BucketVersioningConfiguration.isMfaDeleteEnabled)")
            }
            return .compliant("versioning Enabled")
        },
    ]

    // MARK: - CloudTrail

    static let trailType = "AWS::CloudTrail::Trail"

    static let trail: [ManagedRule] = [
        ManagedRule("cloudtrail-enabled", .account(regional: true), cis: "3.1",
                    parameters: [ParameterSpec("s3BucketName", .string), ParameterSpec("snsTopicArn", .string),
                                 ParameterSpec("cloudWatchLogsLogGroupArn", .string)],
                    summary: "a trail logs the region (to the bucket, topic and log group, when given)") { scope, ctx in
            Trails.verdict(scope, ctx, multiRegion: false)
        },
        ManagedRule("multi-region-cloudtrail-enabled", .account(regional: true), cis: "3.1",
                    parameters: [ParameterSpec("s3BucketName", .string), ParameterSpec("snsTopicArn", .string),
                                 ParameterSpec("cloudWatchLogsLogGroupArn", .string), ParameterSpec("readWriteType", .string)],
                    summary: "a multi-region trail is logging (management events of readWriteType, when given)") { scope, ctx in
            Trails.verdict(scope, ctx, multiRegion: true)
        },
        ManagedRule("cloud-trail-log-file-validation-enabled", .resource(types: [trailType], related: []), cis: "3.2",
                    summary: "the trail writes signed digest files") { item, _ in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            guard let on = conf.member("logFileValidationEnabled")?.bool else {
                return .insufficient("item has no logFileValidationEnabled")
            }
            return on ? .compliant("logFileValidationEnabled true") : .nonCompliant("logFileValidationEnabled false")
        },
        ManagedRule("cloud-trail-encryption-enabled", .resource(types: [trailType], related: []), cis: "3.7",
                    summary: "the trail's logs are encrypted with a KMS key") { item, _ in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            if let k = conf.member("kmsKeyId")?.string, !k.isEmpty { return .compliant("kmsKeyId \(k)") }
            return .nonCompliant("no kmsKeyId (logs are not encrypted with KMS)")
        },
    ]

    // MARK: - Storage, databases, instances, keys

    static let storage: [ManagedRule] = [
        ManagedRule("encrypted-volumes", .resource(types: ["AWS::EC2::Volume"], related: []), cis: "2.2.1",
                    parameters: [ParameterSpec("kmsId", .string)],
                    summary: "attached EBS volumes are encrypted (with the key, when given)") { item, ctx in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            let attached = !(conf.member("attachments")?.array ?? []).isEmpty || conf.member("state")?.string == "in-use"
            guard attached else { return .notApplicable("volume is not attached") }
            guard let encrypted = conf.member("encrypted")?.bool else { return .insufficient("item has no encrypted") }
            guard encrypted else { return .nonCompliant("encrypted false") }
            // kmsId may be a key id or its ARN; Config records the ARN.
            if let want = ctx.parameters.string("kmsId") {
                let have = conf.member("kmsKeyId")?.string ?? ""
                if have == want || have.hasSuffix(":key/" + want) { return .compliant("encrypted true with kmsId \(want)") }
                return .nonCompliant("kmsKeyId is not kmsId \(want)")
            }
            return .compliant("encrypted true")
        },
        ManagedRule("rds-storage-encrypted", .resource(types: ["AWS::RDS::DBInstance"], related: []), cis: "2.3.1",
                    parameters: [ParameterSpec("kmsKeyId", .string)],
                    summary: "the DB instance's storage is encrypted (with the key, when given)") { item, ctx in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            guard let encrypted = conf.member("storageEncrypted")?.bool else { return .insufficient("item has no storageEncrypted") }
            guard encrypted else { return .nonCompliant("storageEncrypted false") }
            if let want = ctx.parameters.string("kmsKeyId"), conf.member("kmsKeyId")?.string != want {
                return .nonCompliant("kmsKeyId is not \(want)")
            }
            return .compliant("storageEncrypted true")
        },
        ManagedRule("rds-instance-public-access-check", .resource(types: ["AWS::RDS::DBInstance"], related: []),
                    summary: "the DB instance is not publicly accessible") { item, _ in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            guard let open = conf.member("publiclyAccessible")?.bool else { return .insufficient("item has no publiclyAccessible") }
            if open { return .nonCompliant("publiclyAccessible true") }
            return .compliant("publiclyAccessible false")
        },
        ManagedRule("rds-snapshots-public-prohibited",
                    .resource(types: ["AWS::RDS::DBSnapshot", "AWS::RDS::DBClusterSnapshot"], related: []),
                    summary: "no DB snapshot can be restored by everyone") { item, _ in
            let attrs = (item.supplementary("DBSnapshotAttributes") ?? item.supplementary("DBClusterSnapshotAttributes")
                ?? item.configuration?.member("dBSnapshotAttributes"))?.list ?? []
            for a in attrs where a.member("attributeName")?.string == "restore" {
                if (a.member("attributeValues")?.list ?? []).contains(.string("all")) {
                    return .nonCompliant("snapshot attribute restore includes 'all' (public)")
                }
            }
            return .compliant("snapshot is not public")
        },
        ManagedRule("ec2-imdsv2-check", .resource(types: ["AWS::EC2::Instance"], related: []),
                    summary: "the instance requires IMDSv2 (metadataOptions.httpTokens required)") { item, _ in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            if conf.path("state", "name")?.string == "terminated" { return .notApplicable("instance terminated") }
            guard let tokens = conf.path("metadataOptions", "httpTokens")?.string else {
                return .insufficient("item has no metadataOptions.httpTokens")
            }
            if tokens == "required" { return .compliant("metadataOptions.httpTokens required") }
            return .nonCompliant("metadataOptions.httpTokens \(tokens)")
        },
        ManagedRule("cmk-backing-key-rotation-enabled", .resource(types: ["AWS::KMS::Key"], related: []), cis: "3.8",
                    summary: "customer managed symmetric keys rotate yearly") { item, _ in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            if conf.member("keyManager")?.string == "AWS" { return .notApplicable("AWS managed key") }
            if let spec = conf.member("keySpec")?.string ?? conf.member("customerMasterKeySpec")?.string, spec != "SYMMETRIC_DEFAULT" {
                return .notApplicable("key spec \(spec) cannot rotate")
            }
            if let state = conf.member("keyState")?.string, state != "Enabled" { return .notApplicable("key state \(state)") }
            guard let on = item.supplementary("KeyRotationStatus")?.member("keyRotationEnabled")?.bool else {
                return .insufficient("item has no KeyRotationStatus")
            }
            return on ? .compliant("keyRotationEnabled true") : .nonCompliant("keyRotationEnabled false (key rotation disabled)")
        },
    ]

    // MARK: - IAM

    static let userType = "AWS::IAM::User"

    static let iam: [ManagedRule] = [
        ManagedRule("iam-user-mfa-enabled", .resource(types: [userType], related: []), cis: "1.10",
                    parameters: [ParameterSpec("includeProgrammaticUsers", .bool, .bool(false))],
                    summary: "users with a console password have an MFA device") { item, ctx in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            let console = conf.member("loginProfile").map { !$0.isNull }
            if console == false && ctx.parameters.bool("includeProgrammaticUsers") != true {
                return .notApplicable("no console password (loginProfile null)")
            }
            guard let devices = conf.member("mfaDevices")?.array else {
                return .insufficient("item has no mfaDevices (Config does not record MFA devices)")
            }
            if devices.isEmpty { return .nonCompliant("no MFA device (mfaDevices empty)") }
            return .compliant("\(devices.count) MFA device(s)")
        },
        ManagedRule("iam-user-no-policies-check", .resource(types: [userType], related: []), cis: "1.15",
                    summary: "users get permissions only through groups or roles") { item, _ in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            let inline = (conf.member("userPolicyList")?.array ?? []).compactMap { $0.member("policyName")?.string }
            let attached = (conf.member("attachedManagedPolicies")?.array ?? []).compactMap { $0.member("policyName")?.string }
            if !inline.isEmpty || !attached.isEmpty {
                var parts: [String] = []
                if !attached.isEmpty { parts.append("attachedManagedPolicies \(attached.joined(separator: ", "))") }
                if !inline.isEmpty { parts.append("userPolicyList \(inline.joined(separator: ", "))") }
                return .nonCompliant("policies attached to the user: " + parts.joined(separator: "; "))
            }
            return .compliant("no policies attached to the user")
        },
        ManagedRule("access-keys-rotated", .resource(types: [userType], related: []), cis: "1.14",
                    parameters: [ParameterSpec("maxAccessKeyAge", .int, .number(90))],
                    summary: "active access keys are younger than maxAccessKeyAge days (at the item's capture time)") { item, ctx in
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            guard let keys = (conf.member("accessKeys") ?? conf.member("accessKeyMetadata"))?.array else {
                return .insufficient("item has no accessKeys (Config does not record access keys)")
            }
            let maxAge = ctx.parameters.int("maxAccessKeyAge") ?? 90
            let active = keys.filter { $0.member("status")?.string == "Active" }
            if active.isEmpty { return .notApplicable("no active access keys") }
            for k in active {
                guard let created = k.member("createDate")?.string.flatMap(ConfigTime.parse) else {
                    return .insufficient("access key without createDate")
                }
                let days = (item.captureTime - created) / 86_400_000
                if days > Int64(maxAge) {
                    return .nonCompliant("access key \(k.member("accessKeyId")?.string ?? "?") is \(days) days old (maxAccessKeyAge \(maxAge))")
                }
            }
            return .compliant("active keys younger than \(maxAge) days")
        },
        ManagedRule("iam-policy-no-statements-with-admin-access", .resource(types: ["AWS::IAM::Policy"], related: []),
                    cis: "1.16",
                    summary: "no customer managed policy allows Action * on Resource *") { item, _ in
            if (item.arn ?? "").hasPrefix("arn:aws:iam::aws:") { return .notApplicable("AWS managed policy") }
            guard let conf = item.configuration else { return .insufficient("item has no configuration") }
            let versions = conf.member("policyVersionList")?.array ?? []
            guard let version = versions.first(where: { $0.member("isDefaultVersion")?.bool == true }) ?? versions.first,
                  let doc = IAMPolicy.document(version.member("document")) else {
                return .insufficient("item has no policy document (policyVersionList)")
            }
            for s in IAMPolicy.statements(doc) where s.member("Effect")?.string == "Allow" {
                let actions = (s.member("Action")?.list ?? []).compactMap(\.string)
                let resources = (s.member("Resource")?.list ?? []).compactMap(\.string)
                if actions.contains("*") && resources.contains("*") {
                    return .nonCompliant("statement allows Action * on Resource *" + (s.member("Sid")?.string.map { " (Sid \($0))" } ?? ""))
                }
            }
            return .compliant("no statement allows * on *")
        },
    ]

    // MARK: - Account-wide

    static let account: [ManagedRule] = [
        ManagedRule("iam-password-policy", .account(regional: false), cis: "1.8",
                    parameters: [ParameterSpec("RequireUppercaseCharacters", .bool, .bool(true)),
                                 ParameterSpec("RequireLowercaseCharacters", .bool, .bool(true)),
                                 ParameterSpec("RequireSymbols", .bool, .bool(true)),
                                 ParameterSpec("RequireNumbers", .bool, .bool(true)),
                                 ParameterSpec("MinimumPasswordLength", .int, .number(14)),
                                 ParameterSpec("PasswordReusePrevention", .int, .number(24)),
                                 ParameterSpec("MaxPasswordAge", .int, .number(90))],
                    summary: "the account password policy meets the parameters") { scope, ctx in
            let accounts = ctx.live(accountResourceType).filter { $0.resourceId == scope.account }
            guard let conf = accounts.first?.configuration, let policy = conf.member("passwordPolicy") else {
                return .insufficient("no password policy recorded (AWS::::Account passwordPolicy)")
            }
            guard policy.object != nil else { return .nonCompliant("no password policy (the IAM default)") }
            var bad: [String] = []
            for flag in ["RequireUppercaseCharacters", "RequireLowercaseCharacters", "RequireSymbols", "RequireNumbers"]
            where ctx.parameters.bool(flag) == true && policy.member(flag)?.bool != true {
                bad.append("\(flag) false")
            }
            let p = ctx.parameters
            if let want = p.int("MinimumPasswordLength"), Int(policy.member("MinimumPasswordLength")?.number ?? 0) < want {
                bad.append("MinimumPasswordLength \(Int(policy.member("MinimumPasswordLength")?.number ?? 0)) < \(want)")
            }
            if let want = p.int("PasswordReusePrevention"), Int(policy.member("PasswordReusePrevention")?.number ?? 0) < want {
                bad.append("PasswordReusePrevention \(Int(policy.member("PasswordReusePrevention")?.number ?? 0)) < \(want)")
            }
            if let want = p.int("MaxPasswordAge") {
                let age = Int(policy.member("MaxPasswordAge")?.number ?? 0)
                if age == 0 || age > want { bad.append(age == 0 ? "MaxPasswordAge unset" : "MaxPasswordAge \(age) > \(want)") }
            }
            return bad.isEmpty ? .compliant("password policy meets the parameters") : .nonCompliant(bad.joined(separator: ", "))
        },
        ManagedRule("iam-root-access-key-check", .account(regional: false), cis: "1.4",
                    summary: "the root user has no access keys") { scope, ctx in
            let accounts = ctx.live(accountResourceType).filter { $0.resourceId == scope.account }
            guard let present = accounts.first?.configuration?.path("accountSummary", "AccountAccessKeysPresent")?.number else {
                return .insufficient("no account summary recorded (AWS::::Account accountSummary.AccountAccessKeysPresent)")
            }
            return present > 0 ? .nonCompliant("AccountAccessKeysPresent \(Int(present)) (root user has access keys)")
                               : .compliant("AccountAccessKeysPresent 0")
        },
        ManagedRule("guardduty-enabled-centralized", .account(regional: true),
                    parameters: [ParameterSpec("CentralMonitoringAccount", .string)],
                    summary: "GuardDuty is enabled in the region (AWS::GuardDuty::Detector)") { scope, ctx in
            let all = ctx.accountItems.filter { $0.resourceType == "AWS::GuardDuty::Detector" }
            guard !all.isEmpty else { return .insufficient("no AWS::GuardDuty::Detector recorded in the account") }
            let here = ctx.live("AWS::GuardDuty::Detector").filter { $0.region == scope.region }
            guard let d = here.first else { return .nonCompliant("no GuardDuty detector in \(scope.region)") }
            let conf = d.configuration
            let enabled = conf?.member("enable")?.bool ?? conf?.member("status")?.string.map { $0 == "ENABLED" }
            if enabled == false { return .nonCompliant("detector \(d.resourceId) is disabled") }
            return .compliant("detector \(d.resourceId) enabled")
        },
    ]
}

/// Times in configuration fields (`createDate`, ...), RFC 3339 with or without a fraction.
enum ConfigTime {
    static func parse(_ s: String) -> Int64? { Timestamp.parse(s) }
}
