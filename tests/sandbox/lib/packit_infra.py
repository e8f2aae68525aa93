"""The stand-in reside-ic/packit-infra repository, shared by the sandbox's GitHub and nix stand-ins.

One place defines:
  * the configuration hash of a machine at a commit (`nar_hash`): what packit-infra's
    configuration-info.nix publishes as narHash. The real one hashes the built system; here it is
    sha256 over the files that make up the machine's configuration, in this order:
    machines/<machine>.nix, packages/outpack_server/sources.json, packages/packit/sources.json;
    each contributes "<path>\\0<length>\\0<bytes>". Commits that touch none of them (docs) keep it.
  * the deterministic history `up` starts from (`build_history`), with real git object ids
    (blob/tree/commit SHA-1s computed as git does, so `git hash-object` agrees);
  * the commit each machine starts deployed at (`initial_deployment`).

Repository state is a JSON-able dict: "blobs" {blob id: text}, "commits" {sha: {tree {path: blob id},
parents, author, committer, message}}, "refs" {"owner/repo": {branch: sha}}. Standard library only.
"""

import base64
import calendar
import hashlib
import json
import re
import time

OWNER = "reside-ic"
REPO = "packit-infra"
FULL_NAME = OWNER + "/" + REPO
FORK_OWNER = "vimc-robot"
FORK_FULL_NAME = FORK_OWNER + "/" + REPO
DEFAULT_BRANCH = "main"
UPDATE_BRANCH = "actions/update-packages"
PACKIT_SOURCES = "packages/packit/sources.json"
OUTPACK_SOURCES = "packages/outpack_server/sources.json"

# Machines of packit-infra (reference/packit.md section 3) and the sandbox's extras: domain, instances.
KNOWN_MACHINES = {
    "wpia-packit": ("packit.dide.ic.ac.uk",
                    ["priority-pathogens", "reside", "malariaverse-sitefiles", "training"], 4),
    "wpia-packit-dev": ("packit-dev.dide.ic.ac.uk", ["reside-dev"], 1),
    "wpia-packit-private": ("packit-private.dide.ic.ac.uk", ["kipling"], 0),
    "wpia-packit-spare": ("packit-spare.dide.ic.ac.uk", [], 0),
}

# Initial states a machine can be deployed in (see initial_deployment).
STATES = ("up-to-date", "behind", "dirty", "unreachable", "config-matches")


# ------------------------------------------------------------------------------------------------
# configuration hash and metric lines

def machine_path(machine):
    return "machines/%s.nix" % machine


def config_paths(machine):
    return [machine_path(machine), OUTPACK_SOURCES, PACKIT_SOURCES]


def _config_digest(files, machine, salt=b""):
    h = hashlib.sha256(salt)
    for path in config_paths(machine):
        data = files[path]
        h.update(b"%s\0%d\0" % (path.encode(), len(data)))
        h.update(data)
    return "sha256-" + base64.b64encode(h.digest()).decode()


def nar_hash(files, machine):
    """narHash of MACHINE's configuration; FILES maps path -> bytes and must hold config_paths().
    KeyError if the machine has no configuration there."""
    return _config_digest(files, machine)


def dirty_nar_hash(files, machine):
    """A narHash as if deployed from a worktree with uncommitted configuration changes: it matches
    no commit."""
    return _config_digest(files, machine, b"uncommitted changes\0")


def package_revs(files):
    """{"packit": rev, "outpack_server": rev} of a tree (what build-info.json records)."""
    return {"packit": json.loads(files[PACKIT_SOURCES])["src"]["rev"],
            "outpack_server": json.loads(files[OUTPACK_SOURCES])["src"]["rev"]}


def metric_line(metric, machine, revision, narhash):
    """A nixos_configuration_info / nixos_source_info line as packit-infra writes it."""
    return '%s{hostname="%s",revision="%s",narHash="%s"} 1' % (metric, machine, revision, narhash)


def build_info_json(revs):
    return json.dumps({"packit": revs["packit"], "outpack_server": revs["outpack_server"]}) + "\n"


# ------------------------------------------------------------------------------------------------
# git object ids

def _sha1(kind, body):
    return hashlib.sha1(b"%s %d\0" % (kind, len(body)) + body).hexdigest()


def blob_id(data):
    return _sha1(b"blob", data)


