"""The DuckDB side of tools/bench: load the CloudTrail .json.gz files into a table, run
the benchmark queries, and pick needles (principal, IP, access key) from the table."""

import json
import os
import resource
import time

from .util import StepError

# One JSON parse per record: Records is read as JSON[] (each record kept as JSON), then
# json_transform pulls the fields out by this structure. Keys absent from a record give
# NULL; keys not named here are ignored. requestParameters / responseElements vary in
# shape from call to call, so they stay JSON.
STRUCTURE = {
    "eventTime": "VARCHAR", "eventSource": "VARCHAR", "eventName": "VARCHAR",
    "awsRegion": "VARCHAR", "sourceIPAddress": "VARCHAR", "userAgent": "VARCHAR",
    "errorCode": "VARCHAR", "eventID": "VARCHAR", "recipientAccountId": "VARCHAR",
    "userIdentity": {k: "VARCHAR" for k in ("type", "arn", "accountId", "accessKeyId",
                                            "userName", "principalId", "invokedBy")},
    "requestParameters": "JSON", "responseElements": "JSON",
}


def lit(s):
    return "'" + str(s).replace("'", "''") + "'"


def glob_of(data_dir):
    return os.path.join(os.path.abspath(data_dir), "AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz")


def load_sql(data_dir):
    """CREATE TABLE ct: the columns the queries need, named as in CloudTrail, plus
    `principal` derived the way secq derives it (CloudTrailNormaliser) and `consoleLogin`
    (responseElements.ConsoleLogin). Empty strings are NULL, as in secq."""
    g = glob_of(data_dir)
    st = json.dumps(STRUCTURE, separators=(",", ":"))
    return f"""CREATE TABLE ct AS
WITH recs AS (
  SELECT json_transform(j, {lit(st)}) AS r
  FROM (SELECT unnest(Records) AS j
        FROM read_json({lit(g)}, format = 'auto', compression = 'gzip',
                       columns = {{'Records': 'JSON[]'}}))
)
SELECT
  TRY_CAST(r.eventTime AS TIMESTAMPTZ)           AS eventTime,
  r.eventSource                                  AS eventSource,
  r.eventName                                    AS eventName,
  r.awsRegion                                    AS awsRegion,
  coalesce(nullif(r.recipientAccountId, ''), nullif(r.userIdentity.accountId, '')) AS account,
  r.userIdentity.type                            AS principalType,
  CASE r.userIdentity.type
    WHEN 'Root' THEN coalesce(nullif(r.userIdentity.arn, ''),
                              'arn:aws:iam::' || coalesce(nullif(r.userIdentity.accountId, ''),
                                                          nullif(r.recipientAccountId, ''), '') || ':root')
    WHEN 'AWSService' THEN coalesce(nullif(r.userIdentity.invokedBy, ''), nullif(r.userIdentity.arn, ''),
                                    nullif(r.userIdentity.userName, ''), nullif(r.userIdentity.principalId, ''))
    ELSE coalesce(nullif(r.userIdentity.arn, ''), nullif(r.userIdentity.userName, ''),
                  nullif(r.userIdentity.principalId, ''))
  END                                            AS principal,
  nullif(r.userIdentity.accessKeyId, '')         AS accessKeyId,
  nullif(r.sourceIPAddress, '')                  AS sourceIPAddress,
  nullif(r.userAgent, '')                        AS userAgent,
  nullif(r.errorCode, '')                        AS errorCode,
  nullif(r.eventID, '')                          AS eventID,
  r.responseElements ->> 'ConsoleLogin'          AS consoleLogin,
  r.requestParameters                            AS requestParameters,
  r.responseElements                             AS responseElements
FROM recs"""


def import_duckdb():
    try:
        import duckdb  # noqa: F401
        return duckdb
    except ImportError:
        raise StepError("duckdb: `import duckdb` failed even after pip install")


