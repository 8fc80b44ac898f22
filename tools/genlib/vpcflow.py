"""VPC Flow Logs: one flow log per VPC, delivered to S3 as
AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/
    <account>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<8 hex>.log.gz
with a header line naming the fields. Most flow logs use the default format
(version 2); about a third use a custom version-5 format (VPC, subnet, instance,
TCP flags, packet-level addresses, AZ, AWS service, direction, traffic path).

Every record is the view of one ENI of the account's world (instances, NAT
gateways) on one flow: load balancer to web instance, instance to database,
instance to the internet through NAT, to S3 through the gateway endpoint, to the
VPC resolver, east-west, staff SSH to the bastion, and the internet's background
noise of scanners (one address, one or two ports, rejected). Accepted TCP flows
usually come in pairs (request and response direction on the same ENI).
"""

from bisect import bisect_right
from itertools import accumulate

from .util import hexid, derive_seed, rand_host
from .srcutil import stamp_min, ymd, scenario_stream, window_counts, profile
from . import net
from .netscen import rng_for

V2_HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
V5_FIELDS = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
             "log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id "
             "sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path")
WINDOW = 3600

# internet background: scanners and crawlers. First octets disjoint from every pool in
# net.py (corporate, home, attacker, threat list, AWS), so noise never looks like a scenario.
NOISE_OCTETS = [20, 23, 36, 39, 42, 49, 58, 59, 60, 61, 101, 106, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120,
                121, 122, 123, 124, 125, 138, 140, 143, 144, 152, 162, 165, 168, 170, 183, 202, 210, 211, 218, 219,
                220, 221, 222]
NOISE_PORTS = [23, 445, 3389, 22, 80, 8080, 1433, 3306, 5900, 6379, 8443, 2323, 5060, 9200, 25, 81, 8000, 8888, 21,
               111, 123, 161, 1900, 5555, 7547, 37215, 52869]
SCAN_PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 465, 587, 993, 995, 1080, 1433, 1521, 1723,
              2049, 2375, 3000, 3306, 3389, 4444, 5000, 5432, 5601, 5900, 5985, 6379, 6443, 7001, 8000, 8008, 8080,
              8081, 8443, 8888, 9000, 9090, 9200, 9300, 10250, 11211, 27017]
SAAS = ["104.18.32.47", "151.101.1.69", "140.82.112.4", "199.232.37.91", "172.217.16.142", "13.107.42.14",
        "185.199.108.153", "104.16.124.96"]


def noise_ip(rng):
    a = NOISE_OCTETS[rng.randrange(len(NOISE_OCTETS))]
    return "%d.%d.%d.%d" % (a, rng.randrange(256), rng.randrange(256), 1 + rng.randrange(254))


class Tmpl:
    """One kind of flow seen by one ENI."""
    __slots__ = ("vpc", "eni", "inst", "subnet", "az_id", "region", "src", "dst", "dport", "proto", "pk", "bpp",
                 "action", "pair", "ingress", "path", "ssvc", "dsvc", "noise", "nodata")

    def __init__(self, vpc, eni, inst, subnet, az_id, region, src, dst, dport, proto=6, pk=(4, 40), bpp=(60, 900),
                 action="ACCEPT", pair=True, ingress=True, path="1", ssvc="-", dsvc="-", noise=False, nodata=None):
        self.vpc, self.eni, self.inst, self.subnet, self.az_id, self.region = vpc, eni, inst, subnet, az_id, region
        self.src, self.dst, self.dport, self.proto, self.pk, self.bpp = src, dst, dport, proto, pk, bpp
        self.action, self.pair, self.ingress, self.path, self.ssvc, self.dsvc = action, pair, ingress, path, ssvc, dsvc
        self.noise, self.nodata = noise, nodata


