"""Shared Dagster fixtures: a temporary local deployment (drops, lake, warehouse) and resources pointing at it."""
import json
from pathlib import Path

import pytest
from dagster_duckdb import DuckDBResource

from resources.storage import LakeResource, ObjectStoreResource, StrataConfigResource

ROWS = [
    {"timestamp": f"2026-11-20T10:00:{i:02d}Z", "prompt": f"question {i}", "response": {"text": '{"answer": "ok"}'},
     "model": "gpt-4o-mini", "latency_ms": 100 + i, "usage": {"prompt_tokens": 10, "completion_tokens": 5},
     "session_id": f"s{i // 3}", "status": "ok"}
    for i in range(40)
]


def write_drop(folder: Path, name: str, rows=ROWS, bad_lines: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in rows] + ["{not json"] * bad_lines
    p = folder / name
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.fixture
def deployment(tmp_path):
    root = tmp_path
    (root / "drops").mkdir()
    return {
        "root": root,
        "drops": root / "drops",
        "resources": {
            "object_store": ObjectStoreResource(drops_url=str(root / "drops")),
            "lake": LakeResource(lake_url=str(root / "lake"), artifacts_url=str(root / "artifacts")),
            "warehouse": DuckDBResource(database=str(root / "warehouse.duckdb")),
            "strata_config": StrataConfigResource(config_path=""),
        },
    }


@pytest.fixture
def instance():
    """A real (temporary, on-disk) instance: sensors need an instance ref to resolve dynamic partitions."""
    import dagster as dg

    with dg.instance_for_test() as inst:
        yield inst
