"""Checks of the bastion's datamon2 stand-in (standins/datamon2), run by tests/sandbox/test-standins against a live
sandbox:

  python3 tests/sandbox/lib/datamon_checks.py DIR

Prints "ok   NAME" / "FAIL NAME" (+ indented details) lines, as test-standins does. Everything runs as opsdeck
would run it: `ssh bastion datamon2 ...`. Expected outputs are built here from DIR/datamon/summary.json and
repos-<context>.json (the seed's record), with their own formatting of Go's time.String() and url.QueryEscape:

  * version, context list/get, repo list/get (default template, opsdeck's urlquery formats, --with-size), bundle list,
    label list: byte for byte; repo get of a missing repo (exit 2); the [y|n] prompt with stdin at EOF; cobra's errors
    (unknown flag, missing --context on delete); --upgrade refused; a stray CONTEXT in the environment changing the
    context when --context is absent (viper's AutomaticEnv), and the invocation log recording it; a non-root user;
  * the purge on dm-prod: the panic without an index (exit 2, lock left, read with the real `gcloud storage`), the held
    lock's error, --force, the index chunks (chunk-1 read with gcloud), the dry-run summary against summary.json, the
    silent-delete bug through the GCS stand-in's fault switch, the real purge (the object list before and after:
    exactly the unreferenced old blobs go), the verification dry-run, a SIGTERM mid-build leaving the lock (with the
    slowness and progress switches), repo delete, delete-reverse-lookup;
  * the shared blob bucket: an index built from dm-dev covers dm-shared's blobs too, --current-context-only does not.

dm-prod's buckets are snapshotted from the GCS stand-in's store first and put back at the end, the switches cleared
and dm-dev's index dropped, so the sandbox is left as `up` made it.
"""

import http.client
import json
import os
import re
import shlex
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from deploy_checks import Checks  # noqa: E402

OPS_REPO = ('{{urlquery .Name}} {{urlquery .Description}} {{urlquery .Contributor.Name}} '
            '{{urlquery .Contributor.Email}} {{.Timestamp.UTC.Format "2006-01-02T15:04:05.999999999Z07:00"}}')
OPS_BUNDLE = ('{{urlquery .ID}} {{.Timestamp.UTC.Format "2006-01-02T15:04:05.999999999Z07:00"}} {{urlquery .Message}} '
              '{{.BundleEntriesFileCount}}')
OPS_LABEL = '{{urlquery .Name}} {{urlquery .BundleID}} {{.Timestamp.UTC.Format "2006-01-02T15:04:05.999999999Z07:00"}}'
OPS_CONTEXT = ('{{urlquery .Name}} {{urlquery .Blob}} {{urlquery .Metadata}} {{urlquery .VMetadata}} {{urlquery .WAL}} '
               '{{urlquery .ReadLog}}')
PANIC = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV"
# Above this many dm-dev repos (the benchmarks' sandboxes) the slow checks are left out.
SMALL = 500
RFC3339NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")


# ---------------------------------------------------------------------------------------------------------------
# Go's formatting, written independently of the stand-in's

def parse_stored(ts):
    """An RFC 3339 timestamp as the seed stored it: (civil parts, nanoseconds, offset seconds)."""
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", ts)
    civil = tuple(int(m[i]) for i in range(1, 7))
    nsec = int((m[7] or "").ljust(9, "0")) if m[7] else 0
    off = 0 if m[8] == "Z" else (1 if m[8][0] == "+" else -1) * (int(m[8][1:3]) * 3600 + int(m[8][4:6]) * 60)
    return civil, nsec, off


def frac(nsec):
    return ("." + ("%09d" % nsec).rstrip("0")) if nsec else ""


