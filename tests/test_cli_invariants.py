"""The invariant commands (discover, save, check-staleness, compare, init, emit-tests) run in-process on a
synthetic corpus and a drifted one (PII leaks, a removed tool, slower answers)."""
from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main as strata_main
from pipeline.core.config import StrataConfig, load_config
from pipeline.core.ingest.engine import ingest
from pipeline.core.invariants import load_baseline
from pipeline.core.invariants.synthetic import MODELS, Drift, generate_entries
from pipeline.pytest_plugin import load_args

FAMILIES = "structural,statistical,pii"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    pq.write_table(generate_entries(800, seed=1), d / "base.parquet")
    pq.write_table(generate_entries(800, seed=2, drift=Drift(pii_rate=0.02)), d / "drift.parquet")
    return d


def run(capsys, *argv) -> tuple[int, str, str]:
    code = strata_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def baselines(corpus):
    """Baselines of both corpora (structural, statistical and PII families), saved through the CLI."""
    for name in ("base", "drift"):
        assert strata_main(["save", str(corpus / f"{name}.parquet"), "-o", str(corpus / name), "--types", FAMILIES]) == 0
    return corpus / "base.strata.json", corpus / "drift.strata.json"


def test_discover_json_shape_and_values(corpus, capsys):
    code, out, _ = run(capsys, "discover", corpus / "base.parquet", "--types", "structural,pii", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["rows"] == 800 and set(doc) == {"rows", "invariants", "findings"} and doc["findings"] == []
    found = {i["id"]: i for i in doc["invariants"]}
    assert {i["family"] for i in found.values()} == {"structural", "pii"}
    for inv in found.values():
        assert set(inv) >= {"id", "family", "description", "confidence", "support", "total", "severity", "check", "evidence"}
        assert inv["confidence"] >= 0.8
    email = found["pii:output:regex_absent:email"]
    assert (email["confidence"], email["severity"]) == (1.0, "critical")
    models = found["structural:model:in_set:full"]
    assert set(models["check"]["values"]) == set(MODELS) and models["support"] == models["total"] == 800


def test_discover_text_groups_by_family_and_rejects_unknown_types(corpus, capsys):
    code, out, _ = run(capsys, "discover", corpus / "base.parquet", "--types", "pii", "--min-confidence", "0.9")
    assert code == 0
    assert "\npii (" in out and "pii:output:regex_absent:ssn" in out and "critical" in out and "structural" not in out
    code, _, err = run(capsys, "discover", corpus / "base.parquet", "--types", "pii,nonsense")
    assert code == 2 and "unknown families 'nonsense'" in err


def test_check_staleness_exit_codes_and_json(corpus, baselines, capsys):
    base, _ = baselines
    assert load_baseline(base)
    code, out, _ = run(capsys, "check-staleness", corpus / "base.parquet", "--baseline", base, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["counts"]["violated"] == 0 and doc["counts"]["holds"] == len(doc["invariants"])

    code, out, _ = run(capsys, "check-staleness", corpus / "drift.parquet", "--baseline", base, "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert set(doc["counts"]) == {"holds", "degraded", "violated", "missing"}
    assert sum(doc["counts"].values()) == len(doc["invariants"])
    by_id = {i["id"]: i for i in doc["invariants"]}
    for item in by_id.values():
        assert {"id", "family", "status", "confidence_then", "confidence_now", "evidence"} <= set(item)
    email = by_id["pii:output:regex_absent:email"]
    assert email["status"] == "violated" and email["confidence_then"] == 1.0 and email["confidence_now"] < 1.0
    assert email["evidence"]["violations"] > 0 and email["evidence"]["examples"][0]["line"] >= 1
    assert by_id["statistical:tool_calls:share_between:share=lookup_order"]["status"] == "violated"  # tool removed
    assert by_id["statistical:latency_ms:max_quantile:p95"]["status"] in ("degraded", "violated")  # 1.4x slower

    code, out, _ = run(capsys, "check-staleness", corpus / "drift.parquet", "--baseline", base)
    assert code == 1 and "violated (" in out and "pii:output:regex_absent:email" in out


def test_staleness_thresholds_from_strata_yml(corpus, baselines, tmp_path, capsys):
    base, _ = baselines
    cfg = tmp_path / "strata.yml"
    cfg.write_text("invariants:\n  degraded_pp: 99\n  violated_pp: 99.5\n", encoding="utf-8")
    code, out, _ = run(capsys, "--config", cfg, "check-staleness", corpus / "drift.parquet", "--baseline", base,
                       "--format", "json")
    doc = json.loads(out)
    assert (doc["degraded_pp"], doc["violated_pp"]) == (99, 99.5)
    statuses = {i["id"]: i["status"] for i in doc["invariants"]}
    # a ceiling is judged by its interval (the slower answers' p95 is clearly above it), whatever the points say
    assert statuses["statistical:latency_ms:max_quantile:p95"] == "violated"
    assert "degraded" not in statuses.values()  # points-based drops all stay under 99 pp
    assert statuses["pii:output:regex_absent:email"] == "violated" and code == 1  # critical PII: any leak violates
    code, _, err = run(capsys, "check-staleness", corpus / "base.parquet", "--baseline", tmp_path / "none.strata.json")
    assert code == 2 and "no such baseline file" in err


def test_compare_categories(baselines, capsys):
    base, drift = baselines
    code, out, _ = run(capsys, "compare", base, drift, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["counts"] == {k: len(doc[k]) for k in ("new", "removed", "improved", "degraded", "stable")}
    category = {c["id"]: name for name in ("new", "removed", "improved", "degraded", "stable") for c in doc[name]}
    assert category["statistical:model:share_between:share=gpt-4.1"] == "new"
    assert category["statistical:tool_calls:share_between:share=lookup_order"] == "removed"
    assert category["statistical:latency_ms:max_quantile:p95"] == "degraded"
    # the drifted corpus leaks: its PII rules are findings, not invariants, and losing them is a regression
    assert category["pii:output:regex_absent:ssn"] == "removed" and doc["counts"]["stable"] > 20
    assert {"pii:output:regex_absent:ssn", "statistical:latency_ms:max_quantile:p95"} <= set(doc["regressions"])
    assert {f["invariant_id"] for f in doc["findings_b"]} >= {"pii:output:regex_absent:email"}
    assert run(capsys, "compare", base, base, "--format", "json")[0] == 0  # a baseline against itself passes
    assert run(capsys, "compare", base, drift, "--fail-on", "never")[0] == 0
    code, out, _ = run(capsys, "compare", base, drift)
    assert code == 1 and "Leak: 2 of 772" in out and "\nnew (" in out and "\nremoved (" in out and "stable" in out.splitlines()[0]


def test_init_writes_loadable_config_and_refuses_to_overwrite(corpus, tmp_path, capsys):
    target = tmp_path / "project"
    code, out, _ = run(capsys, "init", corpus / "base.parquet", "--dir", target, "--types", "pii")
    assert code == 0, out
    cfg = load_config(target / "strata.yml")
    assert cfg.roles["model"] == "$.model" and cfg.roles["tool_calls"] == "$.tool_calls[*]"
    text = (target / "strata.yml").read_text(encoding="utf-8")
    assert "# prices:" in text and "# sampling:" in text and '"gpt-4o"' in text
    assert {i.id for i in load_baseline(target / "strata.baseline.strata.json")} >= {"pii:output:regex_absent:email"}
    plain, _ = ingest(str(corpus / "base.parquet"))
    configured, _ = ingest(str(corpus / "base.parquet"), config=cfg)
    for column in ("model", "tool_calls", "latency_ms", "output", "ts"):
        assert configured.column(column).equals(plain.column(column))

    (target / "strata.yml").write_text("# mine\n", encoding="utf-8")
    code, _, err = run(capsys, "init", corpus / "base.parquet", "--dir", target)
    assert code == 2 and "--force" in err and (target / "strata.yml").read_text(encoding="utf-8") == "# mine\n"
    code, _, _ = run(capsys, "init", corpus / "base.parquet", "--dir", target, "--force", "--types", "pii")
    assert code == 0 and "roles:" in (target / "strata.yml").read_text(encoding="utf-8")


def test_emit_tests_pass_on_source_and_fail_on_drift(corpus, tmp_path, capsys):
    out_file = tmp_path / "gen" / "test_invariants.py"
    code, out, _ = run(capsys, "emit-tests", corpus / "base.parquet", "-o", out_file, "--types", "statistical,pii")
    assert code == 0 and out_file.is_file()
    compile(out_file.read_text(encoding="utf-8"), str(out_file), "exec")

    def pytest_on(source):  # both runs at once: each is mostly interpreter and pytest start-up
        return subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *load_args(),
                                 str(out_file), "--strata-source", str(source)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=out_file.parent)

    runs = [pytest_on(corpus / "base.parquet"), pytest_on(corpus / "drift.parquet")]
    (same_out, _), (drift_out, _) = [p.communicate(timeout=120) for p in runs]
    assert runs[0].returncode == 0 and " passed" in same_out and "failed" not in same_out, same_out[-2000:]
    assert runs[1].returncode == 1, drift_out[-2000:]
    failed = [ln for ln in drift_out.splitlines() if ln.startswith("FAILED")]
    assert any("test_pii_output_regex_absent_email" in ln for ln in failed)
    assert "confidence then 1.0000, now" in drift_out and "examples:" in drift_out


def test_starter_yaml_keeps_hostile_field_names_and_models_inert():
    import pyarrow as pa
    import yaml

    from pipeline.core.ingest.engine import IngestResult, SourceReport
    from pipeline.core.starter_config import starter_yaml

    paths = {"model": '$["mo\\"del\nprices: {x: 1}  # \x7f"]', "output": "$.out\u2028put#: [", "input": "$['in''put']"}
    report = SourceReport("logs.jsonl", "jsonl", None, None, 10, schema={
        "mapping": {"roles": {r: [{"path": p, "transform": "auto", "scale": 1.0, "end_path": None}] for r, p in paths.items()}
                    | {"latency_ms": [{"path": "$.secs", "transform": "auto", "scale": 1000.0, "end_path": None}]},
                    "constants": {"provider": "ac\"me\n"}},
        "assignments": [{"role": "model", "confidence": 0.9}]})
    models = pa.table({"model": ["gpt-4o", "evil\nsampling: {max_rows: -1}\x7f", "\u202emodel"]})
    text = starter_yaml(IngestResult(sources=[report]), models)
    data = yaml.safe_load(text)
    assert set(data) == {"roles", "constants"}  # nothing injected: every other section stays commented out
    assert data["roles"] == {**paths, "latency_ms": {"path": "$.secs", "scale": 1000.0}}
    assert data["constants"] == {"provider": "ac\"me\n"}
    assert all(line.startswith(("#", "roles:", "constants:", "  ")) or not line for line in text.splitlines())
    assert StrataConfig.model_validate(data).roles["latency_ms"].scale == 1000.0
