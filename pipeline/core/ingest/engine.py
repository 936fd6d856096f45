"""Reads a source end to end: objects -> format -> vendor or inferred mapping -> canonical entries in chunks, plus rejects."""
from __future__ import annotations

import json
from typing import Callable, Iterator

import pyarrow as pa

from ..config import StrataConfig
from .batching import Batch, batch_key, batchable, deferred, kept_by_source, merge
from .mapping import FieldSource, Mapping
from .normalize import connect, normalize_records
from .pricing import fill_costs
from .records import ParsedRecords, Reject, load_record, records_from_dicts
from .readers.text_lines import LINE_FORMATS, utf16_reencoder, utf16_restorer
from .compression import compression_of, decompress, quarantined_object
from .objects import ObjectTooLarge, SourceError, SourceObject
from .results import IngestResult, SourceReport
from .sources import read_raw, resolve_source
from .sniff import detect_encoding, sniff_data
from .request_stage import RequestStage
from .rotation import reading_order
from .span_stage import SpanStage

SAMPLE_RECORDS = 2000
SNIFF_BYTES = 64 * 1024


def chunk_bounds(n: int, chunk: int) -> list[tuple[int, int]]:
    """(start, rows) of each normalization chunk: `chunk` rows, except that the last chunk of an object spanning
    several is halved when it is over half a chunk. Chunks are written while the next one is normalized; the drop's
    last write overlaps nothing, so a shorter last chunk shortens the wait."""
    bounds = [(s, min(chunk, n - s)) for s in range(0, n, chunk)]
    if len(bounds) > 1 and bounds[-1][1] > max(1, chunk // 2):
        s, rows = bounds.pop()
        bounds += [(s, rows // 2), (s + rows // 2, rows - rows // 2)]
    return bounds


def _read_object(data: bytes, url: str, fmt: str, joiner=None) -> ParsedRecords:
    from .readers.json_doc import read_json_document
    from .readers.jsonl import read_jsonl

    if fmt == "text":  # no JSON, no known line format: YAML records, server logs, else `unrecognized line format`
        from .readers.server_log import read_server_log
        from .readers.yaml_doc import looks_like_yaml, read_yaml_records

        if looks_like_yaml(data[:SNIFF_BYTES], url):
            parsed = read_yaml_records(data, url)
            if parsed is not None:
                return parsed
        return read_server_log(data, url, joiner)
    if fmt == "jsonl":
        from .fast_path import fast_jsonl

        parsed = fast_jsonl(data, url) or read_jsonl(data, url)  # clean objects skip the line-exact screening
        parsed.format = fmt
        return parsed
    if fmt == "json":
        return read_json_document(data, url)
    if fmt in ("csv", "tsv"):
        from .readers.csv_reader import read_delimited

        return read_delimited(data, url, "\t" if fmt == "tsv" else None)
    if fmt == "logfmt":
        from .readers.logfmt import read_logfmt

        return read_logfmt(data, url)
    if fmt == "access_log":
        from .readers.access_log import read_access_log

        return read_access_log(data, url)
    if fmt == "parquet":
        from .readers.columnar import read_parquet

        return read_parquet(data, url)
    if fmt == "avro":
        from .readers.columnar import read_avro

        return read_avro(data, url)
    if fmt == "empty":
        from .records import empty_records

        return ParsedRecords(empty_records(), [], "empty", 0)
    # unrecognized binary content: the whole object goes to quarantine rather than failing the drop
    return ParsedRecords(records_from_dicts(url, []), [Reject(url, 0, f"unrecognized {fmt} content", data)], fmt, len(data))


def _sample_dicts(records: pa.Table, n: int = SAMPLE_RECORDS) -> list[dict]:
    """Up to n parsed records spread evenly over the object (not just its head)."""
    total = records.num_rows
    if total == 0:
        return []
    step = max(1, total // n)
    col = records.column("raw")
    raws = [col[i].as_py() for i in range(0, total, step)]  # scalar access: `take` would concatenate every chunk
    out = []
    for r in raws:
        v = load_record(r)  # NaN/Infinity read as null, never a traceback
        if isinstance(v, dict):
            out.append(v)
    return out


def _with_renames(mapping: Mapping, evolution) -> Mapping:
    """Make sure both sides of a detected rename feed the same role."""
    roles = {r: list(s) for r, s in mapping.roles.items()}
    for rn in getattr(evolution, "renames", []):
        for role, srcs in roles.items():
            paths = [s.path for s in srcs]
            if rn.new_path in paths and rn.old_path not in paths:
                srcs.append(FieldSource(rn.old_path, srcs[paths.index(rn.new_path)].transform, srcs[paths.index(rn.new_path)].scale))
            elif rn.old_path in paths and rn.new_path not in paths:
                srcs.insert(0, FieldSource(rn.new_path, srcs[paths.index(rn.old_path)].transform, srcs[paths.index(rn.old_path)].scale))
    return Mapping(roles, dict(mapping.constants))


def plan_records(
    parsed: ParsedRecords, config: StrataConfig, report: SourceReport, con, assemble: bool = False
) -> tuple[pa.Table, Mapping]:
    """Choose the mapping (vendor adapter, else inference) and expand vendor documents into records.

    With `assemble`, records of span-level adapters are left whole for the trace stage (which groups them over the
    drop); without it (live watching) each record is expanded on its own, as before."""
    from .vendors import ADAPTERS, detect_vendor, expand_records

    records = parsed.records
    sample = _sample_dicts(records)
    adapter = None
    if config.reading.vendor_hint:
        adapter = next((a for a in ADAPTERS if a.name == config.reading.vendor_hint), None)
        if adapter is None:
            raise ValueError(f"reading.vendor_hint: unknown vendor {config.reading.vendor_hint!r}")
    elif sample:
        adapter = detect_vendor(sample)
    overrides = config.role_overrides()
    if adapter is not None:
        report.vendor = adapter.name
        if adapter.expand is not None and not (assemble and adapter.spans is not None):
            rows = []
            for line, raw in zip(records.column("line").to_pylist(), records.column("raw").to_pylist()):
                rows.extend(expand_records(adapter, [(line, json.loads(raw))]))
            records = records_from_dicts(report.url, rows)
        mapping = adapter.mapping.merged(overrides) if overrides else adapter.mapping
        report.schema = {"vendor": adapter.name, "mapping": mapping.to_dict()}
        return records, mapping
    from .schema_evolution import detect_evolution
    from .schema_infer import infer_schema
    from .stream_fields import assemble_streams

    records, sample = assemble_streams(records, sample)  # recorded SSE / chunk arrays -> the response they streamed
    inferred = infer_schema(sample, overrides)
    evolution = detect_evolution(records, con=con) if parsed.format in ("jsonl", "text") else None
    mapping = _with_renames(inferred.mapping, evolution) if evolution else inferred.mapping
    report.schema = inferred.to_dict()
    report.schema["mapping"] = mapping.to_dict()
    report.evolution = {**evolution.to_dict(), "describe": evolution.describe()} if evolution else {}
    return records, mapping


def iter_entries(
    source: str | list[SourceObject],
    *,
    drop: str | None = None,
    config: StrataConfig | None = None,
    storage_options: dict | None = None,
    result: IngestResult | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[pa.Table]:
    """Yield canonical entry chunks for every object of `source`; counts and rejects accumulate in `result`."""
    config = config or StrataConfig()
    result = result if result is not None else IngestResult()
    prices = config.price_table()
    objects = reading_order(resolve_source(source, storage_options) if isinstance(source, str) else source)
    con = connect()
    stage = SpanStage(config, drop, con, prices, result)
    joins = RequestStage(config, drop, con, prices, result, plan_records)  # vLLM requests joined over the drop
    pending = Batch()
    for i, obj in enumerate(objects):
        joins.begin(obj.url, last=i == len(objects) - 1)
        yield from joins.drain()
        if obj.problem:  # a dangling symlink or a loop: quarantined by name, the rest of the drop goes on
            result.rejects.append(Reject(obj.url, 0, obj.problem))
            result.sources.append(SourceReport(obj.url, "unreadable", None, None, 0, 1, 0, 1))
            result.rows_read += 1
            result.rows_rejected += 1
            continue
        raw = read_raw(obj)
        try:
            data, compression = decompress(raw, obj.url)
        except SourceError as exc:  # a decompression bomb, or a truncated / corrupt stream: quarantined as stored
            if len(objects) == 1 and not isinstance(exc, ObjectTooLarge):
                raise  # the drop is this one object and nothing of it reads: fail naming the object and the cause
            data, compression = b"", compression_of(raw[:8])
            bomb = quarantined_object(obj.url, raw, str(exc))
        else:
            bomb = None
        original, enc = data, detect_encoding(data[:4])
        if enc.startswith("utf-16"):
            data = data.decode(enc, errors="replace").encode("utf-8")  # a stray odd byte must not fail the object
        fmt = "binary" if bomb else config.reading.format_hint or sniff_data(data, obj.name, SNIFF_BYTES)
        utf8 = not enc.startswith("utf-16")
        if batchable(fmt, len(data), utf8) and not bomb:
            later = deferred(fmt)  # small JSON Lines: read with the rest of the batch in one pass
            parsed = None if later else _read_object(data, obj.url, fmt, joins.joiner)
            report = SourceReport(obj.url, fmt if later else parsed.format, compression, None, len(raw))
            key = batch_key(parsed, data if later else None)
            if not pending.fits(key):
                yield from _entries_of(pending.take(), config, drop, con, prices, result, progress, stage)
            pending.add(report, key, parsed, data if later else None)
            if pending.full():
                yield from _entries_of(pending.take(), config, drop, con, prices, result, progress, stage)
            continue
        parsed = _read_object(data, obj.url, fmt, joins.joiner)
        if fmt == "binary":  # the whole object as stored (byte-exact up to the quarantine cap)
            parsed.rejects = [bomb or quarantined_object(obj.url, raw, "unrecognized binary content")]
        restore = None if utf8 else utf16_restorer(original, enc) if fmt in LINE_FORMATS else utf16_reencoder(enc)
        report = SourceReport(obj.url, parsed.format, compression, None, len(raw))
        if pending.items:
            yield from _entries_of(pending.take(), config, drop, con, prices, result, progress, stage)
        yield from _entries_of([(report, parsed, None)], config, drop, con, prices, result, progress, stage, restore)
    if pending.items:
        yield from _entries_of(pending.take(), config, drop, con, prices, result, progress, stage)
    yield from stage.finish()
    yield from joins.finish()


def _entries_of(unit: list, config, drop, con, prices, result: IngestResult, progress, stage: SpanStage,
                restore=None) -> Iterator[pa.Table]:
    """Plan and normalize one object, or a batch of small ones as one (counts and rejects kept per object); objects
    of span-level vendors go to the drop-wide trace stage instead."""
    reports = [r for r, _, _ in unit]
    parsed = unit[0][1] if len(unit) == 1 and unit[0][1] is not None else merge(unit)
    first = reports[0]
    for report, own, _ in unit:  # lines read but holding no record (log chatter), per object also when batched
        report.rows_skipped = getattr(own, "skipped", 0)
    records, mapping = plan_records(parsed, config, first, con, assemble=True)
    spans = stage.takes(first)
    if len(unit) > 1 and (records is not parsed.records or spans):  # vendor documents: sources must stay apart
        for item in unit:
            yield from _entries_of([item], config, drop, con, prices, result, progress, stage)
        return
    if spans:  # counted and appended to the result when the stage finishes the drop
        first.rows_rejected += len(parsed.rejects)
        result.rejects.extend(restore(parsed.rejects) if restore else parsed.rejects)
        yield from stage.feed(records, mapping, first)
        return
    by_url = {r.url: r for r in reports}
    for r in reports[1:]:
        r.vendor, r.schema = first.vendor, {"same_as": first.url} if first.schema else {}
    for rej in parsed.rejects:
        by_url.get(rej.source, first).rows_rejected += 1
    result.rejects.extend(restore(parsed.rejects) if restore else parsed.rejects)
    for start, rows in chunk_bounds(records.num_rows, config.reading.chunk_rows):
        part = records.slice(start, rows)
        norm = normalize_records(part, mapping, drop, con)
        entries, filled = fill_costs(norm.entries, prices)
        result.costs_filled += filled
        if len(unit) == 1:
            first.rows_kept += entries.num_rows
        else:
            for url, n in kept_by_source(entries).items():
                by_url[url].rows_kept += n
        for rej in norm.rejects:
            by_url.get(rej.source, first).rows_rejected += 1
        result.rejects.extend(restore(norm.rejects) if restore else norm.rejects)
        if progress:
            progress(part.num_rows)
        yield entries
    for report in reports:
        report.rows_read = report.rows_kept + report.rows_rejected
        result.sources.append(report)
        result.rows_read += report.rows_read
        result.rows_kept += report.rows_kept
        result.rows_rejected += report.rows_rejected
        result.bytes_read += report.bytes_read


def ingest(source: str | list[SourceObject], **kwargs) -> tuple[pa.Table, IngestResult]:
    """Read everything into one table (for small sources, tests and the CLI summary); applies configured sampling."""
    result = kwargs.pop("result", None) or IngestResult()
    config: StrataConfig = kwargs.get("config") or StrataConfig()
    from ..entry_schema import CANONICAL_SCHEMA

    chunks = list(iter_entries(source, result=result, **kwargs))
    table = pa.concat_tables(chunks) if chunks else CANONICAL_SCHEMA.empty_table()
    return maybe_sample(table, config, result), result


def maybe_sample(table: pa.Table, config: StrataConfig, result: IngestResult) -> pa.Table:
    s = config.sampling
    if not s.max_rows or table.num_rows <= s.max_rows:
        return table
    from .sampling import sample_entries

    sampled, info = sample_entries(table, s.max_rows, s.method, s.seed, half_life_hours=s.half_life_hours)
    result.sample = info.to_dict()
    return sampled
