"""S3 server access logs, date-based partitioning, plain text as S3 writes them:
s3-access-logs/<account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-<16 HEX>

Requesters are the account's own principals (the same ARNs, addresses and user
agents CloudTrail shows for them: instance roles through the gateway endpoint from
their ENI's private address), the S3 log-delivery service, and anonymous readers of
public buckets.
"""

import json
import random
import time
from urllib.parse import quote

from .util import derive_seed, hexid, rand_chars, B64, hash_chars
from .srcutil import scenario_stream, window_counts, profile
from .catalog import s3_key, s3_object_size
from .netscen import rng_for
from .scenarios import ATTACKER_UAS

WINDOW = 3 * 3600
OPS = [("REST.GET.OBJECT", "GET", 48), ("REST.PUT.OBJECT", "PUT", 16), ("REST.HEAD.OBJECT", "HEAD", 16),
       ("REST.GET.BUCKET", "GET", 8), ("REST.GET.BUCKETVERSIONS", "GET", 1), ("REST.GET.ACL", "GET", 1),
       ("REST.GET.LOCATION", "GET", 2), ("REST.DELETE.OBJECT", "DELETE", 2), ("REST.COPY.OBJECT", "PUT", 1),
       ("REST.GET.ENCRYPTION", "GET", 0.5), ("REST.GET.POLICY_STATUS", "GET", 0.5)]
MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def owner_id(acct):
    return hash_chars("0123456789abcdef", 64, "canonical", acct)


def s3_time(t):
    tm = time.gmtime(t)
    return "[%02d/%s/%d:%02d:%02d:%02d +0000]" % (tm.tm_mday, MON[tm.tm_mon - 1], tm.tm_year, tm.tm_hour, tm.tm_min,
                                                 tm.tm_sec)


def requesters(w, rng):
    """(weight, arn, ip list, user agent, buckets) of everyone who reads or writes the buckets."""
    out = []
    for p in w.principals:
        if not p.arn or not any(k.startswith("s3:") for k in (p.api_keys or [])):
            continue
        ch = None
        for c in p.channels.items:
            if not c.console:
                ch = c
                break
        ch = ch or p.channels.items[0]
        ips = [ip for ip in ch.ips.items if ip != "AWS Internal"] or ["10.0.0.1"]
        if p.vpce and "s3" in p.vpce:
            ips = [p.vpce["s3"][0]]
        ua = json.loads(ch.uas.items[0]) if ch.uas.items else "aws-cli/2.17.0"
        bk = p.res.get("bucket") or w.all["bucket"]
        out.append((1.0 + 3.0 * (p.kind in ("instance", "app", "lambda", "svc")), p.arn, ips, ua, bk))
    if not out:
        out.append((1.0, "arn:aws:iam::%s:user/s3-reader" % w.acct, ["10.0.0.1"], "aws-cli/2.17.0", w.all["bucket"]))
    return out


