"""`strata diff`: two sources or one split --by a column; formats; CI exit codes; errors name the cause."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.core.drift.synthetic import drift_corpus


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("diff")
    a, b = drift_corpus(6000, seed=2, change="escalations")
    aa, _ = drift_corpus(6000, seed=9, change=None)
    pq.write_table(a, d / "a.parquet")
    pq.write_table(b, d / "b.parquet")
    pq.write_table(aa, d / "aa.parquet")
    both = pa.concat_tables([a.set_column(a.schema.get_field_index("version"), "version", pa.array(["v1"] * a.num_rows)),
                             b.set_column(b.schema.get_field_index("version"), "version", pa.array(["v2"] * b.num_rows))])
    pq.write_table(both, d / "both.parquet")
    return d


def test_json_output_has_the_contract(pair, capsys):
    assert main(["diff", str(pair / "a.parquet"), str(pair / "b.parquet"), "--format", "json", "--bootstrap", "200"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r) >= {"score", "ci", "verdict", "dimensions", "hypotheses", "financial_impact"}
    outcome = next(d for d in r["dimensions"] if d["name"] == "outcome")
    assert outcome["significant"] and outcome["test"] == "chi2" and outcome["p_value"] < 1e-6
    assert any("scalat" in h["text"] for h in r["hypotheses"])


def test_fail_on_and_fail_above_exit_codes(pair, capsys):
    args = ["diff", str(pair / "a.parquet"), str(pair / "b.parquet"), "--bootstrap", "0"]
    assert main(args + ["--fail-on", "MONITOR"]) == 1
    assert main(args + ["--fail-above", "0.99"]) == 0
    assert main(args + ["--fail-above", "0.0"]) == 1
    out = capsys.readouterr().out
    assert "Verdict" in out and "Why" in out


def test_aa_passes_ci_gate(pair):
    assert main(["diff", str(pair / "a.parquet"), str(pair / "aa.parquet"), "--bootstrap", "0", "--fail-on", "MONITOR"]) == 0


def test_by_version_in_one_source_and_output_file(pair, capsys):
    out = pair / "diff.md"
    assert main(["diff", str(pair / "both.parquet"), "--by", "version", "--format", "md", "-o", str(out),
                 "--bootstrap", "0"]) == 0
    md = out.read_text()
    assert md.startswith("### Strata drift: v1 → v2") and "| dimension |" in md


def test_errors_exit_2_and_name_the_cause(pair, capsys):
    assert main(["diff", str(pair / "both.parquet"), "--by", "release_train"]) == 2
    assert "release_train" in capsys.readouterr().err
    assert main(["diff", str(pair / "a.parquet"), str(pair / "b.parquet"), "--by", "version"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["diff", str(pair / "missing.jsonl"), str(pair / "b.parquet")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    assert main(["diff", str(pair / "a.parquet"), str(pair / "b.parquet"), "--fail-above", "3"]) == 2