def fmt(acct, v5, t, sp, dp, src, dst, pk, by, st, en, action, flags, ingress):
    """One record line; t gives the ENI's context, the rest the flow's numbers."""
    if not v5:
        return "2 %s %s %s %s %d %d %d %d %d %d %d %s OK" % (acct, t.eni, src, dst, sp, dp, t.proto, pk, by, st, en, action)
    return "5 %s %s %s %s %d %d %d %d %d %d %d %s OK %s %s %s %d IPv4 %s %s %s %s - - %s %s %s %s" % (
        acct, t.eni, src, dst, sp, dp, t.proto, pk, by, st, en, action, t.vpc.id, t.subnet, t.inst, flags, src, dst,
        t.region, t.az_id, t.ssvc if ingress else "-", t.dsvc if not ingress else "-",
        "ingress" if ingress else "egress", "-" if ingress else t.path)


def templates(w, rng):
    """(weight, Tmpl) pairs for the account's background traffic."""
    n = w.net
    out = []
    ins = n.instances

    def T(i, **kw):
        v = n.by_vpc[i.vpc]
        return Tmpl(v, i.eni, i.id, i.subnet, i.az_id, i.region, **kw)

    lbs = [lb for lb in n.lbs if lb.targets]
    for lb in lbs:
        share = (30.0 if lb.kind == "app" else 8.0) / len(lb.targets)
        for t in lb.targets:
            for node in lb.nodes:
                out.append((share / 2, T(t, src=node, dst=t.ip, dport=lb.port, pk=(6, 60), bpp=(200, 1400))))
    for d in n.dbs:
        for c in d.clients:
            out.append((15.0 / len(n.dbs) / len(d.clients),
                        T(c, src=c.ip, dst=d.ip, dport=d.port, ingress=False, pk=(8, 120), bpp=(90, 1200))))
    ext = {}
    for r in w.regions:
        ext[r] = [net.aws_ip(rng, r) for _ in range(6)] + SAAS
    for i in ins:
        dsts = ext[i.region]
        if i.public_ip:
            for x in dsts[:5]:
                out.append((3.0 / len(ins), T(i, src=i.ip, dst=x, dport=443, ingress=False, path="8")))
        else:
            for x in dsts[:5]:
                out.append((14.0 / len(ins) / 5 * 5 / 5, T(i, src=i.ip, dst=x, dport=443, ingress=False, path="1")))
        s3 = rand_host(rng, net_s3(i.region))
        out.append((8.0 / len(ins), T(i, src=i.ip, dst=s3, dport=443, ingress=False, path="7", dsvc="S3",
                                      pk=(10, 400), bpp=(500, 1400))))
        v = n.by_vpc[i.vpc]
        out.append((6.0 / len(ins), T(i, src=i.ip, dst="10.%d.0.2" % v.second, dport=53, proto=17, ingress=False,
                                      pk=(1, 2), bpp=(60, 120))))
        out.append((0.3 / len(ins), T(i, src=i.ip, dst="10.%d.0.2" % v.second, dport=0, proto=1, ingress=False,
                                      pk=(1, 4), bpp=(84, 84))))
    for r, nats in n.nats.items():
        for g in nats:
            for x in ext[r][:8]:
                out.append((12.0 / max(1, len(nats)) / 8 / len(w.regions),
                            Tmpl(n.by_vpc[g.vpc], g.eni, "-", g.subnet, g.az_id, r, src=g.ip, dst=x, dport=443,
                                 ingress=False, path="8")))
    apps = [i for i in ins if i.role in ("app", "worker")]
    webs = [i for i in ins if i.role in ("web", "app")]
    for a in apps:
        peers = [b for b in webs if b is not a and b.vpc == a.vpc][:3]
        for b in peers:
            out.append((8.0 / len(apps) / len(peers), T(b, src=a.ip, dst=b.ip, dport=8443)))
    corp = w.corp_v4
    for i in ins:
        if i.role == "bastion":
            for c in corp:
                out.append((1.0 / len(corp), T(i, src=rand_host(rng, c), dst=i.ip, dport=22, pk=(20, 400),
                                               bpp=(80, 400))))
    pubs = [i for i in ins if i.public_ip]
    for i in pubs:
        out.append((4.0 / len(pubs), T(i, src="", dst=i.ip, dport=0, action="REJECT", pair=False, noise=True,
                                       pk=(1, 2), bpp=(40, 60))))
    for i in ins[:4]:
        out.append((0.05, T(i, src="-", dst="-", dport=0, pair=False, nodata="NODATA")))
    out.append((0.01, T(ins[0], src="-", dst="-", dport=0, pair=False, nodata="SKIPDATA")))
    return out


