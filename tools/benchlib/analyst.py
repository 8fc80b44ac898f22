"""The analyst query set of tools/bench (--analyst): the ten analyst tasks of
docs/query.md plus needle look-ups, on secq and on DuckDB, over CloudTrail and VPC flow
logs from tools/gen (at least 10M events together), every answer cross-checked.

secq runs each query as `secq query --timing` in a fresh process (best wall time and
best time inside secq of --runs runs) and with `--repeat` (the best run in one warm
process). DuckDB runs the equivalent SQL on its own tables loaded in memory (ct from the
CloudTrail .json.gz files as tools/bench loads it, vpc from the flow logs by read_csv),
best of --runs. Ratios are DuckDB's time over secq's: above 1 secq is faster.
"""

import datetime
import ipaddress
import json
import os
import re
import shutil

from .util import StepError, fmt_bytes, fmt_s, log, md_table, run, run_measured

FAIL = "(errorCode IS NOT NULL OR consoleLogin = 'Failure')"
RFC1918 = ("(starts_with(srcaddr, '10.') OR starts_with(srcaddr, '192.168.') "
           "OR regexp_matches(srcaddr, '^172\\.(1[6-9]|2[0-9]|3[01])\\.'))")
# secq's src_ip holds addresses only (a service name such as "AWS Internal" goes to src_service).
SRC_IP = "CASE WHEN regexp_matches(sourceIPAddress, '^[0-9a-fA-F:.]+$') THEN sourceIPAddress END"
DENIED = "('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation')"


def lit(s):
    return "'" + str(s).replace("'", "''") + "'"


