"""AWS Config: daily configuration snapshots and configuration history files.

  AWSLogs/<account>/Config/<region>/YYYY/M/D/ConfigSnapshot/
      <account>_Config_<region>_ConfigSnapshot_<YYYYMMDDTHHmmssZ>_<uuid>.json.gz
  AWSLogs/<account>/Config/<region>/YYYY/M/D/ConfigHistory/
      <account>_Config_<region>_ConfigHistory_<resource type>_<start>_<end>_1.json.gz

Items describe the account's own resources (the security groups, buckets, RDS
instances, IAM users, trail, EBS volumes and KMS keys the other sources use), a mix
of compliant and not: security groups of bastions open 22 to 0.0.0.0/0, some public
or unencrypted buckets, unencrypted or public databases, console users without MFA,
trails without log-file validation or KMS, unencrypted volumes, keys without
rotation. Every intended non-compliance is a line of config-truth.jsonl. History
items record changes: tag edits, and the changes the CloudTrail scenarios make
(a security group opened to the world, a bucket's Block Public Access removed).
"""

import json
import random

from .util import derive_seed, hash_chars, uuid4, iso
from .srcutil import stamp_sec, ymd_nopad
from . import scenarios as ctscen

HIST = 6 * 3600
# Labelled violations a later history item fixes (one per account): the setting it flips.
FIXES = {"cloud-trail-log-file-validation-enabled": ("validation", True),
         "cmk-backing-key-rotation-enabled": ("rotation", True),
         "s3-bucket-server-side-encryption-enabled": ("unencrypted", False),
         "iam-user-mfa-enabled": ("mfa", True)}
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _flag(acct, name, kind, p):
    """A stable per-resource coin (independent of any random stream)."""
    return int(hash_chars("0123456789", 6, "cfg", acct, name, kind)) / 1e6 < p


def inventory(w):
    """[(region, resourceType, resourceId, name, arn, props)] of every recorded resource."""
    acct = w.acct
    out = []
    bastion_sgs = {i.sg for i in w.net.instances if i.role == "bastion"}
    for sg, r in w.all["sg"]:
        out.append((r, "AWS::EC2::SecurityGroup", sg, sg, "arn:aws:ec2:%s:%s:security-group/%s" % (r, acct, sg),
                    {"open_ssh": sg in bastion_sgs}))
    for b in w.all["bucket"]:
        out.append((b[1], "AWS::S3::Bucket", b[0], b[0], "arn:aws:s3:::%s" % b[0],
                    {"public": ("documents" in b[0] or "reports" in b[0]) and _flag(acct, b[0], "pub", 0.5),
                     "unencrypted": _flag(acct, b[0], "enc", 0.2)}))
    for d in w.net.dbs:
        out.append((d.region, "AWS::RDS::DBInstance", d.resource_id, d.id, d.arn,
                    {"encrypted": d.encrypted, "public": d.public, "db": d}))
    for p in w.principals:
        if p.type == "IAMUser" and p.user_name:
            out.append((w.primary, "AWS::IAM::User", p.principal_id, p.user_name, p.arn,
                        {"console": p.kind == "human", "mfa": bool(p.mfa) if p.kind == "human" else None}))
    out.append((w.primary, "AWS::CloudTrail::Trail", w.trail_arn.split("/")[-1], w.trail_arn.split("/")[-1], w.trail_arn,
                {"validation": not _flag(acct, "trail", "val", 0.25), "kms": not _flag(acct, "trail", "kms", 0.4)}))
    for i in w.net.instances:
        out.append((i.region, "AWS::EC2::Volume", i.volume, i.volume, "arn:aws:ec2:%s:%s:volume/%s" % (i.region, acct, i.volume),
                    {"encrypted": not _flag(acct, i.volume, "enc", 0.2), "inst": i}))
    for k in w.all["key"]:
        out.append((k[1], "AWS::KMS::Key", k[0], k[2], "arn:aws:kms:%s:%s:key/%s" % (k[1], acct, k[0]),
                    {"rotation": not _flag(acct, k[0], "rot", 0.25)}))
    return out


def count(w, days, hist):
    return days * len(inventory(w)) + hist


