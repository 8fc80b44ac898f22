"""Small deterministic helpers shared by the generator modules.

Nothing here may depend on Python's per-process string hashing (hash(), set
iteration order of strings): every random choice comes from a random.Random
seeded through derive_seed(), so output is byte-identical across runs and
across --jobs values.
"""

import hashlib
import json
import time

ALNUM_UP = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # AWS key ids use base32-ish upper + digits
HEX = "0123456789abcdef"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def J(obj):
    """Compact JSON (the form CloudTrail delivers)."""
    return _dumps(obj)


def derive_seed(*parts):
    """A 64-bit integer seed derived from the master seed and labels."""
    h = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big")


def hash_chars(alphabet, n, *parts):
    """n characters of alphabet, derived by hash (random-access, no RNG state)."""
    h = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=32).digest()
    v = int.from_bytes(h, "big")
    out = []
    m = len(alphabet)
    for _ in range(n):
        v, r = divmod(v, m)
        out.append(alphabet[r])
    return "".join(out)


_tables = {}


def rand_chars(rng, alphabet, n):
    """n random characters of alphabet (ASCII), at C speed via bytes.translate."""
    tb = _tables.get(alphabet)
    if tb is None:
        m = len(alphabet)
        tb = _tables[alphabet] = bytes(ord(alphabet[i % m]) for i in range(256))
    return rng.getrandbits(8 * n).to_bytes(n, "little").translate(tb).decode("ascii")


def uuid4(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20], h[20:])


def hexid(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


# ---------------------------------------------------------------- time

def parse_date(s):
    """YYYY-MM-DD -> epoch seconds at 00:00 UTC."""
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%d"))


_day_cache = {}


def day_prefix(t):
    d = t // 86400
    s = _day_cache.get(d)
    if s is None:
        s = time.strftime("%Y-%m-%d", time.gmtime(d * 86400))
        _day_cache[d] = s
    return s


def iso(t):
    """Epoch seconds -> 2026-11-01T12:34:56Z."""
    r = t % 86400
    return "%sT%02d:%02d:%02dZ" % (day_prefix(t), r // 3600, (r // 60) % 60, r % 60)


def stamp(t):
    """Epoch seconds -> 20261101T1235Z (CloudTrail file name form)."""
    tm = time.gmtime(t)
    return time.strftime("%Y%m%dT%H%MZ", tm)


def human_expiration(t):
    """STS credential expiration as CloudTrail writes it: 'Nov 1, 2026, 6:34:56 PM'."""
    tm = time.gmtime(t)
    h = tm.tm_hour % 12 or 12
    return "%s %d, %d, %d:%02d:%02d %s" % (
        time.strftime("%b", tm), tm.tm_mday, tm.tm_year, h, tm.tm_min, tm.tm_sec,
        "AM" if tm.tm_hour < 12 else "PM")


def s3_date(t):
    return time.strftime("%Y/%m/%d", time.gmtime(t))


# ---------------------------------------------------------------- weighted choice

class Weighted:
    """Weighted choice from a fixed list, using bisect on cumulative weights."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs):
        import itertools
        self.items = [p[0] for p in pairs]
        ws = [float(p[1]) for p in pairs]
        self.cum = list(itertools.accumulate(ws))
        self.total = self.cum[-1] if self.cum else 0.0

    def pick(self, rng, _bisect=__import__("bisect").bisect_right):
        i = _bisect(self.cum, rng.random() * self.total)
        if i >= len(self.items):
            i = len(self.items) - 1
        return self.items[i]

    def __len__(self):
        return len(self.items)


def zipf_weights(rng, n, s=1.1, jitter=0.5):
    ws = [1.0 / ((i + 1) ** s) for i in range(n)]
    return [w * (1.0 + jitter * (rng.random() - 0.5)) for w in ws]


# ---------------------------------------------------------------- IPs

def ip_from_int(v):
    return "%d.%d.%d.%d" % ((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255)


def ip_to_int(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def cidr_host(cidr, idx):
    base, bits = cidr.split("/")
    size = 1 << (32 - int(bits))
    return ip_from_int(ip_to_int(base) + (idx % size))


def cidr_size(cidr):
    return 1 << (32 - int(cidr.split("/")[1]))


def rand_host(rng, cidr, avoid_edges=True):
    n = cidr_size(cidr)
    if avoid_edges and n > 4:
        return cidr_host(cidr, 1 + rng.randrange(n - 2))
    return cidr_host(cidr, rng.randrange(n))


def allocate_exact(total, weights):
    """Exact integer split of total proportional to weights (cumulative rounding)."""
    s = sum(weights)
    out = []
    prev = 0
    acc = 0.0
    for wt in weights:
        acc += wt
        cur = int(total * acc / s + 0.5) if s > 0 else 0
        out.append(cur - prev)
        prev = cur
    if out:
        out[-1] += total - prev
    return out
