"""HTTP access logs: Elastic Load Balancing (ALB, Classic ELB, NLB TLS) and CloudFront.

Load balancers and distributions come from the account's network plan; targets are
its instances (the same private addresses and ports as the VPC flow logs), clients
are the bank's customers (home ISP addresses, stable per customer), its staff
(corporate ranges) and, for internal load balancers, the account's own instances.

  ALB      AWSLogs/<account>/elasticloadbalancing/<region>/YYYY/MM/DD/
             <account>_elasticloadbalancing_<region>_app.<name>.<id>_<YYYYMMDDTHHmmZ>_<node ip>_<8 random>.log.gz
  Classic  .../<account>_elasticloadbalancing_<region>_<name>_<YYYYMMDDTHHmmZ>_<node ip>_<8 random>.log (plain text)
  NLB      .../<account>_elasticloadbalancing_<region>_net.<name>.<id>_<YYYYMMDDTHHmmZ>_<8 random>.log.gz
  CloudFront  cloudfront/<account>/<distribution id>.YYYY-MM-DD-HH.<8 hex>.gz
"""

import random
import time
from urllib.parse import quote

from .util import derive_seed, hexid, rand_chars, B64
from .srcutil import stamp_min, ymd, window_counts, profile
from . import net
from .world import BROWSERS

WINDOW = 3600
MOBILE_UAS = ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
              "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36",
              "BankApp/7.12.0 (iPhone; iOS 18.1; Scale/3.00)", "BankApp/7.12.1 (Android 14; Pixel 8)",
              "okhttp/4.12.0"]
API_UAS = ["Go-http-client/2.0", "python-requests/2.32.3", "Apache-HttpClient/4.5.14 (Java/17.0.12)",
           "grpc-java-netty/1.66.0", "ELB-HealthChecker/2.0"]
PATHS = [("GET", "/", 6), ("GET", "/login", 4), ("POST", "/login", 2), ("GET", "/api/v1/accounts", 10),
         ("GET", "/api/v1/accounts/{id}/transactions", 12), ("POST", "/api/v1/payments", 3),
         ("GET", "/api/v1/payments/{id}", 3), ("GET", "/api/v1/cards", 3), ("POST", "/api/v1/session/refresh", 4),
         ("GET", "/static/js/app.{h}.js", 6), ("GET", "/static/css/main.{h}.css", 5), ("GET", "/favicon.ico", 2),
         ("GET", "/health", 4), ("PUT", "/api/v1/profile", 1), ("DELETE", "/api/v1/payees/{id}", 0.3),
         ("GET", "/ws/notifications", 1.2), ("POST", "/payments.v1.PaymentService/Submit", 1.0),
         ("GET", "/wp-login.php", 0.2), ("GET", "/.env", 0.1)]
STATUS = [(200, 80), (304, 6), (302, 3), (201, 2), (204, 2), (401, 2), (403, 1), (404, 2.5), (500, 0.5), (502, 0.3),
          (503, 0.2), (504, 0.2)]
EDGES = {"us-east-1": ["IAD89-C1", "IAD12-P2", "JFK50-P1", "ATL59-C1"], "us-west-2": ["SEA19-C2", "SFO53-P3", "LAX50-C1"],
         "eu-west-1": ["DUB56-P1", "LHR62-C2", "LHR50-P2"], "eu-central-1": ["FRA56-P8", "FRA60-P2", "MUC50-P2"],
         "ap-southeast-1": ["SIN2-P7", "SIN52-C1", "HKG62-C2"]}
CIPHERS = [("ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2"), ("TLS_AES_128_GCM_SHA256", "TLSv1.3"),
           ("TLS_AES_256_GCM_SHA384", "TLSv1.3")]


def _w(rng, pairs):
    items = [p for p in pairs]
    tot = sum(p[-1] for p in items)
    x = rng.random() * tot
    for p in items:
        x -= p[-1]
        if x <= 0:
            return p
    return items[-1]


class Clients:
    """The account's web clients: customers with stable addresses and user agents."""

    def __init__(self, w, rng, n=600):
        self.c = []
        for _ in range(n):
            ip = net.home_ip(rng)
            ua = (BROWSERS + MOBILE_UAS)[rng.randrange(len(BROWSERS) + len(MOBILE_UAS))]
            self.c.append((ip, ua))
        for cidr in w.corp_v4:
            from .util import rand_host
            for _ in range(4):
                self.c.append((rand_host(rng, cidr), BROWSERS[rng.randrange(len(BROWSERS))]))

    def pick(self, rng):
        # a few heavy users: zipf-ish by squaring
        k = int(len(self.c) * rng.random() ** 2)
        return self.c[k]


