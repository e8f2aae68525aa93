"""What the datamon benchmarks share (bench-datamon-repos, bench-datamon-purge): finding opsdeck, a sandbox's
environment and sandbox.json, datamon2 by hand on the bastion over ssh, and the GCS stand-in's object counts."""

import json
import os
import ssl
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
SANDBOX = os.path.join(SOURCE, "tests", "sandbox", "sandbox")


def die(program, message, code=2):
    print(f"{program}: {message}", file=sys.stderr)
    sys.exit(code)


def find_opsdeck(program, given):
    for candidate in [given, os.environ.get("OPSDECK_BIN")] + [
            os.path.join(b, "app", "opsdeck") for b in
            ([os.environ["OPSDECK_BUILD_DIR"]] if os.environ.get("OPSDECK_BUILD_DIR") else
             [os.path.join(SOURCE, "build-bench"), os.path.join(SOURCE, "build")])]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    die(program, "no opsdeck binary: build it (cmake --build BUILD --target benchmarks) or give --opsdeck-bin")
    return None


def load_env(directory):
    """The environment with the sandbox's env file applied (inventory, passwords), as `source DIR/env` gives it."""
    env = dict(os.environ)
    with open(os.path.join(directory, "env")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                name, value = line[len("export "):].split("=", 1)
                env[name] = value.strip("'\"")
    return env


def load_sandbox(directory):
    with open(os.path.join(directory, "sandbox.json")) as f:
        return json.load(f)


def bastion_ssh(directory, sandbox):
    """ssh to the bastion as root with the sandbox's key: the admin's shell of the runbook."""
    bastion = sandbox["hosts"]["bastion"] if isinstance(sandbox["hosts"], dict) else \
        next(h for h in sandbox["hosts"] if h["name"] == "bastion")
    port = str(bastion.get("port") or sandbox.get("sshPort"))
    return ["ssh", "-i", os.path.join(directory, "keys", "id_ed25519"), "-o",
            f"UserKnownHostsFile={os.path.join(directory, 'known_hosts')}", "-o", "BatchMode=yes", "-p", port,
            f"root@{bastion['address']}"]


def gcs_objects(sandbox, bucket):
    """The GCS stand-in's object count of `bucket` (its /_standin/stats)."""
    gcs = sandbox["gcs"]
    request = urllib.request.Request(gcs["endpoint"] + "/_standin/stats",
                                     headers={"Authorization": "Bearer " + gcs["controlToken"]})
    context = ssl.create_default_context(cafile=gcs["caFile"])
    with urllib.request.urlopen(request, context=context, timeout=60) as answer:
        return json.load(answer)["buckets"][bucket]["objects"]


def sandbox_up(program, directory, port_base, *options):
    if subprocess.run([SANDBOX, "up", directory, "--port-base", str(port_base), *options]).returncode != 0:
        subprocess.run([SANDBOX, "down", directory])
        die(program, "sandbox up failed", 1)


def sandbox_down(directory):
    subprocess.run([SANDBOX, "down", directory])
