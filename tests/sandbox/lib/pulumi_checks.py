"""Checks of the sandbox's Pulumi Service database, run by tests/sandbox/test-standins against a live sandbox:

  python3 tests/sandbox/lib/pulumi_checks.py DIR

Prints "ok   NAME" / "FAIL NAME" (+ indented details) lines, as test-standins does. Everything goes through
the `mariadb` client as the inventory's user (opsdeck, over TCP, password from sandbox.json):

  * sandbox.json's "pulumi" object, the inventory's `pulumi` entry (tagged production), opsdeck's grants;
  * the schema as information_schema reports it: the ten tables, every foreign key and its delete rule
    (CASCADE, and RESTRICT for the circular Stacks.active_update_id), no foreign key on Programs.stack_id,
    the indexes the runbook's queries use;
  * the rows against DIR/pulumi/summary.json: every table's count, the organisations' soft-deleted and
    live stacks, the rows and data keys of soft-deleted stacks, the runbook's read-only queries;
    Programs <-> Stacks 1:1, active_update_id = each stack's newest update, id and data_key formats;
  * behaviour, in transactions rolled back: deleting a Stacks row fails with ERROR 1451 until its
    active_update_id is NULL, then cascades; the runbook's purge (unsharded) removes exactly the moolumi
    and pulumi soft-deleted rows the summary counts; afterwards every table's checksum is as before;
  * another session's query shows in the process list and KILL QUERY ends it;
  * pulumi/seed.py is deterministic (run again into a temp dir, same summary and rows).

Above --stacks 20000 the runbook's purge and the second seed run are left out (minutes at 100000).

The database is left exactly as `up` made it.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.realpath(__file__))
SEED = os.path.join(os.path.dirname(HERE), "pulumi", "seed.py")

# Above this many soft-deleted stacks (a benchmark's sandbox) the slow checks are left out: the runbook's
# whole purge in a transaction and generating the rows again.
BIG = 20000

TABLES = ["Organizations", "Programs", "ProgramUpdates", "Resources", "Stacks", "StackTags", "Updates",
          "UpdateCheckpointInfo", "UpdateLogs", "UpdateEvents"]
# (table, column, referenced table, referenced column, delete rule)
FOREIGN_KEYS = sorted([  # sorted() in Python: the server's ORDER BY is case-insensitive
    ("Programs", "org_id", "Organizations", "id", "CASCADE"),
    ("ProgramUpdates", "program_id", "Programs", "id", "CASCADE"),
    ("Resources", "program_id", "Programs", "id", "CASCADE"),
    ("StackTags", "stack_id", "Stacks", "id", "CASCADE"),
    ("Stacks", "active_update_id", "Updates", "id", "RESTRICT"),
    ("UpdateCheckpointInfo", "update_id", "Updates", "id", "CASCADE"),
    ("UpdateEvents", "update_id", "Updates", "id", "CASCADE"),
    ("UpdateLogs", "update_id", "Updates", "id", "CASCADE"),
    ("Updates", "stack_id", "Stacks", "id", "CASCADE"),
])
# How each table's rows belong to a stack (alias s = its Stacks row, p = its Programs row).
OWNER_JOIN = {
    "Programs": "Programs x JOIN Programs p ON p.id = x.id",
    "ProgramUpdates": "ProgramUpdates x JOIN Programs p ON p.id = x.program_id",
    "Resources": "Resources x JOIN Programs p ON p.id = x.program_id",
    "Stacks": "Stacks x JOIN Programs p ON p.stack_id = x.id",
    "StackTags": "StackTags x JOIN Programs p ON p.stack_id = x.stack_id",
    "Updates": "Updates x JOIN Programs p ON p.stack_id = x.stack_id",
    "UpdateCheckpointInfo": "UpdateCheckpointInfo x JOIN Updates u ON u.id = x.update_id "
                            "JOIN Programs p ON p.stack_id = u.stack_id",
    "UpdateLogs": "UpdateLogs x JOIN Updates u ON u.id = x.update_id JOIN Programs p ON p.stack_id = u.stack_id",
    "UpdateEvents": "UpdateEvents x JOIN Updates u ON u.id = x.update_id JOIN Programs p ON p.stack_id = u.stack_id",
}

# The runbook's queries, verbatim (/work/shared/runbooks/pulumi-purge-soft-deleted.md).
RUNBOOK_COUNTS = """SELECT o.name, count(*) FROM Programs AS p
JOIN Organizations AS o ON p.org_id = o.id
WHERE p.deleted_at > 0 GROUP BY o.name"""
RUNBOOK_DATA_KEYS = """SELECT COUNT(update_checkpoint_info.data_key)
FROM UpdateCheckpointInfo AS update_checkpoint_info
JOIN Updates AS updates ON update_checkpoint_info.update_id = updates.id
JOIN Stacks AS stacks ON updates.stack_id = stacks.id
WHERE stacks.id IN (
    SELECT stack_id FROM Programs AS p
    JOIN Organizations AS o ON p.org_id = o.ID
    WHERE o.github_login IN ("moolumi", "pulumi") AND p.deleted_at > 0
)"""
RUNBOOK_NULL = """UPDATE Stacks, Programs, Organizations
SET Stacks.active_update_id = NULL
WHERE
    Stacks.id = Programs.stack_id AND
    Programs.deleted_at > 0 AND
    Programs.org_id = Organizations.id AND
    Organizations.github_login IN ("moolumi", "pulumi")"""
RUNBOOK_DELETE_STACKS = """DELETE Stacks
FROM Stacks, Programs, Organizations
WHERE
    Stacks.id = Programs.stack_id AND
    Programs.deleted_at > 0 AND
    Programs.org_id = Organizations.id AND
    Organizations.github_login in ("pulumi", "moolumi")"""
RUNBOOK_DELETE_PROGRAMS = """DELETE Programs
FROM Programs, Organizations
WHERE
    Programs.deleted_at > 0 AND
    Programs.org_id = Organizations.id AND
    Organizations.github_login in ("pulumi", "moolumi")"""


class Checks:
    def __init__(self):
        self.failed = 0

    def ok(self, name):
        print("ok   %s" % name, flush=True)

    def bad(self, name, *details):
        self.failed += 1
        print("FAIL %s" % name, flush=True)
        for d in details:
            print("       %s" % str(d)[:2000], flush=True)

    def check(self, name, expected, actual):
        if expected == actual:
            self.ok(name)
        else:
            self.bad(name, "expected: %r" % (expected,), "actual:   %r" % (actual,))


class Db:
    """The mariadb client as opsdeck over TCP. query() runs several statements in one session and returns
    {label: rows} (rows = lists of strings) for the statements after each `@label` marker."""

    def __init__(self, my):
        self.argv = ["mariadb", "--no-defaults", "--protocol=TCP", "-h", my["host"], "-P", str(my["port"]),
                     "-u", my["user"], "--batch", "--skip-column-names", "pulumi"]
        self.env = dict(os.environ, MYSQL_PWD=my["password"])

    def run(self, sql, force=False):
        argv = self.argv + (["--force"] if force else [])
        p = subprocess.run(argv, input=sql, capture_output=True, text=True, env=self.env, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def query(self, parts, force=False):
        """parts: [(label, sql)]; returns ({label: rows}, stderr). Raises if the client failed (without force)."""
        script = "".join("SELECT '@%s';\n%s;\n" % (label, sql) for label, sql in parts)
        rc, out, err = self.run(script, force)
        if rc != 0 and not force:
            raise RuntimeError("mariadb exited %d: %s" % (rc, err.strip()[:2000]))
        res, cur, labels = {}, None, {label for label, _ in parts}
        for line in out.splitlines():
            if line.startswith("@") and line[1:] in labels:
                cur = res.setdefault(line[1:], [])
            elif cur is not None:
                cur.append(line.split("\t"))
        return res, err


def inventory_entry(path, name):
    """The lines of NAME's entry under `databases:` in the inventory (text; no YAML parser in the stdlib)."""
    lines, out, inside = open(path).read().splitlines(), [], False
    for line in lines:
        if re.match(r"^  - name: ", line):
            inside = line == "  - name: %s" % name
        elif not line.startswith("    "):
            inside = False
        if inside:
            out.append(line.strip())
    return out


