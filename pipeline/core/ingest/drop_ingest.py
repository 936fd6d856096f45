"""One drop from object store to lake: read and normalize, sample if configured, write atomically, summarize."""
from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass
from typing import Iterable, Iterator

import pyarrow as pa

from ..config import StrataConfig
from .engine import IngestResult, iter_entries, maybe_sample
from ..storage.lake import LakeWrite, write_drop
from .sources import SourceObject

PREVIEW_ROWS = 5


@dataclass
class DropIngest:
    result: IngestResult
    written: LakeWrite
    preview: pa.Table

    def report(self) -> dict:
        return {
            **self.result.summary(),
            "entries_path": self.written.entries_path,
            "quarantine_path": self.written.quarantine_path,
            "sources": [s.to_dict() for s in self.result.sources],
        }


def ingest_drop(
    source: str | list[SourceObject],
    lake_url: str,
    drop: str,
    config: StrataConfig | None = None,
    storage_options: dict | None = None,
    lake_storage_options: dict | None = None,
    progress=None,
) -> DropIngest:
    """Stream chunks straight into the lake, or hold the drop in memory when sampling is configured."""
    config = config or StrataConfig()
    warm_imports()
    result = IngestResult()
    head: list[pa.Table] = []

    def tap(chunks):
        for c in chunks:
            if not head and c.num_rows:
                head.append(c.slice(0, PREVIEW_ROWS))
            yield c

    chunks = iter_entries(source, drop=drop, config=config, storage_options=storage_options, result=result, progress=progress)
    if config.sampling.max_rows:
        collected = list(chunks)
        table = pa.concat_tables(collected) if collected else None
        chunks = [maybe_sample(table, config, result)] if table is not None else []
    def report() -> dict:  # called after the chunks are exhausted, when the counts are final
        return {**result.summary(), "sources": [s.to_dict() for s in result.sources]}

    written = write_drop(lake_url, drop, ahead(tap(chunks)), lambda: result.rejects, report, lake_storage_options)
    from ..entry_schema import CANONICAL_SCHEMA

    preview = head[0] if head else CANONICAL_SCHEMA.empty_table()
    return DropIngest(result, written, preview)


_DONE = object()


def warm_imports() -> None:
    """pyarrow imports pandas on its first conversion of Python values (0.15-0.2 s); started on a helper thread, that
    import runs while the first object is read and scanned (a file read and the numpy scans release the GIL) instead
    of after them. A later `import pandas` elsewhere waits for this one to finish (Python's module lock)."""
    if "pandas" in sys.modules:
        return

    def load() -> None:
        try:
            import pandas  # noqa: F401
        except Exception:  # noqa: BLE001 - pyarrow works without pandas; whoever needs it reports the failure
            pass

    threading.Thread(target=load, name="strata-warm-imports", daemon=True).start()


def ahead(chunks: Iterable[pa.Table], depth: int = 1) -> Iterator[pa.Table]:
    """`chunks`, computed on a helper thread up to `depth` chunks ahead of the consumer: the next chunk is read and
    normalized (DuckDB and Arrow, mostly outside the GIL) while this one is written. Errors reach the consumer in
    order; a consumer that stops early stops the producer, which closes the source generator on its own thread."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(chunks)
        try:
            for chunk in it:
                if not put((chunk, None)):
                    break
            else:
                put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((_DONE, exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="strata-ingest-ahead", daemon=True)
    worker.start()
    try:
        while True:
            chunk, exc = q.get()
            if exc is not None:
                raise exc
            if chunk is _DONE:
                return
            yield chunk
    finally:
        stop.set()
        worker.join()


def preview_markdown(preview: pa.Table, width: int = 48) -> str:
    cols = ["ts", "model", "input", "output", "latency_ms", "status"]
    rows = preview.select(cols).to_pylist()
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            s = "" if v is None else (f"{v:,.0f}" if isinstance(v, float) else str(v))
            s = s.replace("|", "\\|").replace("\n", " ")
            cells.append(s if len(s) <= width else s[: width - 1] + "…")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)
