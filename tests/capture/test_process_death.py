"""Process-death matrix: 10,000 finished spans per case, each case in its own process; every finished span ends up
in the published drop exactly once (published at exit, or by the recovery publisher after a kill)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import published_spans

N = 10_000
WORKER = Path(__file__).with_name("death_worker.py")
REPO = Path(__file__).resolve().parents[2]


def env_for(tmp_path) -> dict:
    env = dict(os.environ)
    env.update({"STRATA_CAPTURE_DROP_URL": str(tmp_path / "drops"), "STRATA_CAPTURE_SPOOL_DIR": str(tmp_path / "spool"),
                "STRATA_CAPTURE_SERVICE": "death", "STRATA_CAPTURE_EXIT_TIMEOUT_S": "20",
                "STRATA_CAPTURE_FLUSH_INTERVAL_S": "3600", "STRATA_CAPTURE_METRICS": "off",
                "STRATA_CAPTURE_SEGMENT_BYTES": str(256 << 10),  # several segments per case
                "PYTHONPATH": str(REPO)})
    return env


def recover(env: dict) -> None:
    out = subprocess.run([sys.executable, "-m", "strata_capture", "publish"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def check(tmp_path, names_expected: int) -> list[dict]:
    spans = published_spans(str(tmp_path / "drops"))
    ids = [s["span"] for s in spans]
    assert len(ids) == len(set(ids)), "a span was published twice"
    finished = [s for s in spans if s["name"] != "open-root"]
    assert len(finished) == names_expected
    assert len({s["name"] for s in finished}) == names_expected
    leftovers = [p for p in os.listdir(tmp_path / "spool") if p.endswith((".seg", ".open", ".jsonl"))]
    assert leftovers == []
    return spans


@pytest.mark.parametrize("case", ["normal", "thread_sys_exit", "mp_fork_child", "fork_after_configure"])
def test_exit_paths_publish_every_span(tmp_path, case):
    out = subprocess.run([sys.executable, str(WORKER), case, str(N)], env=env_for(tmp_path), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == (0 if case != "thread_sys_exit" else 0), out.stderr
    spans = check(tmp_path, N)
    traces: dict[str, list] = {}
    for s in spans:
        traces.setdefault(s["trace"], []).append(s)
    assert all(sum(1 for s in t if s["parent"] is None) == 1 for t in traces.values())  # whole traces per document


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_process_spans_are_recovered(tmp_path, sig):
    env = env_for(tmp_path)
    case = "sigterm" if sig == signal.SIGTERM else "sigkill"
    proc = subprocess.Popen([sys.executable, str(WORKER), case, str(N)], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == -sig
    assert published_spans(str(tmp_path / "drops")) == []  # nothing ran at exit
    recover(env)
    spans = check(tmp_path, N)
    assert {s["trace"] for s in spans} == {spans[0]["trace"]}  # the orphans of the open root, in one document
