"""Checks of the Google Cloud Storage JSON API stand-in (standins/gcs), run by tests/sandbox/test-standins against a
live sandbox:

  python3 tests/sandbox/lib/gcs_checks.py DIR

Prints "ok   NAME" / "FAIL NAME" (+ indented details) lines, as test-standins does. In its own bucket (made through
the API, seeded with `gcs import`, removed at the end):

  * the real `gcloud storage` over SSH on the bastion (root with the sandbox key; cp from stdin, a resumable
    upload, as the password user), with the configuration `up` wrote there: ls of a prefix (objects and a
    sub-prefix), ls of 2,500 objects (three pages, from the request log), cat, cat --range, cp up (the bytes and
    hashes as stored) and down (gcloud's md5 check passes, and fails on an object whose stored md5 is wrong),
    objects describe --format=json (md5 and a crc32c computed here independently), rm, cp --if-generation-match=0
    onto an existing object (HTTP 412, nothing written), cat of a missing object (404);
  * the API directly: buckets.list, error bodies (404 object and bucket, 412), the preconditions on uploads, reads
    (304), patches and deletes, Range (206, 416), x-goog-hash, the CRC-32C check value, multipart and resumable
    uploads (chunks, 308), delimiter listings and keyset pages, the `fields` selection, an imported object's
    `updated`;
  * the fault rules (the control token; 503 for the next N deletes, 403 for a prefix, cleared) and the request log.
gcloud's start-up (~1.5 s of CPU per command) dominates: its commands run three at a time.
"""

import base64
import concurrent.futures
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from deploy_checks import Checks, Client, close_ssh, ssh  # noqa: E402

STANDIN = os.path.join(os.path.dirname(HERE), "standins", "gcs")
BUCKET = "opsdeck-gcs-checks"
MANY = 2500
BIN = bytes((i * 7 + (i >> 8) * 13) & 0xFF for i in range(5000))
HELLO = b"hello from the sandbox\n"
UPLOADED = b"uploaded by gcloud over ssh\n"
STREAMED = b"locked_at: 2026-12-05T08:00:00Z\n"
PRECONDITION = "At least one of the pre-conditions you specified did not hold."
TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
OBJECT_KEYS = {"kind", "id", "selfLink", "mediaLink", "name", "bucket", "generation", "metageneration", "contentType",
               "storageClass", "size", "md5Hash", "crc32c", "etag", "timeCreated", "updated",
               "timeStorageClassUpdated", "timeFinalized"}


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def gs(name=""):
    return "gs://%s/%s" % (BUCKET, name)


def opath(name, bucket=BUCKET):
    return "/storage/v1/b/%s/o/%s" % (bucket, urllib.parse.quote(name, safe=""))


class Gcs:
    def __init__(self, sb):
        g = sb["gcs"]
        self.g = g
        self.api = Client(g["endpoint"], g["caFile"])
        self.ctl = Client(g["endpoint"], g["caFile"], g["controlToken"])

    def raw(self, method, path, data=b"", headers=None):
        """(status, headers (lower-case), body bytes) of a request with a raw body."""
        conn = self.api.conn
        conn.request(method, path, body=data, headers=dict(headers or {}, **{"Content-Length": str(len(data))}))
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    def upload(self, name, data, query="", ctype="application/octet-stream"):
        status, _, body = self.raw("POST", "/upload/storage/v1/b/%s/o?uploadType=media&name=%s%s" % (
            BUCKET, urllib.parse.quote(name, safe=""), query), data, {"Content-Type": ctype})
        return status, json.loads(body) if body else None

    def get(self, name, query=""):
        status, _, body = self.api.request("GET", opath(name) + query)
        return status, json.loads(body) if body else None

    def log(self):
        with open(self.g["requestLog"]) as f:
            return [json.loads(line) for line in f]


def gcloud(sb, script, user="root"):
    """SCRIPT (sh) on the bastion over SSH, as root or (with runuser and the session's HOME) the password user;
    (exit code, stdout, stderr, seconds)."""
    if user != "root":
        script = "/usr/sbin/runuser -u %s -- env HOME=\"$HOME\" sh -c %s" % (user, sh_quote(script))
    t = time.monotonic()
    r = ssh(sb, sb["gcs"]["gcloudHost"], script)
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t


def sh_quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"


