"""Per-account generation: background traffic window by window (5 minutes),
merged with the account's scenario events, written as CloudTrail files.

Memory holds one window of one account at a time plus the account's scenario
events, so it is bounded regardless of --records.
"""

import gzip
import os
import random
from bisect import bisect_right
from itertools import accumulate

from .util import derive_seed, uuid4, iso, stamp, rand_chars, ALNUM, J, human_expiration, B64, allocate_exact
from .catalog import GLOBAL_REGION, LAST_BUCKET
from .render import (record, request_id, tls_json, error_for, login_to, S3CONSOLE_UA, AWS_INTERNAL_J)
from .world import build_world
from . import scenarios

WINDOW = 300
MONDAY0 = 4 * 86400  # 1970-01-05 00:00 UTC was a Monday

_progress = None  # multiprocessing.Value, set by init_worker


def init_worker(counter):
    global _progress
    _progress = counter


INVOKER = {"instance": "ec2.amazonaws.com", "app": "ecs-tasks.amazonaws.com", "lambda": "lambda.amazonaws.com"}


def service_event(w, p, api, t, rng):
    """Calls made by AWS services themselves (userIdentity type AWSService)."""
    name = api.name
    if name == "AssumeRole":
        tg = p.res["targets"]
        tgt = tg[rng.randrange(len(tg))]
        inv = INVOKER[tgt.kind]
        key, created = tgt.session_key(t)
        req = {"roleArn": tgt.issuer, "roleSessionName": tgt.session}
        if tgt.kind == "instance":
            req["durationSeconds"] = 21600
        resp = {"credentials": {"accessKeyId": key, "sessionToken": rand_chars(rng, B64, 120),
                                "expiration": human_expiration(created + tgt.period)},
                "assumedRoleUser": {"assumedRoleId": "%s:%s" % (tgt.role_id, tgt.session), "arn": tgt.arn}}
        region = tgt.region_home
        ui = '{"type":"AWSService","invokedBy":"%s"}' % inv
        ij = '"%s"' % inv
        return region, record(api.ver, ui, iso(t), api.src, name, region, inv, ij, None, None, J(req), J(resp), None,
                              uuid4(rng), uuid4(rng), True,
                              J([{"accountId": w.acct, "type": "AWS::IAM::Role", "ARN": tgt.issuer}]),
                              "AwsApiCall", True, w.acct, None, None, "Management", None, False)
    if name == "RotateKey":
        k = w.all["key"][rng.randrange(len(w.all["key"]))]
        region = k[1]
        arn = "arn:aws:kms:%s:%s:key/%s" % (region, w.acct, k[0])
        extra = ',"serviceEventDetails":{"keyId":"%s"}' % k[0]
        return region, record(api.ver, '{"accountId":"%s","invokedBy":"kms.amazonaws.com","type":"AWSService"}' % w.acct,
                              iso(t), api.src, name, region, "kms.amazonaws.com", '"kms.amazonaws.com"', None, None, None,
                              None, None, None, uuid4(rng), False,
                              J([{"accountId": w.acct, "type": "AWS::KMS::Key", "ARN": arn}]),
                              "AwsServiceEvent", True, w.acct, None, extra, "Management", None, False)
    # secretsmanager RotationSucceeded
    s = w.all["secret"][rng.randrange(len(w.all["secret"]))]
    region = s[2]
    return region, record(api.ver, '{"accountId":"%s","invokedBy":"secretsmanager.amazonaws.com","type":"AWSService"}' % w.acct,
                          iso(t), api.src, name, region, "secretsmanager.amazonaws.com", '"secretsmanager.amazonaws.com"',
                          None, None, None, None, J({"SecretId": s[1]}), None, uuid4(rng), False, None,
                          "AwsServiceEvent", True, w.acct, None, None, "Management", None, False)


