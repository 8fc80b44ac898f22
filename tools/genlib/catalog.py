"""The API catalog: every (eventSource, eventName) the generator emits, with
realistic requestParameters / responseElements / resources per call.

A generator function has the signature gen(w, p, region, t, rng) and returns
(requestParameters, responseElements, resources, additionalEventData) as
compact JSON strings or None ("null" for the first two, omitted for the last
two). w is the account world (resources), p the calling principal.
"""

from .util import J, uuid4, hexid, rand_chars, s3_date, iso, human_expiration, KEY_CHARS, B64, hash_chars

GLOBAL_REGION = "us-east-1"


LAST_BUCKET = [None]  # the bucket the last S3 generator picked (its region is the event's awsRegion)


def res(w, p, kind, region, rng):
    """Pick a resource of kind, preferring the principal's own, then the region's."""
    own = p.res.get(kind) if p is not None else None
    if own:
        x = own[rng.randrange(len(own))]
    else:
        lst = w.byr[kind].get(region) or w.all[kind]
        x = lst[rng.randrange(len(lst))]
    if kind == "bucket":
        LAST_BUCKET[0] = x
    return x


# ---------------------------------------------------------------- generic makers

def null(w, p, region, t, rng):
    return None, None, None, None


def const(req):
    s = J(req)

    def g(w, p, region, t, rng):
        return s, None, None, None
    return g


def ec2_ok(w, p, region, t, rng):
    return None, J({"requestId": uuid4(rng), "_return": True}), None, None


# ---------------------------------------------------------------- EC2

