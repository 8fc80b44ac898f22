"""The jq side of tools/bench: zcat every .json.gz file through jq, once per question."""

import re
import shlex

from .util import bash_pipeline, norm_ip

# secq's principal (CloudTrailNormaliser) in jq; nz: a non-empty string, else null.
JQ_DEFS = r'''
def nz: if type == "string" and length > 0 then . else null end;
def principal:
  (.userIdentity | if type == "object" then . else null end) as $u
  | if $u == null then null
    elif $u.type == "Root" then (($u.arn | nz)
         // ("arn:aws:iam::" + (($u.accountId | nz) // (.recipientAccountId | nz) // "") + ":root"))
    elif $u.type == "AWSService" then (($u.invokedBy | nz) // ($u.arn | nz) // ($u.userName | nz) // ($u.principalId | nz))
    else (($u.arn | nz) // ($u.userName | nz) // ($u.principalId | nz)) end;
def failed: ((.errorCode | nz) != null)
  or ((.responseElements | if type == "object" then .ConsoleLogin else null end) == "Failure");
'''

NEEDLE_EXPR = {
    "principal": "principal",
    "src_ip": ".sourceIPAddress",
    "access_key": ".userIdentity.accessKeyId?",
    "event_id": ".eventID",
}


def cat_files(aws_logs):
    q = shlex.quote(aws_logs)
    return f"find {q} -name '*.json.gz' -print0 | xargs -0 zcat"


def floor(aws_logs):
    script = f"{cat_files(aws_logs)} | jq -c '.Records[]' | wc -l"
    out, el = bash_pipeline(script, "jq floor")
    return int(out.strip()), el, script


def needle(aws_logs, field, value):
    prog = JQ_DEFS + f".Records[] | select({NEEDLE_EXPR[field]} == $v)"
    script = f"{cat_files(aws_logs)} | jq -c --arg v {shlex.quote(value)} {shlex.quote(prog)} | wc -l"
    out, el = bash_pipeline(script, "jq needle %s" % field)
    return int(out.strip()), el, script


def top_actions(aws_logs):
    script = (f"{cat_files(aws_logs)} | jq -r '.Records[].eventName' | sort | uniq -c "
              f"| sort -rn | awk 'NR <= 10'")
    out, el = bash_pipeline(script, "jq top actions")
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\s*(\d+) (.*)$", line)
        if m:
            rows.append((m.group(2), int(m.group(1))))
    return rows, el, script


def failed_logins(aws_logs):
    prog = JQ_DEFS + ('.Records[] | select(.eventName == "ConsoleLogin" and failed) '
                      '| [principal, .sourceIPAddress] | @tsv')
    script = f"{cat_files(aws_logs)} | jq -r {shlex.quote(prog)} | sort | uniq -c"
    out, el = bash_pipeline(script, "jq failed console logins")
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\s*(\d+) (.*)$", line)
        if m:
            parts = m.group(2).split("\t")
            principal = parts[0] or None
            ip = norm_ip(parts[1]) if len(parts) > 1 else None
            rows.append((principal, ip, int(m.group(1))))
    return rows, el, script
