"""Labelled attack scenarios.

plan_instance() runs in the main process and fixes everything that decides how
many records a scenario instance has (so per-account totals are exact before any
worker starts); generate() runs in the account's worker and renders the events.
"""

import random

from .util import J, derive_seed, uuid4, iso, rand_chars, hexid, KEY_CHARS, human_expiration
from .catalog import API, SC, RECON, GLOBAL_REGION, s3_get_object, s3_list_objects, s3_host
from .render import record, request_id, tls_json, login_to, access_denied
from . import net

SCENARIOS = [
    ("root_usage", "Policy:IAMUser/RootCredentialUsage"),
    ("console_bruteforce", "UnauthorizedAccess:IAMUser/ConsoleLoginBruteForce"),
    ("cloudtrail_disabled", "Stealth:IAMUser/CloudTrailLoggingDisabled"),
    ("password_policy_change", "Stealth:IAMUser/PasswordPolicyChange"),
    ("access_key_other_user", "Persistence:IAMUser/AccessKeyCreatedForOtherUser"),
    ("instance_credential_exfiltration", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"),
    ("recon_burst", "Discovery:IAMUser/AnomalousBehavior"),
    ("s3_mass_download", "Exfiltration:S3/AnomalousBehavior"),
    ("sg_open_admin_port", "Policy:EC2/SecurityGroupOpenToWorld"),
    ("admin_policy_attached", "PrivilegeEscalation:IAMUser/AdministrativePermissions"),
    ("kali_user_agent", "PenTest:IAMUser/KaliLinux"),
    ("s3_block_public_access_disabled", "Policy:S3/BucketBlockPublicAccessDisabled"),
    ("malicious_ip_caller", "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom"),
]
FINDING = dict(SCENARIOS)

KALI_UAS = ["aws-cli/2.15.0 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off",
            "aws-cli/1.22.34 Python/3.11.4 Linux/6.3.0-kali1-amd64 botocore/1.23.34",
            "aws-cli/2.13.25 Python/3.11.6 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off command/sts.get-caller-identity"]
ATTACKER_UAS = ["aws-cli/2.17.20 Python/3.11.9 Linux/5.15.0-107-generic exe/x86_64.ubuntu.22 prompt/off",
                "Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#6.1.0-21-amd64 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.131",
                "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/sts.get-caller-identity",
                "python-requests/2.31.0"]
ATTACKER_BROWSERS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
                     "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"]

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def plan_instance(kind, rng, records, bank, corp_ip, threat_ips):
    """Everything about an instance that determines its event count or its source."""
    d = {"kind": kind, "seed": rng.getrandbits(62)}
    big = records >= 100000
    if kind == "root_usage":
        d["n"] = 1 + rng.randint(3, 8)
        d["ip"] = corp_ip if rng.random() < 0.4 else net.attacker_ip(rng)
    elif kind == "console_bruteforce":
        d["n"] = rng.randint(10, 30) + 1
        d["ip"] = net.attacker_ip(rng)
    elif kind == "cloudtrail_disabled":
        d["n"] = 1 + rng.randint(1, 3)
        d["variant"] = rng.choice(["StopLogging", "StopLogging", "DeleteTrail"])
        d["own_ip"] = rng.random() < 0.5
        d["ip"] = net.attacker_ip(rng)
    elif kind == "password_policy_change":
        d["n"] = 1 + rng.randint(0, 2)
        d["variant"] = rng.choice(["UpdateAccountPasswordPolicy", "UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy"])
        d["own_ip"] = rng.random() < 0.6
        d["ip"] = net.attacker_ip(rng)
    elif kind == "access_key_other_user":
        d["n"] = 1 + rng.randint(1, 3)
        d["own_ip"] = rng.random() < 0.4
        d["ip"] = net.attacker_ip(rng)
    elif kind == "instance_credential_exfiltration":
        d["n"] = rng.randint(5, 25)
        d["ip"] = net.attacker_ip(rng)
    elif kind == "recon_burst":
        d["n"] = rng.randint(20, 60)
        d["ip"] = net.attacker_ip(rng)
    elif kind == "s3_mass_download":
        d["n"] = rng.randint(200, 600) if big else rng.randint(120, 250)
        d["own_ip"] = rng.random() < 0.5
        d["ip"] = net.attacker_ip(rng)
    elif kind == "sg_open_admin_port":
        d["n"] = 1 + rng.randint(0, 2)
        d["port"] = rng.choice([22, 22, 3389])
        d["cidr"] = rng.choice(["0.0.0.0/0", "0.0.0.0/0", "::/0"])
        d["own_ip"] = rng.random() < 0.7
        d["ip"] = net.attacker_ip(rng)
    elif kind == "admin_policy_attached":
        d["n"] = 1 + rng.randint(0, 2)
        d["variant"] = rng.choice(["AttachUserPolicy", "AttachUserPolicy", "AttachRolePolicy"])
        d["own_ip"] = rng.random() < 0.5
        d["ip"] = net.attacker_ip(rng)
    elif kind == "kali_user_agent":
        d["n"] = rng.randint(3, 15)
        d["ip"] = net.attacker_ip(rng)
    elif kind == "s3_block_public_access_disabled":
        d["n"] = 1 + rng.randint(0, 2)
        d["variant"] = rng.choice(["PutBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"])
        d["own_ip"] = rng.random() < 0.6
        d["ip"] = net.attacker_ip(rng)
    elif kind == "malicious_ip_caller":
        d["n"] = rng.randint(3, 20)
        d["ip"] = threat_ips[rng.randrange(len(threat_ips))]
    else:
        raise ValueError(kind)
    d["dur"] = 3600 if kind == "s3_mass_download" else 1800
    return d


