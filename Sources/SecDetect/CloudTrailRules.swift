import Foundation
import SecModel

/// GuardDuty finding types and default severities used by the built-in detectors.
/// Types GuardDuty does not define are marked secq-defined in docs/detection.md.
enum Types {
    static func t(_ s: String) -> FindingType { FindingType(s)! }
    static let rootCredentialUsage = t("Policy:IAMUser/RootCredentialUsage")
    static let cloudTrailLoggingDisabled = t("Stealth:IAMUser/CloudTrailLoggingDisabled")
    static let passwordPolicyChange = t("Stealth:IAMUser/PasswordPolicyChange")
    static let consoleLoginSuccessB = t("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B")
    static let consoleLoginWithoutMFA = t("Policy:IAMUser/PrivilegedConsoleLoginWithoutMFA.Custom")
    static let consoleBruteForce = t("CredentialAccess:IAMUser/ConsoleLoginBruteForce.Custom")
    static let bucketBPADisabled = t("Policy:S3/BucketBlockPublicAccessDisabled")
    static let accountBPADisabled = t("Policy:S3/AccountBlockPublicAccessDisabled")
    static let bucketAnonymousAccess = t("Policy:S3/BucketAnonymousAccessGranted")
    static let s3LoggingDisabled = t("Stealth:S3/ServerAccessLoggingDisabled")
    static let securityGroupOpen = t("Policy:EC2/SecurityGroupAdminPortOpen.Custom")
    static let accessKeyForOtherUser = t("Persistence:IAMUser/AccessKeyCreatedForOtherUser.Custom")
    static let adminPolicyAttached = t("PrivilegeEscalation:IAMUser/AdministrativePolicyAttached.Custom")
    static let kali = t("PenTest:IAMUser/KaliLinux")
    static let parrot = t("PenTest:IAMUser/ParrotLinux")
    static let pentoo = t("PenTest:IAMUser/PentooLinux")
}

/// True for a CloudTrail call that succeeded (no error code; a console log-in that says
/// `Success`).
func succeeded(_ e: Event) -> Bool { e.source == .cloudtrail && e.outcome == .success }

/// The short name of a principal ARN (`arn:aws:iam::1:user/alice` -> `alice`).
func shortName(_ principal: String?) -> String {
    guard let p = principal else { return "unknown principal" }
    if let slash = p.lastIndex(of: "/") { return String(p[p.index(after: slash)...]) }
    return p
}

/// Policy:IAMUser/RootCredentialUsage: any call made with the account's root user
/// credentials, except calls a service made on root's behalf (`invokedBy`) and service
/// events. Key: account + principal. Severity 2.0 (GuardDuty: Low).
public struct RootCredentialUsageRule: EventRule {
    public let id = "cloudtrail.root-credential-usage"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard e.source == .cloudtrail, e.principalType == "Root" else { return [] }
        let raw = Raw(e)
        if raw.string("userIdentity.invokedBy") != nil || raw.string("eventType") == "AwsServiceEvent" { return [] }
        let call = e.action ?? "an API"
        return [FindingDraft(
            type: Types.rootCredentialUsage, severity: 2.0,
            title: "The root user of account \(e.account) called \(call)",
            description: "\(call) was invoked with root user credentials" + (e.srcIP.map { " from \($0)" } ?? "") + ".",
            detector: id, aggregationKey: [e.principal ?? "root"], event: e)]
    }
}

/// Stealth:IAMUser/CloudTrailLoggingDisabled: a successful `StopLogging`, `DeleteTrail`,
/// an `UpdateTrail` that turns off multi-region or global-service logging, or a
/// `PutEventSelectors` that leaves no selector logging management events. Key: account
/// + trail. Severity 2.0 (GuardDuty: Low).
public struct CloudTrailLoggingDisabledRule: EventRule {
    public let id = "cloudtrail.logging-disabled"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.service == "cloudtrail.amazonaws.com", let name = e.action else { return [] }
        let raw = Raw(e)
        let trail = raw.string("requestParameters.name") ?? raw.string("requestParameters.trailName") ?? e.resource ?? "trail"
        let what: String
        switch name {
        case "StopLogging": what = "logging was stopped"
        case "DeleteTrail": what = "the trail was deleted"
        case "UpdateTrail":
            if raw.bool("requestParameters.isMultiRegionTrail") == false { what = "the trail was made single-region" }
            else if raw.bool("requestParameters.includeGlobalServiceEvents") == false { what = "global service events were excluded" }
            else { return [] }
        case "PutEventSelectors":
            guard let sels = raw.json("requestParameters.eventSelectors") as? [[String: Any]] else { return [] }
            let logsManagement = sels.contains { ($0["includeManagementEvents"] as? Bool ?? true) }
            let advanced = raw.value("requestParameters.advancedEventSelectors") != nil
            guard !logsManagement, !advanced else { return [] }
            what = "event selectors no longer log management events"
        default: return []
        }
        return [FindingDraft(
            type: Types.cloudTrailLoggingDisabled, severity: 2.0,
            title: "CloudTrail trail \(shortName(trail)) was disabled",
            description: "\(name) by \(shortName(e.principal)): \(what).",
            detector: id, aggregationKey: [trail], event: e, resource: trail)]
    }
}

