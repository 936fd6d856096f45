"""Plain-text server logs: common line prefixes stripped, then request lines of LLM servers read, vectorized.

Prefixes removed (repeatedly, in any order): `docker compose logs` (`name-1  | `), `kubectl logs --prefix`
(`[pod/x/c] `), journald/syslog (`Mon dd HH:MM:SS host unit[pid]: `), an ISO timestamp with an optional level
(`kubectl --timestamps`, `docker -t`), and vLLM's process tag (`(APIServer pid=1) `).

Lines read: uvicorn / gunicorn access lines (`INFO:  1.2.3.4:5 - "POST /v1/chat/completions HTTP/1.1" 200 OK`), vLLM
`Request finished: req <id> ... prompt_tokens=.. generated_tokens=.. elapsed_s=..` and `Finished request <id>`, TGI
`generate{... total_time="1.2s" ...}` lines, Envoy default access lines, lines whose message is a JSON object about
an LLM call (`INFO app.llm: {"model": ...}`, with the line's level, logger and timestamp); vLLM's lines of one request
are joined (`request_join.py`; across the drop's objects with the engine's joiner); when most stripped lines are
Apache/nginx access lines the access-log reader reads them (extra trailing fields kept). Other lines carrying a log
level (metrics, startup chatter) are skipped and counted; a line no pattern understands is rejected as
`unrecognized line format`.
"""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..records import ParsedRecords, Reject
from .access_log import LINE_RE as ACCESS_LINE
from .access_log import read_access_log
from .arrow_json import json_objects, records_table
from .request_join import KINDS as JOINED, RequestJoiner
from ..role_names import key_rules
from .text_lines import reject_raw, split_lines

PREFIXES = (
    r"^[\w.-]+\s+\| ",  # docker compose logs
    r"^\[pod/[^\]]+\] ",  # kubectl logs --prefix
    r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [\w./@-]+(?:\[\d+\])?: ",  # syslog / journald
    r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+(?:(?:stdout|stderr) [FP] )?",
    r"^\((?:\w+) pid=\d+\) ",  # vLLM v1 process tags
)
_LEVEL = r"^(?:\[?(?:INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL|TRACE|FATAL|I|W|E)\]?[: ])"
_REPR = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|None"  # a Python repr of a string, as vLLM logs text
_VLLM_TIME = r"(?:(?:INFO|WARNING|ERROR|DEBUG) (?P<log_time>\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? \[?[^\]\s]+\] )?"
PATTERNS = {
    "uvicorn_access": r'^(?P<level>INFO|WARNING|ERROR):\s+(?P<remote_addr>\S+) - "(?P<method>[A-Z]+) (?P<path>\S+) '
                      r'(?P<protocol>HTTP/[\d.]+)" (?P<status>\d{3})(?: (?P<status_text>[^\r\n]*))?\s*$',
    "vllm_request": _VLLM_TIME + r"Request finished: req (?P<request_id>\S+)(?: finish_reason=(?P<finish_reason>\S+))?"
                    r"(?: prompt_tokens=(?P<prompt_tokens>\d+))?(?: generated_tokens=(?P<completion_tokens>\d+))?"
                    r"(?: elapsed_s=(?P<elapsed_s>[\d.]+))?",
    "vllm_finished": _VLLM_TIME + r"Finished request (?P<request_id>[^\s.]+)",
    "vllm_received": _VLLM_TIME + r"Received request (?P<request_id>[^\s:]+):(?: prompt: (?P<prompt>'(?:[^'\\]|\\.)*'"
                     r"|\"(?:[^\"\\]|\\.)*\"|None),?)?(?: (?:sampling_)?params: (?P<params>\w*SamplingParams\(.*?\)|None))?"
                     r"(?:.*?prompt_token_ids: (?P<prompt_token_ids>\[[^\]]*\]|None))?",
    "vllm_aborted": _VLLM_TIME + r"Aborted request (?P<request_id>[^\s.]+)",
    "vllm_details": _VLLM_TIME + r"Request (?P<request_id>\S+) details: prompt: (?P<prompt>" + _REPR + r"),"
                    r"(?: prompt_token_ids: (?P<prompt_token_ids>\[[^\]]*\]|None))?",
    "vllm_output": _VLLM_TIME + r"Generated response (?P<request_id>[^\s:]+)(?: \(streaming (?P<delta>delta)?\w*\))?: "
                   r"output: (?P<output>" + _REPR + r"),(?: output_token_ids: (?P<output_token_ids>\[[^\]]*\]|None),)?"
                   r" finish_reason: (?P<finish_reason>\w+)",
    "tgi_generate": r"(?:generate|generate_stream|chat_completions|completions)\{.*total_time=\"(?P<total_time>[\d.]+)"
                    r"(?P<unit>ms|s|µs)\".*?(?:\}: .*(?P<outcome>Success|Error)?)?",
    "envoy_access": r'^\[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) (?P<protocol>\S+)" (?P<status>\d{3}) '
                    r'\S+ (?P<bytes_received>\d+) (?P<bytes_sent>\d+) (?P<duration_ms>\d+) \S+ "[^"]*" '
                    r'"(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)"',
}
_LINE_TS = (r"^(?:[\w.-]+\s+\| |\[pod/[^\]]+\] )?(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?"
            r"(?:Z|[+-]\d\d:?\d\d)?)")  # a timestamp prefix (kubectl / docker -t), kept for joined request lines
