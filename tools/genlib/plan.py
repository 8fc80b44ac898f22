"""The plan, made in the main process before any worker starts: banks, accounts,
address plan, threat list, scenario instances and exact per-account volumes.
Workers only render what the plan fixes, so output does not depend on --jobs."""

import random

from .util import derive_seed, rand_host, allocate_exact as allocate
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


def build(seed, nbanks, naccounts, records, days, start, sources=("cloudtrail",)):
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
    ct = "cloudtrail" in sources
    per_kind = max(1, records // 500000)
    range_start = start
    range_end = start + days * 86400
    earliest = start + int(max(6 * 3600, min(2 * 86400 + 6 * 3600, days * 86400 * 0.5)))
    latest = range_end - 2 * 3600
    if latest <= earliest:
        latest = earliest + 1
    instances = []
    for bank in banks:
        for kind, _ in (SCENARIOS if ct else []):
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

    # ---- account plans (what a worker needs to build the account's world)
    accts = [(b, a) for b in banks for a in b["accounts"]]
    weights = [OU_VOLUME[a["ou"]] * rng.lognormvariate(0.0, 0.35) for b, a in accts]
    aplans = []
    for idx, (b, a) in enumerate(accts):
        aplans.append({"id": a["id"], "index": idx, "name": a["name"], "ou": a["ou"], "bank": b["id"],
                       "bank_short": b["short"], "tz": b["tz"], "domain": b["domain"], "regions": a["regions"],
                       "corp_v4": b["corp_v4"], "corp_v6": b["corp_v6"], "background": 0, "scenarios": []})
    others = [s for s in sources if s != "cloudtrail"]
    worlds = {}
    net_insts = []
    if others:
        from .world import build_world
        from .netscen import NET_SCENARIOS, plan as plan_net
        for ap in aplans:
            worlds[ap["id"]] = build_world(seed, ap)
        scale = min(1.0, records / 200000.0)
        for bank in banks:
            bw = [worlds[a["id"]] for a in bank["accounts"]]
            for kind, src, _ in NET_SCENARIOS:
                if src not in sources:
                    continue
                for k in range(per_kind):
                    irng = random.Random(derive_seed(seed, "instance", bank["id"], kind, k))
                    d = plan_net(kind, irng, bw, scale)
                    if d is None:
                        continue
                    d["t0"] = earliest + irng.randrange(max(1, latest - earliest - d["dur"]))
                    d["bank"] = bank["id"]
                    d["id"] = "%s/%s/%d" % (bank["id"], kind, k)
                    net_insts.append(d)

    # ---- fixed volumes: GuardDuty findings and Config items follow from the world
    fixed = {}
    if "guardduty" in sources:
        from .guardduty import bg_count, CT_GD
        for ap in aplans:
            w = worlds[ap["id"]]
            n_sc = sum(1 for d in net_insts if d["account"] == ap["id"])
            n_ct = sum(1 for d in instances if d["account"] == ap["id"] and d["kind"] in CT_GD)
            bg = bg_count(w, days)
            fixed[("guardduty", ap["id"])] = (bg, n_sc + n_ct)
    if "config" in sources:
        from .config import count as config_count
        for ap in aplans:
            w = worlds[ap["id"]]
            n_ch = sum(1 for d in instances if d["account"] == ap["id"]
                       and d["kind"] in ("sg_open_admin_port", "s3_block_public_access_disabled"))
            hist = 2 * days
            fixed[("config", ap["id"])] = (config_count(w, days, hist), n_ch)
    fixed_total = sum(a + b for a, b in fixed.values())
    variable = [s for s in sources if s in SHARES]
    rest = records - fixed_total
    if variable and rest < 0:
        raise SystemExit("tools/gen: --records %d is too small: GuardDuty findings and Config items alone take %d"
                         % (records, fixed_total))
    totals = dict(zip(variable, allocate(rest, [SHARES[s] for s in variable]))) if variable else {}

    # ---- exact per-account volumes, per source
    tasks = []
    for src in sources:
        for idx, ap in enumerate(aplans):
            t = dict(ap)
            t["source"] = src
            if src == "cloudtrail":
                t["scenarios"] = sorted([d for d in instances if d["account"] == ap["id"]], key=lambda d: (d["t0"], d["id"]))
            elif src in ("guardduty", "config"):
                t["scenarios"] = []
                t["ct_scenarios"] = sorted([d for d in instances if d["account"] == ap["id"]],
                                           key=lambda d: (d["t0"], d["id"]))
                t["net_scenarios"] = sorted([d for d in net_insts if d["account"] == ap["id"]],
                                            key=lambda d: (d["t0"], d["id"]))
                t["hist"] = 2 * days
            else:
                t["scenarios"] = sorted([d for d in net_insts if d["account"] == ap["id"] and d["source"] == src],
                                        key=lambda d: (d["t0"], d["id"]))
            tasks.append(t)
    for src in variable:
        ts = [t for t in tasks if t["source"] == src]
        ws = []
        for t, wt in zip(ts, weights):
            ok = True
            if src == "cloudfront":
                ok = bool(worlds[t["id"]].net.dists)
            ws.append(wt if ok else 0.0)
        sc_tot = sum(d["n"] for t in ts for d in t["scenarios"])
        bg_total = totals[src] - sc_tot
        nacc = sum(1 for x in ws if x > 0)
        if bg_total < max(sc_tot, 50 * nacc):
            need = sc_tot + max(sc_tot, 50 * nacc)
            raise SystemExit("tools/gen: --records %d is too small for %d banks x %d accounts: %s gets %d records and "
                             "its labelled scenarios alone take %d; use more records (%s needs about %d) or fewer "
                             "--sources" % (records, nbanks, naccounts, src, totals[src], sc_tot, src,
                                            need))
        for t, n in zip(ts, allocate(bg_total, ws)):
            t["background"] = n
    for t in tasks:
        if (t["source"], t["id"]) in fixed:
            bg, extra = fixed[(t["source"], t["id"])]
            t["background"] = bg
            t["scenario_changes"] = extra if t["source"] == "config" else 0
            t["fixed_total"] = bg + extra
    org = {"banks": [{"id": b["id"], "name": b["name"],
                      "accounts": [{"id": a["id"], "name": a["name"], "ou": a["ou"]} for a in b["accounts"]]}
                     for b in banks]}
    threat = {"used_single": threat_used_single, "used_cidr": threat_used_cidr,
              "unrelated_single": threat_unrelated_single, "unrelated_cidr": threat_unrelated_cidr}
    networks = {"corporate": {b["id"]: {"ipv4": b["corp_v4"], "ipv6": b["corp_v6"] + "::/48", "utc_offset_hours": b["tz"]}
                              for b in banks},
                "aws": net.AWS_RANGES}
    return org, tasks, threat, networks, instances + net_insts, range_start


# share of --records each source gets (after GuardDuty and Config, whose volume follows
# from the accounts' resources): flow logs the most, as in a real estate
SHARES = {"cloudtrail": 25, "vpcflow": 40, "elb": 10, "s3access": 8, "cloudfront": 4, "route53": 9, "rds": 4}
ALL_SOURCES = ["cloudtrail", "vpcflow", "elb", "s3access", "cloudfront", "route53", "rds", "guardduty", "config"]