/// The privileged-principal test of ``PrivilegedConsoleLoginWithoutMFARule``: root, or a
/// principal whose ARN or user name contains (case-insensitively) one of
/// ``adminPatterns``.
public enum Privileged {
    public static let adminPatterns = ["admin", "root", "superuser", "poweruser", "breakglass", "break-glass"]

    public static func isPrivileged(principal: String?, principalType: String?, userName: String?) -> Bool {
        if principalType == "Root" { return true }
        for s in [principal, userName].compactMap({ $0?.lowercased() }) where adminPatterns.contains(where: s.contains) {
            return true
        }
        return false
    }
}

/// Console log-in without MFA by a privileged principal (secq-defined type): a
/// successful `ConsoleLogin` whose `additionalEventData.MFAUsed` is `No`. Key: account +
/// principal. Severity 5.0 (Medium).
public struct PrivilegedConsoleLoginWithoutMFARule: EventRule {
    public let id = "cloudtrail.privileged-login-without-mfa"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.action == "ConsoleLogin", e.mfa == false else { return [] }
        let user = Raw(e).string("userIdentity.userName")
        guard Privileged.isPrivileged(principal: e.principal, principalType: e.principalType, userName: user) else { return [] }
        return [FindingDraft(
            type: Types.consoleLoginWithoutMFA, severity: 5.0,
            title: "Privileged principal \(shortName(e.principal)) signed in to the console without MFA",
            description: "ConsoleLogin succeeded without MFA" + (e.srcIP.map { " from \($0)" } ?? "") + ".",
            detector: id, aggregationKey: [e.principal ?? "unknown"], event: e)]
    }
}