def with_tmp(body):
    """A shell script running BODY with $t a fresh temporary directory, removed afterwards; BODY's exit code."""
    return 't=$(mktemp -d) || exit 1; ( %s ); rc=$?; rm -rf "$t"; exit $rc' % body


def seed(sb, gcs):
    """The checks' bucket through the API (buckets.insert), its objects with `gcs import`."""
    status, _, body = gcs.api.json("POST", "/storage/v1/b?project=opsdeck-sandbox", {"name": BUCKET})
    if status != 200:
        raise RuntimeError("buckets.insert %s: %s %s" % (BUCKET, status, body))
    lines = [{"bucket": BUCKET, "name": "data/bin.dat", "content_b64": base64.b64encode(BIN).decode()},
             {"bucket": BUCKET, "name": "data/hello.txt", "content_b64": base64.b64encode(HELLO).decode(),
              "contentType": "text/plain"},
             {"bucket": BUCKET, "name": "data/check.txt", "content_b64": base64.b64encode(b"123456789").decode()},
             {"bucket": BUCKET, "name": "data/sub/inner.txt", "size": 10, "fill": "i"},
             {"bucket": BUCKET, "name": "rm/del.txt", "size": 3, "fill": "d"},
             {"bucket": BUCKET, "name": "rsync/from/new.txt", "size": 5, "fill": "n"},
             {"bucket": BUCKET, "name": "rsync/from/taken.txt", "size": 5, "fill": "o"},
             {"bucket": BUCKET, "name": "rsync/to/taken.txt", "size": 7, "fill": "t"},
             {"bucket": BUCKET, "name": "data/corrupt.dat", "size": 100, "fill": "c"},
             {"bucket": BUCKET, "name": "old/blob", "size": 64, "fill": "o", "updated": "2020-01-02T03:04:05Z"}]
    lines += [{"bucket": BUCKET, "name": "many/obj-%05d" % i, "size": i % 97, "fill": "m%d" % i}
              for i in range(MANY)]
    r = subprocess.run([sys.executable, STANDIN, "import", sb["gcs"]["stateDir"]], capture_output=True, text=True,
                       input="".join(json.dumps(x) + "\n" for x in lines))
    if r.returncode != 0:
        raise RuntimeError("gcs import: %s" % r.stderr)
    # An object whose stored md5 is not that of its bytes: gcloud's download check must catch it.
    with sqlite3.connect(sb["gcs"]["database"], timeout=30) as db:
        db.execute("UPDATE objects SET md5 = ? WHERE bucket = ? AND name = ?",
                   (b64md5(b"something else"), BUCKET, "data/corrupt.dat"))
    return r.stdout.strip()


def remove_bucket(sb):
    """The checks' bucket and objects, straight from the store (as a seeder may write it)."""
    with sqlite3.connect(sb["gcs"]["database"], timeout=30) as db:
        db.execute("DELETE FROM objects WHERE bucket = ?", (BUCKET,))
        db.execute("DELETE FROM buckets WHERE name = ?", (BUCKET,))


GCLOUD = {
    "ls prefix": "gcloud storage ls " + gs("data/"),
    "ls 2500": "gcloud storage ls " + gs("many/"),
    "cat": "gcloud storage cat %s | base64 -w0" % gs("data/bin.dat"),
    "cat range": "gcloud storage cat --range=100-199 %s | base64 -w0" % gs("data/bin.dat"),
    "describe": "gcloud storage objects describe %s --format=json" % gs("data/bin.dat"),
    "cp down": with_tmp('gcloud storage cp %s "$t/bin.dat" && base64 -w0 "$t/bin.dat"' % gs("data/bin.dat")),
    "cp down corrupt": with_tmp('gcloud storage cp %s "$t/c.dat"; rc=$?; ls "$t"; exit $rc' % gs("data/corrupt.dat")),
    "cp up": with_tmp('printf "%%s" %s >"$t/up.txt" && gcloud storage cp "$t/up.txt" %s'
                      % (sh_quote(UPLOADED.decode()), gs("up/new.txt"))),
    "cp if-generation-match=0": with_tmp('printf x >"$t/x.txt" && gcloud storage cp --if-generation-match=0 '
                                         '"$t/x.txt" %s' % gs("data/hello.txt")),
    "cat missing": "gcloud storage cat " + gs("data/missing.txt"),
    "rm": "gcloud storage rm " + gs("rm/del.txt"),
    # What a datamon repo delete's undo window does: a folder into the trash, and back without replacing anything.
    "rsync": "gcloud storage rsync --recursive --quiet %s %s" % (gs("data/sub"), gs("trash/sub")),
    "rsync back": "gcloud storage rsync --recursive --no-clobber --quiet %s %s" % (gs("rsync/from"), gs("rsync/to")),
}


