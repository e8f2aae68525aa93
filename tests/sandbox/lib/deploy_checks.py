"""Checks of the sandbox's deploy matrix, run by tests/sandbox/test-standins against a live sandbox:

  python3 tests/sandbox/lib/deploy_checks.py DIR

Prints "ok   NAME" / "FAIL NAME" (+ indented details) lines, as test-standins does.

  * every machine's initial configuration-info.prom and build-info.json, and that each state is what its
    name says against the repository (up-to-date, behind, dirty, config-matches, unreachable);
  * the unreachable machine: no sshd, no metrics proxy;
  * the metrics proxy and web front (502s while packit-api-reside-dev is stopped, then restarted);
  * the GitHub stand-in read-only: auth, API versions, rate-limit headers and forced limits (set back to
    "none"), commits, compare, the bare-branch `head` gotcha, contents, the Pages metrics file;
  * the nix stand-in: deploying main to wpia-packit-dev leaves it as it was, an unknown machine and the
    unreachable one fail with nothing written;
  * the write side (dispatch -> run -> pull request -> merge, pushes, restart persistence) against a
    throwaway GitHub stand-in on P+6 in a temp dir, so the sandbox's own repository stays as `up` made it.
"""

import base64
import http.client
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
import packit_infra as pi  # noqa: E402

STANDIN = os.path.join(os.path.dirname(HERE), "github", "github-standin")
UA = {"User-Agent": "opsdeck-test-standins"}


class Checks:
    """Collects ok/FAIL lines; sections that run side by side each have their own, printed in order."""

    def __init__(self):
        self.failed = 0
        self.lines = []

    def out(self, line):
        self.lines.append(line)

    def flush(self):
        for line in self.lines:
            print(line, flush=True)
        self.lines = []

    def ok(self, name):
        self.out("ok   %s" % name)

    def bad(self, name, *details):
        self.failed += 1
        self.out("FAIL %s" % name)
        for d in details:
            self.out("       %s" % str(d)[:2000])

    def check(self, name, expected, actual):
        if expected == actual:
            self.ok(name)
        else:
            self.bad(name, "expected: %r" % (expected,), "actual:   %r" % (actual,))

    def has(self, name, needle, haystack):
        if needle in haystack:
            self.ok(name)
        else:
            self.bad(name, "missing: %r" % needle, "in: %r" % haystack[:2000])


