"""One account's world: its resources and its population of principals.

Everything here is built from random.Random(derive_seed(seed, "world", account)),
so the same seed and account always give the same principals, IPs, user agents,
API mixes and working-hours profiles. Behaviour is stable per principal across
days: that is what makes per-principal baselines meaningful.
"""

import random

from .util import (J, derive_seed, hash_chars, hexid, rand_chars, Weighted, zipf_weights, iso, rand_host,
                   KEY_CHARS)
from .catalog import API
from . import net

FIRST = ["alice", "bob", "carol", "david", "emma", "farid", "grace", "hannah", "ivan", "julia", "kenji", "laura",
         "marco", "nina", "oscar", "priya", "quentin", "rosa", "samir", "tanja", "umar", "vera", "wei", "xavier",
         "yusuf", "zoe", "ana", "bjorn", "chloe", "dmitri", "elena", "felix", "gita", "hugo", "ines", "jonas",
         "karin", "liam", "mei", "nils", "olga", "pablo", "rui", "sofia", "tomas", "ursula", "viktor", "wanda"]
LAST = ["smith", "jones", "garcia", "muller", "rossi", "tanaka", "nguyen", "kowalski", "silva", "johansson",
        "dubois", "martin", "lee", "khan", "novak", "berg", "costa", "fischer", "hansen", "ito", "kim", "lopez",
        "meyer", "olsen", "patel", "quinn", "reyes", "schmidt", "torres", "vogel", "weber", "young", "ahmed",
        "brown", "clarke", "dahl", "evans", "ferreira", "gruber", "holm"]
APPS = ["payments", "ledger", "statements", "fraud-scoring", "kyc", "cards", "notifications", "reporting",
        "core-banking", "treasury", "loans", "mobile-api", "open-banking", "aml-screening", "fx-rates"]

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:131.0) Gecko/20100101 Firefox/131.0",
]


def cli_ua(rng, os_kind=None):
    v = "2.%d.%d" % (rng.choice([13, 15, 17, 18, 19, 21]), rng.randrange(40))
    py = "3.11.%d" % rng.randrange(4, 10)
    os_kind = os_kind or rng.choice(["mac", "mac", "linux", "win"])
    if os_kind == "mac":
        osn, osv, arch = "Darwin", "%d.%d.0" % (rng.choice([22, 23, 24]), rng.randrange(7)), rng.choice(["x86_64", "arm64"])
        inst = "source"
    elif os_kind == "linux":
        osn, osv, arch = "Linux", rng.choice(["5.15.0-1064-aws", "6.1.109-118.189.amzn2023.x86_64", "6.8.0-45-generic",
                                              "5.10.226-214.879.amzn2.x86_64"]), "x86_64"
        inst = "exe"
    else:
        osn, osv, arch = "Windows", "10", "AMD64"
        inst = "exe"
    cmd = rng.choice(["s3.ls", "ec2.describe-instances", "sts.get-caller-identity", "logs.tail", "s3.cp",
                      "iam.list-roles", "lambda.list-functions"])
    if rng.random() < 0.5:
        return "aws-cli/%s md/awscrt#0.%d.%d ua/2.0 os/%s#%s md/arch#%s lang/python#%s md/pyimpl#CPython cfg/retry-mode#standard md/installer#%s md/prompt#off md/command#%s" % (
            v, rng.choice([19, 20, 22]), rng.randrange(20), osn.lower(), osv, arch, py, inst, cmd)
    return "aws-cli/%s Python/%s %s/%s exe/%s prompt/off command/%s" % (v, py, osn, osv, arch, cmd)


def boto3_ua(rng, lam=False):
    b = "1.35.%d" % rng.randrange(60)
    bc = b
    py = "3.%d.%d" % (rng.choice([11, 12]), rng.randrange(1, 9))
    kern = rng.choice(["5.10.226-214.879.amzn2.x86_64", "6.1.109-118.189.amzn2023.x86_64", "5.15.0-1071-aws"])
    env = " exec-env/AWS_Lambda_python%s" % py[:4] if lam else ""
    return "Boto3/%s md/Botocore#%s ua/2.0 os/linux#%s md/arch#x86_64 lang/python#%s md/pyimpl#CPython%s cfg/retry-mode#legacy Botocore/%s" % (
        b, bc, kern, py, env, bc)


def java_ua(rng):
    return "aws-sdk-java/2.%d.%d Linux/%s OpenJDK_64-Bit_Server_VM/17.0.%d+%d-LTS Java/17.0.%d vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy" % (
        rng.choice([25, 28, 29]), rng.randrange(40), rng.choice(["5.10.226-214.879.amzn2.x86_64", "6.1.109-118.189.amzn2023.x86_64"]),
        rng.randrange(10, 13), rng.randrange(5, 12), rng.randrange(10, 13))


def go_ua(rng, api_name="s3"):
    return "aws-sdk-go-v2/1.%d.%d os/linux lang/go#1.%d.%d md/GOOS#linux md/GOARCH#amd64 api/%s#1.%d.%d" % (
        rng.choice([30, 32]), rng.randrange(10), rng.choice([22, 23]), rng.randrange(8), api_name,
        rng.randrange(20, 60), rng.randrange(10))


def js_ua(rng):
    return "aws-sdk-js/3.%d.0 ua/2.0 os/linux#5.10.226-214.879.amzn2.x86_64 lang/js md/nodejs#20.%d.0 api/%s#3.%d.0" % (
        rng.randrange(600, 700), rng.randrange(10, 18), rng.choice(["dynamodb", "s3", "kms", "secrets-manager"]), rng.randrange(600, 700))


def terraform_ua(rng):
    return "APN/1.0 HashiCorp/1.0 Terraform/1.%d.%d (+https://www.terraform.io) terraform-provider-aws/5.%d.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.%d ua/2.0 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/%s#1.%d.0" % (
        rng.choice([8, 9]), rng.randrange(8), rng.randrange(70, 80), rng.randrange(8),
        rng.choice(["ec2", "iam", "s3", "sts"]), rng.randrange(30, 190))


