"""Retention throughput: `secq retention apply` (archive, then delete with tombstones),
`secq verify` after it, `secq compact`, and restoring the archive with `secq ingest`, on months of generated CloudTrail and VPC
flow records (tools/bench --retention)."""

import datetime
import json
import os
import shutil

from .util import StepError, fmt_bytes, fmt_s, log, md_table, run, run_measured

POLICY = {"default": {"cloudtrail": "30d", "vpcflow": "14d", "*": "365d"}}


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def generate(gen, records, days, seed, out):
    """tools/gen for CloudTrail and VPC flow over `days`, reused when summary.json matches."""
    summary_path = os.path.join(out, "summary.json")
    if os.path.exists(summary_path):
        s = json.load(open(summary_path))
        if s.get("records") == records and s.get("seed") == seed and s.get("days") == days:
            log("retention data: reusing %s" % out)
            return s
        shutil.rmtree(out)
    log("retention data: tools/gen --out %s --records %d --sources cloudtrail,vpcflow --days %d --seed %d"
        % (out, records, days, seed))
    run([gen, "--out", out, "--records", str(records), "--sources", "cloudtrail,vpcflow", "--days", str(days),
         "--seed", str(seed)], "tools/gen")
    s = json.load(open(summary_path))
    s.setdefault("days", days)
    return s


def run_retention(a, gen):
    data = os.path.join(a.data, "retention")
    summary = generate(gen, a.retention_records, a.retention_days, a.seed, data)
    store = a.store
    archive = os.path.join(a.data, "retention-archive")
    for d in (store, archive):
        if os.path.exists(d):
            if d == store and os.listdir(d) and not os.path.isdir(os.path.join(d, "catalog")):
                raise StepError("store: %s is not a secq store; refusing to delete it" % d)
            shutil.rmtree(d)
    run([a.secq, "init", "--store", store, "--org", os.path.join(data, "org.json")], "secq init")
    out, _, wall, _, _ = run_measured([a.secq, "ingest", "--store", store, "--json", "--no-progress", "--no-projections",
                                       os.path.join(data, "AWSLogs")], "secq ingest")
    stored = json.loads(out.strip().splitlines()[-1]).get("stored") or 0
    log("retention: ingest stored %d events in %s" % (stored, fmt_s(wall)))
    with open(os.path.join(store, "retention.json"), "w") as f:
        json.dump(POLICY, f)
    start = datetime.datetime.strptime(summary.get("start", "2026-11-01"), "%Y-%m-%d")
    as_of = (start + datetime.timedelta(days=a.retention_days)).strftime("%Y-%m-%dT00:00:00Z")
    before = tree_bytes(store)

    log("retention: apply --as-of %s (policy %s)" % (as_of, json.dumps(POLICY)))
    out, _, apply_wall, apply_rss, _ = run_measured(
        [a.secq, "retention", "apply", "--store", store, "--archive", archive, "--as-of", as_of, "--json",
         "--no-progress"], "secq retention apply")
    banks = [json.loads(x) for x in out.splitlines() if x.strip().startswith("{")]
    deleted = sum(b.get("events_deleted", 0) for b in banks)
    moved = sum(b.get("events_moved", 0) for b in banks)
    archive_bytes = sum(b.get("archive_bytes", 0) for b in banks)
    log("retention: apply deleted %d events (moved %d) in %s; archive %s" % (deleted, moved, fmt_s(apply_wall),
                                                                              fmt_bytes(archive_bytes)))
    if deleted == 0:
        raise StepError("retention apply deleted nothing: the data does not span the policy")

    _, _, verify_wall, _, _ = run_measured([a.secq, "verify", "--store", store], "secq verify")
    _, _, averify_wall, _, _ = run_measured([a.secq, "archive", "verify", archive], "secq archive verify")
    out, _, compact_wall, _, _ = run_measured([a.secq, "compact", "--store", store, "--format", "json"], "secq compact")
    rows = [json.loads(x) for x in out.splitlines() if x.strip().startswith("{")]
    bytes_before = sum(r.get("bytes_before", 0) for r in rows)
    bytes_after = sum(r.get("bytes_after", 0) for r in rows)
    log("retention: compact %s -> %s in %s" % (fmt_bytes(bytes_before), fmt_bytes(bytes_after), fmt_s(compact_wall)))

    out, _, restore_wall, restore_rss, _ = run_measured(
        [a.secq, "ingest", "--store", store, "--json", "--no-progress", "--no-projections", archive], "secq ingest (archive)")
    restored = json.loads(out.strip().splitlines()[-1])
    # "quarantined" also counts events kept but flagged as dated in the future (the
    # generated months may end after today): only what was stored is checked.
    if restored.get("stored") != deleted or restored.get("duplicates"):
        raise StepError("restoring the archive stored %s of %d events (%s duplicates)"
                        % (restored.get("stored"), deleted, restored.get("duplicates")))
    log("retention: restore stored %d events in %s" % (deleted, fmt_s(restore_wall)))
    run([a.secq, "verify", "--store", store], "secq verify (after restore)")
    return {"records": summary["records"], "days": a.retention_days, "stored": stored, "ingest_wall": wall,
            "as_of": as_of, "store_bytes_before": before, "apply": {
                "wall": apply_wall, "rss": apply_rss, "deleted": deleted, "moved": moved,
                "archive_bytes": archive_bytes, "banks": banks},
            "verify_wall": verify_wall, "archive_verify_wall": averify_wall,
            "compact": {"wall": compact_wall, "bytes_before": bytes_before, "bytes_after": bytes_after},
            "restore": {"wall": restore_wall, "rss": restore_rss, "events": deleted}}


def render(r):
    ap, c, rs = r["apply"], r["compact"], r.get("restore")
    mb = 1e6
    return ("\n\n## Retention apply and compact\n\n%s events (%d days of CloudTrail and VPC flow), policy `%s`, "
            "`--as-of %s`; each step timed on its own.\n\n" % ("{:,}".format(r["stored"]), r["days"],
                                                                 json.dumps(POLICY), r["as_of"])) + md_table(
        ["step", "wall", "work", "rate"],
        [["ingest (for scale)", fmt_s(r["ingest_wall"]), "{:,} events".format(r["stored"]),
          "{:,.0f} events/s".format(r["stored"] / r["ingest_wall"] if r["ingest_wall"] else 0)],
         ["retention apply (archive, delete, tombstones)", fmt_s(ap["wall"]),
          "{:,} events deleted ({:,} moved out of straddling blocks), archive {}".format(
              ap["deleted"], ap["moved"], fmt_bytes(ap["archive_bytes"])),
          "{:,.0f} events/s, {:.1f} MB/s of archive".format(ap["deleted"] / ap["wall"], ap["archive_bytes"] / mb / ap["wall"])],
         ["verify after apply", fmt_s(r["verify_wall"]), "every remaining block and tombstone", ""],
         ["archive verify", fmt_s(r["archive_verify_wall"]), "every archive file's SHA-256", ""],
         ["compact", fmt_s(c["wall"]), "{} -> {}".format(fmt_bytes(c["bytes_before"]), fmt_bytes(c["bytes_after"])),
          "{:.0f} MB/s of store read".format(c["bytes_before"] / mb / c["wall"] if c["wall"] else 0)]]
        + ([["restore: `secq ingest` of the archive", fmt_s(rs["wall"]), "{:,} events, each once".format(rs["events"]),
             "{:,.0f} events/s, {:.1f} MB/s of archive".format(rs["events"] / rs["wall"], ap["archive_bytes"] / mb / rs["wall"])]]
           if rs else [])) + "\n"
