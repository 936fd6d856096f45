"""The one evaluator: a check spec plus entries gives a CheckResult; every consumer of invariants goes through it.
Kinds and what their confidence means: kinds.KIND_DOCS."""
from __future__ import annotations

from typing import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..ingest.normalize import connect
from . import stat_checks
from .model import CheckResult
from .sql_checks import (JSON_KINDS, ROW_KINDS, SHARE_KINDS, fields_of, json_keys_col, json_type_col, json_type_sql,
                         predicates, where_sql)
from .stats import Z_DEFAULT, ratio_confidence, share_confidence, wilson_interval
from .text_scan import detect_pii, is_pii, qident

MAX_EXAMPLES = 5
SEMANTIC_KINDS = ("centroid_similarity", "semantic_outlier_rate", "near_duplicate_rate", "io_alignment")
CUSTOM_KINDS: dict[str, Callable[["Evaluator", dict], CheckResult]] = {}
_BATCH = 40  # predicates per DuckDB scan


def register_check_kind(kind: str):
    """Decorator for a user-defined check kind: fn(evaluator, check) -> CheckResult."""

    def wrap(fn):
        CUSTOM_KINDS[kind] = fn
        return fn

    return wrap


def known_kinds() -> tuple[str, ...]:
    """Every kind the evaluator can run: the built-ins of kinds.KIND_DOCS plus registered custom kinds."""
    return ROW_KINDS + SHARE_KINDS + stat_checks.STAT_KINDS + SEMANTIC_KINDS + tuple(CUSTOM_KINDS)