def console_signin(w, p, api, t, rng):
    ch = p.channels.items[0]
    for c in p.channels.items:
        if c.console:
            ch = c
            break
    ip = ch.ips.pick(rng)
    while ip == "AWS Internal":
        ip = ch.ips.pick(rng)
    ua = ch.uas.pick(rng)
    region = GLOBAL_REGION
    tls = tls_json("signin", region, False)
    if api.name == "GetSigninToken":
        ui, _ = p.ui(t, True)
        return region, record(api.ver, ui, iso(t), api.src, api.name, region, ip, ua, None, None, None,
                              '{"GetSigninToken":"Success"}', None, None, uuid4(rng), False, None, api.etype, True,
                              w.acct, None, None, "Management", tls, False)
    fail = rng.random() < 0.04
    ui = p._ui_cache.get("login")
    if ui is None:
        ui = J({"type": "IAMUser", "principalId": p.principal_id, "arn": p.arn, "accountId": w.acct,
                "userName": p.user_name})
        p._ui_cache["login"] = ui
    d = {"LoginTo": login_to(region), "MobileVersion": "No"}
    if p.mfa and not fail:
        d["MFAIdentifier"] = "arn:aws:iam::%s:mfa/%s" % (w.acct, p.user_name)
        d["MFAUsed"] = "Yes"
    else:
        d["MFAUsed"] = "No"
    return region, record(api.ver, ui, iso(t), api.src, api.name, region, ip, ua, None,
                          '"Failed authentication"' if fail else None, None,
                          '{"ConsoleLogin":"Failure"}' if fail else '{"ConsoleLogin":"Success"}', J(d), None,
                          uuid4(rng), False, None, api.etype, True, w.acct, None, None, "Management", tls, False)


def bg_event(w, p, t, rng):
    """One background call by principal p at time t. Returns (region, eventName, record)."""
    api = p.apis.pick(rng)
    if p.type == "AWSService":
        region, rec = service_event(w, p, api, t, rng)
        return region, api.name, rec
    if api.etype == "AwsConsoleSignIn":
        region, rec = console_signin(w, p, api, t, rng)
        return region, api.name, rec
    chs = p.channels.items
    ch = chs[0] if len(chs) == 1 else p.channels.pick(rng)
    console = ch.console
    if api.glob:
        region = GLOBAL_REGION
    else:
        rs = p.regions
        region = rs.items[0] if len(rs.items) == 1 else rs.pick(rng)
    svc = api.svc
    req, resp, resources, aed = api.gen(w, p, region, t, rng)
    if svc == "s3" and api.name != "ListBuckets":
        region = LAST_BUCKET[0][1]
    ips = ch.ips
    ip = ips.items[0] if len(ips.items) == 1 else ips.pick(rng)
    vpce = None
    if ip == "AWS Internal":
        ua = AWS_INTERNAL_J
        tls = None
    else:
        ua = p.ua_override.get(api.key) if p.ua_override else None
        if ua is None:
            if console and svc == "s3":
                ua = S3CONSOLE_UA
            else:
                uas = ch.uas
                ua = uas.items[0] if len(uas.items) == 1 else uas.pick(rng)
        tls = tls_json(svc, region, p.idx % 3 == 0) if ch.tls else None
        if p.vpce:
            v = p.vpce.get(svc)
            if v is not None:
                ip, vpce = v
    ui, _ = p.ui(t, console)
    ec = em = None
    if rng.random() < p.err_rate:
        ec, em = error_for(api, p.arn, rng)
        resp = None
    rec = record(api.ver, ui, iso(t), api.src, api.name, region, ip, ua, ec, em, req, resp, aed,
                 request_id(rng, svc), uuid4(rng), api.ro, resources, api.etype, not api.data, w.acct, vpce, None,
                 "Data" if api.data else "Management", tls, console and ip != "AWS Internal")
    return region, api.name, rec