def noncompliance(w, res):
    """(rule, reason) pairs a resource breaks."""
    r, typ, rid, name, arn, pr = res
    out = []
    if typ == "AWS::EC2::SecurityGroup" and pr["open_ssh"]:
        out.append(("restricted-ssh", "ingress tcp/22 from 0.0.0.0/0"))
    elif typ == "AWS::S3::Bucket":
        if pr["public"]:
            out.append(("s3-bucket-public-read-prohibited", "bucket policy grants s3:GetObject to Principal *"))
            out.append(("s3-bucket-level-public-access-prohibited", "Block Public Access off"))
        if pr["unencrypted"]:
            out.append(("s3-bucket-server-side-encryption-enabled", "no default encryption configuration"))
    elif typ == "AWS::RDS::DBInstance":
        if not pr["encrypted"]:
            out.append(("rds-storage-encrypted", "storageEncrypted false"))
        if pr["public"]:
            out.append(("rds-instance-public-access-check", "publiclyAccessible true"))
    elif typ == "AWS::IAM::User" and pr["console"] and not pr["mfa"]:
        out.append(("iam-user-mfa-enabled", "console user without an MFA device"))
    elif typ == "AWS::CloudTrail::Trail":
        if not pr["validation"]:
            out.append(("cloud-trail-log-file-validation-enabled", "logFileValidationEnabled false"))
        if not pr["kms"]:
            out.append(("cloud-trail-encryption-enabled", "no kmsKeyId"))
    elif typ == "AWS::EC2::Volume" and not pr["encrypted"]:
        out.append(("encrypted-volumes", "encrypted false"))
    elif typ == "AWS::KMS::Key" and not pr["rotation"]:
        out.append(("cmk-backing-key-rotation-enabled", "key rotation disabled"))
    return out


def in_effect(timeline, rid, t):
    """The changes to a resource in effect at t: ports opened, Block Public Access
    removed, labelled violations fixed (every later item carries them)."""
    st = {"opens": [], "bpa_off": False, "fixed": set()}
    for tc, ch in timeline.get(rid, []):
        if tc > t:
            break
        if ch.get("open"):
            st["opens"].append(ch["open"])
        if ch.get("bpa_off"):
            st["bpa_off"] = True
        if ch.get("fix"):
            st["fixed"].add(ch["fix"])
    return st


