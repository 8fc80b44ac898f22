"""Detection throughput: every detector on (built-ins, built-in rule files, threat list),
timed against the ingest of the same events in the same run (tools/bench --detection,
and a step of tools/bench --analyst)."""

import json
import os
import re
import shutil

from .util import StepError, fmt_bytes, fmt_s, log, md_table, run, run_measured

INPUTS = ["AWSLogs", "rds", "s3-access-logs", "cloudfront"]


def generate(gen, records, seed, out):
    """tools/gen with every source, reused when out/summary.json matches."""
    summary_path = os.path.join(out, "summary.json")
    if os.path.exists(summary_path):
        s = json.load(open(summary_path))
        if s.get("records") == records and s.get("seed") == seed:
            log("detection data: reusing %s (%d records, seed %d)" % (out, records, seed))
            return s
        shutil.rmtree(out)
    log("detection data: tools/gen --out %s --records %d --seed %d (every source)" % (out, records, seed))
    run([gen, "--out", out, "--records", str(records), "--seed", str(seed)], "tools/gen")
    return json.load(open(summary_path))


def detect(secq, store, threat_list, ingest_wall, events):
    """`secq detect` over the whole store, timed; events/s against the ingest's rate."""
    cmd = [secq, "detect", "--store", store]
    if threat_list and os.path.exists(threat_list):
        cmd += ["--threat-list", threat_list]
    log("detection: %s" % " ".join(cmd))
    out, _, wall, rss, cpu = run_measured(cmd, "secq detect")
    read = sum(int(m.group(1)) for m in re.finditer(r": (\d+) events?,", out))
    f, _, _ = run([secq, "findings", "--store", store, "--format", "json"], "secq findings")
    findings = [json.loads(x) for x in f.splitlines() if x.strip()]
    by_detector = {}
    for x in findings:
        by_detector[x["detector"]] = by_detector.get(x["detector"], 0) + 1
    r = {"wall": wall, "rss": rss, "cpu": cpu, "events": read, "findings": len(findings),
         "detectors": len(by_detector), "rate": read / wall if wall else 0,
         "ingest_rate": events / ingest_wall if ingest_wall else 0}
    r["ratio"] = r["rate"] / r["ingest_rate"] if r["ingest_rate"] else 0
    log("detection: %d events in %s = %.0f events/s (ingest %.0f/s, %.2fx); %d findings from %d detectors; peak RSS %s"
        % (read, fmt_s(wall), r["rate"], r["ingest_rate"], r["ratio"], len(findings), len(by_detector), fmt_bytes(rss)))
    if read != events:
        raise StepError("secq detect read %d events, the store holds %d" % (read, events))
    return r


def run_detection(a, gen):
    """Generate every source, ingest (timed), detect (timed)."""
    data = os.path.join(a.data, "detection")
    summary = generate(gen, a.records, a.seed, data)
    store = a.store
    if os.path.exists(store):
        if os.listdir(store) and not os.path.isdir(os.path.join(store, "catalog")):
            raise StepError("store: %s is not a secq store; refusing to delete it" % store)
        shutil.rmtree(store)
    run([a.secq, "init", "--store", store, "--org", os.path.join(data, "org.json")], "secq init")
    cmd = [a.secq, "ingest", "--store", store, "--json", "--no-progress"] + [
        os.path.join(data, d) for d in INPUTS if os.path.isdir(os.path.join(data, d))]
    log("detection: ingest %d records of every source" % summary["records"])
    out, _, wall, rss, _ = run_measured(cmd, "secq ingest")
    js = json.loads(out.strip().splitlines()[-1])
    stored = js.get("stored") or 0
    log("detection: ingest stored %d events in %s (peak RSS %s)" % (stored, fmt_s(wall), fmt_bytes(rss)))
    res = {"records": summary["records"], "ingest": {"wall": wall, "rss": rss, "stored": stored},
           "detection": detect(a.secq, store, os.path.join(data, "threat-list.txt"), wall, stored)}
    return res


def render(d, title="Detection"):
    """A Markdown section for one detection measurement."""
    return ("\n\n## %s\n\n`secq ingest` (projections included), then `secq detect` over the whole store with every "
            "detector on (built-ins, built-in rule files, the threat list), timed apart in the same run.\n\n"
            % title) + md_table(
        ["events", "ingest rate", "detect", "detection rate", "detection ÷ ingest", "keeps up", "findings",
         "detectors that found", "detect peak RSS"],
        [["{:,}".format(d["events"]), "{:,.0f}/s".format(d["ingest_rate"]), fmt_s(d["wall"]),
          "{:,.0f}/s".format(d["rate"]), "%.2f×" % d["ratio"], "yes" if d["ratio"] >= 1 else "no",
          "{:,}".format(d["findings"]), d["detectors"], fmt_bytes(d["rss"])]]) + "\n"
