#!/usr/bin/env python3
"""Check a tools/gen output directory: python3 tools/genlib/verify.py DIR

Verifies file layout, gzip/JSON validity, ordering, exact summary counts,
unique eventIDs, truth references, and that the background never does what
only scenarios do. Prints a few realism statistics. Exit status 1 on failure.
"""

import gzip
import ipaddress
import json
import os
import re
import sys
from collections import Counter

NAME = re.compile(r"^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_([A-Za-z0-9]{16})\.json\.gz$")
SCENARIO_ONLY = {"StopLogging", "DeleteTrail", "UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy",
                 "DeleteBucketPublicAccessBlock", "AttachUserPolicy"}


def main(d):
    errors = []

    def err(msg):
        if len(errors) < 50:
            errors.append(msg)

    summary = json.load(open(os.path.join(d, "summary.json")))
    if "per_source" in summary and "cloudtrail" in summary["per_source"]:
        ct = summary["per_source"]["cloudtrail"]
        summary = dict(summary, records=ct["records"], files=ct["files"], bytes_gz=ct["bytes"], per_bank=ct["per_bank"],
                       per_account=ct["per_account"])
    org = json.load(open(os.path.join(d, "org.json")))
    acct_bank = {a["id"]: b["id"] for b in org["banks"] for a in b["accounts"]}
    truth = [json.loads(x) for x in open(os.path.join(d, "truth.jsonl"))]
    truth_ids = {}
    for t in truth:
        for e in t["event_ids"]:
            truth_ids[e] = t
    threat = []
    for line in open(os.path.join(d, "threat-list.txt")):
        line = line.split("#")[0].strip()
        if line:
            threat.append(ipaddress.ip_network(line if "/" in line else line + "/32"))

    ids = set()
    per_bank, per_acct, per_action = Counter(), Counter(), Counter()
    files = 0
    nbytes = 0
    found_truth = {}
    stats = Counter()
    import calendar
    import time
    root = os.path.join(d, "AWSLogs")
    for dirpath, dirs, fnames in os.walk(root):
        dirs.sort()
        for fn in sorted(fnames):
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, root).split(os.sep)
            if len(rel) > 1 and rel[1] != "CloudTrail":
                continue  # other sources: counted in summary.json's per_source, not checked here
            m = NAME.match(fn)
            if not m or len(rel) != 7 or rel[1] != "CloudTrail":
                err("bad path %s" % path)
                continue
            acct, region, st = m.group(1), m.group(2), m.group(3)
            if rel[0] != acct or rel[2] != region or rel[3:6] != [st[0:4], st[4:6], st[6:8]]:
                err("path/name mismatch %s" % path)
            raw = open(path, "rb").read()
            files += 1
            nbytes += len(raw)
            if raw[4:8] != b"\0\0\0\0":
                err("gzip mtime not 0 in %s" % path)
            doc = json.loads(gzip.decompress(raw))
            recs = doc["Records"]
            wend = calendar.timegm(time.strptime(st, "%Y%m%dT%H%MZ"))
            prev = ""
            for r in recs:
                stats["records"] += 1
                eid = r["eventID"]
                if eid in ids:
                    err("duplicate eventID %s" % eid)
                ids.add(eid)
                if r["recipientAccountId"] != acct or r["awsRegion"] != region:
                    err("record in wrong file %s" % eid)
                et = r["eventTime"]
                if et < prev:
                    err("unsorted %s" % path)
                prev = et
                tt = calendar.timegm(time.strptime(et, "%Y-%m-%dT%H:%M:%SZ"))
                if not (wend - 300 <= tt < wend):
                    err("eventTime %s outside window of %s" % (et, fn))
                per_bank[acct_bank[acct]] += 1
                per_acct[acct] += 1
                per_action[r["eventName"]] += 1
                for k in ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                          "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "eventID",
                          "readOnly", "eventType", "managementEvent", "recipientAccountId", "eventCategory"):
                    if k not in r:
                        err("missing %s in %s" % (k, eid))
                ui = r["userIdentity"]
                t = truth_ids.get(eid)
                if t is not None:
                    found_truth[eid] = True
                    if ui.get("arn") != t["principal"]:
                        err("truth principal mismatch %s" % eid)
                    if t["access_key"] and r["eventName"] != "ConsoleLogin" and ui.get("accessKeyId") != t["access_key"]:
                        err("truth access key mismatch %s" % eid)
                    if r["sourceIPAddress"] != t["src_ip"]:
                        err("truth src_ip mismatch %s" % eid)
                    continue
                # ---- background only below
                stats["bg"] += 1
                ua = r["userAgent"]
                name = r["eventName"]
                rp = r["requestParameters"] or {}
                if ui.get("type") == "Root":
                    err("background root usage %s" % eid)
                if "kali" in ua.lower():
                    err("background kali UA %s" % eid)
                if name in SCENARIO_ONLY:
                    err("background scenario-only API %s %s" % (name, eid))
                if "AdministratorAccess" in json.dumps(rp) and name.startswith("Attach"):
                    err("background admin attach %s" % eid)
                if name == "AuthorizeSecurityGroupIngress" and ("0.0.0.0/0" in json.dumps(rp) or "::/0" in json.dumps(rp)):
                    err("background open SG %s" % eid)
                if name == "PutBucketPublicAccessBlock" and "false" in json.dumps(rp):
                    err("background BPA false %s" % eid)
                if name == "CreateAccessKey" and rp.get("userName") != ui.get("userName"):
                    err("background CreateAccessKey for other %s" % eid)
                ip = r["sourceIPAddress"]
                try:
                    a = ipaddress.ip_address(ip)
                    stats["ip_v%d" % a.version] += 1
                    if any(a in n for n in threat if n.version == a.version):
                        err("background threat IP %s %s" % (ip, eid))
                    if ui.get("type") in ("IAMUser", "FederatedUser") or "AWSReservedSSO" in ui.get("arn", ""):
                        if name != "ConsoleLogin" and ui.get("userName", "").startswith("svc-") is False:
                            stats["human_ip"] += 1
                            if a.version == 6:
                                stats["human_ip6"] += 1
                except ValueError:
                    stats["ip_nonip"] += 1
                if r.get("errorCode") or r.get("errorMessage"):
                    stats["errors"] += 1
                stats["type_" + (ui.get("type") or "none")] += 1
                stats["cat_" + r["eventCategory"]] += 1
    # ---- compare with summary
    if summary["records"] != stats["records"]:
        err("summary records %d != %d" % (summary["records"], stats["records"]))
    if summary["files"] != files:
        err("summary files %d != %d" % (summary["files"], files))
    if summary["bytes_gz"] != nbytes:
        err("summary bytes %d != %d" % (summary["bytes_gz"], nbytes))
    if dict(per_bank) != {k: v for k, v in summary["per_bank"].items() if v}:
        err("per_bank mismatch %s vs %s" % (dict(per_bank), summary["per_bank"]))
    if dict(per_acct) != summary["per_account"]:
        err("per_account mismatch")
    if dict(per_action) != summary["per_action"]:
        err("per_action mismatch")
    for k, v in summary["per_action_top"].items():
        if per_action[k] != v:
            err("per_action_top mismatch %s" % k)
    missing = [e for e in truth_ids if e not in found_truth]
    if missing:
        err("%d truth event ids not found, e.g. %s" % (len(missing), missing[0]))
    kinds = Counter(t["scenario"] for t in truth)
    for b in org["banks"]:
        ks = {t["scenario"] for t in truth if t["bank"] == b["id"] and t.get("source", "cloudtrail") == "cloudtrail"}
        if len(ks) != 13:
            err("bank %s has %d scenario kinds" % (b["id"], len(ks)))
    bg = max(1, stats["bg"])
    print("records %d  files %d  bytes %d (%.0f B/record)  scenario instances %d  kinds %d" % (
        stats["records"], files, nbytes, nbytes / max(1, stats["records"]), len(truth), len(kinds)))
    print("background: errors %.2f%%  non-IP sources %.1f%%  IPv6 %.2f%% of all, %.1f%% of human calls  data events %.1f%%" % (
        100.0 * stats["errors"] / bg, 100.0 * stats["ip_nonip"] / bg, 100.0 * stats["ip_v6"] / bg,
        100.0 * stats["human_ip6"] / max(1, stats["human_ip"]), 100.0 * stats["cat_Data"] / bg))
    print("identity types: " + ", ".join("%s %d" % (k[5:], v) for k, v in sorted(stats.items()) if k.startswith("type_")))
    if errors:
        print("FAILED:")
        for e in errors:
            print("  " + e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
