"""Semantic check kinds on a deterministic sample: centroid similarity, outliers, near-duplicates, input alignment."""
from __future__ import annotations

import json

import numpy as np

from .embedders import embedder_from_spec
from .model import CheckResult
from .stats import Z_DEFAULT, mean_interval, ratio_confidence, share_confidence
from .text_scan import qident

DEFAULT_SAMPLE = 5000
NEAR_DUP_SAMPLE = 2000


def sample_rows(ev, fields: list[str], size: int, seed: int) -> np.ndarray:
    """Up to `size` row numbers where every field is known, chosen by a seeded hash of the entry id (so the same
    entries give the same sample whatever their order), returned in row order."""
    key = ("sample", tuple(fields), size, seed)
    if key not in ev.cache:
        ident = "coalesce(entry_id, _row::VARCHAR)" if "entry_id" in ev.table.column_names else "_row::VARCHAR"
        known = " AND ".join(f"{qident(f)} IS NOT NULL" for f in fields)
        rows = ev.con.sql(f"SELECT _row FROM {ev.relation} WHERE {known} "
                          f"ORDER BY hash({ident} || '#{int(seed)}'), _row LIMIT {int(size)}").fetchnumpy()["_row"]
        ev.cache[key] = np.sort(np.asarray(rows, dtype=np.int64))
    return ev.cache[key]


def embeddings(ev, check: dict, field: str, rows: np.ndarray) -> np.ndarray:
    spec = check.get("embedder") or {"name": "tfidf"}
    key = ("emb", field, hash(json.dumps(spec, sort_keys=True)), rows.tobytes())
    if key not in ev.cache:
        texts = ev.take(field, rows)
        ev.cache[key] = embedder_from_spec(spec, ev.embedder).embed([t or "" for t in texts])
    return ev.cache[key]


def _sampled(check: dict, rows: np.ndarray, ev) -> dict:
    return {"sampled": True, "sample_size": int(len(rows)), "sample_of": int(ev.n), "seed": int(check.get("seed", 0))}


def _finish(check, conf, support, total, evidence) -> CheckResult:
    if total == 0:
        return CheckResult(False, 0.0, 0, 0, {"reason": "no applicable rows"}, missing=True)
    holds = conf >= float(check.get("min_confidence", 1.0)) - 1e-12
    return CheckResult(holds, float(conf), int(support), int(total), evidence)


def run(ev, check: dict) -> CheckResult:
    kind, field = check["kind"], check["field"]
    z = float(check.get("z", Z_DEFAULT))
    seed = int(check.get("seed", 0))
    if kind == "io_alignment":
        rows = sample_rows(ev, [field, check["other"]], int(check.get("sample", DEFAULT_SAMPLE)), seed)
        if len(rows) == 0:
            return _finish(check, 0, 0, 0, {})
        sims = np.sum(embeddings(ev, check, field, rows) * embeddings(ev, check, check["other"], rows), axis=1)
        mean, _lo, hi = mean_interval(sims, z)
        conf = ratio_confidence(hi, float(check["min_mean"]), at_least=True)
        return _finish(check, conf, int((sims >= check["min_mean"]).sum()), len(rows),
                       {"mean_similarity": mean, **_sampled(check, rows, ev)})
    size = int(check.get("sample", NEAR_DUP_SAMPLE if kind == "near_duplicate_rate" else DEFAULT_SAMPLE))
    rows = sample_rows(ev, [field], size, seed)
    if len(rows) == 0:
        return _finish(check, 0, 0, 0, {})
    emb = embeddings(ev, check, field, rows)
    if kind == "near_duplicate_rate":
        dup = near_duplicates(emb, float(check.get("threshold", 0.95)))
        hits = int(dup.sum())
        conf = share_confidence(hits, len(rows), None, float(check["max_rate"]), z)
        return _finish(check, conf, hits, len(rows), {"rate": hits / len(rows), **_sampled(check, rows, ev),
                                                      "examples": ev.examples(rows[dup])})
    centroid = np.asarray(check["centroid"], dtype=np.float32)
    sims = emb @ (centroid / (np.linalg.norm(centroid) or 1.0))
    if kind == "centroid_similarity":
        mean, _lo, hi = mean_interval(sims, z)
        conf = ratio_confidence(hi, float(check["min_mean"]), at_least=True)
        return _finish(check, conf, int((sims >= check["min_mean"]).sum()), len(rows),
                       {"mean_similarity": mean, **_sampled(check, rows, ev)})
    if kind == "semantic_outlier_rate":
        out = sims < float(check["min_similarity"])
        hits = int(out.sum())
        conf = share_confidence(hits, len(rows), None, float(check["max_rate"]), z)
        worst = rows[np.argsort(sims, kind="stable")][: min(5, hits)]
        return _finish(check, conf, hits, len(rows), {"rate": hits / len(rows), **_sampled(check, rows, ev),
                                                      "examples": ev.examples(worst)})
    raise KeyError(kind)


def near_duplicates(emb: np.ndarray, threshold: float, chunk: int = 1024) -> np.ndarray:
    """Rows whose most similar other row reaches the threshold (blockwise, never the full n x n matrix at once)."""
    n = len(emb)
    flags = np.zeros(n, dtype=bool)
    for start in range(0, n, chunk):
        block = emb[start : start + chunk] @ emb.T
        idx = np.arange(start, min(n, start + chunk))
        block[idx - start, idx] = -1.0  # a row is not its own duplicate
        flags[idx] = block.max(axis=1) >= threshold
    return flags