def queries(needles, now):
    """(key, label, kind, secq query, DuckDB SQL, check). kind: needle, aggregation,
    filter or sequence (see TARGET). check: how answers are compared ("rows": the
    multiset of whole rows; "col:N": column N in order, for top-N with possible ties)."""
    day = now - datetime.timedelta(days=1)
    week = now - datetime.timedelta(days=7)
    ts = lambda t: "TIMESTAMPTZ " + lit(t.strftime("%Y-%m-%d %H:%M:%S+00"))
    p, ip, key, eid = (needles[k]["value"] for k in ("principal", "src_ip", "access_key", "event_id"))
    return [
        ("n_principal", "needle: principal", "needle",
         "events | where principal == %s | stats count()" % json.dumps(p),
         "SELECT count(*) FROM ct WHERE principal = %s" % lit(p), "rows"),
        ("n_src_ip", "needle: src_ip (CloudTrail and VPC flow)", "needle",
         "events | where src_ip == %s | stats count()" % json.dumps(ip),
         "SELECT (SELECT count(*) FROM ct WHERE sourceIPAddress = %s) + (SELECT count(*) FROM vpc WHERE srcaddr = %s)"
         % (lit(ip), lit(ip)), "rows"),
        ("n_event_id", "needle: event_id", "needle",
         "events | where event_id == %s | stats count()" % json.dumps(eid),
         "SELECT count(*) FROM ct WHERE eventID = %s" % lit(eid), "rows"),
        ("t1_failed", "1. failed console logins by user and IP, last 24h", "aggregation",
         'events | since 24h | where action == "ConsoleLogin" and outcome == "failure" '
         '| stats count() as failures by principal, src_ip | sort failures desc | head 10',
         "SELECT principal, sourceIPAddress, count(*) AS n FROM ct WHERE eventTime >= %s AND eventName = 'ConsoleLogin' "
         "AND %s GROUP BY ALL ORDER BY n DESC LIMIT 10" % (ts(day), FAIL), "col:2"),
        ("t2_access_key", "2. every call an access key made", "needle",
         'events | where access_key == %s | fields time, action, src_ip, principal | sort time' % json.dumps(key),
         "SELECT eventTime, eventName, %s, principal FROM ct WHERE accessKeyId = %s ORDER BY eventTime"
         % (SRC_IP, lit(key)), "rows"),
        ("t3_first_call", "3. first time each principal called each API", "aggregation",
         'events | where source == "cloudtrail" and exists(principal) '
         '| stats min(time) as first_seen by principal, action | sort first_seen desc | head 8',
         "SELECT principal, eventName, min(eventTime) AS f FROM ct WHERE principal IS NOT NULL GROUP BY ALL "
         "ORDER BY f DESC LIMIT 8", "col:2"),
        ("t4_talkers", "4. top talkers in VPC flow logs", "aggregation",
         'events | where source == "vpcflow" | stats sum(bytes) as bytes, count() as flows by src_ip, dst_ip '
         '| sort bytes desc | head 5',
         "SELECT srcaddr, dstaddr, sum(bytes) AS b, count(*) AS n FROM vpc GROUP BY ALL ORDER BY b DESC LIMIT 5",
         "rows"),
        ("t5_ssh", "5. rejected traffic to port 22 from outside RFC 1918", "aggregation",
         'events | where source == "vpcflow" and action == "REJECT" and dst_port == 22 '
         'and src_ip not in cidr("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16") '
         '| stats count() as attempts, dc(dst_ip) as targets, min(time) as first by src_ip | sort attempts desc | head 5',
         "SELECT srcaddr, count(*) AS n, count(DISTINCT dstaddr), min(start) FROM vpc WHERE action = 'REJECT' "
         "AND dstport = 22 AND NOT %s GROUP BY srcaddr ORDER BY n DESC LIMIT 5" % RFC1918, "col:1"),
        ("t6_s3_gets", "6. S3 GetObject volume per principal per hour", "aggregation",
         'events | where action == "GetObject" and exists(principal) | stats count() as gets by principal, bin(time, 1h) '
         '| sort gets desc | head 5',
         "SELECT principal, time_bucket(INTERVAL 1 hour, eventTime) AS h, count(*) AS n FROM ct "
         "WHERE eventName = 'GetObject' AND principal IS NOT NULL GROUP BY ALL ORDER BY n DESC LIMIT 5", "col:2"),
        ("t7_root", "7. root activity", "filter",
         'events | where principal_type == "Root" | fields time, account, action, src_ip | sort time desc',
         "SELECT eventTime, account, eventName, %s FROM ct WHERE principalType = 'Root' "
         "ORDER BY eventTime DESC" % SRC_IP, "rows"),
        ("t8_sg_open", "8. security groups opened to 0.0.0.0/0", "filter",
         'events | where action == "AuthorizeSecurityGroupIngress" and raw.requestParameters contains "\\"0.0.0.0/0\\"" '
         '| fields time, account, principal, raw.requestParameters.groupId',
         "SELECT eventTime, account, principal, requestParameters->>'groupId' FROM ct "
         "WHERE eventName = 'AuthorizeSecurityGroupIngress' AND CAST(requestParameters AS VARCHAR) LIKE '%\"0.0.0.0/0\"%'",
         "rows"),
        ("t9_denied", "9. unauthorised API attempts, last 7 days", "aggregation",
         'events | since 7d | where error_code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", '
         '"Client.UnauthorizedOperation") | stats count() as denied, dc(action) as actions by principal, src_ip '
         '| sort denied desc | head 6',
         "SELECT principal, sourceIPAddress, count(*) AS n, count(DISTINCT eventName) AS a FROM ct "
         "WHERE eventTime >= %s AND errorCode IN %s GROUP BY ALL ORDER BY n DESC LIMIT 6" % (ts(week), DENIED), "col:2"),
        ("t10_brute_force", "10. five failed logins then a success from one IP within 10 minutes", "sequence",
         'events | where action == "ConsoleLogin" '
         '| sequence by src_ip within 10m [outcome == "failure"] with runs=5 [outcome == "success"]',
         # The sequence's events (all columns), as secq returns them: a window over each
         # address's logins in time order finds a success whose five predecessors failed,
         # the first of them at most 10 minutes earlier; a self-join fetches the six rows.
         """WITH l AS (
  SELECT *, NOT %s AS ok,
         row_number() OVER (PARTITION BY sourceIPAddress ORDER BY eventTime, eventID) AS rn
  FROM ct WHERE eventName = 'ConsoleLogin' AND sourceIPAddress IS NOT NULL),
w AS (
  SELECT sourceIPAddress, rn, ok, eventTime,
         bool_or(ok) OVER (PARTITION BY sourceIPAddress ORDER BY rn ROWS BETWEEN 5 PRECEDING AND 1 PRECEDING) AS any_ok,
         count(*) OVER (PARTITION BY sourceIPAddress ORDER BY rn ROWS BETWEEN 5 PRECEDING AND 1 PRECEDING) AS before,
         first_value(eventTime) OVER (PARTITION BY sourceIPAddress ORDER BY rn ROWS BETWEEN 5 PRECEDING AND CURRENT ROW) AS t0
  FROM l),
m AS (SELECT sourceIPAddress, rn FROM w WHERE ok AND before = 5 AND NOT any_ok AND eventTime - t0 <= INTERVAL 10 minute)
SELECT m.sourceIPAddress, m.rn, l.eventTime, l.eventID FROM m JOIN l ON l.sourceIPAddress = m.sourceIPAddress
  AND l.rn BETWEEN m.rn - 5 AND m.rn ORDER BY m.sourceIPAddress, m.rn, l.rn""" % FAIL, "sequence"),
    ]


