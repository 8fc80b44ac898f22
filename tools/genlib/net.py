"""The address plan. Disjoint pools by construction (first octets never shared),
so background traffic can never hit the threat list or an attacker address:

  AWS        EC2 public ranges per region (first octets 3, 13, 18, 34, 44, 52, 54)
  CORPORATE  banks' egress ranges (/28s)
  HOME       employees' home ISP addresses
  ATTACKER   scenario sources: VPS / residential proxies, never in the threat list
  THREAT     threat-list.txt entries (and the malicious_ip_caller scenario sources)
"""

from .util import ip_from_int, rand_host

AWS_RANGES = {
    "us-east-1": ["3.80.0.0/12", "54.144.0.0/14", "44.192.0.0/11", "52.0.0.0/15", "34.192.0.0/12"],
    "eu-west-1": ["34.240.0.0/13", "52.208.0.0/13", "54.72.0.0/15", "3.248.0.0/13"],
    "eu-central-1": ["3.120.0.0/14", "18.184.0.0/15", "52.57.0.0/16", "35.156.0.0/14"],
    "us-west-2": ["34.208.0.0/12", "44.224.0.0/11", "54.184.0.0/13", "52.24.0.0/14"],
    "ap-southeast-1": ["13.212.0.0/15", "18.136.0.0/16", "54.169.0.0/16", "52.74.0.0/16"],
}
CORP_OCTETS = [62, 63, 64, 65, 66, 80, 81, 193, 194, 195, 206, 207, 208, 209, 212, 213, 216, 217]
HOME_OCTETS = [24, 67, 68, 69, 71, 73, 75, 76, 82, 83, 84, 86, 87, 88, 89, 90, 92, 98, 108, 174]
ATTACKER_OCTETS = [5, 31, 37, 45, 46, 91, 95, 103, 139, 141, 146, 154, 157, 159, 167, 176, 178, 179, 185, 188, 190, 196, 197, 200, 201]
THREAT_OCTETS = [77, 78, 79, 93, 94, 109, 171, 175, 180, 181, 186, 187, 189, 191]
CORP_V6 = ["2a02:%x", "2a01:%x", "2001:%x", "2a00:%x", "2600:%x"]


def aws_ip(rng, region):
    lst = AWS_RANGES.get(region) or AWS_RANGES["us-east-1"]
    return rand_host(rng, lst[rng.randrange(len(lst))])


def _from_octets(rng, octets):
    a = octets[rng.randrange(len(octets))]
    return ip_from_int((a << 24) | (rng.randrange(256) << 16) | (rng.randrange(256) << 8) | (1 + rng.randrange(254)))


def home_ip(rng):
    return _from_octets(rng, HOME_OCTETS)


def attacker_ip(rng):
    return _from_octets(rng, ATTACKER_OCTETS)


def threat_ip(rng):
    return _from_octets(rng, THREAT_OCTETS)


def corp_block(rng, prefix=28):
    a = CORP_OCTETS[rng.randrange(len(CORP_OCTETS))]
    size = 1 << (32 - prefix)
    v = (a << 24) | (rng.randrange(256) << 16) | (rng.randrange(256) << 8) | (rng.randrange(256 // size) * size)
    return "%s/%d" % (ip_from_int(v), prefix)


def threat_block(rng, prefix):
    a = THREAT_OCTETS[rng.randrange(len(THREAT_OCTETS))]
    size = 1 << (32 - prefix)
    low = rng.randrange(1 << (32 - 8)) // size * size
    return "%s/%d" % (ip_from_int((a << 24) | low), prefix)


def corp_v6_prefix(rng):
    return (CORP_V6[rng.randrange(len(CORP_V6))] % (0x1000 + rng.randrange(0xe000))) + ":%x" % rng.randrange(0x10000)


def v6_host(rng, prefix48):
    """An address in prefix48::/48 ('2a02:1234:abcd')."""
    return "%s:%x:%x:%x:%x:%x" % (prefix48, rng.randrange(0x10000), rng.randrange(0x10000), rng.randrange(0x10000),
                                  rng.randrange(0x10000), rng.randrange(1, 0x10000))