class Emitter:
    """Collects one scenario instance's events."""

    def __init__(self, w, inst, rng):
        self.w = w
        self.inst = inst
        self.rng = rng
        self.events = []  # (t, region, record, eventName, eventID)

    def emit(self, api, t, region, ip, ua, ui, req=None, resp=None, resources=None, aed=None, err=None,
             console=False, gen=False, p=None, extra=None, etype=None, key_name=None):
        rng = self.rng
        w = self.w
        if gen:
            req, resp, resources, aed = api.gen(w, p, region, t, rng)
        ec, em = (None, None)
        if err == "denied":
            ec, em = access_denied(api, p.arn if p is not None else "")
            resp = None
        elif err:
            ec, em = err  # caller supplies responseElements (ConsoleLogin failures keep theirs)
        eid = uuid4(rng)
        tls = None if ip == "AWS Internal" else tls_json(api.svc, region, False)
        rec = record(api.ver, ui, iso(t), api.src, api.name, region, ip, J(ua), ec, em, req, resp, aed,
                     None if (etype or api.etype) == "AwsConsoleSignIn" else request_id(rng, api.svc), eid, api.ro,
                     resources, etype or api.etype, not api.data, w.acct, None, extra,
                     "Data" if api.data else "Management", tls, console)
        self.events.append((t, region, rec, api.name, eid))
        return eid


def _pick(rng, lst):
    return lst[rng.randrange(len(lst))]


def _human_actor(w, rng, prefer=("human",), allow_sso=True):
    cands = [p for p in w.principals if p.kind in prefer]
    if allow_sso:
        cands += [p for p in w.principals if p.kind == "sso" and "ReadOnly" not in p.role_name and "SecurityAudit" not in p.role_name]
    return _pick(rng, cands)


def _key_channel(p):
    """(ips, uas) of the principal's programmatic channel (or its only one)."""
    for ch in p.channels.items:
        if not ch.console:
            return ch
    return p.channels.items[0]


def _own_ip(p, rng):
    ch = _key_channel(p)
    for _ in range(20):
        ip = ch.ips.pick(rng)
        if ip != "AWS Internal":
            return ip
    return ch.ips.items[0]


def _own_ua(p, rng):
    import json
    return json.loads(_key_channel(p).uas.pick(rng))


def _ui_key(p, t, rng):
    """userIdentity JSON + key for a programmatic call by p."""
    return p.ui(t, False)