def ec2_describe_instances(w, p, region, t, rng):
    r = rng.random()
    if r < 0.5:
        req = {"instancesSet": {}, "filterSet": {}}
    elif r < 0.8:
        inst = res(w, p, "instance", region, rng)
        req = {"instancesSet": {"items": [{"instanceId": inst[0]}]}, "filterSet": {}}
    else:
        req = {"instancesSet": {}, "filterSet": {"items": [{"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}}
    return J(req), None, None, None


def ec2_describe_sgs(w, p, region, t, rng):
    if rng.random() < 0.6:
        return J({"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}), None, None, None
    sg = res(w, p, "sg", region, rng)
    return J({"securityGroupSet": {}, "securityGroupIdSet": {"items": [{"groupId": sg[0]}]}, "filterSet": {}}), None, None, None


def ec2_describe_tags(w, p, region, t, rng):
    inst = res(w, p, "instance", region, rng)
    return J({"filterSet": {"items": [{"name": "resource-id", "valueSet": {"items": [{"value": inst[0]}]}}]}}), None, None, None


def ec2_describe_snapshots(w, p, region, t, rng):
    return J({"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "sharedUsersSet": {}, "filterSet": {}}), None, None, None


def ec2_describe_images(w, p, region, t, rng):
    return J({"executableBySet": {}, "imagesSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "includeDeprecated": False, "filterSet": {}}), None, None, None


def ec2_describe_generic(setname):
    s = J({setname: {}, "filterSet": {}})

    def g(w, p, region, t, rng):
        return s, None, None, None
    return g


def ec2_state_change(new, prev):
    codes = {"pending": 0, "running": 16, "stopping": 64, "stopped": 80, "shutting-down": 32}

    def g(w, p, region, t, rng):
        inst = res(w, p, "instance", region, rng)
        req = {"instancesSet": {"items": [{"instanceId": inst[0]}]}}
        resp = {"requestId": uuid4(rng), "instancesSet": {"items": [{"instanceId": inst[0],
                "currentState": {"code": codes[new], "name": new},
                "previousState": {"code": codes[prev], "name": prev}}]}}
        return J(req), J(resp), None, None
    return g


def ec2_create_tags(w, p, region, t, rng):
    inst = res(w, p, "instance", region, rng)
    k, v = [("Owner", p.short), ("CostCenter", "cc-%d" % (1000 + rng.randrange(40))),
            ("Backup", "daily"), ("Patch", "group-%s" % "abc"[rng.randrange(3)])][rng.randrange(4)]
    req = {"resourcesSet": {"items": [{"resourceId": inst[0]}]}, "tagSet": {"items": [{"key": k, "value": v}]}}
    return J(req), J({"requestId": uuid4(rng), "_return": True}), None, None


def ec2_create_snapshot(w, p, region, t, rng):
    vol = "vol-0" + hexid(rng, 16)
    snap = "snap-0" + hexid(rng, 16)
    req = {"volumeId": vol, "description": "automated backup %s" % iso(t)[:10]}
    resp = {"requestId": uuid4(rng), "snapshotId": snap, "volumeId": vol, "status": "pending",
            "startTime": (t * 1000), "progress": "", "ownerId": w.acct, "volumeSize": 50 + 50 * rng.randrange(8),
            "encrypted": True}
    return J(req), J(resp), None, None


def ec2_authorize_internal(w, p, region, t, rng):
    """Legitimate ingress change: internal CIDRs on application ports only."""
    sg = res(w, p, "sg", region, rng)
    port = [443, 8443, 5432, 6379, 8080][rng.randrange(5)]
    cidr = ["10.0.0.0/8", "10.%d.0.0/16" % rng.randrange(256), "172.16.0.0/12"][rng.randrange(3)]
    req = {"groupId": sg[0], "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": port, "toPort": port,
           "groups": {}, "ipRanges": {"items": [{"cidrIp": cidr, "description": "internal"}]},
           "ipv6Ranges": {}, "prefixListIds": {}}]}}
    resp = {"requestId": uuid4(rng), "_return": True, "securityGroupRuleSet": {"items": [{
        "groupOwnerId": w.acct, "groupId": sg[0], "securityGroupRuleId": "sgr-0" + hexid(rng, 16),
        "isEgress": False, "ipProtocol": "tcp", "fromPort": port, "toPort": port, "cidrIpv4": cidr,
        "description": "internal"}]}}
    return J(req), J(resp), None, None


def ec2_revoke(w, p, region, t, rng):
    sg = res(w, p, "sg", region, rng)
    req = {"groupId": sg[0], "securityGroupRuleIds": {"items": [{"securityGroupRuleId": "sgr-0" + hexid(rng, 16)}]}}
    return J(req), J({"requestId": uuid4(rng), "_return": True}), None, None


def ec2_run_instances(w, p, region, t, rng):
    iid = "i-0" + hexid(rng, 16)
    ami = "ami-0" + hexid(rng, 16)
    itype = ["t3.medium", "m6i.large", "c6i.xlarge", "r6i.large"][rng.randrange(4)]
    subnet = res(w, p, "subnet", region, rng)
    req = {"instancesSet": {"items": [{"imageId": ami, "minCount": 1, "maxCount": 1}]}, "instanceType": itype,
           "blockDeviceMapping": {}, "monitoring": {"enabled": False}, "subnetId": subnet[0],
           "disableApiTermination": False, "disableApiStop": False, "clientToken": uuid4(rng)}
    resp = {"requestId": uuid4(rng), "reservationId": "r-0" + hexid(rng, 16), "ownerId": w.acct, "groupSet": {},
            "instancesSet": {"items": [{"instanceId": iid, "imageId": ami, "instanceState": {"code": 0, "name": "pending"},
                                        "instanceType": itype, "subnetId": subnet[0], "vpcId": subnet[1]}]}}
    return J(req), J(resp), None, None


def ec2_eni_create(w, p, region, t, rng):
    subnet = res(w, p, "subnet", region, rng)
    sg = res(w, p, "sg", region, rng)
    eni = "eni-0" + hexid(rng, 16)
    req = {"subnetId": subnet[0], "description": "AWS Lambda VPC ENI-%s" % p.short,
           "groupSet": {"items": [{"groupId": sg[0]}]}, "privateIpAddressesSet": {}, "ipv6AddressCount": 0}
    resp = {"requestId": uuid4(rng), "networkInterface": {"networkInterfaceId": eni, "subnetId": subnet[0],
            "vpcId": subnet[1], "ownerId": w.acct, "status": "pending", "interfaceType": "lambda",
            "privateIpAddress": "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), 1 + rng.randrange(250))}}
    return J(req), J(resp), None, None


def ec2_eni_delete(w, p, region, t, rng):
    return J({"networkInterfaceId": "eni-0" + hexid(rng, 16)}), J({"requestId": uuid4(rng), "_return": True}), None, None


# ---------------------------------------------------------------- S3 management

def s3_host(bucket):
    name, region = bucket[0], bucket[1]
    if region == "us-east-1":
        return "%s.s3.amazonaws.com" % name
    return "%s.s3.%s.amazonaws.com" % (name, region)


def s3_bucket_req(sub):
    def g(w, p, region, t, rng):
        b = res(w, p, "bucket", region, rng)
        req = {"bucketName": b[0], "Host": s3_host(b), sub: ""}
        return J(req), None, J([{"accountId": w.acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b[0]}]), None
    return g


def s3_list_buckets(w, p, region, t, rng):
    return J({"Host": "s3.amazonaws.com"}), None, None, None


def s3_put_bucket_tagging(w, p, region, t, rng):
    b = res(w, p, "bucket", region, rng)
    req = {"bucketName": b[0], "Host": s3_host(b), "tagging": "",
           "Tagging": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "TagSet": {"Tag": [
               {"Key": "Owner", "Value": w.bank_short}, {"Key": "Environment", "Value": w.ou}]}}}
    return J(req), None, J([{"accountId": w.acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b[0]}]), None


def s3_put_bpa_true(w, p, region, t, rng):
    """Legitimate: enabling all four block-public-access flags."""
    b = res(w, p, "bucket", region, rng)
    req = {"publicAccessBlock": "", "bucketName": b[0], "Host": s3_host(b),
           "PublicAccessBlockConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                                              "RestrictPublicBuckets": True, "BlockPublicPolicy": True,
                                              "BlockPublicAcls": True, "IgnorePublicAcls": True}}
    return J(req), None, J([{"accountId": w.acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b[0]}]), None


def s3_put_bucket_policy(w, p, region, t, rng):
    b = res(w, p, "bucket", region, rng)
    pol = {"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
           "Action": "s3:*", "Resource": ["arn:aws:s3:::%s" % b[0], "arn:aws:s3:::%s/*" % b[0]],
           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    req = {"bucketPolicy": pol, "bucketName": b[0], "Host": s3_host(b), "policy": ""}
    return J(req), None, J([{"accountId": w.acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b[0]}]), None


def s3_put_versioning(w, p, region, t, rng):
    b = res(w, p, "bucket", region, rng)
    req = {"bucketName": b[0], "Host": s3_host(b), "versioning": "",
           "VersioningConfiguration": {"Status": "Enabled", "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}
    return J(req), None, J([{"accountId": w.acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b[0]}]), None


# ---------------------------------------------------------------- S3 data events

_CIPHERS = ["ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]


def s3_key(w, p, b, t, rng):
    prefixes = b[2]
    pre = prefixes[rng.randrange(len(prefixes))]
    ext = pre[1]
    return "%s/%s/%s-%s.%s" % (pre[0], s3_date(t), pre[2], hexid(rng, 12), ext)


def s3_aed(rng, bin_, bout):
    return J({"SignatureVersion": "SigV4", "CipherSuite": _CIPHERS[rng.randrange(3)],
              "bytesTransferredIn": bin_, "AuthenticationMethod": "AuthHeader",
              "x-amz-id-2": rand_chars(rng, B64, 76), "bytesTransferredOut": bout})


def s3_object_resources(w, b, key):
    return J([{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::%s/%s" % (b[0], key)},
              {"accountId": w.acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b[0]}])


def s3_object_size(rng):
    # log-uniform between ~200 B and ~20 MB
    return int(200 * (10 ** (rng.random() * 5)))


def s3_get_object(w, p, region, t, rng, bucket=None, key=None):
    b = bucket or res(w, p, "bucket", region, rng)
    key = key or s3_key(w, p, b, t - 86400 * rng.randrange(30), rng)
    req = {"bucketName": b[0], "Host": s3_host(b), "key": key}
    return J(req), None, s3_object_resources(w, b, key), s3_aed(rng, 0, s3_object_size(rng))


def s3_head_object(w, p, region, t, rng):
    b = res(w, p, "bucket", region, rng)
    key = s3_key(w, p, b, t - 86400 * rng.randrange(30), rng)
    req = {"bucketName": b[0], "Host": s3_host(b), "key": key}
    return J(req), None, s3_object_resources(w, b, key), s3_aed(rng, 0, 0)


def s3_put_object(w, p, region, t, rng):
    b = res(w, p, "bucket", region, rng)
    key = s3_key(w, p, b, t, rng)
    req = {"bucketName": b[0], "Host": s3_host(b), "key": key}
    resp = {"x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:%s:%s:key/%s" % (b[1], w.acct, w.all["key"][0][0]),
            "x-amz-version-id": rand_chars(rng, B64[:62], 32)}
    return J(req), J(resp), s3_object_resources(w, b, key), s3_aed(rng, s3_object_size(rng), 0)


def s3_delete_object(w, p, region, t, rng):
    b = res(w, p, "bucket", region, rng)
    key = s3_key(w, p, b, t - 86400 * (1 + rng.randrange(60)), rng)
    req = {"bucketName": b[0], "Host": s3_host(b), "key": key}
    return J(req), None, s3_object_resources(w, b, key), s3_aed(rng, 0, 0)


def s3_list_objects(w, p, region, t, rng, bucket=None):
    b = bucket or res(w, p, "bucket", region, rng)
    pre = b[2][rng.randrange(len(b[2]))][0]
    req = {"bucketName": b[0], "Host": s3_host(b), "list-type": "2", "prefix": pre + "/" + s3_date(t) + "/",
           "encoding-type": "url"}
    return J(req), None, J([{"accountId": w.acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b[0]}]), \
        s3_aed(rng, 0, 400 + rng.randrange(40000))


# ---------------------------------------------------------------- IAM

def iam_role_req(key="roleName"):
    def g(w, p, region, t, rng):
        r = res(w, None, "role", region, rng)
        return J({key: r}), None, None, None
    return g


def iam_user_req(w, p, region, t, rng):
    u = res(w, None, "user", region, rng)
    return J({"userName": u}), None, None, None


def iam_self_user_req(w, p, region, t, rng):
    return J({"userName": p.user_name}), None, None, None


def iam_policy_req(key="policyArn"):
    def g(w, p, region, t, rng):
        pol = res(w, None, "policy", region, rng)
        if key == "policyArn":
            return J({"policyArn": pol}), None, None, None
        return J({"policyArn": pol, "versionId": "v%d" % (1 + rng.randrange(5))}), None, None, None
    return g


def iam_list_role_policies(w, p, region, t, rng):
    r = res(w, None, "role", region, rng)
    return J({"roleName": r}), None, None, None


def iam_get_role_policy(w, p, region, t, rng):
    r = res(w, None, "role", region, rng)
    return J({"roleName": r, "policyName": "%s-inline" % r}), None, None, None


def iam_access_key_last_used(w, p, region, t, rng):
    return J({"accessKeyId": w.all["akia"][rng.randrange(len(w.all["akia"]))]}), None, None, None


_SAFE_POLICIES = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
                  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/ReadOnlyAccess",
                  "arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole"]


def iam_attach_role_policy_safe(w, p, region, t, rng):
    r = res(w, None, "role", region, rng)
    return J({"roleName": r, "policyArn": _SAFE_POLICIES[rng.randrange(len(_SAFE_POLICIES))]}), None, None, None


def iam_detach_role_policy_safe(w, p, region, t, rng):
    r = res(w, None, "role", region, rng)
    return J({"roleName": r, "policyArn": _SAFE_POLICIES[rng.randrange(len(_SAFE_POLICIES))]}), None, None, None


def iam_put_role_policy(w, p, region, t, rng):
    r = res(w, None, "role", region, rng)
    b = w.all["bucket"][rng.randrange(len(w.all["bucket"]))][0]
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
           "Resource": "arn:aws:s3:::%s/*" % b}]}
    return J({"roleName": r, "policyName": "%s-inline" % r, "policyDocument": J(doc)}), None, None, None


def iam_create_role(w, p, region, t, rng):
    name = "%s-%s-role" % (w.apps[rng.randrange(len(w.apps))], ["worker", "batch", "etl", "reader"][rng.randrange(4)])
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": "sts:AssumeRole"}]}
    rid = "AROA" + rand_chars(rng, KEY_CHARS, 17)
    resp = {"role": {"path": "/", "roleName": name, "roleId": rid, "arn": "arn:aws:iam::%s:role/%s" % (w.acct, name),
                     "createDate": human_expiration(t), "assumeRolePolicyDocument": J(trust)}}
    return J({"roleName": name, "assumeRolePolicyDocument": J(trust)}), J(resp), None, None


def iam_tag_role(w, p, region, t, rng):
    r = res(w, None, "role", region, rng)
    return J({"roleName": r, "tags": [{"key": "Owner", "value": w.bank_short}]}), None, None, None


def iam_create_access_key_self(w, p, region, t, rng):
    """Rotation of one's own key: requestParameters.userName == caller."""
    kid = "AKIA" + rand_chars(rng, KEY_CHARS, 16)
    resp = {"accessKey": {"userName": p.user_name, "accessKeyId": kid, "status": "Active", "createDate": human_expiration(t)}}
    return J({"userName": p.user_name}), J(resp), None, None


def iam_update_access_key_self(w, p, region, t, rng):
    return J({"userName": p.user_name, "accessKeyId": p.akia[-1], "status": "Inactive"}), None, None, None


def iam_change_password(w, p, region, t, rng):
    return None, None, None, None


def iam_slr(w, p, region, t, rng):
    svc = ["autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com"][rng.randrange(3)]
    return J({"aWSServiceName": svc}), None, None, None


def iam_gen_cred_report(w, p, region, t, rng):
    return None, J({"state": "STARTED", "description": "No report exists. Starting a new report generation task"}), None, None


# ---------------------------------------------------------------- STS

def sts_get_caller_identity(w, p, region, t, rng):
    return None, None, None, None


def sts_assume_role_resp(w, role_arn, session, key, t, rng, duration=3600, role_id=None):
    return J({"credentials": {"accessKeyId": key, "sessionToken": rand_chars(rng, B64, 120),
                              "expiration": human_expiration(t + duration)},
              "assumedRoleUser": {"assumedRoleId": "%s:%s" % (role_id or ("AROA" + hash_chars(KEY_CHARS, 17, role_arn)), session),
                                  "arn": role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/" + session}})


def sts_assume_role(w, p, region, t, rng):
    """Role chaining by an app/human into a target role in the same account."""
    tgt = w.all["assumable"][rng.randrange(len(w.all["assumable"]))]
    arn = "arn:aws:iam::%s:role/%s" % (w.acct, tgt)
    sess = p.session_tag
    req = {"roleArn": arn, "roleSessionName": sess, "durationSeconds": 3600}
    key = "ASIA" + rand_chars(rng, KEY_CHARS, 16)
    return J(req), sts_assume_role_resp(w, arn, sess, key, t, rng), \
        J([{"accountId": w.acct, "type": "AWS::IAM::Role", "ARN": arn}]), None


def sts_get_session_token(w, p, region, t, rng):
    key = "ASIA" + rand_chars(rng, KEY_CHARS, 16)
    resp = {"credentials": {"accessKeyId": key, "sessionToken": rand_chars(rng, B64, 120),
                            "expiration": human_expiration(t + 43200)}}
    return J({"durationSeconds": 43200}), J(resp), None, None


def sts_get_federation_token(w, p, region, t, rng):
    fed = w.all["feduser"][rng.randrange(len(w.all["feduser"]))]
    key = "ASIA" + rand_chars(rng, KEY_CHARS, 16)
    req = {"name": fed, "durationSeconds": 43200, "policyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]}
    resp = {"credentials": {"accessKeyId": key, "sessionToken": rand_chars(rng, B64, 120),
                            "expiration": human_expiration(t + 43200)},
            "federatedUser": {"federatedUserId": "%s:%s" % (w.acct, fed),
                              "arn": "arn:aws:sts::%s:federated-user/%s" % (w.acct, fed)}, "packedPolicySize": 9}
    return J(req), J(resp), None, None


# ---------------------------------------------------------------- KMS

def _kms_key(w, p, region, rng):
    k = res(w, p, "key", region, rng)
    return k, "arn:aws:kms:%s:%s:key/%s" % (k[1], w.acct, k[0])


def kms_decrypt(w, p, region, t, rng):
    k, arn = _kms_key(w, p, region, rng)
    ctx = p.kms_ctx(w, rng) if p is not None else None
    req = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    if ctx:
        req["encryptionContext"] = ctx
    return J(req), None, J([{"accountId": w.acct, "type": "AWS::KMS::Key", "ARN": arn}]), None


def kms_generate_data_key(w, p, region, t, rng):
    k, arn = _kms_key(w, p, region, rng)
    req = {"keyId": "alias/" + k[2], "keySpec": "AES_256"}
    ctx = p.kms_ctx(w, rng) if p is not None else None
    if ctx:
        req["encryptionContext"] = ctx
    return J(req), None, J([{"accountId": w.acct, "type": "AWS::KMS::Key", "ARN": arn}]), None


def kms_encrypt(w, p, region, t, rng):
    k, arn = _kms_key(w, p, region, rng)
    req = {"keyId": arn, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    return J(req), None, J([{"accountId": w.acct, "type": "AWS::KMS::Key", "ARN": arn}]), None


def kms_key_req(w, p, region, t, rng):
    k, arn = _kms_key(w, p, region, rng)
    return J({"keyId": k[0]}), None, J([{"accountId": w.acct, "type": "AWS::KMS::Key", "ARN": arn}]), None


def kms_rotate_key(w, p, region, t, rng):
    k, arn = _kms_key(w, p, region, rng)
    return None, None, J([{"accountId": w.acct, "type": "AWS::KMS::Key", "ARN": arn}]), None


# ---------------------------------------------------------------- secrets / ssm

def sm_get_secret_value(w, p, region, t, rng):
    s = res(w, p, "secret", region, rng)
    return J({"secretId": s[1]}), None, None, None


def sm_describe_secret(w, p, region, t, rng):
    s = res(w, p, "secret", region, rng)
    return J({"secretId": s[0]}), None, None, None


def sm_rotation_succeeded(w, p, region, t, rng):
    res(w, p, "secret", region, rng)  # keeps the random stream as it was
    return None, None, None, None


def ssm_get_parameter(w, p, region, t, rng):
    n = res(w, p, "param", region, rng)
    return J({"name": n, "withDecryption": True}), None, None, None


def ssm_get_parameters(w, p, region, t, rng):
    a = res(w, p, "param", region, rng)
    b = res(w, p, "param", region, rng)
    return J({"names": [a, b] if a != b else [a], "withDecryption": True}), None, None, None


def ssm_get_parameters_by_path(w, p, region, t, rng):
    n = res(w, p, "param", region, rng)
    return J({"path": n.rsplit("/", 1)[0], "recursive": True, "withDecryption": True}), None, None, None


def ssm_update_instance_information(w, p, region, t, rng):
    inst = p.instance_id or res(w, p, "instance", region, rng)[0]
    req = {"instanceId": inst, "agentVersion": "3.3.131.0", "agentName": "amazon-ssm-agent",
           "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
           "iPAddress": p.private_ip or "10.0.1.10", "computerName": "ip-%s.%s.compute.internal" % (
               (p.private_ip or "10.0.1.10").replace(".", "-"), region),
           "agentStatus": "Active", "availabilityZone": region + "a", "availabilityZoneId": "use1-az1"}
    return J(req), None, None, None


def ssm_list_instance_associations(w, p, region, t, rng):
    inst = p.instance_id or res(w, p, "instance", region, rng)[0]
    return J({"instanceId": inst, "maxResults": 50}), None, None, None


def ssm_start_session(w, p, region, t, rng):
    inst = res(w, p, "instance", region, rng)
    sid = "%s-%s" % (p.short, hexid(rng, 17))
    return J({"target": inst[0]}), J({"sessionId": sid, "tokenValue": "Value hidden due to security reasons.",
                                       "streamUrl": "wss://ssmmessages.%s.amazonaws.com/v1/data-channel/%s?role=publish_subscribe" % (region, sid)}), \
        J([{"accountId": w.acct, "type": "AWS::EC2::Instance", "ARN": "arn:aws:ec2:%s:%s:instance/%s" % (region, w.acct, inst[0])}]), None


# ---------------------------------------------------------------- logs / cloudwatch

def logs_create_log_stream(w, p, region, t, rng):
    g = res(w, p, "loggroup", region, rng)
    stream = "%s/%s/%s" % (s3_date(t), "[$LATEST]", hexid(rng, 32))
    return J({"logGroupName": g, "logStreamName": stream}), None, None, None


def logs_create_log_group(w, p, region, t, rng):
    g = res(w, p, "loggroup", region, rng)
    return J({"logGroupName": g}), None, None, None


def logs_group_req(w, p, region, t, rng):
    g = res(w, p, "loggroup", region, rng)
    return J({"logGroupName": g}), None, None, None


def logs_describe_log_groups(w, p, region, t, rng):
    if rng.random() < 0.5:
        return None, None, None, None
    g = res(w, p, "loggroup", region, rng)
    return J({"logGroupNamePrefix": g.rsplit("/", 1)[0]}), None, None, None


def logs_filter(w, p, region, t, rng):
    g = res(w, p, "loggroup", region, rng)
    return J({"logGroupName": g, "startTime": (t - 3600) * 1000, "endTime": t * 1000,
              "filterPattern": ["ERROR", "Exception", "timeout", "\"status=500\""][rng.randrange(4)], "interleaved": True}), None, None, None


def logs_start_query(w, p, region, t, rng):
    g = res(w, p, "loggroup", region, rng)
    return J({"logGroupName": g, "startTime": t - 86400, "endTime": t,
              "queryString": "fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc | limit 100"}), \
        J({"queryId": uuid4(rng)}), None, None


def cw_get_metric_data(w, p, region, t, rng):
    inst = res(w, p, "instance", region, rng)
    req = {"metricDataQueries": [{"id": "m1", "metricStat": {"metric": {"namespace": "AWS/EC2", "metricName": "CPUUtilization",
           "dimensions": [{"name": "InstanceId", "value": inst[0]}]}, "period": 300, "stat": "Average"}, "returnData": True}],
           "startTime": iso(t - 3600), "endTime": iso(t)}
    return J(req), None, None, None


def cw_list_metrics(w, p, region, t, rng):
    ns = ["AWS/EC2", "AWS/RDS", "AWS/Lambda", "AWS/ApplicationELB", "AWS/DynamoDB", "AWS/SQS"][rng.randrange(6)]
    return J({"namespace": ns}), None, None, None


def cw_describe_alarms(w, p, region, t, rng):
    return J({"maxRecords": 100}), None, None, None


# ---------------------------------------------------------------- lambda / dynamodb / rds / others

def fn_req(w, p, region, t, rng):
    f = res(w, p, "function", region, rng)
    return J({"functionName": f[0]}), None, None, None


def fn_update_code(w, p, region, t, rng):
    f = res(w, p, "function", region, rng)
    b = w.all["bucket"][rng.randrange(len(w.all["bucket"]))][0]
    req = {"functionName": f[0], "s3Bucket": b, "s3Key": "lambda/%s/%s.zip" % (f[0], hexid(rng, 12)), "publish": True, "dryRun": False}
    resp = {"functionName": f[0], "functionArn": "arn:aws:lambda:%s:%s:function:%s" % (f[1], w.acct, f[0]),
            "runtime": "python3.12", "handler": "app.handler", "codeSize": 100000 + rng.randrange(9000000),
            "version": str(1 + rng.randrange(200)), "state": "Pending", "lastUpdateStatus": "InProgress"}
    return J(req), J(resp), None, None


def fn_update_config(w, p, region, t, rng):
    f = res(w, p, "function", region, rng)
    req = {"functionName": f[0], "timeout": [30, 60, 120, 300][rng.randrange(4)], "memorySize": [256, 512, 1024][rng.randrange(3)]}
    return J(req), None, None, None


def ddb_table_req(w, p, region, t, rng):
    tb = res(w, p, "table", region, rng)
    return J({"tableName": tb[0]}), None, J([{"accountId": w.acct, "type": "AWS::DynamoDB::Table",
                                                "ARN": "arn:aws:dynamodb:%s:%s:table/%s" % (tb[1], w.acct, tb[0])}]), None


def ddb_create_backup(w, p, region, t, rng):
    tb = res(w, p, "table", region, rng)
    name = "%s-%s" % (tb[0], iso(t)[:10])
    return J({"tableName": tb[0], "backupName": name}), J({"backupDetails": {
        "backupArn": "arn:aws:dynamodb:%s:%s:table/%s/backup/%d-%s" % (tb[1], w.acct, tb[0], t * 1000, hexid(rng, 8)),
        "backupName": name, "backupStatus": "CREATING", "backupType": "USER"}}), None, None


def rds_db_req(w, p, region, t, rng):
    d = res(w, p, "db", region, rng)
    return J({"dBInstanceIdentifier": d[0]}), None, None, None


def rds_create_snapshot(w, p, region, t, rng):
    d = res(w, p, "db", region, rng)
    sid = "%s-%s" % (d[0], iso(t)[:16].replace(":", "-").replace("T", "-"))
    return J({"dBSnapshotIdentifier": sid, "dBInstanceIdentifier": d[0]}), J({
        "dBSnapshotIdentifier": sid, "dBInstanceIdentifier": d[0], "engine": "postgres", "status": "creating",
        "dBSnapshotArn": "arn:aws:rds:%s:%s:snapshot:%s" % (d[1], w.acct, sid), "encrypted": True}), None, None


def ct_trail_req(w, p, region, t, rng):
    return J({"name": w.trail_arn}), None, None, None


def ct_describe_trails(w, p, region, t, rng):
    return J({"trailNameList": [], "includeShadowTrails": True}), None, None, None


def ct_lookup_events(w, p, region, t, rng):
    attr = [("EventName", "ConsoleLogin"), ("EventName", "AssumeRole"), ("Username", "root"),
            ("ReadOnly", "false")][rng.randrange(4)]
    return J({"lookupAttributes": [{"attributeKey": attr[0], "attributeValue": attr[1]}], "maxResults": 50,
              "startTime": iso(t - 86400), "endTime": iso(t)}), None, None, None


def cfn_stack_req(w, p, region, t, rng):
    s = res(w, p, "stack", region, rng)
    return J({"stackName": s}), None, None, None


def ecr_repo_req(w, p, region, t, rng):
    r = res(w, p, "repo", region, rng)
    return J({"repositoryName": r, "registryId": w.acct}), None, \
        J([{"accountId": w.acct, "ARN": "arn:aws:ecr:%s:%s:repository/%s" % (region, w.acct, r)}]), None


def ecr_batch_get_image(w, p, region, t, rng):
    r = res(w, p, "repo", region, rng)
    return J({"repositoryName": r, "registryId": w.acct, "imageIds": [{"imageTag": "v1.%d.%d" % (rng.randrange(40), rng.randrange(10))}],
              "acceptedMediaTypes": ["application/vnd.docker.distribution.manifest.v2+json"]}), None, \
        J([{"accountId": w.acct, "ARN": "arn:aws:ecr:%s:%s:repository/%s" % (region, w.acct, r)}]), None


def ecr_layer(w, p, region, t, rng):
    r = res(w, p, "repo", region, rng)
    return J({"repositoryName": r, "registryId": w.acct, "layerDigest": "sha256:" + hexid(rng, 64)}), None, \
        J([{"accountId": w.acct, "ARN": "arn:aws:ecr:%s:%s:repository/%s" % (region, w.acct, r)}]), None


def ecr_put_image(w, p, region, t, rng):
    r = res(w, p, "repo", region, rng)
    tag = "v1.%d.%d" % (rng.randrange(40), rng.randrange(10))
    return J({"repositoryName": r, "registryId": w.acct, "imageTag": tag,
              "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json"}), \
        J({"image": {"registryId": w.acct, "repositoryName": r, "imageId": {"imageDigest": "sha256:" + hexid(rng, 64), "imageTag": tag}}}), \
        J([{"accountId": w.acct, "ARN": "arn:aws:ecr:%s:%s:repository/%s" % (region, w.acct, r)}]), None


def ecs_cluster_req(w, p, region, t, rng):
    c = res(w, p, "cluster", region, rng)
    return J({"cluster": c}), None, None, None


def ecs_describe_services(w, p, region, t, rng):
    c = res(w, p, "cluster", region, rng)
    return J({"cluster": c, "services": [w.apps[rng.randrange(len(w.apps))]]}), None, None, None


def ecs_update_service(w, p, region, t, rng):
    c = res(w, p, "cluster", region, rng)
    app = w.apps[rng.randrange(len(w.apps))]
    return J({"cluster": c, "service": app, "taskDefinition": "%s:%d" % (app, 10 + rng.randrange(300)), "forceNewDeployment": False}), \
        J({"service": {"serviceName": app, "clusterArn": "arn:aws:ecs:%s:%s:cluster/%s" % (region, w.acct, c), "status": "ACTIVE"}}), None, None


def ecs_register_task_def(w, p, region, t, rng):
    app = w.apps[rng.randrange(len(w.apps))]
    return J({"family": app, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024"}), \
        J({"taskDefinition": {"family": app, "revision": 10 + rng.randrange(300), "status": "ACTIVE"}}), None, None


def sqs_queue_req(w, p, region, t, rng):
    q = res(w, p, "queue", region, rng)
    return J({"queueUrl": "https://sqs.%s.amazonaws.com/%s/%s" % (region, w.acct, q), "attributeNames": ["All"]}), None, None, None


def sns_topic_req(w, p, region, t, rng):
    tp = res(w, p, "topic", region, rng)
    return J({"topicArn": "arn:aws:sns:%s:%s:%s" % (region, w.acct, tp)}), None, None, None


def r53_zone_req(w, p, region, t, rng):
    return J({"hostedZoneId": w.zone_id}), None, None, None


def r53_change(w, p, region, t, rng):
    app = w.apps[rng.randrange(len(w.apps))]
    req = {"hostedZoneId": w.zone_id, "changeBatch": {"changes": [{"action": "UPSERT", "resourceRecordSet": {
        "name": "%s.%s.internal." % (app, w.bank_short), "type": "CNAME", "tTL": 300,
        "resourceRecords": [{"value": "%s-%s.%s.elb.amazonaws.com" % (app, hexid(rng, 8), region)}]}}]}}
    return J(req), J({"changeInfo": {"id": "/change/C" + rand_chars(rng, KEY_CHARS, 20), "status": "PENDING",
                                      "submittedAt": human_expiration(t)}}), None, None


def gd_detector_req(w, p, region, t, rng):
    return J({"detectorId": w.detector_id}), None, None, None


def gd_list_findings(w, p, region, t, rng):
    return J({"detectorId": w.detector_id, "findingCriteria": {"criterion": {"service.archived": {"eq": ["false"]}}},
              "sortCriteria": {"attributeName": "severity", "orderBy": "DESC"}, "maxResults": 50}), None, None, None


def config_rules_req(w, p, region, t, rng):
    rule = ["restricted-ssh", "s3-bucket-public-read-prohibited", "cloudtrail-enabled", "rds-storage-encrypted",
            "iam-user-mfa-enabled", "root-account-mfa-enabled"][rng.randrange(6)]
    return J({"configRuleName": rule, "limit": 100}), None, None, None


def config_put_evaluations(w, p, region, t, rng):
    return J({"evaluations": [{"complianceResourceType": "AWS::EC2::SecurityGroup",
                               "complianceResourceId": res(w, p, "sg", region, rng)[0],
                               "complianceType": "COMPLIANT", "orderingTimestamp": iso(t)}],
              "resultToken": "Value hidden due to security reasons.", "testMode": False}), J({"failedEvaluations": []}), None, None


def tag_get_resources(w, p, region, t, rng):
    return J({"resourcesPerPage": 100, "resourceTypeFilters": [["ec2:instance", "rds:db", "lambda:function", "s3"][rng.randrange(4)]]}), None, None, None


def elb_describe_target_health(w, p, region, t, rng):
    return J({"targetGroupArn": "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s-tg/%s" % (
        region, w.acct, w.apps[rng.randrange(len(w.apps))], hexid(rng, 16))}), None, None, None


def ce_get_cost(w, p, region, t, rng):
    return J({"timePeriod": {"start": iso(t - 30 * 86400)[:10], "end": iso(t)[:10]}, "granularity": "DAILY",
              "metrics": ["UnblendedCost"], "groupBy": [{"type": "DIMENSION", "key": "SERVICE"}]}), None, None, None


# ---------------------------------------------------------------- the catalog

class Api:
    __slots__ = ("src", "name", "key", "ro", "data", "glob", "etype", "ver", "gen", "svc", "errs", "nf", "recon",
                 "src_j")

    def __init__(self, svc, name, ro, gen=null, data=False, glob=False, etype="AwsApiCall", nf=None, recon=False):
        self.svc = svc
        self.src = "%s.amazonaws.com" % svc
        self.name = name
        self.key = "%s:%s" % (svc, name)
        self.ro = ro
        self.data = data
        self.glob = glob
        self.etype = etype
        self.gen = gen
        self.nf = nf  # service-specific not-found style error code
        self.recon = recon
        self.ver = "1.09" if (len(name) + len(svc)) % 3 else "1.08"
        if data:
            self.ver = "1.09"


R, W = True, False
_A = []


def api(*a, **k):
    x = Api(*a, **k)
    _A.append(x)
    return x


# EC2
api("ec2", "DescribeInstances", R, ec2_describe_instances, nf="Client.InvalidInstanceID.NotFound", recon=True)
api("ec2", "DescribeInstanceStatus", R, ec2_describe_generic("instancesSet"), recon=True)
api("ec2", "DescribeSecurityGroups", R, ec2_describe_sgs, nf="Client.InvalidGroup.NotFound", recon=True)
api("ec2", "DescribeSecurityGroupRules", R, ec2_describe_generic("securityGroupRuleIdSet"), recon=True)
api("ec2", "DescribeVpcs", R, ec2_describe_generic("vpcSet"), recon=True)
api("ec2", "DescribeSubnets", R, ec2_describe_generic("subnetSet"), recon=True)
api("ec2", "DescribeVolumes", R, ec2_describe_generic("volumeSet"), recon=True)
api("ec2", "DescribeSnapshots", R, ec2_describe_snapshots, recon=True)
api("ec2", "DescribeImages", R, ec2_describe_images, recon=True)
api("ec2", "DescribeTags", R, ec2_describe_tags)
api("ec2", "DescribeRegions", R, ec2_describe_generic("regionSet"), recon=True)
api("ec2", "DescribeAvailabilityZones", R, ec2_describe_generic("availabilityZoneSet"))
api("ec2", "DescribeNetworkInterfaces", R, ec2_describe_generic("networkInterfaceIdSet"), recon=True)
api("ec2", "DescribeAddresses", R, ec2_describe_generic("publicIpsSet"), recon=True)
api("ec2", "DescribeKeyPairs", R, ec2_describe_generic("keySet"), recon=True)
api("ec2", "DescribeLaunchTemplates", R, ec2_describe_generic("launchTemplateIdSet"), recon=True)
api("ec2", "DescribeRouteTables", R, ec2_describe_generic("routeTableIdSet"), recon=True)
api("ec2", "DescribeNatGateways", R, ec2_describe_generic("natGatewayIdSet"))
api("ec2", "DescribeVpcEndpoints", R, ec2_describe_generic("vpcEndpointId"), recon=True)
api("ec2", "DescribeInstanceTypes", R, ec2_describe_generic("instanceTypeSet"))
api("ec2", "DescribeAccountAttributes", R, ec2_describe_generic("accountAttributeNameSet"), recon=True)
api("ec2", "DescribeFlowLogs", R, ec2_describe_generic("flowLogIds"), recon=True)
api("ec2", "StartInstances", W, ec2_state_change("pending", "stopped"), nf="Client.InvalidInstanceID.NotFound")
api("ec2", "StopInstances", W, ec2_state_change("stopping", "running"), nf="Client.InvalidInstanceID.NotFound")
api("ec2", "RebootInstances", W, ec2_state_change("running", "running"), nf="Client.InvalidInstanceID.NotFound")
api("ec2", "CreateTags", W, ec2_create_tags)
api("ec2", "RunInstances", W, ec2_run_instances)
api("ec2", "TerminateInstances", W, ec2_state_change("shutting-down", "running"), nf="Client.InvalidInstanceID.NotFound")
api("ec2", "CreateSnapshot", W, ec2_create_snapshot)
api("ec2", "AuthorizeSecurityGroupIngress", W, ec2_authorize_internal, nf="Client.InvalidGroup.NotFound")
api("ec2", "RevokeSecurityGroupIngress", W, ec2_revoke, nf="Client.InvalidGroup.NotFound")
api("ec2", "CreateNetworkInterface", W, ec2_eni_create)
api("ec2", "DeleteNetworkInterface", W, ec2_eni_delete, nf="Client.InvalidNetworkInterfaceID.NotFound")
# S3 management
api("s3", "ListBuckets", R, s3_list_buckets, recon=True)
api("s3", "GetBucketLocation", R, s3_bucket_req("location"), recon=True)
api("s3", "GetBucketPolicy", R, s3_bucket_req("policy"), nf="NoSuchBucketPolicy", recon=True)
api("s3", "GetBucketAcl", R, s3_bucket_req("acl"), recon=True)
api("s3", "GetBucketVersioning", R, s3_bucket_req("versioning"))
api("s3", "GetBucketEncryption", R, s3_bucket_req("encryption"), nf="ServerSideEncryptionConfigurationNotFoundError", recon=True)
api("s3", "GetBucketPublicAccessBlock", R, s3_bucket_req("publicAccessBlock"), nf="NoSuchPublicAccessBlockConfiguration", recon=True)
api("s3", "GetBucketTagging", R, s3_bucket_req("tagging"), nf="NoSuchTagSet")
api("s3", "GetBucketLogging", R, s3_bucket_req("logging"), recon=True)
api("s3", "GetBucketLifecycle", R, s3_bucket_req("lifecycle"), nf="NoSuchLifecycleConfiguration")
api("s3", "GetBucketPolicyStatus", R, s3_bucket_req("policyStatus"), recon=True)
api("s3", "GetBucketOwnershipControls", R, s3_bucket_req("ownershipControls"))
api("s3", "PutBucketTagging", W, s3_put_bucket_tagging)
api("s3", "PutBucketPolicy", W, s3_put_bucket_policy)
api("s3", "PutBucketVersioning", W, s3_put_versioning)
api("s3", "PutBucketPublicAccessBlock", W, s3_put_bpa_true)
# S3 data events
api("s3", "GetObject", R, s3_get_object, data=True, nf="NoSuchKey")
api("s3", "HeadObject", R, s3_head_object, data=True, nf="NoSuchKey")
api("s3", "PutObject", W, s3_put_object, data=True)
api("s3", "DeleteObject", W, s3_delete_object, data=True)
api("s3", "ListObjects", R, s3_list_objects, data=True, nf="NoSuchBucket")
# IAM (global)
for n, g in [("ListUsers", null), ("ListRoles", null), ("ListPolicies", const({"scope": "Local", "onlyAttached": False})),
             ("ListGroups", null), ("GetAccountSummary", null), ("GetAccountPasswordPolicy", null),
             ("ListInstanceProfiles", null), ("GetAccountAuthorizationDetails", const({"filter": ["User", "Role", "Group", "LocalManagedPolicy"]})),
             ("ListServerCertificates", null), ("ListOpenIDConnectProviders", null), ("ListSAMLProviders", null),
             ("ListVirtualMFADevices", null), ("ListAccountAliases", null), ("GetCredentialReport", null)]:
    api("iam", n, R, g, glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "GetUser", R, iam_user_req, glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "GetRole", R, iam_role_req(), glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "GetPolicy", R, iam_policy_req(), glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "GetPolicyVersion", R, iam_policy_req("v"), glob=True, nf="NoSuchEntityException")
api("iam", "ListAttachedRolePolicies", R, iam_role_req(), glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "ListAttachedUserPolicies", R, iam_user_req, glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "ListRolePolicies", R, iam_list_role_policies, glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "GetRolePolicy", R, iam_get_role_policy, glob=True, nf="NoSuchEntityException")
api("iam", "ListGroupsForUser", R, iam_user_req, glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "ListAccessKeys", R, iam_user_req, glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "ListMFADevices", R, iam_user_req, glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "GetLoginProfile", R, iam_user_req, glob=True, nf="NoSuchEntityException", recon=True)
api("iam", "ListInstanceProfilesForRole", R, iam_role_req(), glob=True, nf="NoSuchEntityException")
api("iam", "GetAccessKeyLastUsed", R, iam_access_key_last_used, glob=True)
api("iam", "GenerateCredentialReport", R, iam_gen_cred_report, glob=True)
api("iam", "CreateRole", W, iam_create_role, glob=True, nf="EntityAlreadyExistsException")
api("iam", "PutRolePolicy", W, iam_put_role_policy, glob=True, nf="NoSuchEntityException")
api("iam", "AttachRolePolicy", W, iam_attach_role_policy_safe, glob=True, nf="NoSuchEntityException")
api("iam", "DetachRolePolicy", W, iam_detach_role_policy_safe, glob=True, nf="NoSuchEntityException")
api("iam", "TagRole", W, iam_tag_role, glob=True, nf="NoSuchEntityException")
api("iam", "CreateAccessKey", W, iam_create_access_key_self, glob=True, nf="LimitExceededException")
api("iam", "UpdateAccessKey", W, iam_update_access_key_self, glob=True, nf="NoSuchEntityException")
api("iam", "ChangePassword", W, iam_change_password, glob=True, nf="PasswordPolicyViolationException")
api("iam", "CreateServiceLinkedRole", W, iam_slr, glob=True, nf="InvalidInputException")
# STS
api("sts", "GetCallerIdentity", R, sts_get_caller_identity, recon=True)
api("sts", "AssumeRole", R, sts_assume_role)
api("sts", "GetSessionToken", R, sts_get_session_token)
api("sts", "GetFederationToken", R, sts_get_federation_token)
# KMS
api("kms", "Decrypt", R, kms_decrypt, nf="InvalidCiphertextException")
api("kms", "Encrypt", R, kms_encrypt)
api("kms", "GenerateDataKey", R, kms_generate_data_key)
api("kms", "DescribeKey", R, kms_key_req, nf="NotFoundException", recon=True)
api("kms", "ListKeys", R, null, recon=True)
api("kms", "ListAliases", R, null, recon=True)
api("kms", "GetKeyPolicy", R, kms_key_req, recon=True)
api("kms", "GetKeyRotationStatus", R, kms_key_req, recon=True)
api("kms", "RotateKey", W, kms_rotate_key, etype="AwsServiceEvent")
# Secrets Manager / SSM
api("secretsmanager", "GetSecretValue", R, sm_get_secret_value, nf="ResourceNotFoundException")
api("secretsmanager", "DescribeSecret", R, sm_describe_secret, nf="ResourceNotFoundException")
api("secretsmanager", "ListSecrets", R, null, recon=True)
api("secretsmanager", "RotationSucceeded", W, sm_rotation_succeeded, etype="AwsServiceEvent")
api("ssm", "GetParameter", R, ssm_get_parameter, nf="ParameterNotFound")
api("ssm", "GetParameters", R, ssm_get_parameters)
api("ssm", "GetParametersByPath", R, ssm_get_parameters_by_path)
api("ssm", "DescribeParameters", R, null, recon=True)
api("ssm", "UpdateInstanceInformation", W, ssm_update_instance_information)
api("ssm", "ListInstanceAssociations", R, ssm_list_instance_associations)
api("ssm", "DescribeInstanceInformation", R, null, recon=True)
api("ssm", "StartSession", W, ssm_start_session)
# Logs / CloudWatch
api("logs", "CreateLogStream", W, logs_create_log_stream, nf="ResourceAlreadyExistsException")
api("logs", "CreateLogGroup", W, logs_create_log_group, nf="ResourceAlreadyExistsException")
api("logs", "DescribeLogGroups", R, logs_describe_log_groups, recon=True)
api("logs", "DescribeLogStreams", R, logs_group_req, nf="ResourceNotFoundException")
api("logs", "FilterLogEvents", R, logs_filter, nf="ResourceNotFoundException")
api("logs", "StartQuery", R, logs_start_query)
api("logs", "GetQueryResults", R, null)
api("monitoring", "GetMetricData", R, cw_get_metric_data)
api("monitoring", "ListMetrics", R, cw_list_metrics)
api("monitoring", "DescribeAlarms", R, cw_describe_alarms, recon=True)
api("monitoring", "GetMetricStatistics", R, cw_get_metric_data)
# Lambda
api("lambda", "ListFunctions20150331", R, null, recon=True)
api("lambda", "GetFunction20150331v2", R, fn_req, nf="ResourceNotFoundException", recon=True)
api("lambda", "GetFunctionConfiguration20150331v2", R, fn_req, nf="ResourceNotFoundException")
api("lambda", "UpdateFunctionCode20150331v2", W, fn_update_code, nf="ResourceConflictException")
api("lambda", "UpdateFunctionConfiguration20150331v2", W, fn_update_config, nf="ResourceConflictException")
api("lambda", "ListEventSourceMappings20150331", R, null, recon=True)
# DynamoDB
api("dynamodb", "DescribeTable", R, ddb_table_req, nf="ResourceNotFoundException")
api("dynamodb", "ListTables", R, null, recon=True)
api("dynamodb", "DescribeContinuousBackups", R, ddb_table_req)
api("dynamodb", "DescribeTimeToLive", R, ddb_table_req)
api("dynamodb", "CreateBackup", W, ddb_create_backup)
api("dynamodb", "ListBackups", R, null, recon=True)
# RDS
api("rds", "DescribeDBInstances", R, rds_db_req, nf="DBInstanceNotFound", recon=True)
api("rds", "DescribeDBClusters", R, null, recon=True)
api("rds", "DescribeDBSnapshots", R, rds_db_req, recon=True)
api("rds", "CreateDBSnapshot", W, rds_create_snapshot, nf="DBSnapshotAlreadyExists")
api("rds", "DescribeEvents", R, null)
api("rds", "DescribeDBLogFiles", R, rds_db_req)
# CloudTrail (StopLogging / DeleteTrail are scenario-only and not in this catalog)
api("cloudtrail", "DescribeTrails", R, ct_describe_trails, recon=True)
api("cloudtrail", "GetTrailStatus", R, ct_trail_req, nf="TrailNotFoundException", recon=True)
api("cloudtrail", "GetEventSelectors", R, ct_trail_req, recon=True)
api("cloudtrail", "ListTrails", R, null, recon=True)
api("cloudtrail", "LookupEvents", R, ct_lookup_events)
# CloudFormation
api("cloudformation", "DescribeStacks", R, cfn_stack_req, nf="ValidationError", recon=True)
api("cloudformation", "ListStacks", R, null, recon=True)
api("cloudformation", "DescribeStackEvents", R, cfn_stack_req)
api("cloudformation", "GetTemplate", R, cfn_stack_req)
api("cloudformation", "DescribeStackResources", R, cfn_stack_req)
# ECR / ECS / EKS
api("ecr", "GetAuthorizationToken", R, null)
api("ecr", "BatchGetImage", R, ecr_batch_get_image, nf="RepositoryNotFoundException")
api("ecr", "GetDownloadUrlForLayer", R, ecr_layer, nf="LayerNotFoundException")
api("ecr", "DescribeRepositories", R, null, recon=True)
api("ecr", "DescribeImages", R, ecr_repo_req)
api("ecr", "BatchCheckLayerAvailability", R, ecr_layer)
api("ecr", "InitiateLayerUpload", W, ecr_repo_req)
api("ecr", "CompleteLayerUpload", W, ecr_layer)
api("ecr", "PutImage", W, ecr_put_image, nf="ImageAlreadyExistsException")
api("ecs", "DescribeClusters", R, ecs_cluster_req, recon=True)
api("ecs", "ListClusters", R, null, recon=True)
api("ecs", "DescribeServices", R, ecs_describe_services)
api("ecs", "ListTasks", R, ecs_cluster_req)
api("ecs", "DescribeTasks", R, ecs_cluster_req)
api("ecs", "UpdateService", W, ecs_update_service)
api("ecs", "RegisterTaskDefinition", W, ecs_register_task_def)
api("ecs", "DescribeTaskDefinition", R, null)
api("eks", "ListClusters", R, null, recon=True)
api("eks", "DescribeCluster", R, const({"name": "platform-eks"}), nf="ResourceNotFoundException")
# SQS / SNS / Route 53
api("sqs", "ListQueues", R, null, recon=True)
api("sqs", "GetQueueAttributes", R, sqs_queue_req, nf="AWS.SimpleQueueService.NonExistentQueue")
api("sns", "ListTopics", R, null, recon=True)
api("sns", "GetTopicAttributes", R, sns_topic_req, nf="NotFound")
api("sns", "ListSubscriptions", R, null, recon=True)
api("route53", "ListHostedZones", R, null, glob=True, recon=True)
api("route53", "GetHostedZone", R, r53_zone_req, glob=True)
api("route53", "ListResourceRecordSets", R, r53_zone_req, glob=True)
api("route53", "ChangeResourceRecordSets", W, r53_change, glob=True, nf="InvalidChangeBatch")
# Security tooling
api("guardduty", "ListDetectors", R, null, recon=True)
api("guardduty", "GetDetector", R, gd_detector_req, recon=True)
api("guardduty", "ListFindings", R, gd_list_findings)
api("guardduty", "GetFindings", R, gd_detector_req)
api("securityhub", "GetFindings", R, const({"maxResults": 100, "filters": {"RecordState": [{"value": "ACTIVE", "comparison": "EQUALS"}]}}))
api("securityhub", "DescribeHub", R, null, recon=True)
api("securityhub", "BatchImportFindings", W, null)
api("config", "DescribeConfigRules", R, null, recon=True)
api("config", "DescribeConfigurationRecorders", R, null, recon=True)
api("config", "DescribeConfigurationRecorderStatus", R, null)
api("config", "GetComplianceDetailsByConfigRule", R, config_rules_req)
api("config", "PutEvaluations", W, config_put_evaluations)
api("config", "DescribeDeliveryChannels", R, null)
api("access-analyzer", "ListAnalyzers", R, null, recon=True)
api("access-analyzer", "ListFindings", R, null)
api("organizations", "DescribeOrganization", R, null, glob=True, recon=True)
api("organizations", "ListAccounts", R, null, glob=True, recon=True)
api("tagging", "GetResources", R, tag_get_resources)
api("elasticloadbalancing", "DescribeLoadBalancers", R, null, recon=True)
api("elasticloadbalancing", "DescribeTargetGroups", R, null, recon=True)
api("elasticloadbalancing", "DescribeTargetHealth", R, elb_describe_target_health)
api("elasticloadbalancing", "DescribeListeners", R, null)
api("autoscaling", "DescribeAutoScalingGroups", R, null, recon=True)
api("autoscaling", "DescribeScalingActivities", R, null)
api("ce", "GetCostAndUsage", R, ce_get_cost, glob=True)
api("health", "DescribeEventAggregates", R, null, glob=True)
api("signin", "ConsoleLogin", W, null, glob=True, etype="AwsConsoleSignIn")
api("signin", "GetSigninToken", W, null, glob=True, etype="AwsConsoleSignIn")

API = {a.key: a for a in _A}
RECON = [a for a in _A if a.recon]

# Names the background must never produce (scenario-only).
SCENARIO_ONLY = {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "iam:UpdateAccountPasswordPolicy",
                 "iam:DeleteAccountPasswordPolicy", "s3:DeleteBucketPublicAccessBlock", "iam:AttachUserPolicy"}
assert not (SCENARIO_ONLY & set(API)), "scenario-only API leaked into the background catalog"


def scenario_api(svc, name, ro, glob=False, etype="AwsApiCall"):
    """An API used only by scenarios (not in API, so the background cannot pick it)."""
    return Api(svc, name, ro, null, glob=glob, etype=etype)


SC = {
    "StopLogging": scenario_api("cloudtrail", "StopLogging", W),
    "DeleteTrail": scenario_api("cloudtrail", "DeleteTrail", W),
    "UpdateAccountPasswordPolicy": scenario_api("iam", "UpdateAccountPasswordPolicy", W, glob=True),
    "DeleteAccountPasswordPolicy": scenario_api("iam", "DeleteAccountPasswordPolicy", W, glob=True),
    "DeleteBucketPublicAccessBlock": scenario_api("s3", "DeleteBucketPublicAccessBlock", W),
    "AttachUserPolicy": scenario_api("iam", "AttachUserPolicy", W, glob=True),
}
