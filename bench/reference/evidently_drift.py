"""Evidently's DataDriftPreset on frame pairs written by bench/drift_quality.py; runs in its own venv (evidently needs
pandas < 3): `make bench-evidently-env`. Usage: python bench/reference/evidently_drift.py DIR; prints one JSON object
{case: {"flagged": [columns], "values": {column: drift value}, "seconds": s}}."""
import json
import sys
import time
from pathlib import Path

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def run(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    numeric = [c for c in ref.columns if pd.api.types.is_numeric_dtype(ref[c])]
    categorical = [c for c in ref.columns if c not in numeric]
    dd = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    start = time.perf_counter()
    result = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=dd),
                                             Dataset.from_pandas(ref, data_definition=dd))
    secs = time.perf_counter() - start
    values, flagged = {}, []
    for m in result.dict()["metrics"]:
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("ValueDrift"):
            col, value, threshold = cfg["column"], float(m["value"]), float(cfg["threshold"])
            values[col] = value
            p_value_method = "p_value" in cfg.get("method", "").lower() or "test" in cfg.get("method", "").lower()
            if (value < threshold) if p_value_method else (value >= threshold):
                flagged.append(col)
    return {"flagged": flagged, "values": values, "seconds": secs}


def main() -> None:
    root = Path(sys.argv[1])
    out = {}
    for ref_path in sorted(root.glob("*_a.parquet")):
        case = ref_path.name[: -len("_a.parquet")]
        out[case] = run(pd.read_parquet(ref_path), pd.read_parquet(root / f"{case}_b.parquet"))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
