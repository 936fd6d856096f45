"""Schema evolution: finds fields renamed, added or removed mid-stream from a strided probe, then pins exact lines in DuckDB."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from .mapping import json_path, sql_str
from .record_paths import UNADDRESSABLE
from .field_values import value_kind
from .schema_infer import field_role

_MISS_P = 1e-4  # a path counts as switched off when missing this long would be this unlikely at its density
_VALUES = 200  # values per path compared when pairing a rename
_MAX_REPORTED = 50  # added / removed paths located and reported, each (earliest switches first)


@dataclass
class FieldRename:
    old_path: str
    new_path: str
    role: str | None
    first_new_line: int
    last_old_line: int
    confidence: float


@dataclass
class SchemaEvolution:
    renames: list[FieldRename] = field(default_factory=list)
    added: list[tuple[str, int]] = field(default_factory=list)
    removed: list[tuple[str, int]] = field(default_factory=list)
    probe_rows: int = 0

    def to_dict(self) -> dict:
        return {"renames": [asdict(r) for r in self.renames], "added": [list(a) for a in self.added],
                "removed": [list(r) for r in self.removed], "probe_rows": self.probe_rows}

    def describe(self) -> list[str]:
        out = [f"field `{_show(r.old_path)}` renamed to `{_show(r.new_path)}` around entry {r.first_new_line} "
               f"(last old at line {r.last_old_line}, first new at line {r.first_new_line})"
               + (f", role {r.role}" if r.role else "") for r in self.renames]
        out += [f"field `{_show(p)}` appears from line {ln}" for p, ln in self.added]
        out += [f"field `{_show(p)}` last seen at line {ln}" for p, ln in self.removed]
        return out


def _show(path: str) -> str:
    return path[2:] if path.startswith("$.") else path


def _walk(node, prefix: tuple, depth: int):
    for k, v in node.items():
        yield prefix + (k,)
        if isinstance(v, dict) and len(prefix) + 1 < depth:
            yield from _walk(v, prefix + (k,), depth)


def _probe_paths(con: duckdb.DuckDBPyConnection, probe: str, depth: int = 3) -> tuple[int, list[tuple]]:
    """(valid probe rows, [(keys, count, first i, last i)]) for object paths down to `depth` levels (arrays are leaves).

    Rows are grouped by their JSON structure in DuckDB, so Python only walks the few distinct structures."""
    con.sql(f"CREATE OR REPLACE TEMP TABLE {probe}_v AS SELECT row_number() OVER (ORDER BY idx) - 1 AS i, raw FROM {probe} "
            f"WHERE json_valid(raw) AND left(ltrim(raw), 1) = '{{'")
    total = con.sql(f"SELECT count(*) FROM {probe}_v").fetchall()[0][0]
    stats: dict[tuple, list[int]] = {}
    groups = con.sql(f"SELECT json_structure(raw)::VARCHAR, count(*), min(i), max(i) FROM {probe}_v GROUP BY 1").fetchall()
    for struct, c, a, b in groups:
        node = json.loads(struct)
        for keys in _walk(node, (), depth) if isinstance(node, dict) else ():
            st = stats.get(keys)
            if st is None:
                stats[keys] = [c, a, b]
            else:
                st[0], st[1], st[2] = st[0] + c, min(st[1], a), max(st[2], b)
    return total, [(k, c, a, b) for k, (c, a, b) in stats.items()]


def _gap_significant(gap: int, density: float) -> bool:
    if gap < 2:
        return False
    return density >= 1.0 or density > 0 and gap * math.log1p(-density) < math.log(_MISS_P)


def _values(con, probe: str, path: str, near: int, newer: bool) -> list:
    order = "i" if newer else "i DESC"
    cond = f"i >= {near}" if newer else f"i <= {near}"
    rows = con.sql(f"SELECT json_extract(raw, {sql_str(path)}) FROM {probe}_v WHERE {cond} AND json_exists(raw, {sql_str(path)}) "
                   f"ORDER BY {order} LIMIT {_VALUES}").fetchall()
    return [json.loads(r[0]) for r in rows if r[0] is not None]


def detect_evolution(records: pa.Table, con: duckdb.DuckDBPyConnection | None = None, probe_rows: int = 20000) -> SchemaEvolution:
    """Paths whose presence switches on or off within the stream; off/on pairs at the same point with alike values are renames.

    Rows are taken in table order (one source, in line order, as readers produce them); lines are exact over the table."""
    from .normalize import connect

    n = records.num_rows
    if n == 0:
        return SchemaEvolution()
    con = con or connect()
    idx = np.unique(np.linspace(0, n - 1, min(n, probe_rows)).astype(np.int64))
    probe = pa.table({"raw": take_rows(records.column("raw"), idx), "idx": pa.array(idx)})
    name = f"_strata_probe_{id(probe)}"
    con.register(name, probe)
    try:
        total, paths = _probe_paths(con, name)
        found = _switches(total, paths)
        renames = _pair(con, name, found, total)
    finally:
        con.unregister(name)
        con.sql(f"DROP TABLE IF EXISTS {name}_v")
    pairs = {(r[0], r[1]) for r in renames}
    renames = [r for r in renames if not any((r[0][:j], r[1][:j]) in pairs for j in range(1, min(len(r[0]), len(r[1]))))]
    paired = {k for r in renames for k in r[:2]}

    def covered(k: tuple) -> bool:  # under a renamed object, or under an object that switched at the same point
        return any(k[:j] in paired or found.get(k[:j]) == found[k] for j in range(1, len(k)))

    added = sorted((k for k, (on, _) in found.items() if on is not None and k not in paired and not covered(k)),
                   key=lambda k: found[k][0])[:_MAX_REPORTED]
    removed = sorted((k for k, (_, off) in found.items() if off is not None and k not in paired and not covered(k)),
                     key=lambda k: found[k][1])[:_MAX_REPORTED]
    return _locate(con, records, renames, added, removed, total)


def _switches(total: int, paths: list[tuple]) -> dict[tuple, tuple[int | None, int | None]]:
    """keys -> (first probe index if it switches on, last probe index if it switches off)."""
    found = {}
    for keys, cnt, a, b in paths:
        if any(k in UNADDRESSABLE for k in keys):  # no JSON path names it ("*" is the wildcard): never located
            continue
        density = (cnt - 1) / (b - a + 1)  # shrunk so that a lone occurrence never counts as a switch
        on = a if _gap_significant(a, density) else None
        off = b if _gap_significant(total - 1 - b, density) else None
        if on is not None or off is not None:
            found[keys] = (on, off)
    return found


def _pair(con, probe: str, found: dict, total: int) -> list[tuple[tuple, tuple, str | None, float]]:
    """Greedy pairing of switched-off with switched-on paths at about the same probe index whose values look alike."""
    tol = max(2, int(0.01 * total))
    cands = []
    offs = [(k, v[1]) for k, v in found.items() if v[1] is not None]
    ons = [(k, v[0]) for k, v in found.items() if v[0] is not None]
    info: dict = {}

    def look(keys: tuple, near: int, newer: bool):
        if keys not in info:
            vals = _values(con, probe, json_path(*keys), near, newer)
            info[keys] = (value_kind(vals), field_role(keys, vals)[0])
        return info[keys]

    for ko, b in offs:
        for kn, a in ons:
            if ko == kn or abs(a - (b + 1)) > tol or ko[: len(kn)] == kn or kn[: len(ko)] == ko:
                continue
            (kind_o, role_o), (kind_n, role_n) = look(ko, b, False), look(kn, a, True)
            if kind_o != kind_n or (role_o and role_n and role_o != role_n):
                continue
            conf = 0.95 if role_o and role_o == role_n else (0.75 if role_o or role_n else 0.6)
            conf *= (1.0 - 0.2 * abs(a - (b + 1)) / (tol + 1)) * (1.0 if ko[:-1] == kn[:-1] or ko[-1] == kn[-1] else 0.9)
            cands.append((conf, -abs(a - b - 1), ko, kn, role_n or role_o))
    cands.sort(reverse=True)
    out, used = [], set()
    for conf, _, ko, kn, role in cands:
        if ko not in used and kn not in used:
            used |= {ko, kn}
            out.append((ko, kn, role, round(conf, 3)))
    return out


def _locate(con, records: pa.Table, renames: list, added: list, removed: list, total: int) -> SchemaEvolution:
    """Exact first/last lines over the whole table, one JSON parse per record for all paths at once."""
    paths = list(dict.fromkeys([json_path(*k) for r in renames for k in r[:2]] + [json_path(*k) for k in added + removed]))
    if not paths:
        return SchemaEvolution(probe_rows=total)
    slot = {p: i + 1 for i, p in enumerate(paths)}
    aggs = ", ".join(f"min(line) FILTER (WHERE v[{i}]), max(line) FILTER (WHERE v[{i}])" for i in slot.values())
    name = f"_strata_evo_{id(records)}"
    con.register(name, records.select(["line", "raw"]))
    try:
        # try(): a malformed record yields NULL instead of failing the scan (cheaper than json_valid, which parses again)
        row = con.sql(f"SELECT {aggs} FROM (SELECT line, try(json_exists(raw, [{', '.join(map(sql_str, paths))}])) AS v "
                      f"FROM {name})").fetchall()[0]
    finally:
        con.unregister(name)
    first = {p: row[2 * (i - 1)] for p, i in slot.items()}
    last = {p: row[2 * (i - 1) + 1] for p, i in slot.items()}
    out = SchemaEvolution(probe_rows=total)
    for ko, kn, role, conf in renames:
        po, pn = json_path(*ko), json_path(*kn)
        if first[pn] is not None and last[po] is not None:
            out.renames.append(FieldRename(po, pn, role, int(first[pn]), int(last[po]), conf))
    out.added = [(p, int(first[p])) for p in (json_path(*k) for k in added) if first[p] is not None]
    out.removed = [(p, int(last[p])) for p in (json_path(*k) for k in removed) if last[p] is not None]
    out.renames.sort(key=lambda r: r.first_new_line)
    out.added.sort(key=lambda t: t[1])
    out.removed.sort(key=lambda t: t[1])
    return out


def take_rows(col: pa.ChunkedArray, idx: np.ndarray) -> pa.Array:
    """col[idx] (idx sorted) taken chunk by chunk: `take` on a chunked column would concatenate every chunk first,
    and scalar access costs a Python object per row."""
    ends = np.cumsum([len(c) for c in col.chunks])
    parts, lo = [], 0
    for chunk, end in zip(col.chunks, ends):
        start = end - len(chunk)
        hi = int(np.searchsorted(idx, end))
        if hi > lo:
            parts.append(chunk.take(pa.array(idx[lo:hi] - start)))
        lo = hi
    return pa.concat_arrays(parts) if parts else pa.array([], col.type)
