"""deploy/prometheus rules pass `promtool check rules` and their unit tests (`promtool test rules`); the Grafana
dashboard only charts series Strata really exports."""
import json
import os
import re
import shutil
import subprocess

import pytest

from pipeline.core.alerts.prometheus import StrataMetrics

from .conftest import DEPLOY

PROM = DEPLOY / "prometheus"


def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("promtool missing (.ci/run installs Debian's prometheus)")
        pytest.skip("promtool missing (apt-get install prometheus)")
    return found


def exported_metrics() -> set[str]:
    return {m.name for m in StrataMetrics().registry.collect()} | {
        s.name for m in StrataMetrics().registry.collect() for s in m.samples}


def test_promtool_check_rules():
    out = subprocess.run([promtool(), "check", "rules", "strata-rules.yml"], cwd=PROM, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 7 rules found" in out.stdout


def test_promtool_rule_unit_tests():
    out = subprocess.run([promtool(), "test", "rules", "strata-rules.test.yml"], cwd=PROM, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_promtool_rejects_a_broken_rule(tmp_path):
    broken = (PROM / "strata-rules.yml").read_text().replace('strata_invariants{status="violated"} > 0', "strata_invariants{ > 0")
    (tmp_path / "r.yml").write_text(broken)
    out = subprocess.run([promtool(), "check", "rules", str(tmp_path / "r.yml")], capture_output=True, text=True)
    assert out.returncode != 0


def test_rules_and_dashboard_use_exported_metrics_only():
    names = exported_metrics()
    assert {"strata_invariants", "strata_anomalies", "strata_drift_score", "strata_rows_ingested_total"} <= names
    dash = json.loads((DEPLOY / "grafana" / "dashboards" / "strata-overview.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += re.findall(r"expr: (.+)", (PROM / "strata-rules.yml").read_text())
    used = {m for e in exprs for m in re.findall(r"\bstrata_[a-z_]+", e)}
    assert used and used <= names, used - names
    assert len({p["id"] for p in dash["panels"]}) == len(dash["panels"])
    assert all(t["datasource"]["uid"] == "strata-prometheus" for p in dash["panels"] for t in p["targets"])