def _path(rng):
    m, p, _ = _w(rng, PATHS)
    p = p.replace("{id}", str(100000 + rng.randrange(900000))).replace("{h}", hexid(rng, 8))
    return m, p


def _ts_us(t, rng):
    us = rng.randrange(1000000)
    return t, us, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % us


def alb_line(w, lb, rng, t, clients, internal_clients):
    _, us, ts = _ts_us(t, rng)
    if lb.scheme == "internal":
        cip, ua = internal_clients[rng.randrange(len(internal_clients))].ip, API_UAS[rng.randrange(4)]
    else:
        cip, ua = clients.pick(rng)
    m, p = _path(rng)
    if p.startswith("/ws/"):
        typ, scheme, proto = ("wss", "https", "HTTP/1.1")
    elif p.startswith("/payments.v1"):
        typ, scheme, proto, m = ("grpcs", "https", "HTTP/2.0", "POST")
        ua = "grpc-go/1.67.1"
    elif lb.scheme == "internal" and rng.random() < 0.3:
        typ, scheme, proto = ("http", "http", "HTTP/1.1")
    else:
        typ = "h2" if rng.random() < 0.55 else "https"
        scheme, proto = "https", ("HTTP/2.0" if typ == "h2" else "HTTP/1.1")
    host = lb.dns if lb.scheme == "internal" else "www.%s" % w.domain
    port = 443 if scheme == "https" else 80
    st = _w(rng, STATUS)[0]
    if p in ("/wp-login.php", "/.env"):
        st = 404
    tgt = lb.targets[rng.randrange(len(lb.targets))]
    if st in (502, 503, 504) and rng.random() < 0.6:
        target, tst, tpt, rpt, tsl = "-", "-", "-1", "-1", "-"
        rqt = "-1" if st == 503 else "0.000"
        er = {502: "TargetConnectionErrorConnectionRefused", 503: "-", 504: "TargetResponseTimeout"}[st]
    else:
        target = "%s:%d" % (tgt.ip, lb.port)
        tst = str(st)
        tpt = "%.3f" % (0.002 + rng.random() ** 3 * 1.5)
        rpt = "0.000"
        rqt = "0.000"
        tsl = tst
        er = "-"
    rb = 200 + rng.randrange(1800) if m in ("POST", "PUT") else 80 + rng.randrange(600)
    sb = 0 if st == 304 else 300 + rng.randrange(40000)
    cipher, tlsv = CIPHERS[rng.randrange(3)] if scheme == "https" else ("-", "-")
    trace = "Root=1-%08x-%s" % (t, hexid(rng, 24))
    url = "%s://%s:%d%s" % ("https" if typ in ("https", "h2", "grpcs", "wss") else "http", host, port, p)
    if typ == "wss":
        url = "wss://%s:443%s" % (host, p)
    actions = "forward" if target != "-" else ("forward" if st != 503 else "fixed-response")
    cert = lb.cert if scheme == "https" else "-"
    prio = str(1 + rng.randrange(5)) if target != "-" else "-"
    return ("%s %s app/%s/%s %s:%d %s %s %s %s %s %s %d %d \"%s %s %s\" \"%s\" %s %s %s \"%s\" \"%s\" \"%s\" %s %s "
            "\"%s\" \"-\" \"%s\" \"%s\" \"%s\" \"-\" \"-\" TID_%s") % (
        typ, ts, lb.name, lb.id, cip, 1024 + rng.randrange(64000), target, rqt, tpt, rpt, st, tst, rb, sb, m, url,
        proto, ua, cipher, tlsv, lb.tg_arn if target != "-" else "-", trace, host, cert, prio,
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % max(0, us - 1000), actions, er,
        target if target != "-" else "-", tsl, hexid(rng, 32)), m


