"""Route 53 Resolver query logs, one query-log configuration per VPC, delivered to S3:
AWSLogs/<account>/vpcdnsquerylogs/<vpc-id>/YYYY/MM/DD/
    <account>_vpcdnsquerylogs_<vpc-id>_<YYYYMMDDTHHmmZ>_<8 hex>.log.gz
JSON lines. The askers are the VPC's instances (srcaddr = their ENI's private
address, srcids.instance = their id); the names are what such instances resolve:
AWS endpoints of their region, the account's database endpoints, the bank's
internal names, package mirrors and SaaS APIs.
"""

import json
import random
import time

from .util import derive_seed, hexid, rand_chars
from .srcutil import stamp_min, ymd, scenario_stream, window_counts, profile
from .netscen import rng_for

WINDOW = 3 * 3600
EXTERNAL = [("api.github.com", "140.82.112.6"), ("registry.npmjs.org", "104.16.1.35"), ("pypi.org", "151.101.0.223"),
            ("files.pythonhosted.org", "151.101.1.63"), ("security.debian.org", "151.101.2.132"),
            ("ocsp.digicert.com", "192.229.211.108"), ("api.stripe.com", "54.187.174.169"),
            ("hooks.slack.com", "34.226.36.48"), ("repo.maven.apache.org", "146.75.112.215"),
            ("amazonlinux-2-repos-us-east-1.s3.dualstack.us-east-1.amazonaws.com", "52.216.57.18"),
            ("api.datadoghq.eu", "34.107.236.155"), ("time.aws.com", "52.94.236.248")]
AWS_SVCS = ["s3", "sts", "ssm", "ec2messages", "ssmmessages", "kms", "secretsmanager", "logs", "monitoring",
            "dynamodb", "sqs", "ecr.api", "api.ecr"]