def line(w, b, t, rng, arn, ip, ua, op, method, key, status=200, err="-", size=None):
    owner = owner_id(w.acct)
    reqid = hexid(rng, 16).upper()
    host = "%s.s3.%s.amazonaws.com" % (b[0], b[1])
    if op == "REST.GET.BUCKET":
        uri = "GET /?list-type=2&prefix=%s&encoding-type=url HTTP/1.1" % quote(key.rsplit("/", 1)[0] + "/", safe="")
        keyf = "-"
    elif op in ("REST.GET.LOCATION", "REST.GET.ACL", "REST.GET.BUCKETVERSIONS", "REST.GET.ENCRYPTION",
                "REST.GET.POLICY_STATUS"):
        sub = {"REST.GET.LOCATION": "location", "REST.GET.ACL": "acl", "REST.GET.BUCKETVERSIONS": "versions",
               "REST.GET.ENCRYPTION": "encryption", "REST.GET.POLICY_STATUS": "policyStatus"}[op]
        uri = "GET /?%s HTTP/1.1" % sub
        keyf = "-"
    else:
        keyf = quote(key, safe="/")
        uri = "%s /%s HTTP/1.1" % (method, keyf)
    if size is None:
        size = s3_object_size(rng)
    if status >= 300:
        sent, osize = (243 if method != "HEAD" else 0), "-"
    elif method == "GET" and keyf != "-":
        sent, osize = size, size
    elif method == "PUT":
        sent, osize = 0, size
    elif method == "GET":
        sent, osize = 300 + rng.randrange(9000), "-"
    else:
        sent, osize = 0, (size if method == "HEAD" else "-")
    total = 5 + rng.randrange(60) + (size // 200000 if method in ("GET", "PUT") else 0)
    tat = max(1, total - rng.randrange(5))
    cipher = "TLS_AES_128_GCM_SHA256" if rng.random() < 0.7 else "ECDHE-RSA-AES128-GCM-SHA256"
    tlsv = "TLSv1.3" if cipher.startswith("TLS_") else "TLSv1.2"
    auth = "AuthHeader" if arn != "-" else "-"
    sig = "SigV4" if arn != "-" else "-"
    return '%s %s %s %s %s %s %s %s "%s" %d %s %s %s %d %d "-" "%s" - %s %s %s %s %s %s - -' % (
        owner, b[0], s3_time(t), ip, arn, reqid, op, keyf, uri, status, err, sent if sent != 0 or method != "HEAD" else "-",
        osize, total, tat, ua, rand_chars(rng, B64, 76), sig, cipher, auth, host, tlsv)


def background(w, rng, reqs, cum, t):
    x = rng.random() * cum[-1]
    j = 0
    while cum[j] < x:
        j += 1
    _, arn, ips, ua, bk = reqs[j]
    b = bk[rng.randrange(len(bk))]
    tot = sum(o[2] for o in OPS)
    x = rng.random() * tot
    for op, method, wt in OPS:
        x -= wt
        if x <= 0:
            break
    key = s3_key(w, None, b, t - 86400 * rng.randrange(20), rng)
    status, err = 200, "-"
    r = rng.random()
    if method in ("GET", "HEAD") and op.endswith("OBJECT") and r < 0.03:
        status, err = 404, "NoSuchKey"
    elif r < 0.04:
        status, err = 403, "AccessDenied"
    elif method == "DELETE":
        status = 204
    ip = ips[rng.randrange(len(ips))]
    return b, line(w, b, t, rng, arn, ip, ua, op, method, key, status, err), op


def scenario_lines(w, d):
    rng = rng_for(d)
    b = [x for x in w.all["bucket"] if x[0] == d["target"]][0]
    ua = ATTACKER_UAS[rng.randrange(2)]
    out = []
    times = sorted(d["t0"] + rng.randrange(d["dur"]) for _ in range(d["n"]))
    times[0] = d["t0"]
    nlist = min(3, d["n"] // 50 + 1)
    for k, t in enumerate(times):
        key = s3_key(w, None, b, t - 86400 * rng.randrange(60), rng)
        if k < nlist:
            out.append((t, b, line(w, b, t, rng, d["principal"], d["ip"], ua, "REST.GET.BUCKET", "GET", key), "REST.GET.BUCKET"))
        else:
            out.append((t, b, line(w, b, t, rng, d["principal"], d["ip"], ua, "REST.GET.OBJECT", "GET", key), "REST.GET.OBJECT"))
    info = {"bucket": b[0], "region": b[1], "principal": d["principal"], "objects": d["n"] - nlist}
    return out, info


def run(w, task, out, seed, start, days):
    rng = random.Random(derive_seed(seed, "s3access", w.acct))
    rng_names = random.Random(derive_seed(seed, "s3access-names", w.acct))
    reqs = requesters(w, rng)
    cum = []
    acc = 0.0
    for r in reqs:
        acc += r[0]
        cum.append(acc)
    sc, infos = scenario_stream(w, task, scenario_lines)
    counts = window_counts(rng, task["background"], start, days, WINDOW, profile(w.tz, 0.4, False))
    stats = {"per_region": {}, "per_action": {}}
    si = 0
    for k, c in enumerate(counts):
        ws = start + k * WINDOW
        per = {}
        for _ in range(c):
            t = ws + rng.randrange(WINDOW)
            b, ln, op = background(w, rng, reqs, cum, t)
            per.setdefault(b[0], (b, []))[1].append((t, ln, op))
        while si < len(sc) and sc[si][0] < ws + WINDOW:
            t, b, ln, op = sc[si]
            per.setdefault(b[0], (b, []))[1].append((t, ln, op))
            si += 1
        for name in sorted(per):
            b, lst = per[name]
            lst.sort(key=lambda x: x[0])
            wt = ws + WINDOW + rng_names.randrange(600)
            tm = time.gmtime(wt)
            rel = "s3-access-logs/%s/%s/%s/%s/%s-%s" % (
                w.acct, b[1], b[0], time.strftime("%Y/%m/%d", tm), time.strftime("%Y-%m-%d-%H-%M-%S", tm),
                hexid(rng_names, 16).upper())
            out.write(rel, "\n".join(x[1] for x in lst) + "\n", len(lst), gz=False)
            stats["per_region"][b[1]] = stats["per_region"].get(b[1], 0) + len(lst)
            for x in lst:
                stats["per_action"][x[2]] = stats["per_action"].get(x[2], 0) + 1
    assert si == len(sc)
    return stats, infos