def main(d):
    with open(os.path.join(d, "sandbox.json")) as f:
        sb = json.load(f)
    c = Checks()
    try:
        run(c, d, sb)
    except Exception as e:  # a broken database or client: a failure, not a traceback
        c.bad("pulumi checks", "%s: %s" % (type(e).__name__, e))
    return 1 if c.failed else 0


def run(c, d, sb):
    print("# pulumi database: sandbox.json, inventory, access", flush=True)
    pu = sb.get("pulumi", {})
    c.check("sandbox.json pulumi", {"database": "pulumi", "stacks": pu.get("stacks"),
                                    "summary": os.path.join(d, "pulumi", "summary.json")}, pu)
    with open(pu["summary"]) as f:
        summary = json.load(f)
    n = pu["stacks"]
    c.check("summary.json: stacks = sandbox.json's, N // 3 live", (n, n // 3),
            (summary["stacks"], summary["liveStacks"]))
    my = sb["mariadb"]
    entry = inventory_entry(os.path.join(d, "inventory.yaml"), "pulumi")
    c.check("inventory: pulumi entry (mysql via bastion, opsdeck, tagged production)",
            ["- name: pulumi", "kind: mysql", "via: bastion", "address: 127.0.0.1", "port: %d" % my["port"],
             "database: pulumi", "user: opsdeck", "passwordEnv: OPSDECK_SANDBOX_MARIADB_PASSWORD",
             "tags: [production]"], entry)
    db = Db(my)
    r, _ = db.query([("grants", "SHOW GRANTS FOR CURRENT_USER"), ("user", "SELECT CURRENT_USER()")])
    c.check("opsdeck over TCP: all privileges on *.* with grant option", True,
            any("GRANT ALL PRIVILEGES ON *.* TO `opsdeck`@`127.0.0.1`" in g[0] and "WITH GRANT OPTION" in g[0]
                for g in r["grants"]))

    print("# pulumi database: schema (information_schema)", flush=True)
    r, _ = db.query([
        ("tables", "SELECT TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'pulumi' "
                   "ORDER BY TABLE_NAME"),
        ("fks", "SELECT k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE "
                "FROM information_schema.REFERENTIAL_CONSTRAINTS r JOIN information_schema.KEY_COLUMN_USAGE k "
                "ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA AND k.TABLE_NAME = r.TABLE_NAME "
                "AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME WHERE r.CONSTRAINT_SCHEMA = 'pulumi' ORDER BY 1, 2"),
        ("stack_id_fk", "SELECT COUNT(*) FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'pulumi' "
                        "AND TABLE_NAME = 'Programs' AND COLUMN_NAME = 'stack_id' "
                        "AND REFERENCED_TABLE_NAME IS NOT NULL"),
        ("children", "SELECT REFERENCED_TABLE_NAME, GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) "
                     "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'pulumi' "
                     "AND DELETE_RULE = 'CASCADE' GROUP BY 1 ORDER BY 1"),
        ("indexes", "SELECT TABLE_NAME, INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) "
                    "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'pulumi' "
                    "AND TABLE_NAME IN ('Programs', 'Organizations') GROUP BY 1, 2 ORDER BY 1, 2"),
        ("columns", "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, IS_NULLABLE, "
                    "IFNULL(COLUMN_DEFAULT, 'none') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'pulumi' "
                    "AND (COLUMN_NAME IN ('id', 'deleted_at', 'active_update_id') OR COLUMN_NAME LIKE '%\\_id') "
                    "ORDER BY 1, 2"),
    ])
    c.check("the ten tables, all InnoDB", sorted([t, "InnoDB"] for t in TABLES), sorted(r["tables"]))
    c.check("foreign keys and delete rules (RESTRICT: Stacks.active_update_id -> Updates)",
            [list(fk) for fk in FOREIGN_KEYS], sorted(r["fks"]))
    c.check("no foreign key on Programs.stack_id", [["0"]], r["stack_id_fk"])
    c.check("cascade children by parent (what a client finds in information_schema)",
            [["Organizations", "Programs"], ["Programs", "ProgramUpdates,Resources"],
             ["Stacks", "StackTags,Updates"], ["Updates", "UpdateCheckpointInfo,UpdateEvents,UpdateLogs"]],
            r["children"])
    c.check("indexes: Programs (org_id, deleted_at), (stack_id); Organizations unique github_login",
            [["Organizations", "PRIMARY", "id"], ["Organizations", "github_login", "github_login"],
             ["Programs", "PRIMARY", "id"], ["Programs", "org_id_deleted_at", "org_id,deleted_at"],
             ["Programs", "stack_id", "stack_id"]], sorted(r["indexes"]))
    cols = {(t, col): rest for t, col, *rest in r["columns"]}
    bad_ids = [k for k, v in cols.items() if k[1] != "deleted_at" and v[0] != "bigint(20)"
               and (v[0], v[1]) != ("varchar(32)", "ascii")]
    c.check("id columns: varchar(32) ascii (BIGINT for UpdateLogs/UpdateEvents)", [], bad_ids)
    c.check("Programs.deleted_at BIGINT NOT NULL DEFAULT 0, Stacks.active_update_id nullable",
            (["bigint(20)", "NULL", "NO", "0"], "YES"),
            (cols.get(("Programs", "deleted_at")), cols.get(("Stacks", "active_update_id"), [None] * 3)[2]))
    c.check("BIGINT ids only in UpdateLogs, UpdateEvents", ["UpdateEvents", "UpdateLogs"],
            sorted(t for (t, col), v in cols.items() if col == "id" and v[0] == "bigint(20)"))

    print("# pulumi database: rows against summary.json", flush=True)
    orgs = {o["github_login"]: o for o in summary["organizations"]}
    parts = [("counts", counts_sql()),
             ("orgs", "SELECT o.github_login, o.name, o.id, COALESCE(SUM(p.deleted_at > 0), 0), "
                      "COALESCE(SUM(p.deleted_at = 0), 0) "
                      "FROM Organizations o LEFT JOIN Programs p ON p.org_id = o.id GROUP BY o.id ORDER BY 1"),
             ("runbook", RUNBOOK_COUNTS),
             ("runbook_keys", RUNBOOK_DATA_KEYS),
             ("keys_by_org", "SELECT o.github_login, COUNT(x.data_key) FROM " + OWNER_JOIN["UpdateCheckpointInfo"]
                             + " JOIN Organizations o ON o.id = p.org_id WHERE p.deleted_at > 0 GROUP BY 1 ORDER BY 1"),
             ("orphans", "SELECT (SELECT COUNT(*) FROM Programs p LEFT JOIN Stacks s ON s.id = p.stack_id "
                         "WHERE s.id IS NULL), (SELECT COUNT(*) FROM Stacks s LEFT JOIN Programs p "
                         "ON p.stack_id = s.id WHERE p.id IS NULL), (SELECT COUNT(*) FROM Programs p "
                         "JOIN Stacks s ON s.id = p.stack_id WHERE s.org_id <> p.org_id), "
                         "(SELECT COUNT(*) - COUNT(DISTINCT stack_id) FROM Programs)"),
             ("active", "SELECT COUNT(*) FROM Stacks s WHERE s.active_update_id IS NULL OR s.active_update_id <> "
                        "(SELECT u.id FROM Updates u WHERE u.stack_id = s.id ORDER BY u.version DESC LIMIT 1)"),
             ("bad_keys", "SELECT COUNT(*) FROM UpdateCheckpointInfo c JOIN Updates u ON u.id = c.update_id "
                          "JOIN Stacks s ON s.id = u.stack_id JOIN Organizations o ON o.id = s.org_id "
                          "WHERE c.data_key <> CONCAT('checkpoints/', o.github_login, '/', s.id, '/', u.id, '.json')"),
             ("bad_ids", " UNION ALL ".join(
                 "SELECT '%s.%s', COUNT(*) FROM %s WHERE %s NOT REGEXP BINARY '^[0-9a-f]{32}$'" % (t, col, t, col)
                 for t, col in [("Organizations", "id"), ("Programs", "id"), ("Programs", "stack_id"),
                                ("ProgramUpdates", "id"), ("Resources", "id"), ("Stacks", "id"),
                                ("Stacks", "active_update_id"), ("Updates", "id"),
                                ("UpdateCheckpointInfo", "id")])),
             ("shards", "SELECT COUNT(DISTINCT LEFT(s.id, 1)) FROM Stacks s JOIN Programs p ON p.stack_id = s.id "
                        "JOIN Organizations o ON o.id = p.org_id "
                        "WHERE o.github_login = 'moolumi' AND p.deleted_at > 0"),
             ("table_rows", "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.tables "
                            "WHERE table_schema = \"pulumi\"")]
    parts += [("soft_" + t, "SELECT o.github_login, COUNT(*) FROM %s JOIN Organizations o ON o.id = p.org_id "
                            "WHERE p.deleted_at > 0 GROUP BY 1 ORDER BY 1" % OWNER_JOIN[t])
              for t in TABLES if t != "Organizations"]
    r, _ = db.query(parts)
    counts = {t: int(v) for t, v in r["counts"]}
    c.check("every table's row count = summary.json tables", summary["tables"], counts)
    c.check("organisations: github_login, name, id, soft-deleted and live stacks = summary.json",
            sorted([o["github_login"], o["name"], o["id"], str(o["softDeleted"]), str(o["live"])]
                   for o in summary["organizations"]),
            r["orgs"])
    c.check("the runbook's first query: soft-deleted stacks by organisation name = summary.json",
            sorted([o["name"], str(o["softDeleted"])] for o in summary["organizations"] if o["softDeleted"]),
            sorted(r["runbook"]))
    if n >= 100:
        share = orgs["moolumi"]["softDeleted"] / n
        c.check("moolumi has ~94%% of the soft-deleted stacks (%.1f%%), pulumi ~5%%, sean-gillespie 4" % (100 * share),
                (True, round(n * 0.05), 4), (0.9 <= share <= 0.96, orgs["pulumi"]["softDeleted"],
                                             orgs["sean-gillespie"]["softDeleted"]))
        c.check("every organisation has soft-deleted and live stacks", [],
                [o["github_login"] for o in summary["organizations"] if not (o["softDeleted"] and o["live"])])
    for t in TABLES:
        if t == "Organizations":
            continue
        want = sorted([login, str(o["softDeletedRows"][t])] for login, o in orgs.items()
                      if o["softDeletedRows"][t])
        got = r["soft_" + t]
        total = sum(int(v) for _, v in got)
        if want == got and total == summary["softDeletedRows"][t]:
            c.ok("%s: rows of soft-deleted stacks by organisation = summary.json (%d)" % (t, total))
        else:
            c.bad("%s: rows of soft-deleted stacks by organisation = summary.json" % t,
                  "expected: %r (total %r)" % (want, summary["softDeletedRows"][t]), "actual:   %r" % got)
    per_stack = sum(summary["softDeletedRows"].values()) / max(n, 1)
    if n >= 100:
        c.check("about 47 rows per soft-deleted stack (%.1f)" % per_stack, True, 40 <= per_stack <= 55)
    c.check("data keys of soft-deleted stacks by organisation = summary.json",
            sorted([login, str(o["softDeletedDataKeys"])] for login, o in orgs.items() if o["softDeletedDataKeys"]),
            r["keys_by_org"])
    c.check("the runbook's data-key count (moolumi, pulumi) = summary.json",
            [[str(orgs["moolumi"]["softDeletedDataKeys"] + orgs["pulumi"]["softDeletedDataKeys"])]],
            r["runbook_keys"])
    c.check("Programs <-> Stacks 1:1 (no Programs without Stacks, no Stacks without Programs, same org)",
            [["0", "0", "0", "0"]], r["orphans"])
    c.check("Stacks.active_update_id = the stack's newest update, for every stack", [["0"]], r["active"])
    c.check("data_key = checkpoints/<github_login>/<stack id>/<update id>.json", [["0"]], r["bad_keys"])
    c.check("ids are 32 lowercase hex digits", [], [k for k, v in r["bad_ids"] if v != "0"])
    if orgs["moolumi"]["softDeleted"] >= 100:
        c.check("moolumi's soft-deleted stacks fall in all 16 shards (first hex digit)", [["16"]], r["shards"])
    est = {t: int(v or 0) for t, v in r["table_rows"]}
    off = {t: (est.get(t), counts[t]) for t in TABLES if not 0.5 * counts[t] <= est.get(t, 0) <= 1.5 * counts[t]}
    c.check("information_schema TABLE_ROWS (the runbook's baseline) within 50% of the counts", {}, off)

    print("# pulumi database: delete rules (rolled back)", flush=True)
    checksum_sql = "CHECKSUM TABLE " + ", ".join(TABLES) + " EXTENDED"
    before, _ = db.query([("sum", checksum_sql)])
    victim = None
    if n:
        r, _ = db.query([("v", "SELECT p.stack_id, p.id, s.active_update_id FROM Programs p "
                               "JOIN Stacks s ON s.id = p.stack_id JOIN Organizations o ON o.id = p.org_id "
                               "WHERE o.github_login = 'moolumi' AND p.deleted_at > 0 ORDER BY p.stack_id LIMIT 1")])
        victim = r["v"][0] if r["v"] else None
    if victim:
        sid, pid, active = victim
        own = [(t, "SELECT COUNT(*) FROM %s WHERE p.stack_id = '%s'" % (OWNER_JOIN[t], sid))
               for t in TABLES if t != "Organizations"]
        r, err = db.query(
            [("own", " UNION ALL ".join("SELECT '%s', (%s)" % (t, q) for t, q in own)),
             ("begin", "START TRANSACTION"),
             ("del1", "DELETE FROM Stacks WHERE id = '%s'" % sid),
             ("after1", "SELECT COUNT(*), @@in_transaction FROM Stacks WHERE id = '%s'" % sid),
             ("null", "UPDATE Stacks SET active_update_id = NULL WHERE id = '%s'" % sid),
             ("del2", "DELETE FROM Stacks WHERE id = '%s'; SELECT ROW_COUNT()" % sid),
             ("left_s", counts_sql()),
             ("delp", "DELETE FROM Programs WHERE id = '%s'" % pid),
             ("left_p", counts_sql()),
             ("rollback", "ROLLBACK"),
             ("back", "SELECT active_update_id FROM Stacks WHERE id = '%s'" % sid)], force=True)
        own = {t: int(v) for t, v in r.get("own", [])}
        errors = [l for l in err.splitlines() if l.startswith("ERROR")]
        c.check("DELETE of a Stacks row with active_update_id set: ERROR 1451, row kept, transaction open",
                (1, True, [["1", "1"]]),
                (len(errors), bool(errors) and errors[0].startswith("ERROR 1451 (23000)"), r.get("after1")))
        c.check("after active_update_id = NULL the DELETE succeeds (1 row)", [["1"]], r.get("del2"))
        stack_tables = ["Stacks", "StackTags", "Updates", "UpdateCheckpointInfo", "UpdateLogs", "UpdateEvents"]
        want = {t: counts[t] - (own.get(t, 0) if t in stack_tables else 0) for t in TABLES}
        c.check("it cascades to Updates, UpdateCheckpointInfo, UpdateLogs, UpdateEvents, StackTags; "
                "Programs and its children stay", want, {t: int(v) for t, v in r.get("left_s", [])})
        want.update({t: counts[t] - own.get(t, 0) for t in ("Programs", "ProgramUpdates", "Resources")})
        c.check("DELETE of its Programs row cascades to ProgramUpdates, Resources", want,
                {t: int(v) for t, v in r.get("left_p", [])})
        c.check("rolled back: active_update_id is back", [[active]], r.get("back"))

    if victim and n > BIG:
        print("# skipped at --stacks > %d: the runbook's purge (rolled back)" % BIG, flush=True)
    elif victim:
        # The runbook's purge, unsharded, in one transaction: exactly moolumi's and pulumi's soft-deleted rows go.
        t0 = time.monotonic()
        r, err = db.query([("begin", "START TRANSACTION"), ("null", RUNBOOK_NULL),
                           ("stacks", RUNBOOK_DELETE_STACKS), ("programs", RUNBOOK_DELETE_PROGRAMS),
                           ("left", counts_sql()),
                           ("rollback", "ROLLBACK")])
        purged = {t: orgs["moolumi"]["softDeletedRows"][t] + orgs["pulumi"]["softDeletedRows"][t] for t in TABLES}
        c.check("the runbook's purge (UPDATE, DELETE Stacks, DELETE Programs) leaves tables - moolumi/pulumi "
                "soft-deleted rows (%.2fs, rolled back)" % (time.monotonic() - t0),
                {t: counts[t] - purged[t] for t in TABLES}, {t: int(v) for t, v in r["left"]})
    elif n:
        c.bad("a soft-deleted moolumi stack to delete (rolled back)", "none found")
    after, _ = db.query([("sum", checksum_sql), ("counts", counts_sql())])
    c.check("every table's checksum as before (the data is as `up` made it)", before["sum"], after["sum"])
    c.check("every table's row count still = summary.json",
            summary["tables"], {t: int(v) for t, v in after["counts"]})

    print("# pulumi database: process list and KILL QUERY", flush=True)
    tag = "opsdeck-pulumi-checks-%d" % os.getpid()
    sleeper = subprocess.Popen(db.argv + ["-e", "SELECT '%s', SLEEP(20)" % tag], env=db.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qid = None
        deadline = time.monotonic() + 5
        while qid is None and time.monotonic() < deadline:
            r, _ = db.query([("p", "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%%''%s''%%' "
                                   "AND INFO NOT LIKE '%%PROCESSLIST%%'" % tag)])
            qid = r["p"][0][0] if r["p"] else None
            if qid is None:
                time.sleep(0.05)
        if qid is None:
            c.bad("another session's query shows in information_schema.PROCESSLIST", "not found in 5 s")
        else:
            t0 = time.monotonic()
            rc, _, err = db.run("KILL QUERY %s" % qid)
            try:
                out, serr = sleeper.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                out, serr = "<still running>", ""
            c.check("KILL QUERY <id> from the process list ends that query at once (sleeper: %s)"
                    % (out.strip() or serr.strip())[:80], (0, True), (rc, time.monotonic() - t0 < 3))
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()

    if n > BIG:
        print("# skipped at --stacks > %d: seed.py deterministic" % BIG, flush=True)
        return
    print("# pulumi seed: deterministic", flush=True)
    with tempfile.TemporaryDirectory(prefix="pulumi-seed.") as tmp:
        p = subprocess.run([sys.executable, SEED, "--out", tmp, "--stacks", str(n)], capture_output=True, text=True)
        if p.returncode != 0:
            c.bad("seed.py --stacks %d again" % n, p.stderr.strip())
        else:
            same = [f for f in sorted(os.listdir(tmp)) if f != "load.sql"
                    and digest(os.path.join(tmp, f)) != digest(os.path.join(d, "pulumi", f))]
            c.check("seed.py --stacks %d again: the same summary.json and rows" % n, [], same)


def counts_sql():
    return " UNION ALL ".join("SELECT '%s', COUNT(*) FROM %s" % (t, t) for t in TABLES)


def digest(path):
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as e:
        return str(e)
    return h.hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: pulumi_checks.py DIR")
    sys.exit(main(sys.argv[1]))