def go_string(ts):
    """time.Time.String() of a timestamp yaml.v2 parsed: UTC for Z, the local zone's name for its offset, else the
    unnamed fixed zone ("+0100 +0100")."""
    (y, mo, d, h, mi, s), nsec, off = parse_stored(ts)
    sign = "-" if off < 0 else "+"
    num = "%s%02d%02d" % (sign, abs(off) // 3600, abs(off) // 60 % 60)
    if off == 0 and ts.endswith("Z"):
        zone = "UTC"
    else:
        import calendar
        utc = calendar.timegm((y, mo, d, h, mi, s)) - off
        lt = time.localtime(utc)
        zone = lt.tm_zone if lt.tm_gmtoff == off else num
    return "%04d-%02d-%02d %02d:%02d:%02d%s %s %s" % (y, mo, d, h, mi, s, frac(nsec), num, zone)


def utc_nano(ts):
    import calendar
    (y, mo, d, h, mi, s), nsec, off = parse_stored(ts)
    t = time.gmtime(calendar.timegm((y, mo, d, h, mi, s)) - off)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + frac(nsec) + "Z"


def q(s):
    return urllib.parse.quote_plus(s, safe="")


def human(n):
    units = ["B", "kB", "MB", "GB", "TB"]
    x, i = float(n), 0
    while x >= 1000 and i < len(units) - 1:
        x, i = x / 1000, i + 1
    return "%.4g%s" % (x, units[i])


# ---------------------------------------------------------------------------------------------------------------

class Sandbox:
    def __init__(self, d):
        self.dir = d
        with open(os.path.join(d, "sandbox.json")) as f:
            self.sb = json.load(f)
        self.dm = os.path.join(d, "datamon")
        with open(os.path.join(self.dm, "summary.json")) as f:
            self.summary = json.load(f)
        with open(os.path.join(self.dm, "standin.json")) as f:
            conf = json.load(f)
        u = urllib.parse.urlsplit(conf["gcsUrl"])
        self.gcs = (u.hostname, u.port)
        self.tls = ssl.create_default_context(cafile=conf["caFile"])
        with open(os.path.join(d, "gcs", "control.json")) as f:
            self.control = json.load(f)["controlToken"]
        self.repos = {}
        for ctx in self.summary["contexts"]:
            with open(os.path.join(self.dm, "repos-%s.json" % ctx)) as f:
                self.repos[ctx] = json.load(f)
        self.ctl = tempfile.mkdtemp(prefix="datamon-checks-ssh.")
        self.bastion = next(h for h in self.sb["hosts"] if h["name"] == "bastion")

    def ssh(self, command, stdin=None, timeout=60):
        """COMMAND on the bastion: (exit code, stdout, stderr), decoded as UTF-8."""
        h = self.bastion
        p = subprocess.run(["ssh", "-i", h["identityFile"], "-o", "UserKnownHostsFile=" + h["knownHostsFile"],
                            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                            "-o", "ControlMaster=auto", "-o", "ControlPersist=60",
                            "-o", "ControlPath=%s/bastion" % self.ctl, "-p", str(h["port"]),
                            "root@" + h["address"], command],
                           capture_output=True, input=stdin if stdin is not None else b"", timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def dm2(self, *args, env="", stdin=None, timeout=60):
        """datamon2 ARGS on the bastion (the config file's defaults: config dm-config, context dm-dev)."""
        return self.ssh(env + "datamon2 " + " ".join(shlex.quote(a) for a in args), stdin, timeout)

    def close(self):
        subprocess.run(["ssh", "-o", "ControlPath=%s/bastion" % self.ctl, "-O", "exit", "bastion"],
                       capture_output=True)
        shutil.rmtree(self.ctl, ignore_errors=True)

    # the GCS stand-in
    def http(self, method, path, body=None, control=False):
        c = http.client.HTTPSConnection(*self.gcs, timeout=30, context=self.tls)
        headers = {"Authorization": "Bearer " + self.control} if control else {}
        if body is not None:
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def objects(self, bucket, prefix=""):
        """{name: (size, updated)} of every object in BUCKET under PREFIX, through the JSON API."""
        res, token = {}, ""
        while True:
            qs = {"maxResults": "1000", "prefix": prefix}
            if token:
                qs["pageToken"] = token
            st, data = self.http("GET", "/storage/v1/b/%s/o?%s" % (bucket, urllib.parse.urlencode(qs)))
            d = json.loads(data)
            for i in d.get("items", []):
                res[i["name"]] = (int(i["size"]), i["updated"])
            token = d.get("nextPageToken")
            if not token:
                return res

    def faults(self, rules):
        self.http("POST", "/_standin/faults", {"rules": rules}, control=True)

    def switch(self, name, value):
        path = os.path.join(self.dm, "switches", name)
        if value is None:
            if os.path.exists(path):
                os.unlink(path)
        else:
            with open(path, "w") as f:
                f.write(str(value))

    # dm-prod's buckets, straight from the GCS stand-in's store
    def snapshot(self, buckets):
        db = sqlite3.connect(os.path.join(self.dir, "gcs", "gcs.sqlite"), timeout=30)
        db.row_factory = None
        cols = [r[1] for r in db.execute("PRAGMA table_info(objects)")]
        rows = db.execute("SELECT * FROM objects WHERE bucket IN (%s)" % ",".join("?" * len(buckets)),
                          buckets).fetchall()
        db.close()
        return cols, rows

    def restore(self, buckets, snap):
        cols, rows = snap
        db = sqlite3.connect(os.path.join(self.dir, "gcs", "gcs.sqlite"), timeout=30)
        with db:
            db.executemany("DELETE FROM objects WHERE bucket = ?", [(b,) for b in buckets])
            db.executemany("INSERT INTO objects (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))), rows)
        db.close()


def expected_repo_line(r, fmt=None):
    if fmt == "ops":
        return "%s %s %s %s %s" % (q(r["name"]), q(r["description"]), q(r["contributor"]["name"]),
                                   q(r["contributor"]["email"]), utc_nano(r["timestamp"]))
    return "%s , %s , %s , %s , %s" % (r["name"], r["description"], r["contributor"]["name"],
                                       r["contributor"]["email"], go_string(r["timestamp"]))


def summary_block(meta, blob, index_time, scanned, in_use, recent, deleted, nbytes, dry):
    return ("unused blob keys removed (none is actually removed if this is a dry-run).\nMetadata store: gs://%s/\n"
            "Blob store: gs://%s/\nIndex built at: %s\nNum blob keys scanned: %d\nNum blob keys found in use: %d\n"
            "Num blob keys found more recent than index: %d\nNum blob keys deleted: %d\nNum bytes relinquished: %d\n"
            "Dry-run: %s\n" % (meta, blob, index_time, scanned, in_use, recent, deleted, nbytes,
                               "true" if dry else "false"))


def index_time_of(build_out):
    m = re.search(r"^Index built at: (.*)$", build_out, re.M)
    return m[1] if m else None


def run(c, s):
    summ = s.summary
    prod, dev = summ["contexts"]["dm-prod"], summ["contexts"]["dm-dev"]
    pblob = summ["blobBuckets"][prod["blob"]]
    sblob = summ["blobBuckets"][dev["blob"]]
    prepos = s.repos["dm-prod"]

    # -- read side
    rc, out, err = s.dm2("version")
    c.check("version", (0, "Version: 2.6.9\nBuildDate: 2023-01-27T07:58:12Z\nCommit: 1e13ea1\nWorking tree: clean\n"),
            (rc, out))
    rc, out, err = s.dm2("context", "list")
    c.check("context list: Go %v of the sorted names", (0, "[%s]\n" % " ".join(sorted(summ["contexts"]))), (rc, out))
    rc, out, err = s.dm2("context", "get", "--context", "dm-prod")
    c.check("context get: default template", (0, "Model Version: 1, Name: dm-prod, WAL: %s, ReadLog: %s, Blob: %s, "
                                                 "Metadata: %s, Version Metadata: %s\n"
                                             % (prod["wal"], prod["readlog"], prod["blob"], prod["metadata"],
                                                prod["vmetadata"])), (rc, out))
    rc, out, err = s.dm2("context", "get", "--context", "dm-prod", "--format", OPS_CONTEXT)
    c.check("context get: opsdeck's format", (0, "dm-prod %s %s %s %s %s\n" % (
        prod["blob"], prod["metadata"], prod["vmetadata"], prod["wal"], prod["readlog"])), (rc, out))
    rc, out, err = s.dm2("context", "get", "--context", "nosuch")
    c.check("context get of a missing context: exit 2", (2, "", 'ERROR: didn\'t find context "nosuch"\n'),
            (rc, out, err))

    want = "".join(expected_repo_line(r) + "\n" for r in sorted(prepos, key=lambda r: r["name"]))
    rc, out, err = s.dm2("repo", "list", "--context", "dm-prod", "--config", "dm-config", "--metrics=false")
    c.check("repo list: default template byte for byte (commas, newlines, Go time.String())", (0, want), (rc, out))
    drepos = sorted(s.repos["dm-dev"], key=lambda r: r["name"])
    want = "".join(expected_repo_line(r, "ops") + "\n" for r in drepos)
    batch = "7" if len(drepos) <= SMALL else "1024"
    rc, out, err = s.dm2("repo", "list", "--context", "dm-dev", "--format", OPS_REPO, "--batch-size", batch)
    c.check("repo list --format (urlquery, UTC RFC3339Nano), batches of %s, lexicographic" % batch, (0, want),
            (rc, out))
    c.check("repo list: nothing on stderr", "", err)

    r = next(x for x in prepos if len(x["bundles"]) >= 2 and x["labels"])
    if len(drepos) <= SMALL:
        s.switch("delay-per-key-ms", 25)
        try:
            rc, out, err = s.ssh("datamon2 repo list --context dm-dev --batch-size 10 --format '{{.Name}}' | "
                                 "while read -r line; do date +%s.%N; done")
        finally:
            s.switch("delay-per-key-ms", None)
        stamps = [float(x) for x in out.split()]
        c.check("repo list streams its batches: the first 10 rows come long before the last (delay switch, 25 ms/repo)",
                (0, len(drepos), True), (rc, len(stamps), bool(stamps) and stamps[-1] - stamps[9] > 0.5))

    else:
        c.out("# repo list streaming: left out at %d repos (25 ms each)" % len(drepos))

    rc, out, err = s.dm2("repo", "get", "--repo", r["name"], "--context", "dm-prod")
    c.check("repo get: the list line", (0, expected_repo_line(r) + "\n"), (rc, out))
    rc, out, err = s.dm2("repo", "get", "--repo", r["name"], "--context", "dm-prod", "--with-size")
    bundles = sorted(r["bundles"], key=lambda b: b["id"])
    total = sum(b["size"] for b in bundles)
    want = (expected_repo_line(r) + "\nAll bundles with their total size:\n" +
            "".join("%s , %s, %s, %d (%s)\n" % (b["id"], b["message"], go_string(b["timestamp"]), b["size"],
                                                 human(b["size"])) for b in bundles) +
            '\nGrand total for repo "%s": %d (%s)\n' % (r["name"], total, human(total)))
    c.check("repo get --with-size: bundle sizes, go-units HumanSize, grand total", (0, want), (rc, out))
    rc, out, err = s.dm2("repo", "get", "--repo", "no-such-repo", "--context", "dm-prod")
    c.check("repo get of a missing repo: exit 2, ENOENT message", (2, "", 'ERROR: didn\'t find repo "no-such-repo"\n'),
            (rc, out, err))
    rc, out, err = s.dm2("bundle", "list", "--repo", r["name"], "--context", "dm-prod")
    c.check("bundle list: default template", (0, "".join("%s , %s , %s\n" % (b["id"], go_string(b["timestamp"]),
                                                                             b["message"]) for b in bundles)), (rc, out))
    rc, out, err = s.dm2("bundle", "list", "--repo", r["name"], "--context", "dm-prod", "--format", OPS_BUNDLE)
    c.check("bundle list: opsdeck's format", (0, "".join("%s %s %s %d\n" % (q(b["id"]), utc_nano(b["timestamp"]),
                                                                            q(b["message"]), b["count"])
                                                         for b in bundles)), (rc, out))
    labels = sorted(r["labels"], key=lambda lb: lb["id"])
    rc, out, err = s.dm2("label", "list", "--repo", r["name"], "--context", "dm-prod")
    c.check("label list: default template, sorted by bundle ID", (0, "".join(
        "%s , %s , %s\n" % (lb["name"], lb["id"], go_string(lb["timestamp"])) for lb in labels)), (rc, out))
    rc, out, err = s.dm2("label", "list", "--repo", r["name"], "--context", "dm-prod", "--format", OPS_LABEL)
    c.check("label list: opsdeck's format", (0, "".join(
        "%s %s %s\n" % (q(lb["name"]), q(lb["id"]), utc_nano(lb["timestamp"])) for lb in labels)), (rc, out))
    rc, out, err = s.dm2("repo", "list", "--format", "{{.Nope}}", "--context", "dm-prod")
    c.check("a template naming a missing field: exit 1", (1, ""), (rc, out))
    c.has("  ... with Go's executing error", "can't evaluate field Nope in type model.RepoDescriptor", err)
    rc, out, err = s.dm2("repo", "list", "--format", "{{range .}}x{{end}}", "--context", "dm-prod")
    c.check("an unsupported template construct: invalid template, exit 1", (1, True),
            (rc, err.startswith("ERROR: invalid template: ")))

    # -- the CLI's own errors, the environment, the invocation log
    rc, out, err = s.dm2("repo", "list", "--bogus")
    c.check("unknown flag: cobra's Error + usage on stderr, then ERROR, exit 1", (1, "", True, True),
            (rc, out, err.startswith("Error: unknown flag: --bogus\nUsage:\n  datamon repo list [flags]\n"),
             err.endswith("\n\nERROR: unknown flag: --bogus\n")))
    rc, out, err = s.dm2("repo", "delete", "--repo", r["name"], stdin=b"y\n")
    c.check("repo delete without --context: required even with a default", (1, True),
            (rc, err.startswith('Error: required flag(s) "context" not set\nUsage:')))
    rc, out, err = s.dm2("repo", "delete", "--repo", r["name"], "--context", "dm-prod")
    c.check("repo delete, stdin at EOF: the prompt on stdout, user aborted, exit 1",
            (1, 'Are you sure you want to delete from repo medata for "%s" [y|n]\n' % r["name"],
             "ERROR: user aborted\n"), (rc, out, err))
    rc, out, err = s.dm2("repo", "get", "--repo", r["name"], "--context", "dm-prod")
    c.check("  ... and the repo is still there", 0, rc)
    rc, out, err = s.dm2("repo", "delete", "--repo", r["name"], "--context", "dm-prod", stdin=b"n\n")
    c.check("repo delete answered n: user aborted", (1, "ERROR: user aborted\n"), (rc, err))
    rc, out, err = s.dm2("--upgrade", "version")
    c.check("--upgrade: refused loudly, exit 1", (1, "", True), (rc, out, "refuses" in err))

    with open(os.path.join(s.dm, "invocations.log")) as f:
        before = len(f.read().splitlines())
    rc, out, err = s.dm2("repo", "list", "--format", "{{.Name}}", env="CONTEXT=dm-prod ")
    c.check("a stray CONTEXT=dm-prod (viper's AutomaticEnv over the config file's context:) lists dm-prod",
            (0, "".join(x["name"] + "\n" for x in sorted(prepos, key=lambda x: x["name"]))), (rc, out))
    rc, out, err = s.dm2("repo", "list", "--format", "{{.Name}}", "--context", "dm-dev", env="CONTEXT=dm-prod ")
    c.check("  ... and --context wins over it", sorted(x["name"] for x in s.repos["dm-dev"]), out.split())
    rc, out, err = s.dm2("repo", "list", "--format", "{{.Name}}", env="DATAMON_CONTEXT=dm-shared CONTEXT=dm-prod ")
    c.check("  ... DATAMON_CONTEXT wins over CONTEXT", sorted(x["name"] for x in s.repos["dm-shared"]), out.split())
    with open(os.path.join(s.dm, "invocations.log")) as f:
        lines = [x for x in map(json.loads, f.read().splitlines()[before:]) if "{{.Name}}" in x["argv"]]
    c.check("invocation log: one line per run, argv, env names, exit code",
            (3, ["datamon2", "repo", "list", "--format", "{{.Name}}"], True, 0, True),
            (len(lines), lines[0]["argv"], "CONTEXT" in lines[0]["env"], lines[0]["exitCode"],
             all(x["end"] and x["pid"] > 0 for x in lines)))
    rc, out, err = s.ssh('/usr/sbin/runuser -u opsdeck-sandbox -- env HOME="$HOME" datamon2 context list')
    c.check("a non-root user runs it (the bastion's password login user)",
            (0, "[%s]\n" % " ".join(sorted(s.summary["contexts"]))), (rc, out))

    # -- purge on dm-prod (its own blob bucket)
    if len(drepos) > SMALL:
        c.out("# purge checks: left out at %d repos in dm-dev (minutes at benchmark sizes)" % len(drepos))
        return
    wd = "/tmp/datamon-checks-work"
    purge = ["--context", "dm-prod", "--local-work-dir", wd]
    meta = prod["metadata"]
    rc, out, err = s.dm2("purge", "delete-reverse-lookup", *purge)
    c.check("delete-reverse-lookup without an index: exit 0, no output", (0, ""), (rc, out))
    rc, out, err = s.dm2("purge", "delete-unused", "--dry-run", *purge)
    c.check("delete-unused without an index: a Go panic, exit 2", (2, "", True, True),
            (rc, out, PANIC in err, "\ngoroutine 1 [running]:\ngithub.com/oneconcern/datamon/pkg/core.PurgeDeleteUnused"
             in err))
    c.check("  ... and the lock stays behind", True, "purge.lock" in s.objects(meta, "purge.lock"))
    rc, out, err = s.dm2("purge", "build-reverse-lookup", *purge)
    c.check("build-reverse-lookup with the lock held: exit 1, upstream's message", (1, "", True), (
        rc, out, err.endswith("ERROR: building reverse-lookup: another purge job is running: a lock exist "
                              "[purge.lock]: gs://%s/\n" % meta)))

    rc, build, err = s.dm2("purge", "build-reverse-lookup", "--force", *purge)
    itime = index_time_of(build)
    c.check("build-reverse-lookup --force: the summary and the remove-unused hint", (0, (
        "An index of the blob keys in use is now built in metadata.\nMetadata store: gs://%s/\nBlob store: gs://%s/\n"
        "Index built at: %s\nNum entries (blob keys): %d\n\nYou may now use datamon purge remove-unused\n"
        % (meta, prod["blob"], itime, pblob["referencedKeys"]))), (rc, build))
    c.has("  ... zap progress lines (scanning repos)", '"msg":"scanning repos"', err)
    c.check("  ... the lock released", False, "purge.lock" in s.objects(meta, "purge.lock"))
    c.check("  ... chunk-1 with the keys, chunk-2 only the header (upstream's last empty chunk)",
            ["reverse-index/chunk-1.yaml", "reverse-index/chunk-2.yaml"], sorted(s.objects(meta, "reverse-index/")))
    st, data = s.http("GET", "/storage/v1/b/%s/o/reverse-index%%2Fchunk-1.yaml?alt=media" % meta)
    chunk = data.decode().split("\n")
    c.check("chunk-1.yaml: the index time in RFC3339Nano, then the keys", (True, pblob["referencedKeys"]),
            (itime is not None and itime.replace(" +0000 UTC", "").replace(" ", "T") + "Z" == chunk[0],
             len([k for k in chunk[1:] if k])))
    index = set(k for k in chunk[1:] if k)

    rc, out, err = s.dm2("purge", "delete-unused", "--dry-run", *purge)
    c.check("delete-unused --dry-run: the summary block against summary.json", (0, summary_block(
        meta, prod["blob"], itime, pblob["keys"], pblob["referencedKeys"], pblob["newerKeys"],
        pblob["unreferencedOldKeys"], pblob["unreferencedOldBytes"], True)), (rc, out))
    c.has("  ... dry-run decisions logged at info", '"msg":"key to be deleted (dry-run)"', err)
    objs_before = s.objects(prod["blob"])

    s.faults([{"op": "delete", "bucket": prod["blob"], "status": 503}])
    try:
        rc, out, err = s.dm2("purge", "delete-unused", *purge)
    finally:
        s.faults([])
    c.check("silent-delete bug: every delete fails (503) yet exit 0 and all counted as deleted", (0, summary_block(
        meta, prod["blob"], itime, pblob["keys"], pblob["referencedKeys"], pblob["newerKeys"],
        pblob["unreferencedOldKeys"], pblob["unreferencedOldBytes"], False)), (rc, out))
    c.check("  ... and nothing was deleted", len(objs_before), len(s.objects(prod["blob"])))

    rc, out, err = s.dm2("purge", "delete-unused", *purge)
    objs_after = s.objects(prod["blob"])
    gone = set(objs_before) - set(objs_after)
    c.check("delete-unused: exit 0", 0, rc)
    c.check("  ... exactly the unreferenced old blobs went (object list before and after)",
            (pblob["unreferencedOldKeys"], pblob["unreferencedOldBytes"], set(), set()),
            (len(gone), sum(objs_before[k][0] for k in gone), gone & index, set(objs_after) - set(objs_before)))
    c.check("  ... none of them newer than the index", True,
            all(objs_before[k][1] < utc_nano(itime.replace(" +0000 UTC", "").replace(" ", "T") + "Z") for k in gone))
    rc, out, err = s.dm2("purge", "delete-unused", "--dry-run", *purge)
    c.check("verification dry-run: nothing left to delete", (0, summary_block(
        meta, prod["blob"], itime, pblob["keys"] - len(gone), pblob["referencedKeys"], pblob["newerKeys"], 0, 0,
        True)), (rc, out))

    # killed mid-build: slowness and progress switches (files under DIR/datamon/switches)
    s.switch("delay-per-key-ms", 20)
    s.switch("progress-seconds", 1)
    try:
        cmd = ("datamon2 purge build-reverse-lookup --context dm-prod --local-work-dir %s >/dev/null 2>/tmp/dmck.err & "
               "pid=$!; sleep 2.5; du -sk %s | cut -f1; kill -TERM $pid; wait $pid; echo rc=$?; cat /tmp/dmck.err; "
               "rm -f /tmp/dmck.err" % (wd, wd))
        rc, out, err = s.ssh(cmd)
    finally:
        s.switch("delay-per-key-ms", None)
        s.switch("progress-seconds", None)
    c.check("SIGTERM mid-build: killed at once (no handler)", True, "\nrc=143\n" in out)
    c.has("  ... the periodic progress line (progress-seconds switch)", '"msg":"keys scanned so far for this context"',
          out)
    c.check("  ... a real work dir with data in it", True, int(out.split("\n")[0] or 0) > 0)
    c.check("  ... the lock stays behind", True, "purge.lock" in s.objects(meta, "purge.lock"))
    # the lock and the index as opsdeck reads them: the real gcloud on the bastion (one call: gcloud starts slowly)
    rc, out, err = s.ssh("gcloud storage cat gs://%s/purge.lock gs://%s/reverse-index/chunk-1.yaml" % (meta, meta))
    lock, _, rest = out.partition("\n")
    c.check("gcloud storage cat purge.lock: locked_at in Go's UTC time.String()", (0, True), (rc, bool(re.fullmatch(
        r'locked_at: "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d*[1-9])? \+0000 UTC"', lock))))
    c.check("gcloud storage cat reverse-index/chunk-1.yaml: the same index (RFC3339Nano time, keys)", (True, True),
            (bool(RFC3339NANO.match(rest.split("\n")[0])), rest == "\n".join(chunk)))
    rc, out, err = s.dm2("purge", "delete-reverse-lookup", *purge)
    c.check("delete-reverse-lookup with that lock: held", (1, True), (rc, "a lock exist [purge.lock]" in err))
    rc, out, err = s.dm2("purge", "delete-reverse-lookup", "--force", *purge)
    c.check("delete-reverse-lookup --force: every chunk and the lock gone", (0, {}),
            (rc, {k: v for k, v in s.objects(meta).items() if k.startswith("reverse-index/") or k == "purge.lock"}))

    reqlog = os.path.join(s.dir, "gcs", "requests.log")
    mark = os.path.getsize(reqlog)
    rc, out, err = s.dm2("repo", "delete", "--repo", r["name"], "--context", "dm-prod", "--force-yes")
    c.check("repo delete --force-yes: exit 0, nothing on stdout", (0, ""), (rc, out))
    with open(reqlog, "rb") as f:
        f.seek(mark)
        recs = [json.loads(x) for x in f.read().decode().splitlines()]
    deletes = [x["object"] for x in recs if x["method"] == "DELETE" and (x["object"] or "").count("/") >= 2 and
               x["object"].split("/")[1] == r["name"]]
    kinds = [x.split("/")[0] for x in deletes]
    c.check("  ... deletes in upstream's order: bundles (file lists, bundle.yaml), labels, repo.yaml",
            (True, ["bundles"] * (2 * len(r["bundles"]) + sum(b["count"] - 1 for b in r["bundles"])) +
             ["labels"] * len(r["labels"]) + ["repos"]),
            (all(deletes[i].endswith("bundle.yaml") for i in range(len(deletes)) if i + 1 < len(deletes) and
                 kinds[i] == "bundles" and kinds[i + 1] != "bundles"), kinds))
    c.has("  ... the zap line", '"msg":"deleting repo","repo":"%s"' % r["name"], err)
    rc, out, err = s.dm2("repo", "get", "--repo", r["name"], "--context", "dm-prod")
    c.check("  ... repo get exits 2 afterwards", 2, rc)
    c.check("  ... its bundles, file lists and labels gone; other repos kept", ({}, {}, len(prepos) - 1), (
        s.objects(meta, "bundles/%s/" % r["name"]), s.objects(prod["vmetadata"], "labels/%s/" % r["name"]),
        len(s.objects(meta, "repos/"))))

    s.ssh("rm -rf " + wd)


def shared_bucket(c, s):
    """dm-dev's index covers dm-shared's blobs (nothing deleted); runs beside run(): other metadata bucket."""
    summ = s.summary
    dev = summ["contexts"]["dm-dev"]
    sblob = summ["blobBuckets"][dev["blob"]]
    wd = "/tmp/datamon-checks-work-dev"
    if dev["repos"] > SMALL:
        return
    dpurge = ["--context", "dm-dev", "--local-work-dir", wd]
    rc, build, err = s.dm2("purge", "build-reverse-lookup", *dpurge)
    rc2, out, err = s.dm2("purge", "delete-unused", "--dry-run", *dpurge)
    c.check("shared blob bucket: dm-dev's index includes dm-shared's keys (dry-run against summary.json)",
            (0, 0, summary_block(dev["metadata"], dev["blob"], index_time_of(build), sblob["keys"],
                                 sblob["referencedKeys"], sblob["newerKeys"], sblob["unreferencedOldKeys"],
                                 sblob["unreferencedOldBytes"], True)), (rc, rc2, out))
    rc, build, err = s.dm2("purge", "build-reverse-lookup", "--current-context-only", *dpurge)
    rc2, out, err = s.dm2("purge", "delete-unused", "--dry-run", *dpurge)
    m = re.search(r"Num blob keys deleted: (\d+)", out)
    c.check("  ... --current-context-only would delete dm-shared's blobs too",
            (0, 0, sblob["deletedIfCurrentContextOnly"]["dm-dev"]), (rc, rc2, int(m[1]) if m else None))
    rc, out, err = s.dm2("purge", "delete-reverse-lookup", *dpurge)
    c.check("  ... dm-dev's index dropped again", (0, {}), (rc, s.objects(dev["metadata"], "reverse-index/")))
    s.ssh("rm -rf " + wd)


def main(d):
    c = Checks()
    s = Sandbox(d)
    prod = s.summary["contexts"]["dm-prod"]
    buckets = [prod["metadata"], prod["vmetadata"], prod["blob"]]
    snap = s.snapshot(buckets)
    shared = Checks()
    side = threading.Thread(target=guarded, args=(shared_bucket, shared, s))
    side.start()
    try:
        guarded(run, c, s)
    finally:
        side.join()
        s.faults([])
        for name in ("delay-per-key-ms", "progress-seconds"):
            s.switch(name, None)
        s.restore(buckets, snap)
        s.close()
    c.flush()
    shared.flush()
    return 1 if c.failed or shared.failed else 0


def guarded(fn, c, s):
    try:
        fn(c, s)
    except Exception as e:  # a broken stand-in: report it as a failure, not a traceback
        import traceback
        c.bad("datamon checks (%s)" % fn.__name__, "%s: %s" % (type(e).__name__, e), traceback.format_exc()[-1500:])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: datamon_checks.py DIR")
    sys.exit(main(sys.argv[1]))