class Evaluator:
    """Holds the entries registered in DuckDB once, with caches shared by every check evaluated on them."""

    def __init__(self, entries: pa.Table, con: duckdb.DuckDBPyConnection | None = None, embedder=None,
                 relation: str = "_strata_entries"):
        if "_row" not in entries.column_names:
            entries = entries.append_column("_row", pa.array(np.arange(entries.num_rows, dtype=np.int64)))
        self.table = entries
        self.n = entries.num_rows
        self.con = con or connect()
        self.relation = relation
        self.con.register(relation, entries)
        self.embedder = embedder
        self.cache: dict = {}
        self._present: set[str] | None = None

    def close(self) -> None:
        self.con.unregister(self.relation)

    # --- column facts -------------------------------------------------------------------------------------
    def present(self) -> set[str]:
        """Columns that exist and hold at least one non-null value."""
        if self._present is None:
            self._present = {c for c in self.table.column_names
                             if c != "_row" and not c.startswith("__") and self.non_null(c) > 0}
        return self._present

    def is_list(self, name: str) -> bool:
        return name in self.table.column_names and pa.types.is_list(self.table.schema.field(name).type)

    def values(self, name: str, measure: str | None = None, where: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(row numbers, float values) of a column's non-null values, of their lengths for measure='length', or of
        the value per output token for measure='per_output_token' (latency over completion tokens, where > 0);
        `where` keeps one segment's rows."""
        if where:
            rows, vals = self.values(name, measure)
            keep = self.where_mask(where)[rows]
            return rows[keep], vals[keep]
        key = ("values", name, measure)
        if key not in self.cache:
            col = self.table.column(name)
            if measure == "length":
                col = pc.list_value_length(col) if self.is_list(name) else pc.utf8_length(col)
            if measure == "per_output_token":
                tokens = self.table.column("completion_tokens").cast(pa.float64()).to_numpy(zero_copy_only=False)
                vals = col.cast(pa.float64()).to_numpy(zero_copy_only=False) / np.where(tokens > 0, tokens, np.nan)
                keep = ~np.isnan(vals)
                self.cache[key] = (np.flatnonzero(keep), vals[keep])
                return self.cache[key]
            vals = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
            keep = ~np.isnan(vals)
            self.cache[key] = (np.flatnonzero(keep), vals[keep])
        return self.cache[key]

    def where_mask(self, where: dict) -> np.ndarray:
        """Rows of one segment (`{field, value}`), as a boolean mask over all rows."""
        key = ("where", where["field"], str(where["value"]))
        if key not in self.cache:
            col = pc.cast(self.table.column(where["field"]), pa.string())
            self.cache[key] = pc.fill_null(pc.equal(col, str(where["value"])), False).to_numpy(zero_copy_only=False)
        return self.cache[key]

    def time_order(self) -> np.ndarray:
        """Row numbers in time order (ties and missing timestamps in log order)."""
        if "time_order" not in self.cache:
            if "ts" in self.present():
                ts = self.table.column("ts").cast(pa.int64()).to_numpy(zero_copy_only=False).astype(float)
                ts = np.where(np.isnan(ts), np.inf, ts)
                self.cache["time_order"] = np.argsort(ts, kind="stable")
            else:
                self.cache["time_order"] = np.arange(self.n)
        return self.cache["time_order"]

    def take(self, name: str, rows) -> list:
        """Values of a column at row numbers, without concatenating its chunks (take() on a chunked column would)."""
        return take_rows(self.table.column(name), rows)

    def examples(self, rows, extra: list[dict] | None = None) -> list[dict]:
        rows = np.asarray(rows, dtype=np.int64)[:MAX_EXAMPLES]
        cols = [c for c in ("entry_id", "line") if c in self.table.column_names]
        values = {c: self.take(c, rows) for c in cols}
        out = [{c: values[c][i] for c in cols} for i in range(len(rows))]
        for i, e in enumerate(extra or []):
            if i < len(out):
                out[i].update(e)
        return out

    def json_columns(self, name: str) -> tuple[str, str]:
        """Derived columns (JSON type or NULL when invalid, object keys) computed in one pass and cached, so
        every JSON check and miner parses each document once."""
        type_col, keys_col = json_type_col(name), json_keys_col(name)
        if type_col not in self.table.column_names:
            c = qident(name)
            derived = self.con.sql(
                f"SELECT {json_type_sql(c)} AS t, CASE WHEN t = 'OBJECT' THEN json_keys({c}) END AS k "
                f"FROM {self.relation} ORDER BY _row").to_arrow_table()
            self.table = self.table.append_column(type_col, derived.column("t")).append_column(keys_col, derived.column("k"))
            self.con.unregister(self.relation)
            self.con.register(self.relation, self.table)
        return type_col, keys_col

    def pii_hits(self, name: str) -> dict[str, np.ndarray]:
        key = ("pii", name)
        if key not in self.cache:
            self.cache[key] = detect_pii(self.con, self.relation, name)
        return self.cache[key]

    def non_null(self, name: str) -> int:
        return self.n - self.table.column(name).null_count

    # --- evaluation ---------------------------------------------------------------------------------------
    def evaluate(self, check: dict) -> CheckResult:
        return self.evaluate_many([check])[0]

    def evaluate_many(self, checks: list[dict]) -> list[CheckResult]:
        results: list[CheckResult | None] = [None] * len(checks)
        batch: list[int] = []
        for i, check in enumerate(checks):
            kind = check["kind"]
            gone = [f for f in fields_of(check) if f not in self._usable(check, f)]
            if gone:
                results[i] = missing_result(gone)
            elif kind in CUSTOM_KINDS:
                results[i] = CUSTOM_KINDS[kind](self, check)
            elif kind in ("regex_absent", "regex_present") and is_pii(check):
                results[i] = self._pii_result(check)
            elif kind in ROW_KINDS or kind in SHARE_KINDS:
                batch.append(i)
            elif kind in stat_checks.STAT_KINDS:
                results[i] = stat_checks.run(self, check)
            elif kind in SEMANTIC_KINDS:
                from . import semantic_checks

                results[i] = semantic_checks.run(self, check)
            else:
                raise ValueError(f"unknown check kind {kind!r}; known: {sorted(known_kinds())}")
        for i, res in zip(batch, self._counted([checks[i] for i in batch])):
            results[i] = res
        return results  # type: ignore[return-value]

    def _usable(self, check: dict, name: str) -> set[str]:
        # A presence share (e.g. "rows with an error") over a column that is all null is a share of 0, not missing.
        if check["kind"] == "share_between" and not ({"value", "values", "pattern", "regex"} & set(check)):
            return set(self.table.column_names)
        return self.present()

    def counts(self, checks: list[dict]) -> list[tuple[int, int, list[int]]]:
        """(applicable rows, rows where it holds, example row numbers) per row- or share-kind check, cached by
        predicate so a miner's measurement and the later evaluation of the same predicate scan once."""
        keyed = []
        for check in checks:
            if check["kind"] in JSON_KINDS:
                self.json_columns(check["field"])
            applies, holds = predicates(check, self.is_list(check["field"]))
            if (segment := where_sql(check)) is not None:  # the invariant's population is one segment
                applies = f"({applies}) AND {segment}"
            keyed.append(("counts", applies, holds, check["kind"] == "share_between"))
        todo = [k for k in dict.fromkeys(keyed) if k not in self.cache]
        # Each distinct predicate is projected once by DuckDB (a pattern's absent and present checks share one regex
        # pass) into boolean columns; counting and picking examples is then numpy over those columns.
        for start in range(0, len(todo), _BATCH):
            chunk = todo[start : start + _BATCH]
            exprs = list(dict.fromkeys(e.removeprefix("NOT ") for _, a, h, _ in chunk for e in (a, h)))
            names = {e: f"p{i}" for i, e in enumerate(exprs)}
            flags = self.con.sql(f"SELECT _row, {', '.join(f'{e} AS {names[e]}' for e in exprs)} FROM {self.relation}"
                                 ).to_arrow_table()
            rows = flags.column("_row").to_numpy()

            def mask(sql: str) -> np.ndarray:
                negate = sql.startswith("NOT ")
                col = pc.fill_null(flags.column(names[sql.removeprefix("NOT ")]), negate)
                arr = col.to_numpy(zero_copy_only=False)
                return ~arr if negate else arr

            for key in chunk:
                _, applies, holds, show_hits = key
                a, h = mask(applies), mask(holds)
                shown = rows[a & (h if show_hits else ~h)]
                first = np.sort(np.partition(shown, MAX_EXAMPLES)[:MAX_EXAMPLES] if len(shown) > MAX_EXAMPLES else shown)
                self.cache[key] = (int(a.sum()), int((a & h).sum()), [int(r) for r in first])
        return [self.cache[k] for k in keyed]

    def _counted(self, checks: list[dict]) -> list[CheckResult]:
        out = []
        for check, (total, support, rows) in zip(checks, self.counts(checks)):
            shown = self.examples(rows, [{"value": _clip(v)} for v in self.take(check["field"], rows)])
            out.append(finish_counted(check, support, total, shown))
        return out

    def _pii_result(self, check: dict) -> CheckResult:
        hits = self.pii_hits(check["field"])[check["pattern"]]
        total = self.non_null(check["field"])
        bad = len(hits)
        if check["kind"] == "regex_absent":
            support, shown = total - bad, self.examples(hits, [{"match": check["pattern"]}] * MAX_EXAMPLES)
        else:
            support, shown = bad, []
        return finish_counted(check, support, total, shown)


def finish_counted(check: dict, support: int, total: int, examples: list) -> CheckResult:
    """Confidence for counted kinds: the plain share for row kinds, a share-versus-bound ratio for share kinds."""
    if total == 0 and check["kind"] != "share_between":
        return missing_result([check["field"]], "no applicable rows")
    kind = check["kind"]
    share = support / total if total else 0.0
    z = float(check.get("z", Z_DEFAULT))
    evidence: dict = {"share": share}
    if kind == "completeness":
        conf = ratio_confidence(wilson_interval(support, total, z)[1], float(check["min"]), at_least=True)
    elif kind == "share_between":
        conf = share_confidence(support, total, check.get("min"), check.get("max"), z)
        evidence["interval"] = list(wilson_interval(support, total, z))
        if check.get("max") is not None and check.get("min") is None:  # a ceiling (error rate): judged by interval
            evidence["gate"] = share_gate(evidence["interval"][0], share, float(check["max"]))
    else:
        conf = share
    if kind != "share_between":
        evidence["violations"] = total - support
    evidence["examples"] = list(examples)
    holds = conf >= float(check.get("min_confidence", 1.0)) - 1e-12
    return CheckResult(holds=holds, confidence=float(conf), support=int(support), total=int(total), evidence=evidence)


def share_gate(lower: float, share: float, ceiling: float, min_effect: float = 0.10) -> str:
    """A share's ceiling: "violated" when the share's whole interval lies above it and the share exceeds it by at
    least `min_effect` relative, "degraded" when the interval lies above it by less, else "holds"."""
    if lower <= ceiling:
        return "holds"
    return "violated" if share >= ceiling * (1 + min_effect) else "degraded"


def take_rows(column: pa.ChunkedArray, rows) -> list:
    """Values at row numbers, chunk by chunk."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return []
    order = np.argsort(rows, kind="stable")
    bounds = np.cumsum([0] + [len(ch) for ch in column.chunks])
    chunk_of = np.searchsorted(bounds, rows[order], side="right") - 1
    out: list = [None] * len(rows)
    for k in np.unique(chunk_of):
        pick = order[chunk_of == k]
        vals = column.chunk(int(k)).take(pa.array(rows[pick] - bounds[k])).to_pylist()
        for i, v in zip(pick, vals):
            out[int(i)] = v
    return out


def _clip(value, limit: int = 120):
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "..."
    return value


def missing_result(fields: list[str], reason: str = "field absent or all null") -> CheckResult:
    return CheckResult(holds=False, confidence=0.0, support=0, total=0,
                       evidence={"missing_fields": list(fields), "reason": reason}, missing=True)


def evaluate(check: dict, entries: pa.Table, embedder=None) -> CheckResult:
    """Evaluate one check spec on an entries table."""
    ev = Evaluator(entries, embedder=embedder)
    try:
        return ev.evaluate(check)
    finally:
        ev.close()


def evaluate_many(checks: list[dict], entries: pa.Table, embedder=None) -> list[CheckResult]:
    ev = Evaluator(entries, embedder=embedder)
    try:
        return ev.evaluate_many(checks)
    finally:
        ev.close()
