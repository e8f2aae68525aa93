#!/usr/bin/python3
"""Seed Packit instances for the opsdeck sandbox: for each, an outpack root on disk plus the matching
rows for Packit's database (as a psql script of COPY blocks) and a JSON summary of the counts.

    seed.py --out DIR INSTANCE:PACKETS:HOST:ROOT...

writes ROOT (which must not exist) and DIR/INSTANCE.sql, DIR/INSTANCE.json for each instance; the
database is named like the instance.

The output is a pure function of (instance, N): the random generator is seeded with both, and
every time stamp is derived from a fixed epoch, so tests can rely on exact counts. The root is laid
out as /work/shared/reference/packit.md section 4 describes (what `outpack init --use-file-store
--require-complete-tree` plus pushed packets leave behind); the database rows are what Packit's
import would have made of it, plus users, roles, grants, tags, pins, tokens and runner history.

Standard library only (Debian's python3).
"""

import argparse
import hashlib
import json
import os
import random
import sys
import time
import uuid

CONFIG_JSON = (b'{"core":{"hash_algorithm":"sha256","path_archive":null,"use_file_store":true,'
               b'"require_complete_tree":true},"location":[{"name":"local","type":"local","args":{}}]}')

# The rows Packit's migrations insert are in the schema (packit/schema.sql replays them): role ADMIN (id 1),
# these permissions (ids 1-6, in this order), ADMIN's global grant of each (role_permission ids 1-6), and the
# SERVICE user with the ADMIN role (user_role id 1). The rows below come on top of them.
PERMISSIONS = ["packet.read", "packet.run", "outpack.read", "outpack.write", "user.manage", "packet.manage"]
ADMIN_GRANTS = len(PERMISSIONS)
# What the app writes when it starts: its one-time job, done.
ONE_TIME_JOB = "PacketDescriptionAndDisplayNameBackfill"

MIGRATIONS = [
    ("20240503", "initial schema"),
    ("20240504", "initial data"),
    ("20240820", "run info table"),
    ("20240912", "update run info"),
    ("20240919", "create service account"),
    ("20250325", "remove published"),
    ("20250326", "add packet manage perm"),
    ("20250410", "create one time token table"),
    ("20250619", "run info unique packet col"),
    ("20250623", "create pin table"),
    ("20250706", "packet desc and tracker"),
]

# Group names are <disease>-<topic>[-<variant>]; 24 * 30 * 8 = 5760 distinct names.
DISEASES = ["covid", "measles", "malaria", "ebola", "mpox", "cholera", "dengue", "polio",
            "yellow-fever", "hiv", "tb", "influenza", "rsv", "zika", "typhoid", "diphtheria",
            "hepatitis-b", "rubella", "pertussis", "chikungunya", "lassa", "marburg", "nipah",
            "plague"]
TOPICS = ["incidence", "model-fit", "report", "forecast", "serology", "vaccination",
          "burden", "cases", "deaths", "rt-estimate", "contact-matrix", "population",
          "coverage", "sitrep", "projections", "parameters", "calibration", "diagnostics",
          "mortality", "hospitalisation", "genomics", "mobility", "survey", "line-list",
          "data-import", "cleaning", "figures", "tables", "summary", "scenarios"]
VARIANTS = ["", "-by-region", "-by-age", "-v2", "-national", "-subnational", "-weekly",
            "-sensitivity"]

ARTEFACTS = ["outputs/results.csv", "outputs/summary.json", "report.html", "figures/plot.png",
             "outputs/fit.rds", "outputs/table.csv", "figures/map.png", "log.txt"]
PARAM_KEYS = ["region", "year", "scenario", "n_samples", "age_group", "country"]
REGIONS = ["north", "south", "east", "west", "central", "national"]
COUNTRIES = ["NGA", "COD", "IND", "BRA", "GBR", "KEN", "PAK", "ETH", "BGD", "UGA"]
TAGS = ["published", "final", "draft", "qa-passed", "internal", "archived"]
USERS = ["alice-epi", "bkumar", "cwhittaker", "dlopez", "emma-sim", "fnguyen", "gokafor",
         "hjensen", "irodriguez", "jsmith-ic", "kpatel", "lmbeki"]

# Packets are spread over the 2.5 years before this instant (2025-11-01T00:00:00Z).
END_EPOCH = 1761955200.0
SPAN = 2.5 * 365 * 86400


