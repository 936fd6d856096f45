"""Reads Apache/nginx common and combined access logs into JSON records with vectorized regex passes (pyarrow)."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..records import ParsedRecords, Reject
from .arrow_json import json_objects, records_table
from .text_lines import reject_raw, split_lines

_Q = r'(?:[^"\\]|\\.)*'  # inside a quoted field, with \" escapes (Apache); nginx writes \x22
_HEAD = r'^ *\S+ \S+ \S+ \[[^\]]+\] "' + _Q + r'" \d{3} (?:\d+|-)'  # leading blanks: a blanked BOM
# Whole lines are matched three times, each with at most four groups and one way on at every character, so RE2
# runs its one-pass matcher (one regex with all groups is ~10x slower); the optional fields are then peeled off the
# short tail: combined's "referer" "user_agent", nginx's "$http_x_forwarded_for", a request time (nginx: seconds
# with a dot; Apache %D: integer microseconds), and whatever follows, kept verbatim as `extra`.
_LINE_STEPS = (
    r"^ *(?P<remote_addr>\S+) \S+ (?P<remote_user>\S+) \[(?P<time>[^\]]+)\]",
    r'^ *\S+ \S+ \S+ \[[^\]]+\] "(?P<request>' + _Q + r')" (?P<status>\d{3}) (?P<bytes>\d+|-)',
    _HEAD + r"(?P<rest>(?: [^\r\n]*)?)[\r\n]*$",
)
_REST = r"(?P<rest>(?: .*)?)$"
_TAIL_STEPS = (
    rf'^ "(?P<referer>{_Q})" "(?P<user_agent>{_Q})"' + _REST,
    rf'^ "(?P<forwarded_for>{_Q})"' + _REST,
    r"^ (?P<request_time>\d+(?:\.\d+)?|-)" + _REST,
)
# nginx's `upstream_time` format and kin: `rt=$request_time uct="..." urt="..."` after the combined fields (seconds)
_KV_TIME = r'(?:^|\s)(?:rt|request_time)="?(?P<kv_request_time>\d+(?:\.\d+)?)"?(?:\s|$)'
# The whole-line shape, for sniffing and for explaining rejects.
LINE_RE = re.compile(_HEAD + r"(?: .*)?$")
_REQUEST = r"^(?P<method>[A-Z][A-Z0-9_-]*) (?P<path>\S+)(?: (?P<protocol>[A-Z]+/[0-9.]+))?$"
TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
_DROP_WHEN_EMPTY = ("request", "forwarded_for", "extra")


def _unescape(arr: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring(arr, "\\")).as_py():
        return arr
    return pc.replace_substring(pc.replace_substring(arr, '\\"', '"'), "\\\\", "\\")


def _groups(lines: pa.Array) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Regex groups for every line (null where absent) and which lines have all the required fields."""
    groups: dict[str, pa.Array] = {}
    ok = np.ones(len(lines), bool)
    for step in _LINE_STEPS:
        m = pc.extract_regex(lines, step)
        ok &= pc.is_valid(m).to_numpy(zero_copy_only=False)
        groups.update(zip(m.type.names, m.flatten()))  # flatten: a line that does not match gets nulls
    rest = groups.pop("rest")
    for step in _TAIL_STEPS:
        m = pc.extract_regex(rest, step)
        fields = dict(zip(m.type.names, m.flatten()))
        rest = pc.if_else(pc.is_valid(m), fields.pop("rest"), rest)
        groups.update(fields)
    groups["extra"] = pc.utf8_trim_whitespace(rest)
    groups["kv_request_time"] = pc.extract_regex(groups["extra"], _KV_TIME).flatten()[0]
    return groups, ok


def _parse_times(times: pa.Array) -> pa.Array:
    """strptime once per distinct value: busy logs repeat each second many times."""
    encoded = pc.dictionary_encode(times)
    parsed = pc.strptime(encoded.dictionary, format=TIME_FORMAT, unit="s", error_is_null=True)
    return pc.take(parsed, encoded.indices)


def _fields(g: dict[str, pa.Array], ts: pa.Array) -> pa.Table:
    """Typed columns from the groups of matching lines."""
    request = _unescape(g["request"])
    req = pc.extract_regex(request, _REQUEST)
    req_ok = pc.is_valid(req)
    null = pa.scalar(None, request.type)
    method, path, protocol = (pc.if_else(req_ok, req.field(i), null) for i in range(3))
    rt = pc.if_else(pc.equal(g["request_time"], "-"), null, g["request_time"])
    rt_num = pc.cast(rt, pa.float64())
    rt_ms = pc.if_else(pc.match_substring(rt, "."), pc.multiply(rt_num, 1000.0), pc.divide(rt_num, 1000.0))
    rt_ms = pc.coalesce(rt_ms, pc.multiply(pc.cast(g["kv_request_time"], pa.float64()), 1000.0))
    cols = {
        "remote_addr": g["remote_addr"],
        "remote_user": g["remote_user"],
        "time": ts,  # rendered as ISO-8601 UTC by json_objects
        "method": method,
        "path": path,
        "protocol": protocol,
        "request": pc.if_else(req_ok, null, request),  # only when it does not split into method, path, protocol
        "status": pc.cast(g["status"], pa.int64()),
        "bytes": pc.cast(pc.if_else(pc.equal(g["bytes"], "-"), null, g["bytes"]), pa.int64()),
        "referer": _unescape(g["referer"]),
        "user_agent": _unescape(g["user_agent"]),
        "request_time_ms": pc.round(rt_ms, 6),
        "forwarded_for": g["forwarded_for"],
        "extra": g["extra"],
    }
    for name in _DROP_WHEN_EMPTY:
        if pc.all(pc.or_kleene(pc.is_null(cols[name]), pc.is_in(cols[name], pa.array(["", "-"])))).as_py():
            del cols[name]
    return pa.table(cols)


def read_access_log(data: bytes, source: str) -> ParsedRecords:
    """One record per line; lines that match neither format (or carry an unreadable time) become rejects."""
    lines, numbers, rejects = split_lines(data, source)
    groups, ok = _groups(lines)
    ts = _parse_times(groups["time"])
    ok &= pc.is_valid(ts).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(~ok).tolist():
        bad = lines[i].as_py().strip()
        if not bad:
            continue  # blank lines are skipped, not rejected
        reason = "not an access log line (common/combined)"
        if LINE_RE.match(bad):
            reason = "access log line with an unreadable time (expected dd/Mon/yyyy:HH:MM:SS +zzzz)"
        rejects.append(Reject(source, int(numbers[i]), reason, reject_raw(bad)))
    rejects.sort(key=lambda r: r.line)
    if not ok.all():
        keep = pa.array(ok)
        groups, ts = {k: v.filter(keep) for k, v in groups.items()}, ts.filter(keep)
    # '' (absent) and '-' (Apache's "no value") become null while rendering, in DuckDB
    raw = json_objects(_fields(groups, ts), null_strings=("", "-")) if ok.any() else pa.array([], pa.large_string())
    return ParsedRecords(records_table(source, numbers[ok], raw), rejects, "access_log", len(data))
