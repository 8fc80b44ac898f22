"""One account's network: VPCs, subnets, instances with their ENIs and addresses,
NAT gateways, load balancers, databases, CloudFront distributions, flow logs and
Resolver query-log configurations.

Built from the account's World (the same instance ids, buckets, databases, NAT
addresses and principals CloudTrail uses) with its own random stream
(derive_seed(seed, "net", account)), so adding it changes nothing CloudTrail draws.
Every log source reads its entities from here, which is what keeps them consistent:
the instance whose ENI appears in a flow log is the one whose role calls AWS in
CloudTrail, resolves names in the Route 53 log and connects to the database.
"""

import random

from .util import derive_seed, hexid, rand_chars, ip_from_int, ip_to_int
from . import net

AZ_IDS = {"us-east-1": "use1", "us-west-2": "usw2", "eu-west-1": "euw1", "eu-central-1": "euc1",
          "ap-southeast-1": "apse1"}
LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# AWS service prefixes (public addresses instances reach through NAT or gateway endpoints)
S3_PREFIX = {"us-east-1": "52.216.0.0/15", "us-west-2": "52.218.128.0/17", "eu-west-1": "52.218.0.0/17",
             "eu-central-1": "52.219.72.0/22", "ap-southeast-1": "52.219.128.0/17"}
DDB_PREFIX = {"us-east-1": "3.218.180.0/22", "us-west-2": "35.71.64.0/22", "eu-west-1": "52.94.24.0/23",
              "eu-central-1": "52.94.4.0/24", "ap-southeast-1": "52.94.13.0/24"}


class Instance:
    __slots__ = ("id", "region", "vpc", "subnet", "az", "az_id", "eni", "ip", "public_ip", "role", "sg", "app",
                 "principal", "itype", "volume", "launch")


class Nat:
    __slots__ = ("id", "region", "vpc", "subnet", "eni", "ip", "public_ip", "az", "az_id")


class LoadBalancer:
    __slots__ = ("kind", "name", "id", "region", "vpc", "nodes", "targets", "port", "scheme", "dns", "arn",
                 "app", "tg_arn", "cert")


class Database:
    __slots__ = ("id", "region", "engine", "version", "vpc", "subnet", "ip", "port", "users", "clients", "app",
                 "arn", "resource_id", "encrypted", "public", "az")


class Distribution:
    __slots__ = ("id", "domain", "alias", "origin", "arn")


class Vpc:
    __slots__ = ("id", "region", "cidr", "second", "subnets", "flow_log", "custom_format", "rqlc", "instances")


class Net:
    pass


def _az(region, k):
    return region + "abc"[k % 3], "%s-az%d" % (AZ_IDS.get(region, "use1"), 1 + k % 3)