class Copy:
    """Rows of one table in PostgreSQL's COPY text format."""

    def __init__(self, table, columns):
        self.table = table
        self.columns = columns
        self.rows = []

    def add(self, *values):
        self.rows.append("\t".join(copy_value(v) for v in values))

    def text(self):
        head = "COPY %s (%s) FROM STDIN;\n" % (self.table, ", ".join(self.columns))
        body = "".join(r + "\n" for r in self.rows)
        return head + body + "\\.\n"


def copy_value(v):
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (list, tuple)):  # text[]
        v = "{" + ",".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in v) + "}"
    elif isinstance(v, float):
        v = repr(v)
    else:
        v = str(v)
    return (v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def ts(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(epoch))


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def seed(instance, n, root, host, database):
    rng = random.Random("opsdeck-sandbox/%s/%d" % (instance, n))

    def rand_uuid():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def rand_hex(k):
        return "%0*x" % (k, rng.getrandbits(4 * k))

    # ---- packet times and ids (ascending, unique)
    times = sorted(END_EPOCH - rng.random() * SPAN for _ in range(n))
    ids = []
    seen = set()
    for t in times:
        while True:
            pid = "%s-%04x%s" % (time.strftime("%Y%m%d-%H%M%S", time.gmtime(t)),
                                 int((t % 1) * 65536), rand_hex(4))
            if pid not in seen:
                break
        seen.add(pid)
        ids.append(pid)

    # ---- groups: about n/10, each with at least one packet; sizes skewed (a few big ones)
    n_groups = 0 if n == 0 else max(1, round(n / 10))
    n_names = len(DISEASES) * len(TOPICS) * len(VARIANTS)
    reps = -(-n_groups // n_names)  # beyond 5760 groups, names get a -r<k> suffix
    names = []
    for k in rng.sample(range(n_names * reps), n_groups):
        rep, k = divmod(k, n_names)
        d, rest = divmod(k, len(TOPICS) * len(VARIANTS))
        t_, v = divmod(rest, len(VARIANTS))
        names.append("%s-%s%s%s" % (DISEASES[d], TOPICS[t_], VARIANTS[v],
                                    "-r%d" % rep if rep else ""))
    group_of = list(range(n_groups)) + (
        rng.choices(range(n_groups), cum_weights=_cum([1.0 / (r + 1) ** 0.8 for r in range(n_groups)]),
                    k=n - n_groups) if n_groups else [])
    rng.shuffle(group_of)

    groups = []
    for g in range(n_groups):
        params = None
        if rng.random() < 0.4:
            params = rng.sample(PARAM_KEYS, rng.randint(1, 3))
        groups.append({
            "name": names[g],
            "params": params,
            "display": (names[g].replace("-", " ").capitalize() if rng.random() < 0.6 else None),
            "long": ("Outputs of the %s analysis, rerun when new data arrive." % names[g]
                     if rng.random() < 0.3 else None),
            "artefacts": rng.sample(ARTEFACTS, 6),
            "script": None,
            "last": {},  # path -> hash of the previous packet's file (for unchanged outputs)
            "git": rng.random() < 0.8,
            "repo": "https://github.com/mrc-ide/%s" % names[g].split("-")[0],
        })

    # ---- the outpack root
    dot = os.path.join(root, ".outpack")
    meta_dir = os.path.join(dot, "metadata")
    loc_dir = os.path.join(dot, "location", "local")
    store = os.path.join(dot, "files", "sha256")
    for d in (meta_dir, loc_dir, os.path.dirname(store)):
        os.makedirs(d)
    with open(os.path.join(dot, "config.json"), "wb") as f:
        f.write(CONFIG_JSON)
    root_files = 1
    root_bytes = len(CONFIG_JSON)

    blobs = {}  # hex -> size
    store_dirs = set()

    def put(data):
        h = hashlib.sha256(data).hexdigest()
        if h not in blobs:
            sub = os.path.join(store, h[:2])
            if h[:2] not in store_dirs:
                if not store_dirs:
                    os.mkdir(store)
                os.mkdir(sub)
                store_dirs.add(h[:2])
            write_file(os.path.join(sub, h[2:]), data)
            blobs[h] = len(data)
        return h

    def content(header, size):
        body = rng.randbytes(max(1, (size - len(header)) // 2)).hex()
        return (header + body + "\n").encode()

    pk = Copy("packet", ["id", "name", "display_name", "parameters", "import_time", "start_time",
                         "end_time", "description"])
    packet_files = []  # per packet: list of paths
    packet_hashes = []  # per packet: path -> hex
    group_ids = {}     # name -> serial id, in order of first import
    for i, pid in enumerate(ids):
        g = groups[group_of[i]]
        name = g["name"]
        if name not in group_ids:
            group_ids[name] = len(group_ids) + 1
        start = float(int(times[i] * 1000) / 1000)
        end = round(start + rng.uniform(2, 900), 3)
        imported = round(end + rng.uniform(1, 60), 3)

        params = None
        if g["params"]:
            params = {}
            for key in g["params"]:
                if key == "region":
                    params[key] = rng.choice(REGIONS)
                elif key == "year":
                    params[key] = rng.randint(2015, 2025)
                elif key == "country":
                    params[key] = rng.choice(COUNTRIES)
                elif key == "n_samples":
                    params[key] = rng.choice([100, 500, 1000, 5000])
                elif key == "age_group":
                    params[key] = rng.choice(["0-4", "5-14", "15-49", "50+"])
                else:
                    params[key] = rng.choice(["central", "optimistic", "pessimistic"])

        # files: orderly.R (shared within the group, occasionally edited) + 0..6 artefacts;
        # 1..7 files, 4 on average
        if g["script"] is None or rng.random() < 0.1:
            g["script"] = put(content("# orderly.R for %s (revision %s)\n" % (name, rand_hex(8)),
                                      rng.randint(300, 2000)))
        files = [{"path": "orderly.R", "size": blobs[g["script"]], "hash": "sha256:" + g["script"]}]
        depends = []
        k = rng.randint(1, 7)
        for path in g["artefacts"][:k - 1]:
            prev = g["last"].get(path)
            if prev is not None and rng.random() < 0.2:
                h = prev  # unchanged output: same content, stored once
            else:
                size = int(200 * (30 ** rng.random()))  # 200 B .. 6 KB, log-uniform
                h = put(content("%s %s %s\n" % (name, pid, path), size))
            g["last"][path] = h
            files.append({"path": path, "size": blobs[h], "hash": "sha256:" + h})
        # about one packet in ten uses a file of an earlier packet (same hash, stored once)
        if i > 0 and rng.random() < 0.1:
            j = rng.randrange(i)
            there = packet_files[j][-1]
            dep_hash = packet_hashes[j][there]
            here = "inputs/" + os.path.basename(there)
            if here not in (f_["path"] for f_ in files):
                files.append({"path": here, "size": blobs[dep_hash], "hash": "sha256:" + dep_hash})
                depends.append({"packet": ids[j], "query": 'latest(id == "%s")' % ids[j],
                                "files": [{"here": here, "there": there}]})
        packet_hashes.append({f_["path"]: f_["hash"][7:] for f_ in files})
        packet_files.append([f_["path"] for f_ in files])

        desc = {"display": g["display"], "long": g["long"], "custom": None}
        meta = {
            "schema_version": "0.1.1",
            "name": name,
            "id": pid,
            "time": {"start": start, "end": end},
            "parameters": params,
            "files": files,
            "depends": depends,
            "script": ["orderly.R"],
            "git": ({"sha": rand_hex(40), "branch": "main", "url": [g["repo"]]} if g["git"] else None),
            "session": {"platform": {"version": "R version 4.4.1 (2024-06-14)",
                                     "os": "Ubuntu 22.04.4 LTS", "system": "x86_64, linux-gnu"},
                        "packages": [{"package": "orderly2", "version": "1.99.30", "attached": True}]},
            "custom": {"orderly": {
                "role": [{"path": "orderly.R", "role": "orderly"}]
                        + [{"path": f_["path"], "role": "dependency"} for f_ in files
                           if f_["path"].startswith("inputs/")],
                "artefacts": [{"description": "outputs", "paths": [f_["path"] for f_ in files[1:]
                                                                   if not f_["path"].startswith("inputs/")]}],
                "shared": [],
                "description": desc,
            }},
        }
        mbytes = dumps(meta).encode()
        write_file(os.path.join(meta_dir, pid), mbytes)
        lbytes = dumps({"packet": pid, "time": imported,
                        "hash": "sha256:" + hashlib.sha256(mbytes).hexdigest()}).encode()
        write_file(os.path.join(loc_dir, pid), lbytes)
        root_files += 2
        root_bytes += len(mbytes) + len(lbytes)
        pk.add(pid, name, g["display"] or name, None if params is None else dumps(params),
               imported, start, end, g["long"])

    root_files += len(blobs)
    file_bytes = sum(blobs.values())
    root_bytes += file_bytes

    # ---- database rows
    out = ["SET client_min_messages = warning;\n"]

    fl = Copy("flyway_schema_history", ["installed_rank", "version", "description", "type", "script",
                                        "checksum", "installed_by", "installed_on", "execution_time",
                                        "success"])
    t0 = 1714752000.0  # 2024-05-03
    for r, (ver, what) in enumerate(MIGRATIONS, 1):
        fl.add(r, ver, what, "SQL", "V%s__%s.sql" % (ver, what.replace(" ", "_")),
               rng.randint(-2 ** 31, 2 ** 31 - 1), database, ts(t0 + r * 86400 * 30)[:-3],
               rng.randint(3, 60), True)

    pg = Copy("packet_group", ["id", "name"])
    for name, gid in group_ids.items():
        pg.add(gid, name)

    perm_id = {pname: k for k, pname in enumerate(PERMISSIONS, 1)}

    users = Copy("\"user\"", ["id", "username", "display_name", "password", "email", "disabled",
                              "user_source", "last_logged_in"])
    roles = Copy("role", ["id", "name", "is_username"])
    user_role = Copy("user_role", ["user_id", "role_id"])  # ids from its sequence, after SERVICE's 1
    roles.add(2, "USER", False)
    humans = rng.sample(USERS, 8)
    human_ids = []
    username_roles = []
    for k, uname in enumerate(humans):
        uid = rand_uuid()
        human_ids.append(uid)
        rid = 3 + k
        username_roles.append(rid)
        users.add(uid, uname, uname.replace("-", " ").title(), None, "%s@example.org" % uname,
                  k == 7, "github", ts(END_EPOCH - rng.uniform(0, 90 * 86400))[:-3])
        roles.add(rid, uname, True)
        user_role.add(uid, rid)
        if k < 2:
            user_role.add(uid, 1)
        elif rng.random() < 0.7:
            user_role.add(uid, 2)
    n_roles = 2 + len(humans)

    rp = Copy("role_permission", ["id", "role_id", "permission_id", "packet_id", "packet_group_id",
                                  "tag_id"])
    rp_id = ADMIN_GRANTS

    def grant(role, pname, packet=None, group=None):
        nonlocal rp_id
        rp_id += 1
        rp.add(rp_id, role, perm_id[pname], packet, group, None)

    grant(2, "packet.read")
    global_grants = rp_id
    scoped_packets = rng.sample(range(n), round(0.02 * n))
    for i in scoped_packets:
        grant(rng.choice(username_roles), "packet.read" if rng.random() < 0.9 else "packet.run",
              packet=ids[i])
    scoped_groups = rng.sample(range(1, n_groups + 1), round(0.3 * n_groups))
    for gid in scoped_groups:
        grant(rng.choice(username_roles), "packet.read", group=gid)

    tags = Copy("tag", ["id", "name"])
    for k, tname in enumerate(TAGS, 1):
        tags.add(k, tname)
    ptag = Copy("packet_tag", ["id", "packet_id", "tag_id"])
    n_ptag = 0
    for i in rng.sample(range(n), round(0.04 * n)):
        for tid in rng.sample(range(1, len(TAGS) + 1), 2 if rng.random() < 0.12 else 1):
            n_ptag += 1
            ptag.add(n_ptag, ids[i], tid)

    pins = Copy("pin", ["id", "packet_id"])
    n_pins = round(0.005 * n)
    for i in rng.sample(range(n), n_pins):
        pins.add(rand_uuid(), ids[i])

    ott = Copy("one_time_token", ["id", "packet_id", "file_paths", "expires_at"])
    n_ott = round(0.02 * n)
    for _ in range(n_ott):
        i = rng.randrange(n)
        paths = rng.sample(packet_files[i], min(len(packet_files[i]), rng.randint(1, 2)))
        ott.add(rand_uuid(), ids[i], paths, ts(END_EPOCH + rng.uniform(-86400, 86400)))

    run = Copy("run_info", ["task_id", "packet_group_name", "status", "commit_hash", "branch",
                            "parameters", "logs", "time_queued", "time_started", "time_completed",
                            "queue_position", "packet_id", "user_id"])
    n_run_pk = round(0.05 * n)
    for i in rng.sample(range(n), n_run_pk):
        q = float(int(times[i] * 1000) / 1000) - rng.uniform(5, 120)
        run.add(rand_hex(32), groups[group_of[i]]["name"], "COMPLETE", rand_hex(40), "main",
                dumps({}), dumps(["Running orderly.R", "Finished"]), round(q, 3),
                round(q + rng.uniform(1, 5), 3), round(q + rng.uniform(10, 600), 3), None, ids[i],
                rng.choice(human_ids))
    n_run_null = min(n_groups, max(2, round(0.002 * n))) if n else 0
    for _ in range(n_run_null):
        q = round(END_EPOCH - rng.uniform(0, SPAN), 3)
        run.add(rand_hex(32), rng.choice(names), rng.choice(["ERROR", "CANCELLED", "DIED"]),
                rand_hex(40), "main", None, dumps(["Running orderly.R", "Error: object not found"]),
                q, round(q + 2, 3), round(q + 30, 3), None, None, rng.choice(human_ids))

    job = Copy("one_time_job", ["name", "status", "error"])
    job.add(ONE_TIME_JOB, "COMPLETED", None)

    for c in (fl, pg, pk, users, roles, user_role, tags, rp, ptag, pins, ott, run, job):
        out.append(c.text())
    # The serial columns were filled explicitly: move their sequences past the rows.
    out.append("DO $$ BEGIN\n")
    for table in ("packet_group", "role", "tag", "role_permission", "packet_tag"):
        out.append("  PERFORM setval(pg_get_serial_sequence('%s', 'id'), "
                   "(SELECT coalesce(max(id), 0) + 1 FROM %s), false);\n" % (table, table))
    out.append("END $$;\nANALYZE;\n")

    summary = {
        "instance": instance,
        "host": host,
        "database": database,
        "root": root,
        "packets": n,
        "groups": len(group_ids),
        "files": len(blobs),
        "fileBytes": file_bytes,
        "rootFiles": root_files,
        "rootBytes": root_bytes,
        "scopedPacketGrants": len(scoped_packets),
        "scopedGroupGrants": len(scoped_groups),
        "globalGrants": global_grants,
        "pins": n_pins,
        "packetTags": n_ptag,
        "oneTimeTokens": n_ott,
        "runInfo": n_run_pk + n_run_null,
        "runInfoWithPacket": n_run_pk,
        "users": 1 + len(humans),
        "roles": n_roles,
        "tables": {
            "packet": n, "packet_group": len(group_ids), "role_permission": rp_id,
            "packet_tag": n_ptag, "tag": len(TAGS), "pin": n_pins, "one_time_token": n_ott,
            "run_info": n_run_pk + n_run_null, "user": 1 + len(humans), "role": n_roles,
            "user_role": 1 + len(user_role.rows), "permission": len(PERMISSIONS),
            "flyway_schema_history": len(MIGRATIONS), "settings": 0, "document": 0,
            "one_time_job": len(job.rows),
        },
    }
    return "".join(out), summary


def write_file(path, data):
    # os.open/os.write: fewer system calls than open(), which matters for 250,000 files.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _cum(weights):
    acc, out = 0.0, []
    for w in weights:
        acc += w
        out.append(acc)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True,
                    help="directory for <instance>.sql (COPY blocks) and <instance>.json (summary)")
    ap.add_argument("spec", nargs="+", metavar="INSTANCE:PACKETS:HOST:ROOT",
                    help="an instance to seed; ROOT (its outpack root) must not exist")
    a = ap.parse_args()
    specs = []
    for spec in a.spec:
        parts = spec.split(":", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            sys.exit("seed.py: bad spec '%s' (INSTANCE:PACKETS:HOST:ROOT)" % spec)
        if os.path.lexists(parts[3]):
            sys.exit("seed.py: %s already exists" % parts[3])
        specs.append((parts[0], int(parts[1]), parts[2], parts[3]))
    for instance, n, host, root in specs:
        sql, summary = seed(instance, n, root, host, instance)
        base = os.path.join(a.out, instance)
        with open(base + ".sql", "w") as f:
            f.write(sql)
        with open(base + ".json.tmp", "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        os.replace(base + ".json.tmp", base + ".json")


if __name__ == "__main__":
    main()
