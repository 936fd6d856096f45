"""Live anomaly scoring of a log: a Watcher reads a local JSON Lines file like `tail -f` (complete lines only,
original line numbers kept, truncation and rotation detected) into canonical entries, and a StreamScorer runs
detect_anomalies batch after batch with the detector state carried, so results equal scoring the whole file at once.

Schema mapping: chosen once, on the first non-empty batch, by pipeline.core.ingest.engine.plan_records (vendor adapter, else
inference over that batch). Later batches never re-infer, so columns cannot flip mid-stream: with a vendor adapter
plan_records is re-run pinned to that vendor (its documents still expand into records, the mapping is the adapter's),
otherwise the inferred mapping is reused as-is."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import timezone

import pyarrow as pa

from .config import StrataConfig
from .detectors import AlertPolicy, Embedder, detect_anomalies
from .ingest.engine import SourceReport, plan_records
from .ingest.mapping import Mapping
from .ingest.normalize import connect, normalize_records
from .ingest.pricing import fill_costs
from .ingest.readers.jsonl import read_jsonl
from .ingest.records import Reject

READ_BYTES = 64 << 20  # at most this much new data is normalized per poll


class SourceChanged(Exception):
    """The followed file was truncated or replaced (rotated); the message says which."""


@dataclass
class Watcher:
    """Follows one local JSONL file. poll() returns canonical entries for complete lines appended since the last
    call (a partial last line is held until its newline arrives) or None when nothing new is there."""

    path: str
    config: StrataConfig = field(default_factory=StrataConfig)
    source: str | None = None  # the name entries and rejects carry (default: the path)
    offset: int = 0  # bytes consumed (complete lines only)
    next_line: int = 1
    rejects: list[Reject] = field(default_factory=list)
    report: SourceReport | None = None
    mapping: Mapping | None = None

    def __post_init__(self):
        self.source = self.source or self.path
        self._con = connect()
        self._pinned: StrataConfig | None = None  # config pinned to the detected vendor, when there is one
        st = os.stat(self.path)
        self._ident = (st.st_dev, st.st_ino)

    def check(self) -> os.stat_result:
        """Stat the file; raise SourceChanged when it was replaced, removed or shrank below what was read."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise SourceChanged(f"{self.path} was removed (rotated?)") from None
        if (st.st_dev, st.st_ino) != self._ident:
            raise SourceChanged(f"{self.path} was replaced (rotated)")
        if st.st_size < self.offset:
            raise SourceChanged(f"{self.path} was truncated ({st.st_size:,} bytes, {self.offset:,} already read)")
        return st

    def poll(self, final: bool = False) -> pa.Table | None:
        """Entries of the new complete lines; final=True also takes a last line without its newline."""
        st = self.check()
        if st.st_size == self.offset:
            return None
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read(min(st.st_size - self.offset, READ_BYTES))
        cut = len(data) if final and len(data) < READ_BYTES else data.rfind(b"\n") + 1
        if cut == 0:
            return None  # only a partial line so far
        data = data[:cut]
        first = self.next_line
        self.offset += len(data)
        self.next_line += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        return self._normalize(data, first)

    def _normalize(self, data: bytes, first_line: int) -> pa.Table | None:
        parsed = read_jsonl(data, self.source, first_line=first_line)
        self.rejects.extend(parsed.rejects)
        records = parsed.records
        if records.num_rows == 0:
            return None
        if self.mapping is None:
            self.report = SourceReport(self.source, "jsonl", None, None, 0)
            records, self.mapping = plan_records(parsed, self.config, self.report, self._con)
            if self.report.vendor:
                self._pinned = self.config.model_copy(deep=True)
                self._pinned.reading.vendor_hint = self.report.vendor
        elif self._pinned is not None:
            records, _ = plan_records(parsed, self._pinned, SourceReport(self.source, "jsonl", None, None, 0), self._con)
        self.report.bytes_read += len(data)
        chunk = self.config.reading.chunk_rows
        out = []
        for start in range(0, records.num_rows, chunk):
            norm = normalize_records(records.slice(start, chunk), self.mapping, None, self._con)
            self.rejects.extend(norm.rejects)
            entries, _ = fill_costs(norm.entries, self.config.price_table())
            out.append(entries)
        self.report.rows_rejected = len(self.rejects)
        self.report.rows_kept += sum(t.num_rows for t in out)
        return pa.concat_tables(out) if out else None


def _num(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def _iso(ts) -> str | None:
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def segment_options(cfg) -> dict:
    """detect_anomalies keyword arguments from the `segments:` section of strata.yml (defaults without one)."""
    seg = getattr(cfg, "segments", None)
    if seg is None:
        return {}
    return {"segment_columns": tuple(seg.columns), "optional_segment_columns": tuple(seg.optional),
            "prime_new_segments": bool(seg.prime_new)}


class StreamScorer:
    """detect_anomalies over successive batches with its state carried. The first `prime` entries only train the
    detectors (their anomalies are dropped, as a warm-up from history would); score() returns one dict per anomaly
    with request_id (looked up from the batch by entry_id; None for rate anomalies or logs without one)."""

    def __init__(self, policy: AlertPolicy = AlertPolicy(), embedder: Embedder | None = None, prime: int = 0,
                 state: dict | None = None, **options):
        self.policy, self.embedder, self.options = policy, embedder, options
        self.prime_left = max(0, int(prime))
        self.state = state
        self.seen = 0

    def _detect(self, entries: pa.Table) -> pa.Table:
        anomalies, self.state = detect_anomalies(entries, self.state, policy=self.policy, embedder=self.embedder,
                                                 **self.options)
        return anomalies

    def score(self, entries: pa.Table | None) -> list[dict]:
        if entries is None or entries.num_rows == 0:
            return []
        self.seen += entries.num_rows
        if self.prime_left:
            k = min(self.prime_left, entries.num_rows)
            self._detect(entries.slice(0, k))  # exact: scoring in parts equals scoring at once
            self.prime_left -= k
            entries = entries.slice(k)
            if entries.num_rows == 0:
                return []
        anomalies = self._detect(entries)
        if anomalies.num_rows == 0:
            return []
        ids = entries.column("entry_id").to_pylist()
        reqs = entries.column("request_id").to_pylist() if "request_id" in entries.column_names else [None] * len(ids)
        req_of = dict(zip(ids, reqs))
        return [{
            "request_id": req_of.get(a["entry_id"]) if a["entry_id"] else None,
            "ts": _iso(a["ts"]), "line": a["line"], "segment": a["segment"], "metric": a["metric"],
            "value": _num(a["value"]), "expected": _num(a["expected"]), "score": _num(a["score"]),
            "detectors": a["detectors"], "severity": a["severity"], "explanation": a["explanation"],
        } for a in anomalies.to_pylist()]


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.4g}"


def text_line(a: dict) -> str:
    """One compact, human-readable line for an anomaly dict from StreamScorer.score."""
    where = f"line {a['line']}" if a["line"] is not None else "bucket"
    req = f" req={a['request_id']}" if a["request_id"] else ""
    score = "-" if a["score"] is None else f"{a['score']:+.1f}σ"
    return (f"{a['ts'] or '-'} {(a['severity'] or '-').upper():8} {a['metric']} {_fmt(a['value'])} vs "
            f"{_fmt(a['expected'])} {score} [{a['segment']}] {where}{req}: {a['explanation']}")

