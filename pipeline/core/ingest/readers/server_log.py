"""Plain-text server logs: colour codes and common line prefixes stripped, then request lines of LLM servers read,
vectorized.

Prefixes removed (repeatedly, in any order): `docker compose logs` (`name-1  | `), `kubectl logs --prefix`
(`[pod/x/c] `), journald/syslog (`Mon dd HH:MM:SS host unit[pid]: `, `journalctl -o short-iso`), an ISO timestamp with
an optional level (`kubectl --timestamps`, `docker -t`), vLLM's process tag (`(APIServer pid=1) `, Ray workers'), and
Python logging's `- name - LEVEL - `.

Lines read: uvicorn / gunicorn access lines (`INFO:  1.2.3.4:5 - "POST /v1/chat/completions HTTP/1.1" 200 OK`), vLLM
request lines (joined per request, `request_join.py`; across the drop's objects with the engine's joiner), TGI / TEI
request spans (`generate{... total_time="1.2s" ...}: ...: Success`, a request handler's ERROR line as a failed
request), Envoy default and Istio proxy access lines, Apache/nginx access lines (the access-log reader, also among
other lines), lines whose message is a JSON object about an LLM call. The model a server declared at start-up (vLLM
args, TGI `Args { model_id }`) is carried to its later request lines; an ISO timestamp prefix is a line's `ts`. Log
chatter (a log level, progress bars, tracebacks: `text_lines.chatter_lines`) is skipped and counted; a line no pattern
understands is rejected as `unrecognized line format`.
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
from .text_lines import ANSI, chatter_lines, reject_raw, split_lines

PREFIXES = (
    r"^[\w.-]+\s+\| ",  # docker compose logs
    r"^\[pod/[^\]]+\] ",  # kubectl logs --prefix
    r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [\w./@-]+(?:\[\d+\])?: ",  # syslog / journald
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) [\w.-]+ [\w./@-]+(?:\[\d+\])?: ",  # journalctl -o short-iso
    r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+(?:(?:stdout|stderr) [FP] )?",
    r"^\((?:\w+) pid=\d+(?:, ip=[\d.]+)?\) ",  # vLLM v1 process tags, Ray workers
)
# Python logging's `%(asctime)s - %(name)s - %(levelname)s - %(message)s`, once its time is gone: `LEVEL: message`
_PY_LOGGING = (r"^- [\w.]+ - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - ", r"\1: ")
_REPR = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|None"  # a Python repr of a string, as vLLM logs text
_VLLM_TIME = r"(?:(?:INFO|WARNING|ERROR|DEBUG) (?P<log_time>\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? \[?[^\]\s]+\] )?"
_TGI_SPANS = r"(?:compat_generate|generate|generate_stream|chat_completions|completions|vertex_compatibility|embed\w*|openai_embed|rerank|predict)"
PATTERNS = {
    # `uvicorn.access` logger name and a pid (kserve's access format) may stand around the level and address
    "uvicorn_access": r'^(?:[\w.]+ )?(?P<level>INFO|WARNING|ERROR):\s+(?P<remote_addr>\S+)(?: \d+)? - "(?P<method>[A-Z]+) '
                      r'(?P<path>\S+) (?P<protocol>HTTP/[\d.]+)" (?P<status>\d{3})(?: (?P<status_text>[^\r\n]*))?\s*$',
    "vllm_request": _VLLM_TIME + r"Request finished: req (?P<request_id>\S+)(?: finish_reason=(?P<finish_reason>\S+))?"
                    r"(?: prompt_tokens=(?P<prompt_tokens>\d+))?(?: generated_tokens=(?P<completion_tokens>\d+))?"
                    r"(?: elapsed_s=(?P<elapsed_s>[\d.]+))?",
    "vllm_finished": _VLLM_TIME + r"Finished request (?P<request_id>[^\s.]+)",
    # old vLLM: `prompt: None, prefix_pos: None,sampling_params: SamplingParams(...)`: other fields before the params
    "vllm_received": _VLLM_TIME + r"Received request (?P<request_id>[^\s:]+):(?: prompt: (?P<prompt>'(?:[^'\\]|\\.)*'"
                     r"|\"(?:[^\"\\]|\\.)*\"|None),?)?(?:.*?\b(?:sampling_)?params: (?P<params>\w*SamplingParams\(.*?\)|None))?"
                     r"(?:.*?prompt_token_ids: (?P<prompt_token_ids>\[[^\]]*\]|None))?",
    "vllm_aborted": _VLLM_TIME + r"Aborted request (?P<request_id>[^\s.]+)",
    "vllm_details": _VLLM_TIME + r"Request (?P<request_id>\S+) details: prompt: (?P<prompt>" + _REPR + r"),"
                    r"(?: prompt_token_ids: (?P<prompt_token_ids>\[[^\]]*\]|None))?",
    "vllm_output": _VLLM_TIME + r"Generated response (?P<request_id>[^\s:]+)(?: \(streaming (?P<delta>delta)?\w*\))?: "
                   r"output: (?P<output>" + _REPR + r"),(?: output_token_ids: (?P<output_token_ids>\[[^\]]*\]|None),)?"
                   r" finish_reason: (?P<finish_reason>\w+)",
    # TGI / TEI request spans (`generate{...}`, `compat_generate{..}:generate_stream{..}`, `openai_embed{..}`)
    "tgi_generate": r"\b\w+\{.*total_time=\"(?P<total_time>[\d.]+)(?P<unit>ms|s|µs|us|ns)\".*?\}: [\w:]+: \S+:\d+: "
                    r"(?P<outcome>Success|Error)?",
    "tgi_error": r"^ERROR " + _TGI_SPANS + r"\{.*\}: [\w:]+: \S+\.rs:\d+: (?P<error>.+)$",
    "envoy_access": r'^\[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) (?P<protocol>\S+)" (?P<status>\d{3}) '
                    r'\S+ (?P<bytes_received>\d+) (?P<bytes_sent>\d+) (?P<duration_ms>\d+) \S+ "[^"]*" '
                    r'"(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)"',
    # Istio's proxy format: response flags, code details, termination details and the transport failure first
    "istio_access": r'^\[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) (?P<protocol>\S+)" (?P<status>\d{3}) '
                    r'(?P<flags>\S+) (?P<code_details>\S+) \S+ "[^"]*" (?P<bytes_received>\d+) '
                    r'(?P<bytes_sent>\d+) (?P<duration_ms>\d+) \S+ "[^"]*" "(?P<user_agent>[^"]*)" '
                    r'"(?P<request_id>[^"]*)" "(?P<authority>[^"]*)"',
}
_LINE_TS = (r"^(?:[\w.-]+\s+\| |\[pod/[^\]]+\] )?(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?"
            r"(?:Z|[+-]\d\d:?\d\d)?)")  # a timestamp prefix (kubectl / docker -t / journald), the line's ts
# The model a server was started with, carried to its request lines that follow: vLLM's `args: Namespace(...)`,
# `non-default args: {...}` or engine config, TGI's `Args { model_id: "..." }` (a served name first)
_DECL = r"(?:args: Namespace\(|non-default args: \{|with config: |Args \{ )"
_MODEL_DECL = _DECL + r".*?\bmodel(?:_id|_tag)?'?[=:] ?['\"](?P<model>[^'\"]+)['\"]"
_SERVED = _DECL + r".*?\bserved_model_name'?[=:] ?(?:Some\()?\[?['\"](?P<served>[^'\"]+)['\"]"
_MODEL_KINDS = JOINED + ("tgi_generate", "tgi_error")
_PROBES = r"^/(?:health|healthz|ready|readyz|live|livez|metrics|ping|version)(?:[/?]|$)"
_INTS = ("status", "prompt_tokens", "completion_tokens", "bytes_received", "bytes_sent")
_FLOATS = ("elapsed_s", "duration_ms", "total_time")
_UNITS = {"s": 1000.0, "ms": 1.0, "µs": 0.001, "us": 0.001, "ns": 0.000001}


def strip_prefixes(lines: pa.Array) -> pa.Array:
    out = _plain(pc.utf8_rtrim(lines, characters="\r\n"))
    for _ in range(2):  # prefixes stack (compose + timestamp + process tag)
        for pat in PREFIXES:
            out = pc.replace_substring_regex(out, pat, "")
    return pc.replace_substring_regex(out, *_PY_LOGGING)


def _server_models(text: pa.Array) -> pa.Array | None:
    """For every line, the model its server declared at start-up on an earlier line (null before any)."""
    decl = pc.extract_regex(text, _MODEL_DECL).flatten()[0]
    if decl.null_count == len(decl):
        return None
    served = pc.extract_regex(text, _SERVED).flatten()[0]
    decl = pc.coalesce(pc.if_else(pc.equal(served, ""), None, served), decl)
    at = np.where(pc.is_valid(decl).to_numpy(zero_copy_only=False), np.arange(len(decl)), -1)
    at = np.maximum.accumulate(at)
    return pc.if_else(pa.array(at >= 0), decl.take(pa.array(np.maximum(at, 0))), pa.scalar(None, pa.string()))


def _plain(lines: pa.Array) -> pa.Array:
    """Lines without their colour codes (their timestamp prefix is read from these)."""
    if pc.any(pc.match_substring(lines, "\x1b")).as_py():
        return pc.replace_substring_regex(lines, ANSI, "")
    return lines


def _typed(struct: pa.StructArray, kind: str) -> pa.Table:
    cols = {"log_format": pa.repeat(pa.scalar(kind), len(struct))}
    for name, arr in zip(struct.type.names, struct.flatten()):
        arr = pc.if_else(pc.is_in(arr, pa.array(["", "-"])), pa.scalar(None, arr.type), arr)  # `-`: no value (Envoy)
        if name in _INTS:
            arr = pc.cast(arr, pa.int64())
        elif name in _FLOATS:
            arr = pc.cast(arr, pa.float64())
        cols[name] = arr
    if "elapsed_s" in cols:
        cols["latency_ms"] = pc.round(pc.multiply(cols.pop("elapsed_s"), 1000.0), 6)
    if "total_time" in cols:
        scale = pa.repeat(pa.scalar(None, pa.float64()), len(struct))
        for unit, factor in _UNITS.items():
            scale = pc.if_else(pc.equal(cols["unit"], unit), factor, scale)
        cols.pop("unit")
        cols["latency_ms"] = pc.round(pc.multiply(cols.pop("total_time"), scale), 6)
    if "outcome" in cols:  # TGI's `Success` message: the request succeeded
        cols["status"] = pc.if_else(pc.equal(cols.pop("outcome"), "Success"), "ok", pa.scalar(None, pa.string()))
    if kind == "tgi_error":
        cols["status"] = pa.repeat(pa.scalar("error"), len(struct))
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


def _access_lines(text: pa.Array, numbers: np.ndarray, access: np.ndarray, source: str) -> ParsedRecords:
    """Apache/nginx lines among the others (behind prefixes, beside a vLLM server's lines): the access-log reader's
    records and rejects, at their lines in the object."""
    at = np.asarray(numbers)[access]
    body = "\n".join(text.filter(pa.array(access)).to_pylist()).encode("utf-8", "surrogateescape")
    parsed = read_access_log(body, source)
    parsed.records = records_table(source, at[parsed.records.column("line").to_numpy() - 1],
                                   parsed.records.column("raw").combine_chunks())
    for r in parsed.rejects:
        r.line = int(at[r.line - 1])
    return parsed


def read_server_log(data: bytes, source: str, joiner: RequestJoiner | None = None) -> ParsedRecords:
    """`joiner`: the drop's request joiner (its `begin` called for this object), so requests join across objects."""
    lines, numbers, rejects = split_lines(data, source)
    text = strip_prefixes(lines)
    blank = pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)
    access = pc.match_substring_regex(text, ACCESS_LINE.pattern).to_numpy(zero_copy_only=False) & ~blank
    taken = blank | access
    probes = np.zeros(len(text), bool)
    parts: list[tuple[np.ndarray, pa.Array]] = []
    if access.any():
        parsed = _access_lines(text, numbers, access, source)
        rejects += parsed.rejects
        parts.append((parsed.records.column("line").to_numpy(), parsed.records.column("raw").combine_chunks()))
    ts_all = pc.extract_regex(_plain(lines), _LINE_TS).flatten()[0]  # null where no prefix
    models = _server_models(text)
    joined: list[tuple[int, str, dict]] = []  # lines of one request (vLLM) are joined into one record
    for kind, pat in PATTERNS.items():
        if taken.all():
            break
        m = pc.extract_regex(text, pat)
        hit = pc.is_valid(m).to_numpy(zero_copy_only=False) & ~taken
        if "path" in m.type.names:  # health / metrics probes are no requests anyone needs as entries
            probe = pc.fill_null(pc.match_substring_regex(m.field("path"), _PROBES), False).to_numpy(
                zero_copy_only=False) & hit
            probes |= probe
            hit &= ~probe
        if hit.any():
            taken |= hit
            mask = pa.array(hit)
            rows = _typed(m.filter(mask), kind)
            ts = pc.replace_substring(ts_all.filter(mask), ",", ".")
            if models is not None and kind in _MODEL_KINDS:
                rows = rows.append_column("model", models.filter(mask))
            if kind in JOINED:
                joined += [(n, kind, {**r, "ts": t}) for n, r, t in zip(np.asarray(numbers)[hit].tolist(),
                                                                         rows.to_pylist(), ts.to_pylist())]
            else:
                if "time" not in rows.column_names and ts.null_count < len(ts):  # the line's prefix gives its time
                    rows = rows.append_column("ts", ts)
                parts.append((np.asarray(numbers)[hit], json_objects(rows)))
    if joined or joiner is not None:
        parts.append(_joined(joined, joiner))
    for n, rec in _json_payloads(text, lines, numbers, taken):
        parts.append((np.array([n], np.int64), pa.array([json.dumps(rec, ensure_ascii=False)], pa.large_string())))
    taken |= probes
    chatter = chatter_lines(text) & ~taken
    for i in np.flatnonzero(~taken & ~chatter).tolist():
        rejects.append(Reject(source, int(numbers[i]), "unrecognized line format", reject_raw(lines[i].as_py())))
    if parts:
        order = np.argsort(np.concatenate([p[0] for p in parts]), kind="stable")
        line_no = np.concatenate([p[0] for p in parts])[order]
        raw = pa.concat_arrays([p[1] for p in parts]).take(pa.array(order))
    else:
        line_no, raw = np.zeros(0, np.int64), pa.array([], pa.large_string())
    rejects.sort(key=lambda r: r.line)
    fmt = "access_log" if access.sum() >= 0.5 * max(1, (~blank).sum()) else "server_log"
    parsed = ParsedRecords(records_table(source, line_no, raw), rejects, fmt, len(data))
    parsed.skipped = int(chatter.sum() + probes.sum())  # recognized log lines that carry no request (metrics, startup): not rejects
    return parsed