def build_net(seed, w):
    """Attach w.net (a Net) to the account's world. Deterministic per (seed, account)."""
    rng = random.Random(derive_seed(seed, "net", w.acct))
    n = Net()
    n.vpcs = []
    n.by_vpc = {}
    used_second = set()
    for r in w.regions:
        for vid in w.byr["vpc_"][r]:
            v = Vpc()
            v.id, v.region = vid, r
            while True:
                s = 1 + rng.randrange(250)
                if s not in used_second:
                    used_second.add(s)
                    break
            v.second = s
            v.cidr = "10.%d.0.0/16" % s
            v.subnets = []
            v.flow_log = "fl-0" + hexid(rng, 17)
            v.custom_format = rng.random() < 0.35
            v.rqlc = "rqlc-" + hexid(rng, 16)
            v.instances = []
            n.vpcs.append(v)
            n.by_vpc[vid] = v
    # subnets: (id, vpc, region) from the world; CIDR 10.<vpc>.<k*16>.0/20 style /24s
    n.subnets = {}
    counters = {}
    for sid, vid, r in w.all["subnet"]:
        v = n.by_vpc[vid]
        k = counters.get(vid, 0)
        counters[vid] = k + 1
        az, az_id = _az(r, k)
        n.subnets[sid] = (sid, v, "10.%d.%d.0/24" % (v.second, 16 * k + 1), az, az_id, k)
        v.subnets.append(sid)
    for v in n.vpcs:  # a VPC the world gave no subnet still needs one
        if not v.subnets:
            sid = "subnet-0" + hexid(rng, 16)
            az, az_id = _az(v.region, 0)
            n.subnets[sid] = (sid, v, "10.%d.1.0/24" % v.second, az, az_id, 0)
            v.subnets.append(sid)
    used_ips = set()

    def host_in(sid):
        cidr = n.subnets[sid][2]
        base = ip_to_int(cidr.split("/")[0])
        while True:
            ip = ip_from_int(base + 4 + rng.randrange(250))
            if ip not in used_ips:
                used_ips.add(ip)
                return ip

    def vpcs_in(r):
        return [v for v in n.vpcs if v.region == r]

    # ---- instances: the world's, plus any instance principal's own instance
    ids = [(iid, r) for iid, r in w.all["instance"]]
    known = {iid for iid, _ in ids}
    for p in w.principals:
        if p.kind == "instance" and p.instance_id not in known:
            ids.append((p.instance_id, p.region_home))
            known.add(p.instance_id)
    by_principal = {p.instance_id: p for p in w.principals if p.kind == "instance"}
    n.instances = []
    sgs = {}
    for r in w.regions:
        sgs[r] = [sg for sg, rr in w.all["sg"] if rr == r] or [w.all["sg"][0][0]]
    per_region_roles = {}
    for iid, r in ids:
        i = Instance()
        i.id, i.region = iid, r
        vs = vpcs_in(r) or n.vpcs
        v = vs[rng.randrange(len(vs))]
        sid = v.subnets[rng.randrange(len(v.subnets))]
        i.vpc, i.subnet = v.id, sid
        i.az, i.az_id = n.subnets[sid][3], n.subnets[sid][4]
        i.eni = "eni-0" + hexid(rng, 16)
        i.ip = host_in(sid)
        i.volume = "vol-0" + hexid(rng, 16)
        roles = per_region_roles.setdefault(r, [])
        if "bastion" not in roles and w.ou in ("prod", "security", "staging"):
            role = "bastion"
        elif "web" not in roles:
            role = "web"
        else:
            role = rng.choice(["web", "web", "app", "app", "batch", "worker"])
        roles.append(role)
        i.role = role
        i.public_ip = net.aws_ip(rng, r) if role in ("bastion", "web") and rng.random() < (1.0 if role == "bastion" else 0.3) else None
        i.sg = sgs[r][rng.randrange(len(sgs[r]))]
        i.app = w.apps[rng.randrange(len(w.apps))]
        i.itype = rng.choice(["t3.medium", "m6i.large", "m6i.xlarge", "c6i.large", "r6i.large", "t3.large"])
        i.launch = None
        p = by_principal.get(iid)
        i.principal = p
        if p is not None:
            # the instance role's calls come from this instance: keep the private address
            # CloudTrail shows for S3 through the gateway endpoint equal to the ENI's
            p.private_ip = i.ip
            if p.vpce and "s3" in p.vpce:
                p.vpce["s3"] = (i.ip, p.vpce["s3"][1])
            i.app = p.short or i.app
        n.instances.append(i)
        v.instances.append(i)
    n.by_instance = {i.id: i for i in n.instances}
    n.by_ip = {i.ip: i for i in n.instances}

    # ---- NAT gateways (one per public address CloudTrail shows for the region's apps)
    n.nats = {}
    for r in w.regions:
        lst = []
        for pub in w.nat.get(r, []):
            vs = vpcs_in(r) or n.vpcs
            v = vs[0]
            g = Nat()
            g.id, g.region, g.vpc = "nat-0" + hexid(rng, 17), r, v.id
            g.subnet = v.subnets[0]
            g.az, g.az_id = n.subnets[g.subnet][3], n.subnets[g.subnet][4]
            g.eni = "eni-0" + hexid(rng, 16)
            g.ip = host_in(g.subnet)
            g.public_ip = pub
            lst.append(g)
        n.nats[r] = lst

    # ---- load balancers
    short = w.bank_short
    n.lbs = []
    web_by_region = {}
    for i in n.instances:
        if i.role == "web":
            web_by_region.setdefault(i.region, []).append(i)
    for r, webs in sorted(web_by_region.items()):
        app = webs[0].app
        n.lbs.append(_lb(rng, w, "app", "%s-%s-%s" % (short, w.env, app)[:32], r, webs, 8080, host_in))
    if rng.random() < 0.35:
        r = w.primary
        tg = [i for i in n.instances if i.region == r and i.role in ("web", "app")] or n.instances[:1]
        n.lbs.append(_lb(rng, w, "classic", ("%s-legacy-%s" % (short, w.env))[:32], r, tg, 80, host_in))
    if rng.random() < 0.45:
        r = w.primary
        tg = [i for i in n.instances if i.region == r and i.role in ("app", "worker")] or n.instances[:1]
        n.lbs.append(_lb(rng, w, "net", ("%s-%s-api-nlb" % (short, w.env))[:32], r, tg, 8443, host_in))

    # ---- databases (the world's RDS instances)
    n.dbs = []
    for name, r in w.all["db"]:
        d = Database()
        d.id, d.region = name, r
        d.engine = rng.choice(["postgres", "postgres", "postgres", "mysql", "mariadb"])
        d.version = {"postgres": rng.choice(["15.7", "16.3", "14.12"]), "mysql": rng.choice(["8.0.36", "8.0.39"]),
                     "mariadb": rng.choice(["10.11.8", "10.6.18"])}[d.engine]
        vs = vpcs_in(r) or n.vpcs
        v = vs[rng.randrange(len(vs))]
        d.vpc = v.id
        d.subnet = v.subnets[-1]
        d.az = n.subnets[d.subnet][3]
        d.ip = host_in(d.subnet)
        d.port = 5432 if d.engine == "postgres" else 3306
        d.app = name.split("-")[0]
        master = "postgres" if d.engine == "postgres" else "admin"
        d.users = ["%s_app" % d.app.replace("-", "_"), "%s_ro" % d.app.replace("-", "_"), master, "migrations"]
        cl = [i for i in n.instances if i.region == r and i.role in ("app", "web", "worker", "batch")]
        d.clients = cl or [i for i in n.instances if i.region == r] or n.instances[:1]
        d.arn = "arn:aws:rds:%s:%s:db:%s" % (r, w.acct, name)
        d.resource_id = "db-" + rand_chars(rng, UPPER_ALNUM, 26)
        d.encrypted = rng.random() < 0.75
        d.public = rng.random() < 0.12
        n.dbs.append(d)

    # ---- CloudFront: the public site of prod and staging accounts
    n.dists = []
    if w.ou in ("prod", "staging") and any(lb.kind == "app" for lb in n.lbs):
        dd = Distribution()
        dd.id = "E" + rand_chars(rng, UPPER_ALNUM, 13)
        dd.domain = "d%s.cloudfront.net" % rand_chars(rng, LOWER_ALNUM, 13)
        dd.alias = ("www.%s" if w.ou == "prod" else "staging.%s") % w.domain
        dd.origin = [lb for lb in n.lbs if lb.kind == "app"][0]
        dd.arn = "arn:aws:cloudfront::%s:distribution/%s" % (w.acct, dd.id)
        n.dists.append(dd)
    w.net = n
    return n