def net_s3(region):
    from .netplan import S3_PREFIX
    return S3_PREFIX.get(region, S3_PREFIX["us-east-1"])


class Gen:
    """Renders background records for one account, fast: templates chosen by bisect
    on cumulative weights, one format operation per line."""

    def __init__(self, w, rng, v5_override=None):
        self.w = w
        self.rng = rng
        pairs = templates(w, rng)
        self.tmpls = [t for _, t in pairs]
        self.cum = list(accumulate(wt for wt, _ in pairs))
        self.tot = self.cum[-1]
        self.v5_override = v5_override

    def records(self, ws, win, n, out):
        """Append n (start, vpc, line, action) tuples with start in [ws, ws + win)."""
        rng = self.rng
        rand = rng.random
        randrange = rng.randrange
        tm = self.tmpls
        cum = self.cum
        tot = self.tot
        last = len(tm) - 1
        acct = self.w.acct
        vo = self.v5_override
        k = 0
        while k < n:
            i = bisect_right(cum, rand() * tot)
            t = tm[i if i <= last else last]
            v5 = t.vpc.custom_format if vo is None else vo
            st = ws + randrange(win)
            en = st + 1 + randrange(60)
            if t.nodata:
                line = ("2 %s %s - - - - - - - %d %d - %s" % (acct, t.eni, st, en, t.nodata) if not v5 else
                        "5 %s %s - - - - - - - %d %d - %s %s %s %s - - - - %s %s - - - - - -" % (
                            acct, t.eni, st, en, t.nodata, t.vpc.id, t.subnet, t.inst, t.region, t.az_id))
                out.append((st, t.vpc, line, "-"))
                k += 1
                continue
            if t.noise:
                src = noise_ip(rng)
                dp = NOISE_PORTS[randrange(len(NOISE_PORTS))]
                line = fmt(acct, v5, t, 1024 + randrange(64000), dp, src, t.dst, 1, 40 + 4 * randrange(6), st, en,
                           "REJECT", 2, True)
                out.append((st, t.vpc, line, "REJECT"))
                k += 1
                continue
            pk = t.pk[0] + randrange(t.pk[1] - t.pk[0] + 1)
            by = pk * (t.bpp[0] + randrange(t.bpp[1] - t.bpp[0] + 1))
            eph = 32768 + randrange(28232)
            ing = t.ingress
            flags = 0 if t.proto != 6 else 3
            if t.proto == 1:
                sp = dp = 0
            else:
                sp, dp = eph, t.dport
            out.append((st, t.vpc, fmt(acct, v5, t, sp, dp, t.src, t.dst, pk, by, st, en, t.action, flags, ing),
                        t.action))
            k += 1
            if t.pair and k < n and t.proto != 1:
                rpk = max(1, pk + randrange(5) - 2)
                rby = rpk * (t.bpp[0] + randrange(t.bpp[1] - t.bpp[0] + 1))
                out.append((st, t.vpc, fmt(acct, v5, t, dp, sp, t.dst, t.src, rpk, rby, st, en, t.action,
                                           19 if t.proto == 6 else 0, not ing), t.action))
                k += 1