SSM_AGENT_UA = "aws-sdk-go/1.54.%d (go1.22.%d; linux; amd64) amazon-ssm-agent/3.3.%d.0"


class Principal:
    __slots__ = ("kind", "type", "arn", "short", "user_name", "principal_id", "akia", "res", "channels", "regions",
                 "apis", "rate", "profile", "err_rate", "instance_id", "private_ip", "session_tag", "ctx_kind",
                 "period", "phase", "mfa", "role_name", "role_id", "session", "invoked_by", "vpce", "console",
                 "ua_override", "_ui_cache", "acct", "issuer", "idx", "region_home", "human", "email",
                 "api_keys", "aws_ips")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        self.res = {}
        self._ui_cache = {}
        self.ua_override = {}
        self.vpce = {}
        for k, v in kw.items():
            setattr(self, k, v)

    # -------------------------------------------------------- userIdentity

    def session_period(self, t):
        return (t - self.phase) // self.period

    def session_key(self, t):
        per = self.session_period(t)
        return "ASIA" + hash_chars(KEY_CHARS, 16, "sess", self.arn, per), per * self.period + self.phase

    def kms_ctx(self, w, rng):
        k = self.ctx_kind
        if k == "lambda":
            return {"aws:lambda:FunctionArn": "arn:aws:lambda:%s:%s:function:%s" % (self.region_home, w.acct, self.session)}
        if k == "s3":
            b = self.res.get("bucket") or w.all["bucket"]
            b = b[rng.randrange(len(b))]
            return {"aws:s3:arn": "arn:aws:s3:::%s" % b[0]}
        if k == "secret":
            s = self.res.get("secret") or w.all["secret"]
            s = s[rng.randrange(len(s))]
            return {"SecretARN": s[1], "SecretVersionId": hash_chars("0123456789abcdef", 32, s[1])}
        return None

    def ui(self, t, console=False):
        """userIdentity JSON for a call at time t on the given channel."""
        ty = self.type
        if ty == "IAMUser" and not console:
            c = self._ui_cache.get("key")
            if c is None:
                c = J({"type": "IAMUser", "principalId": self.principal_id, "arn": self.arn, "accountId": self.acct,
                       "accessKeyId": self.akia[0], "userName": self.user_name})
                self._ui_cache["key"] = c
            return c, self.akia[0]
        if ty == "AWSService":
            return None, None  # rendered per call (invokedBy depends on the API)
        per = self.session_period(t)
        c = self._ui_cache.get(per)
        if c is not None:
            return c
        key, created = self.session_key(t)
        if ty == "IAMUser":  # console session
            d = {"type": "IAMUser", "principalId": self.principal_id, "arn": self.arn, "accountId": self.acct,
                 "accessKeyId": key, "userName": self.user_name,
                 "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                                    "attributes": {"creationDate": iso(created), "mfaAuthenticated": "true" if self.mfa else "false"}}}
        elif ty == "AssumedRole":
            d = {"type": "AssumedRole", "principalId": "%s:%s" % (self.role_id, self.session), "arn": self.arn,
                 "accountId": self.acct, "accessKeyId": key,
                 "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": self.role_id,
                                                      "arn": self.issuer, "accountId": self.acct, "userName": self.role_name},
                                    "webIdFederationData": {},
                                    "attributes": {"creationDate": iso(created), "mfaAuthenticated": "false"}}}
            if self.kind == "instance":
                d["sessionContext"]["ec2RoleDelivery"] = "2.0"
            if self.invoked_by:
                d["invokedBy"] = self.invoked_by
        elif ty == "FederatedUser":
            d = {"type": "FederatedUser", "principalId": "%s:%s" % (self.acct, self.session), "arn": self.arn,
                 "accountId": self.acct, "accessKeyId": key,
                 "sessionContext": {"sessionIssuer": self.issuer, "webIdFederationData": {},
                                    "attributes": {"creationDate": iso(created), "mfaAuthenticated": "false"}}}
        else:
            raise ValueError(ty)
        c = (J(d), key)
        if len(self._ui_cache) > 8:
            self._ui_cache.clear()
        self._ui_cache[per] = c
        return c


class Channel:
    """How a principal reaches AWS: user agents, source IPs, console or not."""
    __slots__ = ("uas", "ips", "console", "tls")

    def __init__(self, uas, ips, console=False, tls=True):
        self.uas = uas  # Weighted of JSON-encoded UA strings
        self.ips = ips  # Weighted of IP strings
        self.console = console
        self.tls = tls


def _w(pairs):
    return Weighted(pairs)


def _wu(pairs):
    return Weighted([(J(u), w) for u, w in pairs])


# ------------------------------------------------------------------ profiles

def human_profile(rng, tz):
    """168 weights indexed by UTC hour-of-week (0 = Monday 00:00 UTC)."""
    start = rng.choice([7, 8, 8, 9, 9, 10])
    length = rng.choice([8, 9, 9, 10])
    prof = [0.0] * 168
    for how_local in range(168):
        day, h = divmod(how_local, 24)
        if day < 5:
            if start <= h < start + length:
                v = 1.0
                if h == 12 or h == 13:
                    v = 0.55
                if h == start or h == start + length - 1:
                    v = 0.7
            elif start - 2 <= h < start or start + length <= h < start + length + 3:
                v = 0.08
            else:
                v = 0.004
        else:
            v = 0.01 if 9 <= h < 18 else 0.002
        prof[(how_local - tz) % 168] = v
    return prof


def machine_profile(rng, tz, amp=None, batch_hour=None):
    import math
    amp = amp if amp is not None else 0.15 + 0.35 * rng.random()
    peak = 11 + rng.randrange(6)
    prof = [0.0] * 168
    for how_local in range(168):
        day, h = divmod(how_local, 24)
        v = 1.0 + amp * math.cos(2 * math.pi * (h - peak) / 24.0)
        if day >= 5:
            v *= 0.75
        if batch_hour is not None and (h == batch_hour or h == (batch_hour + 1) % 24):
            v *= 6.0 if h == batch_hour else 3.0
        prof[(how_local - tz) % 168] = v
    return prof