class Duck:
    def __init__(self, data_dir, preserve_order=False):
        duckdb = import_duckdb()
        self.duckdb = duckdb
        self.con = duckdb.connect()  # in memory
        self.data_dir = data_dir
        self.preserve_order = preserve_order
        self.threads = self.con.execute("SELECT current_setting('threads')").fetchone()[0]
        self.version = duckdb.__version__
        self.settings = {"threads": self.threads,
                         "memory_limit": self.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]}
        self.con.execute("SET enable_progress_bar = false")
        if not preserve_order:
            # Rows of ct need no order. With the default (true) DuckDB keeps every file's
            # rows in order: over 2 GB of RSS at 100k records in 30k files, and slower.
            self.con.execute("SET preserve_insertion_order = false")
        self.settings["preserve_insertion_order"] = self.con.execute(
            "SELECT current_setting('preserve_insertion_order')").fetchone()[0]

    def load(self):
        sql = load_sql(self.data_dir)
        self.load_sql = sql
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        try:
            self.con.execute(sql)
        except self.duckdb.Error as e:
            raise StepError("DuckDB load failed: %s\nSQL:\n%s" % (str(e)[:2000], sql))
        el = time.perf_counter() - t
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        rss = ru1.ru_maxrss * 1024
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        return {"seconds": el, "cpu_seconds": cpu, "peak_rss_bytes": rss, "rss_before_bytes": rss0}

    def check(self, records):
        n, names, times, ids, distinct_ids = self.con.execute(
            "SELECT count(*), count(eventName), count(eventTime), count(eventID), "
            "count(DISTINCT eventID) FROM ct").fetchone()
        problems = []
        if n != records:
            problems.append("DuckDB has %d rows, the generator wrote %d records" % (n, records))
        if names != n:
            problems.append("%d rows without eventName" % (n - names))
        if times != n:
            problems.append("%d rows whose eventTime did not parse" % (n - times))
        if ids != n or distinct_ids != n:
            problems.append("eventID: %d set, %d distinct of %d rows" % (ids, distinct_ids, n))
        return n, problems

    def columns(self):
        return len(self.con.execute("DESCRIBE ct").fetchall())

    def table_bytes(self):
        try:
            row = self.con.execute("SELECT memory_usage FROM pragma_database_size()").fetchone()
            return row[0] if row else None
        except self.duckdb.Error:
            return None

    def write_file(self, path):
        """Copies ct into a DuckDB database file (untimed) and returns its size in bytes."""
        for p in (path, path + ".wal"):
            if os.path.exists(p):
                os.remove(p)
        self.con.execute("ATTACH %s AS f" % lit(path))
        self.con.execute("CREATE TABLE f.ct AS FROM ct")
        self.con.execute("DETACH f")
        return sum(os.path.getsize(p) for p in (path, path + ".wal") if os.path.exists(p))

    def best_of(self, sql, n):
        best, rows = None, None
        for _ in range(n):
            t = time.perf_counter()
            rows = self.con.execute(sql).fetchall()
            el = time.perf_counter() - t
            best = el if best is None or el < best else best
        return rows, best

    def counts(self, column, where="TRUE"):
        return self.con.execute(
            f"SELECT {column}, count(*) AS n FROM ct WHERE {column} IS NOT NULL AND {where} "
            f"GROUP BY {column} ORDER BY n, {column}").fetchall()

    def action_counts(self):
        return dict(self.con.execute("SELECT eventName, count(*) FROM ct GROUP BY eventName").fetchall())


# The benchmark queries, DuckDB side. Needle queries take the value as a literal.
def needle_sql(column, value):
    return f"SELECT count(*) FROM ct WHERE {column} = {lit(value)}"


TOP_ACTIONS_SQL = ("SELECT eventName, count(*) AS n FROM ct GROUP BY eventName "
                   "ORDER BY n DESC LIMIT 10")

FAILED_LOGINS_SQL = ("SELECT principal, sourceIPAddress, count(*) AS n FROM ct "
                     "WHERE eventName = 'ConsoleLogin' AND (errorCode IS NOT NULL OR consoleLogin = 'Failure') "
                     "GROUP BY principal, sourceIPAddress")
