"""--only vpcflow|alb: N records of one source in a few large .log.gz files, for
benchmarks. The account is the first of the first bank (org.json is written as
usual); file k of K holds records k*N/K .. (k+1)*N/K - 1, drawn from its own seeded
stream, so the output does not depend on --jobs. Streamed through zlib: memory stays
small whatever N is."""

import random
import zlib

from .util import derive_seed, hexid
from .world import build_world
from .srcutil import stamp_min, ymd

CHUNK = 50000


def _writer(path):
    f = open(path, "wb")
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    return f, c


def run_file(x):
    """Write one file; returns (relative path, records, bytes)."""
    import os
    from . import vpcflow, http
    seed, task, k, n, start, days, out, source = (x["seed"], x["task"], x["k"], x["n"], x["start"], x["days"],
                                                   x["out"], x["source"])
    w = build_world(seed, task)
    rng = random.Random(derive_seed(seed, "bulk", source, k))
    span = days * 86400
    acct = w.acct
    if source == "vpcflow":
        g = vpcflow.Gen(w, rng, v5_override=False)
        v = w.net.vpcs[0]
        region = v.region
        rel = "AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%s.log.gz" % (
            acct, region, ymd(start + span), acct, region, v.flow_log, stamp_min(start + span), "%08x" % (k + 1))
        header = vpcflow.V2_HEADER + "\n"
    else:
        lbs = [lb for lb in w.net.lbs if lb.kind == "app"]
        lb = lbs[0]
        region = lb.region
        clients = http.Clients(w, rng)
        rel = "AWSLogs/%s/elasticloadbalancing/%s/%s/%s_elasticloadbalancing_%s_app.%s.%s_%s_%s_%s.log.gz" % (
            acct, region, ymd(start + span), acct, region, lb.name, lb.id, stamp_min(start + span), lb.nodes[0],
            hexid(rng, 8))
        header = ""
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    f, c = _writer(path)
    size = 0
    if header:
        b = c.compress(header.encode())
        f.write(b)
        size += len(b)
    done = 0
    nchunks = max(1, (n + CHUNK - 1) // CHUNK)
    win = max(1, span // nchunks)
    ci = 0
    while done < n:
        m = min(CHUNK, n - done)
        ws = start + ci * win
        if source == "vpcflow":
            recs = []
            g.records(ws, win, m, recs)
            recs.sort(key=lambda r: r[0])
            text = "\n".join([r[2] for r in recs]) + "\n"
        else:
            internal = w.net.instances
            ts = sorted(ws + rng.randrange(win) for _ in range(m))
            text = "\n".join([http.alb_line(w, lb, rng, t, clients, internal)[0] for t in ts]) + "\n"
        b = c.compress(text.encode())
        f.write(b)
        size += len(b)
        done += m
        ci += 1
    b = c.flush()
    f.write(b)
    size += len(b)
    f.close()
    return rel, n, size


def plan_files(n, files):
    return [n * (k + 1) // files - n * k // files for k in range(files)]

