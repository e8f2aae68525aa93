#!/usr/bin/env python3
"""Generates the datamon world of the sandbox: three contexts in one config bucket, their repos, bundles, labels and
blobs, in datamon's object layout, and what the checks need to know about them.

    seed.py --out DIR/datamon --gcs-db DIR/gcs/gcs.sqlite --repos N --blobs M [--now UNIX_SECONDS]

Writes, deterministic for N and M (times relative to --now):
  the objects and their buckets straight into the GCS stand-in's store (standins/gcs: its SQLite schema, one
                         transaction; md5/crc32c left for the server to fill in), which is what keeps 10,000 repos
                         and 200,000 blobs well under a minute
  OUT/summary.json       the counts: repos/bundles/labels per context, per blob bucket the keys and bytes that are
                         referenced (by which context), unreferenced and old (a purge deletes them), newer than any
                         index built within 30 days (a purge keeps them)
  OUT/unreferenced-BLOB.txt  per blob bucket, the keys a purge deletes (unreferenced and old), sorted
  OUT/repos-CTX.json     per context, every repo with its descriptor fields, bundles (with their size and file-list
                         count) and labels, as the stand-in reads them back (for byte-for-byte output checks)

Layout (pkg/model/paths.go): config bucket contexts/<ctx>/context.yaml; metadata repos/<r>/repo.yaml,
bundles/<r>/<id>/bundle.yaml, bundles/<r>/<id>/bundle-files-<i>.yaml (i = 0 .. count-1); vmetadata
labels/<r>/<label>/label.yaml; blob bucket: CAFS keys (128 hex) at the root. A bundle entry's `hash` is a root key;
the root key's blob is the concatenation of its 64-byte leaf keys followed by the root key itself, as
pkg/cafs/hasher.go reads it (the root key here is a blake2b of the leaves, not blake2b's tree mode: nothing checks it).

dm-dev (N repos) and dm-shared (max(4, N/10) repos) share the blob bucket dm-shared-blob (M - 2 * (M/10) blobs);
dm-prod (max(4, N/10) repos) has dm-prod-blob (M/10 blobs); dm-jobs (max(4, N/10) repos), the context whose purge
runs as Kubernetes Jobs, has dm-jobs-blob (M/10 blobs), so that its tests touch no other context's store.
"""

import argparse
import hashlib
import json
import os
import random
import sqlite3
import sys
import time

CONFIG_BUCKET = "dm-config"
CONTEXTS = [
    # name, blob bucket, production
    ("dm-dev", "dm-shared-blob", False),
    ("dm-shared", "dm-shared-blob", False),
    ("dm-prod", "dm-prod-blob", True),
    ("dm-jobs", "dm-jobs-blob", False),
]
DAY = 86400
WORDS = ["climate", "flood", "quake", "wildfire", "survey", "census", "imagery", "lidar", "soil", "tide", "wind",
         "hazard"]
DESCRIPTIONS = [
    "Flood depth grids",
    "Survey data, 2024 & beyond",
    "Températures + précipitations: 100% coverage",
    "Two lines:\nraw inputs, then outputs",
    "naïve ü ß 日本語 — mixed scripts",
    "rates 5% + 3% = 8%, roughly",
    "a/b?c=d&e=f#g",
    "plain",
]
MESSAGES = [
    "initial upload",
    "Updating test bundle",
    "fix: re-run with 2 seeds, 3 regions & more",
    "multi-line message\nsecond line",
    "résumé + café 50%",
    "nightly",
]
CONTRIBUTORS = [("Frédéric Bidon", "frederic@oneconcern.com"), ("Ada Lovelace", "ada@example.org"),
                ("Ritesh H Shukla", "ritesh@example.com"), ("Zoë O'Brien", "zoe+data@example.net")]
LABELS = ["latest", "production", "v1", "baseline_2024"]