def run_gcloud(sb):
    """Every GCLOUD command (three at a time: each is ~1.5 s of CPU, most of it gcloud's start-up) and one as the
    password user: {name: (rc, out, err, seconds)}."""
    jobs = dict(GCLOUD)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = {name: pool.submit(gcloud, sb, script) for name, script in jobs.items()}
        futures["cp - (password user)"] = pool.submit(gcloud, sb, "printf %%s %s | gcloud storage cp - %s" % (
            sh_quote(STREAMED.decode()), gs("up/stream.txt")), sb["passwordAuth"]["user"])
        return {name: f.result() for name, f in futures.items()}


def check_gcloud(c, gcs, res, log_before):
    c.out("# gcs stand-in: the real gcloud storage on the bastion (%s)" % ", ".join(
        "%s %.1fs" % (n, r[3]) for n, r in sorted(res.items(), key=lambda x: -x[1][3])[:3]))
    want_ls = "\n".join(gs(n) for n in ("data/bin.dat", "data/check.txt", "data/corrupt.dat", "data/hello.txt",
                                        "data/sub/")) + "\n"
    rc, out, err, _ = res["ls prefix"]
    c.check("gcloud storage ls gs://B/data/: the objects and the sub-prefix", (0, want_ls), (rc, out))
    rc, out, err, _ = res["cp - (password user)"]
    _, _, data = gcs.api.request("GET", opath("up/stream.txt") + "?alt=media")
    c.check("gcloud storage cp - (stdin) as the password user (its HOME's configuration): the bytes stored",
            (0, STREAMED), (rc, data))
    rc, out, err, _ = res["ls 2500"]
    c.check("gcloud storage ls of %d objects: every name, in order" % MANY,
            (0, [gs("many/obj-%05d" % i) for i in range(MANY)]), (rc, out.splitlines()))
    rc, out, err, _ = res["cat"]
    c.check("gcloud storage cat: the bytes", (0, BIN), (rc, base64.b64decode(out)))
    rc, out, err, _ = res["cat range"]
    c.check("gcloud storage cat --range=100-199: those 100 bytes", (0, BIN[100:200]), (rc, base64.b64decode(out)))
    rc, out, err, _ = res["describe"]
    d = json.loads(out) if rc == 0 else {}
    c.check("gcloud storage objects describe --format=json: name, size, md5, content type",
            ("data/bin.dat", 5000, b64md5(BIN), "application/octet-stream"),
            (d.get("name"), d.get("size"), d.get("md5_hash"), d.get("content_type")))
    c.check("... and its crc32c_hash is the CRC-32C of the bytes (computed bit by bit here)",
            base64.b64encode(crc32c_bitwise(BIN).to_bytes(4, "big")).decode(), d.get("crc32c_hash"))
    rc, out, err, _ = res["cp down"]
    c.check("gcloud storage cp down (its md5 check passes): the bytes", (0, BIN), (rc, base64.b64decode(out)))
    rc, out, err, _ = res["cp down corrupt"]
    c.check("gcloud storage cp down of an object whose stored md5 is wrong: fails, no file left", (1, ""), (rc, out))
    c.has("... with gcloud's hash mismatch error", "does not match destination hash", err)
    rc, out, err, _ = res["cp up"]
    st, o = gcs.get("up/new.txt")
    _, _, data = gcs.api.request("GET", opath("up/new.txt") + "?alt=media")
    c.check("gcloud storage cp up: stored bytes, size, md5, content type",
            (0, 200, UPLOADED, str(len(UPLOADED)), b64md5(UPLOADED), "text/plain"),
            (rc, st, data, o.get("size"), o.get("md5Hash"), o.get("contentType")))
    rc, out, err, _ = res["cp if-generation-match=0"]
    c.check("gcloud storage cp --if-generation-match=0 onto an existing object: exit 1", 1, rc)
    c.has("... HTTP 412 in gcloud's words", "HTTPError 412: " + PRECONDITION, err)
    _, _, data = gcs.api.request("GET", opath("data/hello.txt") + "?alt=media")
    c.check("... the object is unchanged", HELLO, data)
    rc, out, err, _ = res["cat missing"]
    c.check("gcloud storage cat of a missing object: exit 1", 1, rc)
    c.has("... gcloud says it matched nothing", "matched no objects", err)
    rc, out, err, _ = res["rm"]
    c.check("gcloud storage rm: exit 0, the object is gone (404)", (0, 404), (rc, gcs.get("rm/del.txt")[0]))
    rc, out, err, _ = res["rsync"]
    st, o = gcs.get("trash/sub/inner.txt")
    c.check("gcloud storage rsync --recursive of a folder (its listing selects metadata/goog-reserved-* fields): "
            "exit 0, the object copied with its crc32c", (0, 200, gcs.get("data/sub/inner.txt")[1].get("crc32c")),
            (rc, st, o.get("crc32c")))
    rc, out, err, _ = res["rsync back"]
    _, _, taken = gcs.api.request("GET", opath("rsync/to/taken.txt") + "?alt=media")
    c.check("gcloud storage rsync --no-clobber: exit 0, the missing object copied, the existing one left as it was",
            (0, 200, b"ttttttt"), (rc, gcs.get("rsync/to/new.txt")[0], taken))

    log = gcs.log()[log_before:]
    mine = [x for x in log if x.get("bucket") == BUCKET]

    def lines(method, obj=None, path=None, **q):
        return [x for x in mine if x["method"] == method and (obj is None or x.get("object") == obj)
                and (path is None or x["path"] == path)
                and all(urllib.parse.parse_qs(x["query"]).get(k) == [v] for k, v in q.items())]

    pages = [x for x in lines("GET", path="/storage/v1/b/%s/o" % BUCKET, prefix="many/", maxResults="1000")]
    c.check("request log: ls of %d objects took 3 pages of 1,000 (the last two with a pageToken)" % MANY,
            (3, [False, True, True]), (len(pages), ["pageToken" in x["query"] for x in pages]))
    ups = lines("POST", "data/hello.txt", ifGenerationMatch="0")
    c.check("request log: the conditional upload sent ifGenerationMatch=0 and got 412", [412],
            [x["status"] for x in ups])
    c.check("request log: the missing object was a 404", True, 404 in [x["status"] for x in lines(
        "GET", "data/missing.txt")])
    c.check("request log: rm was one DELETE, 204", [204], [x["status"] for x in lines("DELETE", "rm/del.txt")])
    c.check("request log: the stdin upload was resumable (a session under /resumable/upload/, then a PUT)",
            [("POST", 200, "/resumable/upload/storage/v1/b/%s/o" % BUCKET), ("PUT", 200, "/upload/storage/v1/b/%s/o"
                                                                             % BUCKET)],
            [(x["method"], x["status"], x["path"]) for x in mine if x.get("object") == "up/stream.txt"
             and x["method"] in ("POST", "PUT")])
    ranged = [x.get("range") for x in lines("GET", "data/bin.dat") if x["path"].startswith("/download/")]
    c.check("request log: cat --range sent Range: bytes=100-199 (mediaLink download)", True,
            "bytes=100-199" in ranged)
    c.check("request log: nothing under many/ was written or deleted", [],
            [x for x in mine if x["method"] != "GET" and (x.get("object") or "").startswith("many/")])


