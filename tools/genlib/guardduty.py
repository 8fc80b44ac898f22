"""GuardDuty findings exported to S3 (schema 2.0, JSON lines, gzip):
AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<uuid>.jsonl.gz

One line per finding GuardDuty itself would raise for the labelled scenarios of the
account (network, DNS, S3, RDS and the CloudTrail ones that are real GuardDuty
types), plus low-severity background port probes of the account's public
instances by internet scanners. Each finding is exported once, in the 6-hour export
window after its last occurrence; the file holds the window's findings.
"""

import json
import random

from .util import derive_seed, hexid, uuid4, iso
from .srcutil import iso_ms, ymd
from . import scenarios as ctscen
from .netscen import finding as net_finding
from .vpcflow import noise_ip

EXPORT = 6 * 3600
CT_GD = {  # CloudTrail scenarios whose expected finding is a GuardDuty type, with its severity
    "root_usage": 2.0, "cloudtrail_disabled": 2.0, "password_policy_change": 2.0,
    "instance_credential_exfiltration": 8.0, "recon_burst": 2.0, "s3_mass_download": 8.0, "kali_user_agent": 5.0,
    "s3_block_public_access_disabled": 2.0, "malicious_ip_caller": 5.0}
NET_SEV = {"port_scan": 2.0, "ssh_bruteforce": 2.0, "dns_exfiltration": 8.0, "s3_access_mass_download": 8.0}
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def bg_count(w, days):
    """Background findings of an account (fixed by the plan): port probes of public instances."""
    pubs = [i for i in w.net.instances if i.public_ip]
    return (len(pubs) * days + 1) // 2 if pubs else 0


def remote(ip, rng):
    countries = [("Netherlands", "Amsterdam", 52.37, 4.89), ("Russia", "Moscow", 55.75, 37.62),
                 ("China", "Shanghai", 31.22, 121.46), ("Brazil", "Sao Paulo", -23.55, -46.63),
                 ("United States", "Ashburn", 39.04, -77.49), ("Vietnam", "Hanoi", 21.03, 105.85)]
    c = countries[rng.randrange(len(countries))]
    asn = str(rng.randrange(1000, 65000))
    org = rng.choice(["DigitalOcean, LLC", "OVH SAS", "Hetzner Online GmbH", "Chinanet", "M247 Europe SRL",
                      "Contabo GmbH"])
    return {"ipAddressV4": ip, "organization": {"asn": asn, "asnOrg": org, "isp": org, "org": org},
            "country": {"countryName": c[0]}, "city": {"cityName": c[1]}, "geoLocation": {"lat": c[2], "lon": c[3]}}


def instance_resource(w, i):
    nic = {"networkInterfaceId": i.eni, "privateIpAddress": i.ip,
           "privateDnsName": "ip-%s.%s" % (i.ip.replace(".", "-"), "ec2.internal" if i.region == "us-east-1"
                                           else "%s.compute.internal" % i.region),
           "privateIpAddresses": [{"privateIpAddress": i.ip}], "subnetId": i.subnet, "vpcId": i.vpc,
           "securityGroups": [{"groupId": i.sg, "groupName": "%s-%s-sg" % (i.app, i.role)}],
           "ipv6Addresses": []}
    if i.public_ip:
        nic["publicIp"] = i.public_ip
        nic["publicDnsName"] = "ec2-%s.compute-1.amazonaws.com" % i.public_ip.replace(".", "-")
    d = {"instanceId": i.id, "instanceType": i.itype, "instanceState": "running", "availabilityZone": i.az,
         "imageId": "ami-0" + i.eni[5:21], "launchTime": "2026-09-14T08:12:41.000Z", "platform": None,
         "productCodes": [], "networkInterfaces": [nic], "tags": [{"key": "Name", "value": "%s-%s" % (i.app, i.role)},
                                                                  {"key": "app", "value": i.app}]}
    if i.principal is not None:
        d["iamInstanceProfile"] = {"arn": "arn:aws:iam::%s:instance-profile/%s" % (w.acct, i.principal.role_name),
                                   "id": "AIPA" + i.eni[5:21].upper()}
    return {"resourceType": "Instance", "instanceDetails": d}


def access_key_resource(principal, key):
    parts = principal.split(":")[-1].split("/")
    utype = {"user": "IAMUser", "assumed-role": "AssumedRole", "root": "Root"}.get(parts[0], "IAMUser")
    return {"resourceType": "AccessKey", "accessKeyDetails": {
        "accessKeyId": key or "GeneratedFindingAccessKeyId", "principalId": "AIDA" + hexid(random.Random(principal), 17).upper(),
        "userName": parts[1] if len(parts) > 1 else "root", "userType": utype}}