def elb_line(w, lb, rng, t, clients):
    _, _, ts = _ts_us(t, rng)
    cip, ua = clients.pick(rng)
    m, p = _path(rng)
    tgt = lb.targets[rng.randrange(len(lb.targets))]
    st = _w(rng, STATUS)[0]
    https = rng.random() < 0.7
    cipher, tlsv = (CIPHERS[0] if https else ("-", "-"))
    url = "%s://www.%s:%d%s" % ("https" if https else "http", w.domain, 443 if https else 80, p)
    return "%s %s %s:%d %s:%d %.6f %.6f %.6f %d %d %d %d \"%s %s HTTP/1.1\" \"%s\" %s %s" % (
        ts, lb.name, cip, 1024 + rng.randrange(64000), tgt.ip, lb.port, rng.random() * 0.0001,
        0.001 + rng.random() ** 3, rng.random() * 0.0001, st, st, 0 if m == "GET" else 200 + rng.randrange(900),
        300 + rng.randrange(20000), m, url, ua, cipher, tlsv), m


def nlb_line(w, lb, rng, t, internal):
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    c = internal[rng.randrange(len(internal))]
    tgt = lb.targets[rng.randrange(len(lb.targets))]
    ctime = 5 + rng.randrange(60000)
    hs = 1 + rng.randrange(30)
    cipher = "ECDHE-RSA-AES128-GCM-SHA256"
    alert = "-" if rng.random() > 0.01 else "0228"
    return "tls 2.0 %s net/%s/%s %s %s:%d %s:%d %d %d %d %d %s %s - %s tlsv12 - %s - - - %s" % (
        ts, lb.name, lb.id, hexid(rng, 16), c.ip, 1024 + rng.randrange(64000), tgt.ip, lb.port, ctime, hs,
        100 + rng.randrange(20000), 200 + rng.randrange(90000), alert, lb.cert, cipher, lb.dns,
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(max(0, t - ctime // 1000)))), "TLS"


def run_elb(w, task, out, seed, start, days):
    rng = random.Random(derive_seed(seed, "elb", w.acct))
    rng_names = random.Random(derive_seed(seed, "elb-names", w.acct))
    clients = Clients(w, rng)
    lbs = [lb for lb in w.net.lbs if lb.targets]
    internal = [i for i in w.net.instances] or []
    stats = {"per_region": {}, "per_action": {}, "kinds": {}}
    if not lbs or task["background"] == 0:
        assert task["background"] == 0
        return stats, []
    wts = [{"app": 6.0, "classic": 1.5, "net": 1.0}[lb.kind] for lb in lbs]
    counts = window_counts(rng, task["background"], start, days, WINDOW, profile(w.tz, 0.3, True))
    for k, c in enumerate(counts):
        if not c:
            continue
        ws = start + k * WINDOW
        files = {}
        for _ in range(c):
            x = rng.random() * sum(wts)
            j = 0
            while j < len(lbs) - 1 and x > wts[j]:
                x -= wts[j]
                j += 1
            lb = lbs[j]
            t = ws + rng.randrange(WINDOW)
            node = k % len(lb.nodes) if lb.kind != "net" else 0
            if lb.kind == "app":
                line, m = alb_line(w, lb, rng, t, clients, internal)
            elif lb.kind == "classic":
                line, m = elb_line(w, lb, rng, t, clients)
            else:
                line, m = nlb_line(w, lb, rng, t, internal)
            files.setdefault((j, node), []).append((t, line))
            stats["per_action"][m] = stats["per_action"].get(m, 0) + 1
        we = ws + WINDOW
        st = stamp_min(we)
        for (j, node) in sorted(files):
            lb = lbs[j]
            lst = files[(j, node)]
            lst.sort(key=lambda x: x[0])
            base = "AWSLogs/%s/elasticloadbalancing/%s/%s/%s_elasticloadbalancing_%s_" % (
                w.acct, lb.region, ymd(we), w.acct, lb.region)
            body = "\n".join(x[1] for x in lst) + "\n"
            if lb.kind == "app":
                rel = base + "app.%s.%s_%s_%s_%s.log.gz" % (lb.name, lb.id, st, lb.nodes[node],
                                                           rand_chars(rng_names, "abcdefghijklmnopqrstuvwxyz0123456789", 8))
                out.write(rel, body, len(lst))
            elif lb.kind == "classic":
                rel = base + "%s_%s_%s_%s.log" % (lb.name, st, lb.nodes[node],
                                                  rand_chars(rng_names, "abcdefghijklmnopqrstuvwxyz0123456789", 8))
                out.write(rel, body, len(lst), gz=False)
            else:
                rel = base + "net.%s.%s_%s_%s.log.gz" % (lb.name, lb.id, st, hexid(rng_names, 8))
                out.write(rel, body, len(lst))
            stats["per_region"][lb.region] = stats["per_region"].get(lb.region, 0) + len(lst)
            kd = stats["kinds"].setdefault({"app": "alb", "classic": "elb", "net": "nlb"}[lb.kind],
                                           {"records": 0, "files": 0, "bytes": 0})
            kd["records"] += len(lst)
            kd["files"] += 1
            kd["bytes"] += out.last
    return stats, []


CF_FIELDS = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
             "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
             "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
             "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte "
             "x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end")
CT = {".js": "application/javascript", ".css": "text/css", ".ico": "image/x-icon", "/": "text/html"}


def cf_line(w, d, rng, t, clients, edges):
    cip, ua = clients.pick(rng)
    m, p = _path(rng)
    if p.startswith("/ws/") or p.startswith("/payments.v1"):
        m, p = "GET", "/"
    st = _w(rng, STATUS)[0]
    res = "Hit" if p.startswith("/static") or p == "/favicon.ico" else ("Miss" if m == "GET" else "Miss")
    if st >= 500:
        res = "Error"
    elif st in (401, 403, 404):
        res = "Error" if rng.random() < 0.5 else "Miss"
    sb = 300 + rng.randrange(60000)
    tt = "%.3f" % (0.001 + rng.random() ** 3 * (0.02 if res == "Hit" else 0.8))
    ctype = "text/html"
    for k, v in CT.items():
        if p.endswith(k):
            ctype = v
    q = "-" if rng.random() < 0.8 else "session=%s" % hexid(rng, 8)
    tlsv, cipher = ("TLSv1.3", "TLS_AES_128_GCM_SHA256") if rng.random() < 0.7 else ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
    ref = "-" if rng.random() < 0.6 else quote("https://www.%s/" % w.domain, safe="")
    return "\t".join([
        time.strftime("%Y-%m-%d", time.gmtime(t)), time.strftime("%H:%M:%S", time.gmtime(t)),
        edges[rng.randrange(len(edges))], str(sb), cip, m, d.domain, p, str(st), ref,
        quote(ua, safe="/;:,()+!*'=&@$"), q, "-", res,
        rand_chars(rng, B64.replace("+", "-").replace("/", "_"), 54) + "==", d.alias, "https",
        str(80 + rng.randrange(900)), tt, "-", tlsv, cipher, res, "HTTP/2.0" if rng.random() < 0.7 else "HTTP/1.1",
        "-", "-", str(1024 + rng.randrange(64000)), tt, res, ctype, str(sb - 250), "-", "-"]), m


def run_cloudfront(w, task, out, seed, start, days):
    rng = random.Random(derive_seed(seed, "cloudfront", w.acct))
    rng_names = random.Random(derive_seed(seed, "cloudfront-names", w.acct))
    stats = {"per_region": {}, "per_action": {}}
    dists = w.net.dists
    if not dists or task["background"] == 0:
        assert task["background"] == 0
        return stats, []
    clients = Clients(w, rng, 900)
    edges = EDGES.get(w.primary, EDGES["us-east-1"]) + EDGES["us-east-1"][:1]
    counts = window_counts(rng, task["background"], start, days, WINDOW, profile(w.tz, 0.3, True))
    for k, c in enumerate(counts):
        if not c:
            continue
        ws = start + k * WINDOW
        per = {}
        for _ in range(c):
            d = dists[rng.randrange(len(dists))]
            t = ws + rng.randrange(WINDOW)
            line, m = cf_line(w, d, rng, t, clients, edges)
            per.setdefault(d.id, []).append((t, line))
            stats["per_action"][m] = stats["per_action"].get(m, 0) + 1
        for did in sorted(per):
            lst = sorted(per[did], key=lambda x: x[0])
            rel = "cloudfront/%s/%s.%s.%s.gz" % (w.acct, did, time.strftime("%Y-%m-%d-%H", time.gmtime(ws)),
                                                 hexid(rng_names, 8))
            out.write(rel, "#Version: 1.0\n#Fields: %s\n" % CF_FIELDS + "\n".join(x[1] for x in lst) + "\n", len(lst))
            stats["per_region"]["global"] = stats["per_region"].get("global", 0) + len(lst)
    return stats, []