/// The S3 bucket-configuration rules: Policy:S3/BucketBlockPublicAccessDisabled (a
/// `PutBucketPublicAccessBlock` with any of its four settings false, or
/// `DeleteBucketPublicAccessBlock`; 2.0), Policy:S3/AccountBlockPublicAccessDisabled (the
/// same at account level; 2.0), Policy:S3/BucketAnonymousAccessGranted (a
/// `PutBucketPolicy` with an unconditioned `Allow` statement for principal `*` or
/// `{"AWS":"*"}`, or a `PutBucketAcl` granting `AllUsers` or `AuthenticatedUsers`, or a
/// canned `public-read`/`public-read-write` ACL; 8.0) and
/// Stealth:S3/ServerAccessLoggingDisabled (a `PutBucketLogging` without
/// `LoggingEnabled`; 2.0). Key: account + bucket (account alone for the account-level one).
public struct S3PolicyRules: EventRule {
    public let id = "cloudtrail.s3-policy"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    static let bpaFlags = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
    static let publicGroups = ["http://acs.amazonaws.com/groups/global/AllUsers",
                               "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"]

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.service == "s3.amazonaws.com" || e.service == "s3-control.amazonaws.com",
              let name = e.action else { return [] }
        let raw = Raw(e)
        let bucket = raw.string("requestParameters.bucketName") ?? e.resource ?? "bucket"
        func draft(_ t: FindingType, _ sev: Double, _ title: String, _ key: [String], resource: String?) -> [FindingDraft] {
            [FindingDraft(type: t, severity: sev, title: title, description: "\(name) by \(shortName(e.principal)).",
                          detector: id, aggregationKey: key, event: e, resource: resource)]
        }
        switch name {
        case "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock":
            guard name.hasPrefix("Delete") || anyFlagOff(raw) else { return [] }
            return draft(Types.bucketBPADisabled, 2.0, "Block Public Access was disabled on bucket \(bucket)", [bucket], resource: bucket)
        case "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock":
            guard name.hasPrefix("Delete") || anyFlagOff(raw) else { return [] }
            return draft(Types.accountBPADisabled, 2.0, "Block Public Access was disabled for account \(e.account)", [], resource: nil)
        case "PutBucketPolicy":
            guard policyGrantsAnonymous(raw.json("requestParameters.bucketPolicy")) else { return [] }
            return draft(Types.bucketAnonymousAccess, 8.0, "Bucket \(bucket) was opened to anyone by its policy", [bucket], resource: bucket)
        case "PutBucketAcl":
            guard aclGrantsPublic(raw) else { return [] }
            return draft(Types.bucketAnonymousAccess, 8.0, "Bucket \(bucket) was opened to anyone by its ACL", [bucket], resource: bucket)
        case "PutBucketLogging":
            guard let status = raw.json("requestParameters.BucketLoggingStatus") as? [String: Any],
                  status["LoggingEnabled"] == nil else { return [] }
            return draft(Types.s3LoggingDisabled, 2.0, "Server access logging was disabled on bucket \(bucket)", [bucket], resource: bucket)
        default: return []
        }
    }

    func anyFlagOff(_ raw: Raw) -> Bool {
        guard let params = raw.json("requestParameters") as? [String: Any] else { return false }
        // Bucket calls name it PublicAccessBlockConfiguration; the account call may nest it again.
        var conf = params["PublicAccessBlockConfiguration"] as? [String: Any] ?? params
        if let inner = conf["PublicAccessBlockConfiguration"] as? [String: Any] { conf = inner }
        return Self.bpaFlags.contains { f in
            if let b = conf[f] as? Bool { return !b }
            if let s = conf[f] as? String { return s.lowercased() == "false" }
            return false
        }
    }

    func policyGrantsAnonymous(_ policy: Any?) -> Bool {
        guard let doc = policy as? [String: Any] else { return false }
        let statements = (doc["Statement"] as? [[String: Any]]) ?? ((doc["Statement"] as? [String: Any]).map { [$0] } ?? [])
        return statements.contains { st in
            guard (st["Effect"] as? String) == "Allow", st["Condition"] == nil else { return false }
            return Self.isEveryone(st["Principal"])
        }
    }

    static func isEveryone(_ p: Any?) -> Bool {
        if let s = p as? String { return s == "*" }
        if let d = p as? [String: Any], let aws = d["AWS"] {
            if let s = aws as? String { return s == "*" }
            if let l = aws as? [String] { return l.contains("*") }
        }
        return false
    }

    func aclGrantsPublic(_ raw: Raw) -> Bool {
        let canned = raw.json("requestParameters.x-amz-acl")
        let cannedValues = (canned as? [String]) ?? ((canned as? String).map { [$0] } ?? [])
        if cannedValues.contains(where: { $0 == "public-read" || $0 == "public-read-write" || $0 == "authenticated-read" }) {
            return true
        }
        for header in ["x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-full-control", "x-amz-grant-read-acp", "x-amz-grant-write-acp"] {
            let v = raw.json("requestParameters.\(header)")
            let text = ((v as? [String]) ?? ((v as? String).map { [$0] } ?? [])).joined(separator: ",")
            if Self.publicGroups.contains(where: text.contains) { return true }
        }
        guard let acl = raw.value("requestParameters.AccessControlPolicy") else { return false }
        return Self.publicGroups.contains { acl.text.contains($0) }
    }
}

/// Ports whose exposure to the whole Internet counts as an admin port opened.
public enum AdminPorts {
    /// SSH, telnet, SMB, MSSQL, Oracle, MySQL, RDP, PostgreSQL, VNC, WinRM, Redis,
    /// Docker, Elasticsearch, MongoDB.
    public static let ports: [Int64] = [22, 23, 445, 1433, 1521, 3306, 3389, 5432, 5900, 5985, 5986, 6379, 2375, 2376, 9200, 27017]
}

