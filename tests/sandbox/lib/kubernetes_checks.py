"""Checks of the Kubernetes/OpenShift API stand-in (standins/kubernetes), run by tests/sandbox/test-standins
against a live sandbox with the real kubectl:

  python3 tests/sandbox/lib/kubernetes_checks.py DIR

Prints "ok   NAME" / "FAIL NAME" (+ indented details) lines, as test-standins does. Everything goes through
KUBECONFIG=DIR/kubeconfig, and what kubectl prints is checked, not only its exit code:

  * the seed: namespaces fg and fg-staging, StatefulSets of 3 and 5 replicas with the runbook's trigger annotation
    byte for byte, the image streams, pods by equality label selectors; who am I; 401, 403 (and that a refused
    user wrote nothing, from the request log); discovery-free raw calls for the error bodies (400, 404, 415, 422);
  * on fg-staging/permie, the runbook's RAFT reset with kubectl: the stomp (a manual image change reverted while
    the trigger annotation is present), annotation removal + DR image in one strategic-merge patch with a
    resourceVersion precondition, `rollout status` (highest ordinal first, one pod at a time), a stale
    resourceVersion (patch and replace: Conflict), json and merge patches, dryRun, exec over WebSocket
    (doctor on the DR image only; exit 127 without it; the runbook's hard-coded directory fails), scale to 0
    (reverse order, Terminating), the annotation restored (the image back to latest), scale up (OrderedReady),
    the data surviving pod recreation;
  * the fault switches: expired token, 403 on a verb, 409 on the next write, a pod that never gets Ready, exec
    dropped before its status, exec InternalError, a v4-only server; the manual clock; WebSocket frames read
    directly (v5 and v4);
  * a namespace seeded on request (POST /_standin/namespaces, as the RAFT pane's benchmark makes its 50 x 10), seen
    by kubectl, refused when it exists or is malformed, and deleted again;
  * Jobs (batch/v1) whose pods run their command as a local process with the bastion's PATH and HOME: kubectl create
    job, get jobs, logs -f job/NAME (streamed while it runs), delete job (SIGTERM to the process group); the pod's
    phase and exit code, the Job's status and conditions (Complete; Failed after backoffLimit), env from the
    container spec, the log's tailLines, sinceTime and timestamps, propagationPolicy Orphan.

fg-staging/permie, its pods' files and the switches are put back as `up` made them (image, replicas, annotation).
"""

import base64
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from deploy_checks import Checks, Client  # noqa: E402

NS = "fg-staging"
SEEDED = "seed-check"  # made and deleted again by seeded_namespace()
STS = "permie"
REGISTRY = "image-registry.openshift-image-registry.svc:5000"
# The annotation as the runbook shows it, and the images it names (the DR image in this namespace).
TRIGGERS = ('[{"from":{"kind":"ImageStreamTag","name":"permie:latest"},'
            '"fieldPath":"spec.template.spec.containers[?(@.name==\\"app\\")].image"}]')
LATEST = REGISTRY + "/%s/permie@sha256:71443bf116b7108ac4bf27653bcf0c0a9680bc848ee6456faa3c73f7c4c559fb"
DR = REGISTRY + "/%s/jerriedr@sha256:b2aa3a1c40889a69abc3964dc1f3fea20d061ff2f1af40c0fa512b302bb314b1"
GET_INDEX = "./doctor raftIndexGet -d /var/data/single/*/data -i 0"
CONFLICT = ('Operation cannot be fulfilled on statefulsets.apps "permie": the object has been modified; please apply '
            'your changes to the latest version and try again')


