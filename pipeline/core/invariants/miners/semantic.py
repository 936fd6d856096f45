"""Semantic invariants on a deterministic sample: closeness to the baseline centroid, outliers, near-duplicates, alignment."""
from __future__ import annotations

import numpy as np

from ..embedders import TfidfEmbedder
from ..model import make_invariant
from ..registry import register_miner
from ..semantic_checks import NEAR_DUP_SAMPLE, embeddings, near_duplicates, sample_rows
from ..stats import mean_interval, wilson_interval
from ._common import pct

FAMILY = "semantic"
NEAR_DUP_THRESHOLD = 0.95
OUTLIER_SIGMAS = 2.0


@register_miner("semantic", FAMILY, context=True)
def mine_semantic(ctx) -> list:
    ev, present = ctx.evaluator, ctx.present()
    if "output" not in present:
        return []
    rows = sample_rows(ev, ["output"], ctx.semantic_sample, ctx.seed)
    if len(rows) < 20:
        return []
    embedder = ctx.embedder
    if embedder is None or (isinstance(embedder, TfidfEmbedder) and embedder.vocabulary is None):
        texts = ev.take("output", rows)
        if "input" in present:
            texts += [t or "" for t in ev.take("input", rows)]
        embedder = (embedder or TfidfEmbedder()).fit(texts)
    spec = {"embedder": embedder.describe(), "sample": ctx.semantic_sample, "seed": ctx.seed}
    sampled = {"sampled": True, "sample_size": int(len(rows)), "sample_of": ctx.n}
    emb = embeddings(ev, spec, "output", rows)
    centroid = emb.mean(axis=0)
    centroid = centroid / (np.linalg.norm(centroid) or 1.0)
    sims = emb @ centroid
    mean, m_lo, _ = mean_interval(sims)
    floor = float(mean - OUTLIER_SIGMAS * sims.std())
    outliers = int((sims < floor).sum())
    o_hi = wilson_interval(outliers, len(sims))[1]
    centroid_list = [round(float(v), 5) for v in centroid]
    found = [
        make_invariant(FAMILY, {"kind": "centroid_similarity", "field": "output", "centroid": centroid_list,
                                "min_mean": round(m_lo, 5), **spec},
                       f"Outputs stay semantically close to the baseline (mean cosine to centroid >= {m_lo:.3f}; sampled)",
                       severity="info", evidence={"observed_mean": mean, **sampled}),
        make_invariant(FAMILY, {"kind": "semantic_outlier_rate", "field": "output", "centroid": centroid_list,
                                "min_similarity": round(floor, 5), "max_rate": round(o_hi, 6), **spec},
                       f"At most {pct(o_hi)} of outputs lie more than {OUTLIER_SIGMAS:g} sigma from the baseline centroid (sampled)",
                       severity="info", evidence={"observed_rate": outliers / len(sims), **sampled}),
    ]
    dup_rows = sample_rows(ev, ["output"], min(NEAR_DUP_SAMPLE, ctx.semantic_sample), ctx.seed)
    dup_spec = {**spec, "sample": min(NEAR_DUP_SAMPLE, ctx.semantic_sample)}
    dups = int(near_duplicates(embeddings(ev, dup_spec, "output", dup_rows), NEAR_DUP_THRESHOLD).sum())
    d_hi = wilson_interval(dups, len(dup_rows))[1]
    found.append(make_invariant(
        FAMILY, {"kind": "near_duplicate_rate", "field": "output", "threshold": NEAR_DUP_THRESHOLD, "max_rate": round(d_hi, 6),
                 **dup_spec},
        f"At most {pct(d_hi)} of outputs are near-duplicates of another (cosine >= {NEAR_DUP_THRESHOLD}; a stuck or "
        f"looping model raises this; sampled)", severity="info",
        evidence={"observed_rate": dups / len(dup_rows), "sampled": True, "sample_size": int(len(dup_rows))}))
    if "input" in present:
        io_rows = sample_rows(ev, ["output", "input"], ctx.semantic_sample, ctx.seed)
        if len(io_rows) >= 20:
            align = np.sum(embeddings(ev, spec, "output", io_rows) * embeddings(ev, spec, "input", io_rows), axis=1)
            a_mean, a_lo, _ = mean_interval(align)
            found.append(make_invariant(
                FAMILY, {"kind": "io_alignment", "field": "output", "other": "input", "min_mean": round(a_lo, 5), **spec},
                f"Outputs stay on the topic of their inputs (mean input-output cosine >= {a_lo:.3f}; sampled)",
                field_label="input~output", severity="info", evidence={"observed_mean": a_mean, **sampled}))
    return found