def make(w, region, ftype, sev, first, last, count, resource, action, title, desc, rng, role="TARGET", extra=None):
    fid = hexid(rng, 32)
    upd = last + 300 + rng.randrange(600)
    svc = {"serviceName": "guardduty", "detectorId": w.detector_id, "action": action, "resourceRole": role,
           "additionalInfo": {"value": _dumps(extra or {}), "type": "default"},
           "eventFirstSeen": iso(first).replace("Z", ".000Z"), "eventLastSeen": iso(last).replace("Z", ".000Z"),
           "archived": False, "count": count}
    f = {"schemaVersion": "2.0", "accountId": w.acct, "region": region, "partition": "aws", "id": fid,
         "arn": "arn:aws:guardduty:%s:%s:detector/%s/finding/%s" % (region, w.acct, w.detector_id, fid),
         "type": ftype, "resource": resource, "service": svc, "severity": sev,
         "createdAt": iso_ms((last + 240) * 1000 + rng.randrange(1000)), "updatedAt": iso_ms(upd * 1000 + rng.randrange(1000)),
         "title": title, "description": desc}
    return upd, f


def net_finding_of(w, d, times, info, rng):
    first, last = min(times), max(times)
    kind = d["kind"]
    ftype = net_finding(d)
    if kind in ("port_scan", "ssh_bruteforce", "dns_exfiltration"):
        i = w.net.by_instance[info["instance_id"]]
        res = instance_resource(w, i)
        if kind == "port_scan":
            det = [{"localPortDetails": {"port": p, "portName": {22: "SSH", 443: "HTTPS", 80: "HTTP"}.get(p, "Unknown")},
                    "localIpDetails": {"ipAddressV4": i.ip}, "remoteIpDetails": remote(d["ip"], rng)}
                   for p in info["dst_ports"][:10]]
            act = {"actionType": "PORT_PROBE", "portProbeAction": {"blocked": False, "portProbeDetails": det}}
            title = "Unprotected port on EC2 instance %s is being probed." % i.id
            desc = "EC2 instance has an unprotected port which is being probed by a known malicious host."
        elif kind == "ssh_bruteforce":
            act = {"actionType": "NETWORK_CONNECTION", "networkConnectionAction": {
                "connectionDirection": "INBOUND", "blocked": False, "protocol": "TCP",
                "localPortDetails": {"port": 22, "portName": "SSH"}, "localIpDetails": {"ipAddressV4": i.ip},
                "remotePortDetails": {"port": 32768 + rng.randrange(28000), "portName": "Unknown"},
                "remoteIpDetails": remote(d["ip"], rng)}}
            title = "%s is performing SSH brute force attacks against %s." % (d["ip"], i.id)
            desc = ("%s is performing SSH brute force attacks against %s. Brute force attacks are used to gain "
                    "unauthorized access to your instance by guessing the SSH password." % (d["ip"], i.id))
        else:
            act = {"actionType": "DNS_REQUEST", "dnsRequestAction": {"domain": d["domain"], "protocol": "UDP",
                                                                    "blocked": False, "domainWithSuffix": d["domain"]}}
            title = "Data exfiltration through DNS queries from EC2 instance %s." % i.id
            desc = "EC2 instance %s is attempting to exfiltrate data by performing DNS queries to %s." % (i.id, d["domain"])
        return make(w, i.region, ftype, NET_SEV[kind], first, last, len(times), res, act, title, desc, rng)
    if kind == "s3_access_mass_download":
        res = access_key_resource(d["principal"], None)
        res["s3BucketDetails"] = [{"arn": "arn:aws:s3:::%s" % info["bucket"], "name": info["bucket"], "type": "Destination",
                                   "owner": {"id": "canonical"}, "publicAccess": {"effectivePermission": "NOT_PUBLIC"}}]
        act = {"actionType": "AWS_API_CALL", "awsApiCallAction": {"api": "GetObject", "serviceName": "s3.amazonaws.com",
                                                                 "callerType": "Remote IP",
                                                                 "remoteIpDetails": remote(d["ip"], rng)}}
        title = "Anomalous S3 GetObject calls on bucket %s by %s." % (info["bucket"], d["principal"])
        desc = "An IAM entity invoked an S3 API in a suspicious way: %d GetObject calls in one hour." % info["objects"]
        return make(w, info["region"], ftype, NET_SEV[kind], first, last, len(times), res, act, title, desc, rng)
    # rds_bruteforce
    db = [x for x in w.net.dbs if x.id == info["db_instance"]][0]
    res = {"resourceType": "RDSDBInstance",
           "rdsDbInstanceDetails": {"dbInstanceIdentifier": db.id, "engine": {"postgres": "PostgreSQL",
                                                                            "mysql": "MySQL",
                                                                            "mariadb": "MariaDB"}[db.engine],
                                    "engineVersion": db.version, "dbInstanceArn": db.arn, "tags": []},
           "rdsDbUserDetails": {"user": d["user"], "application": "", "database": "", "ssl": "",
                                "authMethod": "PASSWORD"}}
    act = {"actionType": "RDS_LOGIN_ATTEMPT", "rdsLoginAttemptAction": {
        "remoteIpDetails": remote(d["ip"], rng),
        "LoginAttributes": [{"user": d["user"], "application": "", "failedLoginAttempts": d["fails"],
                             "successfulLoginAttempts": 1 if d["success"] else 0}]}}
    sev = 8.0 if d["success"] else 2.0
    if d["success"]:
        title = "A user successfully logged in to RDS database %s after many failed attempts." % db.id
    else:
        title = "Unusual failed login attempts observed on RDS database %s." % db.id
    desc = "%d failed login attempts for user %s from %s%s." % (d["fails"], d["user"], d["ip"],
                                                                  ", then a successful one" if d["success"] else "")
    return make(w, db.region, ftype, sev, first, last, len(times), res, act, title, desc, rng)


