#!/usr/bin/python3
"""Seed the sandbox's Pulumi Service database: rows for the tables of schema.sql (beside this file) as
tab-separated files for LOAD DATA, the script that loads them, and a JSON summary of exact counts.

    seed.py --out DIR --stacks N

writes DIR/<Table>.tsv for every table, DIR/load.sql (schema + LOAD DATA LOCAL INFILE, one session;
run it with `mariadb --local-infile=1 pulumi < DIR/load.sql`) and DIR/summary.json (last, atomically).

N is the number of soft-deleted stacks (Programs.deleted_at > 0); N // 3 live stacks come on top. The
output is a pure function of N (a random generator seeded with it, times from a fixed epoch), so tests
can rely on exact counts. N = 0 gives the organisations only.

Per stack (1:1 Programs <-> Stacks, Stacks.id = Programs.stack_id), on average 47 rows:
  Programs 1, ProgramUpdates 3 (one per update), Resources 7 (3-11),
  Stacks 1, StackTags 2, Updates 3 (1-5; Stacks.active_update_id = the newest),
  UpdateCheckpointInfo 3 (one per update), UpdateLogs 21 (4-10 per update), UpdateEvents 6 (1-3 per update).

Organisations: moolumi, pulumi, sean-gillespie, acme-corp, globex, initech. Soft-deleted stacks:
sean-gillespie 4, acme-corp 3, globex 2, initech 1, pulumi 5 % of N (at least 1), moolumi the rest
(~94 %). Below N = 40: one each in the order moolumi, pulumi, sean-gillespie, acme-corp, globex,
initech, the rest to moolumi. Live stacks go round-robin over all six, moolumi and pulumi four times
as often as the others. Organisations' stacks are interleaved (shuffled) and every id is random, so
each first hex digit of Stacks.id or Programs.id (the runbook's shards) holds about a sixteenth of
each organisation's stacks, and a stack's child rows are spread over the child tables' keys.

Standard library only (Debian's python3).
"""

import argparse
import json
import os
import random
import sys

TABLES = {
    # table: columns, in the order of the TSV fields
    "Organizations": ("id", "name", "github_login", "created_at"),
    "Programs": ("id", "org_id", "stack_id", "project_name", "stack_name", "created_at", "deleted_at"),
    "ProgramUpdates": ("id", "program_id", "version", "kind", "result", "created_at"),
    "Resources": ("id", "program_id", "urn", "type"),
    "Stacks": ("id", "org_id", "name", "active_update_id", "created_at"),
    "StackTags": ("stack_id", "name", "value"),
    "Updates": ("id", "stack_id", "version", "kind", "result", "started_at", "ended_at"),
    "UpdateCheckpointInfo": ("id", "update_id", "data_key", "created_at"),
    "UpdateLogs": ("id", "update_id", "line"),
    "UpdateEvents": ("id", "update_id", "seq", "kind", "created_at"),
}

# Tables whose rows start with a random hex id (their primary key or its first column).
SORTED = {"Organizations", "Programs", "ProgramUpdates", "Resources", "Stacks", "StackTags", "Updates",
          "UpdateCheckpointInfo"}
HEX = "0123456789abcdef"

# (github_login, name); the first three are the runbook's.
ORGS = [("moolumi", "Moolumi"), ("pulumi", "Pulumi"), ("sean-gillespie", "Sean Gillespie"),
        ("acme-corp", "Acme Corp"), ("globex", "Globex"), ("initech", "Initech")]
FIXED_SOFT_DELETED = {"sean-gillespie": 4, "acme-corp": 3, "globex": 2, "initech": 1}
LIVE_CYCLE = ["moolumi", "pulumi", "sean-gillespie", "acme-corp", "globex", "initech",
              "moolumi", "pulumi", "moolumi", "pulumi", "moolumi", "pulumi"]

PROJECTS = ["website", "api", "infra", "networking", "data-pipeline", "k8s-cluster", "auth",
            "billing", "monitoring", "ml-platform", "frontend", "backend", "serverless", "dns",
            "vpc", "eks", "aks", "gke", "static-site", "queue-workers"]
ENVS = ["dev", "staging", "prod", "test", "qa", "pr", "sandbox", "demo", "perf", "canary"]
RUNTIMES = ["nodejs", "python", "go", "dotnet", "java", "yaml"]
TYPES = ["aws:s3/bucket:Bucket", "aws:ec2/instance:Instance", "aws:iam/role:Role",
         "aws:lambda/function:Function", "aws:ec2/securityGroup:SecurityGroup",
         "aws:rds/instance:Instance", "azure-native:storage:StorageAccount",
         "gcp:compute/instance:Instance", "kubernetes:apps/v1:Deployment",
         "kubernetes:core/v1:Service", "kubernetes:core/v1:ConfigMap", "random:index/randomId:RandomId",
         "pulumi:providers:aws", "pulumi:providers:kubernetes", "cloudflare:index/record:Record"]
