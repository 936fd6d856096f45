"""Joins the lines one LLM-server request writes into one record: vLLM's `Received request <id>: prompt: '...',
params: SamplingParams(...), prompt_token_ids: [...]`, then `Finished request <id>`, `Request finished: req <id> ...
prompt_tokens=.. generated_tokens=.. elapsed_s=..` or `Aborted request <id>`.

One record per request id of an object (an engine id `<api id>-<8 hex>` joins its API id), at the line of its first
line: prompt text, token counts (the finish line's, else the logged prompt token ids counted), latency (`elapsed_s`,
else the time between the first and the last line), finish reason, timestamps. Memory is bounded: past `max_open`
requests without a finish line the oldest is emitted and marked `joined.incomplete`; requests still open when the
object ends are emitted and marked `joined.open`.
"""
from __future__ import annotations

import ast
import re
from collections import OrderedDict
from datetime import datetime

KINDS = ("vllm_received", "vllm_request", "vllm_finished", "vllm_aborted")  # reader patterns whose lines are joined
TERMINAL = ("vllm_request", "vllm_finished", "vllm_aborted")
MAX_OPEN = 100_000
RECENT = 10_000  # finished requests a late line (a second finish line) can still join
_SUFFIX = re.compile(r"-[0-9a-f]{8}$")
_PARAM = re.compile(r"\b(max_tokens|temperature|top_p|n|seed)=([-\w.]+)")


def prompt_text(literal: str | None) -> str | None:
    """The prompt of a Python repr literal as vLLM logs it ('...' or "..."); None for `None`."""
    if literal is None or literal == "None":
        return None
    try:
        v = ast.literal_eval(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        q = literal[:1]  # a literal cut short (a capped log line): the text after its opening quote
        return literal[1:-1] if len(literal) >= 2 and q in "'\"" and literal[-1] == q else literal.lstrip("'\"")
    return v if isinstance(v, str) else None


def token_count(ids: str | None) -> int | None:
    """Number of ids in a logged `[1, 2, 3]` list (None for `None` or a cut-off list)."""
    if not ids or not ids.startswith("[") or not ids.endswith("]") or "..." in ids:
        return None
    body = ids[1:-1].strip()
    return body.count(",") + 1 if body else 0


def _params(text: str | None) -> dict:
    out = {}
    for k, v in _PARAM.findall(text or ""):
        try:
            out[k] = int(v) if re.fullmatch(r"-?\d+", v) else float(v)
        except ValueError:
            continue
    return out


def _clock(rec: dict, key: str) -> datetime | None:
    """A line's time: its ISO timestamp, else vLLM's year-less `MM-DD HH:MM:SS` (differences only)."""
    iso, short = rec.get(f"{key}ts"), rec.get(f"{key}log_time")
    try:
        if iso:
            return datetime.fromisoformat(iso.replace("Z", "+00:00").replace(",", ".")).replace(tzinfo=None)
        return datetime.strptime(f"2000-{short}", "%Y-%m-%d %H:%M:%S") if short else None
    except ValueError:
        return None


class RequestJoiner:
    """Feed lines in order with `add`; `finish` returns (line number, record) pairs in line order."""

    def __init__(self, max_open: int = MAX_OPEN):
        self.max_open = max(1, max_open)
        self._open: OrderedDict[str, tuple[int, dict]] = OrderedDict()
        self._recent: OrderedDict[str, dict] = OrderedDict()
        self._out: list[tuple[int, dict]] = []

    def add(self, line: int, kind: str, f: dict) -> None:
        rid = f.get("request_id") or f"#{line}"
        if rid not in self._open and rid not in self._recent:  # recent vLLM: the engine's id is the API's + "-<8 hex>"
            base = _SUFFIX.sub("", rid)
            rid = base if base in self._open or base in self._recent else rid
        rec = self._recent.get(rid)
        if rec is None:
            if rid not in self._open:
                rec = {"request_id": f.get("request_id"), "log_format": "vllm", "joined": {"lines": 0}}
                self._open[rid] = (line, rec)
            rec = self._open[rid][1]
        _merge(rec, kind, f)
        if kind in TERMINAL and rid in self._open:
            first, rec = self._open.pop(rid)
            self._close(first, rid, rec)
        while len(self._open) > self.max_open:
            rid, (first, rec) = self._open.popitem(last=False)
            rec["joined"]["incomplete"] = True  # the open-request budget was reached before its finish line
            self._close(first, None, rec)

    def _close(self, line: int, rid: str | None, rec: dict) -> None:
        self._out.append((line, rec))
        if rid is not None:
            self._recent[rid] = rec
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)

    def finish(self) -> list[tuple[int, dict]]:
        for rid, (first, rec) in self._open.items():
            rec["joined"]["open"] = True  # no finish line before the log ended
            self._out.append((first, rec))
        self._open.clear()
        out = sorted(self._out, key=lambda t: t[0])
        self._out = []
        for _, rec in out:
            _finalize(rec)
        return out


def _merge(rec: dict, kind: str, f: dict) -> None:
    rec["joined"]["lines"] += 1
    for k in ("ts", "log_time"):  # the first line's time is the request's
        if f.get(k) and k not in rec:
            rec[k] = f[k]
    if kind == "vllm_received":
        rec["prompt"] = prompt_text(f.get("prompt"))
        rec.setdefault("logged_prompt_token_ids", token_count(f.get("prompt_token_ids")))
        rec["sampling"] = _params(f.get("params"))
        return
    rec["end_ts"], rec["end_log_time"] = f.get("ts") or rec.get("end_ts"), f.get("log_time") or rec.get("end_log_time")
    for k in ("prompt_tokens", "completion_tokens", "latency_ms", "finish_reason"):
        if f.get(k) is not None:
            rec[k] = f[k]
    if kind == "vllm_aborted":
        rec["status"], rec["finish_reason"] = "error", "abort"  # vLLM's own finish reason for an aborted request
    else:
        rec.setdefault("status", "ok")


def _finalize(rec: dict) -> None:
    if rec.get("prompt_tokens") is None and rec.get("logged_prompt_token_ids") is not None:
        rec["prompt_tokens"] = rec["logged_prompt_token_ids"]
    rec.pop("logged_prompt_token_ids", None)
    start, end = _clock(rec, ""), _clock(rec, "end_")
    if rec.get("latency_ms") is None and start and end and end >= start and rec["joined"]["lines"] > 1:
        rec["latency_ms"] = (end - start).total_seconds() * 1000.0
    for k in [k for k, v in rec.items() if v is None or v == {}]:
        del rec[k]