def ct_finding_of(w, inst, rng):
    evs, truth = ctscen.generate(w, inst)
    times = [e[0] for e in evs]
    kind = inst["kind"]
    ftype = truth["expected_finding"]
    res = access_key_resource(truth["principal"], truth["access_key"])
    last = evs[-1]
    rec = json.loads(last[2])
    act = {"actionType": "AWS_API_CALL", "awsApiCallAction": {
        "api": rec["eventName"], "serviceName": rec["eventSource"],
        "callerType": "Remote IP", "remoteIpDetails": remote(truth["src_ip"], rng) if truth["src_ip"][0].isdigit()
        else {"ipAddressV4": truth["src_ip"]}}}
    title = {"root_usage": "API %s was invoked using root credentials." % rec["eventName"],
             "cloudtrail_disabled": "AWS CloudTrail trail was disabled.",
             "password_policy_change": "Password policy was changed.",
             "instance_credential_exfiltration": "Credentials for instance role used from external IP address.",
             "recon_burst": "Unusual discovery API calls by %s." % truth["principal"],
             "s3_mass_download": "Anomalous S3 GetObject calls by %s." % truth["principal"],
             "kali_user_agent": "API %s was invoked from a Kali Linux computer." % rec["eventName"],
             "s3_block_public_access_disabled": "Amazon S3 Block Public Access was disabled for an S3 bucket.",
             "malicious_ip_caller": "API %s was invoked from an IP address on a custom threat list." % rec["eventName"],
             }[kind]
    return make(w, last[1], ftype, CT_GD[kind], min(times), max(times), len(times), res, act, title,
                truth["description"], rng)


def bg_findings(w, rng, n, start, days):
    pubs = [i for i in w.net.instances if i.public_ip]
    out = []
    for _ in range(n):
        i = pubs[rng.randrange(len(pubs))]
        first = start + rng.randrange(days * 86400 - 7200)
        last = first + rng.randrange(3600)
        ip = noise_ip(rng)
        port = [80, 443, 22, 8080][rng.randrange(4)] if i.role != "bastion" else 22
        act = {"actionType": "PORT_PROBE", "portProbeAction": {"blocked": False, "portProbeDetails": [
            {"localPortDetails": {"port": port, "portName": {22: "SSH", 443: "HTTPS", 80: "HTTP"}.get(port, "Unknown")},
             "localIpDetails": {"ipAddressV4": i.ip}, "remoteIpDetails": remote(ip, rng)}]}}
        out.append(make(w, i.region, "Recon:EC2/PortProbeUnprotectedPort", 2.0, first, last, 1 + rng.randrange(4),
                        instance_resource(w, i), act, "Unprotected port on EC2 instance %s is being probed." % i.id,
                        "EC2 instance has an unprotected port which is being probed by a known malicious host.", rng))
    return out


def run(w, task, out, seed, start, days, net_infos, ct_insts):
    """net_infos: [(plan, times, info)] of the account's non-CloudTrail scenarios (rendered
    again here from the same plan); ct_insts: the account's CloudTrail scenario plans."""
    rng = random.Random(derive_seed(seed, "guardduty", w.acct))
    fs = []
    for d, times, info in net_infos:
        fs.append(net_finding_of(w, d, times, info, rng))
    for inst in ct_insts:
        if inst["kind"] in CT_GD:
            fs.append(ct_finding_of(w, inst, rng))
    fs.extend(bg_findings(w, rng, task["background"], start, days))
    files = {}
    for upd, f in fs:
        key = (f["region"], (upd // EXPORT + 1) * EXPORT)
        files.setdefault(key, []).append((upd, f))
    stats = {"per_region": {}, "per_type": {}}
    for region, te in sorted(files):
        lst = sorted(files[(region, te)], key=lambda x: (x[0], x[1]["id"]))
        rel = "AWSLogs/%s/GuardDuty/%s/%s/%s.jsonl.gz" % (w.acct, region, ymd(te), uuid4(rng))
        out.write(rel, "\n".join(_dumps(x[1]) for x in lst) + "\n", len(lst))
        stats["per_region"][region] = stats["per_region"].get(region, 0) + len(lst)
        for _, f in lst:
            stats["per_type"][f["type"]] = stats["per_type"].get(f["type"], 0) + 1
    ids = {}
    for _, f in fs:
        ids.setdefault(f["type"], []).append(f["id"])
    return stats, fs

