/// Which MITRE ATT&CK tactic a CloudTrail API call serves, for the
/// `<Tactic>:IAMUser/AnomalousBehavior` findings. GuardDuty names the same eight tactics
/// for its anomaly findings ("GuardDuty IAM finding types", docs.aws.amazon.com/guardduty/
/// latest/ug/guardduty_finding-types-iam.html) without publishing its table; this one is
/// secq's, documented in docs/detection.md.
///
/// An API is `service:action`, the service being the event source up to its first dot
/// (`iam.amazonaws.com` -> `iam`). The explicit table wins; otherwise read-only
/// reconnaissance (`List*`, `Describe*`, `Get*`, with data reads excluded) is Discovery;
/// everything else has no tactic and is never an anomaly finding.
public enum APITactic: String, Sendable, CaseIterable, Codable {
    case discovery = "Discovery"
    case persistence = "Persistence"
    case privilegeEscalation = "PrivilegeEscalation"
    case defenseEvasion = "DefenseEvasion"
    case exfiltration = "Exfiltration"
    case impact = "Impact"
    case credentialAccess = "CredentialAccess"
    case initialAccess = "InitialAccess"

    /// GuardDuty's severity for the tactic's anomaly finding: Discovery low; Persistence,
    /// PrivilegeEscalation, DefenseEvasion, CredentialAccess and InitialAccess medium;
    /// Exfiltration and Impact high.
    public var severity: Double {
        switch self {
        case .discovery: 2.0
        case .persistence, .privilegeEscalation, .defenseEvasion, .credentialAccess, .initialAccess: 5.0
        case .exfiltration, .impact: 8.0
        }
    }

    /// The tactic of an API call, nil when it serves none of them.
    public static func of(service: String, action: String) -> APITactic? {
        let svc = service.prefix { $0 != "." }
        let key = "\(svc):\(action)"
        if let t = table[key] { return t }
        if notDiscovery.contains(key) { return nil }
        if action.hasPrefix("List") || action.hasPrefix("Describe") || action.hasPrefix("Get") { return .discovery }
        return nil
    }

    /// Reads that look like recon by name but move data (or are every workload's
    /// routine): not Discovery.
    static let notDiscovery: Set<String> = [
        "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent", "dynamodb:GetItem", "dynamodb:BatchGetItem",
        "kinesis:GetRecords", "kinesis:GetShardIterator", "logs:GetLogEvents", "logs:GetQueryResults",
        "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer",
        "kms:GenerateDataKey", "sts:GetSessionToken", "sts:GetFederationToken", "codecommit:GetBlob",
        "athena:GetQueryResults", "cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics",
    ]

    static let table: [String: APITactic] = {
        var t: [String: APITactic] = [:]
        func add(_ tactic: APITactic, _ apis: [String]) { for a in apis { t[a] = tactic } }
        add(.persistence, [
            "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
            "iam:UploadSSHPublicKey", "iam:CreateServiceSpecificCredential", "iam:UploadSigningCertificate",
            "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:CreateRole", "iam:CreateSAMLProvider",
            "iam:CreateOpenIDConnectProvider", "ec2:CreateKeyPair", "ec2:ImportKeyPair",
            "lambda:CreateFunction20150331", "lambda:AddPermission20150331", "lambda:AddPermission20150331v2",
            "events:PutRule", "events:PutTargets", "sso:CreatePermissionSet",
        ])
        add(.privilegeEscalation, [
            "iam:AttachUserPolicy", "iam:AttachRolePolicy", "iam:AttachGroupPolicy", "iam:PutUserPolicy",
            "iam:PutRolePolicy", "iam:PutGroupPolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
            "iam:AddUserToGroup", "iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:PutUserPermissionsBoundary",
            "iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
            "lambda:UpdateFunctionCode20150331v2", "lambda:UpdateFunctionConfiguration20150331v2",
            "ec2:ModifyInstanceAttribute", "ssm:SendCommand", "ssm:StartSession", "glue:UpdateDevEndpoint",
        ])
        add(.defenseEvasion, [
            "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
            "ec2:DeleteFlowLogs", "guardduty:DeleteDetector", "guardduty:UpdateDetector",
            "guardduty:DisassociateFromMasterAccount", "guardduty:DisassociateFromAdministratorAccount",
            "guardduty:CreateIPSet", "guardduty:UpdateIPSet", "guardduty:DeleteThreatIntelSet",
            "config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel",
            "logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:PutRetentionPolicy", "s3:PutBucketLogging",
            "securityhub:DisableSecurityHub", "access-analyzer:DeleteAnalyzer", "macie2:DisableMacie",
            "iam:DeleteAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy", "waf:DeleteWebACL",
            "wafv2:DeleteWebACL", "route53resolver:DeleteResolverQueryLogConfig", "ec2:DeleteVpcFlowLogs",
        ])
        add(.exfiltration, [
            "ec2:ModifySnapshotAttribute", "ec2:ModifyImageAttribute", "ec2:CreateInstanceExportTask",
            "ec2:SharedSnapshotCopyInitiated", "rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute",
            "s3:PutBucketReplication", "s3:PutBucketPolicy", "s3:PutBucketAcl", "s3:DeleteBucketPublicAccessBlock",
            "s3:PutBucketPublicAccessBlock", "ebs:StartSnapshot", "ec2:CopySnapshot", "ec2:CreateSnapshot",
            "redshift:AuthorizeSnapshotAccess", "ec2:ExportImage",
        ])
        add(.impact, [
            "s3:DeleteBucket", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:PutBucketLifecycle",
            "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "rds:DeleteDBInstance",
            "rds:DeleteDBCluster", "rds:DeleteDBSnapshot", "ec2:DeleteSnapshot", "ec2:DeleteVolume",
            "ec2:TerminateInstances", "ec2:DisableEbsEncryptionByDefault", "backup:DeleteBackupVault",
            "backup:DeleteRecoveryPoint", "dynamodb:DeleteTable", "iam:DeleteUser", "iam:DeleteRole",
            "route53:DeleteHostedZone", "secretsmanager:DeleteSecret", "organizations:LeaveOrganization",
        ])
        add(.credentialAccess, [
            "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "ssm:GetParameter",
            "ssm:GetParameters", "ssm:GetParametersByPath", "ec2:GetPasswordData", "rds:ModifyDBInstance",
            "iam:UpdateAccessKey", "redshift:GetClusterCredentials", "codecommit:GetCredentials",
            "ecr:GetAuthorizationToken", "kms:Decrypt", "lightsail:GetInstanceAccessDetails",
        ])
        add(.initialAccess, [
            "signin:ConsoleLogin", "sts:GetFederationToken", "sts:GetSessionToken", "sso:Federate",
            "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
        ])
        return t
    }()
}
