"""`make demo` replays from its drops: a re-run clears the last run's lake, warehouse and artifacts, but only where
they are the local defaults; drops and configured locations are never touched."""
from __future__ import annotations

from pipeline.demo import _clear_last_demo


def test_only_defaulted_outputs_are_cleared(tmp_path, monkeypatch, capsys):
    lake, artifacts, drops = tmp_path / "lake", tmp_path / "artifacts", tmp_path / "drops"
    for folder in (lake, artifacts, drops):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "f.parquet").write_bytes(b"x")
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"db")
    (tmp_path / "warehouse.duckdb.wal").write_bytes(b"wal")
    monkeypatch.setenv("STRATA_LAKE_URL", str(lake))
    monkeypatch.setenv("STRATA_WAREHOUSE_PATH", str(warehouse))
    monkeypatch.setenv("STRATA_ARTIFACTS_URL", str(artifacts))
    _clear_last_demo(["STRATA_LAKE_URL", "STRATA_WAREHOUSE_PATH"])  # artifacts was configured by the user
    assert not lake.exists() and not warehouse.exists() and not (tmp_path / "warehouse.duckdb.wal").exists()
    assert (artifacts / "sub" / "f.parquet").exists() and (drops / "sub" / "f.parquet").exists()
    assert "cleared the last run's" in capsys.readouterr().out
    _clear_last_demo(["STRATA_LAKE_URL"])  # nothing left to clear: says nothing
    assert capsys.readouterr().out == ""
