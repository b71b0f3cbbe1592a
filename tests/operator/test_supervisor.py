"""`dita serve` run by a real supervisord from deploy/supervisor/dita.conf.in.

Starts a private supervisord (temp dir, unix socket, no inet port), checks that the kernel
comes up, trades, stops cleanly on `supervisorctl stop` (SIGTERM: regions closed cleanly,
journal flushed), and recovers its state on `supervisorctl start`.
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

SOURCE = pathlib.Path(os.environ["DITA_SOURCE_DIR"])
DITA = os.environ["DITA_EXE"]


def run(*args, check=True):
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}: {result.stdout}{result.stderr}")
    return result


def status(instance):
    result = run(DITA, "status", "--instance", instance, "--json", check=False)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)


def wait_for(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def supervised():
    work = pathlib.Path(tempfile.mkdtemp(prefix="dita-supervisor-"))
    instance = f"sup{os.getpid()}"
    template = (SOURCE / "deploy" / "supervisor" / "dita.conf.in").read_text()
    program = (template.replace("@DITA_EXE@", DITA).replace("@INSTANCE@", instance)
               .replace("@JOURNAL@", str(work / "kernel.journal")).replace("@WORKDIR@", str(work))
               .replace("@MODE@", "DEBUG").replace("@VERBOSITY@", "VERBOSE"))
    unfilled = [line for line in program.splitlines() if "@" in line and not line.startswith(";")]
    assert not unfilled, f"unfilled placeholders: {unfilled}"
    conf = work / "supervisord.conf"
    conf.write_text(f"""[unix_http_server]
file={work}/supervisor.sock
chmod=0700

[supervisord]
logfile={work}/supervisord.log
pidfile={work}/supervisord.pid
childlogdir={work}
nodaemon=false

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{work}/supervisor.sock

{program}
""")
    run("supervisord", "-c", str(conf))
    ctl = ["supervisorctl", "-c", str(conf)]
    try:
        yield instance, ctl, work
    finally:
        subprocess.run(ctl + ["shutdown"], capture_output=True, timeout=60)
        pid_file = work / "supervisord.pid"
        deadline = time.monotonic() + 30
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        for region in ("state", "control", "intent"):
            pathlib.Path(f"/dev/shm/dita.{instance}.{region}").unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def test_supervisord_runs_stops_cleanly_and_restarts_the_kernel(supervised):
    instance, ctl, work = supervised
    wait_for(lambda: (s := status(instance)) and s["writer"]["liveness"] == "ALIVE", "kernel up")
    wait_for(lambda: "RUNNING" in run(*ctl, "status", "dolphin:dita_v2", check=False).stdout,
             "supervisord reports RUNNING (after startsecs)")

    run(DITA, "intent", "--instance", instance, "enter", "--slot", "0", "--asset", "BTC-USDT",
        "--side", "LONG", "--size", "0.01", "--price", "60000")
    opened = wait_for(lambda: (s := status(instance)) and s["slots"][0]["stage"] == "POSITION_OPEN" and s,
                      "position open")
    capital_before = opened["account"]["capital"]

    run(*ctl, "stop", "dolphin:dita_v2")
    stopped = status(instance)
    assert stopped["writer"]["liveness"] == "CLOSED_CLEANLY"
    assert stopped["slots"][0]["stage"] == "POSITION_OPEN", "the last image stays readable"
    assert "STOPPED" in run(*ctl, "status", "dolphin:dita_v2", check=False).stdout
    assert "stopped: dita_v2 (exit status 0)" in (work / "supervisord.log").read_text()

    run(*ctl, "start", "dolphin:dita_v2")
    restarted = wait_for(lambda: (s := status(instance)) and s["writer"]["liveness"] == "ALIVE" and s,
                         "kernel back")
    assert restarted["slots"][0]["stage"] == "POSITION_OPEN", "recovered from the journal"
    assert restarted["account"]["capital"] == capital_before

    run(DITA, "intent", "--instance", instance, "exit", "--slot", "0", "--price", "61000")
    closed = wait_for(lambda: (s := status(instance)) and s["slots"][0]["stage"] == "CLOSED" and s,
                      "trade closed")
    assert closed["account"]["trade_seq"] == 1
    run(*ctl, "stop", "dolphin:dita_v2")
    assert run(DITA, "replay", str(work / "kernel.journal")).returncode == 0
