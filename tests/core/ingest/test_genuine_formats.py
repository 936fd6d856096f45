"""Each genuine sample of ../shared/data/llm_formats/ against its hand-read expectations (bench/formats_expected.json).

Skipped when the shared data folder is absent (it is not part of the repository).
"""
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("bench_formats", REPO / "bench" / "formats.py")
formats = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(formats)

BASE = formats.data_dir()
EXPECTED = json.loads(formats.EXPECTED.read_text())["files"]


@pytest.mark.skipif(BASE is None, reason="../shared/data/llm_formats not found")
@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_genuine_file(rel):
    path = BASE / rel
    if not path.exists():
        pytest.skip(f"{rel} absent")
    r = formats.score_file(path, EXPECTED[rel])
    assert (r["entries_got"], r["wrong"], r["missing"]) == (r["entries_expected"], 0, 0), r["details"]


@pytest.mark.parametrize("field,expected,got,verdict", [
    ("output", "Hello", "Hello there", "right"), ("output", "Hello", "Bye", "wrong"), ("output", "Hello", None, "missing"),
    ("trace_id", None, "enabled", "wrong"), ("trace_id", None, None, "right"), ("latency_ms", 2.5, 2.5000000001, "right"),
    ("tool_calls", ["a"], [], "missing"), ("tool_calls", [], [], "right"), ("prompt_tokens", 3, 4, "wrong"),
])
def test_judge(field, expected, got, verdict):
    assert formats.judge(field, expected, got) == verdict