def business_bias_profile(rng, tz):
    """CI / Terraform: mostly business hours, some nightly runs."""
    prof = [0.0] * 168
    for how_local in range(168):
        day, h = divmod(how_local, 24)
        v = 0.05
        if day < 5 and 8 <= h < 19:
            v = 1.0
        elif h == 2:
            v = 0.6
        prof[(how_local - tz) % 168] = v
    return prof


# ------------------------------------------------------------------ API pools

HUMAN_READ = ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs",
              "ec2:DescribeSubnets", "ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:DescribeImages",
              "ec2:DescribeNetworkInterfaces", "ec2:DescribeAddresses", "ec2:DescribeLaunchTemplates",
              "ec2:DescribeRouteTables", "ec2:DescribeAvailabilityZones", "ec2:DescribeAccountAttributes",
              "s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketVersioning",
              "s3:GetBucketEncryption", "s3:GetBucketTagging", "s3:ListObjects", "s3:GetObject",
              "iam:ListRoles", "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListPolicies", "iam:GetPolicy",
              "iam:GetPolicyVersion", "iam:ListUsers", "iam:GetUser", "iam:GetAccountSummary", "iam:ListMFADevices",
              "monitoring:DescribeAlarms", "monitoring:GetMetricData", "monitoring:ListMetrics",
              "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:StartQuery",
              "logs:GetQueryResults", "lambda:ListFunctions20150331", "lambda:GetFunction20150331v2",
              "lambda:GetFunctionConfiguration20150331v2", "rds:DescribeDBInstances", "rds:DescribeDBClusters",
              "rds:DescribeEvents", "cloudformation:DescribeStacks", "cloudformation:ListStacks",
              "cloudformation:DescribeStackEvents", "ecs:ListClusters", "ecs:DescribeClusters", "ecs:DescribeServices",
              "ecs:ListTasks", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetHealth",
              "autoscaling:DescribeAutoScalingGroups", "ce:GetCostAndUsage", "health:DescribeEventAggregates",
              "ssm:DescribeInstanceInformation", "ssm:GetParameter", "dynamodb:ListTables", "dynamodb:DescribeTable",
              "sqs:ListQueues", "sqs:GetQueueAttributes", "sns:ListTopics", "kms:ListAliases", "kms:DescribeKey",
              "secretsmanager:ListSecrets", "secretsmanager:DescribeSecret", "route53:ListHostedZones",
              "route53:ListResourceRecordSets", "sts:GetCallerIdentity", "ecr:DescribeRepositories", "ecr:DescribeImages"]
HUMAN_WRITE = ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances", "ec2:CreateTags", "ec2:CreateSnapshot",
               "lambda:UpdateFunctionConfiguration20150331v2", "ssm:StartSession", "iam:ChangePassword",
               "iam:CreateAccessKey", "iam:UpdateAccessKey", "ecs:UpdateService", "s3:PutBucketTagging",
               "route53:ChangeResourceRecordSets", "s3:PutObject", "sts:AssumeRole"]
SECURITY_READ = ["guardduty:ListDetectors", "guardduty:GetDetector", "guardduty:ListFindings", "guardduty:GetFindings",
                 "securityhub:GetFindings", "securityhub:DescribeHub", "config:DescribeConfigRules",
                 "config:GetComplianceDetailsByConfigRule", "config:DescribeConfigurationRecorderStatus",
                 "access-analyzer:ListAnalyzers", "access-analyzer:ListFindings", "cloudtrail:LookupEvents",
                 "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors",
                 "iam:GenerateCredentialReport", "iam:GetCredentialReport", "iam:GetAccountPasswordPolicy",
                 "organizations:DescribeOrganization", "organizations:ListAccounts", "kms:GetKeyRotationStatus",
                 "s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock", "s3:GetBucketLogging",
                 "ec2:DescribeFlowLogs", "iam:GetAccountAuthorizationDetails", "iam:ListAccessKeys",
                 "iam:GetAccessKeyLastUsed", "iam:GetLoginProfile", "iam:ListSAMLProviders"]
TERRAFORM = ["ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcs",
             "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeNatGateways", "ec2:DescribeVpcEndpoints",
             "ec2:DescribeLaunchTemplates", "ec2:DescribeImages", "ec2:DescribeTags", "ec2:DescribeAvailabilityZones",
             "ec2:DescribeInstanceTypes", "s3:ListBuckets", "s3:GetBucketPolicy", "s3:GetBucketAcl",
             "s3:GetBucketVersioning", "s3:GetBucketEncryption", "s3:GetBucketTagging", "s3:GetBucketLogging",
             "s3:GetBucketLifecycle", "s3:GetBucketPublicAccessBlock", "s3:GetBucketOwnershipControls",
             "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetPolicy",
             "iam:GetPolicyVersion", "iam:ListInstanceProfilesForRole", "kms:DescribeKey", "kms:GetKeyPolicy",
             "kms:GetKeyRotationStatus", "lambda:GetFunction20150331v2", "rds:DescribeDBInstances",
             "route53:GetHostedZone", "route53:ListResourceRecordSets", "logs:DescribeLogGroups",
             "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups",
             "elasticloadbalancing:DescribeListeners", "sts:GetCallerIdentity", "dynamodb:DescribeTable",
             "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "ecs:DescribeServices",
             "ecs:DescribeTaskDefinition", "sqs:GetQueueAttributes", "sns:GetTopicAttributes",
             "secretsmanager:DescribeSecret"]
TERRAFORM_WRITE = ["ec2:CreateTags", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                   "s3:PutBucketTagging", "s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutBucketPublicAccessBlock",
                   "iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:TagRole",
                   "lambda:UpdateFunctionConfiguration20150331v2", "route53:ChangeResourceRecordSets",
                   "ec2:RunInstances", "ec2:TerminateInstances", "ecs:RegisterTaskDefinition",
                   "iam:CreateServiceLinkedRole"]
