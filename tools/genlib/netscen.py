"""Labelled attack scenarios outside CloudTrail: network, DNS, S3 access and database.

plan() runs in the main process with the accounts' worlds at hand: it fixes the
account, the target (instance, bucket, database), the attacker's address and the
exact number of records, so per-source totals are exact before any worker starts.
The source's worker renders the records from that plan (and its own seeded stream);
the GuardDuty worker reads the same plan to write the finding GuardDuty would raise.
"""

import random

from .util import derive_seed
from . import net

# (kind, source, expected GuardDuty finding)
NET_SCENARIOS = [
    ("port_scan", "vpcflow", "Recon:EC2/PortProbeUnprotectedPort"),
    ("ssh_bruteforce", "vpcflow", "UnauthorizedAccess:EC2/SSHBruteForce"),
    ("dns_exfiltration", "route53", "Trojan:EC2/DNSDataExfiltration"),
    ("s3_access_mass_download", "s3access", "Exfiltration:S3/AnomalousBehavior"),
    ("rds_bruteforce", "rds", "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce"),
]
NET_SOURCE = {k: s for k, s, _ in NET_SCENARIOS}
RDS_FAILED = "CredentialAccess:RDS/AnomalousBehavior.FailedLogin"

EXFIL_DOMAINS = ["cdn-telemetry-sync.net", "update-check-svc.info", "metrics-edge-cache.com", "dl-assets-mirror.org",
                 "api-status-relay.net", "static-img-proxy.xyz"]


def _size(rng, lo, hi, scale, floor):
    return max(floor, int(rng.randint(lo, hi) * scale))


def candidates(kind, w):
    """Targets in account world w for this kind (empty: the account cannot host it)."""
    n = w.net
    if kind == "port_scan":
        return [i.id for i in n.instances if i.public_ip]
    if kind == "ssh_bruteforce":
        return [i.id for i in n.instances if i.public_ip and i.role == "bastion"]
    if kind == "dns_exfiltration":
        return [i.id for i in n.instances if i.role in ("app", "batch", "worker", "web")]
    if kind == "s3_access_mass_download":
        return [b[0] for b in w.all["bucket"]]
    if kind == "rds_bruteforce":
        return [d.id for d in n.dbs]
    return []


def plan(kind, irng, worlds, scale):
    """One instance of kind in one of worlds (a bank's accounts). None if none can host it."""
    hosts = [(w, c) for w in worlds for c in [candidates(kind, w)] if c]
    if not hosts:
        return None
    w, cands = hosts[irng.randrange(len(hosts))]
    d = {"kind": kind, "source": NET_SOURCE[kind], "seed": irng.getrandbits(62), "account": w.acct,
         "target": cands[irng.randrange(len(cands))], "ip": net.attacker_ip(irng)}
    if kind == "port_scan":
        d["n"] = _size(irng, 150, 500, scale, 40)
        d["dur"] = 1200
    elif kind == "ssh_bruteforce":
        d["n"] = 2 * _size(irng, 100, 300, scale, 30)
        d["dur"] = 2400
    elif kind == "dns_exfiltration":
        d["n"] = _size(irng, 300, 1200, scale, 60)
        d["domain"] = EXFIL_DOMAINS[irng.randrange(len(EXFIL_DOMAINS))]
        d["dur"] = 3000
    elif kind == "s3_access_mass_download":
        d["n"] = _size(irng, 1000, 3000, scale, 150)
        d["dur"] = 3600
        rolep = [p for p in w.principals if p.kind in ("app", "instance", "human", "svc") and p.arn]
        d["principal"] = rolep[irng.randrange(len(rolep))].arn
    elif kind == "rds_bruteforce":
        db = [x for x in w.net.dbs if x.id == d["target"]][0]
        fails = _size(irng, 100, 400, scale, 25)
        success = irng.random() < 0.5
        d["fails"] = fails
        d["success"] = success
        d["engine"] = db.engine
        d["user"] = db.users[2] if irng.random() < 0.7 else db.users[0]
        per = 2 if db.engine == "postgres" else 1
        d["n"] = per * fails + (3 if success else 0)
        d["dur"] = 1800
        if not db.public:
            # a private database is reached from inside: a compromised instance of its VPC
            cl = db.clients
            d["ip"] = cl[irng.randrange(len(cl))].ip
            d["internal"] = True
    return d


def finding(d):
    if d["kind"] == "rds_bruteforce" and not d["success"]:
        return RDS_FAILED
    return [f for k, _, f in NET_SCENARIOS if k == d["kind"]][0]


def rng_for(d):
    return random.Random(derive_seed(d["seed"], "render"))