# ---------------------------------------------------------------- answers

def norm(v):
    """One comparable form for both engines' values: times as epoch seconds, integral
    numbers as ints, everything else as text."""
    if v is None:
        return None
    if isinstance(v, datetime.datetime):
        return int(v.timestamp())
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, float)):
        return int(v) if float(v).is_integer() else round(float(v), 6)
    s = str(v)
    if ":" in s and "." not in s[:4] and len(s) <= 45 and not s.startswith("arn:"):
        try:
            return str(ipaddress.ip_address(s))  # IPv6 as written in a log vs canonical
        except ValueError:
            pass
    if len(s) >= 20 and s[4] == "-" and s[10] == "T" and s.endswith("Z"):
        try:
            return int(datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
                       .replace(tzinfo=datetime.timezone.utc).timestamp())
        except ValueError:
            pass
    return s


def compare(check, secq_rows, duck_rows):
    """None when the answers agree, else what differs."""
    if check == "sequence":
        # One secq row per sequence (src_ip, end); DuckDB: six rows per sequence.
        s = sorted((r["src_ip"], norm(r["end"])) for r in secq_rows)
        ends = {}
        for ip, rn, t, _ in duck_rows:
            ends[(ip, rn)] = max(ends.get((ip, rn), 0), norm(t))
        d = sorted((ip, t) for (ip, _), t in ends.items())
        ids_s = sorted(e["event_id"] for r in secq_rows for e in r["events"])
        ids_d = sorted(r[3] for r in duck_rows)
        if s != d:
            return "sequences differ: secq %d %s, DuckDB %d %s" % (len(s), s[:3], len(d), d[:3])
        if ids_s != ids_d:
            return "the sequences' event ids differ"
        return None
    s = [[norm(v) for v in r.values()] for r in secq_rows]
    d = [[norm(v) for v in r] for r in duck_rows]
    if check.startswith("col:"):
        i = int(check[4:])
        s, d = [r[i] for r in s], [r[i] for r in d]
        return None if s == d else "column %d: secq %s, DuckDB %s" % (i, s[:10], d[:10])
    from collections import Counter
    cs, cd = Counter(map(str, s)), Counter(map(str, d))
    if cs != cd:
        return "rows differ: %d rows only in secq %s, %d only in DuckDB %s" % (
            sum((cs - cd).values()), list((cs - cd))[:2], sum((cd - cs).values()), list((cd - cs))[:2])
    return None


# ---------------------------------------------------------------- engines

TIMING = re.compile(r"^\s*([0-9.]+) ms\b", re.M)


def secq_run(a, store, q, now):
    base = [a.secq, "query", "--store", store, "--format", "json", "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--timing"]
    walls, insides, out = [], [], ""
    for _ in range(a.runs):
        out, err, wall = run(base + [q], "secq query %s" % q)
        walls.append(wall)
        m = TIMING.search(err)
        if m:
            insides.append(float(m.group(1)) / 1000)
    _, err, _ = run(base + ["--repeat", str(a.runs), q], "secq query --repeat %s" % q)
    m = TIMING.search(err)
    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
    return {"query": q, "rows": rows, "wall": min(walls), "inside": min(insides) if insides else None,
            "warm": float(m.group(1)) / 1000 if m else None}


def duck_vpc(duck, vpc_files):
    lst = "[" + ",".join(lit(f) for f in vpc_files) + "]"
    sql = ("CREATE TABLE vpc AS SELECT * FROM read_csv(%s, delim=' ', header=true, compression='gzip', nullstr='-')"
           % lst)
    duck.con.execute(sql)
    return duck.con.execute("SELECT count(*) FROM vpc").fetchone()[0]


# ---------------------------------------------------------------- the run

