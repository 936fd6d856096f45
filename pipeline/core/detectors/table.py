"""Anomalies in a table of canonical entries: every metric of every segment (service/model/version) is scored
by the detector ensemble, request and error rates per time bucket, optionally semantic novelty of the output;
returns an Arrow table of anomalies and the state (keyed by segment, then metric) the next batch resumes from."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .ensemble import DEFAULT_DETECTORS, AlertPolicy, agreement, alerts, combine, detector_specs, explain, \
    initial_states, resume_states, run_series
from .collector import NO_TS, AnomalyCollector
from .fused import score_hits
from .tail import TAIL_SUFFIX, confirm as confirm_tail
from .hierarchy import effective_columns, length_adjusted, plan_priming, primed
from ..invariants.pii_mask import for_people
from .branch_rate import branch_rate_alerts
from .rates import ErrorRate, RequestRate, bucketize, error_rate_scores, request_rate_scores
from .seasonal import seasonal_request_scores
from .semantic import Embedder, SemanticNovelty, semantic_scores



class MetricSpec(NamedTuple):
    """How a metric is scored. log_offset set: detectors see log(value + log_offset), since latency, tokens,
    cost and lengths are positive and multiplicative (a right-skewed tail is normal there); sigma is then on the
    log scale, and the expected value is reported back in the metric's units. floor: the sigma floor's absolute
    part, on the scale the detectors see (0.01 on a log scale is a 1% change). direction: which side alerts
    ("both", "up", "down"); detectors always learn from both sides. A request that is cheaper or uses fewer
    tokens than usual is not an incident, so cost and token counts alert upwards only; latency and output length
    alert both ways (a too-fast or too-short answer is often a silent failure)."""

    floor: float
    log_offset: float | None = None
    direction: str = "both"
    tail: bool = False  # upward point alerts must also be beyond the segment's own tail (tail.py)


METRICS: dict[str, MetricSpec] = {
    # latency's sigma floor is 0.25 on the log scale: a single request must be ~2x off its expected latency before
    # it can alert (queueing makes 1.5-2x waits part of normal LLM traffic; see docs/detection-quality.md)
    "latency_ms": MetricSpec(0.25, 1.0, tail=True), "prompt_tokens": MetricSpec(0.01, 1.0, "up"),
    "completion_tokens": MetricSpec(0.01, 1.0, "up"), "cost_usd": MetricSpec(0.01, 1e-6, "up"),
    "output_chars": MetricSpec(0.01, 1.0), "tool_calls": MetricSpec(1.0, None, "up"),
}
# LLM latency is time to first token plus time per output token. Where a segment logs completion tokens, latency_ms
# is judged as latency / (tokens + k), k = the TTFT in tokens' worth of time fitted per segment
# (hierarchy.length_adjusted), and reported back in ms against the latency expected for that output length: a
# 10 s answer of 40 tokens is an incident, a 10 s answer of 1,500 tokens is not.
SEGMENT_COLUMNS = ("service", "model", "version")  # plus `operation` when the entries name one (hierarchy.py)
RATE_THRESHOLD = 4.0  # time-bucket alerts: thousands of buckets a week, so a per-bucket 3 sigma is ~11 alerts a week
PARALLEL_MIN_ROWS = 50_000  # below this, threads cost more than they save


def metric_arrays(entries: pa.Table, metrics: Sequence[str], skip_errors: bool = False) -> dict[str, np.ndarray]:
    """Each metric as float64 (NaN where missing); output and tool_calls become their length and count.
    skip_errors: failed requests (status 'error') are missing too; their latency, tokens and cost come from a
    different population (a timeout is fast and cheap) and the error-rate detector is the one that watches them."""
    failed = _error_flags(entries, np.arange(entries.num_rows)) if skip_errors else None
    derived = {"output_chars": ("output", pc.utf8_length), "tool_calls": ("tool_calls", pc.list_value_length)}
    out = {}
    for name in metrics:
        column, fn = derived.get(name, (name, None))
        if column not in entries.column_names:
            continue
        col = entries.column(column)
        col = fn(col) if fn else col
        arr = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        if failed is not None and failed.any():
            arr[failed] = np.nan
        out[name] = arr
    return out


def segment_keys(entries: pa.Table, columns: Sequence[str]) -> pa.ChunkedArray:
    present = [c for c in columns if c in entries.column_names]
    if not present:
        return pa.chunked_array([pa.array(["all"] * entries.num_rows, pa.string())])
    parts = [pc.fill_null(pc.cast(entries.column(c), pa.string()), "-") for c in present]
    return pc.binary_join_element_wise(*parts, "|") if len(parts) > 1 else parts[0]


def _ts_micros(entries: pa.Table) -> np.ndarray:
    ts = pc.cast(entries.column("ts"), pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return pc.fill_null(ts, NO_TS).to_numpy().astype(np.int64)


def detect_anomalies(entries: pa.Table, state: dict | None = None, *,
                     detectors: Sequence | Mapping = DEFAULT_DETECTORS, policy: AlertPolicy = AlertPolicy(),
                     metrics: Mapping[str, MetricSpec] = METRICS, segment_columns: Sequence[str] = SEGMENT_COLUMNS,
                     bucket_seconds: float = 300.0, rates: bool = True, skip_errors: bool = True,
                     embedder: Embedder | None = None, prime_new_segments: bool = True,
                     optional_segment_columns: Sequence[str] = ("operation",)) -> tuple[pa.Table, dict]:
    """Score a batch of canonical entries; returns (anomalies, state). Pass the state back with the next batch
    (batches in time order). One anomaly per (entry, metric) at most; rate anomalies have no entry_id.
    skip_errors: failed requests are left out of the per-request metrics (see `metric_arrays`).
    prime_new_segments: a segment first seen mid-stream starts from its parent's state (hierarchy.py) and raises
    one `new_segment` event. optional_segment_columns: segment parts used only when the entries fill them."""
    state = {k: dict(v) for k, v in (state or {}).items()}
    n = entries.num_rows
    out = AnomalyCollector()
    if n == 0:
        return out.table(entries), state
    ts = _ts_micros(entries) if "ts" in entries.column_names else np.zeros(n, np.int64)
    columns = effective_columns(entries, segment_columns, optional_segment_columns)
    seg = segment_keys(entries, columns).combine_chunks().dictionary_encode()
    codes, names = seg.indices.to_numpy(zero_copy_only=False), seg.dictionary.to_pylist()
    in_time_order = n < 2 or bool((ts[1:] >= ts[:-1]).all())  # usual for logs: then a stable sort by segment does
    small = codes.astype(np.uint16) if len(names) <= 65_536 else codes  # numpy radix-sorts 16-bit keys
    order = np.argsort(small, kind="stable") if in_time_order else np.lexsort((ts, codes))  # segment, then time
    groups = np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)
    values = metric_arrays(entries, list(metrics), skip_errors)
    specs = detector_specs(detectors)
    floored = {m: {k: {"abs_floor": metrics[m].floor, **v} for k, v in specs.items()} for m in values}
    fresh = {m: initial_states(floored[m]) for m in values}
    segments = [(names[codes[rows[0]]], rows) for rows in groups]
    tokens = values.get("completion_tokens")

    def adjusted(metric: str, arr: np.ndarray, rows: np.ndarray, seg_state: dict):
        """(series the detectors see, (raw values, multiplier back to the metric's units)) for one segment."""
        if metric != "latency_ms" or tokens is None:
            return arr, None
        per, mult = length_adjusted(arr, tokens, rows, seg_state)
        if per is None:
            return arr, None
        full = np.full(arr.shape, np.nan)  # only this segment's rows are read
        full[rows] = per
        return full, (arr, mult)

    plan = plan_priming(segments, ts, state, columns) if prime_new_segments else {}
    for segment, (parent, before) in plan.items():  # the parent's state as of the new segment's first request
        warm = primed(state.get(parent), list(values))
        for metric, arr in values.items():
            arr, shown = adjusted(metric, arr, before, warm)
            _score_metric(metric, metrics[metric], arr, before, ts, warm, parent, floored[metric], fresh[metric],
                          policy, AnomalyCollector(), shown)
        state[segment] = warm
        first = int(next(rows for name, rows in segments if name == segment)[0])
        out.add(first, ts=int(ts[first]), segment=segment, metric="new_segment", value=1.0, expected=0.0,
                score=float(policy.threshold), detectors=["segment"], severity=policy.severity(policy.threshold),
                explanation=f"new segment {segment} appeared mid-stream; its detectors start from {parent}")
    for segment, _ in segments:
        state.setdefault(segment, {})

    def score_segment(segment: str, rows: np.ndarray) -> AnomalyCollector:
        found, seg_state = AnomalyCollector(), state[segment]
        for metric, arr in values.items():
            arr, shown = adjusted(metric, arr, rows, seg_state)
            _score_metric(metric, metrics[metric], arr, rows, ts, seg_state, segment, floored[metric], fresh[metric],
                          policy, found, shown)
        if rates and "ts" in entries.column_names:
            _rates(entries, rows[ts[rows] != NO_TS], ts, seg_state, segment, bucket_seconds, policy, found)
            _branch_rates(entries, rows[ts[rows] != NO_TS], ts, seg_state, segment, bucket_seconds, policy, found)
        return found

    # segments are independent and the heavy parts (numpy, the compiled kernels) release the GIL
    workers = min(os.cpu_count() or 1, len(segments)) if n >= PARALLEL_MIN_ROWS else 1
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda item: score_segment(*item), segments))
    else:
        parts = [score_segment(segment, rows) for segment, rows in segments]
    for part in parts:
        out.extend(part)
    if embedder is not None and "output" in entries.column_names:  # the embedder need not be thread-safe
        for segment, rows in segments:
            _semantic(entries, rows, ts, state[segment], segment, embedder, policy, out)
    return out.table(entries), state