def rfc3339(sec, nsec=0, offset=0):
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec + offset))
    if nsec:
        s += "." + ("%09d" % nsec).rstrip("0")
    if offset == 0:
        return s + "Z"
    sign = "+" if offset > 0 else "-"
    return s + "%s%02d:%02d" % (sign, abs(offset) // 3600, abs(offset) // 60 % 60)


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def ksuid(sec, rnd):
    """A KSUID (27 base62 characters: 4 bytes of seconds since 2014-05-13, 16 random bytes)."""
    n = int.from_bytes((sec - 1400000000).to_bytes(4, "big") + rnd.randbytes(16), "big")
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = _B62[r] + s
    return s.rjust(27, "0")


_PLAIN_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./@()+- ")


def yaml_str(s):
    """A YAML scalar for S: plain when unambiguous, a literal block for multi-line text, else double-quoted."""
    if s and set(s) <= _PLAIN_OK and not s.endswith(" ") and s[0] not in "-+. " and \
            s.lower() not in ("true", "false", "yes", "no", "on", "off", "null", "y", "n") and not s[0].isdigit():
        return s
    return json.dumps(s, ensure_ascii=False)


def yaml_field(key, value, indent=""):
    if isinstance(value, str) and "\n" in value:
        return "%s%s: |-\n%s\n" % (indent, key, "\n".join(indent + "  " + ln for ln in value.split("\n")))
    if isinstance(value, int):
        return "%s%s: %d\n" % (indent, key, value)
    return "%s%s: %s\n" % (indent, key, yaml_str(value))


def contributor_yaml(key, c, seq):
    if seq:
        return "%s:\n- name: %s\n  email: %s\n" % (key, yaml_str(c[0]), yaml_str(c[1]))
    return "%s:\n  name: %s\n  email: %s\n" % (key, yaml_str(c[0]), yaml_str(c[1]))


class World:
    def __init__(self, repos, blobs, now):
        self.rnd = random.Random("datamon-sandbox %d %d" % (repos, blobs))
        self.now = now
        self.objects = []  # (bucket, name, updated_sec, data)
        n_side = max(4, repos // 10)
        self.repo_counts = {"dm-dev": repos, "dm-shared": n_side, "dm-prod": n_side, "dm-jobs": n_side}
        side_blobs = blobs // 10
        self.blob_counts = {"dm-shared-blob": blobs - 2 * side_blobs, "dm-prod-blob": side_blobs,
                            "dm-jobs-blob": side_blobs}
        self.meta_time = now - 7 * DAY

    def add(self, bucket, name, data, updated):
        self.objects.append((bucket, name, updated, data.encode() if isinstance(data, str) else data))

    def plan_repos(self, ctx):
        """Repos with bundles (file lists of entries to be given root keys) and labels, before blobs exist."""
        rnd = self.rnd
        repos = []
        base = self.now - 400 * DAY
        for i in range(self.repo_counts[ctx]):
            name = "%s-%s-%05d" % (ctx.split("-")[1], WORDS[i % len(WORDS)], i)
            sec = base + i * 1637
            nsec = (0, 181535000, 123000000, 987654321)[i % 4]
            offset = (0, 3600, -7 * 3600, 0, 0)[i % 5]
            c = CONTRIBUTORS[i % len(CONTRIBUTORS)]
            repo = {"name": name, "description": "%s (%s #%d)" % (DESCRIPTIONS[i % len(DESCRIPTIONS)], ctx, i),
                    "timestamp": rfc3339(sec, nsec, offset), "contributor": {"name": c[0], "email": c[1]},
                    "bundles": [], "labels": []}
            nb = 0 if i % 13 == 7 else 1 + (i % 3)
            bsec = sec + 3600
            for j in range(nb):
                bsec += 86400 + rnd.randrange(3600)
                files = []
                for _ in range(2 if (i + j) % 5 == 0 else 1):
                    files.append([{"name": "data/part-%d-%d.csv" % (j, k), "size": None, "hash": None}
                                  for k in range(1 + rnd.randrange(3))])
                repo["bundles"].append({
                    "id": ksuid(bsec, rnd), "message": MESSAGES[(i + j) % len(MESSAGES)],
                    "timestamp": rfc3339(bsec, rnd.randrange(10**9) if j % 2 else 0),
                    "contributor": CONTRIBUTORS[(i + j) % len(CONTRIBUTORS)], "files": files})
            for k in range(min(len(repo["bundles"]), i % 3)):
                b = repo["bundles"][-1 - k] if k == 0 else repo["bundles"][0]
                repo["labels"].append({"name": LABELS[(i + k) % len(LABELS)], "id": b["id"],
                                       "timestamp": rfc3339(bsec + 60 * (k + 1), 500000000 * k),
                                       "contributor": b["contributor"]})
            repos.append(repo)
        return repos

    def make_blobs(self, bucket, users):
        """Blob keys for a bucket shared by USERS [(ctx, repos)]: groups (root + leaves) for the entries, the rest
        unreferenced (old) or newer than any index. Returns the bucket's summary and its unreferenced old keys."""
        rnd = self.rnd
        total = self.blob_counts[bucket]
        entries = [(ctx, e) for ctx, repos in users for r in repos for b in r["bundles"] for f in b["files"]
                   for e in f]
        n_new = max(2, total // 50)
        n_unref = max(3, total * 3 // 10)
        pool = max(0, total - n_new - n_unref)
        n_groups = min(len(entries), pool // 2)
        old = self.now - 30 * DAY
        summary = {"contexts": [ctx for ctx, _ in users], "keys": 0, "bytes": 0, "referencedKeys": 0,
                   "referencedBytes": 0, "referencedKeysByContext": {ctx: 0 for ctx, _ in users},
                   "unreferencedOldKeys": 0, "unreferencedOldBytes": 0, "newerKeys": 0, "newerBytes": 0,
                   "oldUpdated": rfc3339(old), "newerUpdated": rfc3339(self.now + 30 * DAY)}
        groups = []
        unreferenced = []  # the old keys no bundle references: exactly what a purge deletes
        used = 0
        for g in range(n_groups):
            k = (pool - used) // (n_groups - g) - 1  # leaves in this group
            leaves = []
            for _ in range(max(1, k)):
                data = rnd.randbytes(16 + rnd.randrange(496))
                key = hashlib.blake2b(data).digest()
                leaves.append((key, data))
            root = hashlib.blake2b(b"".join(lk for lk, _ in leaves) + b"root").digest()
            groups.append((root, leaves))
            used += 1 + len(leaves)
        # The first user's (dm-dev's) entries take the groups from the start, the other users' entries the last
        # n_other groups, so that some keys are referenced by one context only; every 7th dm-dev entry reuses one of
        # the others' groups (dedup across contexts). Groups no entry takes stay unreferenced.
        first = users[0][0]
        n_other = min(sum(1 for ctx, _ in entries if ctx != first), n_groups // 2)
        fwd = other = 0
        refs = {}
        for n, (ctx, e) in enumerate(entries):
            if not groups:
                break
            if ctx != first:
                gi = n_groups - 1 - other % max(1, n_other)
                other += 1
            elif n % 7 == 3 and n_other:
                gi = n_groups - 1 - n % max(1, n_other // 2)
            else:
                gi = fwd % max(1, n_groups - n_other)
                fwd += 1
            root, leaves = groups[gi]
            e["hash"] = root.hex()
            e["size"] = sum(len(d) for _, d in leaves)
            refs.setdefault(gi, set()).add(ctx)
        for gi, (root, leaves) in enumerate(groups):
            blobs = [(lk, d) for lk, d in leaves] + [(root, b"".join(lk for lk, _ in leaves) + root)]
            for key, data in blobs:
                self.add(bucket, key.hex(), data, old - rnd.randrange(DAY))
                summary["keys"] += 1
                summary["bytes"] += len(data)
                if gi in refs:
                    summary["referencedKeys"] += 1
                    summary["referencedBytes"] += len(data)
                    for ctx in refs[gi]:
                        summary["referencedKeysByContext"][ctx] += 1
                else:
                    summary["unreferencedOldKeys"] += 1
                    summary["unreferencedOldBytes"] += len(data)
                    unreferenced.append(key.hex())
        for i in range(total - used):
            data = rnd.randbytes(16 + rnd.randrange(496))
            newer = i < n_new
            self.add(bucket, hashlib.blake2b(data).hexdigest(), data,
                     self.now + 30 * DAY if newer else old - rnd.randrange(DAY))
            if not newer:
                unreferenced.append(hashlib.blake2b(data).hexdigest())
            summary["keys"] += 1
            summary["bytes"] += len(data)
            k = "newer" if newer else "unreferencedOld"
            summary[k + "Keys"] += 1
            summary[k + "Bytes"] += len(data)
        # a context-only purge (--current-context-only) deletes the old keys that context does not reference
        summary["deletedIfCurrentContextOnly"] = {
            ctx: summary["keys"] - summary["newerKeys"] - summary["referencedKeysByContext"][ctx] for ctx, _ in users}
        return summary, sorted(unreferenced)

    def write_metadata(self, ctx, meta, vmeta, repos):
        t = self.meta_time
        for r in repos:
            self.add(meta, "repos/%s/repo.yaml" % r["name"],
                     yaml_field("name", r["name"]) + yaml_field("description", r["description"]) +
                     "timestamp: %s\n" % r["timestamp"] +
                     contributor_yaml("contributor", (r["contributor"]["name"], r["contributor"]["email"]), False), t)
            for b in r["bundles"]:
                self.add(meta, "bundles/%s/%s/bundle.yaml" % (r["name"], b["id"]),
                         "leafSize: 2097152\n" + yaml_field("id", b["id"]) + yaml_field("message", b["message"]) +
                         "timestamp: %s\n" % b["timestamp"] + contributor_yaml("contributors", b["contributor"], True) +
                         "count: %d\nversion: 2\ndeduplication: blake\n" % len(b["files"]), t)
                for i, f in enumerate(b["files"]):
                    body = "BundleEntries:\n" + "".join(
                        "- hash: %s\n  name: %s\n  mode: 0\n  size: %d\n" % (e["hash"], e["name"], e["size"]) for e in f)
                    self.add(meta, "bundles/%s/%s/bundle-files-%d.yaml" % (r["name"], b["id"], i), body, t)
            for lb in r["labels"]:
                self.add(vmeta, "labels/%s/%s/label.yaml" % (r["name"], lb["name"]),
                         yaml_field("name", lb["name"]) + yaml_field("id", lb["id"]) +
                         "timestamp: %s\n" % lb["timestamp"] + contributor_yaml("contributors", lb["contributor"], True),
                         t)


def gcs_time(sec):
    """GCS's form of a time (RFC 3339, milliseconds, Z), as the store keeps it."""
    return rfc3339(sec)[:-1] + ".000Z"


def write_store(path, buckets, objects):
    """The buckets and objects into the GCS stand-in's SQLite store (its `buckets` and `objects` tables), replacing
    whatever those buckets held. Generations are microseconds since the epoch, below the server's clock."""
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA synchronous=OFF")
    created = gcs_time(int(time.time()))
    gen = int(time.time() * 1e6) - len(objects) - 1000
    with db:
        db.executemany("DELETE FROM objects WHERE bucket = ?", [(b,) for b in buckets])
        db.executemany("INSERT OR IGNORE INTO buckets (name, created) VALUES (?, ?)", [(b, created) for b in buckets])
        db.executemany(
            "INSERT INTO objects (bucket, name, generation, metageneration, size, md5, crc32c, content_type, created, "
            "updated, metadata, extra, content) VALUES (?, ?, ?, 1, ?, NULL, NULL, ?, ?, ?, NULL, NULL, ?)",
            ((bucket, name, gen + i, len(data), "application/octet-stream" if "/" not in name and "." not in name
              else "text/plain; charset=utf-8", gcs_time(updated), gcs_time(updated), data)
             for i, (bucket, name, updated, data) in enumerate(objects)))
    db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--gcs-db", required=True)
    ap.add_argument("--repos", type=int, required=True)
    ap.add_argument("--blobs", type=int, required=True)
    ap.add_argument("--now", type=int, default=None)
    a = ap.parse_args()
    now = a.now if a.now is not None else int(time.time())
    w = World(a.repos, a.blobs, now)
    plans = {ctx: w.plan_repos(ctx) for ctx, _, _ in CONTEXTS}
    summary = {"configBucket": CONFIG_BUCKET, "seededAt": rfc3339(now), "contexts": {}, "blobBuckets": {}}
    buckets = {}
    for ctx, blob, prod in CONTEXTS:
        buckets.setdefault(blob, []).append((ctx, plans[ctx]))
    for blob, users in buckets.items():
        summary["blobBuckets"][blob], unreferenced = w.make_blobs(blob, users)
        path = os.path.join(a.out, "unreferenced-%s.txt" % blob)
        with open(path, "w") as f:
            f.write("".join(key + "\n" for key in unreferenced))
        summary["blobBuckets"][blob]["unreferencedOldFile"] = path
    all_buckets = [CONFIG_BUCKET] + list(buckets)
    for ctx, blob, prod in CONTEXTS:
        d = {"name": ctx, "wal": ctx + "-wal", "readlog": ctx + "-read-log", "blob": blob, "metadata": ctx + "-meta",
             "vmetadata": ctx + "-vmeta", "version": 1}
        all_buckets += [d["wal"], d["readlog"], d["metadata"], d["vmetadata"]]
        w.add(CONFIG_BUCKET, "contexts/%s/context.yaml" % ctx,
              "".join(yaml_field(k, d[k]) for k in ("name", "wal", "readlog", "blob", "metadata", "vmetadata",
                                                     "version")), w.meta_time)
        w.write_metadata(ctx, d["metadata"], d["vmetadata"], plans[ctx])
        repos = plans[ctx]
        summary["contexts"][ctx] = dict(d, production=prod, repos=len(repos),
                                        bundles=sum(len(r["bundles"]) for r in repos),
                                        labels=sum(len(r["labels"]) for r in repos),
                                        reposFile=os.path.join(a.out, "repos-%s.json" % ctx))
        with open(os.path.join(a.out, "repos-%s.json" % ctx), "w") as f:
            json.dump([{"name": r["name"], "description": r["description"], "timestamp": r["timestamp"],
                        "contributor": r["contributor"],
                        "bundles": [{"id": b["id"], "message": b["message"], "timestamp": b["timestamp"],
                                     "count": len(b["files"]),
                                     "size": sum(e["size"] for f_ in b["files"] for e in f_)} for b in r["bundles"]],
                        "labels": [{"name": lb["name"], "id": lb["id"], "timestamp": lb["timestamp"]}
                                   for lb in r["labels"]]} for r in repos], f, ensure_ascii=False)
    summary["buckets"] = sorted(set(all_buckets))
    write_store(a.gcs_db, summary["buckets"], w.objects)
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)
    print("datamon seed: %d objects, %s" % (len(w.objects), ", ".join(
        "%s %d repos" % (c, summary["contexts"][c]["repos"]) for c in summary["contexts"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