def tree_id(blobs_by_path):
    """Id of the root tree of {path: blob id}, nested as git nests directories."""
    root = {}
    for path, blob in blobs_by_path.items():
        node = root
        parts = path.split("/")
        for d in parts[:-1]:
            node = node.setdefault(d, {})
        node[parts[-1]] = blob

    def build(node):
        entries = []
        for name, v in node.items():
            if isinstance(v, dict):
                entries.append((name + "/", b"40000 %s\0" % name.encode() + bytes.fromhex(build(v))))
            else:
                entries.append((name, b"100644 %s\0" % name.encode() + bytes.fromhex(v)))
        entries.sort(key=lambda e: e[0].encode())
        return _sha1(b"tree", b"".join(e[1] for e in entries))

    return build(root)


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def parse_iso(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def commit_id(tree, parents, author, committer, message):
    def ident(p):
        return "%s <%s> %d +0000" % (p["name"], p["email"], parse_iso(p["date"]))
    lines = ["tree " + tree] + ["parent " + p for p in parents]
    lines += ["author " + ident(author), "committer " + ident(committer)]
    return _sha1(b"commit", ("\n".join(lines) + "\n\n" + message + "\n").encode())


# ------------------------------------------------------------------------------------------------
# the object store (operates on a state dict)

class Store:
    def __init__(self, state):
        self.state = state
        state.setdefault("blobs", {})
        state.setdefault("commits", {})
        state.setdefault("refs", {})
        self._anc = {}
        self._gen = {}

    def commit(self, sha):
        return self.state["commits"].get(sha)

    def files(self, sha):
        """{path: bytes} of a commit's tree."""
        blobs = self.state["blobs"]
        return {p: blobs[b].encode() for p, b in self.state["commits"][sha]["tree"].items()}

    def blob(self, blob):
        return self.state["blobs"][blob].encode()

    def put_commit(self, files, parents, author, committer, message):
        tree = {}
        for path, data in files.items():
            b = blob_id(data)
            self.state["blobs"].setdefault(b, data.decode())
            tree[path] = b
        sha = commit_id(tree_id(tree), parents, author, committer, message)
        self.state["commits"][sha] = {"tree": tree, "treeSha": tree_id(tree), "parents": list(parents),
                                      "author": author, "committer": committer, "message": message}
        return sha

    def ref(self, repo, branch):
        return self.state["refs"].get(repo, {}).get(branch)

    def set_ref(self, repo, branch, sha):
        self.state["refs"].setdefault(repo, {})[branch] = sha

    def ancestors(self, sha):
        """SHA and every commit reachable from it."""
        got = self._anc.get(sha)
        if got is None:
            got = set()
            todo = [sha]
            while todo:
                s = todo.pop()
                if s in got:
                    continue
                got.add(s)
                todo.extend(self.state["commits"][s]["parents"])
            self._anc[sha] = got
        return got

    def generation(self, sha):
        """Longest path to a root, plus one (orders commits oldest first)."""
        memo = self._gen
        if sha not in memo:
            todo = [sha]
            while todo:
                s = todo[-1]
                ps = [p for p in self.state["commits"][s]["parents"] if p not in memo]
                if ps:
                    todo.extend(ps)
                    continue
                todo.pop()
                memo[s] = 1 + max([memo[p] for p in self.state["commits"][s]["parents"]] or [0])
        return memo[sha]

    def sort_oldest_first(self, shas):
        return sorted(shas, key=lambda s: (self.generation(s),
                                           self.state["commits"][s]["committer"]["date"], s))

    def merge_base(self, a, b):
        common = self.ancestors(a) & self.ancestors(b)
        if not common:
            return None
        return max(common, key=lambda s: (self.generation(s), s))

    def merged_files(self, ours, theirs):
        """Three-way merge of two commits' trees, or None on a conflict."""
        base = self.merge_base(ours, theirs)
        b = self.files(base) if base else {}
        o, t = self.files(ours), self.files(theirs)
        out = {}
        for path in set(b) | set(o) | set(t):
            bv, ov, tv = b.get(path), o.get(path), t.get(path)
            if tv == bv:
                v = ov
            elif ov == bv or ov == tv:
                v = tv
            else:
                return None
            if v is not None:
                out[path] = v
        return out


# ------------------------------------------------------------------------------------------------
# file contents

def _hash_of(label):
    return "sha256-" + base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


def package_rev(package, ref):
    """The commit of mrc-ide/<package> that REF ("HEAD", a branch, a tag or a label) resolves to;
    deterministic, so the update workflow's output is too."""
    return hashlib.sha1(("mrc-ide/%s@%s" % (package, ref)).encode()).hexdigest()


def sources_json(package, rev):
    src = {"owner": "mrc-ide", "repo": package, "rev": rev, "hash": _hash_of("src " + rev)}
    if package == "packit":
        d = {"src": src, "gradleDepsHash": _hash_of("gradle " + rev), "npmDepsHash": _hash_of("npm " + rev)}
    else:
        d = {"src": src, "cargoDepsHash": _hash_of("cargo " + rev)}
    return (json.dumps(d, indent=2) + "\n").encode()


def machine_domain(machine):
    known = KNOWN_MACHINES.get(machine)
    return known[0] if known else "%s.dide.ic.ac.uk" % machine


def machine_nix(machine, features):
    domain, instances, workers = KNOWN_MACHINES.get(machine, (machine_domain(machine), [], 0))
    out = ["{ ... }:", "{", "  imports = [", "    ./common", "    ./hardware/%s.nix" % machine, "  ];", "",
           '  networking.hostName = "%s";' % machine,
           '  services.packit.domain = "%s";' % domain,
           "  services.packit.instances = [%s ];" % "".join(' "%s"' % i for i in instances)]
    for i in instances:
        out += ["", "  services.packit-api.instances.%s = {" % i,
                '    auth.method = "%s";' % ("basic" if i == "kipling" else "github"),
                '    auth.github.org = "%s";' % ("mrc-ide" if i != "reside-dev" else "reside-ic"),
                "  };"]
    if workers:
        out += ["", "  services.orderly-runner.enable = true;",
                "  services.orderly-runner.workers = %d;" % workers]
    if "textfile" in features:
        out += ["", "  services.prometheus.exporters.node.extraFlags = [",
                '    "--collector.textfile.directory=/etc/metrics"', "  ];"]
    out += ["", '  system.stateVersion = "24.05";', "}", ""]
    return "\n".join(out).encode()


FLAKE_NIX = b"""{
  description = "Packit deployment on NixOS";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs, ... }@inputs:
    let
      lib = import ./lib { inherit self nixpkgs inputs; };
    in
    {
      nixosConfigurations = lib.machines;
      apps.x86_64-linux.deploy = lib.deployApp;
      apps.x86_64-linux.update = lib.updateApp;
      packages.x86_64-linux.repository-metrics = lib.repositoryMetrics;
    };
}
"""


def readme(extra_sections):
    text = ["# packit-infra", "",
            "NixOS configuration of the machines that run [Packit](https://github.com/mrc-ide/packit).", "",
            "## Deploying", "", "```sh",
            'nix run --refresh "github:reside-ic/packit-infra#deploy" <machine>', "```", ""]
    for s in extra_sections:
        text += s.split("\n") + [""]
    return "\n".join(text).encode()


UPDATING_PLAYBOOK = """# Updating Packit

1. Run the update workflow, or wait for the nightly run.
2. Deploy the pull request to wpia-packit-dev:
   `nix run --refresh "github:reside-ic/packit-infra?ref=refs/pull/<n>/merge#deploy" wpia-packit-dev`
3. Check wpia-packit-dev, then merge the pull request.
"""


def _tree(machines, cfg):
    files = {"flake.nix": FLAKE_NIX,
             "machines/default.nix": ("[\n%s]\n" % "".join('  "%s"\n' % m for m in machines)).encode(),
             PACKIT_SOURCES: sources_json("packit", package_rev("packit", cfg["packit"])),
             OUTPACK_SOURCES: sources_json("outpack_server", package_rev("outpack_server", cfg["outpack"])),
             "README.md": readme(cfg["readme"]),
             "playbooks/updating-packit.md": cfg["playbook"].encode()}
    for m in machines:
        files[machine_path(m)] = machine_nix(m, cfg["features"])
    return files


# ------------------------------------------------------------------------------------------------
# people

def person(login, name, uid):
    return {"login": login, "name": name, "email": "%d+%s@users.noreply.github.com" % (uid, login), "id": uid}


MAYA = person("mokafor", "Maya Okafor", 48213077)
TOMAS = person("treyes-ic", "Tomás Reyes", 61520334)
JUN = person("junpark-dide", "Jun Park", 70311458)
ROBOT = person("vimc-robot", "vimc-robot", 33094311)
ACTIONS_BOT = {"login": "github-actions[bot]", "name": "github-actions[bot]",
               "email": "41898282+github-actions[bot]@users.noreply.github.com", "id": 41898282}
GITHUB = {"login": None, "name": "GitHub", "email": "noreply@github.com", "id": None}
# The user the sandbox's token belongs to (merges, dispatches).
TOKEN_USER = person("opsdeck-sandbox", "opsdeck sandbox", 90210042)


def ident(p, date):
    d = {"name": p["name"], "email": p["email"], "date": date}
    if p.get("login"):
        d["login"] = p["login"]
    return d


# ------------------------------------------------------------------------------------------------
# the initial history

def build_history(machines):
    """Creates the repository, its fork and the history `up` starts from. Returns
    (state, info): info names the commits ("C1".."C6", main = C6) and the merged pull requests."""
    state = {}
    store = Store(state)
    cfg = {"packit": "2026-08-31", "outpack": "2026-08-28", "readme": [], "playbook": UPDATING_PLAYBOOK,
           "features": set()}
    info = {"commits": {}, "pulls": []}
    main = None

    def commit(key, who, date, message, committer=None):
        nonlocal main
        sha = store.put_commit(_tree(machines, cfg), [main] if main else [], ident(who, date),
                               ident(committer or who, date), message)
        info["commits"][key] = sha
        main = sha
        return sha

    def pr_head(who, date, message):
        # The pull request's own commit (on the fork or a branch); squash-merged onto main.
        return store.put_commit(_tree(machines, cfg), [main], ident(who, date), ident(who, date), message)

    def pull(number, title, body, user, head_repo, head_ref, head, created, merged, merge_sha):
        info["pulls"].append({"number": number, "title": title, "body": body, "user": user,
                              "headRepo": head_repo, "headRef": head_ref, "headSha": head,
                              "baseRef": DEFAULT_BRANCH, "state": "closed", "merged": True,
                              "createdAt": created, "updatedAt": merged, "closedAt": merged,
                              "mergedAt": merged, "mergeCommitSha": merge_sha, "mergedBy": MAYA,
                              "baseSha": store.commit(head)["parents"][0]})

    commit("C1", TOMAS, "2026-09-14T10:12:31Z", "Add wpia-packit-spare, a cold standby for wpia-packit")

    cfg.update(packit="2026-09-28", outpack="2026-09-25")
    h38 = pr_head(ROBOT, "2026-09-29T00:04:12Z", "Update outpack_server and packit")
    commit("C2", ROBOT, "2026-09-29T09:41:07Z", "Update outpack_server and packit (#38)\n\n"
           "* Update outpack_server and packit", GITHUB)
    pull(38, "Update outpack_server and packit",
         update_pr_body(package_revs(store.files(info["commits"]["C1"])), package_revs(store.files(h38)), None),
         ROBOT, FORK_FULL_NAME, UPDATE_BRANCH, h38, "2026-09-29T00:04:20Z", "2026-09-29T09:41:07Z",
         info["commits"]["C2"])

    cfg["features"] = {"textfile"}
    h39 = pr_head(MAYA, "2026-10-12T15:20:44Z", "Export the deployed commit to node_exporter")
    commit("C3", MAYA, "2026-10-13T11:03:52Z", "Export the deployed commit to node_exporter (#39)\n\n"
           "node_exporter's textfile collector reads /etc/metrics, where configuration-info.nix\n"
           "writes nixos_configuration_info.", GITHUB)
    pull(39, "Export the deployed commit to node_exporter",
         "node_exporter's textfile collector reads /etc/metrics, where configuration-info.nix writes "
         "`nixos_configuration_info`, so the deployed commit shows up in Grafana.",
         MAYA, FULL_NAME, "mrc-7012-configuration-info", h39, "2026-10-12T15:21:02Z",
         "2026-10-13T11:03:52Z", info["commits"]["C3"])

    cfg.update(packit="2026-10-26", outpack="2026-10-20")
    h40 = pr_head(ROBOT, "2026-10-27T00:03:58Z", "Update outpack_server and packit")
    commit("C4", ROBOT, "2026-10-27T14:26:15Z", "Update outpack_server and packit (#40)\n\n"
           "* Update outpack_server and packit", GITHUB)
    pull(40, "Update outpack_server and packit",
         update_pr_body(package_revs(store.files(info["commits"]["C3"])), package_revs(store.files(h40)), None),
         ROBOT, FORK_FULL_NAME, UPDATE_BRANCH, h40, "2026-10-27T00:04:05Z", "2026-10-27T14:26:15Z",
         info["commits"]["C4"])

    cfg["playbook"] = UPDATING_PLAYBOOK + (
        "4. Deploy main to every machine, wpia-packit-dev too: its deployed commit changes at the merge.\n")
    commit("C5", JUN, "2026-11-04T16:48:09Z", "playbooks: deploy main everywhere after merging an update")

    cfg["readme"] = ["## Monitoring\n\nThe Grafana dashboard \"outpack\" shows each machine's deployed commit "
                     "next to main's."]
    commit("C6", TOMAS, "2026-11-10T09:15:27Z", "README: link the Grafana dashboard")

    store.set_ref(FULL_NAME, DEFAULT_BRANCH, main)
    store.set_ref(FORK_FULL_NAME, DEFAULT_BRANCH, main)
    info["main"] = main
    return state, info


def update_pr_body(old_revs, new_revs, run_id):
    """The body the update workflow writes: the commits each package gains (old/new_revs as
    package_revs gives them)."""
    def section(package):
        a, b = old_revs[package], new_revs[package]
        titles = _CHANGES[package]
        k = int(b[:8], 16)
        picked = [titles[(k + i) % len(titles)] for i in range(2 + k % 2)]
        lines = ["### %s" % package, "", "mrc-ide/%s@%s...%s" % (package, a[:7], b[:7]), ""]
        lines += ["- %s (mrc-ide/%s#%d)" % (t, package, 100 + (k >> (4 * i)) % 300)
                  for i, t in enumerate(picked)]
        return "\n".join(lines)
    head = "Automated changes by the update workflow"
    if run_id is not None:
        head += " (https://github.com/%s/actions/runs/%d)" % (FULL_NAME, run_id)
    return "%s.\n\n%s\n\n%s\n" % (head, section("outpack_server"), section("packit"))


_CHANGES = {
    "outpack_server": ["Report file sizes in /metrics", "Bump tokio from 1.44 to 1.45",
                       "Return 404 rather than 500 for a missing packet", "Stream large files",
                       "Cache location entries per path"],
    "packit": ["Show a packet's description on its page", "Resync button on the admin tab",
               "Bump spring-boot to 3.4.5", "Device flow login for the CLI", "Pins on the home page",
               "Fix paging of packet groups"],
}


# ------------------------------------------------------------------------------------------------
# initial deployments

def initial_deployment(store, info, machine, state):
    """(revision, narHash, package revs) MACHINE starts deployed with, for one of STATES:
      up-to-date      main (C6)
      behind          wpia-packit: C2; other machines: C3 (both before C4 changed the packages)
      dirty           "<C5>-dirty" with a narHash no commit has
      unreachable     C1 (wpia-packit-spare; nothing can reach it anyway)
      config-matches  C5: older than main, but C6 only changed the README
    """
    c = info["commits"]
    sha = {"up-to-date": c["C6"], "behind": c["C2"] if machine == "wpia-packit" else c["C3"],
           "dirty": c["C5"], "unreachable": c["C1"], "config-matches": c["C5"]}[state]
    files = store.files(sha)
    if state == "dirty":
        return sha + "-dirty", dirty_nar_hash(files, machine), package_revs(files)
    return sha, nar_hash(files, machine), package_revs(files)


# ------------------------------------------------------------------------------------------------
# edits of a tree (the stand-in's pushes)

_SWAPPINESS = re.compile(rb'^  boot\.kernel\.sysctl\."vm\.swappiness" = (\d+);$', re.M)


def change_configuration(files):
    """A configuration change of every machine (each machines/<m>.nix, except default.nix)."""
    out = dict(files)
    for path, data in files.items():
        if not (path.startswith("machines/") and path.endswith(".nix")) or path == "machines/default.nix":
            continue
        m = _SWAPPINESS.search(data)
        if m:
            data = data[:m.start(1)] + str(int(m.group(1)) + 1).encode() + data[m.end(1):]
        else:
            data = data.replace(b'\n  system.stateVersion',
                                b'\n  boot.kernel.sysctl."vm.swappiness" = 10;\n  system.stateVersion', 1)
        out[path] = data
    return out


def change_docs(files, message):
    out = dict(files)
    out["README.md"] = files.get("README.md", b"") + ("- %s\n" % message.split("\n")[0]).encode()
    return out


def update_packages(files, outpack_ref, packit_ref):
    out = dict(files)
    out[OUTPACK_SOURCES] = sources_json("outpack_server", package_rev("outpack_server", outpack_ref))
    out[PACKIT_SOURCES] = sources_json("packit", package_rev("packit", packit_ref))
    return out