def _score_metric(metric, spec, arr, rows, ts, seg_state, segment, detectors, fresh, policy, out,
                  shown=None) -> None:
    """One metric of one segment through the ensemble; its alerts into `out`, its state into `seg_state`.
    The compiled pass (fused.py) when it covers the detectors, else run_series and alerts over all points.
    shown: (raw values, per-row multiplier) when the detectors see a transformed series (latency per token): the
    anomaly then reports the raw value and the expected value times the multiplier."""
    seen = arr[rows]  # a copy: transformed in place
    if spec.log_offset is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            seen += spec.log_offset
            np.log(seen, out=seen)
    states = resume_states(seg_state.get(metric), detectors, fresh)
    fast = score_hits(seen, states, policy, spec.direction)
    if fast is not None:
        names, hit, scores, expected, seg_state[metric] = fast
    else:
        run = run_series(seen, state=states)
        seg_state[metric], names = run.state, run.names
        combined, _ = combine(run.scores)
        mask = alerts(run.scores, combined, policy, run.names)
        if spec.direction != "both":
            mask &= (combined > 0) if spec.direction == "up" else (combined < 0)
        hit = np.flatnonzero(mask)
        scores, expected = run.scores[hit], run.expected[hit]
    combined, winner = combine(scores)
    if spec.tail:  # a heavy right tail is normal traffic: upward point alerts must be beyond it (tail.py)
        alone = [j for j, name in enumerate(names) if name in policy.alone]
        with np.errstate(invalid="ignore"):
            exempt = (combined < 0) | (np.abs(scores[:, alone]) >= policy.threshold).any(axis=1)
        stand, seg_state[metric + TAIL_SUFFIX] = confirm_tail(seen, hit, exempt, seg_state.get(metric + TAIL_SUFFIX),
                                                               spec.log_offset)
        hit, scores, expected, combined, winner = hit[stand], scores[stand], expected[stand], combined[stand], \
            winner[stand]
    agree = agreement(scores, combined, policy)
    for i, h in enumerate(hit):
        r, who = rows[h], [names[j] for j in np.flatnonzero(agree[i])]
        exp, score = float(expected[i, winner[i]]), float(combined[i])
        exp = exp if spec.log_offset is None else float(np.exp(exp) - spec.log_offset)
        value = float(arr[r])
        if shown is not None:
            value, exp = float(shown[0][r]), exp * float(shown[1][r])
        out.add(r, ts=int(ts[r]), segment=segment, metric=metric, value=value, expected=exp, score=score,
                detectors=who, severity=policy.severity(score), explanation=explain(metric, value, exp, score, who))


