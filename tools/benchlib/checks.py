"""Answer checks for tools/bench: do secq, DuckDB and jq give the same answers?"""

from collections import Counter

from .util import norm_ip


def group_rows(rows):
    """(principal, src_ip, n) rows -> Counter keyed by (principal, normalised IP)."""
    c = Counter()
    for p, ip, n in rows:
        c[(p or None, norm_ip(ip))] += int(n)
    return c


def top_ok(rows, truth, k=10):
    """rows: [(action, count)] claimed top k; truth: {action: count}. Ties at the
    boundary may be broken either way, so check counts, not names, against the truth."""
    want = sorted(truth.values(), reverse=True)[:k]
    if [n for _, n in rows] != want:
        return False
    return all(truth.get(a) == n for a, n in rows)


def describe_needle(answers):
    """answers: {engine: count}. Returns (ok, text)."""
    vals = {k: v for k, v in answers.items() if v is not None}
    if not vals:
        return True, ""
    if len(set(vals.values())) == 1:
        n = next(iter(vals.values()))
        return True, "✓ %d (%s)" % (n, ", ".join(vals)) if len(vals) > 1 else "%d (secq only)" % n
    return False, "MISMATCH " + ", ".join("%s=%s" % kv for kv in vals.items())
