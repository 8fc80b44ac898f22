"""The plan, made in the main process before any worker starts: banks, accounts,
address plan, threat list, scenario instances and exact per-account volumes.
Workers only render what the plan fixes, so output does not depend on --jobs."""

import random

from .util import derive_seed, rand_host, cidr_size, cidr_host
from . import net
from .scenarios import SCENARIOS, plan_instance

FIXED_BANKS = [("acme-bank", "Acme Bank", -5, ["us-east-1", "us-west-2"]),
               ("borealis-bank", "Borealis Bank", 1, ["eu-west-1", "eu-central-1"]),
               ("cobalt-bank", "Cobalt Bank", 8, ["ap-southeast-1", "us-east-1"])]
MORE_BANKS = ["Dunmore Savings Bank", "Evergreen Trust", "Fjordline Bank", "Granite Federal", "Harbor Mutual",
              "Ironwood Bank", "Juniper Credit Union", "Keystone Capital", "Lakeshore Bank", "Meridian Trust",
              "Northwind Bank", "Oakridge Savings", "Pinnacle Bank", "Quayside Bank", "Riverton Trust",
              "Silverline Bank", "Tidewater Bank", "Upland Federal", "Vantage Bank", "Westmark Bank"]
TZ_REGIONS = [(0, ["eu-west-1", "eu-central-1"]), (2, ["eu-central-1", "eu-west-1"]), (-6, ["us-east-1", "us-west-2"]),
              (9, ["ap-southeast-1", "us-west-2"]), (-8, ["us-west-2", "us-east-1"]), (1, ["eu-central-1", "eu-west-1"]),
              (-3, ["us-east-1", "eu-west-1"]), (10, ["ap-southeast-1", "us-west-2"]), (3, ["eu-central-1", "eu-west-1"])]
OUS = ["prod", "staging", "dev", "security"]
OU_VOLUME = {"prod": 1.8, "staging": 0.8, "dev": 0.55, "security": 0.9}
PREFERRED = ["us-east-1", "eu-west-1", "eu-central-1", "us-west-2", "ap-southeast-1"]


def slug(name):
    out = []
    for ch in name.lower():
        out.append(ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else "-")
    s = "".join(out)
    while "--" in s:
        s = s.replace("--", "-")
    return s.strip("-")