def _truth(inst, w, p_arn, key, ip, em, desc):
    ts = [e[0] for e in em.events]
    return {"scenario": inst["kind"], "bank": w.bank, "account": w.acct,
            "region": em.events[-1][1] if inst["kind"] not in ("root_usage", "console_bruteforce") else em.events[0][1],
            "principal": p_arn, "access_key": key, "src_ip": ip, "start": iso(min(ts)), "end": iso(max(ts)),
            "event_ids": [e[4] for e in em.events], "expected_finding": FINDING[inst["kind"]], "description": desc}


def _gaps(rng, n, lo, hi):
    t = 0
    out = []
    for _ in range(n):
        out.append(t)
        t += rng.randint(lo, hi)
    return out


def generate(w, inst):
    """Render one instance. Returns (events, truth)."""
    rng = random.Random(derive_seed(inst["seed"], "scenario"))
    kind = inst["kind"]
    em = Emitter(w, inst, rng)
    t0 = inst["t0"]
    n = inst["n"]
    acct = w.acct
    g = globals()["_sc_" + kind]
    truth = g(w, inst, rng, em, t0, n, acct)
    assert len(em.events) == n, (kind, len(em.events), n)
    return em.events, truth


# ------------------------------------------------------------------ the scenarios

def _sc_root_usage(w, inst, rng, em, t0, n, acct):
    ip = inst["ip"]
    ua = _pick(rng, ATTACKER_BROWSERS)
    arn = "arn:aws:iam::%s:root" % acct
    login_ui = J({"type": "Root", "principalId": acct, "arn": arn, "accountId": acct, "accessKeyId": ""})
    mfa = rng.random() < 0.3
    aed = J({"LoginTo": login_to(GLOBAL_REGION), "MobileVersion": "No", "MFAUsed": "Yes" if mfa else "No"})
    em.emit(API["signin:ConsoleLogin"], t0, GLOBAL_REGION, ip, ua, login_ui, resp=J({"ConsoleLogin": "Success"}), aed=aed)
    key = "ASIA" + rand_chars(rng, KEY_CHARS, 16)
    ui = J({"type": "Root", "principalId": acct, "arn": arn, "accountId": acct, "accessKeyId": key,
            "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                               "attributes": {"creationDate": iso(t0), "mfaAuthenticated": "true" if mfa else "false"}}})
    from .world import Principal
    root = Principal(kind="root", type="Root", arn=arn, short="root", user_name="root", acct=acct, session_tag="root")
    apis = ["iam:GetAccountSummary", "iam:ListUsers", "iam:ListAccessKeys", "s3:ListBuckets", "ec2:DescribeInstances",
            "ce:GetCostAndUsage", "iam:ListMFADevices", "organizations:DescribeOrganization", "iam:ListRoles",
            "iam:GetAccountPasswordPolicy", "cloudtrail:DescribeTrails", "ec2:DescribeRegions"]
    rng.shuffle(apis)
    t = t0 + rng.randint(20, 90)
    for i in range(n - 1):
        api = API[apis[i % len(apis)]]
        region = GLOBAL_REGION if api.glob else w.primary
        em.emit(api, t, region, ip, ua, ui, gen=True, p=root, console=True)
        t += rng.randint(5, 120)
    return _truth(inst, w, arn, key, ip, em, "Root user signed in to the console from %s (MFA %s) and made %d API calls"
                  % (ip, "used" if mfa else "not used", n - 1))


def _sc_console_bruteforce(w, inst, rng, em, t0, n, acct):
    p = _pick(rng, [x for x in w.principals if x.kind == "human"])
    ip = inst["ip"]
    ua = _pick(rng, ATTACKER_BROWSERS)
    ui = J({"type": "IAMUser", "principalId": p.principal_id, "arn": p.arn, "accountId": acct, "userName": p.user_name})
    fail_aed = J({"LoginTo": login_to(GLOBAL_REGION), "MobileVersion": "No", "MFAUsed": "No"})
    api = API["signin:ConsoleLogin"]
    t = t0
    for i in range(n - 1):
        em.emit(api, t, GLOBAL_REGION, ip, ua, ui, resp=J({"ConsoleLogin": "Failure"}), aed=fail_aed,
                err=(None, J("Failed authentication")))
        t += rng.randint(3, 15)
    d = {"LoginTo": login_to(GLOBAL_REGION), "MobileVersion": "No"}
    if p.mfa:
        d["MFAIdentifier"] = "arn:aws:iam::%s:mfa/%s" % (acct, p.user_name)
    d["MFAUsed"] = "Yes" if p.mfa else "No"
    em.emit(api, t + rng.randint(5, 40), GLOBAL_REGION, ip, ua, ui, resp=J({"ConsoleLogin": "Success"}), aed=J(d))
    return _truth(inst, w, p.arn, None, ip, em, "%d failed console logins for IAM user %s from %s, then a successful one"
                  % (n - 1, p.user_name, ip))


def _actor_ip_ua(inst, p, rng):
    if inst.get("own_ip"):
        return _own_ip(p, rng), _own_ua(p, rng)
    return inst["ip"], _pick(rng, ATTACKER_UAS[:3])


def _sc_cloudtrail_disabled(w, inst, rng, em, t0, n, acct):
    p = _human_actor(w, rng)
    ip, ua = _actor_ip_ua(inst, p, rng)
    ui, key = p.ui(t0, False)
    t = t0
    pre = ["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"]
    for i in range(n - 1):
        em.emit(API[pre[i % 3]], t, w.primary, ip, ua, ui, gen=True, p=p)
        t += rng.randint(10, 120)
    v = inst["variant"]
    em.emit(SC[v], t, w.primary, ip, ua, ui, req=J({"name": w.trail_arn}), p=p)
    return _truth(inst, w, p.arn, key, ip, em, "%s on trail %s by %s" % (v, w.trail_arn, p.arn))


def _sc_password_policy_change(w, inst, rng, em, t0, n, acct):
    p = _human_actor(w, rng)
    ip, ua = _actor_ip_ua(inst, p, rng)
    ui, key = p.ui(t0, False)
    t = t0
    for i in range(n - 1):
        em.emit(API["iam:GetAccountPasswordPolicy"], t, GLOBAL_REGION, ip, ua, ui, gen=True, p=p)
        t += rng.randint(10, 200)
    v = inst["variant"]
    if v == "UpdateAccountPasswordPolicy":
        req = J({"minimumPasswordLength": 6, "requireSymbols": False, "requireNumbers": False,
                 "requireUppercaseCharacters": False, "requireLowercaseCharacters": False,
                 "allowUsersToChangePassword": True, "maxPasswordAge": 0, "passwordReusePrevention": 0,
                 "hardExpiry": False})
        desc = "Account password policy weakened (length 6, no complexity, no expiry) by %s" % p.arn
    else:
        req = None
        desc = "Account password policy deleted by %s" % p.arn
    em.emit(SC[v], t, GLOBAL_REGION, ip, ua, ui, req=req, p=p)
    return _truth(inst, w, p.arn, key, ip, em, desc)


def _sc_access_key_other_user(w, inst, rng, em, t0, n, acct):
    p = _human_actor(w, rng, allow_sso=False)
    others = [x for x in w.principals if x.type == "IAMUser" and x is not p]
    target = _pick(rng, [x for x in others if x.kind == "svc"] or others)
    ip, ua = _actor_ip_ua(inst, p, rng)
    ui, key = p.ui(t0, False)
    t = t0
    pre = [("iam:ListUsers", None), ("iam:ListAccessKeys", J({"userName": target.user_name})),
           ("iam:GetUser", J({"userName": target.user_name}))]
    for i in range(n - 1):
        k, req = pre[i % 3]
        em.emit(API[k], t, GLOBAL_REGION, ip, ua, ui, req=req, p=p)
        t += rng.randint(5, 90)
    newkey = "AKIA" + rand_chars(rng, KEY_CHARS, 16)
    resp = J({"accessKey": {"userName": target.user_name, "accessKeyId": newkey, "status": "Active",
                            "createDate": human_expiration(t)}})
    em.emit(API["iam:CreateAccessKey"], t, GLOBAL_REGION, ip, ua, ui, req=J({"userName": target.user_name}), resp=resp, p=p)
    return _truth(inst, w, p.arn, key, ip, em, "%s created access key %s for another IAM user, %s"
                  % (p.user_name, newkey, target.user_name))


def _sc_instance_credential_exfiltration(w, inst, rng, em, t0, n, acct):
    p = _pick(rng, [x for x in w.principals if x.kind == "instance"])
    # keep the whole scenario inside one credential period so one key is used throughout
    per_start = p.session_period(t0) * p.period + p.phase
    if t0 + 1800 > per_start + p.period:
        t0 = per_start + 60
    ip = inst["ip"]
    ua = _pick(rng, ATTACKER_UAS[:3])
    ui, key = p.ui(t0, False)
    region = p.region_home
    seq = ["sts:GetCallerIdentity", "s3:ListBuckets", "iam:ListAttachedRolePolicies", "ec2:DescribeInstances",
           "secretsmanager:ListSecrets", "secretsmanager:GetSecretValue", "s3:GetObject", "iam:ListRoles",
           "ssm:DescribeParameters", "ssm:GetParametersByPath", "s3:GetObject", "s3:GetObject", "kms:ListKeys",
           "iam:ListUsers", "lambda:ListFunctions20150331", "dynamodb:ListTables", "s3:GetObject", "rds:DescribeDBInstances",
           "ec2:DescribeSecurityGroups", "s3:GetObject", "iam:GetAccountAuthorizationDetails", "s3:GetObject",
           "ec2:DescribeSnapshots", "s3:GetObject", "sts:GetCallerIdentity"]
    t = t0
    for i in range(n):
        api = API[seq[i % len(seq)]]
        r = GLOBAL_REGION if api.glob else region
        denied = api.svc in ("iam", "kms", "rds", "lambda") and rng.random() < 0.7
        em.emit(api, t, r, ip, ua, ui, gen=True, p=p, err="denied" if denied else None)
        t += rng.randint(2, 60)
    return _truth(inst, w, p.arn, key, ip, em, "EC2 instance-role credentials of %s (%s) used from %s, outside AWS"
                  % (p.instance_id, p.role_name, ip))


def _sc_recon_burst(w, inst, rng, em, t0, n, acct):
    # not EC2 instance roles: from an outside IP that would also be InstanceCredentialExfiltration
    cands = [x for x in w.principals if x.kind in ("app", "svc", "human", "lambda")]
    p = _pick(rng, cands)
    ip = inst["ip"]
    ua = _own_ua(p, rng) if rng.random() < 0.5 else _pick(rng, ATTACKER_UAS[:3])
    ui, key = p.ui(t0, False)
    known = set(p.api_keys)
    pool = [a for a in RECON if a.key not in known]
    rng.shuffle(pool)
    region = p.region_home
    t = t0
    for i in range(n):
        api = pool[i % len(pool)]
        r = GLOBAL_REGION if api.glob else (region if i < len(pool) else _pick(rng, ["us-east-1", "eu-west-1", "us-west-2", "eu-central-1", "ap-southeast-1"]))
        em.emit(api, t, r, ip, ua, ui, gen=True, p=p, err="denied" if rng.random() < 0.55 else None)
        t += rng.randint(1, 30)
    return _truth(inst, w, p.arn, key, ip, em, "%s called %d discovery APIs it never calls, from new IP %s, many denied"
                  % (p.arn, n, ip))


def _sc_s3_mass_download(w, inst, rng, em, t0, n, acct):
    cands = [x for x in w.principals if x.kind in ("instance", "app") and any(k.startswith("s3:") for k in x.api_keys)]
    cands = cands or [x for x in w.principals if x.kind in ("instance", "app", "human")]
    p = _pick(rng, cands)
    bucket = _pick(rng, p.res.get("bucket") or w.all["bucket"])
    region = bucket[1]
    if inst.get("own_ip") or p.kind == "instance":  # instance creds from outside would be a second finding
        ip = _own_ip(p, rng)
        ua = _own_ua(p, rng)
    else:
        ip = inst["ip"]
        ua = _pick(rng, ATTACKER_UAS[:2])
    ui, key = p.ui(t0, False)
    # all inside one credential period
    if p.type == "AssumedRole":
        per_start = p.session_period(t0) * p.period + p.phase
        if t0 + inst["dur"] > per_start + p.period:
            t0 = per_start + 60
        ui, key = p.ui(t0, False)
    nlist = rng.randint(1, 3)
    span = rng.randint(900, 3300)
    times = sorted(t0 + rng.randrange(span) for _ in range(n))
    times[0] = t0
    for i, t in enumerate(times):
        if i < nlist:
            req, resp, resources, aed = s3_list_objects(w, p, region, t, rng, bucket=bucket)
            em.emit(API["s3:ListObjects"], t, region, ip, ua, ui, req=req, resources=resources, aed=aed, p=p)
        else:
            req, resp, resources, aed = s3_get_object(w, p, region, t, rng, bucket=bucket)
            em.emit(API["s3:GetObject"], t, region, ip, ua, ui, req=req, resources=resources, aed=aed, p=p)
    return _truth(inst, w, p.arn, key, ip, em, "%s downloaded %d objects from s3://%s within %d minutes"
                  % (p.arn, n - nlist, bucket[0], span // 60 + 1))


def _sc_sg_open_admin_port(w, inst, rng, em, t0, n, acct):
    p = _human_actor(w, rng)
    ip, ua = _actor_ip_ua(inst, p, rng)
    ui, key = p.ui(t0, False)
    sg = _pick(rng, w.all["sg"])
    region = sg[1]
    t = t0
    for i in range(n - 1):
        em.emit(API["ec2:DescribeSecurityGroups"], t, region, ip, ua, ui,
                req=J({"securityGroupSet": {}, "securityGroupIdSet": {"items": [{"groupId": sg[0]}]}, "filterSet": {}}), p=p)
        t += rng.randint(10, 120)
    port, cidr = inst["port"], inst["cidr"]
    if cidr == "::/0":
        ranges = {"ipRanges": {}, "ipv6Ranges": {"items": [{"cidrIpv6": cidr}]}}
        rule = {"cidrIpv6": cidr}
    else:
        ranges = {"ipRanges": {"items": [{"cidrIp": cidr}]}, "ipv6Ranges": {}}
        rule = {"cidrIpv4": cidr}
    perm = {"ipProtocol": "tcp", "fromPort": port, "toPort": port, "groups": {}}
    perm.update(ranges)
    perm["prefixListIds"] = {}
    req = J({"groupId": sg[0], "ipPermissions": {"items": [perm]}})
    r = {"groupOwnerId": acct, "groupId": sg[0], "securityGroupRuleId": "sgr-0" + hexid(rng, 16), "isEgress": False,
         "ipProtocol": "tcp", "fromPort": port, "toPort": port}
    r.update(rule)
    resp = J({"requestId": uuid4(rng), "_return": True, "securityGroupRuleSet": {"items": [r]}})
    em.emit(API["ec2:AuthorizeSecurityGroupIngress"], t, region, ip, ua, ui, req=req, resp=resp, p=p)
    return _truth(inst, w, p.arn, key, ip, em, "Security group %s opened tcp/%d to %s by %s" % (sg[0], port, cidr, p.arn))


def _sc_admin_policy_attached(w, inst, rng, em, t0, n, acct):
    p = _human_actor(w, rng, prefer=("human", "svc"), allow_sso=False)
    ip, ua = _actor_ip_ua(inst, p, rng)
    ui, key = p.ui(t0, False)
    v = inst["variant"]
    if v == "AttachUserPolicy":
        target = p.user_name if rng.random() < 0.5 else _pick(rng, [x.user_name for x in w.principals if x.type == "IAMUser"])
        pre_api, req_key = "iam:ListAttachedUserPolicies", "userName"
    else:
        target = _pick(rng, w.all["role"])
        pre_api, req_key = "iam:ListAttachedRolePolicies", "roleName"
    t = t0
    for i in range(n - 1):
        em.emit(API[pre_api], t, GLOBAL_REGION, ip, ua, ui, req=J({req_key: target}), p=p)
        t += rng.randint(5, 60)
    api = SC["AttachUserPolicy"] if v == "AttachUserPolicy" else API["iam:AttachRolePolicy"]
    em.emit(api, t, GLOBAL_REGION, ip, ua, ui, req=J({req_key: target, "policyArn": ADMIN}), p=p)
    return _truth(inst, w, p.arn, key, ip, em, "%s attached AdministratorAccess to %s %s"
                  % (p.arn, "user" if v == "AttachUserPolicy" else "role", target))


def _sc_kali_user_agent(w, inst, rng, em, t0, n, acct):
    p = _pick(rng, [x for x in w.principals if x.type == "IAMUser"])
    ip = inst["ip"]
    ua = _pick(rng, KALI_UAS)
    ui, key = p.ui(t0, False)
    seq = ["sts:GetCallerIdentity", "iam:GetUser", "iam:ListAttachedUserPolicies", "s3:ListBuckets", "iam:ListUsers",
           "iam:ListRoles", "ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "lambda:ListFunctions20150331",
           "secretsmanager:ListSecrets", "iam:GetAccountAuthorizationDetails", "ec2:DescribeSnapshots",
           "rds:DescribeDBInstances", "cloudtrail:DescribeTrails", "guardduty:ListDetectors"]
    t = t0
    for i in range(n):
        api = API[seq[i % len(seq)]]
        r = GLOBAL_REGION if api.glob else w.primary
        em.emit(api, t, r, ip, ua, ui, gen=True, p=p, err="denied" if (i > 1 and rng.random() < 0.4) else None)
        t += rng.randint(1, 20)
    return _truth(inst, w, p.arn, key, ip, em, "Access key of %s used with a Kali Linux user agent from %s" % (p.user_name, ip))


def _sc_s3_block_public_access_disabled(w, inst, rng, em, t0, n, acct):
    p = _human_actor(w, rng)
    ip, ua = _actor_ip_ua(inst, p, rng)
    ui, key = p.ui(t0, False)
    b = _pick(rng, w.all["bucket"])
    region = b[1]
    res = J([{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b[0]}])
    t = t0
    for i in range(n - 1):
        em.emit(API["s3:GetBucketPublicAccessBlock"], t, region, ip, ua, ui,
                req=J({"bucketName": b[0], "Host": s3_host(b), "publicAccessBlock": ""}), resources=res, p=p)
        t += rng.randint(5, 90)
    v = inst["variant"]
    if v == "PutBucketPublicAccessBlock":
        req = J({"publicAccessBlock": "", "bucketName": b[0], "Host": s3_host(b),
                 "PublicAccessBlockConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                                                    "RestrictPublicBuckets": False, "BlockPublicPolicy": False,
                                                    "BlockPublicAcls": False, "IgnorePublicAcls": False}})
        em.emit(API["s3:PutBucketPublicAccessBlock"], t, region, ip, ua, ui, req=req, resources=res, p=p)
        desc = "All four S3 Block Public Access flags set to false on %s by %s" % (b[0], p.arn)
    else:
        req = J({"publicAccessBlock": "", "bucketName": b[0], "Host": s3_host(b)})
        em.emit(SC["DeleteBucketPublicAccessBlock"], t, region, ip, ua, ui, req=req, resources=res, p=p)
        desc = "S3 Block Public Access configuration deleted from %s by %s" % (b[0], p.arn)
    return _truth(inst, w, p.arn, key, ip, em, desc)


def _sc_malicious_ip_caller(w, inst, rng, em, t0, n, acct):
    cands = [x for x in w.principals if x.type == "IAMUser"]
    p = _pick(rng, cands)
    ip = inst["ip"]
    ua = _own_ua(p, rng)
    ui, key = p.ui(t0, False)
    own = [API[k] for k in p.api_keys if API[k].etype == "AwsApiCall" and not API[k].data] or [API["sts:GetCallerIdentity"]]
    t = t0
    for i in range(n):
        api = API["sts:GetCallerIdentity"] if i == 0 else _pick(rng, own)
        r = GLOBAL_REGION if api.glob else w.primary
        em.emit(api, t, r, ip, ua, ui, gen=True, p=p)
        t += rng.randint(5, 240)
    return _truth(inst, w, p.arn, key, ip, em, "%d API calls by %s from %s, listed in threat-list.txt" % (n, p.arn, ip))