def _error_flags(entries: pa.Table, rows: np.ndarray) -> np.ndarray:
    if "status" not in entries.column_names:
        return np.zeros(rows.size, bool)
    flags = pc.fill_null(pc.equal(pc.utf8_lower(entries.column("status")), "error"), False)
    return flags.to_numpy(zero_copy_only=False)[rows]


def _rates(entries, rows, ts, seg_state, segment, bucket_seconds, policy, out) -> None:
    starts, req, err, seg_state["buckets"] = bucketize(ts[rows] / 1e6, _error_flags(entries, rows), bucket_seconds,
                                                       seg_state.get("buckets"))
    if starts.size == 0:
        return
    per = f"per {bucket_seconds / 60:g} min"
    rr = request_rate_scores(req, seg_state.get("request_rate") or RequestRate().state())
    er = error_rate_scores(req, err, seg_state.get("error_rate") or ErrorRate().state())
    seg_state["request_rate"], seg_state["error_rate"] = rr.state, er.state
    # the hour-of-day profile with overdispersion where a slot has history; the EWMA model elsewhere
    sigma, expected, seg_state["seasonal_rate"] = seasonal_request_scores(starts, req, seg_state.get("seasonal_rate"),
                                                                        bucket_seconds=bucket_seconds)
    seasonal = ~np.isnan(sigma)
    rr = rr._replace(scores=np.where(seasonal, sigma, rr.scores), expected=np.where(seasonal, expected, rr.expected))
    bar = max(policy.threshold, RATE_THRESHOLD)
    for metric, run, one_sided in (("request_rate", rr, False), ("error_rate", er, True)):
        with np.errstate(invalid="ignore"):
            hits = np.flatnonzero((run.scores >= bar) if one_sided else (np.abs(run.scores) >= bar))
        for i in hits:
            score, exp = float(run.scores[i]), float(run.expected[i])
            side = "above" if score >= 0 else "below"
            if metric == "request_rate":
                value = float(req[i])
                text = (f"request_rate {value:,.0f} requests {per} is {abs(score):.1f}σ {side} the expected "
                        f"{exp:,.1f} (request_rate)")
            else:
                value = float(err[i] / req[i])
                text = (f"error_rate {value:.1%} ({err[i]:,.0f} of {req[i]:,.0f} requests) is {abs(score):.1f}σ "
                        f"{side} the expected {exp:.2%} (error_rate)")
            out.add(None, ts=int(starts[i] * 1e6), segment=segment, metric=metric, value=value,
                    expected=exp, score=score, detectors=[metric], severity=policy.severity(score), explanation=text)