def check_api(c, gcs):
    c.out("# gcs stand-in: the JSON API directly")
    st, body = gcs.get("data/missing.txt")
    msg = "No such object: %s/data/missing.txt" % BUCKET
    c.check("404 object: GCS's error body", (404, {"error": {"code": 404, "message": msg, "errors": [
        {"message": msg, "domain": "global", "reason": "notFound"}]}}), (st, body))
    st, _, body = gcs.api.json("GET", "/storage/v1/b/no-such-bucket-here/o")
    c.check("404 bucket: The specified bucket does not exist.", (404, "The specified bucket does not exist."),
            (st, body["error"]["message"]))
    st, o = gcs.get("data/bin.dat")
    c.check("object resource: GCS's fields", set(), OBJECT_KEYS - set(o))
    gen = int(o["generation"])
    c.check("object resource: kind, id, size and generation as strings, times with ms and Z",
            ("storage#object", "%s/data/bin.dat/%d" % (BUCKET, gen), "5000", True, True),
            (o["kind"], o["id"], o["size"], o["generation"].isdigit() and o["metageneration"] == "1",
             bool(TIME_RE.fullmatch(o["updated"]) and TIME_RE.fullmatch(o["timeCreated"]))))
    et = base64.b64decode(o["etag"])
    c.check("etag: protobuf fields 1 (generation) and 2 (metageneration)", (8, gen, b"\x10\x01"),
            (et[0], decode_varint(et[1:-2]), et[-2:]))
    c.check("crc32c of '123456789': the CRC-32C check value 0xE3069283", base64.b64encode(
        bytes.fromhex("e3069283")).decode(), gcs.get("data/check.txt")[1]["crc32c"])
    c.check("an imported object keeps the `updated` it was given", "2020-01-02T03:04:05.000Z",
            gcs.get("old/blob")[1]["updated"])
    # A seeder may leave md5 and crc32c NULL: the first read fills them in; a delete needs them too.
    with sqlite3.connect(gcs.g["database"], timeout=30) as db:
        db.executemany("INSERT INTO objects (bucket, name, generation, size, created, updated, content) VALUES "
                       "(?, ?, 1, 3, '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z', CAST('abc' AS BLOB))",
                       [(BUCKET, "seeded/get"), (BUCKET, "seeded/delete")])
    st, seeded = gcs.get("seeded/get")
    c.check("an object seeded without hashes: md5Hash and crc32c computed on read", (200, b64md5(b"abc"), "Nks/tw=="),
            (st, seeded.get("md5Hash"), seeded.get("crc32c")))
    c.check("... and one deleted before any read: 204", 204, gcs.api.request("DELETE", opath("seeded/delete"))[0])
    st, h, data = gcs.raw("GET", opath("data/bin.dat") + "?alt=media", headers={"Range": "bytes=4990-"})
    c.check("Range bytes=4990-: 206, Content-Range, the bytes", (206, "bytes 4990-4999/5000", BIN[4990:]),
            (st, h.get("content-range"), data))
    st, h, data = gcs.raw("GET", opath("data/bin.dat") + "?alt=media", headers={"Range": "bytes=-10"})
    c.check("Range bytes=-10: the last 10 bytes", (206, BIN[-10:]), (st, data))
    st, h, data = gcs.raw("GET", opath("data/bin.dat") + "?alt=media", headers={"Range": "bytes=6000-"})
    c.check("Range past the end: 416 requestedRangeNotSatisfiable", (416, "requestedRangeNotSatisfiable"),
            (st, json.loads(data)["error"]["errors"][0]["reason"]))
    st, h, data = gcs.raw("GET", opath("data/bin.dat") + "?alt=media")
    c.check("full download: 200, x-goog-hash and x-goog-generation", (200, "crc32c=%s,md5=%s" % (
        o["crc32c"], o["md5Hash"]), o["generation"], BIN), (st, h.get("x-goog-hash"), h.get("x-goog-generation"),
                                                            data))

    st, body = gcs.upload("pre/new", b"one", "&ifGenerationMatch=0")
    c.check("upload with ifGenerationMatch=0 of a new name: 200, metageneration 1", (200, "1"),
            (st, body.get("metageneration")))
    gen1 = body["generation"]
    st, body = gcs.upload("pre/new", b"two", "&ifGenerationMatch=0")
    c.check("again: 412 conditionNotMet, GCS's body", (412, {"error": {"code": 412, "message": PRECONDITION, "errors": [
        {"message": PRECONDITION, "domain": "global", "reason": "conditionNotMet", "locationType": "header",
         "location": "If-Match"}]}}), (st, body))
    st, body = gcs.upload("pre/new", b"three", "&ifGenerationMatch=" + gen1)
    c.check("upload with ifGenerationMatch=<current>: a newer generation", (200, True),
            (st, int(body["generation"]) > int(gen1)))
    gen2 = body["generation"]
    c.check("upload with ifGenerationNotMatch=<current>: 412", 412,
            gcs.upload("pre/new", b"four", "&ifGenerationNotMatch=" + gen2)[0])
    c.check("get with ifGenerationNotMatch=<current>: 304", 304, gcs.get("pre/new", "?ifGenerationNotMatch=" + gen2)[0])
    c.check("get with generation=<old one>: 404 (no versions)", 404, gcs.get("pre/new", "?generation=" + gen1)[0])
    st, _, body = gcs.api.json("PATCH", opath("pre/new") + "?ifMetagenerationMatch=1",
                               {"metadata": {"k": "v"}, "contentType": "text/x-check"})
    c.check("patch with ifMetagenerationMatch=1: metageneration 2, metadata, content type, same generation",
            (200, "2", {"k": "v"}, "text/x-check", gen2),
            (st, body.get("metageneration"), body.get("metadata"), body.get("contentType"), body.get("generation")))
    st, _, body = gcs.api.json("PATCH", opath("pre/new") + "?ifMetagenerationMatch=1", {"metadata": {"k": "w"}})
    c.check("patch with ifMetagenerationMatch=1 again: 412", 412, st)
    st, _, _ = gcs.api.request("DELETE", opath("pre/new") + "?ifGenerationMatch=" + gen1)
    c.check("delete with ifGenerationMatch=<old>: 412, the object stays", (412, 200), (st, gcs.get("pre/new")[0]))
    st, _, _ = gcs.api.request("DELETE", opath("pre/new") + "?ifGenerationMatch=" + gen2)
    c.check("delete with ifGenerationMatch=<current>: 204, gone", (204, 404), (st, gcs.get("pre/new")[0]))

    boundary = "===============0123456789=="
    body = ("--%s\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n%s\r\n--%s\r\nContent-Type: text/csv\r\n\r\n"
            % (boundary, json.dumps({"name": "up/multi.csv", "metadata": {"a": "b"}}), boundary)).encode() + \
        b"x,y\r\n1,2\r\n" + ("\r\n--%s--\r\n" % boundary).encode()
    st, _, data = gcs.raw("POST", "/upload/storage/v1/b/%s/o?uploadType=multipart" % BUCKET, body,
                          {"Content-Type": "multipart/related; boundary=%s" % boundary})
    o = json.loads(data)
    c.check("multipart upload: name, content type from the media part, metadata, md5",
            (200, "up/multi.csv", "text/csv", {"a": "b"}, b64md5(b"x,y\r\n1,2\r\n")),
            (st, o.get("name"), o.get("contentType"), o.get("metadata"), o.get("md5Hash")))

    big = bytes(range(256)) * 1500  # 384,000 bytes: a 256 KiB chunk and the rest
    st, h, _ = gcs.raw("POST", "/upload/storage/v1/b/%s/o?uploadType=resumable&name=up%%2Fresumable.bin" % BUCKET,
                       json.dumps({"contentType": "application/x-check"}).encode(),
                       {"Content-Type": "application/json", "X-Upload-Content-Length": str(len(big))})
    loc = urllib.parse.urlsplit(h.get("location", ""))
    session = loc.path + "?" + loc.query
    st1, h1, _ = gcs.raw("PUT", session, big[:262144], {"Content-Range": "bytes 0-262143/*"})
    st2, h2, _ = gcs.raw("PUT", session, b"", {"Content-Range": "bytes */%d" % len(big)})
    st3, _, data = gcs.raw("PUT", session, big[262144:], {"Content-Range": "bytes 262144-%d/%d" % (
        len(big) - 1, len(big))})
    o = json.loads(data) if st3 == 200 else {}
    c.check("resumable upload: session, 308 with Range after a chunk and on a status query, then the object",
            (200, 308, "bytes=0-262143", 308, "bytes=0-262143", 200, str(len(big)), b64md5(big),
             "application/x-check"),
            (st, st1, h1.get("range"), st2, h2.get("range"), st3, o.get("size"), o.get("md5Hash"),
             o.get("contentType")))

    st, _, body = gcs.api.json("GET", "/storage/v1/b/%s/o?prefix=data%%2F&delimiter=%%2F" % BUCKET)
    c.check("list with prefix and delimiter: items and prefixes",
            (200, ["data/bin.dat", "data/check.txt", "data/corrupt.dat", "data/hello.txt"], ["data/sub/"]),
            (st, [i["name"] for i in body.get("items", [])], body.get("prefixes")))
    st, _, body = gcs.api.json("GET", "/storage/v1/b?project=opsdeck-sandbox")
    c.check("buckets.list of the project: the checks' bucket, as a storage#bucket", (200, "storage#bucket"),
            (st, next((b["kind"] for b in body.get("items", []) if b["name"] == BUCKET), None)))
    names, pages, token = [], 0, None
    while True:
        q = "?prefix=many%2F&maxResults=700&fields=items(name),nextPageToken"
        st, _, body = gcs.api.json("GET", "/storage/v1/b/%s/o%s%s" % (BUCKET, q, "&pageToken=" + urllib.parse.quote(
            token) if token else ""))
        pages += 1
        names += [i["name"] for i in body.get("items", [])]
        token = body.get("nextPageToken")
        if not token or pages > 10:
            break
    c.check("keyset pages of 700 over %d objects, fields=items(name),nextPageToken: 4 pages, every name once" % MANY,
            (4, ["many/obj-%05d" % i for i in range(MANY)], [{"name"}]), (pages, names, [set(body["items"][0])]))
    st, _, body = gcs.api.json("GET", "/storage/v1/b/%s/o?maxResults=2&delimiter=%%2F" % BUCKET)
    c.check("maxResults counts prefixes too", (200, ["data/", "many/"], True),
            (st, body.get("prefixes"), "nextPageToken" in body))


