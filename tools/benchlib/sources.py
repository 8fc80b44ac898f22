"""The source-ingest part of tools/bench: VPC flow and ALB access logs from tools/gen
--only, ingested by secq and loaded by DuckDB's read_csv from the same .log.gz files,
each engine's records per second measured in the same run.

secq's figure is end to end: read, inflate, parse, normalise, route to the bank,
encode, compress and commit to the store, with the file-range idempotency a re-run
relies on. DuckDB's is read_csv of the same files into an in-memory table (inflate,
split, type), nothing kept of the raw lines. The answers are cross-checked: row counts
against the generator's summary, and the count of each action (ACCEPT/REJECT for VPC,
the HTTP method for ALB) between the two engines.
"""

import json
import os
import resource
import shutil
import subprocess
import time

from .util import StepError, log, run, run_measured

# ALB access log fields in order (AWS documentation); DuckDB reads them as text.
ALB_COLUMNS = [
    "type", "time", "elb", "client_port", "target_port", "request_processing_time",
    "target_processing_time", "response_processing_time", "elb_status_code",
    "target_status_code", "received_bytes", "sent_bytes", "request", "user_agent",
    "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
    "chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed",
    "redirect_url", "error_reason", "target_port_list", "target_status_code_list",
    "classification", "classification_reason", "conn_trace_id",
]


def generate(gen, kind, records, files, out, seed):
    """tools/gen --only KIND into OUT, reused when its summary matches."""
    summary = os.path.join(out, "summary.json")
    if os.path.exists(summary):
        with open(summary) as f:
            s = json.load(f)
        if s.get("records") == records and s.get("seed") == seed and s.get("only") == kind:
            log("data: reusing %s (%d %s records)" % (out, records, kind))
            return s
    shutil.rmtree(out, ignore_errors=True)
    log("data: tools/gen --only %s --records %d --files %d --out %s" % (kind, records, files, out))
    cmd = [gen, "--only", kind, "--records", str(records), "--files", str(files), "--seed", str(seed),
           "--out", out, "--quiet"]
    run(cmd, "tools/gen --only %s" % kind)
    with open(summary) as f:
        return json.load(f)


def log_files(root):
    found = []
    for d, _, names in os.walk(os.path.join(root, "AWSLogs")):
        found += [os.path.join(d, n) for n in names if n.endswith(".log.gz")]
    return sorted(found)


def secq_ingest(secq, data, store):
    """A fresh store, the generator's org, one timed ingest. Returns the figures."""
    shutil.rmtree(store, ignore_errors=True)
    run([secq, "init", "--store", store, "--org", os.path.join(data, "org.json")], "secq init")
    out, _, wall, rss, cpu = run_measured(
        [secq, "ingest", "--store", store, "--json", "--no-progress", os.path.join(data, "AWSLogs")], "secq ingest")
    s = json.loads(out.strip().splitlines()[-1])
    return {"wall_s": wall, "rss": rss, "cpu_s": cpu, "stored": s["stored"], "quarantined": s["quarantined"],
            "records": s["records"], "rate": s["stored"] / wall if wall > 0 else 0}


def secq_action_counts(secq, store, source):
    out = subprocess.run([secq, "query", "--store", store, "--format", "json",
                          'events | where source == "%s" | stats count() by action' % source],
                         capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in out.splitlines():
        o = json.loads(line)
        counts[o.get("action")] = o["count()"]
    return counts


def duck_load(kind, files):
    """read_csv of the files into a table, timed; returns rate, rows, action counts."""
    import duckdb
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    lst = "[" + ",".join("'%s'" % f.replace("'", "''") for f in files) + "]"
    if kind == "vpcflow":
        sql = ("CREATE TABLE t AS SELECT * FROM read_csv(%s, delim=' ', header=true, "
               "compression='gzip', nullstr='-')" % lst)
        action = "action"
    else:
        cols = "{" + ",".join("'%s':'VARCHAR'" % c for c in ALB_COLUMNS) + "}"
        sql = ("CREATE TABLE t AS SELECT * FROM read_csv(%s, delim=' ', quote='\"', escape='\\', header=false, "
               "compression='gzip', columns=%s, null_padding=true)" % (lst, cols))
        action = "split_part(request, ' ', 1)"
    t = time.perf_counter()
    con.execute(sql)
    el = time.perf_counter() - t
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    counts = dict(con.execute("SELECT %s AS a, count(*) FROM t GROUP BY a" % action).fetchall())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    con.close()
    return {"wall_s": el, "rows": rows, "rate": rows / el if el > 0 else 0, "actions": counts, "rss": rss}


def store_bytes(path):
    total = 0
    for d, _, names in os.walk(path):
        total += sum(os.path.getsize(os.path.join(d, n)) for n in names)
    return total


def bench_secq(a, kind, records, files):
    """Generates the data and ingests it with secq; returns a result row (DuckDB to come)."""
    data = os.path.join(a.data, "src-" + kind)
    summary = generate(os.path.join(a.repo, "tools/gen"), kind, records, files, data, a.seed)
    paths = log_files(data)
    if not paths:
        raise StepError("tools/gen --only %s wrote no .log.gz files under %s" % (kind, data))
    raw = sum(os.path.getsize(p) for p in paths)
    store = os.path.join(data, "bench.secq-store")
    log("secq: ingest %d %s records (%d files, %.0f MB gzip)" % (records, kind, len(paths), raw / 1e6))
    s = secq_ingest(a.secq, data, store)
    s["store_bytes"] = store_bytes(store)
    source = "vpcflow" if kind == "vpcflow" else "alb"
    s_actions = secq_action_counts(a.secq, store, source)
    row = {"source": kind, "records": records, "files": len(paths), "gzip_bytes": raw, "secq": s,
           "secq_actions": s_actions, "mismatch": [], "paths": paths, "expected": summary["records"]}
    if s["stored"] != summary["records"]:
        row["mismatch"].append("secq stored %d of %d records" % (s["stored"], summary["records"]))
    if not a.keep_store:
        shutil.rmtree(store, ignore_errors=True)
    return row


def bench_duckdb(row):
    """DuckDB's read_csv of the same files. Runs after every secq ingest: a child forked
    from a Python process holding DuckDB's memory would report that memory as its own
    peak RSS (ru_maxrss counts the pages between fork and exec)."""
    log("duckdb: read_csv of the same %d files" % len(row["paths"]))
    d = duck_load(row["source"], row["paths"])
    row["duckdb"] = d
    if d["rows"] != row["expected"]:
        row["mismatch"].append("duckdb read %d of %d rows" % (d["rows"], row["expected"]))
    s_actions = row["secq_actions"]
    if {k: v for k, v in d["actions"].items() if k} != {k: v for k, v in s_actions.items() if k}:
        row["mismatch"].append("action counts differ: secq %s, duckdb %s" % (s_actions, d["actions"]))