/// Security group ingress opened to `0.0.0.0/0` or `::/0` (any prefix of length 0) on
/// an admin port (secq-defined type): a successful `AuthorizeSecurityGroupIngress`
/// whose permission (flat parameters or `ipPermissions.items`) covers one of
/// ``AdminPorts/ports`` (protocol `-1` covers all). Key: account + group + port.
/// Severity 5.0 (Medium).
public struct SecurityGroupOpenRule: EventRule {
    public let id = "cloudtrail.security-group-open"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.service == "ec2.amazonaws.com", e.action == "AuthorizeSecurityGroupIngress",
              let params = Raw(e).json("requestParameters") as? [String: Any] else { return [] }
        let group = (params["groupId"] as? String) ?? (params["groupName"] as? String) ?? e.resource ?? "security group"
        var perms: [[String: Any]] = [params]
        if let ip = params["ipPermissions"] as? [String: Any], let items = ip["items"] as? [[String: Any]] { perms += items }
        var open = Set<Int64>()
        for p in perms {
            var cidrs: [String] = []
            for k in ["cidrIp", "cidrIpv6", "cidrIpv4"] { if let c = p[k] as? String { cidrs.append(c) } }
            for (k, sub) in [("ipRanges", "cidrIp"), ("ipv6Ranges", "cidrIpv6")] {
                if let r = p[k] as? [String: Any], let items = r["items"] as? [[String: Any]] {
                    cidrs += items.compactMap { $0[sub] as? String }
                }
            }
            guard cidrs.contains(where: Self.isWholeInternet) else { continue }
            let proto = (p["ipProtocol"] as? String) ?? (p["ipProtocol"] as? NSNumber).map { "\($0)" } ?? ""
            guard proto == "tcp" || proto == "6" || proto == "-1" || proto == "udp" || proto == "17" else { continue }
            let from = Self.number(p["fromPort"]) ?? 0, to = Self.number(p["toPort"]) ?? 65535
            for port in AdminPorts.ports where proto == "-1" || (port >= from && port <= to) || (from == -1) {
                open.insert(port)
            }
        }
        return open.sorted().map { port in
            FindingDraft(type: Types.securityGroupOpen, severity: 5.0,
                         title: "Security group \(group) opened port \(port) to the Internet",
                         description: "AuthorizeSecurityGroupIngress by \(shortName(e.principal)) allows port \(port) from any address.",
                         detector: id, aggregationKey: [group, String(port)], event: e, resource: group)
        }
    }

    static func number(_ v: Any?) -> Int64? {
        if let n = v as? NSNumber { return n.int64Value }
        if let s = v as? String { return Int64(s) }
        return nil
    }

    /// A prefix of length 0: `0.0.0.0/0`, `::/0` (any address written before `/0`).
    static func isWholeInternet(_ cidr: String) -> Bool {
        let t = cidr.trimmingCharacters(in: .whitespaces)
        guard t.hasSuffix("/0") else { return false }
        return true
    }
}

/// An access key created for another user (secq-defined type): a successful
/// `CreateAccessKey` whose `requestParameters.userName` names a user other than the
/// caller (an IAM user's own name; any user for other caller types). Key: account +
/// target user. Severity 5.0 (Medium).
public struct AccessKeyForOtherUserRule: EventRule {
    public let id = "cloudtrail.access-key-other-user"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.service == "iam.amazonaws.com", e.action == "CreateAccessKey" else { return [] }
        let raw = Raw(e)
        guard let target = raw.string("requestParameters.userName") else { return [] }
        if e.principalType == "IAMUser", raw.string("userIdentity.userName") == target { return [] }
        return [FindingDraft(
            type: Types.accessKeyForOtherUser, severity: 5.0,
            title: "\(shortName(e.principal)) created an access key for user \(target)",
            description: "CreateAccessKey for \(target) by \(e.principal ?? "unknown").",
            detector: id, aggregationKey: [target], event: e, resource: target)]
    }
}

/// An administrative policy attached to a user, role or group (secq-defined type):
/// `Attach{User,Role,Group}Policy` with a policy ARN ending `:policy/AdministratorAccess`
/// or `:policy/IAMFullAccess`, or `Put{User,Role,Group}Policy` with an inline statement
/// allowing action `*` (or `iam:*`) on resource `*`. Key: account + target. Severity 7.0.
public struct AdminPolicyAttachedRule: EventRule {
    public let id = "cloudtrail.admin-policy-attached"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    static let adminPolicies = [":policy/AdministratorAccess", ":policy/IAMFullAccess"]

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.service == "iam.amazonaws.com", let name = e.action else { return [] }
        let raw = Raw(e)
        let target = raw.string("requestParameters.userName") ?? raw.string("requestParameters.roleName")
            ?? raw.string("requestParameters.groupName") ?? e.resource ?? "unknown"
        let policy: String
        switch name {
        case "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy":
            guard let arn = raw.string("requestParameters.policyArn"),
                  Self.adminPolicies.contains(where: arn.hasSuffix) else { return [] }
            policy = arn
        case "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy":
            guard Self.allowsEverything(raw.json("requestParameters.policyDocument")) else { return [] }
            policy = "inline policy " + (raw.string("requestParameters.policyName") ?? "")
        default: return []
        }
        return [FindingDraft(
            type: Types.adminPolicyAttached, severity: 7.0,
            title: "Administrative policy attached to \(target)",
            description: "\(name) by \(shortName(e.principal)) attached \(policy).",
            detector: id, aggregationKey: [target], event: e, resource: target)]
    }

    static func allowsEverything(_ doc: Any?) -> Bool {
        guard let d = doc as? [String: Any] else { return false }
        let sts = (d["Statement"] as? [[String: Any]]) ?? ((d["Statement"] as? [String: Any]).map { [$0] } ?? [])
        func list(_ v: Any?) -> [String] { (v as? [String]) ?? ((v as? String).map { [$0] } ?? []) }
        return sts.contains { st in
            (st["Effect"] as? String) == "Allow"
                && list(st["Action"]).contains { $0 == "*" || $0 == "iam:*" }
                && list(st["Resource"]).contains("*")
        }
    }
}