def crc32c_bitwise(data):
    """CRC-32C without a table (the stand-in uses one): an independent reference."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def decode_varint(b):
    n = shift = 0
    for x in b:
        n |= (x & 0x7F) << shift
        shift += 7
    return n


def check_faults(c, gcs):
    c.out("# gcs stand-in: fault rules")
    st, _, _ = gcs.api.json("POST", "/_standin/faults", {"rules": []})
    c.check("control without the token: 401", 401, st)
    st, _, body = gcs.ctl.json("POST", "/_standin/faults", {"rules": [{"op": "delete", "status": 999}]})
    c.check("a bad rule: 400", 400, st)
    for i in range(4):
        gcs.upload("faults/f%d" % i, b"f")
    gcs.upload("faults/deny/x", b"x")
    st, _, body = gcs.ctl.json("POST", "/_standin/faults", {"rules": [
        {"op": "delete", "bucket": BUCKET, "prefix": "faults/f", "status": 503, "count": 2},
        {"op": "delete", "bucket": BUCKET, "prefix": "faults/deny/", "status": 403}]})
    c.check("rules set: the control answers them", (200, 2), (st, len(body.get("rules", []))))
    got = [gcs.api.json("DELETE", opath("faults/f%d" % i))[:3:2] for i in range(3)]
    c.check("the next 2 deletes under faults/f fail with 503 backendError, the third works",
            [(503, "backendError"), (503, "backendError"), (204, None)],
            [(s, b["error"]["errors"][0]["reason"] if b else None) for s, b in got])
    c.check("... the two objects are still there", [200, 200], [gcs.get("faults/f%d" % i)[0] for i in range(2)])
    st, _, body = gcs.api.json("DELETE", opath("faults/deny/x"))
    c.check("a delete under faults/deny/ fails with 403 forbidden, the object stays",
            (403, "forbidden", 200), (st, body["error"]["errors"][0]["reason"], gcs.get("faults/deny/x")[0]))
    st, _, body = gcs.ctl.json("GET", "/_standin/faults")
    c.check("the control shows what is left of the rules", [0, None], [r["count"] for r in body["rules"]])
    gcs.ctl.request("DELETE", "/_standin/faults")
    st, _, _ = gcs.api.request("DELETE", opath("faults/deny/x"))
    c.check("rules cleared: the delete works", 204, st)


def main(d):
    with open(os.path.join(d, "sandbox.json")) as f:
        sb = json.load(f)
    c = Checks()
    gcs = Gcs(sb)
    t0 = time.monotonic()
    try:
        remove_bucket(sb)
        c.out("# gcs stand-in: %s" % seed(sb, gcs))
        log_before = len(gcs.log())
        with concurrent.futures.ThreadPoolExecutor(1) as bg:
            res = bg.submit(run_gcloud, sb)
            # The API's own checks touch other names (pre/, up/multi.csv, up/resumable.bin, faults/) meanwhile.
            api = Checks()
            check_api(api, gcs)
            check_faults(api, gcs)
            check_gcloud(c, gcs, res.result(), log_before)
        c.lines += api.lines
        c.failed += api.failed
    except Exception as e:  # a broken stand-in: report it as a failure, not a traceback
        c.bad("gcs stand-in", "%s: %s" % (type(e).__name__, e))
    finally:
        try:
            gcs.ctl.request("DELETE", "/_standin/faults")
            remove_bucket(sb)
        except Exception as e:
            c.bad("gcs stand-in: removing bucket %s" % BUCKET, "%s: %s" % (type(e).__name__, e))
        close_ssh(sb)
        c.out("# gcs stand-in: checks took %.1fs" % (time.monotonic() - t0))
        c.flush()
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
