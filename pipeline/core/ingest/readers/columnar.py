"""Reads Parquet (pyarrow) and Avro (fastavro) containers into JSON records; line = 1-based record number."""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json

import numpy as np
import pyarrow as pa

from ..records import ParsedRecords
from .arrow_json import json_objects, records_table

_UNSALVAGEABLE = "a binary container cannot be partially salvaged safely, so the whole object is refused"


def _corrupt(kind: str, source: str, exc: BaseException) -> ValueError:
    return ValueError(f"{source}: corrupt or truncated {kind} file ({type(exc).__name__}: {exc}); {_UNSALVAGEABLE}")


def _records(table: pa.Table, source: str) -> pa.Table:
    n = table.num_rows
    raw = json_objects(table) if n else pa.array([], pa.large_string())
    return records_table(source, np.arange(1, n + 1, dtype=np.int64), raw)


def read_parquet(data: bytes, source: str) -> ParsedRecords:
    """Every row group; nested structs become nested objects, timestamps ISO-8601, bytes base64."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _corrupt("Parquet", source, exc) from exc
    return ParsedRecords(_records(table, source), [], "parquet", len(data))


def _fastavro():
    try:
        import fastavro
    except ImportError:
        raise ImportError("reading Avro needs fastavro: install the extra with `pip install strata[avro]`") from None
    return fastavro


def _json_value(v):
    """Avro values json.dumps cannot write natively (logical types and bytes)."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            return v.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat() + "Z"
        return v.isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode("ascii")
    if isinstance(v, decimal.Decimal):
        return float(v)
    return str(v)  # UUIDs and anything else fastavro may hand back


def _finite(v):
    """NaN and infinities are not JSON: null, as for Parquet."""
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def _avro_json_python(records: list[dict]) -> pa.Array:
    """Record-by-record JSON, for the rare files Arrow cannot type column-wise (e.g. unions of int and string)."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_value, allow_nan=False).encode
    out = []
    for rec in records:
        try:
            out.append(dumps(rec))
        except ValueError:  # NaN or an infinity somewhere in the record
            out.append(dumps(_finite(rec)))
    return pa.array(out, pa.large_string())


def read_avro(data: bytes, source: str) -> ParsedRecords:
    """Every record of an Avro object container file; decoded by fastavro, rendered column-wise like Parquet."""
    fastavro = _fastavro()
    try:
        records = list(fastavro.reader(io.BytesIO(data)))
    except Exception as exc:  # fastavro raises many types (EOFError, ValueError, StopIteration, struct.error, ...)
        raise _corrupt("Avro", source, exc) from exc
    if records and not isinstance(records[0], dict):
        records = [{"value": r} for r in records]  # a file whose schema is not a record
    try:
        raw = json_objects(pa.Table.from_pylist(records)) if records else pa.array([], pa.large_string())
    except (pa.ArrowException, OverflowError, TypeError):
        raw = _avro_json_python(records)
    n = len(records)
    return ParsedRecords(records_table(source, np.arange(1, n + 1, dtype=np.int64), raw), [], "avro", len(data))
