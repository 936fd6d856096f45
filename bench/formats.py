"""Format coverage benchmark: every genuine sample in ../shared/data/llm_formats/ against hand-read expectations.

For each file of bench/formats_expected.json: entries expected vs got, and fields right / wrong / missing over the
listed entries (a wrong value counts double in the error score: a wrong value is worse than a missing one).
Prints one line per file, then the totals; the last line is one JSON object. Exits 0 without the data folder.
"""
from __future__ import annotations

import json
import math
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPECTED = Path(__file__).with_name("formats_expected.json")
TEXT_FIELDS = ("input", "output", "error")
FIELDS = ("ts", "request_id", "trace_id", "session_id", "user_id", "model", "provider", "input", "output",
          "latency_ms", "prompt_tokens", "completion_tokens", "cost_usd", "status", "error", "tool_calls")


def data_dir() -> Path | None:
    for p in (REPO.parent / "shared" / "data" / "llm_formats", Path("/work/shared/data/llm_formats")):
        if p.is_dir():
            return p
    return None


def judge(field: str, expected, got) -> str:
    """'right', 'wrong' or 'missing' for one field."""
    if isinstance(got, datetime):
        got = got.isoformat()
    if expected is None:
        return "right" if got in (None, []) else "wrong"
    if got is None or (got == [] and expected != []):
        return "missing"
    if field in TEXT_FIELDS and isinstance(expected, str):
        return "right" if isinstance(got, str) and expected in got else "wrong"
    if isinstance(expected, float) or isinstance(got, float):
        ok = isinstance(got, (int, float)) and math.isclose(float(got), float(expected), rel_tol=1e-6, abs_tol=1e-9)
        return "right" if ok else "wrong"
    return "right" if got == expected else "wrong"


def score_file(path: Path, spec: dict) -> dict:
    from pipeline.core.ingest.engine import ingest

    table, result = ingest(str(path))
    rows = table.select(list(FIELDS)).to_pylist()
    counts = {"right": 0, "wrong": 0, "missing": 0}
    details = []
    for i, exp in enumerate(spec.get("expect", [])):
        got = rows[i] if i < len(rows) else {}
        for field, value in exp.items():
            verdict = judge(field, value, got.get(field))
            counts[verdict] += 1
            if verdict != "right":
                details.append(f"#{i} {field}: expected {value!r}, got {got.get(field)!r}"[:200])
    return {"entries_expected": spec["entries"], "entries_got": table.num_rows, **counts,
            "rejected": result.rows_rejected, "details": details}


def main() -> int:
    base = data_dir()
    if base is None:
        print("no ../shared/data/llm_formats: nothing to measure")
        print(json.dumps({"skipped": True}))
        return 0
    sys.path.insert(0, str(REPO))
    spec = json.loads(EXPECTED.read_text())["files"]
    totals = {"files": 0, "entry_count_right": 0, "right": 0, "wrong": 0, "missing": 0}
    t0 = time.perf_counter()
    for rel, s in spec.items():
        path = base / rel
        if not path.exists():
            print(f"{rel}: absent")
            continue
        r = score_file(path, s)
        totals["files"] += 1
        totals["entry_count_right"] += r["entries_expected"] == r["entries_got"]
        for k in ("right", "wrong", "missing"):
            totals[k] += r[k]
        print(f"{rel:<88} entries {r['entries_got']:>5}/{r['entries_expected']:<5} right {r['right']:>3} "
              f"wrong {r['wrong']:>2} missing {r['missing']:>2}")
        for d in r["details"]:
            print(f"    {d}")
    judged = totals["right"] + totals["wrong"] + totals["missing"]
    totals["error_score"] = totals["missing"] + 2 * totals["wrong"]
    totals["field_accuracy"] = round(totals["right"] / judged, 4) if judged else None
    totals["seconds"] = round(time.perf_counter() - t0, 2)
    print(f"files {totals['files']}, entry counts right {totals['entry_count_right']}, fields right "
          f"{totals['right']} / wrong {totals['wrong']} / missing {totals['missing']} "
          f"(error score {totals['error_score']}, wrong counts double)")
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
