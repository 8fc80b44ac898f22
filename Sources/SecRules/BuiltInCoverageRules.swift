import SecDetect

/// Built-in rule files for CloudTrail techniques one event (or a short burst of one call)
/// decides: sharing snapshots and images with other accounts, deleting flow or DNS
/// query logs, leaving the organization, bulk reads of secrets, user data and instance
/// passwords, and the like. Each covers a Stratus Red Team technique (docs/detection.md,
/// "Stratus Red Team"; the table's source is tools/stratus-expected.json).
extension BuiltInRules {
    static let coverageFiles: [(name: String, text: String)] = shared(
        id: "cloudtrail.ebs-snapshot-shared", type: "EC2/Snapshot", what: "EBS snapshot",
        service: "ec2", actions: ["ModifySnapshotAttribute"], name: "raw.requestParameters.snapshotId",
        added: "raw.requestParameters.createVolumePermission.add")
      + shared(
        id: "cloudtrail.ami-shared", type: "EC2/AMI", what: "AMI",
        service: "ec2", actions: ["ModifyImageAttribute"], name: "raw.requestParameters.imageId",
        added: "raw.requestParameters.launchPermission.add")
      + shared(
        id: "cloudtrail.rds-snapshot-shared", type: "RDS/Snapshot", what: "RDS snapshot",
        service: "rds", actions: ["ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"],
        name: "raw.requestParameters.dBSnapshotIdentifier|a cluster snapshot",
        added: "raw.requestParameters.valuesToAdd",
        extra: #" and raw.requestParameters.attributeName == "restore""#)
      + [
        ("flow-logs-deleted.yml", """
        # Stealth:IAMUser/FlowLogsDeleted.Custom: VPC flow logs deleted (the network record stops).
        id: cloudtrail.flow-logs-deleted
        finding_type: Stealth:IAMUser/FlowLogsDeleted.Custom
        severity: 5.0
        title: "VPC flow logs deleted by {principal}"
        description: "DeleteFlowLogs {raw.requestParameters.DeleteFlowLogsRequest.FlowLogId.content|} by {principal} from {src_ip|an AWS service}."
        sources: [cloudtrail]
        aggregation_key: [principal]
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "ec2.amazonaws.com"
          and action == "DeleteFlowLogs"
        """),
        ("dns-query-logging-deleted.yml", """
        # Stealth:IAMUser/DNSQueryLoggingDeleted.Custom: a Route 53 Resolver query logging
        # configuration deleted or detached from a VPC (the DNS record stops).
        id: cloudtrail.dns-query-logging-deleted
        finding_type: Stealth:IAMUser/DNSQueryLoggingDeleted.Custom
        severity: 5.0
        title: "Route 53 Resolver query logging removed by {principal}"
        description: "{action} {raw.requestParameters.resolverQueryLogConfigId|} by {principal} from {src_ip|an AWS service}."
        sources: [cloudtrail]
        aggregation_key: [principal]
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "route53resolver.amazonaws.com"
          and action in ("DeleteResolverQueryLogConfig", "DisassociateResolverQueryLogConfig")
        """),
        ("organization-leave.yml", """
        # Stealth:IAMUser/LeaveOrganizationAttempted.Custom: an account tries to leave its
        # AWS Organization (and its SCPs, organization trail and central GuardDuty). An
        # attempt that was denied counts: it is never routine.
        id: cloudtrail.organization-leave
        finding_type: Stealth:IAMUser/LeaveOrganizationAttempted.Custom
        severity: 7.0
        title: "{principal} tried to take account {account} out of its organization"
        description: "LeaveOrganization by {principal} from {src_ip|an AWS service}; error: {error_code|none}."
        sources: [cloudtrail]
        aggregation_key: []
        where: >-
          source == "cloudtrail" and service == "organizations.amazonaws.com" and action == "LeaveOrganization"
        """),
        ("ec2-password-data-burst.yml", """
        # CredentialAccess:IAMUser/EC2PasswordDataRetrieval.Custom: one principal asks for the
        # Windows administrator password of many instances (allowed or not). A single call
        # is how an admin reads a new Windows instance's password, so it takes 5.
        id: cloudtrail.ec2-password-data-burst
        finding_type: CredentialAccess:IAMUser/EC2PasswordDataRetrieval.Custom
        severity: 5.0
        title: "{principal} asked for the password data of EC2 instances {count} times"
        sources: [cloudtrail]
        aggregation_key: [principal]
        threshold:
          where: source == "cloudtrail" and service == "ec2.amazonaws.com" and action == "GetPasswordData"
          count: 5
          by: [principal]
          window: 10m
        """),
        ("secrets-batch-retrieval.yml", """
        # CredentialAccess:IAMUser/SecretsBulkRetrieval.Custom: BatchGetSecretValue reads up
        # to 20 secrets (or every secret a filter matches) in one call.
        id: cloudtrail.secrets-batch-retrieval
        finding_type: CredentialAccess:IAMUser/SecretsBulkRetrieval.Custom
        severity: 5.0
        title: "{principal} read secrets in bulk with BatchGetSecretValue"
        description: "BatchGetSecretValue by {principal} from {src_ip|an AWS service}."
        sources: [cloudtrail]
        aggregation_key: [principal]
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "secretsmanager.amazonaws.com"
          and action == "BatchGetSecretValue"
        """),
        ("secrets-many-retrieved.yml", """
        # CredentialAccess:IAMUser/SecretsBulkRetrieval.Custom: one principal reads 10 or more
        # distinct secrets within 10 minutes (applications read their own few).
        id: cloudtrail.secrets-many-retrieved
        finding_type: CredentialAccess:IAMUser/SecretsBulkRetrieval.Custom
        severity: 5.0
        title: "{principal} read {count} distinct secrets within 10 minutes"
        sources: [cloudtrail]
        aggregation_key: [principal]
        threshold:
          where: >-
            source == "cloudtrail" and outcome == "success" and service == "secretsmanager.amazonaws.com"
            and action == "GetSecretValue"
          count: 10
          distinct: raw.requestParameters.secretId
          by: [principal]
          window: 10m
        """),
        ("ssm-securestring-bulk.yml", """
        # CredentialAccess:IAMUser/SSMSecureStringBulkRetrieval.Custom: one principal decrypts
        # 3 or more distinct sets of at least 5 SSM parameters each (GetParameters
        # withDecryption, 5 to 10 names a call) within 10 minutes: a sweep. Applications
        # read their own set again and again, which counts once; on tools/gen's background
        # instance roles decrypt sets of 1 or 2, and 5 distinct such pairs in 10 minutes
        # happened 3 times in 400,000 records, hence the size.
        id: cloudtrail.ssm-securestring-bulk
        finding_type: CredentialAccess:IAMUser/SSMSecureStringBulkRetrieval.Custom
        severity: 5.0
        title: "{principal} decrypted {count} distinct sets of SSM parameters within 10 minutes"
        sources: [cloudtrail]
        aggregation_key: [principal]
        threshold:
          where: >-
            source == "cloudtrail" and outcome == "success" and service == "ssm.amazonaws.com"
            and action == "GetParameters" and raw.requestParameters.withDecryption == true
            and exists(raw.requestParameters.names[4])
          count: 3
          distinct: raw.requestParameters.names
          by: [principal]
          window: 10m
        """),
        ("ec2-user-data-read.yml", """
        # Discovery:IAMUser/EC2UserDataRetrieval.Custom: one principal reads the user data
        # (often holding bootstrap secrets) of 5 or more instances within 10 minutes,
        # allowed or not.
        id: cloudtrail.ec2-user-data-read
        finding_type: Discovery:IAMUser/EC2UserDataRetrieval.Custom
        severity: 5.0
        title: "{principal} read the user data of {count} EC2 instances within 10 minutes"
        sources: [cloudtrail]
        aggregation_key: [principal]
        threshold:
          where: >-
            source == "cloudtrail" and service == "ec2.amazonaws.com" and action == "DescribeInstanceAttribute"
            and raw.requestParameters.attribute == "userData"
          count: 5
          distinct: raw.requestParameters.instanceId
          by: [principal]
          window: 10m
        """),
        ("ec2-user-data-modified.yml", """
        # Execution:IAMUser/EC2UserDataModified.Custom: an instance's user data replaced; the
        # new script runs as root at the next start.
        id: cloudtrail.ec2-user-data-modified
        finding_type: Execution:IAMUser/EC2UserDataModified.Custom
        severity: 5.0
        title: "User data of instance {raw.requestParameters.instanceId} modified by {principal}"
        description: "ModifyInstanceAttribute userData by {principal} from {src_ip|an AWS service}."
        sources: [cloudtrail]
        aggregation_key: [raw.requestParameters.instanceId]
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "ec2.amazonaws.com"
          and action == "ModifyInstanceAttribute"
          and (raw.requestParameters contains "\\"userData\\"")
        """),
        ("ssm-run-shell-command.yml", """
        # Execution:IAMUser/SSMRunShellCommand.Custom: a person (not a service on its behalf)
        # runs arbitrary shell commands on instances with SSM Run Command. Low: where Run
        # Command is the operators' way in, suppress it for them (docs/detection.md).
        id: cloudtrail.ssm-run-shell-command
        finding_type: Execution:IAMUser/SSMRunShellCommand.Custom
        severity: 2.0
        title: "{principal} ran shell commands on instances with SSM Run Command"
        description: "SendCommand {raw.requestParameters.documentName} to {raw.requestParameters.instanceIds|targets} by {principal} from {src_ip|an AWS service}."
        sources: [cloudtrail]
        aggregation_key: [principal]
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "ssm.amazonaws.com"
          and action == "SendCommand" and not exists(raw.userIdentity.invokedBy)
          and raw.requestParameters.documentName in ("AWS-RunShellScript", "AWS-RunPowerShellScript")
        """),
        ("serial-console-enabled.yml", """
        # Policy:IAMUser/SerialConsoleAccessEnabled.Custom: EC2 serial console access switched
        # on for the account (off by default; a way into instances around the network).
        id: cloudtrail.serial-console-enabled
        finding_type: Policy:IAMUser/SerialConsoleAccessEnabled.Custom
        severity: 5.0
        title: "EC2 serial console access enabled in account {account} by {principal}"
        sources: [cloudtrail]
        aggregation_key: []
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "ec2.amazonaws.com"
          and action == "EnableSerialConsoleAccess"
        """),
        ("serial-console-ssh-key.yml", """
        # UnauthorizedAccess:IAMUser/SerialConsoleSSHKeyPushed.Custom: an SSH key pushed to an
        # instance's serial console (break-glass access).
        id: cloudtrail.serial-console-ssh-key
        finding_type: UnauthorizedAccess:IAMUser/SerialConsoleSSHKeyPushed.Custom
        severity: 5.0
        title: "{principal} pushed an SSH key to the serial console of {raw.requestParameters.instanceId}"
        sources: [cloudtrail]
        aggregation_key: [principal, raw.requestParameters.instanceId]
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "ec2-instance-connect.amazonaws.com"
          and action == "SendSerialConsoleSSHPublicKey"
        """),
        ("rolesanywhere-trust-anchor.yml", """
        # Persistence:IAMUser/RolesAnywhereTrustAnchorCreated.Custom: a certificate authority
        # trusted to get role credentials from outside AWS (IAM Roles Anywhere).
        id: cloudtrail.rolesanywhere-trust-anchor
        finding_type: Persistence:IAMUser/RolesAnywhereTrustAnchorCreated.Custom
        severity: 5.0
        title: "IAM Roles Anywhere trust anchor {raw.requestParameters.name} created by {principal}"
        sources: [cloudtrail]
        aggregation_key: [raw.requestParameters.name]
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "rolesanywhere.amazonaws.com"
          and action in ("CreateTrustAnchor", "UpdateTrustAnchor")
        """),
        ("lambda-public-permission.yml", """
        # Persistence:IAMUser/LambdaFunctionPublicPermission.Custom: anyone (principal `*`,
        # no source ARN or account condition) may invoke or change a Lambda function.
        id: cloudtrail.lambda-public-permission
        finding_type: Persistence:IAMUser/LambdaFunctionPublicPermission.Custom
        severity: 7.0
        title: "Lambda function {raw.requestParameters.functionName} opened to everyone by {principal}"
        description: "{action} {raw.requestParameters.action} for principal * by {principal}."
        sources: [cloudtrail]
        aggregation_key: [raw.requestParameters.functionName]
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "lambda.amazonaws.com"
          and action startswith "AddPermission" and raw.requestParameters.principal == "*"
          and not exists(raw.requestParameters.sourceArn) and not exists(raw.requestParameters.sourceAccount)
          and not exists(raw.requestParameters.principalOrgID)
        """),
    ]

    /// A snapshot or image shared: `<type>SharedWithAccount.Custom` when the added
    /// permission names accounts, `<type>SharedPublicly.Custom` (higher) when it holds
    /// `all`. `added` is the added permission (its JSON text is searched).
    static func shared(id: String, type: String, what: String, service: String, actions: [String], name: String,
                       added: String, extra: String = "") -> [(name: String, text: String)] {
        let list = actions.map { "\"\($0)\"" }.joined(separator: ", ")
        func file(_ variant: String, _ to: String, _ severity: String, _ test: String) -> (name: String, text: String) {
            let rid = id + (variant == "Publicly" ? "-publicly" : "")
            return (rid.replacingOccurrences(of: "cloudtrail.", with: "") + ".yml", """
            # Exfiltration:\(type)Shared\(variant).Custom: \(what) shared \(to).
            id: \(rid)
            finding_type: Exfiltration:\(type)Shared\(variant).Custom
            severity: \(severity)
            title: "\(what) {\(name)} shared \(to) by {principal}"
            description: "{action} added {\(added)} by {principal} from {src_ip|an AWS service}."
            sources: [cloudtrail]
            aggregation_key: [principal]
            where: >-
              source == "cloudtrail" and outcome == "success" and service == "\(service).amazonaws.com"
              and action in (\(list))\(extra) and exists(\(added))
              and \(test)(\(added) contains "\\"all\\"")
            """)
        }
        return [file("WithAccount", "with another account", "5.0", "not "),
                file("Publicly", "publicly", "8.0", "")]
    }
}