_PROBES = r"^/(?:health|healthz|ready|readyz|live|livez|metrics|ping|version)(?:[/?]|$)"
_INTS = ("status", "prompt_tokens", "completion_tokens", "bytes_received", "bytes_sent")
_FLOATS = ("elapsed_s", "duration_ms", "total_time")


def strip_prefixes(lines: pa.Array) -> pa.Array:
    out = pc.utf8_rtrim(lines, characters="\r\n")
    for _ in range(2):  # prefixes stack (compose + timestamp + process tag)
        for pat in PREFIXES:
            out = pc.replace_substring_regex(out, pat, "")
    return out


def _typed(struct: pa.StructArray, kind: str) -> pa.Table:
    cols = {"log_format": pa.repeat(pa.scalar(kind), len(struct))}
    for name, arr in zip(struct.type.names, struct.flatten()):
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
        if name in _INTS:
            arr = pc.cast(arr, pa.int64())
        elif name in _FLOATS:
            arr = pc.cast(arr, pa.float64())
        cols[name] = arr
    if "elapsed_s" in cols:
        cols["latency_ms"] = pc.round(pc.multiply(cols.pop("elapsed_s"), 1000.0), 6)
    if "total_time" in cols:
        unit = cols.pop("unit")
        scale = pc.if_else(pc.equal(unit, "s"), 1000.0, pc.if_else(pc.equal(unit, "ms"), 1.0, 0.001))
        cols["latency_ms"] = pc.round(pc.multiply(cols.pop("total_time"), scale), 6)
    return pa.table(cols)


_JSON_LINE = (r"^(?:\[?(?P<level>INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL|TRACE|FATAL)\]?:?\s+)?"
              r"(?:(?P<logger>[\w.\-]+(?:\[\d+\])?):\s+)?(?P<payload>\{.*\})\s*$")
_LLM_KEYS = ("model", "input", "output", "prompt_tokens", "completion_tokens")


def _json_payloads(text: pa.Array, lines: pa.Array, numbers, taken: np.ndarray) -> list[tuple[int, dict]]:
    """Lines whose message is a JSON object about an LLM call (`INFO app.llm: {"model": ...}`): the object, with the
    line's level, logger and timestamp prefix. Taken lines are marked; other JSON payloads stay skipped level lines."""
    m = pc.extract_regex(text, _JSON_LINE)
    cand = pc.is_valid(m).to_numpy(zero_copy_only=False) & ~taken
    out = []
    for i in np.flatnonzero(cand).tolist():
        row = m[i].as_py()
        try:
            rec = json.loads(row["payload"])
        except ValueError:
            continue
        if not isinstance(rec, dict) or not any(key_rules(k).keys() & set(_LLM_KEYS) for k in list(rec)[:200]):
            continue
        ts = pc.extract_regex(lines[i : i + 1], _LINE_TS)[0].as_py()
        extra = {"log_level": row["level"] or None, "logger": row["logger"] or None, "log_ts": ((ts or {}).get("ts") or "").replace(",", ".")}
        out.append((int(numbers[i]), {**rec, **{k: v for k, v in extra.items() if v and k not in rec}}))
        taken[i] = True
    return out