def _branch_rates(entries, rows, ts, seg_state, segment, bucket_seconds, policy, out) -> None:
    for a in branch_rate_alerts(entries, rows, ts, seg_state, bucket_seconds, policy.threshold, for_people):
        out.add(None, ts=a["ts"], segment=segment, metric=a["metric"], value=a["value"], expected=a["expected"],
                score=a["score"], detectors=[a["metric"]], severity=policy.severity(a["score"]),
                explanation=a["explanation"])


def _semantic(entries, rows, ts, seg_state, segment, embedder, policy, out) -> None:
    texts = entries.column("output").take(pa.array(rows)).to_pylist()
    keep = np.array([t is not None and t != "" for t in texts], bool)
    if not keep.any():
        return
    kept_rows = rows[keep]
    distances = np.empty(kept_rows.size)
    run = semantic_scores(embedder.embed([t for t, k in zip(texts, keep) if k]),
                          seg_state.get("output_semantic") or SemanticNovelty(threshold=policy.threshold).state(),
                          distances=distances)
    seg_state["output_semantic"] = run.state
    with np.errstate(invalid="ignore"):
        hits = np.flatnonzero(run.scores >= policy.threshold)
    for i in hits:
        r, score = kept_rows[i], float(run.scores[i])
        text = (f"output_semantic distance {distances[i]:.2f} from this segment's usual outputs is {score:.1f}σ "
                f"above the expected {run.expected[i]:.2f} (semantic)")
        out.add(r, ts=int(ts[r]), segment=segment, metric="output_semantic",
                value=float(distances[i]), expected=float(run.expected[i]), score=score, detectors=["semantic"],
                severity=policy.severity(score), explanation=text)