def run_account(task):
    seed = task["seed"]
    a = task["account"]
    out = task["out"]
    start = task["start"]
    days = task["days"]
    acct = a["id"]
    w = build_world(seed, a)
    rng = random.Random(derive_seed(seed, "bg", acct))
    rng_alloc = random.Random(derive_seed(seed, "alloc", acct))
    rng_names = random.Random(derive_seed(seed, "names", acct))

    # ---- scenario events
    sc_events = []
    truths = []
    for inst in a["scenarios"]:
        evs, truth = scenarios.generate(w, inst)
        truths.append(truth)
        for i, (t, region, rec, name, eid) in enumerate(evs):
            if not (start <= t < start + days * 86400):
                raise RuntimeError("scenario %s event outside the range" % inst["kind"])
            sc_events.append((t, region, rec, name))
    sc_events.sort(key=lambda e: e[0])

    # ---- how many background records in each window
    ps = w.principals
    nwin = days * 288
    cum_by_how = []
    tot_by_how = []
    for how in range(168):
        ws = [p.rate * p.profile[how] for p in ps]
        c = list(accumulate(ws))
        cum_by_how.append(c)
        tot_by_how.append(c[-1])
    wweights = []
    for wi in range(nwin):
        t = start + wi * WINDOW
        how = ((t - MONDAY0) // 3600) % 168
        wweights.append(tot_by_how[how] * rng_alloc.lognormvariate(0.0, 0.3))
    counts = allocate_exact(a["background"], wweights)

    # ---- generate and write
    per_action = {}
    per_region = {}
    files = 0
    nbytes = 0
    nrec = 0
    made_dirs = set()
    si = 0
    nsc = len(sc_events)
    pending = 0
    base = os.path.join(out, "AWSLogs", acct, "CloudTrail")
    for wi in range(nwin):
        ws_ = start + wi * WINDOW
        we = ws_ + WINDOW
        n = counts[wi]
        if n == 0 and (si >= nsc or sc_events[si][0] >= we):
            continue
        buckets = {}
        if n:
            how = ((ws_ - MONDAY0) // 3600) % 168
            cum = cum_by_how[how]
            tot = tot_by_how[how]
            last = len(ps) - 1
            for k in range(n):
                i = bisect_right(cum, rng.random() * tot)
                p = ps[i if i <= last else last]
                t = ws_ + rng.randrange(WINDOW)
                region, name, rec = bg_event(w, p, t, rng)
                lst = buckets.get(region)
                if lst is None:
                    lst = buckets[region] = []
                lst.append((t, k, rec))
                per_action[name] = per_action.get(name, 0) + 1
        k = n
        while si < nsc and sc_events[si][0] < we:
            t, region, rec, name = sc_events[si]
            lst = buckets.get(region)
            if lst is None:
                lst = buckets[region] = []
            lst.append((t, k, rec))
            k += 1
            per_action[name] = per_action.get(name, 0) + 1
            si += 1
        st = stamp(we)
        for region in sorted(buckets):
            lst = buckets[region]
            lst.sort()
            d = os.path.join(base, region, st[0:4], st[4:6], st[6:8])
            if d not in made_dirs:
                os.makedirs(d, exist_ok=True)
                made_dirs.add(d)
            fname = "%s_CloudTrail_%s_%s_%s.json.gz" % (acct, region, st, rand_chars(rng_names, ALNUM, 16))
            body = '{"Records":[' + ",".join([x[2] for x in lst]) + "]}"
            gz = gzip.compress(body.encode("utf-8"), compresslevel=6, mtime=0)
            with open(os.path.join(d, fname), "wb") as f:
                f.write(gz)
            files += 1
            nbytes += len(gz)
            nrec += len(lst)
            per_region[region] = per_region.get(region, 0) + len(lst)
        pending += k
        if _progress is not None and pending >= 2000:
            with _progress.get_lock():
                _progress.value += pending
            pending = 0
    if _progress is not None and pending:
        with _progress.get_lock():
            _progress.value += pending
    assert si == nsc
    expected = a["background"] + sum(s["n"] for s in a["scenarios"])
    if nrec != expected:
        raise RuntimeError("account %s: wrote %d records, planned %d" % (acct, nrec, expected))
    principals = [{"arn": p.arn, "type": p.type, "kind": p.kind} for p in ps if p.arn]
    return {"account": acct, "bank": a["bank"], "index": a["index"], "records": nrec, "files": files,
            "bytes": nbytes, "per_action": per_action, "per_region": per_region, "truth": truths,
            "principals": principals}


# ---------------------------------------------------------------- the other sources

def _net_truth(w, d, times, info):
    from .netscen import finding
    from .util import iso as iso_
    t = {"scenario": d["kind"], "source": d["source"], "bank": w.bank, "account": w.acct,
         "region": info.get("region"), "principal": d.get("principal"), "access_key": None, "src_ip": d["ip"],
         "start": iso_(min(times)), "end": iso_(max(times)), "event_ids": [], "records": len(times),
         "expected_finding": finding(d)}
    for k, v in info.items():
        if k not in ("region", "principal", "src_ip_internal"):
            t[k] = v
    if "src_ip_internal" in info:  # DNS: the asker is the instance itself
        t["src_ip"] = info["src_ip_internal"]
    desc = {
        "port_scan": "%s probed %d ports of %s (%s, ENI %s), most rejected" % (
            d["ip"], len(info.get("dst_ports", [])), info.get("instance_id"), info.get("dst_ip"), info.get("eni")),
        "ssh_bruteforce": "%s opened %d SSH connections to %s (%s) in %d minutes" % (
            d["ip"], len(times) // 2, info.get("instance_id"), info.get("dst_ip"), (max(times) - min(times)) // 60 + 1),
        "dns_exfiltration": "%s (%s) sent %d long high-entropy queries under %s" % (
            info.get("instance_id"), info.get("src_ip_internal"), len(times), d.get("domain")),
        "s3_access_mass_download": "%s downloaded %d objects of s3://%s from %s within %d minutes" % (
            d.get("principal"), info.get("objects", 0), info.get("bucket"), d["ip"], (max(times) - min(times)) // 60 + 1),
        "rds_bruteforce": "%d failed password logins for %s on %s (%s) from %s%s" % (
            d.get("fails", 0), d.get("user"), info.get("db_instance"), info.get("db_engine"), d["ip"],
            ", then a successful login" if d.get("success") else ""),
    }[d["kind"]]
    t["description"] = desc
    return t


def scenario_render(w, d):
    """(times, info) of a non-CloudTrail scenario, rendered from its plan."""
    from . import vpcflow, dns, s3access, rds as rdsmod
    f = {"vpcflow": vpcflow.scenario_records, "route53": dns.scenario_lines, "s3access": s3access.scenario_lines,
         "rds": rdsmod.scenario_entries}[d["source"]]
    recs, info = f(w, d)
    return [r[0] for r in recs], info


def run_task(x):
    """One (account, source) of the plan. CloudTrail goes through run_account."""
    task = x["task"]
    src = task["source"]
    if src == "cloudtrail":
        r = run_account({"seed": x["seed"], "account": task, "out": x["out"], "start": x["start"], "days": x["days"]})
        r["source"] = "cloudtrail"
        for t in r["truth"]:
            t["source"] = "cloudtrail"
        return r
    from .srcutil import Out
    from . import vpcflow, dns, s3access, rds as rdsmod, http, guardduty, config
    w = build_world(x["seed"], task)
    out = Out(x["out"])
    seed, start, days = x["seed"], x["start"], x["days"]
    extra = {}
    truths = []
    if src == "guardduty":
        infos = []
        for d in task["net_scenarios"]:
            times, info = scenario_render(w, d)
            infos.append((d, times, info))
        stats, fs = guardduty.run(w, task, out, seed, start, days, infos, task["ct_scenarios"])
        extra["finding_ids"] = {}
        ids_by_sc = [d["id"] for d in task["net_scenarios"]] + [d["id"] for d in task["ct_scenarios"]
                                                                 if d["kind"] in guardduty.CT_GD]
        for sid, (_, f) in zip(ids_by_sc, fs):
            extra["finding_ids"][sid] = f["id"]
    elif src == "config":
        stats, ctruth = config.run(w, task, out, seed, start, days, task["ct_scenarios"])
        extra["config_truth"] = ctruth
    else:
        mod = {"vpcflow": vpcflow.run, "route53": dns.run, "s3access": s3access.run, "rds": rdsmod.run,
               "elb": http.run_elb, "cloudfront": http.run_cloudfront}[src]
        stats, infos = mod(w, task, out, seed, start, days)
        for d, times, info in infos:
            tr = _net_truth(w, d, times, info)
            tr["_id"] = d["id"]
            truths.append(tr)
    expected = task.get("fixed_total", task["background"] + sum(d["n"] for d in task["scenarios"]))
    if out.records != expected:
        raise RuntimeError("%s account %s: wrote %d records, planned %d" % (src, task["id"], out.records, expected))
    if _progress is not None:
        with _progress.get_lock():
            _progress.value += out.records
    res = {"source": src, "account": task["id"], "bank": task["bank"], "index": task["index"], "records": out.records,
           "files": out.files, "bytes": out.bytes, "stats": stats, "truth": truths}
    res.update(extra)
    return res