CI = ["ecr:GetAuthorizationToken", "ecr:InitiateLayerUpload", "ecr:CompleteLayerUpload", "ecr:PutImage",
      "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages", "ecs:UpdateService", "ecs:RegisterTaskDefinition",
      "ecs:DescribeServices", "ecs:DescribeTaskDefinition", "s3:PutObject", "s3:GetObject", "s3:ListObjects",
      "lambda:UpdateFunctionCode20150331v2", "lambda:GetFunction20150331v2", "sts:GetCallerIdentity",
      "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:GetTemplate"]
MONITOR = ["monitoring:GetMetricData", "monitoring:ListMetrics", "monitoring:DescribeAlarms",
           "monitoring:GetMetricStatistics", "ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeInstanceStatus",
           "rds:DescribeDBInstances", "rds:DescribeEvents", "lambda:ListFunctions20150331", "dynamodb:ListTables",
           "dynamodb:DescribeTable", "sqs:ListQueues", "sqs:GetQueueAttributes",
           "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetHealth",
           "tagging:GetResources", "autoscaling:DescribeAutoScalingGroups", "health:DescribeEventAggregates",
           "ecs:ListClusters", "ecs:DescribeClusters", "s3:ListBuckets", "s3:GetBucketTagging"]
BACKUP = ["s3:PutObject", "s3:ListObjects", "s3:HeadObject", "s3:DeleteObject", "rds:CreateDBSnapshot",
          "rds:DescribeDBSnapshots", "rds:DescribeDBInstances", "ec2:CreateSnapshot", "ec2:DescribeSnapshots",
          "ec2:DescribeVolumes", "dynamodb:CreateBackup", "dynamodb:ListBackups", "kms:GenerateDataKey",
          "sts:GetCallerIdentity"]
INSTANCE = ["ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations", "s3:GetObject", "s3:PutObject",
            "s3:HeadObject", "s3:ListObjects", "kms:Decrypt", "kms:GenerateDataKey", "secretsmanager:GetSecretValue",
            "ssm:GetParameter", "ssm:GetParameters", "logs:CreateLogStream", "ec2:DescribeTags", "ec2:DescribeInstances",
            "sts:GetCallerIdentity", "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
            "dynamodb:DescribeTable", "sqs:GetQueueAttributes"]
APP = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "s3:GetObject", "s3:PutObject", "s3:HeadObject",
       "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "dynamodb:DescribeTable", "sts:AssumeRole",
       "sts:GetCallerIdentity", "ssm:GetParameter", "ssm:GetParametersByPath", "sqs:GetQueueAttributes",
       "sns:GetTopicAttributes", "logs:CreateLogStream"]
LAMBDA = ["logs:CreateLogGroup", "logs:CreateLogStream", "kms:Decrypt", "s3:GetObject", "s3:PutObject",
          "dynamodb:DescribeTable", "secretsmanager:GetSecretValue", "ssm:GetParameter", "sqs:GetQueueAttributes",
          "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"]
CONFIG_SLR = ["ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
              "ec2:DescribeNetworkInterfaces", "ec2:DescribeVolumes", "ec2:DescribeRouteTables", "s3:GetBucketPolicy",
              "s3:GetBucketAcl", "s3:GetBucketVersioning", "s3:GetBucketEncryption", "s3:GetBucketPublicAccessBlock",
              "s3:GetBucketLogging", "s3:GetBucketTagging", "iam:GetRole", "iam:ListAttachedRolePolicies",
              "iam:GetPolicy", "iam:GetUser", "rds:DescribeDBInstances", "cloudtrail:DescribeTrails",
              "cloudtrail:GetTrailStatus", "kms:GetKeyRotationStatus"]
ASG_SLR = ["ec2:RunInstances", "ec2:TerminateInstances", "ec2:DescribeInstances", "ec2:CreateTags",
           "ec2:DescribeInstanceStatus", "elasticloadbalancing:DescribeTargetHealth", "ec2:DescribeImages"]
AA_SLR = ["s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketPublicAccessBlock", "s3:GetBucketPolicyStatus",
          "iam:GetRole", "kms:GetKeyPolicy", "kms:ListKeys", "lambda:ListFunctions20150331", "sqs:ListQueues",
          "secretsmanager:ListSecrets"]
SERVICE = ["sts:AssumeRole", "kms:RotateKey", "secretsmanager:RotationSucceeded"]

WRITE_FACTOR = 0.12


def api_set(rng, core, pool, n, writes=(), nwrites=0, core_w=None):
    keys = list(core)
    cand = [k for k in pool if k not in keys]
    rng.shuffle(cand)
    keys += cand[:max(0, n - len(keys))]
    ws = zipf_weights(rng, len(keys), s=0.9)
    if core_w:
        for i, k in enumerate(keys):
            if k in core_w:
                ws[i] = core_w[k]
    pairs = list(zip(keys, ws))
    wc = [k for k in writes if k not in keys]
    rng.shuffle(wc)
    tot = sum(ws)
    for k in wc[:nwrites]:
        pairs.append((k, tot * WRITE_FACTOR / max(1, nwrites) * (0.3 + rng.random())))
    for k, _ in pairs:
        assert k in API, k
    return pairs


# ------------------------------------------------------------------ the world

class World:
    def __init__(self):
        self.all = {}
        self.byr = {}

    def add(self, kind, obj, region=None):
        self.all.setdefault(kind, []).append(obj)
        d = self.byr.setdefault(kind, {})
        if region:
            d.setdefault(region, []).append(obj)


