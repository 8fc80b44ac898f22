import Foundation
import SecModel

/// A console password created or reset for another user (secq-defined types): a
/// successful `CreateLoginProfile` (Persistence) or `UpdateLoginProfile` (privilege
/// escalation: the caller takes over the user's console) whose `requestParameters.userName`
/// names a user other than the caller (an IAM user's own name; any user for other caller
/// types; a call without `userName` is the caller's own). Key: account + target user.
/// Severity 5.0.
public struct LoginProfileForOtherUserRule: EventRule {
    public let id = "cloudtrail.login-profile-other-user"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    static let created = FindingType("Persistence:IAMUser/LoginProfileCreatedForOtherUser.Custom")!
    static let updated = FindingType("PrivilegeEscalation:IAMUser/LoginProfileUpdatedForOtherUser.Custom")!

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.service == "iam.amazonaws.com",
              e.action == "CreateLoginProfile" || e.action == "UpdateLoginProfile" else { return [] }
        let raw = Raw(e)
        guard let target = raw.string("requestParameters.userName") else { return [] }
        if e.principalType == "IAMUser", raw.string("userIdentity.userName") == target { return [] }
        let create = e.action == "CreateLoginProfile"
        return [FindingDraft(
            type: create ? Self.created : Self.updated, severity: 5.0,
            title: "\(shortName(e.principal)) \(create ? "created" : "changed") the console password of user \(target)",
            description: "\(e.action ?? "") for \(target) by \(e.principal ?? "unknown").",
            detector: id, aggregationKey: [target], event: e, resource: target)]
    }
}

/// A role made assumable from another AWS account or by anyone (secq-defined type): a
/// successful `CreateRole` or `UpdateAssumeRolePolicy` whose trust policy has an `Allow`
/// statement, without `Condition`, for an `AWS` principal that is `*`, or an account id or
/// ARN of an account other than the role's. Key: account + role. Severity 5.0 (7.0 for `*`).
public struct RoleTrustExternalRule: EventRule {
    public let id = "cloudtrail.role-trust-external"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    static let type = FindingType("Persistence:IAMUser/RoleTrustGrantedToExternalAccount.Custom")!

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.service == "iam.amazonaws.com" else { return [] }
        let raw = Raw(e)
        let doc: Any?
        switch e.action {
        case "CreateRole": doc = raw.json("requestParameters.assumeRolePolicyDocument")
        case "UpdateAssumeRolePolicy": doc = raw.json("requestParameters.policyDocument")
        default: return []
        }
        let own = e.account
        let outside = Self.externalPrincipals(doc, own: own)
        guard !outside.isEmpty else { return [] }
        let role = raw.string("requestParameters.roleName") ?? "unknown"
        return [FindingDraft(
            type: Self.type, severity: outside.contains("*") ? 7.0 : 5.0,
            title: "Role \(role) can be assumed from outside account \(own)",
            description: "\(e.action ?? "") by \(shortName(e.principal)) trusts \(outside.joined(separator: ", ")).",
            detector: id, aggregationKey: [role], event: e, resource: role)]
    }

    /// The `AWS` principals of unconditioned `Allow` statements that are `*` or of
    /// another account than `own`.
    static func externalPrincipals(_ doc: Any?, own: String) -> [String] {
        guard let d = doc as? [String: Any] else { return [] }
        let sts = (d["Statement"] as? [[String: Any]]) ?? ((d["Statement"] as? [String: Any]).map { [$0] } ?? [])
        func list(_ v: Any?) -> [String] { (v as? [String]) ?? ((v as? String).map { [$0] } ?? []) }
        var out: [String] = []
        for st in sts where (st["Effect"] as? String) == "Allow" && st["Condition"] == nil {
            let aws: [String]
            if let p = st["Principal"] as? String { aws = [p] } else { aws = list((st["Principal"] as? [String: Any])?["AWS"]) }
            for p in aws {
                if p == "*" { out.append(p); continue }
                let account = p.hasPrefix("arn:") ? p.split(separator: ":", omittingEmptySubsequences: false).dropFirst(4).first.map(String.init) : p
                if let a = account, a.count == 12, a.allSatisfy(\.isNumber), a != own { out.append(p) }
            }
        }
        return out
    }
}

/// Federation credentials with an administrative inline session policy (secq-defined
/// type): a successful `GetFederationToken` whose `requestParameters.policy` allows action
/// `*` (or `iam:*`) on resource `*`. Such credentials outlive the deletion of the access
/// key that made them. Key: account + principal. Severity 5.0.
public struct FederationTokenAdminRule: EventRule {
    public let id = "cloudtrail.federation-token-admin"
    public let sources: Set<Source> = [.cloudtrail]
    public init() {}

    static let type = FindingType("Persistence:IAMUser/FederationTokenWithAdminPolicy.Custom")!

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.service == "sts.amazonaws.com", e.action == "GetFederationToken" else { return [] }
        let raw = Raw(e)
        guard AdminPolicyAttachedRule.allowsEverything(raw.json("requestParameters.policy")) else { return [] }
        let name = raw.string("requestParameters.name") ?? "unknown"
        return [FindingDraft(
            type: Self.type, severity: 5.0,
            title: "\(shortName(e.principal)) made federation credentials (\(name)) with an administrative policy",
            description: "GetFederationToken \(name) by \(e.principal ?? "unknown") from \(e.srcIP.map { "\($0)" } ?? "an AWS service").",
            detector: id, aggregationKey: [e.principal ?? "unknown"], event: e, resource: name)]
    }
}