def configuration(w, res, t, change=None, state=None):
    r, typ, rid, name, arn, pr = res
    st = state or {"opens": [], "bpa_off": False, "fixed": set()}
    if st["fixed"]:
        pr = dict(pr)
        for rule in st["fixed"]:
            k, v = FIXES[rule]
            pr[k] = v
    acct = w.acct
    supp = {}
    rel = []
    if typ == "AWS::EC2::SecurityGroup":
        vpc = [v for v in w.net.vpcs if v.region == r]
        vpc = vpc[0].id if vpc else "vpc-0"
        perms = [{"fromPort": 443, "ipProtocol": "tcp", "ipv6Ranges": [], "prefixListIds": [], "toPort": 443,
                  "userIdGroupPairs": [], "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}], "ipRanges": ["10.0.0.0/8"]}]
        cidrs = ["0.0.0.0/0"] if pr["open_ssh"] else list(w.corp_v4)
        perms.append({"fromPort": 22, "ipProtocol": "tcp", "ipv6Ranges": [], "prefixListIds": [], "toPort": 22,
                      "userIdGroupPairs": [], "ipv4Ranges": [{"cidrIp": c} for c in cidrs], "ipRanges": cidrs})
        for port, cidr in st["opens"]:
            rng6 = [{"cidrIpv6": cidr}] if ":" in cidr else []
            rng4 = [] if ":" in cidr else [{"cidrIp": cidr}]
            perms.append({"fromPort": port, "ipProtocol": "tcp", "ipv6Ranges": rng6, "prefixListIds": [], "toPort": port,
                          "userIdGroupPairs": [], "ipv4Ranges": rng4, "ipRanges": [x["cidrIp"] for x in rng4]})
        conf = {"description": "managed by terraform", "groupName": "%s-sg-%s" % (w.bank_short, rid[-6:]), "ownerId": acct,
                "groupId": rid, "ipPermissions": perms,
                "ipPermissionsEgress": [{"ipProtocol": "-1", "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": [],
                                         "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}],
                "tags": [{"key": "bank", "value": w.bank}], "vpcId": vpc}
        rel = [{"resourceId": vpc, "resourceType": "AWS::EC2::VPC", "name": "Is contained in Vpc"}]
    elif typ == "AWS::S3::Bucket":
        conf = {"name": rid, "owner": {"displayName": None, "id": hash_chars("0123456789abcdef", 64, "canonical", acct)},
                "creationDate": "2024-03-11T09:21:07.000Z"}
        bpa_off = pr["public"] or st["bpa_off"]
        supp["PublicAccessBlockConfiguration"] = {"blockPublicAcls": not bpa_off, "ignorePublicAcls": not bpa_off,
                                                  "blockPublicPolicy": not bpa_off, "restrictPublicBuckets": not bpa_off}
        if not pr["unencrypted"]:
            supp["ServerSideEncryptionConfiguration"] = {"rules": [{"applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms", "kmsMasterKeyID": "arn:aws:kms:%s:%s:key/%s" % (r, acct, w.all["key"][0][0])},
                "bucketKeyEnabled": True}]}
        # every bucket refuses plain HTTP (s3-bucket-ssl-requests-only)
        stmts = [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                  "Resource": ["arn:aws:s3:::%s" % rid, "arn:aws:s3:::%s/*" % rid],
                  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
        if pr["public"]:
            stmts.append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                          "Resource": "arn:aws:s3:::%s/*" % rid})
        supp["BucketPolicy"] = {"policyText": _dumps({"Version": "2012-10-17", "Statement": stmts})}
        supp["BucketVersioningConfiguration"] = {"status": "Enabled", "isMfaDeleteEnabled": None}
        supp["BucketLoggingConfiguration"] = {"destinationBucketName": "%s-%s-logs-%s" % (w.bank_short, w.env, acct[-4:]),
                                              "logFilePrefix": "s3-access-logs/"}
    elif typ == "AWS::RDS::DBInstance":
        d = pr["db"]
        conf = {"dBInstanceIdentifier": d.id, "dBInstanceClass": "db.r6g.large", "engine": d.engine,
                "engineVersion": d.version, "dBInstanceStatus": "available", "masterUsername": d.users[2],
                "endpoint": {"address": "%s.c%s.%s.rds.amazonaws.com" % (d.id, d.resource_id[3:15].lower(), d.region),
                             "port": d.port, "hostedZoneId": "Z2R2ITUGPM61AM"},
                "allocatedStorage": 200, "availabilityZone": d.az, "multiAZ": w.ou == "prod",
                "publiclyAccessible": d.public, "storageEncrypted": d.encrypted,
                "kmsKeyId": ("arn:aws:kms:%s:%s:key/%s" % (d.region, acct, w.all["key"][0][0])) if d.encrypted else None,
                "dbiResourceId": d.resource_id, "dBInstanceArn": d.arn, "iAMDatabaseAuthenticationEnabled": False,
                "deletionProtection": w.ou == "prod", "backupRetentionPeriod": 7,
                "dBSubnetGroup": {"dBSubnetGroupName": "%s-db-subnets" % w.env, "vpcId": d.vpc}}
        rel = [{"resourceId": d.vpc, "resourceType": "AWS::EC2::VPC", "name": "Is associated with Vpc"}]
    elif typ == "AWS::IAM::User":
        p = [x for x in w.principals if x.arn == arn][0]
        conf = {"path": "/", "userName": name, "userId": rid, "arn": arn, "createDate": "2025-02-03T10:14:22.000Z",
                "userPolicyList": [], "groupList": ["%s-%s" % (w.bank_short, "engineers" if pr["console"] else "services")],
                # permissions come through the group (iam-user-no-policies-check)
                "attachedManagedPolicies": [],
                "permissionsBoundary": None, "tags": [],
                # Config's own item has no MFA field (the managed rule asks IAM); carried here
                # so compliance can be evaluated from the items alone
                "mfaDevices": ([{"serialNumber": "arn:aws:iam::%s:mfa/%s" % (acct, name),
                                 "enableDate": "2025-02-03T10:20:00.000Z"}] if pr["mfa"] else []),
                "loginProfile": {"createDate": "2025-02-03T10:15:00.000Z"} if pr["console"] else None}
        _ = p
    elif typ == "AWS::CloudTrail::Trail":
        conf = {"name": rid, "s3BucketName": "%s-org-cloudtrail-logs" % w.bank_short, "includeGlobalServiceEvents": True,
                "isMultiRegionTrail": True, "homeRegion": r, "trailARN": arn, "logFileValidationEnabled": pr["validation"],
                "hasCustomEventSelectors": True, "hasInsightSelectors": False, "isOrganizationTrail": False,
                "kmsKeyId": ("arn:aws:kms:%s:%s:key/%s" % (r, acct, w.all["key"][0][0])) if pr["kms"] else None}
    elif typ == "AWS::EC2::Volume":
        i = pr["inst"]
        conf = {"attachments": [{"attachTime": "2026-09-14T08:12:42.000Z", "device": "/dev/xvda", "instanceId": i.id,
                                 "state": "attached", "volumeId": rid, "deleteOnTermination": True}],
                "availabilityZone": i.az, "createTime": "2026-09-14T08:12:41.000Z", "encrypted": pr["encrypted"],
                "kmsKeyId": ("arn:aws:kms:%s:%s:key/%s" % (i.region, acct, w.all["key"][0][0])) if pr["encrypted"] else None,
                "size": 50, "snapshotId": "", "state": "in-use", "volumeId": rid, "iops": 3000, "volumeType": "gp3",
                "throughput": 125, "multiAttachEnabled": False}
        rel = [{"resourceId": i.id, "resourceType": "AWS::EC2::Instance", "name": "Is attached to Instance"}]
    else:
        conf = {"keyId": rid, "arn": arn, "creationDate": "2025-01-20T12:00:00.000Z", "enabled": True,
                "description": name, "keyUsage": "ENCRYPT_DECRYPT", "keyState": "Enabled", "origin": "AWS_KMS",
                "keyManager": "CUSTOMER", "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keySpec": "SYMMETRIC_DEFAULT",
                "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "multiRegion": False}
        supp["KeyRotationStatus"] = {"keyRotationEnabled": pr["rotation"]}
    ci = {"relatedEvents": [], "relationships": rel, "configuration": conf, "supplementaryConfiguration": supp,
          "tags": {"bank": w.bank}, "configurationItemVersion": "1.3", "configurationItemCaptureTime": iso(t).replace("Z", ".%03dZ" % (t % 997)),
          "configurationStateId": t * 1000 + int(hash_chars("0123456789", 3, rid)), "awsAccountId": acct,
          "configurationItemStatus": "OK", "resourceType": typ, "resourceId": rid, "resourceName": name, "ARN": arn,
          "awsRegion": r, "availabilityZone": "Not Applicable" if typ not in ("AWS::EC2::Volume", "AWS::RDS::DBInstance")
          else (pr["inst"].az if typ == "AWS::EC2::Volume" else pr["db"].az),
          "configurationStateMd5Hash": "", "resourceCreationTime": "2025-01-20T12:00:00.000Z"}
    if change and change.get("event"):
        ci["relatedEvents"] = [change["event"]]
    return ci


def scenario_changes(w, ct_insts):
    """History items the CloudTrail scenarios cause: (t, resourceId, change)."""
    out = []
    for inst in ct_insts:
        if inst["kind"] not in ("sg_open_admin_port", "s3_block_public_access_disabled"):
            continue
        evs, truth = ctscen.generate(w, inst)
        t, region, rec, name, eid = evs[-1]
        rp = json.loads(rec)["requestParameters"] or {}
        if inst["kind"] == "sg_open_admin_port":
            out.append((t + 60, rp["groupId"], {"open": (inst["port"], inst["cidr"]), "event": eid}))
        else:
            out.append((t + 60, rp["bucketName"], {"bpa_off": True, "event": eid}))
    return out


def run(w, task, out, seed, start, days, ct_insts):
    rng = random.Random(derive_seed(seed, "config", w.acct))
    inv = inventory(w)
    regions = sorted({x[0] for x in inv})
    stats = {"per_region": {}, "per_type": {}}
    # ---- changes: the scenarios', and the fix; their timeline (no random draws here)
    by_id = {x[2]: x for x in inv}
    by_name = {x[3]: x for x in inv}
    changes = []
    for t, rid, ch in scenario_changes(w, ct_insts):
        res = by_id.get(rid) or by_name.get(rid)
        if res is not None:
            changes.append((t, res, ch))
    editable = [x for x in inv if x[1] in ("AWS::EC2::SecurityGroup", "AWS::S3::Bucket", "AWS::IAM::User")]
    # one labelled violation of the account is fixed late in the period (after the last
    # snapshot): a history item, and the truth line says since when it is fixed
    fixed = None
    if task["hist"] > 0 and days > 0:
        for res in inv:
            hit = [rule for rule, _ in noncompliance(w, res) if rule in FIXES]
            if hit:
                fixed = (start + days * 86400 - 3600, res, hit[0])
                changes.append((fixed[0], res, {"fix": hit[0]}))
                break
    timeline = {}
    for t, res, ch in sorted(changes, key=lambda x: x[0]):
        timeline.setdefault(res[2], []).append((t, ch))
    # ---- snapshots: one per region per day
    for day in range(days):
        for r in regions:
            t = start + day * 86400 + 3600 + rng.randrange(7200)
            items = [configuration(w, x, t, None, in_effect(timeline, x[2], t)) for x in inv if x[0] == r]
            rel = "AWSLogs/%s/Config/%s/%s/ConfigSnapshot/%s_Config_%s_ConfigSnapshot_%s_%s.json.gz" % (
                w.acct, r, ymd_nopad(t), w.acct, r, stamp_sec(t), uuid4(rng))
            out.write(rel, _dumps({"fileVersion": "1.0", "configSnapshotId": uuid4(rng), "configurationItems": items}),
                      len(items))
            stats["per_region"][r] = stats["per_region"].get(r, 0) + len(items)
            for it in items:
                stats["per_type"][it["resourceType"]] = stats["per_type"].get(it["resourceType"], 0) + 1
    # ---- history: those changes, then background edits up to the planned number
    while len(changes) < task["hist"] + task["scenario_changes"]:
        t = start + rng.randrange(days * 86400 - 3600)
        changes.append((t, editable[rng.randrange(len(editable))], None))
    truth = []
    opened = {}
    for t, res, ch in changes:
        if ch and (ch.get("open") or ch.get("bpa_off")):
            opened[res[2]] = (t, ch)
    files = {}
    for t, res, ch in changes:
        files.setdefault((res[0], res[1], t // HIST), []).append((t, res, ch))
    for key in sorted(files):
        r, typ, win = key
        lst = sorted(files[key], key=lambda x: (x[0], x[1][2]))
        items = [configuration(w, res, t, ch, in_effect(timeline, res[2], t)) for t, res, ch in lst]
        t0, t1 = win * HIST, win * HIST + HIST
        rel = "AWSLogs/%s/Config/%s/%s/ConfigHistory/%s_Config_%s_ConfigHistory_%s_%s_%s_1.json.gz" % (
            w.acct, r, ymd_nopad(t1), w.acct, r, typ, stamp_sec(t0), stamp_sec(t1))
        out.write(rel, _dumps({"fileVersion": "1.0", "configurationItems": items}), len(items))
        stats["per_region"][r] = stats["per_region"].get(r, 0) + len(items)
        for it in items:
            stats["per_type"][it["resourceType"]] = stats["per_type"].get(it["resourceType"], 0) + 1
    # ---- what a compliance evaluation must find non-compliant at the end
    for res in inv:
        for rule, why in noncompliance(w, res):
            line = {"bank": w.bank, "account": w.acct, "region": res[0], "resource_type": res[1],
                    "resource_id": res[2], "resource_name": res[3], "arn": res[4], "rule": rule,
                    "since": iso(start), "reason": why}
            if fixed and fixed[1][2] == res[2] and fixed[2] == rule:
                line["fixed"] = iso(fixed[0])
            truth.append(line)
        if res[2] in opened:
            t, ch = opened[res[2]]
            rule, why = (("restricted-ssh" if ch["open"][0] == 22 else "restricted-common-ports",
                          "ingress tcp/%d from %s (CloudTrail %s)" % (ch["open"][0], ch["open"][1], ch["event"]))
                         if ch.get("open") else
                         ("s3-bucket-level-public-access-prohibited",
                          "Block Public Access removed (CloudTrail %s)" % ch["event"]))
            if not any(x["rule"] == rule and x["resource_id"] == res[2] for x in truth):
                truth.append({"bank": w.bank, "account": w.acct, "region": res[0], "resource_type": res[1],
                              "resource_id": res[2], "resource_name": res[3], "arn": res[4], "rule": rule,
                              "since": iso(t), "reason": why})
    return stats, truth