class Kube:
    def __init__(self, sb, tmp):
        k = sb["kubernetes"]
        self.env = dict(os.environ, KUBECONFIG=k["kubeconfig"], KUBECACHEDIR=os.path.join(tmp, "cache"),
                        HOME=tmp)
        with open(k["kubeconfig"]) as f:
            cfg = json.load(f)
        self.nick = cfg["clusters"][0]["name"]
        self.tokens = {u["name"].split("/")[0]: u["user"]["token"] for u in cfg["users"]}
        with open(os.path.join(k["stateDir"], "state.json")) as f:
            control_token = json.load(f)["controlToken"]
        self.api = Client(k["apiUrl"], k["caFile"], self.tokens["opsdeck-admin"])
        self.ctl = Client(k["apiUrl"], k["caFile"], control_token)
        self.url, self.ca, self.log = k["apiUrl"], k["caFile"], k["requestLog"]

    def run(self, *args, user=None, ns=NS):
        """kubectl ARGS -> (exit code, stdout, stderr)."""
        ctx = ["--context", "%s/%s/%s" % (ns, self.nick, user)] if user else ["-n", ns]
        r = subprocess.run(["kubectl", *ctx, *args], capture_output=True, text=True, env=self.env,
                           stdin=subprocess.DEVNULL, timeout=120)
        return r.returncode, r.stdout, r.stderr

    def run_held(self, *args):
        """kubectl ARGS while the stand-in's clock stands (clock=manual): the clock runs again once kubectl has
        printed its first line."""
        p = subprocess.Popen(["kubectl", "-n", NS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=self.env, stdin=subprocess.DEVNULL)
        try:
            first = p.stdout.readline()
        finally:
            self.control(clock="real")
        out, err = p.communicate(timeout=120)
        return p.returncode, first + out, err

    def sts(self, ns=NS):
        return self.api.json("GET", "/apis/apps/v1/namespaces/%s/statefulsets/%s" % (ns, STS))[2]

    def pods(self, ns=NS):
        items = self.api.json("GET", "/api/v1/namespaces/%s/pods?labelSelector=app%%3D%s" % (ns, STS))[2]["items"]
        return {p["metadata"]["name"]: p for p in items}

    def control(self, **switches):
        status, _, body = self.ctl.json("POST", "/_standin/control", switches)
        if status != 200:
            raise RuntimeError("control %s: %s %s" % (switches, status, body))

    def state(self):
        return self.ctl.json("GET", "/_standin/state")[2]

    def image(self):
        return self.sts()["spec"]["template"]["spec"]["containers"][0]["image"]

    def wait(self, what, cond, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(0.05)
        raise RuntimeError("timed out waiting for %s" % what)

    def log_lines(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f]


def ready(pod):
    return "deletionTimestamp" not in pod["metadata"] and pod["status"].get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


class Watcher:
    """Snapshots of the StatefulSet's pods every 20 ms (from the control state), to check the controller's order."""

    def __init__(self, kube):
        self.kube, self.snaps, self.stop = kube, [], threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        ctl = Client(self.kube.url, self.kube.ca, self.kube.ctl.token)
        while not self.stop.is_set():
            self.snap(ctl)
            time.sleep(0.02)

    def snap(self, ctl):
        """{ordinal: (Ready, revision, terminating)}"""
        pods = ctl.json("GET", "/_standin/state")[2]["namespaces"][NS]["pods"]
        self.snaps.append({int(n.rsplit("-", 1)[1]): (ready(p), p["metadata"]["labels"]["controller-revision-hash"],
                                                      "deletionTimestamp" in p["metadata"])
                           for n, p in pods.items() if re.fullmatch(STS + r"-\d+", n)})

    def done(self):
        self.stop.set()
        self.t.join()
        self.snap(self.kube.ctl)
        return self.snaps


def ws_exec(kube, ns, pod, command, protocols):
    """A WebSocket exec by hand: (HTTP status line, chosen protocol, [(opcode, channel, payload)])."""
    ctx = ssl.create_default_context(cafile=kube.ca)
    host, port = kube.url.split("://")[1].rsplit(":", 1)
    s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host)
    q = "&".join("command=" + c for c in command) + "&container=app&stdout=true&stderr=true"
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /api/v1/namespaces/%s/pods/%s/exec?%s HTTP/1.1\r\nHost: %s:%s\r\nConnection: Upgrade\r\n"
               "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Protocol: %s\r\nAuthorization: Bearer %s\r\n\r\n"
               % (ns, pod, q, host, port, key, ", ".join(protocols), kube.tokens["opsdeck-admin"])).encode())
    f = s.makefile("rb")
    status = f.readline().decode().strip()
    proto = None
    while True:
        line = f.readline().decode().strip()
        if not line:
            break
        if line.lower().startswith("sec-websocket-protocol:"):
            proto = line.split(":", 1)[1].strip()
    frames = []
    if " 101 " in status + " ":
        while True:
            h = f.read(2)
            if len(h) < 2:
                frames.append(("eof", None, b""))
                break
            n = h[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", f.read(2))[0]
            data = f.read(n)
            op = h[0] & 0x0F
            if op == 8:
                frames.append(("close", struct.unpack("!H", data[:2])[0], data[2:]))
                break
            frames.append(("binary", data[0], data[1:]))
    s.close()
    return status, proto, frames


def raw(kube, method, path, body=None, content_type=None, token=None):
    """One request with exactly these headers -> (status, parsed body)."""
    ctx = ssl.create_default_context(cafile=kube.ca)
    host, port = kube.url.split("://")[1].rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
    h = {"Accept": "application/json"}
    if token != "":
        h["Authorization"] = "Bearer " + (token or kube.tokens["opsdeck-admin"])
    if content_type:
        h["Content-Type"] = content_type
    conn.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    try:
        return r.status, json.loads(data)
    except ValueError:
        return r.status, data.decode(errors="replace")


def main(d):
    with open(os.path.join(d, "sandbox.json")) as f:
        sb = json.load(f)
    tmp = tempfile.mkdtemp(prefix="kubernetes-checks.")
    c = Checks()
    kube = Kube(sb, tmp)
    volumes = {k: v for k, v in kube.state()["volumes"].items() if k.startswith(NS + "/")}
    try:
        seed_and_auth(c, kube)
        raft_reset(c, kube, volumes)
        faults(c, kube)
        seeded_namespace(c, kube)
        jobs(c, kube, sb)
    except Exception as e:  # a broken stand-in: report it as a failure, not a traceback
        c.bad("kubernetes stand-in", "%s: %s" % (type(e).__name__, e))
    finally:
        if SEEDED in kube.state()["namespaces"]:
            kube.ctl.json("DELETE", "/_standin/namespaces/" + SEEDED)
        remove_jobs(kube)
        try:
            restore(c, kube, volumes)
        except Exception as e:
            c.bad("kubernetes stand-in: restoring %s/%s" % (NS, STS), "%s: %s" % (type(e).__name__, e))
        c.flush()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if c.failed else 0


def seed_and_auth(c, kube):
    c.out("# kubernetes stand-in: seed, who am I, errors (kubectl %s)" % kubectl_version(kube))
    rc, out, err = kube.run("get", "statefulsets", ns="fg")
    rows = [line.split() for line in out.splitlines()]
    c.check("kubectl get statefulsets (fg): the table", (0, ["NAME", "READY", "AGE"], [["permie", "3/3"],
                                                                                      ["permie-ledger", "5/5"]]),
            (rc, rows[0] if rows else [], [r[:2] for r in rows[1:]]))
    rc, out, err = kube.run("get", "statefulsets", "-o", "json", ns="fg")
    items = json.loads(out)["items"] if rc == 0 else []
    c.check("kubectl get statefulsets -o json: replicas 3 and 5, the runbook's annotation byte for byte",
            [("permie", 3, TRIGGERS), ("permie-ledger", 5, TRIGGERS)],
            [(i["metadata"]["name"], i["spec"]["replicas"], i["metadata"]["annotations"].get(
                "image.openshift.io/triggers")) for i in items])
    c.check("-o json: the running image is permie@sha256 of the namespace, status counters complete",
            [(LATEST % "fg", 3, 3, 3, True), (LATEST % "fg", 5, 5, 5, True)],
            [(i["spec"]["template"]["spec"]["containers"][0]["image"], i["status"]["readyReplicas"],
              i["status"]["updatedReplicas"], i["status"]["currentReplicas"],
              i["status"]["currentRevision"] == i["status"]["updateRevision"]) for i in items])
    rc, out, err = kube.run("get", "pods", "-l", "app=permie-ledger", ns="fg")
    c.check("kubectl get pods -l app=permie-ledger: 5 pods Running 1/1",
            [["permie-ledger-%d" % i, "1/1", "Running", "0"] for i in range(5)],
            [line.split()[:4] for line in out.splitlines()[1:]])
    rc, out, err = kube.run("get", "pods", "-l", "app=permie,apps.kubernetes.io/pod-index=1", "-o", "name",
                            ns="fg")
    c.check("kubectl get pods -l a=b,c=d (comma-joined equality)", (0, "pod/permie-1\n"), (rc, out))
    rc, out, err = kube.run("get", "pods", "-l", "app=permie-ledger,apps.kubernetes.io/pod-index!=0", "-o", "name",
                            ns="fg")
    c.check("kubectl get pods -l a=b,c!=d", "".join("pod/permie-ledger-%d\n" % i for i in range(1, 5)), out)
    rc, out, err = kube.run("get", "pods", "-l", "app=nosuch")
    c.check("kubectl get pods -l app=nosuch: nothing", (0, "No resources found in fg-staging namespace.\n"),
            (rc, err))
    rc, out, err = kube.run("get", "pods", "permie-0", "-o",
                            "jsonpath={.metadata.labels.controller-revision-hash} {.metadata.labels.apps\\.kubernetes"
                            "\\.io/pod-index} {.status.containerStatuses[0].imageID}", ns="fg")
    sts = kube.sts("fg")
    c.check("pod labels and imageID as the reference's §3",
            "%s 0 %s" % (sts["status"]["updateRevision"], LATEST % "fg"), out)
    rc, out, err = kube.run("get", "imagestream", "permie", "-o",
                            "jsonpath={.status.tags[?(@.tag==\"latest\")].items[0].dockerImageReference}")
    c.check("kubectl get imagestream permie: latest", LATEST % NS, out)
    rc, out, err = kube.run("get", "is", "jerriedr", "-o", "jsonpath={.status.tags[0].items[0].dockerImageReference}")
    c.check("kubectl get is jerriedr: the DR image", DR % NS, out)
    rc, out, err = kube.run("get", "sts", "nosuch")
    c.check("kubectl get sts nosuch: NotFound", (1, 'Error from server (NotFound): statefulsets.apps "nosuch" not '
                                                    'found\n'), (rc, err))

    rc, out, err = kube.run("auth", "whoami")
    c.check("kubectl auth whoami", (0, ["ATTRIBUTE", "VALUE", "Username", "opsdeck-admin"]),
            (rc, out.split()[:4]))
    rc, out, err = kube.run("get", "--raw", "/apis/user.openshift.io/v1/users/~")
    c.check("who am I (users/~, OpenShift)", (0, "User", "opsdeck-admin"),
            (rc, json.loads(out or "{}").get("kind"), json.loads(out or "{}").get("metadata", {}).get("name")))
    rc, out, err = kube.run("auth", "can-i", "create", "pods", "--subresource=exec")
    c.check("kubectl auth can-i create pods/exec (admin): yes", (0, "yes\n"), (rc, out))
    rc, out, err = kube.run("auth", "can-i", "patch", "statefulsets", user="opsdeck-viewer")
    c.check("kubectl auth can-i patch statefulsets (viewer): no", (1, "no\n"), (rc, out))

    rc, out, err = kube.run("get", "statefulsets", user="opsdeck-expired")
    c.check("expired token: kubectl says log in again (401)",
            (1, "error: You must be logged in to the server (Unauthorized)\n"), (rc, err))
    s, body = raw(kube, "GET", "/apis/apps/v1/namespaces/%s/statefulsets" % NS, token=kube.tokens["opsdeck-expired"])
    c.check("401 body", (401, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": "Unauthorized", "reason": "Unauthorized", "code": 401}), (s, body))

    before = len(kube.log_lines())
    rc, out, err = kube.run("get", "statefulsets", "-o", "name", user="opsdeck-viewer")
    c.check("read-only user: get works", (0, "statefulset.apps/permie\n"), (rc, out))
    rc, out, err = kube.run("patch", "sts", STS, "--type=merge", "-p", '{"spec":{"replicas":1}}',
                            user="opsdeck-viewer")
    c.check("read-only user: patch is 403 with the RBAC verb",
            (1, 'Error from server (Forbidden): statefulsets.apps "permie" is forbidden: User "opsdeck-viewer" '
                'cannot patch resource "statefulsets" in API group "apps" in the namespace "fg-staging"\n'), (rc, err))
    rc, out, err = kube.run("scale", "sts", STS, "--replicas=1", user="opsdeck-viewer")
    c.has("read-only user: scale is 403 on statefulsets/scale",
          'cannot patch resource "statefulsets/scale" in API group "apps"', err)
    rc, out, err = kube.run("exec", "permie-0", "--", "true", user="opsdeck-viewer")
    c.check("read-only user: exec is 403 on pods/exec",
            (1, 'Error from server (Forbidden): pods "permie-0" is forbidden: User "opsdeck-viewer" cannot create '
                'resource "pods/exec" in API group "" in the namespace "fg-staging"\n'), (rc, err))
    lines = kube.log_lines()[before:]
    c.check("request log: the read-only user's requests are logged, none wrote anything",
            (True, []), (any(x["user"] == "opsdeck-viewer" and x["method"] == "PATCH" for x in lines),
                         [x for x in lines if x["method"] in ("PATCH", "PUT") and x["status"] < 300]))
    s, body = raw(kube, "GET", "/apis/apps/v1/namespaces/%s/statefulsets/%s" % (NS, STS), token="")
    c.has("no token: 403 for system:anonymous", 'User "system:anonymous" cannot get resource "statefulsets"',
          str(body))

    path = "/apis/apps/v1/namespaces/%s/statefulsets/%s" % (NS, STS)
    s, body = raw(kube, "PATCH", path, '{"spec":{"replicas":3}}', "application/json")
    c.check("PATCH with Content-Type application/json: 415", (415, "UnsupportedMediaType"), (s, body.get("reason")))
    s, body = raw(kube, "PATCH", path, "{not json", "application/merge-patch+json")
    c.check("malformed patch: 400", (400, "BadRequest"), (s, body.get("reason")))
    s, body = raw(kube, "PATCH", path, '{"spec":{"replicas":-1}}', "application/merge-patch+json")
    c.check("replicas -1: 422 as the reference's §10", (422, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'StatefulSet.apps "permie" is invalid: spec.replicas: Invalid value: -1: must be greater than or '
                   'equal to 0', "reason": "Invalid",
        "details": {"name": "permie", "group": "apps", "kind": "StatefulSet", "causes": [
            {"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than or equal to 0",
             "field": "spec.replicas"}]}, "code": 422}), (s, body))
    rc, out, err = kube.run("patch", "sts", STS, "--subresource=scale", "--type=merge", "-p",
                            '{"spec":{"replicas":-1}}')
    c.check("kubectl patch --subresource=scale replicas -1: 422",
            (1, 'The Scale "permie" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to '
                '0\n'), (rc, err))
    scale = path + "/scale"
    s, body = raw(kube, "GET", scale)
    stale = dict(body, metadata=dict(body["metadata"], resourceVersion="1"))
    s2, body2 = raw(kube, "PUT", scale, json.dumps(stale), "application/json")
    c.check("GET /scale, then PUT /scale with a stale resourceVersion: 409",
            (200, "Scale", {"replicas": 3}, "app=permie", 409, CONFLICT),
            (s, body["kind"], body["spec"], body["status"]["selector"], s2, body2.get("message")))
    rc, out, err = kube.run("get", "--raw", "/api/v1/namespaces/%s/pods/permie-0/exec?command=true&stdout=1" % NS)
    c.check("exec without an upgrade: 400 Upgrade request required",
            (1, "Error from server (BadRequest): Upgrade request required\n"), (rc, err))
    c.flush()


def kubectl_version(kube):
    """The client version that talks to the stand-in (the Cloud SDK's kubectl dispatches by server version)."""
    r = subprocess.run(["kubectl", "version", "-o", "json"], capture_output=True, text=True, env=kube.env)
    try:
        return json.loads(r.stdout)["clientVersion"]["gitVersion"]
    except (ValueError, KeyError):
        return "?"


def index_of(kube, pod):
    rc, out, err = kube.run("exec", pod, "--", "sh", "-c", GET_INDEX)
    return out.strip() if rc == 0 else "rc=%d %s" % (rc, err.strip())


def raft_reset(c, kube, volumes):
    c.out("# kubernetes stand-in: the RAFT reset on %s/%s with kubectl" % (NS, STS))
    seeded = {p: re.search(r"raftIndex=(\d+)", v["/var/data/single/%s/data/store-0.db" % p.split("/")[1]]).group(1)
              for p, v in volumes.items()}

    # The stomp: a manual image change while the annotation is present is reverted, and rolls out again.
    gen = kube.sts()["metadata"]["generation"]
    rc, out, err = kube.run("set", "image", "statefulset/" + STS, "app=" + DR % NS)
    c.check("kubectl set image with the trigger annotation present", (0, "statefulset.apps/permie image updated\n"),
            (rc, out))
    t0 = time.monotonic()
    kube.wait("the stomp", lambda: kube.image() == LATEST % NS)
    c.ok("the stomp: the image is back to permie:latest after %.1f s" % (time.monotonic() - t0))
    c.check("the stomp: two spec changes (generation +2)", gen + 2, kube.sts()["metadata"]["generation"])
    rc, out, err = kube.run("rollout", "status", "statefulset/" + STS, "--timeout=60s")
    c.check("rollout status after the stomp", (0, "partitioned roll out complete: 3 new pods have been updated...\n"),
            (rc, out.splitlines()[-1] + "\n" if out else ""))
    c.check("after the stomp: every pod on permie:latest",
            [LATEST % NS] * 3, [p["spec"]["containers"][0]["image"] for p in kube.pods().values()])

    # Strip the annotation and set the DR image in one strategic-merge patch with a resourceVersion precondition.
    rv = kube.sts()["metadata"]["resourceVersion"]
    patch = {"metadata": {"resourceVersion": rv, "annotations": {"image.openshift.io/triggers": None}},
             "spec": {"template": {"spec": {"containers": [{"name": "app", "image": DR % NS}]}}}}
    logged = len(kube.log_lines())
    rc, out, err = kube.run("patch", "sts", STS, "--type=strategic", "--dry-run=server", "-o",
                            "jsonpath={.spec.template.spec.containers[0].image}", "-p", json.dumps(patch))
    c.check("strategic patch --dry-run=server: the would-be image, nothing stored",
            (0, DR % NS, LATEST % NS, rv), (rc, out, kube.image(), kube.sts()["metadata"]["resourceVersion"]))
    c.check("request log: the dry run was a PATCH with dryRun=All", [200],
            [x["status"] for x in kube.log_lines()[logged:] if x["method"] == "PATCH" and "dryRun=All" in x["query"]])
    # The clock stands until rollout status has printed its first line: what it waits for is then certain.
    kube.control(clock="manual")
    w = Watcher(kube)
    rc, out, err = kube.run("patch", "sts", STS, "--type=strategic", "-p", json.dumps(patch))
    c.check("strategic patch: annotation removed + DR image (resourceVersion precondition)",
            (0, "statefulset.apps/permie patched\n"), (rc, out))
    rc, out, err = kube.run("patch", "sts", STS, "--type=merge", "-p",
                            json.dumps({"metadata": {"resourceVersion": rv, "annotations": {"x": "y"}}}))
    c.check("merge patch with the stale resourceVersion: kubectl's Conflict message",
            (1, "Error from server (Conflict): %s\n" % CONFLICT), (rc, err))
    rc, out, err = kube.run("patch", "sts", STS, "--type=json", "-p", json.dumps(
        [{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
         {"op": "replace", "path": "/spec/replicas", "value": 3}]))
    c.check("json patch with a test on the stale resourceVersion: Conflict",
            (1, "Error from server (Conflict): %s\n" % CONFLICT), (rc, err))
    rc, out, err = kube.run_held("rollout", "status", "statefulset/" + STS, "--timeout=60s")
    snaps = w.done()
    lines = out.splitlines()
    c.check("rollout status to the DR image: waits for the highest pod, then complete",
            (0, "Waiting for 1 pods to be ready...", "partitioned roll out complete: 3 new pods have been updated..."),
            (rc, lines[0] if lines else "", lines[-1] if lines else ""))
    sts = kube.sts()
    pods = kube.pods()
    c.check("after the rollout: every pod Ready on the DR image and the update revision",
            [(True, DR % NS, sts["status"]["updateRevision"])] * 3,
            [(ready(p), p["spec"]["containers"][0]["image"], p["metadata"]["labels"]["controller-revision-hash"])
             for p in pods.values()])
    new_rev = sts["status"]["updateRevision"]
    order = []
    for s in snaps:
        for o, (_, rev, _) in s.items():
            if rev == new_rev and o not in order:
                order.append(o)
    c.check("rolling update: highest ordinal first", [2, 1, 0], order)
    c.check("rolling update: never more than one pod not Ready", True,
            all(sum(1 for r, _, _ in s.values() if not r) <= 1 for s in snaps))
    time.sleep(0.5)
    c.check("without the annotation the DR image stays (no stomp)", DR % NS, kube.image())

    # The runbook's per-node steps, through sh -c.
    for o in range(3):
        pod = "%s-%d" % (STS, o)
        before = index_of(kube, pod)
        c.check("%s: raftIndexGet prints the seeded index" % pod, seeded["%s/%s" % (NS, pod)], before)
        rc, out, err = kube.run("exec", pod, "--", "sh", "-c",
                                'rm -Rf "$SERVICE_DATA_PERM_DIR"/*/raft && ./doctor raftIndexSet -d '
                                '/var/data/single/%s/data && ls "$SERVICE_DATA_PERM_DIR"/%s' % (pod, pod))
        c.check("%s: rm -Rf .../*/raft, raftIndexSet on its own data dir" % pod,
                (0, "raft index of store 0 in /var/data/single/%s/data set to 1\ndata\n" % pod, ""), (rc, out, err))
        c.check("%s: raftIndexGet again: changed" % pod, "1", index_of(kube, pod))
    rc, out, err = kube.run("exec", "permie-0", "--", "sh", "-c",
                            "./doctor raftIndexSet -d /var/data/single/permie-2-server-0/data")
    c.check("the runbook's hard-coded directory fails on another pod",
            (1, "doctor: /var/data/single/permie-2-server-0/data: no such data directory\n"
                "command terminated with exit code 1\n"), (rc, err))
    rc, out, err = kube.run("exec", "permie-1", "--", "sh", "-c", "rm -Rf $SERVICE_DATA_PERM_DIR/*/raft; echo $?")
    c.check("rm -Rf $SERVICE_DATA_PERM_DIR/*/raft (unquoted, nothing left to match)", (0, "0\n"), (rc, out))
    rc, out, err = kube.run("exec", "permie-0", "--", "sh", "-c", "./doctor raftIndexGet -d /var/data/single/*/data "
                            "-i 0 || echo failed; exit 3")
    c.check("sh -c: ||, exit status 3", (3, "1\n", "command terminated with exit code 3\n"), (rc, out, err))
    rc, out, err = kube.run("exec", "permie-0", "--", "sh", "-c", GET_INDEX, ns="fg")
    c.check("no doctor on the permie image: exit 127 as sh says",
            (127, "sh: 1: ./doctor: not found\ncommand terminated with exit code 127\n"), (rc, err))

    # Scale to 0: highest ordinal first, each Terminating until gone (the clock stands while kubectl looks).
    kube.control(clock="manual")
    w = Watcher(kube)
    rc, out, err = kube.run("scale", "statefulset", STS, "--replicas=0")
    c.check("kubectl scale --replicas=0", (0, "statefulset.apps/permie scaled\n"), (rc, out))
    rc, out, err = kube.run("get", "pods", "-l", "app=" + STS)
    kube.control(clock="real")
    c.check("kubectl get pods: the highest ordinal is Terminating, the others Running",
            [["permie-0", "1/1", "Running"], ["permie-1", "1/1", "Running"], ["permie-2", "0/1", "Terminating"]],
            [line.split()[:3] for line in out.splitlines()[1:]])
    kube.wait("no pods", lambda: not kube.pods())
    snaps = w.done()
    gone = []
    for s in snaps:
        for o in range(3):
            if o not in s and o not in gone and any(o in x for x in snaps[:1]):
                gone.append(o)
    c.check("scale down: pods gone in reverse order, one at a time", [2, 1, 0], gone)
    c.check("scale down: a pod is Terminating before it goes", True,
            all(any(o in s and s[o][2] for s in snaps) for o in range(3)))
    rc, out, err = kube.run("get", "pods", "-l", "app=" + STS)
    c.check("kubectl get pods after scale to 0", "No resources found in fg-staging namespace.\n", err)

    # Restore the annotation byte for byte: the image returns to latest (at 0 replicas, just a new revision).
    rc, out, err = kube.run("annotate", "statefulset", STS, "image.openshift.io/triggers=" + TRIGGERS)
    c.check("kubectl annotate (the saved annotation)", (0, "statefulset.apps/permie annotated\n"), (rc, out))
    kube.wait("the image back to latest", lambda: kube.image() == LATEST % NS)
    sts = kube.wait("the revision", lambda: (lambda s: s if s["status"]["currentRevision"] ==
                                             s["status"]["updateRevision"] and s["status"]["observedGeneration"] ==
                                             s["metadata"]["generation"] else None)(kube.sts()))
    c.check("restored: annotation byte for byte, image latest, no pods, current = update revision",
            (TRIGGERS, LATEST % NS, 0, 0), (sts["metadata"]["annotations"]["image.openshift.io/triggers"],
                                            kube.image(), sts["status"]["replicas"], len(kube.pods())))

    # Scale back up: OrderedReady, 0 first, each only after its predecessors are Ready.
    w = Watcher(kube)
    rc, out, err = kube.run("scale", "statefulset", STS, "--replicas=3")
    c.check("kubectl scale --replicas=3", (0, "statefulset.apps/permie scaled\n"), (rc, out))
    rc, out, err = kube.run("rollout", "status", "statefulset/" + STS, "--timeout=60s")
    snaps = w.done()
    c.check("rollout status after scale up", (0, "partitioned roll out complete: 3 new pods have been updated..."),
            (rc, out.splitlines()[-1] if out else ""))
    c.check("scale up: pod k only while 0..k-1 are Ready (OrderedReady)", True,
            all(all(s.get(j, (False,))[0] for j in range(o)) for s in snaps for o in s))
    rc, out, err = kube.run("get", "pods", "-l", "app=" + STS, "-o",
                            "jsonpath={range .items[*]}{.metadata.name} {.spec.containers[0].image}{\"\\n\"}{end}")
    c.check("every pod on latest", "".join("permie-%d %s\n" % (o, LATEST % NS) for o in range(3)), out)
    vols = kube.state()["volumes"]
    c.check("the data survived pod recreation (index 1), the service recreated its raft dir", [("1", True)] * 3,
            [(re.search(r"raftIndex=(\d+)", vols["%s/permie-%d" % (NS, o)][
                "/var/data/single/permie-%d/data/store-0.db" % o]).group(1),
              "/var/data/single/permie-%d/raft" % o in vols["%s/permie-%d" % (NS, o)]) for o in range(3)])

    # Other writes: json and merge patches, PUT with a stale resourceVersion.
    rc, out, err = kube.run("patch", "sts", STS, "--type=json", "-p",
                            '[{"op":"add","path":"/metadata/annotations/opsdeck.test~1json","value":"1"}]')
    c.check("json patch add (~1 in the path)", (0, "statefulset.apps/permie patched\n", "1"),
            (rc, out, kube.sts()["metadata"]["annotations"].get("opsdeck.test/json")))
    gen = kube.sts()["metadata"]["generation"]
    rc, out, err = kube.run("patch", "sts", STS, "--type=merge", "-p",
                            '{"metadata":{"annotations":{"opsdeck.test/json":null}}}')
    c.check("merge patch null deletes; metadata changes keep the generation", (0, False, gen),
            (rc, "opsdeck.test/json" in kube.sts()["metadata"]["annotations"], kube.sts()["metadata"]["generation"]))
    rc, out, err = kube.run("patch", "sts", STS, "--type=merge", "-p", '{"metadata":{"annotations":{"x":null}}}')
    c.check("a patch that changes nothing", (0, "statefulset.apps/permie patched (no change)\n"), (rc, out))
    rc, out, err = kube.run("patch", "sts", STS, "--type=json", "-p",
                            '[{"op":"remove","path":"/metadata/annotations/nosuch"}]')
    c.has("json patch remove of an absent path: 422", "The request is invalid: the server rejected our request due "
          "to an error in our request", err)
    stale = os.path.join(os.path.dirname(kube.env["KUBECACHEDIR"]), "sts.json")
    with open(stale, "w") as f:
        json.dump(kube.sts(), f)
    kube.run("annotate", "statefulset", STS, "opsdeck.test/put=1")
    rc, out, err = kube.run("replace", "--validate=false", "-f", stale)
    c.check("kubectl replace (PUT) with a stale resourceVersion: Conflict",
            (1, 'Error from server (Conflict): error when replacing "%s": %s\n' % (stale, CONFLICT)), (rc, err))
    kube.run("annotate", "statefulset", STS, "opsdeck.test/put-")
    with open(stale, "w") as f:
        json.dump(kube.sts(), f)
    rc, out, err = kube.run("replace", "--validate=false", "-f", stale)
    c.check("kubectl replace with the current resourceVersion", (0, "statefulset.apps/permie replaced\n"), (rc, out))
    c.flush()


def faults(c, kube):
    c.out("# kubernetes stand-in: fault switches, WebSocket frames")
    kube.control(expiredUsers=["opsdeck-admin"])
    rc, out, err = kube.run("get", "sts")
    kube.control(expiredUsers=[])
    c.check("switch expiredUsers: 401", (1, "error: You must be logged in to the server (Unauthorized)\n"), (rc, err))
    kube.control(forbidden=["patch statefulsets/scale"])
    rc, out, err = kube.run("scale", "sts", STS, "--replicas=2")
    kube.control(forbidden=[])
    c.check("switch forbidden 'patch statefulsets/scale': 403 for the admin too",
            (1, 'Error from server (Forbidden): statefulsets.apps "permie" is forbidden: User "opsdeck-admin" cannot '
                'patch resource "statefulsets/scale" in API group "apps" in the namespace "fg-staging"\n'), (rc, err))
    kube.control(conflictNextWrite=True)
    rc1, _, err1 = kube.run("annotate", "sts", STS, "opsdeck.test/conflict=1")
    rc2, out2, _ = kube.run("annotate", "sts", STS, "opsdeck.test/conflict-")
    c.check("switch conflictNextWrite: one 409, then writes work",
            (1, "Error from server (Conflict): %s\n" % CONFLICT, 0, "statefulset.apps/permie annotated\n"),
            (rc1, err1, rc2, out2))

    kube.control(neverReady=["%s/permie-1" % NS])
    kube.run("scale", "sts", STS, "--replicas=0")
    kube.wait("no pods", lambda: not kube.pods())
    kube.run("scale", "sts", STS, "--replicas=3")
    kube.wait("permie-1 running", lambda: kube.pods().get("permie-1", {}).get("status", {}).get("phase") == "Running")
    rc, out, err = kube.run("rollout", "status", "statefulset/" + STS, "--timeout=2s")
    rc2, out2, _ = kube.run("get", "pods", "-l", "app=" + STS)
    c.check("switch neverReady: rollout status times out waiting", (1, "Waiting for 2 pods to be ready..."),
            (rc, out.splitlines()[-1] if out else ""))
    c.check("switch neverReady: permie-1 Running 0/1, permie-2 never created (OrderedReady)",
            [["permie-0", "1/1", "Running"], ["permie-1", "0/1", "Running"]],
            [line.split()[:3] for line in out2.splitlines()[1:]])
    kube.control(neverReady=[])
    rc, out, err = kube.run("rollout", "status", "statefulset/" + STS, "--timeout=60s")
    c.check("switch cleared: the rollout finishes", 0, rc)

    # kubernetes#67250: a broken template stops the rollout at its first pod; reverting the template is not
    # enough, the stuck pod must be deleted too.
    broken = REGISTRY + "/%s/permie:broken" % NS
    kube.control(neverReady=[broken])
    kube.run("annotate", "sts", STS, "image.openshift.io/triggers-")
    rc, out, err = kube.run("set", "image", "statefulset/" + STS, "app=" + broken)
    kube.wait("permie-2 on the broken image", lambda: (lambda p: p and p["status"]["phase"] == "Running" and
                                                       p["spec"]["containers"][0]["image"] == broken)(
        kube.pods().get("permie-2")))
    kube.run("set", "image", "statefulset/" + STS, "app=" + LATEST % NS)
    time.sleep(1.0)
    rc, out, err = kube.run("get", "pods", "-l", "app=" + STS, "-o", "jsonpath={range .items[*]}{.metadata.name} "
                            "{.status.containerStatuses[0].ready} {.spec.containers[0].image}{\"\\n\"}{end}")
    c.check("switch neverReady (an image): the template reverted, the stuck pod stays (kubernetes#67250)",
            "permie-0 true %s\npermie-1 true %s\npermie-2 false %s\n" % (LATEST % NS, LATEST % NS, broken), out)
    rc, out, err = kube.run("delete", "pod", "permie-2")
    c.check("kubectl delete pod (the stuck one)", (0, 'pod "permie-2" deleted\n'), (rc, out))
    rc, out, err = kube.run("rollout", "status", "statefulset/" + STS, "--timeout=60s")
    c.check("then the rollout finishes on the reverted template", (0, [True] * 3, [LATEST % NS] * 3),
            (rc, [ready(p) for p in kube.pods().values()],
             [p["spec"]["containers"][0]["image"] for p in kube.pods().values()]))
    kube.control(neverReady=[])
    kube.run("annotate", "sts", STS, "image.openshift.io/triggers=" + TRIGGERS)

    kube.control(clock="manual")
    kube.run("set", "image", "statefulset/" + STS, "app=" + DR % NS)
    time.sleep(0.6)
    held = kube.image()
    status, _, _ = kube.ctl.json("POST", "/_standin/advance", {"seconds": 0.2})
    c.check("manual clock: no stomp while it stands, the stomp once advanced by triggerSeconds",
            (DR % NS, 200, LATEST % NS), (held, status, kube.image()))
    kube.control(clock="real")
    rc, out, err = kube.run("rollout", "status", "statefulset/" + STS, "--timeout=60s")
    c.check("real clock again: the rollout finishes", 0, rc)

    kube.control(execDrop=True)
    rc, out, err = kube.run("exec", "permie-0", "--", "echo", "hi")
    kube.control(execDrop=False)
    c.check("switch execDrop: stdout arrives, then kubectl reports the broken stream, not an exit code",
            (1, "hi\n", True, False), (rc, out, "close 1006 (abnormal closure)" in err, "exit code" in err))
    kube.control(execInternalError=True)
    rc, out, err = kube.run("exec", "permie-0", "--", "echo", "hi")
    kube.control(execInternalError=False)
    c.check("switch execInternalError: the command did not run",
            (1, "", "error: Internal error occurred: error executing command in container: failed to exec in "
                    "container: container is in CONTAINER_EXITED state\n"), (rc, out, err))
    kube.control(v4Only=True)
    rc, out, err = kube.run("exec", "permie-0", "--", "echo", "hi")
    status4, proto4, frames4 = ws_exec(kube, NS, "permie-0", ["echo", "v4"], ["v5.channel.k8s.io",
                                                                              "v4.channel.k8s.io"])
    kube.control(v4Only=False)
    c.check("switch v4Only: kubectl (v5 only) cannot upgrade, falls back to SPDY: 400",
            (1, "Error from server (BadRequest): Upgrade request required\n"), (rc, err))
    c.check("switch v4Only: v5 and v4 offered, v4 chosen", ("HTTP/1.1 101 Switching Protocols", "v4.channel.k8s.io"),
            (status4, proto4))
    status, proto, frames = ws_exec(kube, NS, "permie-0", ["sh", "-c", "echo%20out;%20ls%20/nope;%20exit%205"],
                                    ["v5.channel.k8s.io", "v4.channel.k8s.io"])
    c.check("WebSocket exec by hand (v5): empty channel frames, stdout, stderr, the channel-3 status, close 1000",
            ("v5.channel.k8s.io", [("binary", 1, b""), ("binary", 2, b""), ("binary", 3, b""),
                                   ("binary", 1, b"out\n"),
                                   ("binary", 2, b"ls: cannot access '/nope': No such file or directory\n"),
                                   ("binary", 3, json.dumps({
                                       "metadata": {}, "status": "Failure",
                                       "message": "command terminated with non-zero exit code: command terminated "
                                                  "with exit code 5", "reason": "NonZeroExitCode",
                                       "details": {"causes": [{"reason": "ExitCode", "message": "5"}]}},
                                       separators=(",", ":")).encode()),
                                   ("close", 1000, b"")]), (proto, frames))
    status, proto, frames = ws_exec(kube, NS, "permie-0", ["true"], ["v5.channel.k8s.io"])
    c.check("WebSocket exec: success status", ("binary", 3, b'{"metadata":{},"status":"Success"}'), frames[-2])
    c.flush()


def seeded_namespace(c, kube):
    """POST /_standin/namespaces: a namespace seeded like fg at any size (the RAFT pane's benchmark: 50 x 10)."""
    c.out("# kubernetes stand-in: a namespace seeded on request (POST /_standin/namespaces)")
    status, _, body = kube.ctl.json("POST", "/_standin/namespaces", {"name": SEEDED, "statefulsets": 12,
                                                                    "replicas": 2})
    c.check("POST /_standin/namespaces: 12 StatefulSets x 2 pods", (201, 24), (status, body.get("pods")))
    rc, out, err = kube.run("get", "statefulsets", ns=SEEDED)
    c.check("kubectl get statefulsets: permie-00..permie-11, each 2/2",
            (0, ["NAME", "READY", "AGE"], [["permie-%02d" % i, "2/2"] for i in range(12)]),
            (rc, out.split("\n")[0].split(), [line.split()[:2] for line in out.splitlines()[1:]]))
    rc, out, err = kube.run("get", "pods", "-l", "app=permie-11", "-o",
                            "jsonpath={range .items[*]}{.metadata.name} {.status.phase} "
                            "{.spec.containers[0].image}{\"\\n\"}{end}", ns=SEEDED)
    c.check("kubectl get pods -l app=permie-11: Running on the namespace's permie:latest",
            (0, "".join("permie-11-%d Running %s\n" % (o, LATEST % SEEDED) for o in range(2))), (rc, out))
    rc, out, err = kube.run("get", "statefulset", "permie-03", "-o",
                            "jsonpath={.metadata.annotations.image\\.openshift\\.io/triggers}", ns=SEEDED)
    c.check("the runbook's trigger annotation on each", (0, TRIGGERS), (rc, out))
    rc, out, err = kube.run("exec", "permie-05-1", "--", "sh", "-c",
                            "cat /var/data/single/permie-05-1/data/store-0.db", ns=SEEDED)
    c.check("each pod has its data (a seeded RAFT index)", (0, True),
            (rc, bool(re.fullmatch(r"raftIndex=4\d{4}\n", out))))
    status, _, body = kube.ctl.json("POST", "/_standin/namespaces", {"name": SEEDED, "statefulsets": 1,
                                                                    "replicas": 1})
    c.check("the same namespace again: 409", 409, status)
    for bad in ({"name": "Bad_Name", "statefulsets": 1, "replicas": 1},
                {"name": "x", "statefulsets": 0, "replicas": 1}, {"name": "x", "statefulsets": 1}):
        status, _, body = kube.ctl.json("POST", "/_standin/namespaces", bad)
        c.check("POST /_standin/namespaces %s: 400" % json.dumps(bad), 400, status)
    status, _, body = kube.ctl.json("DELETE", "/_standin/namespaces/fg")
    c.check("DELETE a namespace of the default seed: refused (400)", 400, status)
    status, _, body = kube.ctl.json("DELETE", "/_standin/namespaces/" + SEEDED)
    c.check("DELETE /_standin/namespaces/%s" % SEEDED, 200, status)
    rc, out, err = kube.run("get", "statefulsets", ns=SEEDED)
    c.check("kubectl get statefulsets afterwards: the namespace is gone",
            (1, 'Error from server (NotFound): Unable to list "apps/v1, Resource=statefulsets": namespaces "%s" not '
                'found\n' % SEEDED), (rc, err))
    c.check("nothing of it left (volumes)", [], [k for k in kube.state()["volumes"] if k.startswith(SEEDED + "/")])


JOB_PREFIX = "chk-"


def job_api(kube, method, name="", body=None, query=""):
    return kube.api.json(method, "/apis/batch/v1/namespaces/%s/jobs%s%s" % (NS, "/" + name if name else "", query),
                         body)


def job_pods(kube, name):
    items = kube.api.json("GET", "/api/v1/namespaces/%s/pods?labelSelector=job-name%%3D%s" % (NS, name))[2]["items"]
    return sorted(items, key=lambda p: p["metadata"]["creationTimestamp"])


def job_spec(name, script, backoff=None, env=None):
    container = {"name": name, "image": "busybox", "command": ["sh", "-c", script]}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    spec = {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}}
    if backoff is not None:
        spec["backoffLimit"] = backoff
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


def pod_log(kube, pod, query=""):
    """(status, headers, bytes) of the pod's log, on a connection of its own (the server closes a streamed one)."""
    return Client(kube.url, kube.ca, kube.tokens["opsdeck-admin"]).request(
        "GET", "/api/v1/namespaces/%s/pods/%s/log%s" % (NS, pod, query))


def jobs(c, kube, sb):
    c.out("# kubernetes stand-in: Jobs whose pods run as local processes (kubectl create job, logs -f, delete)")
    root = next(h["root"] for h in sb["hosts"] if h["name"] == "bastion")
    log_dir = os.path.join(os.path.dirname(kube.log), "logs")
    name = JOB_PREFIX + "ok"
    rc, out, err = kube.run("create", "job", name, "--image=busybox", "--", "sh", "-c",
                            'echo one; sleep 0.5; echo two >&2; echo "PATH=$PATH HOME=$HOME"; sleep 0.5; echo three')
    c.check("kubectl create job: created", (0, "job.batch/%s created\n" % name), (rc, out))
    t0 = time.monotonic()
    rc, out, err = kube.run("logs", "-f", "job/" + name)
    c.check("kubectl logs -f job/NAME: stdout and stderr as they came, with the bastion's PATH and HOME",
            (0, "one\ntwo\nPATH=%s/bin:/usr/local/bin:/usr/bin:/bin HOME=%s/root\nthree\n" % (root, root)),
            (rc, out))
    c.check("... followed until the process ended (it ran ~1 s)", True, time.monotonic() - t0 >= 0.9)
    kube.wait("the Job complete", lambda: job_api(kube, "GET", name)[2]["status"].get("succeeded") == 1)
    rc, out, err = kube.run("get", "jobs")
    c.check("kubectl get jobs: Complete 1/1", (0, ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
                                               [name, "Complete", "1/1"]),
            (rc, out.split("\n")[0].split(), next((line.split()[:3] for line in out.splitlines()[1:]
                                                   if line.startswith(name + " ")), None)))
    job = job_api(kube, "GET", name)[2]
    c.check("the Job's status: succeeded 1, a Complete condition, startTime and completionTime",
            (1, [("Complete", "True")], True),
            (job["status"].get("succeeded"), [(x["type"], x["status"]) for x in job["status"].get("conditions", [])],
             "startTime" in job["status"] and "completionTime" in job["status"]))
    pods = job_pods(kube, name)
    c.check("its one pod: Succeeded, exit code 0, owned by the Job, selected by its controller-uid",
            (1, "Succeeded", 0, "Completed", job["metadata"]["uid"]),
            (len(pods), pods[0]["status"]["phase"] if pods else None,
             pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] if pods else None,
             pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] if pods else None,
             pods[0]["metadata"]["ownerReferences"][0]["uid"] if pods else None))
    pod = pods[0]["metadata"]["name"]
    st, _, data = pod_log(kube, pod, "?tailLines=1")
    c.check("log?tailLines=1: the last line", (200, b"three\n"), (st, data))
    st, _, data = pod_log(kube, pod, "?timestamps=true")
    lines = data.decode().splitlines()
    c.check("log?timestamps=true: each line after its RFC 3339 time", True,
            len(lines) == 4 and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \S.*", x)
                                    for x in lines))
    since = lines[1].split(" ", 1)[0] if len(lines) == 4 else ""
    st, _, data = pod_log(kube, pod, "?sinceTime=" + since)
    c.check("log?sinceTime=<the second line's time>: from the second line on", (200, True),
            (st, data.startswith(b"two\n") and data.endswith(b"three\n")))

    name = JOB_PREFIX + "fail"
    st, _, body = job_api(kube, "POST", body=job_spec(name, 'echo "greeting=$GREETING"; exit 3', backoff=1,
                                                      env={"GREETING": "hi there"}))
    c.check("create through the API (env, backoffLimit 1): 201", 201, st)
    kube.wait("the Job failed", lambda: any(x["type"] == "Failed" for x in job_api(kube, "GET", name)[2]["status"]
                                            .get("conditions", [])), timeout=20)
    job = job_api(kube, "GET", name)[2]
    c.check("backoffLimit 1: two pods failed, then Failed (BackoffLimitExceeded)",
            (2, "BackoffLimitExceeded"), (job["status"].get("failed"), job["status"]["conditions"][0].get("reason")))
    pods = job_pods(kube, name)
    c.check("each failed pod: phase Failed, exit code 3 (reason Error), the container's env in its log",
            [("Failed", 3, "Error", b"greeting=hi there\n")] * 2,
            [(p["status"]["phase"], p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
              p["status"]["containerStatuses"][0]["state"]["terminated"]["reason"],
              pod_log(kube, p["metadata"]["name"])[2]) for p in pods])
    rc, out, err = kube.run("get", "jobs")
    c.check("kubectl get jobs: Failed 0/1", [name, "Failed", "0/1"],
            next((line.split()[:3] for line in out.splitlines()[1:] if line.startswith(name + " ")), None))

    name = JOB_PREFIX + "long"
    rc, out, err = kube.run("create", "job", name, "--image=busybox", "--", "sh", "-c",
                            'trap "echo got SIGTERM; exit 143" TERM; echo started; while :; do sleep 0.1; done')
    kube.wait("the long job started", lambda: job_pods(kube, name) and pod_log(
        kube, job_pods(kube, name)[0]["metadata"]["name"])[2] == b"started\n")
    pod = job_pods(kube, name)[0]
    rc, out, err = kube.run("get", "pods", "-l", "job-name=" + name)
    c.check("a running Job's pod: Running 1/1", ["1/1", "Running"],
            next((line.split()[1:3] for line in out.splitlines()[1:]), None))
    rc, out, err = kube.run("delete", "job", name)
    c.check("kubectl delete job: deleted", (0, 'job.batch "%s" deleted\n' % name), (rc, out))
    path = os.path.join(log_dir, "%s_%s.log" % (NS, pod["metadata"]["name"]))
    kube.wait("the process told of SIGTERM", lambda: b"got SIGTERM" in open(path, "rb").read())
    c.ok("... its process group got SIGTERM (the trap ran)")
    kube.wait("the pod gone", lambda: not job_pods(kube, name))
    c.ok("... and its pod went")

    name = JOB_PREFIX + "orphan"
    job_api(kube, "POST", body=job_spec(name, "echo orphaned; sleep 30"))
    kube.wait("the orphan's pod", lambda: job_pods(kube, name))
    st, _, body = job_api(kube, "DELETE", name, {"kind": "DeleteOptions", "apiVersion": "v1",
                                                 "propagationPolicy": "Orphan"})
    pods = job_pods(kube, name)
    c.check("delete with propagationPolicy Orphan: the Job goes, its pod stays Running without an owner",
            (200, 404, 1, "Running", []),
            (st, job_api(kube, "GET", name)[0], len(pods), pods[0]["status"]["phase"] if pods else None,
             pods[0]["metadata"].get("ownerReferences") if pods else None))