class Client:
    """One keep-alive connection; request() -> (status, headers dict (lower-case), body bytes)."""

    def __init__(self, url, cafile=None, token=None):
        scheme, rest = url.split("://", 1)
        host, port = rest.rstrip("/").rsplit(":", 1)
        if scheme == "https":
            ctx = ssl.create_default_context(cafile=cafile)
            self.conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
        else:
            self.conn = http.client.HTTPConnection(host, int(port), timeout=10)
        self.token = token

    def request(self, method, path, body=None, headers=None, auth=True):
        h = dict(UA)
        if auth and self.token:
            h["Authorization"] = "Bearer " + self.token
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            h["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.conn.close()
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        try:
            return status, hdrs, json.loads(data) if data else None
        except ValueError:
            return status, hdrs, data.decode(errors="replace")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return "<%s>" % e


SSH_CONTROL = tempfile.mkdtemp(prefix="deploy-checks-ssh.")


def ssh(sb, host, command, *extra):
    """Runs COMMAND on HOST (one master connection per host, closed by close_ssh)."""
    h = next(x for x in sb["hosts"] if x["name"] == host)
    return subprocess.run(["ssh", "-i", h["identityFile"], "-o", "UserKnownHostsFile=" + h["knownHostsFile"],
                           "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                           "-o", "ControlMaster=auto", "-o", "ControlPersist=60",
                           "-o", "ControlPath=%s/%s" % (SSH_CONTROL, host), *extra,
                           "-p", str(h["port"]), "root@" + h["address"], command],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


def close_ssh(sb):
    for name in os.listdir(SSH_CONTROL):
        ssh(sb, name, "", "-O", "exit")
    shutil.rmtree(SSH_CONTROL, ignore_errors=True)


def main(d):
    with open(os.path.join(d, "sandbox.json")) as f:
        sb = json.load(f)
    try:
        return run(d, sb)
    finally:
        close_ssh(sb)


def run(d, sb):
    c = Checks()
    machines = {m["name"]: m for m in sb["machines"]}
    gh = Client(sb["github"]["apiUrl"], sb["github"]["caFile"], sb["github"]["token"])
    repo = "/repos/%s/%s" % (sb["github"]["owner"], sb["github"]["repo"])
    state = gh.json("GET", "/_standin/state")[2]
    store = pi.Store(state)
    main_sha = state["main"]
    main_files = store.files(main_sha)

    c.out("# deploy matrix: initial machine states")
    c.check("machines: the three Packit hosts, the spare, the bench machines",
            ["wpia-packit", "wpia-packit-dev", "wpia-packit-private", "wpia-packit-spare"],
            [m for m in machines if not m.startswith("bench-")])
    for name, m in machines.items():
        revision, narhash, revs = pi.initial_deployment(store, state["info"], name, m["initialState"])
        line = pi.metric_line("nixos_configuration_info", name, revision, narhash) + "\n"
        c.check("%s (%s): configuration-info.prom" % (name, m["initialState"]), line,
                read(os.path.join(m["root"], "etc/metrics/configuration-info.prom")))
        c.check("%s: build-info.json" % name, pi.build_info_json(revs),
                read(os.path.join(m["root"], "etc/opsdeck-sandbox/build-info.json")))
        c.check("%s: sandbox.json initialRevision/initialNarHash" % name, (revision, narhash),
                (m["initialRevision"], m["initialNarHash"]))
        main_hash = pi.nar_hash(main_files, name)
        sha = revision[:40]
        on_main = sha in store.ancestors(main_sha)
        facts = {"up-to-date": revision == main_sha and narhash == main_hash,
                 "behind": on_main and sha != main_sha and narhash != main_hash,
                 "config-matches": on_main and sha != main_sha and narhash == main_hash,
                 "dirty": revision.endswith("-dirty") and all(
                     pi.nar_hash(store.files(s), name) != narhash for s in state["commits"]),
                 "unreachable": on_main}
        c.check("%s: really %s against main" % (name, m["initialState"]), True, facts[m["initialState"]])
    bench = [m["initialState"] for n, m in machines.items() if n.startswith("bench-")]
    c.check("bench machines cycle config-matches, up-to-date, behind",
            [("config-matches", "up-to-date", "behind")[k % 3] for k in range(len(bench))], bench)
    r = ssh(sb, "wpia-packit-dev", 'cat "$OPSDECK_HOST_ROOT/etc/metrics/configuration-info.prom"')
    c.check("wpia-packit-dev: the prom line over ssh", read(os.path.join(machines["wpia-packit-dev"]["root"],
                                                                           "etc/metrics/configuration-info.prom")),
            r.stdout)

    c.out("# deploy matrix: the unreachable machine")
    spare = machines["wpia-packit-spare"]
    r = ssh(sb, "wpia-packit-spare", "true")
    c.check("wpia-packit-spare: ssh fails (exit 255)", 255, r.returncode)
    c.has("wpia-packit-spare: connection refused", "Connection refused", r.stderr)
    try:
        Client(spare["proxyUrl"]).request("GET", "/targets")
        c.bad("wpia-packit-spare: no metrics proxy")
    except OSError:
        c.ok("wpia-packit-spare: no metrics proxy")

    c.out("# deploy matrix: metrics proxy and web front")
    check_machine_http(c, sb, machines)

    c.out("# deploy matrix: GitHub stand-in (read-only)")
    check_github(c, sb, gh, repo, state, machines)
    c.flush()

    # The two slow parts (nix's pauses, the throwaway stand-in's workflow run) run side by side.
    writes = Checks()
    writes.out("# deploy matrix: GitHub stand-in (write side, throwaway instance on P+6)")
    t = threading.Thread(target=check_github_writes, args=(writes, sb, d))
    t.start()
    c.out("# deploy matrix: nix stand-in")
    check_nix(c, d, machines)
    t.join()
    c.flush()
    writes.flush()
    return 1 if c.failed or writes.failed else 0


def check_machine_http(c, sb, machines):
    wp, dev, priv = machines["wpia-packit"], machines["wpia-packit-dev"], machines["wpia-packit-private"]
    proxy = Client(wp["proxyUrl"])
    status, _, body = proxy.request("GET", "/targets")
    targets = json.loads(body)
    c.check("wpia-packit /targets: 2 per instance + node_exporter", 9, len(targets))
    c.check("wpia-packit /targets: first entry", {"targets": [wp["proxyUrl"][7:]], "labels": {
        "job": "packit-api", "project": "priority-pathogens",
        "__metrics_path__": "/targets/packit-api/priority-pathogens"}}, targets[0])
    status, _, body = Client(priv["proxyUrl"]).request("GET", "/targets/node_exporter")
    c.has("wpia-packit-private /targets/node_exporter has the prom line",
          read(os.path.join(priv["root"], "etc/metrics/configuration-info.prom")), body.decode())
    dproxy, dweb = Client(dev["proxyUrl"]), Client(dev["webUrl"])
    revs = json.loads(read(os.path.join(dev["root"], "etc/opsdeck-sandbox/build-info.json")))
    status, _, body = dproxy.request("GET", "/targets/packit-api/reside-dev")
    c.has("packit-api/reside-dev: build info", 'packit_api_build_info{revision="%s"} 1\n' % revs["packit"],
          "%d %s" % (status, body.decode()))
    status, _, body = dproxy.request("GET", "/targets/outpack_server/reside-dev")
    c.has("outpack_server/reside-dev: build info", 'outpack_server_build_info{version="0.3.2",revision="%s",'
          'rustc="1.84.1"} 1\n' % revs["outpack_server"], "%d %s" % (status, body.decode()))
    c.check("proxy: unknown instance and path are 404", [404, 404],
            [dproxy.request("GET", "/targets/packit-api/nosuch")[0], dproxy.request("GET", "/metrics")[0]])
    status, _, body = dweb.request("GET", "/")
    c.has("web /: landing page links the instance", '<a href="/reside-dev/">reside-dev</a>', body.decode())
    status, hdrs, body = dweb.request("GET", "/reside-dev/packit/api/packetGroups?pageNumber=0&pageSize=50")
    c.check("web: packetGroups without a token is Packit's 401", (401, "failure"),
            (status, json.loads(body)["status"]))
    c.check("web: unknown instance is nginx's 404", 404, dweb.request("GET", "/nosuch/packit/api/packetGroups")[0])

    r = ssh(sb, "wpia-packit-dev", "systemctl stop packit-api-reside-dev")
    c.check("systemctl stop packit-api-reside-dev", 0, r.returncode)
    try:
        status, _, body = dproxy.request("GET", "/targets/packit-api/reside-dev")
        c.check("packit-api stopped: proxy 502", 502, status)
        status, hdrs, body = dweb.request("GET", "/reside-dev/packit/api/packetGroups")
        c.check("packit-api stopped: web 502 from nginx", (502, "nginx", True),
                (status, hdrs.get("server"), b"502 Bad Gateway" in body))
        c.check("packit-api stopped: outpack_server still 200", 200,
                dproxy.request("GET", "/targets/outpack_server/reside-dev")[0])
    finally:
        r = ssh(sb, "wpia-packit-dev",
                "systemctl start packit-api-reside-dev && systemctl is-active packit-api-reside-dev")
    c.check("packit-api-reside-dev started again", "active", r.stdout.strip())
    c.check("packit-api running again: proxy 200", 200, dproxy.request("GET", "/targets/packit-api/reside-dev")[0])


def check_github(c, sb, gh, repo, state, machines):
    main_sha = state["main"]
    status, hdrs, body = gh.request("GET", repo + "/commits/main", headers={"User-Agent": None})
    c.check("no User-Agent: 403", 403, status)
    status, hdrs, body = gh.request("GET", repo + "/commits/main", auth=False)
    c.check("no token: 404 (private repository)", (404, "Not Found"), (status, json.loads(body)["message"]))
    status, hdrs, body = gh.request("GET", repo + "/commits/main", headers={"Authorization": "Bearer ghp_wrong"})
    c.check("unknown token: 401 Bad credentials", (401, {"message": "Bad credentials",
                                                         "documentation_url": "https://docs.github.com/rest",
                                                         "status": "401"}), (status, json.loads(body)))
    c.check("401 still has the JSON content type and a request id", ("application/json; charset=utf-8", True),
            (hdrs.get("content-type"), bool(hdrs.get("x-github-request-id"))))
    status, hdrs, body = gh.request("GET", repo + "/commits/main", headers={"X-GitHub-Api-Version": "2020-01-01"})
    c.check("unknown API version: 400", 400, status)
    _, h1, _ = gh.request("GET", repo + "/commits/main")
    _, h2, _ = gh.request("GET", repo + "/commits/main", headers={"X-GitHub-Api-Version": "2026-03-10"})
    c.check("no version header: 2022-11-28 selected", "2022-11-28", h1.get("x-github-api-version-selected"))
    c.check("2026-03-10 echoed", "2026-03-10", h2.get("x-github-api-version-selected"))
    c.check("rate-limit headers: limit 5000, core, remaining decrements",
            ("5000", "core", int(h1["x-ratelimit-remaining"]) - 1),
            (h1.get("x-ratelimit-limit"), h1.get("x-ratelimit-resource"), int(h2["x-ratelimit-remaining"])))
    c.check("x-ratelimit-reset is epoch seconds, within the hour", True,
            0 < int(h1["x-ratelimit-reset"]) - time.time() <= 3600)
    try:
        gh.json("POST", "/_standin/control", {"rateLimit": "primary"})
        status, hdrs, body = gh.request("GET", repo + "/commits/main")
        c.check("forced primary limit: 403, remaining 0", (403, "0"), (status, hdrs.get("x-ratelimit-remaining")))
        c.has("forced primary limit: message", "API rate limit exceeded", json.loads(body)["message"])
        gh.json("POST", "/_standin/control", {"rateLimit": "secondary"})
        status, hdrs, body = gh.request("GET", repo + "/commits/main")
        c.check("forced secondary limit: 403, retry-after 60", (403, "60"), (status, hdrs.get("retry-after")))
    finally:
        status, _, control = gh.json("POST", "/_standin/control", {"rateLimit": "none"})
    c.check("rate limit back to none: the control is as up made it", {
        "rateLimit": "none", "runSeconds": 1.5, "runConclusion": "success", "checkConclusion": "success",
        "mergeable": True, "checkSeconds": 1.0, "forbidden": []}, control)
    c.check("rate limit back to none: 200", 200, gh.request("GET", repo + "/commits/main")[0])

    status, _, body = gh.request("GET", repo + "/commits/main", headers={"Accept": "application/vnd.github.sha"})
    c.check("commits/main as vnd.github.sha: main's sha", (200, main_sha), (status, body.decode()))
    c.check("wpia-packit-dev runs main", main_sha, machines["wpia-packit-dev"]["initialRevision"])
    behind = machines["wpia-packit"]["initialRevision"]
    status, _, commit = gh.json("GET", repo + "/commits/" + behind)
    c.check("commits/<sha>: sha, one parent", (200, behind, 1), (status, commit["sha"], len(commit["parents"])))
    status, _, cmp = gh.json("GET", "%s/compare/%s...main" % (repo, behind))
    c.check("compare <wpia-packit's commit>...main: ahead by 4, oldest first",
            ("ahead", 4, 0, 4, main_sha), (cmp["status"], cmp["ahead_by"], cmp["behind_by"], cmp["total_commits"],
                                          cmp["commits"][-1]["sha"]))
    status, _, cmp = gh.json("GET", "%s/compare/main...%s" % (repo, behind))
    c.check("compare main...<older>: behind by 4", ("behind", 0, 4), (cmp["status"], cmp["ahead_by"], cmp["behind_by"]))
    status, _, cmp = gh.json("GET", "%s/compare/%s...main" % (repo, main_sha))
    c.check("compare main's sha...main: identical", ("identical", 0), (cmp["status"], cmp["ahead_by"]))
    status, _, body = gh.json("GET", repo + "/commits/nosuchref")
    c.check("unknown ref: 422 No commit found", (422, "No commit found for SHA: nosuchref"), (status, body["message"]))

    status, _, pulls = gh.json("GET", repo + "/pulls")
    c.check("no open pull requests", (200, []), (status, pulls))
    _, _, pulls = gh.json("GET", repo + "/pulls?state=closed&head=actions/update-packages")
    c.check("pulls: a bare head branch is ignored (all closed PRs)", [40, 39, 38], [p["number"] for p in pulls])
    _, _, pulls = gh.json("GET", repo + "/pulls?state=closed&head=vimc-robot:actions/update-packages")
    c.check("pulls: head=owner:branch filters", [40, 38], [p["number"] for p in pulls])
    _, hdrs, pulls = gh.json("GET", repo + "/pulls?state=closed&per_page=2")
    c.has("pulls: Link rel=next with per_page", 'page=2>; rel="next"', hdrs.get("link", ""))
    c.check("the next pull request is #41", 41, state["nextPull"])
    _, _, pr = gh.json("GET", repo + "/pulls/40")
    c.check("pulls/40: merged, merge_commit_sha on main", ("closed", True, True),
            (pr["state"], pr["merged"], pr["merge_commit_sha"] in pi.Store(state).ancestors(main_sha)))
    status, _, f = gh.json("GET", repo + "/contents/packages/packit/sources.json?ref=" + behind)
    c.check("contents: base64 sources.json of a commit", pi.package_revs(pi.Store(state).files(behind))["packit"],
            json.loads(base64.b64decode(f["content"]))["src"]["rev"])

    status, hdrs, body = gh.request("GET", "/pages/reside-ic/packit-infra/metrics", auth=False)
    files = pi.Store(state).files(main_sha)
    want = "".join(pi.metric_line("nixos_source_info", m, main_sha, pi.nar_hash(files, m)) + "\n"
                   for m in state["machines"])
    c.check("Pages metrics: one nixos_source_info line per machine, main's", (200, want), (status, body.decode()))
    dev = machines["wpia-packit-dev"]
    c.check("wpia-packit-dev's narHash is main's", pi.nar_hash(files, "wpia-packit-dev"), dev["initialNarHash"])


def check_nix(c, d, machines):
    nix = os.path.join(d, "bin", "nix")
    dev = os.path.join(machines["wpia-packit-dev"]["root"], "etc")
    before = (read(dev + "/metrics/configuration-info.prom"), read(dev + "/opsdeck-sandbox/build-info.json"))
    spare = os.path.join(machines["wpia-packit-spare"]["root"], "etc")
    spare_before = (read(spare + "/metrics/configuration-info.prom"),
                    read(spare + "/opsdeck-sandbox/build-info.json"))

    def nix_run(*args):
        return subprocess.Popen([nix, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Side by side: they touch different machines.
    t = time.monotonic()
    runs = [nix_run("--refresh", "github:reside-ic/packit-infra?ref=main#deploy", "wpia-packit-dev"),
            nix_run("github:reside-ic/packit-infra#deploy", "nosuch"),
            nix_run("--refresh", "github:reside-ic/packit-infra#deploy", "wpia-packit-spare")]
    results = []
    for p in runs:
        err = p.communicate()[1]
        results.append(subprocess.CompletedProcess(p.args, p.returncode, "", err))
        if p is runs[0]:
            took = time.monotonic() - t
    r = results[0]
    c.check("nix: deploy main to wpia-packit-dev: exit 0", 0, r.returncode)
    c.has("nix: progress on stderr", "activating the configuration...", r.stderr)
    # The stand-in waits 1-2 s, as a deploy takes time; the bound above is loose because the sandbox's other checks
    # (gcloud, ~1.5 s of CPU each) run beside it on CI's two cores.
    c.check("nix: deploy takes its 1-2 s at least (0.8-20 s; took %.1f s)" % took, True, 0.8 <= took <= 20)
    c.check("nix: wpia-packit-dev still up to date (same prom line, same build-info)", before,
            (read(dev + "/metrics/configuration-info.prom"), read(dev + "/opsdeck-sandbox/build-info.json")))
    r = results[1]
    c.check("nix: unknown machine: exit 1", 1, r.returncode)
    c.has("nix: unknown machine: named", "'nosuch'", r.stderr)
    r = results[2]
    c.check("nix: unreachable machine: exit 1", 1, r.returncode)
    c.has("nix: unreachable machine: ssh's error", "Connection refused", r.stderr)
    c.check("nix: unreachable machine: nothing written", spare_before,
            (read(spare + "/metrics/configuration-info.prom"), read(spare + "/opsdeck-sandbox/build-info.json")))


def check_github_writes(c, sb, d):
    port = sb["portBase"] + 6
    tmp = tempfile.mkdtemp(prefix="test-standins-github.")
    token = "ghp_" + secrets.token_hex(18)
    machines = ["wpia-packit", "wpia-packit-dev"]
    cert, key = os.path.join(d, "github", "server.pem"), os.path.join(d, "github", "server.key")
    server = None

    def start():
        ready = os.path.join(tmp, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        p = subprocess.Popen([sys.executable, STANDIN, "serve", tmp, "--listen", "127.0.0.1:%d" % port,
                              "--cert", cert, "--key", key, "--ready-file", ready],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(tmp, "server.log"), "a"))
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("throwaway github-standin did not start: " + read(os.path.join(tmp, "server.log")))
            time.sleep(0.02)
        return p

    def stop(p):
        p.terminate()
        p.wait(10)

    try:
        subprocess.run([sys.executable, STANDIN, "init", tmp, "--token", token, "--machines", ",".join(machines)],
                       check=True)
        server = start()
        gh = Client("https://127.0.0.1:%d" % port, os.path.join(d, "github", "ca.pem"), token)
        repo = "/repos/reside-ic/packit-infra"
        old_main = gh.request("GET", repo + "/commits/main",
                              headers={"Accept": "application/vnd.github.sha"})[2].decode()
        gh.json("POST", "/_standin/control", {"runSeconds": 0.6, "checkSeconds": 30})

        status, _, body = gh.request("POST", repo + "/actions/workflows/update.yaml/dispatches",
                                     {"ref": "main", "inputs": {"packit": "", "outpack_server": ""}})
        c.check("dispatch (2022-11-28): 204, empty body", (204, b""), (status, body))
        status, _, body = gh.json("POST", repo + "/actions/workflows/update.yaml/dispatches",
                                  {"ref": "main", "return_run_details": True})
        c.check("dispatch with return_run_details: 200 + workflow_run_id", (200, True),
                (status, isinstance(body.get("workflow_run_id"), int)))
        run_id = body["workflow_run_id"]
        status, _, body = gh.json("POST", repo + "/actions/workflows/update.yaml/dispatches", {"ref": "main"},
                                  {"X-GitHub-Api-Version": "2026-03-10"})
        c.check("dispatch under 2026-03-10: always 200 with run details", (200, True),
                (status, "run_url" in body))
        for bad, msg in (({"ref": "main", "inputs": {"foo": "x"}}, 'Unexpected inputs provided: ["foo"]'),
                         ({"ref": "nope"}, "No ref found for: nope")):
            status, _, body = gh.json("POST", repo + "/actions/workflows/update.yaml/dispatches", bad)
            c.check("dispatch 422: %s" % msg, (422, msg), (status, body["message"]))
        status, _, body = gh.json("POST", repo + "/actions/workflows/test.yaml/dispatches", {"ref": "main"})
        c.check("dispatch 422: no workflow_dispatch trigger",
                (422, "Workflow does not have 'workflow_dispatch' trigger"), (status, body["message"]))
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        _, _, runs = gh.json("GET", repo + "/actions/workflows/update.yaml/runs?event=workflow_dispatch&branch=main"
                                           "&created=%3E%3D" + since)
        ids = [r["id"] for r in runs["workflow_runs"]]
        c.check("runs: the 3 dispatches, newest first", (3, sorted(ids, reverse=True)), (runs["total_count"], ids))
        _, _, run = gh.json("GET", repo + "/actions/runs/%d" % run_id)
        c.check("run: queued or in progress, no conclusion yet", (True, None),
                (run["status"] in ("queued", "in_progress"), run["conclusion"]))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            _, _, runs = gh.json("GET", repo + "/actions/workflows/update.yaml/runs?event=workflow_dispatch"
                                               "&status=completed&created=%3E%3D" + since)
            if runs["total_count"] == 3:
                break
            time.sleep(0.1)
        _, _, run = gh.json("GET", repo + "/actions/runs/%d" % run_id)
        c.check("run: completed, success (all three)", ("completed", "success", 3),
                (run["status"], run["conclusion"], runs["total_count"]))
        _, _, pulls = gh.json("GET", repo + "/pulls?head=vimc-robot:actions/update-packages")
        c.check("the run opened #41 from vimc-robot:actions/update-packages",
                [(41, "Update outpack_server and packit", "vimc-robot:actions/update-packages")],
                [(p["number"], p["title"], p["head"]["label"]) for p in pulls])
        head = pulls[0]["head"]["sha"]
        _, _, pr = gh.json("GET", repo + "/pulls/41")
        _, _, pr2 = gh.json("GET", repo + "/pulls/41")
        c.check("pulls/41: mergeable null, then true", (None, "unknown", True), (pr["mergeable"], pr["mergeable_state"],
                                                                                 pr2["mergeable"]))
        _, _, pr3 = gh.json("GET", repo + "/pulls/41", headers={"X-GitHub-Api-Version": "2026-03-10"})
        c.check("pulls/41 under 2026-03-10: no merge_commit_sha", False, "merge_commit_sha" in pr3)
        test_merge = gh.request("GET", repo + "/commits/refs/pull/41/merge",
                                headers={"Accept": "application/vnd.github.sha"})[2].decode()
        c.check("merge_commit_sha = refs/pull/41/merge", test_merge, pr2["merge_commit_sha"])
        _, _, checks = gh.json("GET", repo + "/commits/%s/check-runs" % head)
        c.check("check run 'nix flake check' on the head: in progress", [("nix flake check", "in_progress", None)],
                [(r["name"], r["status"], r["conclusion"]) for r in checks["check_runs"]])
        _, _, st = gh.json("GET", repo + "/commits/%s/status" % head)
        c.check("combined status: pending, total_count 0", ("pending", 0), (st["state"], st["total_count"]))
        status, _, body = gh.json("PUT", repo + "/pulls/41/merge", {"sha": old_main})
        c.check("merge with a stale sha: 409", 409, status)
        gh.json("POST", "/_standin/control", {"mergeable": False})
        status, _, body = gh.json("PUT", repo + "/pulls/41/merge", {"sha": head})
        c.check("merge while not mergeable: 405", (405, "Pull Request is not mergeable"), (status, body["message"]))
        gh.json("POST", "/_standin/control", {"mergeable": True})
        status, _, body = gh.json("PUT", repo + "/pulls/41/merge", {"merge_method": "merge", "sha": head})
        c.check("merge: 200", (200, True), (status, body.get("merged")))
        merged = body["sha"]
        _, _, commit = gh.json("GET", repo + "/commits/main")
        c.check("main is the merge commit, parents [old main, head]", (merged, [old_main, head]),
                (commit["sha"], [p["sha"] for p in commit["parents"]]))
        st = gh.json("GET", "/_standin/state")[2]
        store = pi.Store(st)
        c.check("narHash of main after the merge = narHash of the test merge", True,
                all(pi.nar_hash(store.files(merged), m) == pi.nar_hash(store.files(test_merge), m) for m in machines))
        _, _, cmp = gh.json("GET", "%s/compare/%s...main" % (repo, test_merge))
        c.check("compare <test merge>...main: diverged", "diverged", cmp["status"])
        _, _, pr = gh.json("GET", repo + "/pulls/41")
        c.check("pulls/41: closed, merged", ("closed", True, merged),
                (pr["state"], pr["merged"], pr["merge_commit_sha"]))
        status, _, body = gh.json("PUT", repo + "/pulls/41/merge", {"sha": head})
        c.check("merging again: 405", 405, status)
        _, _, page = gh.request("GET", "/pages/reside-ic/packit-infra/metrics", auth=False)
        c.has("Pages metrics follow main", 'revision="%s"' % merged, page.decode())

        _, _, body = gh.json("POST", "/_standin/push", {"message": "Fix a typo in the README"})
        docs = body["sha"]
        _, _, page2 = gh.request("GET", "/pages/reside-ic/packit-infra/metrics", auth=False)
        c.check("docs push: main moves, narHashes stay", page.decode().replace(merged, docs), page2.decode())
        _, _, cmp = gh.json("GET", "%s/compare/%s...main" % (repo, merged))
        c.check("docs push: compare <merge>...main ahead by 1", ("ahead", 1), (cmp["status"], cmp["ahead_by"]))
        _, _, body = gh.json("POST", "/_standin/push", {"message": "Lower swappiness", "config": True})
        _, _, page3 = gh.request("GET", "/pages/reside-ic/packit-infra/metrics", auth=False)
        c.check("config push: every narHash changes", True,
                all(a.split("narHash=")[1] != b.split("narHash=")[1]
                    for a, b in zip(page2.decode().splitlines(), page3.decode().splitlines())))

        stop(server)
        server = start()
        _, _, pr = gh.json("GET", repo + "/pulls/41")
        _, _, commit = gh.json("GET", repo + "/commits/main")
        c.check("after a restart: #41 still merged, main kept", (True, body["sha"]), (pr["merged"], commit["sha"]))
    except Exception as e:  # a broken stand-in: report it as a failure, not a traceback
        c.bad("throwaway GitHub stand-in", "%s: %s" % (type(e).__name__, e))
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: deploy_checks.py DIR")
    sys.exit(main(sys.argv[1]))
