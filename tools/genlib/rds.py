"""RDS database logs as downloaded or exported, one folder per DB instance:

  PostgreSQL  rds/<account>/<db-instance-id>/postgresql.log.YYYY-MM-DD-HH
              log_line_prefix '%t:%r:%u@%d:[%p]:', one file per hour; a record is one
              prefixed entry, statements continue on tab-indented lines.
  MySQL/MariaDB  rds/<account>/<db-instance-id>/audit/server_audit.log.N
              MariaDB audit plugin CSV (timestamp,serverhost,username,host,connectionid,
              queryid,operation,database,object,retcode), one file per day, N = day
              number from 0.

Clients are the account's instances that talk to the database in the VPC flow logs
(same private addresses); users are the application's, its read-only user, the
master user and the migrations user.
"""

import random
import time

from .util import derive_seed
from .srcutil import scenario_stream, window_counts, profile
from .netscen import rng_for

WINDOW = 3600
STATEMENTS = [
    "SELECT a.id, a.iban, a.balance, a.currency\n\tFROM accounts a\n\tWHERE a.customer_id = {n}\n\tORDER BY a.id",
    "SELECT t.id, t.amount, t.booked_at, t.counterparty\n\tFROM transactions t\n\tWHERE t.account_id = {n}\n\t  AND t.booked_at >= now() - interval '30 days'\n\tORDER BY t.booked_at DESC\n\tLIMIT 100",
    "UPDATE payments SET status = 'SETTLED', settled_at = now() WHERE id = {n}",
    "INSERT INTO audit_log (actor, action, object_id, at) VALUES ('svc', 'payment.submit', {n}, now())",
    "SELECT count(*) FROM sessions WHERE expires_at < now()",
    "DELETE FROM idempotency_keys\n\tWHERE created_at < now() - interval '2 days'",
    "WITH recent AS (\n\t  SELECT customer_id, sum(amount) AS total\n\t  FROM transactions\n\t  WHERE booked_at > now() - interval '1 day'\n\t  GROUP BY customer_id\n\t)\n\tSELECT * FROM recent WHERE total > {n}",
]
APPS = ["psql", "PostgreSQL JDBC Driver", "pgx", "psycopg", "[unknown]"]


def pg_ts(t):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def pg(t, host, port, user, db, pid, level, msg):
    r = "%s(%d)" % (host, port) if host else ""
    return "%s:%s:%s@%s:[%d]:%s:  %s" % (pg_ts(t), r, user, db, pid, level, msg)


def my(t, d, user, host, conn, qid, op, db, obj, rc):
    serverhost = "ip-" + d.ip.replace(".", "-")
    return "%s,%s,%s,%s,%d,%d,%s,%s,%s,%d" % (time.strftime("%Y%m%d %H:%M:%S", time.gmtime(t)), serverhost, user,
                                            host, conn, qid, op, db, obj, rc)