def build_world(seed, a):
    """a: account plan dict (see org.plan). Returns World with .principals."""
    rng = random.Random(derive_seed(seed, "world", a["id"]))
    w = World()
    w.acct = a["id"]
    w.bank = a["bank"]
    w.bank_short = a["bank_short"]
    w.ou = a["ou"]
    w.regions = a["regions"]  # list, primary first
    w.primary = w.regions[0]
    w.tz = a["tz"]
    w.domain = a["domain"]
    w.corp_v4 = a["corp_v4"]
    w.trail_arn = "arn:aws:cloudtrail:%s:%s:trail/%s-org-trail" % (w.primary, w.acct, w.bank_short)
    w.zone_id = "Z" + rand_chars(rng, KEY_CHARS, 13)
    w.detector_id = hexid(rng, 32)
    env = {"prod": "prod", "staging": "stg", "dev": "dev", "security": "sec"}[w.ou]
    w.env = env
    apps = APPS[:]
    rng.shuffle(apps)
    w.apps = apps[:3 + rng.randrange(4)] if w.ou != "security" else ["siem-forwarder", "guardrails", "log-archive"]
    sfx = w.acct[-4:]

    # regions: primary gets most resources
    def reg():
        return w.regions[0] if rng.random() < 0.75 or len(w.regions) == 1 else w.regions[1 + rng.randrange(len(w.regions) - 1)]

    # S3 buckets with key layouts (prefix, ext, stem)
    layouts = {"data": [("inbound", "json", "msg"), ("processed", "parquet", "part")],
               "statements": [("statements", "pdf", "stmt"), ("archive", "pdf", "stmt")],
               "logs": [("app-logs", "log.gz", "app"), ("alb", "log.gz", "alb")],
               "backups": [("rds", "dump.gz", "snap"), ("dynamodb", "json.gz", "export")],
               "artifacts": [("builds", "zip", "build"), ("lambda", "zip", "pkg")],
               "reports": [("daily", "csv", "report"), ("regulatory", "xlsx", "filing")],
               "documents": [("kyc", "pdf", "doc"), ("uploads", "jpg", "img")]}
    purposes = list(layouts)
    rng.shuffle(purposes)
    for purpose in ["data", "logs"] + [p for p in purposes if p not in ("data", "logs")][:2 + rng.randrange(4)]:
        r = reg()
        w.add("bucket", ("%s-%s-%s-%s" % (w.bank_short, env, purpose, sfx), r, layouts[purpose]), r)
    for r in w.regions:
        for _ in range(1 + rng.randrange(2)):
            w.add("vpc_", "vpc-0" + hexid(rng, 16), r)
    for r in w.regions:
        vpcs = w.byr["vpc_"][r]
        for _ in range(2 + rng.randrange(4)):
            w.add("subnet", ("subnet-0" + hexid(rng, 16), vpcs[rng.randrange(len(vpcs))], r), r)
        for _ in range(3 + rng.randrange(6)):
            w.add("sg", ("sg-0" + hexid(rng, 16), r), r)
        for _ in range(2 + rng.randrange(3)):
            w.add("key", (str(__import__("uuid").UUID(int=rng.getrandbits(128), version=4)), r,
                          "%s-%s" % (w.apps[rng.randrange(len(w.apps))], rng.choice(["data", "s3", "secrets", "ebs"]))), r)
        w.nat = getattr(w, "nat", {})
        w.nat[r] = [net.aws_ip(rng, r) for _ in range(1 + rng.randrange(2))]
    for r in w.regions:
        for _ in range(4 + rng.randrange(10)):
            w.add("instance", ("i-0" + hexid(rng, 16), r), r)
    for app in w.apps:
        r = reg()
        w.add("function", ("%s-%s-%s" % (app, rng.choice(["handler", "processor", "sync", "notifier"]), env), r), r)
        w.add("table", ("%s-%s" % (app, rng.choice(["state", "sessions", "events", "idempotency"])), r), r)
        w.add("secret", ("%s/%s/%s" % (env, app, rng.choice(["db-credentials", "api-key", "signing-key"])),
                         "arn:aws:secretsmanager:%s:%s:secret:%s/%s/creds-%s" % (r, w.acct, env, app, rand_chars(rng, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 6)), r), r)
        w.add("param", "/%s/%s/%s" % (env, app, rng.choice(["endpoint", "feature-flags", "db-host", "queue-url"])))
        w.add("loggroup", "/aws/lambda/%s" % w.all["function"][-1][0])
        w.add("loggroup", "/ecs/%s-%s" % (app, env))
        w.add("queue", "%s-%s-%s" % (app, rng.choice(["events", "jobs", "outbox"]), env))
        w.add("topic", "%s-%s-alerts" % (app, env))
        w.add("repo", "%s/%s" % (w.bank_short, app))
        w.add("stack", "%s-%s" % (app, env))
        if rng.random() < 0.6:
            w.add("db", ("%s-%s-db" % (app, env), r), r)
    if "db" not in w.all:
        w.add("db", ("core-%s-db" % env, w.primary), w.primary)
    w.add("cluster", "%s-%s-cluster" % (w.bank_short, env))
    w.add("policy", "arn:aws:iam::%s:policy/%s-boundary" % (w.acct, w.bank_short))
    for app in w.apps[:3]:
        w.add("policy", "arn:aws:iam::%s:policy/%s-%s-access" % (w.acct, app, env))
    w.add("assumable", "%s-cross-service-role" % w.bank_short)
    w.add("assumable", "%s-readonly-audit" % w.bank_short)

    principals = []

    def new_iam_user(name, kind):
        p = Principal(kind=kind, type="IAMUser", user_name=name, short=name, acct=w.acct,
                      arn="arn:aws:iam::%s:user/%s" % (w.acct, name),
                      principal_id="AIDA" + rand_chars(rng, KEY_CHARS, 17),
                      akia=["AKIA" + rand_chars(rng, KEY_CHARS, 16) for _ in range(1 + (rng.random() < 0.3))],
                      period=86400, phase=rng.randrange(6 * 3600, 10 * 3600) - w.tz * 3600)
        w.add("user", name)
        for k in p.akia:
            w.add("akia", k)
        return p

    corp = a["corp_v4"]
    v6 = a["corp_v6"]

    def corp_ips(n):
        return [rand_host(rng, corp[rng.randrange(len(corp))]) for _ in range(n)]

    # ---- humans (IAM users with console)
    n_users = 4 + rng.randrange(7)  # 4..10 IAM users
    n_humans = max(2, min(n_users - 1, 2 + rng.randrange(5)))
    used = set()
    for i in range(n_humans):
        while True:
            fn, ln = FIRST[rng.randrange(len(FIRST))], LAST[rng.randrange(len(LAST))]
            name = "%s.%s" % (fn, ln) if rng.random() < 0.7 else fn[0] + ln
            if name not in used:
                used.add(name)
                break
        p = new_iam_user(name, "human")
        p.human = True
        p.email = "%s.%s@%s" % (fn, ln, w.domain)
        p.mfa = rng.random() < 0.85
        role = "security" if w.ou == "security" or rng.random() < 0.1 else ("dev" if rng.random() < 0.5 else "ops")
        ips = [(ip, 1.0 + rng.random()) for ip in corp_ips(1 + rng.randrange(3))]
        if rng.random() < 0.5:
            ips.append((net.home_ip(rng), 0.05 + 0.1 * rng.random()))
        tot = sum(x[1] for x in ips)
        if rng.random() < 0.3:  # ~30% of humans also use IPv6 (~1/5 of their calls) => ~5% of human calls
            ips.append((net.v6_host(rng, v6), tot * 0.25))
        ipw = _w(ips)
        browser = BROWSERS[rng.randrange(len(BROWSERS))]
        cli = cli_ua(rng)
        uas = [(cli, 1.0)]
        if rng.random() < 0.3:
            uas.append((boto3_ua(rng), 0.3))
        console_ips = _w(ips + [("AWS Internal", tot * 0.06)])
        p.channels = _w([(Channel(_wu([(browser, 1.0)]), console_ips, console=True), 0.55 + 0.3 * rng.random()),
                         (Channel(_wu(uas), ipw), 0.25 + 0.3 * rng.random())])
        p.console = True
        n = 12 + rng.randrange(24)
        pool = SECURITY_READ + HUMAN_READ[:30] if role == "security" else HUMAN_READ
        core = ["signin:ConsoleLogin", "sts:GetCallerIdentity"]
        p.apis = api_set(rng, core, pool, n, HUMAN_WRITE, 2 + rng.randrange(4),
                         core_w={"signin:ConsoleLogin": 0.06, "sts:GetCallerIdentity": 0.05})
        p.rate = 20 + 60 * rng.random()
        p.profile = human_profile(rng, w.tz)
        p.err_rate = 0.025 + 0.03 * rng.random()
        p.regions = [w.regions[0]] + ([w.regions[1]] if len(w.regions) > 1 and rng.random() < 0.5 else [])
        p.session_tag = name
        principals.append(p)

    # ---- service IAM users
    svc_kinds = ["terraform", "ci", "monitoring", "backup"]
    rng.shuffle(svc_kinds)
    n_svc = n_users - n_humans
    want_fed = True
    svc_list = (["broker"] if want_fed else []) + svc_kinds
    for kind in svc_list[:max(1, n_svc)]:
        name = {"terraform": "svc-terraform", "ci": rng.choice(["svc-jenkins", "svc-github-actions", "svc-gitlab-runner"]),
                "monitoring": rng.choice(["svc-datadog", "svc-monitoring", "svc-dynatrace"]),
                "backup": "svc-backup", "broker": "svc-federation-broker"}[kind]
        p = new_iam_user(name, "svc")
        p.human = False
        reg_ = w.primary
        if kind == "terraform":
            ips = _w([(net.aws_ip(rng, reg_), 1.0), (corp_ips(1)[0], 0.3)])
            uas = _wu([(terraform_ua(rng), 1.0)])
            p.apis = api_set(rng, ["sts:GetCallerIdentity"], TERRAFORM, 20 + rng.randrange(20), TERRAFORM_WRITE,
                             6 + rng.randrange(6))
            p.profile = business_bias_profile(rng, w.tz)
            p.rate = 15 + 40 * rng.random()
        elif kind == "ci":
            ips = _w([(net.aws_ip(rng, reg_), 1.0), (net.aws_ip(rng, reg_), 0.7)])
            uas = _wu([(cli_ua(rng, "linux"), 1.0), (boto3_ua(rng), 0.5)])
            p.apis = api_set(rng, ["sts:GetCallerIdentity", "ecr:GetAuthorizationToken"], CI, 8 + rng.randrange(10))
            p.profile = business_bias_profile(rng, w.tz)
            p.rate = 15 + 40 * rng.random()
            p.res["bucket"] = [b for b in w.all["bucket"] if "-artifacts-" in b[0]] or w.all["bucket"][:1]
        elif kind == "monitoring":
            ips = _w([(net.aws_ip(rng, "us-east-1"), 1.0), (net.aws_ip(rng, "us-east-1"), 1.0)])
            uas = _wu([(go_ua(rng, "cloudwatch"), 1.0)])
            p.apis = api_set(rng, ["monitoring:GetMetricData"], MONITOR, 10 + rng.randrange(12))
            p.profile = machine_profile(rng, w.tz, amp=0.03)
            p.rate = 60 + 90 * rng.random()
        elif kind == "backup":
            ips = _w([(net.aws_ip(rng, reg_), 1.0)])
            uas = _wu([(java_ua(rng), 1.0)])
            p.apis = api_set(rng, ["s3:PutObject"], BACKUP, 6 + rng.randrange(8))
            p.profile = machine_profile(rng, w.tz, amp=0.1, batch_hour=2)
            p.rate = 20 + 40 * rng.random()
            p.res["bucket"] = [b for b in w.all["bucket"] if "-backups-" in b[0]] or w.all["bucket"][:1]
        else:  # federation broker
            ips = _w([(corp_ips(1)[0], 1.0)])
            uas = _wu([(java_ua(rng), 1.0)])
            p.apis = [("sts:GetFederationToken", 1.0), ("sts:GetCallerIdentity", 0.05), ("iam:GetUser", 0.03),
                      ("iam:ListAccessKeys", 0.01), ("iam:GetAccessKeyLastUsed", 0.01)]
            p.profile = human_profile(rng, w.tz)
            p.rate = 3 + 5 * rng.random()
            w.broker = p
        p.session_tag = name
        p.channels = _w([(Channel(uas, ips), 1.0)])
        p.err_rate = 0.015 + 0.025 * rng.random()
        p.regions = [w.primary]
        principals.append(p)

    # ---- assumed roles: instance profiles, ECS task roles, Lambda roles (3..8)
    n_roles = 3 + rng.randrange(6)
    kinds = ["instance", "app", "lambda"] + [rng.choice(["instance", "app", "lambda", "instance"]) for _ in range(n_roles - 3)]
    counters = {}
    used_instances = set()
    for kind in kinds:
        app = w.apps[counters.get(kind, 0) % len(w.apps)] if kind != "instance" else w.apps[rng.randrange(len(w.apps))]
        counters[kind] = counters.get(kind, 0) + 1
        r = w.primary if rng.random() < 0.8 else w.regions[rng.randrange(len(w.regions))]
        if kind == "instance":
            free = [x[0] for x in w.byr["instance"][r] if x[0] not in used_instances]
            inst = free[rng.randrange(len(free))] if free else "i-0" + hexid(rng, 16)
            used_instances.add(inst)
            role_name = "%s-ec2-role" % app
            sess = inst
            period = 6 * 3600
        elif kind == "app":
            role_name = "%s-ecs-task-role" % app
            sess = hexid(rng, 32)
            period = 3600
        else:
            fn = [f for f in w.all["function"] if f[0].startswith(app)] or w.all["function"]
            fn = fn[0]
            r = fn[1]
            role_name = "%s-lambda-role" % fn[0]
            sess = fn[0]
            period = 12 * 3600
        if any(pp.arn and pp.arn.endswith("/%s/%s" % (role_name, sess)) for pp in principals):
            sess = sess + "-2"
        rid = "AROA" + rand_chars(rng, KEY_CHARS, 17)
        p = Principal(kind=kind, type="AssumedRole", role_name=role_name, role_id=rid, session=sess, acct=w.acct,
                      arn="arn:aws:sts::%s:assumed-role/%s/%s" % (w.acct, role_name, sess),
                      issuer="arn:aws:iam::%s:role/%s" % (w.acct, role_name), short=app,
                      period=period, phase=rng.randrange(period), region_home=r, human=False)
        w.add("role", role_name)
        p.session_tag = app
        p.res["bucket"] = [b for b in w.all["bucket"] if b[1] == r][:2] or w.all["bucket"][:1]
        p.res["secret"] = [s for s in w.all["secret"] if "/%s/" % app in s[0]] or w.all["secret"][:1]
        p.res["table"] = [tb for tb in w.all["table"] if tb[0].startswith(app)] or w.all["table"][:1]
        p.res["key"] = (w.byr["key"].get(r) or w.all["key"])[:1]
        if kind == "instance":
            p.instance_id = sess
            p.private_ip = "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), 4 + rng.randrange(250))
            own = net.aws_ip(rng, r)
            ips = _w([(own, 1.0)] if rng.random() < 0.5 else [(x, 1.0) for x in w.nat[r]])
            sdk = rng.choice([java_ua, boto3_ua, go_ua])(rng)
            uas = _wu([(sdk, 1.0), (cli_ua(rng, "linux"), 0.15)])
            agent = SSM_AGENT_UA % (rng.randrange(40), rng.randrange(8), rng.randrange(1000, 1500))
            p.ua_override = {"ssm:UpdateInstanceInformation": J(agent), "ssm:ListInstanceAssociations": J(agent)}
            if rng.random() < 0.4:  # S3 through a gateway endpoint: private source IP + vpcEndpointId
                p.vpce = {"s3": (p.private_ip, "vpce-0" + hexid(rng, 16))}
            p.apis = api_set(rng, ["ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations"], INSTANCE,
                             6 + rng.randrange(9), core_w={"ssm:UpdateInstanceInformation": 0.35,
                                                           "ssm:ListInstanceAssociations": 0.12})
            p.profile = machine_profile(rng, w.tz)
            p.rate = 50 + 250 * rng.random()
            p.ctx_kind = "s3"
            p.aws_ips = True
        elif kind == "app":
            ips = _w([(x, 1.0) for x in w.nat[r]])
            uas = _wu([(rng.choice([java_ua, js_ua, boto3_ua, go_ua])(rng), 1.0)])
            p.apis = api_set(rng, ["kms:Decrypt"], APP, 5 + rng.randrange(8), core_w={"kms:Decrypt": 1.5})
            p.profile = machine_profile(rng, w.tz, amp=0.3 + 0.4 * rng.random())
            p.rate = 100 + 400 * rng.random()
            p.ctx_kind = "secret" if rng.random() < 0.5 else "s3"
            p.aws_ips = True
        else:
            ips = _w([(net.aws_ip(rng, r), 1.0) for _ in range(3 + rng.randrange(4))])
            uas = _wu([(boto3_ua(rng, lam=True), 1.0)])
            p.apis = api_set(rng, ["logs:CreateLogStream"], LAMBDA, 5 + rng.randrange(6),
                             core_w={"logs:CreateLogStream": 0.5})
            p.profile = machine_profile(rng, w.tz, amp=0.4 + 0.4 * rng.random())
            p.rate = 30 + 170 * rng.random()
            p.ctx_kind = "lambda"
            p.aws_ips = True
            p.res["loggroup"] = ["/aws/lambda/%s" % sess.replace("-2", "")]
        p.channels = _w([(Channel(uas, ips), 1.0)])
        p.err_rate = 0.015 + 0.025 * rng.random()
        p.regions = [r]
        principals.append(p)

    # ---- federated / SSO users (1..3): first a FederatedUser via the broker, then SSO sessions
    n_fed = 1 + rng.randrange(3)
    for i in range(n_fed):
        fn, ln = FIRST[rng.randrange(len(FIRST))], LAST[rng.randrange(len(LAST))]
        email = "%s.%s@%s" % (fn, ln, w.domain)
        ips = [(ip, 1.0) for ip in corp_ips(1 + rng.randrange(2))]
        if rng.random() < 0.3:
            ips.append((net.v6_host(rng, v6), 0.25 * len(ips)))
        browser = BROWSERS[rng.randrange(len(BROWSERS))]
        if i == 0 and getattr(w, "broker", None) is not None:
            fname = "%s.%s" % (fn, ln)
            b = w.broker
            p = Principal(kind="fed", type="FederatedUser", session=fname, acct=w.acct, short=fname,
                          arn="arn:aws:sts::%s:federated-user/%s" % (w.acct, fname),
                          issuer={"type": "IAMUser", "principalId": b.principal_id, "arn": b.arn,
                                  "accountId": w.acct, "userName": b.user_name},
                          period=12 * 3600, phase=rng.randrange(12 * 3600), human=True, email=email)
            w.add("feduser", fname)
            p.channels = _w([(Channel(_wu([(browser, 1.0)]), _w(ips), console=True), 1.0)])
            p.apis = api_set(rng, ["signin:GetSigninToken"], HUMAN_READ, 8 + rng.randrange(12),
                             core_w={"signin:GetSigninToken": 0.05})
        else:
            perm = rng.choice(["AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "SecurityAudit"])
            role_name = "AWSReservedSSO_%s_%s" % (perm, hexid(rng, 16))
            rid = "AROA" + rand_chars(rng, KEY_CHARS, 17)
            p = Principal(kind="sso", type="AssumedRole", role_name=role_name, role_id=rid, session=email, acct=w.acct,
                          arn="arn:aws:sts::%s:assumed-role/%s/%s" % (w.acct, role_name, email),
                          issuer="arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/%s/%s" % (w.acct, w.primary, role_name),
                          short=fn, period=8 * 3600, phase=rng.randrange(8 * 3600), human=True, email=email)
            w.add("role", role_name)
            uas = [(cli_ua(rng), 1.0)]
            p.channels = _w([(Channel(_wu([(browser, 1.0)]), _w(ips + [("AWS Internal", 0.06)]), console=True), 0.7),
                             (Channel(_wu(uas), _w(ips)), 0.3)])
            pool = SECURITY_READ + HUMAN_READ if perm == "SecurityAudit" else HUMAN_READ
            p.apis = api_set(rng, ["sts:GetCallerIdentity"], pool, 10 + rng.randrange(20),
                             HUMAN_WRITE if perm in ("AdministratorAccess", "PowerUserAccess") else (),
                             2 + rng.randrange(3))
        if ("iam:CreateAccessKey" in dict(p.apis)) or ("iam:UpdateAccessKey" in dict(p.apis)) or ("iam:ChangePassword" in dict(p.apis)):
            p.apis = [x for x in p.apis if x[0] not in ("iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:ChangePassword")]
        p.session_tag = p.short
        p.profile = human_profile(rng, w.tz)
        p.rate = 10 + 30 * rng.random()
        p.err_rate = 0.025 + 0.03 * rng.random()
        p.regions = [w.regions[0]] + ([w.regions[1]] if len(w.regions) > 1 and rng.random() < 0.5 else [])
        principals.append(p)

    # ---- AWS service principals
    p = Principal(kind="service", type="AWSService", short="aws", acct=w.acct, human=False)
    p.apis = [("sts:AssumeRole", 1.0), ("kms:RotateKey", 0.004), ("secretsmanager:RotationSucceeded", 0.006)]
    p.channels = _w([(Channel(_wu([("x", 1)]), _w([("x", 1)]), tls=False), 1.0)])
    p.profile = machine_profile(rng, w.tz, amp=0.3)
    p.rate = 0.0  # set below: proportional to role principals' session churn
    p.err_rate = 0.0
    p.regions = [w.primary]
    svc_p = p
    principals.append(p)
    slrs = [("config", "AWSServiceRoleForConfig", "AWSConfig-Describe", CONFIG_SLR, "config.amazonaws.com"),
            ("autoscaling", "AWSServiceRoleForAutoScaling", "AutoScaling", ASG_SLR, "autoscaling.amazonaws.com"),
            ("access-analyzer", "AWSServiceRoleForAccessAnalyzer", "access-analyzer", AA_SLR, "access-analyzer.amazonaws.com")]
    rng.shuffle(slrs)
    for name, role_name, sess, pool, svc in slrs[:1 + rng.randrange(2)]:
        rid = "AROA" + rand_chars(rng, KEY_CHARS, 17)
        p = Principal(kind="slr", type="AssumedRole", role_name=role_name, role_id=rid, session=sess, acct=w.acct,
                      arn="arn:aws:sts::%s:assumed-role/%s/%s" % (w.acct, role_name, sess),
                      issuer="arn:aws:iam::%s:role/aws-service-role/%s/%s" % (w.acct, svc, role_name),
                      short=name, period=3600, phase=rng.randrange(3600), invoked_by=svc, human=False)
        w.add("role", role_name)
        p.channels = _w([(Channel(_wu([(svc, 1.0)]), _w([(svc, 1.0)]), tls=False), 1.0)])
        p.apis = api_set(rng, [], pool, min(len(pool), 5 + rng.randrange(10)))
        p.profile = machine_profile(rng, w.tz, amp=0.1)
        p.rate = 10 + 30 * rng.random()
        p.err_rate = 0.015
        p.regions = w.regions[:]
        p.session_tag = sess
        principals.append(p)

    roles = [pp for pp in principals if pp.kind in ("instance", "app", "lambda")]
    svc_p.rate = sum(3600.0 / pp.period for pp in roles) * 1.0 + 0.5
    svc_p.res["targets"] = roles

    # finalize: weighted structures, stable indices
    for i, pp in enumerate(principals):
        pp.idx = i
        pp.api_keys = [k for k, _ in pp.apis]
        pp.apis = Weighted([(API[k], wgt) for k, wgt in pp.apis])
        pp.regions = Weighted([(r, 1.0 if j == 0 else 0.35) for j, r in enumerate(pp.regions)])
        if pp.region_home is None:
            pp.region_home = w.primary
    w.principals = principals
    from .netplan import build_net
    build_net(seed, w)
    return w
