"""Turning one call into CloudTrail record bytes (string templating, no dict
round-trip), in CloudTrail's own key order."""

from .util import J, uuid4, rand_chars, ALNUM_UP, hash_chars
from .catalog import GLOBAL_REGION

S3CONSOLE_UA = J("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.226-192.879.amzn2int.x86_64 "
                 "OpenJDK_64-Bit_Server_VM/25.412-b08 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]")
AWS_INTERNAL_J = J("AWS Internal")

_tls_cache = {}


def tls_json(svc, region, v12):
    k = (svc, region, v12)
    s = _tls_cache.get(k)
    if s is None:
        if svc in ("iam", "route53", "organizations", "ce", "health"):
            host = "%s.amazonaws.com" % svc
        elif svc == "signin":
            host = "signin.aws.amazon.com"
        elif svc == "sts" and region == GLOBAL_REGION:
            host = "sts.amazonaws.com"
        else:
            host = "%s.%s.amazonaws.com" % (svc, region)
        if v12:
            d = {"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256", "clientProvidedHostHeader": host}
        else:
            d = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": host}
        s = J(d)
        _tls_cache[k] = s
    return s


# --------------------------------------------------------------- errors

AD_EXC = {"kms", "dynamodb", "logs", "ssm", "ecr", "ecs"}
NF_MSG = {
    "NoSuchEntityException": "The requested entity cannot be found.",
    "NoSuchKey": "The specified key does not exist.",
    "NoSuchBucketPolicy": "The bucket policy does not exist",
    "ServerSideEncryptionConfigurationNotFoundError": "The server side encryption configuration was not found",
    "NoSuchPublicAccessBlockConfiguration": "The public access block configuration was not found",
    "NoSuchTagSet": "The TagSet does not exist",
    "NoSuchLifecycleConfiguration": "The lifecycle configuration does not exist",
    "NoSuchBucket": "The specified bucket does not exist",
    "ResourceAlreadyExistsException": "The specified log stream already exists",
    "ParameterNotFound": None,
}


def error_for(api, arn, rng):
    """(errorCode, errorMessage JSON) for a failed call."""
    r = rng.random()
    svc = api.svc
    if r < 0.3 and api.nf:
        code = api.nf
        msg = NF_MSG.get(code, "The specified resource was not found.")
        if code == "Client.InvalidInstanceID.NotFound":
            msg = "The instance ID 'i-0%s' does not exist" % "".join("0123456789abcdef"[rng.randrange(16)] for _ in range(16))
        return code, J(msg) if msg else None
    if r < 0.55:
        if svc == "ec2":
            return "Client.RequestLimitExceeded", J("Request limit exceeded.")
        if svc == "iam":
            return "Throttling", J("Rate exceeded")
        if svc == "s3":
            return "SlowDown", J("Please reduce your request rate.")
        return "ThrottlingException", J("Rate exceeded")
    return access_denied(api, arn)


def access_denied(api, arn):
    svc = api.svc
    action = "%s:%s" % (svc if svc != "monitoring" else "cloudwatch", api.name.split("2015")[0])
    if svc == "ec2":
        return "Client.UnauthorizedOperation", J(
            "You are not authorized to perform this operation. User: %s is not authorized to perform: %s "
            "because no identity-based policy allows the %s action" % (arn, action, action))
    if svc == "s3":
        return "AccessDenied", J("Access Denied")
    code = "AccessDeniedException" if svc in AD_EXC else "AccessDenied"
    return code, J("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action"
                   % (arn, action, action))


def request_id(rng, svc):
    if svc == "s3":
        return rand_chars(rng, ALNUM_UP, 16)
    return uuid4(rng)


def record(ver, ui, ts, src, name, region, ip, ua_j, err_code, err_msg, req, resp, aed, reqid, eid, ro,
           resources, etype, mgmt, acct, vpce, extra, cat, tls, console):
    parts = ['{"eventVersion":"', ver, '","userIdentity":', ui, ',"eventTime":"', ts, '","eventSource":"', src,
             '","eventName":"', name, '","awsRegion":"', region, '","sourceIPAddress":"', ip, '","userAgent":', ua_j]
    if err_code:
        parts.append(',"errorCode":"')
        parts.append(err_code)
        parts.append('"')
    if err_msg:
        parts.append(',"errorMessage":')
        parts.append(err_msg)
    parts.append(',"requestParameters":')
    parts.append(req or "null")
    parts.append(',"responseElements":')
    parts.append(resp or "null")
    if aed:
        parts.append(',"additionalEventData":')
        parts.append(aed)
    if reqid:
        parts.append(',"requestID":"')
        parts.append(reqid)
        parts.append('"')
    parts.append(',"eventID":"')
    parts.append(eid)
    parts.append('","readOnly":')
    parts.append("true" if ro else "false")
    if resources:
        parts.append(',"resources":')
        parts.append(resources)
    parts.append(',"eventType":"')
    parts.append(etype)
    parts.append('","managementEvent":')
    parts.append("true" if mgmt else "false")
    parts.append(',"recipientAccountId":"')
    parts.append(acct)
    parts.append('"')
    if vpce:
        parts.append(',"vpcEndpointId":"')
        parts.append(vpce)
        parts.append('","vpcEndpointAccountId":"')
        parts.append(acct)
        parts.append('"')
    if extra:
        parts.append(extra)
    parts.append(',"eventCategory":"')
    parts.append(cat)
    parts.append('"')
    if tls:
        parts.append(',"tlsDetails":')
        parts.append(tls)
    if console:
        parts.append(',"sessionCredentialFromConsole":"true"')
    parts.append("}")
    return "".join(parts)


def login_to(region):
    return "https://console.aws.amazon.com/console/home?hashArgs=%%23&isauthcode=true&state=hashArgsFromTB_%s_%s" % (
        region, hash_chars("0123456789abcdef", 16, "login", region))