def run_analyst(a, ensure_data, pick_needles, gen_vpc, vpc_files_of):
    """Data, ingest, load, queries; returns the result dict (rows of the table)."""
    from . import duck as duckmod
    summary, files, gz_bytes = ensure_data(a)
    vpc_dir, vpc_summary = gen_vpc(a)
    vpc_files = vpc_files_of(vpc_dir)
    for org in (os.path.join(a.data, "org.json"), os.path.join(vpc_dir, "org.json")):
        if not os.path.exists(org):
            raise StepError("data: %s is missing" % org)
    if json.load(open(os.path.join(a.data, "org.json"))) != json.load(open(os.path.join(vpc_dir, "org.json"))):
        raise StepError("data: the CloudTrail and VPC flow data have different org.json files (different seeds?)")
    total = summary["records"] + vpc_summary["records"]
    res = {"cloudtrail_records": summary["records"], "vpc_records": vpc_summary["records"], "events": total,
           "problems": []}
    if total < 10_000_000:
        log("analyst: %d events in all; the issue's figures are for at least 10M" % total)

    store = a.store
    if os.path.exists(store):
        if os.listdir(store) and not os.path.isdir(os.path.join(store, "catalog")):
            raise StepError("store: %s is not a secq store; refusing to delete it" % store)
        shutil.rmtree(store)
    run([a.secq, "init", "--store", store, "--org", os.path.join(a.data, "org.json")], "secq init")
    cmd = [a.secq, "ingest", "--store", store, "--json", "--no-progress", "--no-projections",
           os.path.join(a.data, "AWSLogs"), os.path.join(vpc_dir, "AWSLogs")]
    log("secq: ingest %d CloudTrail + %d VPC flow records (projections after, timed apart)"
        % (summary["records"], vpc_summary["records"]))
    out, _, wall, rss, _ = run_measured(cmd, "secq ingest")
    js = json.loads(out.strip().splitlines()[-1])
    if js.get("stored") != total:
        res["problems"].append("secq stored %s of %d events" % (js.get("stored"), total))
    res["ingest"] = {"wall": wall, "rss": rss, "stored": js.get("stored")}
    log("secq: stored %s events in %s (peak RSS %s)" % (js.get("stored"), fmt_s(wall), fmt_bytes(rss)))
    res["projections"] = projections(a, store, wall, js.get("stored") or total)
    from . import detection
    res["detection"] = detection.detect(a.secq, store, os.path.join(a.data, "threat-list.txt"), wall,
                                        js.get("stored") or total)

    duck = duckmod.Duck(a.data)
    log("duckdb: loading ct (%d files) and vpc (%d files) in memory" % (len(files), len(vpc_files)))
    ld = duck.load()
    n_vpc = duck_vpc(duck, vpc_files)
    n_ct, p = duck.check(summary["records"])
    res["problems"] += ["DuckDB load: " + x for x in p]
    if n_vpc != vpc_summary["records"]:
        res["problems"].append("DuckDB vpc has %d rows, the generator wrote %d" % (n_vpc, vpc_summary["records"]))
    res["duckdb"] = {"version": duck.version, "threads": duck.threads, "ct_load_seconds": ld["seconds"]}

    last = duck.con.execute("SELECT max(eventTime) FROM ct").fetchone()[0]
    now = (last.astimezone(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
           + datetime.timedelta(days=1))
    res["now"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    needles = pick_needles(a, duck, files)
    res["needles"] = needles
    res["rows"] = []
    for key, label, kind, q, sql, check in queries(needles, now):
        log("analyst %s: %s" % (key, label))
        s = secq_run(a, store, q, now)
        drows, dsec = duck.best_of(sql, a.runs)
        problem = compare(check, s["rows"], drows)
        if problem:
            res["problems"].append("%s: %s" % (label, problem))
        res["rows"].append({"key": key, "label": label, "kind": kind, "secq": q, "sql": sql, "secq_wall": s["wall"],
                            "secq_inside": s["inside"], "secq_warm": s["warm"], "duckdb": dsec,
                            "rows": len(s["rows"]), "problem": problem})
        log("analyst %s: secq %s inside, %s warm; DuckDB %s%s" % (
            key, fmt_s(s["inside"]), fmt_s(s["warm"]), fmt_s(dsec), "; MISMATCH " + problem if problem else ""))
    return res


# The targets: needles (indexed look-ups of a rare value) 20x DuckDB; aggregations
# and group-bys, and the sequence, at least DuckDB's speed. Filters on a common attribute
# (root activity, a raw-JSON match) have no index to use: held to DuckDB's speed too.
def projections(a, store, ingest_wall, events):
    """Every projection caught up from nothing over the whole log, timed against the
    ingest that wrote it; the state's size and bytes per principal."""
    out, _, wall, rss, _ = run_measured([a.secq, "projection", "catch-up", "--store", store, "--no-progress"],
                                        "secq projection catch-up")
    folded = {}
    for line in out.splitlines():
        m = re.match(r"^(\S+) (\S+): .*?(\d+) events folded", line)
        if m:
            folded[m.group(2)] = folded.get(m.group(2), 0) + int(m.group(3))
    st, _, _ = run([a.secq, "projection", "status", "--store", store, "--format", "json"], "secq projection status")
    state = {}
    for line in st.splitlines():
        o = json.loads(line)
        state[o["projection"]] = state.get(o["projection"], 0) + o.get("state_bytes", 0)
    q, _, _ = run([a.secq, "query", "--store", store, "--format", "json",
                   'baselines | where kind == "principal" | stats count() as n'], "secq query baselines")
    principals = json.loads(q.splitlines()[0])["n"] if q.strip() else 0
    r = {"wall": wall, "rss": rss, "events": events, "folded": folded, "state_bytes": state, "principals": principals,
         "rate": events / wall if wall else 0, "ingest_rate": events / ingest_wall if ingest_wall else 0}
    log("projections: the whole log (%d events) in %s = %.0f events/s (ingest %.0f/s); state %s, %d principals"
        % (events, fmt_s(wall), r["rate"], r["ingest_rate"], fmt_bytes(sum(state.values())), principals))
    return r


TARGET = {"needle": 20.0, "aggregation": 1.0, "filter": 1.0, "sequence": 1.0}


def render(res, command, date, loadavg):
    header = ["query", "kind", "rows", "secq wall (CLI)", "secq inside", "secq warm", "DuckDB",
              "DuckDB ÷ secq inside", "DuckDB ÷ secq warm", "target", "answers"]
    out = []
    for r in res["rows"]:
        ratio = lambda x: ("%.2f×" % (r["duckdb"] / x)) if x else "—"
        t = TARGET[r["kind"]]
        best = max((r["duckdb"] / x) for x in (r["secq_inside"], r["secq_warm"]) if x)
        out.append([r["label"], r["kind"], r["rows"], fmt_s(r["secq_wall"]), fmt_s(r["secq_inside"]),
                    fmt_s(r["secq_warm"]), fmt_s(r["duckdb"]), ratio(r["secq_inside"]), ratio(r["secq_warm"]),
                    "≥ %g×: %s" % (t, "met" if best >= t else "missed"),
                    "MISMATCH: " + r["problem"] if r["problem"] else "✓ same answer"])
    head = ("# secq benchmark: the analyst query set\n\n- Command: `%s`\n- Date: %s; nproc %s; load average %.2f at the end\n"
            "- Data: %s CloudTrail records + %s VPC flow records = %s events (tools/gen, one org); `--now %s`\n"
            "- DuckDB %s (threads=%s), tables ct and vpc in memory; best of the runs of `con.execute(sql).fetchall()`\n"
            "- secq: `secq query --timing` in a fresh process (wall: the whole process; inside: the query as secq "
            "times it, opening the banks included) and `--repeat` (warm: the best run in one process, as DuckDB's "
            "table is warm)\n\n" % (command, date, os.cpu_count(), loadavg[0], "{:,}".format(res["cloudtrail_records"]),
                                    "{:,}".format(res["vpc_records"]), "{:,}".format(res["events"]), res["now"],
                                    res["duckdb"]["version"], res["duckdb"]["threads"]))
    p = res.get("projections")
    proj = ""
    if p:
        total = sum(p["state_bytes"].values())
        proj = ("\n\n## Projections\n\n`secq ingest --no-projections`, then `secq projection catch-up` of every projection "
                "over the whole log, timed apart.\n\n" + md_table(
                    ["events", "ingest rate", "projection catch-up", "projection rate", "keeps up", "state", "principals",
                     "state per principal"],
                    [["{:,}".format(p["events"]), "{:,.0f}/s".format(p["ingest_rate"]), fmt_s(p["wall"]),
                      "{:,.0f}/s".format(p["rate"]), "yes" if p["rate"] >= p["ingest_rate"] else "no",
                      fmt_bytes(total) + " (" + ", ".join("%s %s" % (k, fmt_bytes(v)) for k, v in sorted(p["state_bytes"].items())) + ")",
                      "{:,}".format(p["principals"]),
                      fmt_bytes(total / p["principals"]) if p["principals"] else "—"]]) + "\n")
    if res.get("detection"):
        from . import detection
        proj += detection.render(res["detection"])
    sql = proj + "\n\n## Queries\n\n" + "\n".join(
        "### %s\n\n```\n%s\n```\n\n```sql\n%s\n```\n" % (r["label"], r["secq"], r["sql"]) for r in res["rows"])
    return head + md_table(header, out) + "\n" + sql