def build(seed, nbanks, naccounts, records, days, start):
    rng = random.Random(derive_seed(seed, "org"))
    more = MORE_BANKS[:]
    rng.shuffle(more)
    banks = []
    used_ids = set()
    for b in range(nbanks):
        if b < len(FIXED_BANKS):
            bid, name, tz, regs = FIXED_BANKS[b]
        else:
            j = b - len(FIXED_BANKS)
            name = more[j % len(more)]
            if j >= len(more):
                name = "%s %d" % (name, j // len(more) + 1)
            bid = slug(name)
            tz, regs = TZ_REGIONS[j % len(TZ_REGIONS)]
        short = bid.split("-")[0]
        domain = "%s.com" % bid.replace("-", "")
        corp = []
        for _ in range(2 + rng.randrange(2)):
            corp.append(net.corp_block(rng, 28))
        v6 = net.corp_v6_prefix(rng)
        accounts = []
        for i in range(naccounts):
            while True:
                aid = "%012d" % rng.randrange(10 ** 11, 10 ** 12)
                if aid not in used_ids:
                    used_ids.add(aid)
                    break
            ou = OUS[i % len(OUS)]
            aname = "%s-%s" % (short, ou) if i < len(OUS) else "%s-%s-%d" % (short, ou, i // len(OUS) + 1)
            aregs = regs[:1 + (rng.random() < 0.6)]
            if rng.random() < 0.2:
                extra = [r for r in PREFERRED if r not in aregs]
                aregs = aregs + [extra[rng.randrange(len(extra))]]
            accounts.append({"id": aid, "name": aname, "ou": ou, "regions": aregs})
        banks.append({"id": bid, "name": name, "short": short, "tz": tz, "domain": domain, "corp_v4": corp,
                      "corp_v6": v6, "regions": regs, "accounts": accounts})

    # ---- threat list: entries the scenario uses, plus unrelated ones
    threat_used_single = sorted({net.threat_ip(rng) for _ in range(6 + nbanks)})
    threat_used_cidr = []
    for pfx in (24, 28, 26):
        threat_used_cidr.append(net.threat_block(rng, pfx))
    threat_unrelated_single = sorted({net.threat_ip(rng) for _ in range(10)} - set(threat_used_single))
    threat_unrelated_cidr = [net.threat_block(rng, 24), net.threat_block(rng, 27)]
    threat_sources = threat_used_single + [rand_host(rng, c) for c in threat_used_cidr]

    # ---- scenario instances
    per_kind = max(1, records // 500000)
    range_start = start
    range_end = start + days * 86400
    earliest = start + int(max(6 * 3600, min(2 * 86400 + 6 * 3600, days * 86400 * 0.5)))
    latest = range_end - 2 * 3600
    if latest <= earliest:
        latest = earliest + 1
    instances = []
    for bank in banks:
        for kind, _ in SCENARIOS:
            for k in range(per_kind):
                irng = random.Random(derive_seed(seed, "instance", bank["id"], kind, k))
                acct = bank["accounts"][irng.randrange(len(bank["accounts"]))]
                corp_ip = rand_host(irng, bank["corp_v4"][irng.randrange(len(bank["corp_v4"]))])
                d = plan_instance(kind, irng, records, bank["id"], corp_ip, threat_sources)
                d["t0"] = earliest + irng.randrange(latest - earliest)
                d["bank"] = bank["id"]
                d["account"] = acct["id"]
                d["id"] = "%s/%s/%d" % (bank["id"], kind, k)
                instances.append(d)
    s_total = sum(d["n"] for d in instances)
    nacc = nbanks * naccounts
    if records - s_total < max(s_total, 50 * nacc):
        need = s_total + max(s_total, 50 * nacc)
        raise SystemExit("tools/gen: --records %d is too small for %d banks x %d accounts: the labelled scenarios alone "
                         "take %d records; use at least %d" % (records, nbanks, naccounts, s_total, need))

    # ---- exact per-account volumes
    accts = [(b, a) for b in banks for a in b["accounts"]]
    weights = [OU_VOLUME[a["ou"]] * rng.lognormvariate(0.0, 0.35) for b, a in accts]
    from .worker import allocate
    bg = allocate(records - s_total, weights)
    tasks = []
    for idx, ((b, a), n) in enumerate(zip(accts, bg)):
        sc = sorted([d for d in instances if d["account"] == a["id"]], key=lambda d: (d["t0"], d["id"]))
        tasks.append({"id": a["id"], "index": idx, "name": a["name"], "ou": a["ou"], "bank": b["id"],
                      "bank_short": b["short"], "tz": b["tz"], "domain": b["domain"], "regions": a["regions"],
                      "corp_v4": b["corp_v4"], "corp_v6": b["corp_v6"], "background": n, "scenarios": sc})
    org = {"banks": [{"id": b["id"], "name": b["name"],
                      "accounts": [{"id": a["id"], "name": a["name"], "ou": a["ou"]} for a in b["accounts"]]}
                     for b in banks]}
    threat = {"used_single": threat_used_single, "used_cidr": threat_used_cidr,
              "unrelated_single": threat_unrelated_single, "unrelated_cidr": threat_unrelated_cidr}
    networks = {"corporate": {b["id"]: {"ipv4": b["corp_v4"], "ipv6": b["corp_v6"] + "::/48", "utc_offset_hours": b["tz"]}
                              for b in banks},
                "aws": net.AWS_RANGES}
    return org, tasks, threat, networks, instances
