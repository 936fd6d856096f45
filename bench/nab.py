"""Our detector ensemble on the Numenta Anomaly Benchmark (58 series), scored by our NAB scorer re-implementation,
beside NAB's published scoreboard. Needs <repo>/../shared/data/nab; skips (exit 0) without it.
The last line printed is one JSON object: standard, reward_low_FP, reward_low_FN, ..."""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.core import nab_scoring as nab  # noqa: E402
from pipeline.core.detectors import AlertPolicy, alert_strength, run_series  # noqa: E402

NAB_DIR = REPO.parent / "shared" / "data" / "nab"

# One configuration for every series, chosen on the corpus as a whole (no per-file settings, no labels in the
# detectors). CUSUM with a longer memory (k = 0.25, h = 15) than the engine default; local detectors never
# go below half the long-run sigma (many NAB series sit flat, then move). Warm-up = NAB's probationary period.
DETECTORS = {"zscore": {}, "ewma": {"scale_floor": 0.5}, "mad": {"scale_floor": 0.5},
             "iqr": {"scale_floor": 0.5}, "cusum": {"k": 0.25, "h": 15.0}}
# The ensemble's rule: a point detector confirmed by CUSUM (quorum 2); no single-detector override.
POLICY = AlertPolicy(quorum=2, confirm=("cusum",), critical=math.inf)

PUBLISHED = {  # NAB README scoreboard (standard, reward_low_FP, reward_low_FN)
    "Numenta HTM": (70.5, 62.6, 75.2), "Twitter ADVec": (47.1, 33.6, 53.5),
    "Windowed Gaussian": (39.6, 20.9, 47.4), "Etsy Skyline": (35.7, 27.1, 44.5),
}
PROFILE_KEYS = {"standard": "standard", "reward_low_FP_rate": "reward_low_FP", "reward_low_FN_rate": "reward_low_FN"}


def anomaly_score(values: np.ndarray, probation: int) -> np.ndarray:
    """[0, 1] from sigma: s / (s + 3) of the ensemble's alert strength (3 sigma -> 0.5, never saturates)."""
    run = run_series(values, {name: {**params, "warmup": max(probation, 2)} for name, params in DETECTORS.items()})
    strength = alert_strength(run.scores, run.names, POLICY)
    return strength / (strength + 3.0)


def verify_scorer() -> str:
    """Our scorer on NAB's own numenta output for nyc_taxi must give NAB's published per-file score."""
    import pyarrow.csv as pcsv

    name = "realKnownCause/nyc_taxi.csv"
    rows = pcsv.read_csv(NAB_DIR / "results" / "numenta" / "realKnownCause" / "numenta_nyc_taxi.csv")
    file = nab.load_corpus(NAB_DIR)[name][0]
    threshold = json.loads((NAB_DIR / "config" / "thresholds.json").read_text())["numenta"]["standard"]["threshold"]
    ours = nab.score_file(file, rows["anomaly_score"].to_numpy(), threshold, nab.PROFILES["standard"]).score
    with open(NAB_DIR / "results" / "numenta" / "numenta_standard_scores.csv") as f:
        published = float(next(line for line in f if name in line).split(",")[4])
    return f"scorer check: numenta {name} standard: ours {ours:.11f}, published {published:.11f}"


def main() -> int:
    if not (NAB_DIR / "labels" / "combined_windows.json").is_file():
        print(f"NAB corpus not found at {NAB_DIR}; skipping")
        return 0
    start = time.perf_counter()
    corpus = nab.load_corpus(NAB_DIR)
    scores = {name: anomaly_score(values, file.probation) for name, (file, _, values) in corpus.items()}
    detect_seconds = time.perf_counter() - start
    results = nab.score_corpus(corpus, scores)
    print(verify_scorer())
    print(f"{len(corpus)} series, {sum(f.n_rows for f, _, _ in corpus.values()):,} rows, "
          f"{sum(len(f.windows) for f, _, _ in corpus.values())} windows; detectors ran in {detect_seconds:.2f}s")
    print(f"\n{'detector':<28}{'standard':>10}{'low FP':>10}{'low FN':>10}")
    ours = tuple(results[p]["score"] for p in PROFILE_KEYS)
    rows = sorted([("Strata ensemble (ours)", ours), *PUBLISHED.items()], key=lambda r: -r[1][0])
    for label, (std, low_fp, low_fn) in rows:
        print(f"{label:<28}{std:>10.1f}{low_fp:>10.1f}{low_fn:>10.1f}")
    print("\nthresholds (anomaly score / sigma): " + ", ".join(
        f"{PROFILE_KEYS[p]} {r['threshold']:.4f} / {3 * r['threshold'] / (1 - r['threshold']):.2f}"
        for p, r in results.items()))
    by_category: dict[str, float] = {}
    for name, fs in results["standard"]["files"].items():
        by_category[name.split("/")[0]] = by_category.get(name.split("/")[0], 0.0) + fs.score
    print("standard raw score by category: " + ", ".join(f"{k} {v:+.2f}" for k, v in sorted(by_category.items())))
    summary = {PROFILE_KEYS[p]: round(r["score"], 2) for p, r in results.items()}
    summary.update({
        "raw": {PROFILE_KEYS[p]: round(r["raw"], 4) for p, r in results.items()},
        "thresholds": {PROFILE_KEYS[p]: r["threshold"] for p, r in results.items()},
        "published": {k: dict(zip(PROFILE_KEYS.values(), v)) for k, v in PUBLISHED.items()},
        "beats_twitter_advec_standard": ours[0] > PUBLISHED["Twitter ADVec"][0],
        "detectors": DETECTORS, "seconds": round(time.perf_counter() - start, 2),
    })
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