KINDS = ["update", "update", "update", "update", "preview", "refresh", "destroy"]
RESULTS = ["succeeded"] * 8 + ["failed", "cancelled"]
EVENT_KINDS = ["preludeEvent", "resourcePreEvent", "resOutputsEvent", "diagnosticEvent",
               "summaryEvent", "stdoutEvent"]
LOG_LINES = (
    ["Updating (%s)" % e for e in ENVS]
    + ["+  %s %s-%d creating" % (t, t.split(":")[-1].lower(), k) for t in TYPES for k in range(3)]
    + ["+  %s %s-%d created" % (t, t.split(":")[-1].lower(), k) for t in TYPES for k in range(3)]
    + ["~  %s %s-%d updating [diff: ~tags]" % (t, t.split(":")[-1].lower(), k) for t in TYPES for k in range(2)]
    + ["Resources:"]
    + ["    + %d created" % k for k in range(1, 12)] + ["    %d unchanged" % k for k in range(1, 12)]
    + ["Duration: %ds" % k for k in range(3, 90, 7)]
    + ["View Live: https://app.pulumi.com/updates", "warning: provider config warning"]
)

# Stacks were created in 2020..2024; soft-deletions happened before this instant (2025-01-01).
EPOCH0 = 1577836800
NOW = 1735689600

# A uuid4: version nibble 4, variant bits 10.
_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_SET = (0x4 << 76) | (0x2 << 62)


def soft_deleted_per_org(n):
    counts = {login: 0 for login, _ in ORGS}
    if n < 40:
        for k in range(n):
            counts[ORGS[k][0] if k < len(ORGS) else "moolumi"] += 1
        return counts
    counts.update(FIXED_SOFT_DELETED)
    counts["pulumi"] = max(1, round(n * 0.05))
    counts["moolumi"] = n - sum(counts.values())
    return counts