def scenario_records(w, d):
    """The scenario's records [(start, vpc, line, action)] and the truth fields it adds."""
    rng = rng_for(d)
    n = w.net
    i = n.by_instance[d["target"]]
    v = n.by_vpc[i.vpc]
    t = Tmpl(v, i.eni, i.id, i.subnet, i.az_id, i.region, src=d["ip"], dst=i.ip, dport=0, path="8")
    acct = w.acct
    out = []
    t0 = d["t0"]
    if d["kind"] == "port_scan":
        ports = SCAN_PORTS[:]
        rng.shuffle(ports)
        seen = set(ports)
        while len(ports) < d["n"]:
            p = 1 + rng.randrange(65535)
            if p not in seen:
                seen.add(p)
                ports.append(p)
        ports = ports[:d["n"]]
        open_ports = {22} if i.role == "bastion" else {443}
        times = sorted(t0 + rng.randrange(d["dur"]) for _ in ports)
        sport = 40000 + rng.randrange(20000)
        for st, p in zip(times, ports):
            acc = p in open_ports
            line = fmt(acct, v.custom_format, t, sport, p, d["ip"], i.ip, 2 if acc else 1, 88 if acc else 44, st,
                       st + 1 + rng.randrange(50), "ACCEPT" if acc else "REJECT", 2, True)
            out.append((st, v, line, "ACCEPT" if acc else "REJECT"))
        info = {"instance_id": i.id, "eni": i.eni, "dst_ip": i.ip, "dst_ports": sorted(ports), "region": i.region,
                "vpc_id": v.id}
    else:  # ssh_bruteforce: each connection seen in both directions
        st = t0
        for _ in range(d["n"] // 2):
            sp = 32768 + rng.randrange(28232)
            en = st + 2 + rng.randrange(8)
            pk = 12 + rng.randrange(14)
            out.append((st, v, fmt(acct, v.custom_format, t, sp, 22, d["ip"], i.ip, pk, pk * (150 + rng.randrange(120)),
                                   st, en, "ACCEPT", 3, True), "ACCEPT"))
            rp = pk - 1 - rng.randrange(3)
            out.append((st, v, fmt(acct, v.custom_format, t, 22, sp, i.ip, d["ip"], rp, rp * (180 + rng.randrange(150)),
                                   st, en, "ACCEPT", 19, False), "ACCEPT"))
            st += 1 + rng.randrange(9)
        info = {"instance_id": i.id, "eni": i.eni, "dst_ip": i.ip, "dst_ports": [22], "region": i.region,
                "vpc_id": v.id}
    return out, info


def write_window(w, out, ws, recs, rng_names, stats, bulk_level=6):
    """Write one window's records: one file per flow log (VPC)."""
    byv = {}
    for r in recs:
        byv.setdefault(r[1].id, []).append(r)
    acct = w.acct
    we = ws + WINDOW
    st = stamp_min(we)
    day = ymd(we)
    for vid in sorted(byv):
        lst = byv[vid]
        lst.sort(key=lambda x: x[0])
        v = lst[0][1]
        header = V2_HEADER if not v.custom_format else V5_FIELDS
        rel = "AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%s.log.gz" % (
            acct, v.region, day, acct, v.region, v.flow_log, st, hexid(rng_names, 8))
        out.write(rel, header + "\n" + "\n".join([x[2] for x in lst]) + "\n", len(lst), level=bulk_level)
        pr = stats["per_region"]
        pr[v.region] = pr.get(v.region, 0) + len(lst)
        pa = stats["per_action"]
        for x in lst:
            pa[x[3]] = pa.get(x[3], 0) + 1


def run(w, task, out, seed, start, days):
    rng = __import__("random").Random(derive_seed(seed, "vpcflow", w.acct))
    rng_names = __import__("random").Random(derive_seed(seed, "vpcflow-names", w.acct))
    g = Gen(w, rng)
    sc, infos = scenario_stream(w, task, scenario_records)
    counts = window_counts(rng, task["background"], start, days, WINDOW, profile(w.tz, 0.35, False))
    stats = {"per_region": {}, "per_action": {}}
    si = 0
    for k, c in enumerate(counts):
        ws = start + k * WINDOW
        recs = []
        if c:
            g.records(ws, WINDOW, c, recs)
        while si < len(sc) and sc[si][0] < ws + WINDOW:
            recs.append(sc[si])
            si += 1
        if recs:
            write_window(w, out, ws, recs, rng_names, stats)
    assert si == len(sc)
    return stats, infos