def remove_jobs(kube):
    """The checks' Jobs and their pods (processes stopped)."""
    for j in job_api(kube, "GET")[2].get("items", []):
        if j["metadata"]["name"].startswith(JOB_PREFIX):
            job_api(kube, "DELETE", j["metadata"]["name"], {"propagationPolicy": "Background"})
    for p in kube.api.json("GET", "/api/v1/namespaces/%s/pods" % NS)[2].get("items", []):
        if p["metadata"].get("labels", {}).get("job-name", "").startswith(JOB_PREFIX):
            kube.api.json("DELETE", "/api/v1/namespaces/%s/pods/%s" % (NS, p["metadata"]["name"]))


def restore(c, kube, volumes):
    kube.control(readySeconds=0.4, terminateSeconds=0.3, triggerSeconds=0.2, expiredUsers=[], forbidden=[],
                 conflictNextWrite=False, neverReady=[], execDrop=False, execInternalError=False, v4Only=False,
                 clock="real")
    sts = kube.sts()
    ann = {k: None for k in sts["metadata"].get("annotations", {}) if k.startswith("opsdeck.test/") or k == "x"}
    ann["image.openshift.io/triggers"] = TRIGGERS
    patch = {"metadata": {"annotations": ann}, "spec": {"replicas": 3}}
    rc, out, err = kube.run("patch", "sts", STS, "--type=merge", "-p", json.dumps(patch))
    kube.wait("the image back to latest", lambda: kube.image() == LATEST % NS)
    rc, out, err = kube.run("rollout", "status", "statefulset/" + STS, "--timeout=60s")
    kube.ctl.json("POST", "/_standin/volumes", volumes)
    sts = kube.sts()
    c.check("%s/%s as up made it: replicas, annotation, image, Ready" % (NS, STS),
            (3, {"image.openshift.io/triggers": TRIGGERS}, LATEST % NS, 3),
            (sts["spec"]["replicas"], sts["metadata"].get("annotations"), kube.image(), sts["status"]["readyReplicas"]))
    c.check("its pods' files as up made them", volumes,
            {k: v for k, v in kube.state()["volumes"].items() if k.startswith(NS + "/")})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: kubernetes_checks.py DIR")
    sys.exit(main(sys.argv[1]))
