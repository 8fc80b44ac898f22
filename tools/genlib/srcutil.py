"""Helpers shared by the non-CloudTrail sources: traffic profiles, exact per-window
counts, file writing with counters, time formats."""

import gzip
import math
import os
import time

from .util import allocate_exact

MONDAY0 = 4 * 86400  # 1970-01-05 00:00 UTC was a Monday


def profile(tz, amp, human):
    """168 weights by UTC hour of week: machine traffic is flat with a daily wave;
    human traffic (customers, staff) follows the bank's local day and week."""
    prof = [0.0] * 168
    for how_local in range(168):
        day, h = divmod(how_local, 24)
        if human:
            v = 0.15 + (1.0 if 7 <= h < 23 else 0.0) * (0.6 + 0.4 * math.sin(math.pi * (h - 7) / 16.0))
            if day >= 5:
                v *= 0.7
        else:
            v = 1.0 + amp * math.cos(2 * math.pi * (h - 14) / 24.0)
            if day >= 5:
                v *= 0.85
        prof[(how_local - tz) % 168] = v
    return prof


def scenario_stream(w, task, make, ordered=True):
    """The labelled scenarios' records of one account, merged: `make(w, d)` gives one
    scenario's (records, info), each record starting with its time. Returns the records
    (in time order when `ordered`) and per scenario (d, its times, info)."""
    sc = []
    infos = []
    for d in task["scenarios"]:
        recs, info = make(w, d)
        sc.extend(recs)
        infos.append((d, [r[0] for r in recs], info))
    if ordered:
        sc.sort(key=lambda x: x[0])
    return sc, infos


def window_counts(rng, total, start, days, win, prof):
    """Exact split of total records over the windows of size win (seconds)."""
    nwin = days * 86400 // win
    ws = []
    for k in range(nwin):
        t = start + k * win
        how = ((t - MONDAY0) // 3600) % 168
        ws.append(prof[how] * rng.lognormvariate(0.0, 0.25))
    return allocate_exact(total, ws)


def stamp_min(t):
    """20261101T1235Z"""
    return time.strftime("%Y%m%dT%H%MZ", time.gmtime(t))


def stamp_sec(t):
    """20261101T123500Z"""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def ymd(t):
    return time.strftime("%Y/%m/%d", time.gmtime(t))


def ymd_nopad(t):
    tm = time.gmtime(t)
    return "%d/%d/%d" % (tm.tm_year, tm.tm_mon, tm.tm_mday)


def iso_ms(t_ms):
    s = t_ms // 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % (t_ms % 1000)


class Out:
    """Writes a source's files and counts them (records, files, bytes)."""

    def __init__(self, root):
        self.root = root
        self.made = set()
        self.files = 0
        self.bytes = 0
        self.records = 0
        self.last = 0

    def write(self, rel, text, nrec, gz=True, level=6):
        path = os.path.join(self.root, rel)
        d = os.path.dirname(path)
        if d not in self.made:
            os.makedirs(d, exist_ok=True)
            self.made.add(d)
        data = text.encode("utf-8")
        if gz:
            data = gzip.compress(data, compresslevel=level, mtime=0)
        with open(path, "wb") as f:
            f.write(data)
        self.files += 1
        self.bytes += len(data)
        self.records += nrec
        self.last = len(data)
