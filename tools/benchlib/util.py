"""Logging, subprocess and formatting helpers for tools/bench."""

import ipaddress
import os
import subprocess
import sys
import tempfile
import time

T0 = time.perf_counter()


class StepError(Exception):
    """A benchmark step failed; the message says which and why."""


def log(msg):
    sys.stderr.write("[bench %6.1fs] %s\n" % (time.perf_counter() - T0, msg))
    sys.stderr.flush()


def tail(text, n=20):
    lines = (text or "").rstrip().splitlines()
    return "\n".join(lines[-n:])


def run(cmd, step, cwd=None, env=None, check=True, input_text=None):
    """Runs cmd, returns (stdout, stderr, seconds). Raises StepError on failure."""
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, input=input_text, capture_output=True, text=True)
    except OSError as e:
        raise StepError("%s: cannot run %s: %s" % (step, cmd[0], e))
    el = time.perf_counter() - t
    if check and p.returncode != 0:
        raise StepError("%s: `%s` exited %d\n%s" % (step, " ".join(cmd), p.returncode,
                                                     tail(p.stderr or p.stdout)))
    return p.stdout, p.stderr, el


def run_measured(cmd, step, cwd=None):
    """Runs cmd with stdout/stderr to temp files; returns (stdout, stderr, wall s, peak RSS
    bytes, CPU s).

    The peak RSS is the child's own (os.wait4), not the high-water mark of all children.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        try:
            p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        except OSError as e:
            raise StepError("%s: cannot run %s: %s" % (step, cmd[0], e))
        _, status, ru = os.wait4(p.pid, 0)
        el = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        so = out.read().decode("utf-8", "replace")
        se = err.read().decode("utf-8", "replace")
    if p.returncode != 0:
        raise StepError("%s: `%s` exited %d\n%s" % (step, " ".join(cmd), p.returncode, tail(se or so)))
    # ru_maxrss is KiB on Linux
    return so, se, el, ru.ru_maxrss * 1024, ru.ru_utime + ru.ru_stime


def bash_pipeline(script, step):
    """Runs a bash pipeline with pipefail; returns (stdout, seconds)."""
    env = dict(os.environ, LC_ALL="C")
    out, _, el = run(["bash", "-c", "set -euo pipefail\n" + script], step, env=env)
    return out, el


def norm_ip(s):
    """secq's src_ip: the address when sourceIPAddress parses as IPv4/IPv6, else None."""
    if not s:
        return None
    try:
        return ipaddress.ip_address(s).compressed
    except ValueError:
        return None


def fmt_s(sec):
    if sec is None:
        return "—"
    if sec < 1e-3:
        return "%.3f ms" % (sec * 1e3)
    if sec < 0.1:
        return "%.2f ms" % (sec * 1e3)
    if sec < 1:
        return "%.0f ms" % (sec * 1e3)
    if sec < 100:
        return "%.2f s" % sec
    return "%.0f s" % sec


def fmt_rate(n, sec):
    if not sec:
        return ""
    r = n / sec
    if r >= 1e6:
        return "%.2fM rec/s" % (r / 1e6)
    if r >= 1e3:
        return "%.0fk rec/s" % (r / 1e3)
    return "%.0f rec/s" % r


def fmt_ratio(a, b):
    if not a or not b:
        return "—"
    r = a / b
    if r >= 100:
        return "%.0f×" % r
    if r >= 10:
        return "%.1f×" % r
    return "%.2f×" % r


def fmt_bytes(n):
    if n is None:
        return "—"
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return "%.1f %s" % (n / div, unit)
    return "%d B" % n


def md_table(header, rows):
    """A Markdown table with padded columns (readable as text too)."""
    cells = [header] + rows
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]
    def line(r):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])