def _joined(lines: list[tuple[int, str, dict]], joiner: RequestJoiner | None) -> tuple[np.ndarray, pa.Array]:
    joiner = joiner or RequestJoiner()
    for n, kind, fields in sorted(lines, key=lambda t: t[0]):
        joiner.add(n, kind, fields)
    done = joiner.end_object()
    raw = pa.array([json.dumps(r, ensure_ascii=False) for _, r in done], pa.large_string())
    return np.array([n for n, _ in done], np.int64), raw


def read_server_log(data: bytes, source: str, joiner: RequestJoiner | None = None) -> ParsedRecords:
    """`joiner`: the drop's request joiner (its `begin` called for this object), so requests join across objects."""
    lines, numbers, rejects = split_lines(data, source)
    text = strip_prefixes(lines)
    blank = pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)
    access = pc.match_substring_regex(text, ACCESS_LINE.pattern).to_numpy(zero_copy_only=False)
    if len(text) and access.sum() >= 0.5 * max(1, (~blank).sum()):
        body = "\n".join(text.to_pylist()).encode("utf-8", "surrogateescape")
        parsed = read_access_log(body, source)
        kept = np.asarray(numbers)[parsed.records.column("line").to_numpy() - 1]
        parsed.records = records_table(source, kept, parsed.records.column("raw").combine_chunks())
        for r in parsed.rejects:
            r.line = int(numbers[r.line - 1])
        parsed.rejects = rejects + parsed.rejects
        return parsed
    taken = blank.copy()
    probes = np.zeros(len(text), bool)
    parts: list[tuple[np.ndarray, pa.Array]] = []
    joined: list[tuple[int, str, dict]] = []  # lines of one request (vLLM) are joined into one record
    for kind, pat in PATTERNS.items():
        m = pc.extract_regex(text, pat)
        hit = pc.is_valid(m).to_numpy(zero_copy_only=False) & ~taken
        if "path" in m.type.names:  # health / metrics probes are no requests anyone needs as entries
            probe = pc.fill_null(pc.match_substring_regex(m.field("path"), _PROBES), False).to_numpy(
                zero_copy_only=False) & hit
            probes |= probe
            hit &= ~probe
        if hit.any():
            taken |= hit
            rows = _typed(m.filter(pa.array(hit)), kind)
            if kind in JOINED:
                ts = pc.extract_regex(lines.filter(pa.array(hit)), _LINE_TS).field("ts").to_pylist()
                joined += [(n, kind, {**r, "ts": t}) for n, r, t in zip(np.asarray(numbers)[hit].tolist(),
                                                                         rows.to_pylist(), ts)]
            else:
                parts.append((np.asarray(numbers)[hit], json_objects(rows)))
    if joined or joiner is not None:
        parts.append(_joined(joined, joiner))
    for n, rec in _json_payloads(text, lines, numbers, taken):
        parts.append((np.array([n], np.int64), pa.array([json.dumps(rec, ensure_ascii=False)], pa.large_string())))
    taken |= probes
    level = pc.match_substring_regex(text, _LEVEL).to_numpy(zero_copy_only=False) & ~taken
    unknown = ~taken & ~level
    for i in np.flatnonzero(unknown).tolist():
        rejects.append(Reject(source, int(numbers[i]), "unrecognized line format", reject_raw(lines[i].as_py())))
    if parts:
        order = np.argsort(np.concatenate([p[0] for p in parts]), kind="stable")
        line_no = np.concatenate([p[0] for p in parts])[order]
        raw = pa.concat_arrays([p[1] for p in parts]).take(pa.array(order))
    else:
        line_no, raw = np.zeros(0, np.int64), pa.array([], pa.large_string())
    parsed = ParsedRecords(records_table(source, line_no, raw), rejects, "server_log", len(data))
    parsed.skipped = int(level.sum() + probes.sum())  # recognized log lines that carry no request (metrics, startup): not rejects
    return parsed