def seed(out, n, schema):
    rng = random.Random("opsdeck-sandbox/pulumi/%d" % n)
    bits = rng.getrandbits
    rint = rng.randint
    choice = rng.choice

    def new_id():
        return "%032x" % (bits(128) & _CLEAR | _SET)

    # Tables keyed by a random hex id go out sorted by it: InnoDB loads rows in key order about twice as
    # fast. Their rows are first spread over 16 part files by the first hex digit, and each part is
    # sorted at the end (so memory stays at a sixteenth of a table). UpdateLogs and UpdateEvents are
    # written in id order anyway.
    files = {}
    for t in TABLES:
        if t in SORTED:
            files[t] = {h: open(os.path.join(out, "%s.tsv.%s" % (t, h)), "w", encoding="utf-8", newline="\n")
                        for h in HEX}
        else:
            files[t] = open(os.path.join(out, t + ".tsv"), "w", encoding="utf-8", newline="\n")
    bufs = {t: [] for t in TABLES}
    rows = {t: 0 for t in TABLES}
    # Per organisation: rows of its soft-deleted stacks per table, and their checkpoint data keys.
    soft_rows = {login: {t: 0 for t in TABLES} for login, _ in ORGS}

    orgs = {}
    for login, name in ORGS:
        oid = new_id()
        orgs[login] = oid
        bufs["Organizations"].append("%s\t%s\t%s\t%d\n" % (oid, name, login, EPOCH0 - rint(0, 86400 * 700)))

    soft = soft_deleted_per_org(n)
    live_n = n // 3
    live = {login: 0 for login, _ in ORGS}
    for k in range(live_n):
        live[LIVE_CYCLE[k % len(LIVE_CYCLE)]] += 1
    plan = []
    for login, _ in ORGS:
        plan += [(login, True)] * soft[login] + [(login, False)] * live[login]
    rng.shuffle(plan)

    b_prog, b_pu, b_res = bufs["Programs"], bufs["ProgramUpdates"], bufs["Resources"]
    b_stack, b_tag, b_upd = bufs["Stacks"], bufs["StackTags"], bufs["Updates"]
    b_cp, b_log, b_ev = bufs["UpdateCheckpointInfo"], bufs["UpdateLogs"], bufs["UpdateEvents"]
    log_id = ev_id = 0

    def flush():
        for t, b in bufs.items():
            if not b:
                continue
            rows[t] += len(b)
            if t in SORTED:
                parts = {h: [] for h in HEX}
                for line in b:
                    parts[line[0]].append(line)
                for h, lines in parts.items():
                    files[t][h].writelines(lines)
            else:
                files[t].writelines(b)
            b.clear()

    for k, (login, deleted) in enumerate(plan):
        oid = orgs[login]
        sid, pid = new_id(), new_id()
        project = choice(PROJECTS)
        stack_name = "%s-%d" % (choice(ENVS), k + 1)
        runtime = choice(RUNTIMES)
        created = rint(EPOCH0, NOW - 86400 * 60)
        t = created
        n_upd = rint(1, 5)
        last_uid = None
        n_logs = n_events = 0
        for version in range(1, n_upd + 1):
            uid = new_id()
            t += rint(600, 86400 * 5)
            end = t + rint(5, 900)
            kind, result = choice(KINDS), choice(RESULTS)
            b_upd.append("%s\t%s\t%d\t%s\t%s\t%d\t%d\n" % (uid, sid, version, kind, result, t, end))
            b_pu.append("%s\t%s\t%d\t%s\t%s\t%d\n" % (new_id(), pid, version, kind, result, t))
            b_cp.append("%s\t%s\tcheckpoints/%s/%s/%s.json\t%d\n" % (new_id(), uid, login, sid, uid, end))
            k_logs = rint(4, 10)
            for _ in range(k_logs):
                log_id += 1
                b_log.append("%d\t%s\t%s\n" % (log_id, uid, choice(LOG_LINES)))
            k_ev = rint(1, 3)
            for seq in range(1, k_ev + 1):
                ev_id += 1
                b_ev.append("%d\t%s\t%d\t%s\t%d\n" % (ev_id, uid, seq, choice(EVENT_KINDS), t + seq))
            n_logs += k_logs
            n_events += k_ev
            last_uid = uid
            t = end
        n_res = rint(3, 11)
        for r in range(n_res):
            rtype = choice(TYPES)
            b_res.append("%s\t%s\turn:pulumi:%s::%s::%s::%s-%d\t%s\n" % (
                new_id(), pid, stack_name, project, rtype, rtype.split(":")[-1].lower(), r, rtype))
        deleted_at = rint(t + 60, NOW) if deleted else 0
        b_prog.append("%s\t%s\t%s\t%s\t%s\t%d\t%d\n" % (pid, oid, sid, project, stack_name, created, deleted_at))
        b_stack.append("%s\t%s\t%s/%s\t%s\t%d\n" % (sid, oid, project, stack_name, last_uid, created))
        b_tag.append("%s\tpulumi:project\t%s\n" % (sid, project))
        b_tag.append("%s\tpulumi:runtime\t%s\n" % (sid, runtime))
        if deleted:
            s = soft_rows[login]
            s["Programs"] += 1
            s["ProgramUpdates"] += n_upd
            s["Resources"] += n_res
            s["Stacks"] += 1
            s["StackTags"] += 2
            s["Updates"] += n_upd
            s["UpdateCheckpointInfo"] += n_upd
            s["UpdateLogs"] += n_logs
            s["UpdateEvents"] += n_events
        if len(b_log) > 50000:
            flush()
    flush()
    for t, f in files.items():
        if t not in SORTED:
            f.close()
            continue
        with open(os.path.join(out, t + ".tsv"), "w", encoding="utf-8", newline="\n") as whole:
            for h in HEX:
                f[h].close()
                part = os.path.join(out, "%s.tsv.%s" % (t, h))
                with open(part, encoding="utf-8", newline="\n") as p:
                    lines = p.readlines()
                lines.sort()
                whole.writelines(lines)
                os.unlink(part)

    with open(os.path.join(out, "load.sql"), "w") as f:
        f.write("-- Written by tests/sandbox/pulumi/seed.py (--stacks %d): the schema and the rows, one session.\n" % n)
        f.write("SET SESSION foreign_key_checks = 0, unique_checks = 0;\n")
        f.write(schema)
        for t, cols in TABLES.items():
            f.write("LOAD DATA LOCAL INFILE '%s' INTO TABLE %s CHARACTER SET utf8mb4 "
                    "FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' (%s);\n"
                    % (os.path.join(out, t + ".tsv"), t, ", ".join(cols)))
        f.write("SET SESSION foreign_key_checks = 1, unique_checks = 1;\n")
        # Fresh statistics, so information_schema TABLE_ROWS (the runbook's baseline) is close at once.
        f.write("ANALYZE TABLE %s;\n" % ", ".join(TABLES))

    summary = {
        "database": "pulumi",
        "stacks": n,
        "liveStacks": live_n,
        "tables": rows,
        "organizations": [
            {"id": orgs[login], "github_login": login, "name": name, "softDeleted": soft[login],
             "live": live[login], "softDeletedDataKeys": soft_rows[login]["UpdateCheckpointInfo"],
             "softDeletedRows": soft_rows[login]}
            for login, name in ORGS],
        "softDeletedRows": {t: sum(soft_rows[login][t] for login, _ in ORGS) for t in TABLES},
    }
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the .tsv files, load.sql and summary.json")
    ap.add_argument("--stacks", type=int, required=True, help="soft-deleted stacks (N // 3 live ones on top)")
    a = ap.parse_args()
    if a.stacks < 0:
        sys.exit("seed.py: --stacks must be >= 0")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(os.path.dirname(os.path.realpath(__file__)), "schema.sql")) as f:
        schema = f.read()
    summary = seed(os.path.realpath(a.out), a.stacks, schema)
    path = os.path.join(a.out, "summary.json")
    with open(path + ".tmp", "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