def pg_session(d, rng, t, budget):
    """One client session: list of (t, entry)."""
    c = d.clients[rng.randrange(len(d.clients))]
    user = d.users[0] if rng.random() < 0.7 else d.users[1 + (rng.random() < 0.1) * 2]
    db = d.app.replace("-", "_")
    pid = 1000 + rng.randrange(60000)
    port = 32768 + rng.randrange(28000)
    out = [(t, pg(t, c.ip, port, "[unknown]", "[unknown]", pid, "LOG",
                  "connection received: host=%s port=%d" % (c.ip, port)))]
    out.append((t, pg(t, c.ip, port, user, db, pid, "LOG",
                      "connection authorized: user=%s database=%s application_name=%s SSL enabled (protocol=TLSv1.3, "
                      "cipher=TLS_AES_256_GCM_SHA384, bits=256)" % (user, db, APPS[rng.randrange(len(APPS))]))))
    k = rng.randrange(5)
    for _ in range(k):
        t += rng.randrange(1, 120)
        s = STATEMENTS[rng.randrange(len(STATEMENTS))].replace("{n}", str(rng.randrange(10 ** 6)))
        out.append((t, pg(t, c.ip, port, user, db, pid, "LOG",
                          "duration: %.3f ms  statement: %s" % (200 + rng.random() * 4000, s))))
    dur = rng.randrange(1, 900)
    t += dur
    out.append((t, pg(t, c.ip, port, user, db, pid, "LOG",
                      "disconnection: session time: %d:%02d:%02d.%03d user=%s database=%s host=%s port=%d" % (
                          dur // 3600, dur // 60 % 60, dur % 60, rng.randrange(1000), user, db, c.ip, port))))
    if rng.random() < 0.05:
        out.insert(0, (t, pg(t, "", 0, "", "", 400 + rng.randrange(100), "LOG",
                             "checkpoint complete: wrote %d buffers (%.1f%%); 0 WAL file(s) added, 0 removed, 1 recycled"
                             % (rng.randrange(2000), rng.random() * 10))))
    return out[:budget]


def my_session(d, rng, t, budget):
    c = d.clients[rng.randrange(len(d.clients))]
    user = d.users[0] if rng.random() < 0.7 else d.users[1]
    db = d.app.replace("-", "_")
    conn = 100 + rng.randrange(900000)
    out = [(t, my(t, d, user, c.ip, conn, 0, "CONNECT", db, "", 0))]
    qid = rng.randrange(10 ** 7)
    for _ in range(rng.randrange(6)):
        t += rng.randrange(0, 30)
        qid += 1
        s = STATEMENTS[rng.randrange(len(STATEMENTS))].replace("{n}", str(rng.randrange(10 ** 6)))
        s = " ".join(s.replace("\t", " ").split())
        out.append((t, my(t, d, user, c.ip, conn, qid, "QUERY", db, "'%s'" % s.replace("'", "\\'"), 0)))
    t += rng.randrange(1, 600)
    out.append((t, my(t, d, user, c.ip, conn, 0, "DISCONNECT", db, "", 0)))
    return out[:budget]


def scenario_entries(w, d):
    rng = rng_for(d)
    db = [x for x in w.net.dbs if x.id == d["target"]][0]
    out = []
    t = d["t0"]
    user = d["user"]
    dbname = db.app.replace("-", "_") if user != db.users[2] else ("postgres" if db.engine == "postgres" else "")
    ip = d["ip"]
    for _ in range(d["fails"]):
        port = 32768 + rng.randrange(28000)
        pid = 1000 + rng.randrange(60000)
        if db.engine == "postgres":
            out.append((t, pg(t, ip, port, "[unknown]", "[unknown]", pid, "LOG",
                              "connection received: host=%s port=%d" % (ip, port))))
            out.append((t, pg(t, ip, port, user, dbname, pid, "FATAL",
                              'password authentication failed for user "%s"' % user)))
        else:
            out.append((t, my(t, db, user, ip, 100 + rng.randrange(900000), 0, "FAILED_CONNECT", dbname, "", 1045)))
        t += rng.randrange(1, 5)
    if d["success"]:
        t += rng.randrange(5, 60)
        if db.engine == "postgres":
            port = 32768 + rng.randrange(28000)
            pid = 1000 + rng.randrange(60000)
            out.append((t, pg(t, ip, port, "[unknown]", "[unknown]", pid, "LOG",
                              "connection received: host=%s port=%d" % (ip, port))))
            out.append((t, pg(t, ip, port, user, dbname, pid, "LOG",
                              "connection authorized: user=%s database=%s application_name=psql SSL enabled "
                              "(protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)" % (user, dbname))))
            t2 = t + rng.randrange(60, 600)
            out.append((t2, pg(t2, ip, port, user, dbname, pid, "LOG",
                               "disconnection: session time: 0:%02d:%02d.%03d user=%s database=%s host=%s port=%d" % (
                                   (t2 - t) // 60, (t2 - t) % 60, rng.randrange(1000), user, dbname, ip, port))))
        else:
            conn = 100 + rng.randrange(900000)
            out.append((t, my(t, db, user, ip, conn, 0, "CONNECT", dbname, "", 0)))
            out.append((t + 2, my(t + 2, db, user, ip, conn, 1, "QUERY", dbname, "'SELECT user, host FROM mysql.user'", 0)))
            out.append((t + 9, my(t + 9, db, user, ip, conn, 0, "DISCONNECT", dbname, "", 0)))
    assert len(out) == d["n"], (len(out), d["n"])
    info = {"db_instance": db.id, "db_engine": db.engine, "db_user": user, "dst_ip": db.ip, "dst_ports": [db.port],
            "region": db.region, "failed_logins": d["fails"], "succeeded": d["success"],
            "from_inside": bool(d.get("internal"))}
    return [(x[0], db, x[1]) for x in out], info


def run(w, task, out, seed, start, days):
    rng = random.Random(derive_seed(seed, "rds", w.acct))
    dbs = w.net.dbs
    stats = {"per_region": {}, "per_engine": {}}
    sc, infos = scenario_stream(w, task, scenario_entries, ordered=False)
    counts = window_counts(rng, task["background"], start, days, WINDOW, profile(w.tz, 0.4, False))
    # every entry goes to the file of the hour (PostgreSQL) or day (MySQL) of its time;
    # a file is written once no later session can reach it (memory stays bounded)
    files = {}
    for t, d, e in sc:
        _add(files, d, t, e, start)
    end = start + days * 86400
    for k, c in enumerate(counts):
        ws = start + k * WINDOW
        left = c
        while left > 0:
            d = dbs[rng.randrange(len(dbs))]
            t = ws + rng.randrange(WINDOW)
            ents = pg_session(d, rng, t, left) if d.engine == "postgres" else my_session(d, rng, t, left)
            for te, e in ents:
                _add(files, d, min(te, end - 1), e, start)
            left -= len(ents)
        _flush(w, out, files, stats, start, ws - 2 * 3600)
    _flush(w, out, files, stats, start, None)
    return stats, infos


def _flush(w, out, files, stats, start, before):
    for key in sorted(files):
        d, lst = files[key]
        span = 3600 if d.engine == "postgres" else 86400
        if before is not None and key[1] + span > before:
            continue
        del files[key]
        lst.sort(key=lambda x: x[0])
        if d.engine == "postgres":
            rel = "rds/%s/%s/postgresql.log.%s" % (w.acct, d.id, time.strftime("%Y-%m-%d-%H", time.gmtime(key[1])))
        else:
            rel = "rds/%s/%s/audit/server_audit.log.%d" % (w.acct, d.id, (key[1] - start) // 86400)
        out.write(rel, "\n".join(x[1] for x in lst) + "\n", len(lst), gz=False)
        stats["per_region"][d.region] = stats["per_region"].get(d.region, 0) + len(lst)
        stats["per_engine"][d.engine] = stats["per_engine"].get(d.engine, 0) + len(lst)


def _add(files, d, t, e, start):
    if d.engine == "postgres":
        key = (d.id, t - t % 3600)
    else:
        key = (d.id, start + (t - start) // 86400 * 86400)
    files.setdefault(key, (d, []))[1].append((t, e))