B32 = "abcdefghijklmnopqrstuvwxyz234567"
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def qtime(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def record(w, v, t, i, name, qtype, rcode, answers, rng, transport="UDP"):
    return _dumps({"version": "1.100000", "account_id": w.acct, "region": v.region, "vpc_id": v.id,
                   "query_timestamp": qtime(t), "query_name": name, "query_type": qtype, "query_class": "IN",
                   "rcode": rcode, "answers": answers, "srcaddr": i.ip, "srcport": str(1024 + rng.randrange(64000)),
                   "transport": transport, "srcids": {"instance": i.id}})


def names_for(w, i, rng):
    """(weight, name, answers-maker) for what instance i resolves."""
    r = i.region
    out = []
    for s in AWS_SVCS:
        out.append((3.0, "%s.%s.amazonaws.com." % (s, r), "aws"))
    for d in w.net.dbs:
        if d.region == r:
            out.append((6.0, "%s.c%s.%s.rds.amazonaws.com." % (d.id, d.resource_id[3:15].lower(), r), ("rds", d.ip)))
    for a in w.apps:
        out.append((2.0, "%s.internal.%s." % (a, w.domain), "internal"))
    for name, ip in EXTERNAL:
        out.append((0.8, name + ".", ("ext", ip)))
    return out


class Askers:
    def __init__(self, w, rng):
        self.items = []
        for i in w.net.instances:
            v = w.net.by_vpc[i.vpc]
            self.items.append((i, v, names_for(w, i, rng)))
        self.rng = rng
        self.aws_ips = {}

    def one(self, w, t):
        rng = self.rng
        i, v, names = self.items[rng.randrange(len(self.items))]
        tot = sum(x[0] for x in names)
        x = rng.random() * tot
        for wt, name, kind in names:
            x -= wt
            if x <= 0:
                break
        qtype = "A" if rng.random() < 0.78 else "AAAA"
        rcode = "NOERROR"
        if kind == "aws":
            key = (name, qtype)
            if key not in self.aws_ips:
                self.aws_ips[key] = "52.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), 1 + rng.randrange(254))
            answers = [{"Rdata": self.aws_ips[key], "Type": "A", "Class": "IN"}] if qtype == "A" else []
        elif kind == "internal":
            answers = [{"Rdata": "10.%d.%d.%d" % (v.second, 1 + rng.randrange(3), 4 + rng.randrange(250)),
                        "Type": "A", "Class": "IN"}] if qtype == "A" else []
        elif kind[0] == "rds":
            answers = [{"Rdata": kind[1], "Type": "A", "Class": "IN"}] if qtype == "A" else []
        else:
            answers = [{"Rdata": kind[1], "Type": "A", "Class": "IN"}] if qtype == "A" else []
        if rng.random() < 0.03:  # search-domain expansion: ec2.internal suffix, NXDOMAIN
            name = name + ("ec2.internal." if i.region == "us-east-1" else "%s.compute.internal." % i.region)
            rcode, answers = "NXDOMAIN", []
        elif rng.random() < 0.004:
            rcode, answers = "SERVFAIL", []
        return v, record(w, v, t, i, name, qtype, rcode, answers, rng), qtype


def scenario_lines(w, d):
    rng = rng_for(d)
    i = w.net.by_instance[d["target"]]
    v = w.net.by_vpc[i.vpc]
    out = []
    t = d["t0"]
    step = max(1, d["dur"] // max(1, d["n"]))
    for k in range(d["n"]):
        chunk = rand_chars(rng, B32, 40 + rng.randrange(20))
        name = "%s.%s.%s.%s." % (chunk, rand_chars(rng, B32, 20 + rng.randrange(20)), hexid(rng, 4), d["domain"])
        qtype = "TXT" if rng.random() < 0.6 else "A"
        if qtype == "TXT":
            ans = [{"Rdata": '"%s"' % rand_chars(rng, B32, 24), "Type": "TXT", "Class": "IN"}]
        else:
            ans = [{"Rdata": "198.18.%d.%d" % (rng.randrange(256), 1 + rng.randrange(254)), "Type": "A", "Class": "IN"}]
        out.append((t, v, record(w, v, t, i, name, qtype, "NOERROR", ans, rng), qtype))
        t += rng.randrange(1, 2 * step + 1)
    info = {"instance_id": i.id, "eni": i.eni, "src_ip_internal": i.ip, "domain": d["domain"], "vpc_id": v.id,
            "region": i.region}
    return out, info


def run(w, task, out, seed, start, days):
    rng = random.Random(derive_seed(seed, "route53", w.acct))
    rng_names = random.Random(derive_seed(seed, "route53-names", w.acct))
    ask = Askers(w, rng)
    sc, infos = scenario_stream(w, task, scenario_lines)
    counts = window_counts(rng, task["background"], start, days, WINDOW, profile(w.tz, 0.3, False))
    stats = {"per_region": {}, "per_action": {}}
    si = 0
    for k, c in enumerate(counts):
        ws = start + k * WINDOW
        per = {}
        for _ in range(c):
            t = ws + rng.randrange(WINDOW)
            v, ln, qt = ask.one(w, t)
            per.setdefault(v.id, (v, []))[1].append((t, ln, qt))
        while si < len(sc) and sc[si][0] < ws + WINDOW:
            t, v, ln, qt = sc[si]
            per.setdefault(v.id, (v, []))[1].append((t, ln, qt))
            si += 1
        we = ws + WINDOW
        for vid in sorted(per):
            v, lst = per[vid]
            lst.sort(key=lambda x: x[0])
            rel = "AWSLogs/%s/vpcdnsquerylogs/%s/%s/%s_vpcdnsquerylogs_%s_%s_%s.log.gz" % (
                w.acct, vid, ymd(we), w.acct, vid, stamp_min(we), hexid(rng_names, 8))
            out.write(rel, "\n".join(x[1] for x in lst) + "\n", len(lst))
            stats["per_region"][v.region] = stats["per_region"].get(v.region, 0) + len(lst)
            for x in lst:
                stats["per_action"][x[2]] = stats["per_action"].get(x[2], 0) + 1
    assert si == len(sc)
    return stats, infos