def _lb(rng, w, kind, name, region, targets, port, host_in):
    lb = LoadBalancer()
    lb.kind, lb.name, lb.region, lb.targets, lb.port = kind, name, region, targets, port
    lb.id = hexid(rng, 16)
    lb.app = targets[0].app if targets else "web"
    sid = targets[0].subnet if targets else None
    lb.vpc = targets[0].vpc if targets else None
    lb.nodes = [host_in(sid) for _ in range(2)] if sid else ["10.0.0.10", "10.0.1.10"]
    lb.scheme = "internet-facing" if w.ou in ("prod", "staging") or kind == "classic" else "internal"
    if kind == "app":
        lb.dns = "%s-%d.%s.elb.amazonaws.com" % (name, rng.randrange(10 ** 9, 10 ** 10), region)
        lb.arn = "arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s" % (region, w.acct, name, lb.id)
        lb.tg_arn = "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s-tg/%s" % (region, w.acct, name[:25], hexid(rng, 16))
    elif kind == "net":
        lb.dns = "%s-%s.elb.%s.amazonaws.com" % (name, hexid(rng, 16), region)
        lb.arn = "arn:aws:elasticloadbalancing:%s:%s:loadbalancer/net/%s/%s" % (region, w.acct, name, lb.id)
        lb.tg_arn = None
    else:
        lb.dns = "%s-%d.%s.elb.amazonaws.com" % (name, rng.randrange(10 ** 9, 10 ** 10), region)
        lb.arn = "arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s" % (region, w.acct, name)
        lb.tg_arn = None
    lb.cert = "arn:aws:acm:%s:%s:certificate/%s" % (region, w.acct, "%s-%s-%s-%s-%s" % (
        hexid(rng, 8), hexid(rng, 4), hexid(rng, 4), hexid(rng, 4), hexid(rng, 12)))
    return lb
