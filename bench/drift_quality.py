"""Drift quality bar: six planted changes (latency +40%, a tool removed, escalations x3, a model switch, a JSON key
added, cost +30%) must each be flagged and named in the hypotheses; A/A pairs must be SHIP in >= 19 of 20 seeds; plus
a 10-point model-mix swap. Evidently's DataDriftPreset runs on the same frames when its venv exists
(`make bench-evidently-env`), and the columns each tool flags are printed side by side. Last line: one JSON object."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.core.drift.engine import diff_entries  # noqa: E402
from pipeline.core.drift.synthetic import drift_corpus  # noqa: E402

N = 20_000
EXPECTED = {  # planted change -> dimensions that must be significant and named in a hypothesis (any of them)
    "latency": {"latency_ms"}, "tool_removed": {"tool_usage", "tool_sequence"}, "escalations": {"outcome"},
    "model_switch": {"model"}, "json_key_added": {"json_keys"}, "cost": {"cost_usd"}, "model_mix_10pt": {"model"},
}
EVIDENTLY_COLUMN = {"latency": "latency_ms", "tool_removed": "tools", "escalations": "outcome", "model_switch": "model",
                    "json_key_added": "json_keys", "cost": "cost_usd", "model_mix_10pt": "model"}
EVIDENTLY_PYTHON = os.environ.get("STRATA_EVIDENTLY_PYTHON", str(ROOT / ".venv-evidently" / "bin" / "python"))


def model_mix_swap(seed: int) -> tuple[pa.Table, pa.Table]:
    """A/A pair, then 10 points of B's traffic moved from gpt-4o to gpt-4o-mini (labels only)."""
    a, b = drift_corpus(N, seed, None)
    model = b.column("model").to_numpy(zero_copy_only=False).astype(object)
    rows = np.flatnonzero(model == "gpt-4o")
    move = np.random.default_rng(seed).choice(rows, int(0.10 * b.num_rows), replace=False)
    model[move] = "gpt-4o-mini"
    return a, b.set_column(b.schema.get_field_index("model"), "model", pa.array(model, pa.string()))


def frame(t: pa.Table) -> pa.Table:
    """One row per run, the columns a drift tool would be given (Evidently's view of the same data)."""
    tools = pc.list_value_length(t.column("tool_calls"))
    joined = pc.binary_join(pc.fill_null(t.column("tool_calls"), pa.scalar([], pa.list_(pa.string()))), ">")
    keys = [",".join(sorted(json.loads(o).keys())) if o and o.startswith("{") else "" for o in
            t.column("output").to_pylist()]
    return pa.table({
        "latency_ms": t.column("latency_ms"), "prompt_tokens": t.column("prompt_tokens").cast(pa.float64()),
        "completion_tokens": pc.fill_null(t.column("completion_tokens"), 0).cast(pa.float64()),
        "cost_usd": t.column("cost_usd"), "output_chars": pc.utf8_length(pc.fill_null(t.column("output"), "")).cast(pa.float64()),
        "tool_calls": pc.fill_null(tools, 0).cast(pa.float64()),
        "error": pc.cast(pc.equal(pc.fill_null(t.column("status"), "ok"), "error"), pa.float64()),
        "model": t.column("model"), "outcome": pc.fill_null(t.column("outcome"), "-"),
        "output_kind": pc.fill_null(t.column("output_kind"), "-"), "tools": joined, "json_keys": pa.array(keys),
        "service": t.column("service"),
    })


def main() -> None:
    cases = {c: drift_corpus(N, seed=7, change=c) for c in EXPECTED if c != "model_mix_10pt"}
    cases["model_mix_10pt"] = model_mix_swap(7)
    ours, caught = {}, 0
    for name, (a, b) in cases.items():
        r = diff_entries(a, b)
        flagged = sorted(d.name for d in r.dimensions if d.significant)
        explained = {h.dimension for h in r.hypotheses}
        ok = bool(EXPECTED[name] & set(flagged)) and bool(EXPECTED[name] & explained)
        caught += ok
        ours[name] = {"flagged": flagged, "verdict": r.verdict, "score": round(r.score, 3), "ok": ok,
                      "top_hypothesis": r.hypotheses[0].text if r.hypotheses else None}
        print(f"{name:<15} {'OK ' if ok else 'MISS'} verdict {r.verdict:<7} score {r.score:.3f}  flagged: {', '.join(flagged)}")
        print(f"{'':<15} why: {ours[name]['top_hypothesis']}")
    ship, aa_flags = 0, []
    for seed in range(20):
        a, b = drift_corpus(N, seed=100 + seed, change=None)
        r = diff_entries(a, b, )
        ship += r.verdict == "SHIP"
        aa_flags += [d.name for d in r.dimensions if d.significant]
    print(f"A/A: SHIP in {ship}/20 seeds (goal >= 19); dimensions flagged across all 20: {aa_flags or 'none'}")

    evidently = None
    if Path(EVIDENTLY_PYTHON).exists():
        with tempfile.TemporaryDirectory() as tmp:
            for name, (a, b) in cases.items():
                pq.write_table(frame(a), f"{tmp}/{name}_a.parquet")
                pq.write_table(frame(b), f"{tmp}/{name}_b.parquet")
            out = subprocess.run([EVIDENTLY_PYTHON, str(ROOT / "bench" / "reference" / "evidently_drift.py"), tmp],
                                 capture_output=True, text=True, check=True)
            evidently = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\n{'change':<15} {'Strata flags the planted dimension':<36} Evidently flags '{'column'}'  (all columns Evidently flags)")
        for name in cases:
            col = EVIDENTLY_COLUMN[name]
            ev = evidently[name]
            print(f"{name:<15} {'yes' if ours[name]['ok'] else 'NO':<36} {col}: {'yes' if col in ev['flagged'] else 'NO'} "
                  f"({ev['values'].get(col, float('nan')):.3f})  {ev['flagged']}")
    else:
        print(f"Evidently comparison skipped: no {EVIDENTLY_PYTHON} (run `make bench-evidently-env` once)")
    print(json.dumps({"planted": len(cases), "planted_caught": caught, "aa_ship": ship, "aa_seeds": 20,
                      "evidently_caught": None if evidently is None else
                      sum(EVIDENTLY_COLUMN[n] in evidently[n]["flagged"] for n in cases)}))


if __name__ == "__main__":
    main()
