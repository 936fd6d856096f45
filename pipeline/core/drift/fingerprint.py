"""The behavioral fingerprint of two entry sets: every drift dimension (latency, tokens, cost, output, tools, errors,
outcome, structure, model) from one DuckDB scan plus numpy per side, aligned into baseline-vs-current `Dimension`s."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..entry_schema import CANONICAL_SCHEMA
from ..ingest.normalize import connect
from .branches import branch_dimension
from .model import Dimension

OTHER = "(other)"
NO_MESSAGE = "(no message)"
START, END = "^", "$"  # tool-sequence markers
TTFT_KEYS = ("time_to_first_tool_ms", "ttft_tool_ms")  # top-level numeric attributes read as time to first tool
COLUMNS = ("ts", "session_id", "model", "input", "output", "output_kind", "latency_ms", "ttft_ms", "prompt_tokens",
           "completion_tokens", "cost_usd", "status", "error", "tool_calls", "outcome", "attributes")
CONTINUOUS = (  # name, group, unit, in the order dimensions are returned
    ("latency_ms", "latency", "ms"), ("latency_per_token_ms", "latency", "ms"), ("ttft_ms", "latency", "ms"),
    ("prompt_tokens", "tokens", "tokens"), ("completion_tokens", "tokens", "tokens"),
    ("cost_usd", "cost", "USD"), ("output_chars", "output", "chars"), ("verbosity_ratio", "output", ""),
    ("tool_call_count", "tools", ""), ("loop_depth", "tools", ""), ("time_to_first_tool_ms", "tools", "ms"),
    ("retry_count", "errors", ""),
)
RATES = (("error_rate", "errors"), ("retry_rate", "errors"), ("pii_rate", "pii"))
CATEGORICAL = (("error_types", "errors"), ("outcome", "outcome"), ("tool_usage", "tools"), ("tool_sequence", "tools"),
               ("output_kind", "structure"), ("json_keys", "structure"), ("model", "model"))
UUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# Variable parts of an error message, replaced in this order (whole numbers become <n> before long hex tokens).
ERROR_PATTERNS = ((UUID_RE, "<uuid>"), (r"0[xX][0-9a-fA-F]+", "<hex>"), (r"\b[0-9]+\b", "<n>"),
                  (r"\b[0-9a-fA-F]{8,}\b", "<hex>"), (r"[0-9]+", "<n>"), (r"\s+", " "))


def fingerprint_dimensions(a: pa.Table, b: pa.Table, *, ngram: int = 2, max_labels: int = 50) -> list[Dimension]:
    """Baseline `a` and current `b` as dimensions; a dimension with no data on either side is left out.
    `ngram` is the tool-sequence n-gram length, `max_labels` the cap on labels per categorical dimension."""
    if ngram < 1 or max_labels < 1:
        raise ValueError(f"ngram and max_labels must be >= 1, got {ngram} and {max_labels}")
    branches = branch_dimension(a, b, max_labels)
    a, b = _canonical(a), _canonical(b)
    flags = {"errors": _any_valid(a, b, "status") or _any_valid(a, b, "error"),
             "sessions": _any_valid(a, b, "session_id") and _any_valid(a, b, "input")}
    con = connect()
    try:
        ma, mb = (_measure(con, t, ngram, flags) for t in (a, b))
    finally:
        con.close()
    dims = []
    for name, group, unit in CONTINUOUS:
        xa, xb = ma[name], mb[name]
        if len(xa) or len(xb):
            dims.append(Dimension(name, "continuous", group, a=xa, b=xb, unit=unit,
                                  summary=_continuous_summary(xa, xb)))
    for name, group in RATES:
        ca, cb = ma[name], mb[name]
        if ca.sum() or cb.sum():
            dims.append(Dimension(name, "rate", group, labels=["no", "yes"], a_counts=ca, b_counts=cb,
                                  summary={"rate_a": _rate(ca), "rate_b": _rate(cb)}))
    for name, group in CATEGORICAL:
        labels, ca, cb = _aligned(ma[name], mb[name], max_labels)
        if labels:
            summary = {"shares_a": _shares(labels, ca, ca.sum()), "shares_b": _shares(labels, cb, cb.sum()),
                       "n_a": int(ca.sum()), "n_b": int(cb.sum())}
            if name == "json_keys":  # also per JSON-object output: "present in 40% of JSON outputs"
                na, nb = ma["json_objects"], mb["json_objects"]
                summary |= {"n_objects_a": na, "n_objects_b": nb, "object_shares_a": _shares(labels, ca, na),
                            "object_shares_b": _shares(labels, cb, nb)}
            dims.append(Dimension(name, "categorical", group, labels=labels, a_counts=ca, b_counts=cb, summary=summary))
    return dims + ([branches] if branches is not None else [])


def _canonical(t: pa.Table) -> pa.Table:
    """The columns the fingerprint reads, in canonical types; absent or uncastable columns become nulls."""
    cols = {}
    for name in COLUMNS:
        typ = CANONICAL_SCHEMA.field(name).type
        col = t.column(name) if name in t.column_names else None
        if col is not None and col.type != typ:
            try:
                col = col.cast(typ)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                col = None
        cols[name] = col if col is not None else pa.nulls(t.num_rows, typ)
    cols["_rn"] = pa.array(np.arange(t.num_rows, dtype=np.int64))
    return pa.table(cols)


def _any_valid(a: pa.Table, b: pa.Table, column: str) -> bool:
    return any(t.column(column).null_count < t.num_rows for t in (a, b))


def _sql(flags: dict) -> str:
    is_error = ("(lower(trim(status)) = 'error') IS TRUE OR (length(trim(error)) > 0) IS TRUE"
                if flags["errors"] else "NULL::BOOLEAN")
    error_type = "coalesce(error, '')"
    for pattern, repl in ERROR_PATTERNS:
        error_type = f"regexp_replace({error_type}, '{pattern}', '{repl}', 'g')"
    retry = ("CASE WHEN session_id IS NOT NULL AND input IS NOT NULL THEN input IS NOT DISTINCT FROM lag(input) "
             "OVER (PARTITION BY session_id ORDER BY ts NULLS LAST, _rn) END" if flags["sessions"] else "NULL::BOOLEAN")
    ttft = " ".join(f"WHEN json_type(attributes, '$.{k}') IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
                    f"THEN (attributes ->> '$.{k}')::DOUBLE" for k in TTFT_KEYS)
    mentions = " OR ".join(f"attributes LIKE '%{k}%'" for k in TTFT_KEYS)
    return f"""
    SELECT
      latency_ms, CASE WHEN completion_tokens > 0 THEN latency_ms / completion_tokens END AS latency_per_token_ms,
      ttft_ms, prompt_tokens::DOUBLE AS prompt_tokens, completion_tokens::DOUBLE AS completion_tokens, cost_usd,
      length(output)::DOUBLE AS output_chars,
      CASE WHEN length(input) > 0 THEN length(output) / length(input) END AS verbosity_ratio,
      CASE WHEN ({mentions}) AND json_valid(attributes) THEN CASE {ttft} END END AS time_to_first_tool_ms,
      is_error,
      CASE WHEN is_error THEN coalesce(nullif(left(trim({error_type}), 60), ''), '{NO_MESSAGE}') END AS error_type,
      session_id, is_retry, outcome, model, output_kind,
      CASE WHEN json_valid(output) AND ltrim(output, ' ' || chr(9) || chr(10) || chr(13))[1] = '{{'
           THEN json_keys(output) END AS json_keys
    FROM (SELECT *, {is_error} AS is_error, {retry} AS is_retry FROM side)
    """


def _measure(con, side: pa.Table, ngram: int, flags: dict) -> dict:
    """One side's measures by dimension name: float samples (continuous), [no, yes] counts (rate), or
    {label: count} (categorical); plus `json_objects`, the number of outputs that are JSON objects."""
    con.register("side", side)
    try:
        t = con.sql(_sql(flags)).to_arrow_table()  # one row per entry, order not kept
        pii = _pii_counts(con, side)
    finally:
        con.unregister("side")
    out = {name: _samples(t.column(name)) for name in ("latency_ms", "latency_per_token_ms", "ttft_ms", "prompt_tokens",
                                                        "completion_tokens", "cost_usd",
                                                        "output_chars", "verbosity_ratio", "time_to_first_tool_ms")}
    count, depth, out["tool_usage"], out["tool_sequence"] = _tool_graph(side.column("tool_calls"), ngram)
    out["tool_call_count"], out["loop_depth"] = count[np.isfinite(count)], depth[np.isfinite(depth)]
    out["error_rate"], out["retry_rate"] = _yes_no(t.column("is_error")), _yes_no(t.column("is_retry"))
    out["pii_rate"] = pii
    out["retry_count"] = _retries_per_session(t.column("session_id"), t.column("is_retry"))
    for name in ("outcome", "model", "output_kind", "error_type"):
        out[name] = _value_counts(t.column(name))
    out["error_types"] = out.pop("error_type")
    keys = t.column("json_keys")
    out["json_keys"], out["json_objects"] = _distinct_counts(keys), len(keys) - keys.null_count
    return out


def _pii_counts(con, side: pa.Table) -> np.ndarray:
    """[clean, leaking] outputs: an output leaks when it holds at least one validated e-mail, phone, SSN, card,
    IPv4 or IBAN (the invariants' own detector). Only counts leave this function, never the values."""
    from ..invariants.text_scan import detect_pii

    hits = detect_pii(con, "side", "output", row_column="_rn")
    leaking = len(np.unique(np.concatenate([np.asarray(r, dtype=np.int64) for r in hits.values()]))) if hits else 0
    outputs = side.num_rows - side.column("output").null_count
    return np.array([outputs - leaking, leaking], dtype=np.int64)


def _samples(col: pa.ChunkedArray) -> np.ndarray:
    x = col.to_numpy().astype(np.float64) if len(col) else np.empty(0)
    return x[np.isfinite(x)]


def _flat_codes(lists: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """A list column as (list array, parent row of each non-null element, element codes, code names)."""
    arr = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    flat = pc.list_flatten(arr)
    parents = pc.list_parent_indices(arr).to_numpy() if len(flat) else np.empty(0, np.int64)
    keep = flat.is_valid().to_numpy(zero_copy_only=False)
    enc = pc.dictionary_encode(flat.filter(pa.array(keep)))
    return arr, parents[keep], enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary


def _tool_graph(tool_calls: pa.ChunkedArray, ngram: int) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Per entry, the number of calls and the longest back-to-back run of one tool (NaN for a null list; null names
    are dropped); over the side, calls per tool and the n-grams of each ^-tools-$ sequence."""
    arr, parents, codes, names = _flat_codes(tool_calls)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    count = np.bincount(parents, minlength=len(arr)).astype(np.float64)
    depth = np.zeros(len(arr))
    if len(codes):
        starts = np.ones(len(codes), bool)
        starts[1:] = (codes[1:] != codes[:-1]) | (parents[1:] != parents[:-1])
        np.maximum.at(depth, parents[starts], np.bincount(np.cumsum(starts) - 1))
    count[~valid], depth[~valid] = np.nan, np.nan
    symbols = names.to_pylist() + [START, END]
    usage = dict(zip(symbols, np.bincount(codes, minlength=len(symbols) - 2).tolist()))
    return count, depth, usage, _ngrams(codes, count[valid].astype(np.int64), ngram, symbols)


def _ngrams(codes: np.ndarray, calls: np.ndarray, n: int, symbols: list[str]) -> dict[str, int]:
    """n-gram counts over each entry's ^-calls-$ sequence (`calls` per entry, `codes` concatenated in order);
    a sequence shorter than n counts once, whole."""
    if not len(calls):
        return {}
    length = calls + 2
    off = np.cumsum(length) - length
    tokens = np.empty(int(length.sum()), np.int64)
    tokens[off], tokens[off + length - 1] = len(symbols) - 2, len(symbols) - 1
    entry = np.repeat(np.arange(len(calls)), calls)
    tokens[off[entry] + 1 + np.arange(len(codes)) - np.repeat(np.cumsum(calls) - calls, calls)] = codes
    grams = np.maximum(length - n + 1, 1)
    first = np.repeat(off, grams) + np.arange(grams.sum()) - np.repeat(np.cumsum(grams) - grams, grams)
    width = np.repeat(np.minimum(length, n), grams)
    pos = first[:, None] + np.arange(n)
    mat = np.where(np.arange(n) < width[:, None], tokens[np.minimum(pos, len(tokens) - 1)], -1)
    base = len(symbols) + 1
    if base ** n < 2 ** 62:  # each n-gram as one integer: sorting integers is far faster than sorting rows
        key = (mat + 1) @ (base ** np.arange(n, dtype=np.int64))
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
        rows = mat[first]
    else:
        rows, counts = np.unique(mat, axis=0, return_counts=True)
    return {">".join(symbols[t] for t in row if t >= 0): int(c) for row, c in zip(rows, counts)}


def _distinct_counts(lists: pa.ChunkedArray) -> dict[str, int]:
    """How many lists contain each value (a value repeated within one list counts once)."""
    _, parents, codes, names = _flat_codes(lists)
    pair = np.sort(parents * max(len(names), 1) + codes, kind="stable")
    repeated = pair[1:][pair[1:] == pair[:-1]] % max(len(names), 1)
    counts = np.bincount(codes, minlength=len(names)) - np.bincount(repeated, minlength=len(names))
    return dict(zip(names.to_pylist(), counts.tolist()))


def _retries_per_session(session: pa.ChunkedArray, is_retry: pa.ChunkedArray) -> np.ndarray:
    t = pa.table({"s": session, "r": pc.cast(is_retry, pa.int64())}).filter(pc.is_valid(is_retry))
    return t.group_by("s").aggregate([("r", "sum")]).column("r_sum").to_numpy().astype(np.float64)


def _yes_no(col: pa.ChunkedArray) -> np.ndarray:
    yes = int(pc.sum(pc.cast(col, pa.int64())).as_py() or 0)
    return np.array([len(col) - col.null_count - yes, yes], dtype=np.int64)


def _rate(counts: np.ndarray) -> float | None:
    total = int(counts.sum())
    return float(counts[1] / total) if total else None


def _value_counts(col: pa.ChunkedArray) -> dict[str, int]:
    vc = pc.value_counts(pc.drop_null(col))
    return dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist()))


def _aligned(ca: dict[str, int], cb: dict[str, int], max_labels: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The union of labels with a count, by total count (ties by name), the tail past `max_labels` as (other)."""
    order = sorted((k for k in set(ca) | set(cb) if ca.get(k, 0) + cb.get(k, 0) > 0),
                   key=lambda k: (-(ca.get(k, 0) + cb.get(k, 0)), k))
    keep, rest = order[:max_labels], order[max_labels:]
    counts = [[c.get(k, 0) for k in keep] + ([sum(c.get(k, 0) for k in rest)] if rest else []) for c in (ca, cb)]
    return keep + ([OTHER] if rest else []), np.array(counts[0], np.int64), np.array(counts[1], np.int64)


def _shares(labels: list[str], counts: np.ndarray, total) -> dict[str, float]:
    return {k: (float(c / total) if total else 0.0) for k, c in zip(labels, counts)}


def _stats(x: np.ndarray) -> tuple:
    if not len(x):
        return None, None, None
    p50, p95 = np.percentile(x, [50, 95])
    return float(np.mean(x)), float(p50), float(p95)


def _continuous_summary(xa: np.ndarray, xb: np.ndarray) -> dict:
    (mean_a, p50_a, p95_a), (mean_b, p50_b, p95_b) = _stats(xa), _stats(xb)
    return {"mean_a": mean_a, "mean_b": mean_b, "p50_a": p50_a, "p50_b": p50_b, "p95_a": p95_a, "p95_b": p95_b,
            "n_a": int(len(xa)), "n_b": int(len(xb))}
