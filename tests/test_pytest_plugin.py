"""The `strata` pytest plugin, run in a subprocess: baseline items pass, warn, fail or skip by the staleness rules,
the strata_entries fixture reads the source once per session, and runs without a source still work."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from pipeline.core.invariants import Invariant, save_baseline
from pipeline.pytest_plugin import load_args

ROWS = [{"ts": f"2025-01-01T00:00:{i:02d}Z", "model": "a" if i % 2 else "b", "service": "x" if i < 40 else "y",
         "outcome": "ok" if i < 25 else "bad", "prompt": f"q{i}", "response": f"answer {i}"} for i in range(50)]

CONFTEST = """
import pipeline.core.ingest as ingest_module

calls = []
real = ingest_module.ingest


def counting_ingest(*args, **kwargs):
    calls.append(args[0])
    return real(*args, **kwargs)


ingest_module.ingest = counting_ingest


def pytest_sessionfinish(session):
    open("ingest_calls.txt", "w").write(str(len(calls)))
"""

USES_FIXTURE = """
def test_fixture_gives_the_entries(strata_entries):
    assert strata_entries.num_rows == 50


def test_plain():
    assert True
"""


def invariant(id_: str, field: str, values: list[str], severity: str = "warning") -> Invariant:
    return Invariant(id=id_, family="structural", description=f"{field} is one of {values}", confidence=1.0,
                     support=50, total=50, severity=severity, check={"kind": "in_set", "field": field, "values": values})


@pytest.fixture
def project(tmp_path):
    (tmp_path / "logs.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    save_baseline([
        invariant("models:holds", "model", ["a", "b"]),
        invariant("services:degraded", "service", ["x"]),  # 80% now: -20 points
        invariant("outcomes:violated", "outcome", ["ok"]),  # 50% now: -50 points
        invariant("traces:missing", "trace_id", ["t"]),  # no trace ids in the logs
    ], tmp_path / "tests" / "service.strata.json")
    (tmp_path / "tests" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "tests" / "test_uses_fixture.py").write_text(USES_FIXTURE, encoding="utf-8")
    return tmp_path


def run_pytest(cwd, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider", *load_args(),
                           "tests", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def outcomes(stdout: str) -> dict[str, str]:
    return {m[1]: m[2] for m in re.finditer(r"^tests/\S+?::(\S+) (PASSED|FAILED|SKIPPED|ERROR)", stdout, re.M)}


def test_baseline_items_follow_staleness_rules(project):
    done = run_pytest(project, "--strata-source", str(project / "logs.jsonl"))
    got = outcomes(done.stdout)
    assert got == {"models:holds": "PASSED", "services:degraded": "PASSED", "outcomes:violated": "FAILED",
                   "traces:missing": "SKIPPED", "test_fixture_gives_the_entries": "PASSED", "test_plain": "PASSED"}, done.stdout
    assert done.returncode == 1
    assert "StrataDegradedWarning" in done.stdout and "'services:degraded' degraded" in done.stdout
    assert "'outcomes:violated' violated: confidence then 1.0000, now 0.5000" in done.stdout
    assert "'traces:missing'" in done.stdout  # the skip reason names the invariant
    assert (project / "ingest_calls.txt").read_text() == "1"  # baseline items and the fixture share one read


def test_without_a_source_items_skip_and_normal_tests_run(project):
    done = run_pytest(project)
    got = outcomes(done.stdout)
    assert got["test_plain"] == "PASSED" and done.returncode == 0, done.stdout
    assert {k for k, v in got.items() if v == "SKIPPED"} == {"models:holds", "services:degraded", "outcomes:violated",
                                                            "traces:missing", "test_fixture_gives_the_entries"}
    assert "no Strata log source: pass --strata-source" in done.stdout
    assert (project / "ingest_calls.txt").read_text() == "0"
