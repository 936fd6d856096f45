"""Joins the lines one LLM-server request writes into one record: vLLM's `Received request <id>: prompt: '...',
params: SamplingParams(...), prompt_token_ids: [...]` (recent vLLM: params only, the prompt on a DEBUG `Request <id>
details: prompt: '...', prompt_token_ids: [...]` line), then `Finished request <id>`, `Request finished: req <id> ...
prompt_tokens=.. generated_tokens=.. elapsed_s=..`, `Aborted request <id>` or (`--enable-log-outputs`) `Generated
response <id>: output: '...', output_token_ids: [...], finish_reason: ..` (streaming deltas joined when the complete
line is missing).

One record per request id (an engine id `<api id>-<8 hex>` joins its API id), at the object and line of its first
line: prompt text, token counts (the finish line's, else the logged prompt token ids counted), latency (`elapsed_s`,
else the time between the first and the last line), finish reason, timestamps. One joiner serves a whole drop: the
objects are fed in reading order (`begin` each), requests still open at the end of an object wait for the next ones,
and a record closed in a later object is handed over in `carried` (its object's own table is already out). Memory is
bounded: past `max_open` requests without a finish line the oldest is emitted and marked `joined.incomplete`;
requests still open at the end of the drop (the last object) are emitted and marked `joined.open`. A second finish
line joins a finished request within one object. A finish line whose request has shown no opening line yet waits for
the drop's later objects (their names may not say which is older: `10.log` lists before `9.log`); an opening line
there joins it, at the opening line's object and line, and what still waits when the drop ends is emitted as read.
"""
from __future__ import annotations

import ast
import re
from collections import OrderedDict
from datetime import datetime

KINDS = ("vllm_received", "vllm_details", "vllm_request", "vllm_finished", "vllm_aborted", "vllm_output")  # joined
TERMINAL = ("vllm_request", "vllm_finished", "vllm_aborted", "vllm_output")
OPENING = ("vllm_received", "vllm_details")
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
    """Feed one object's lines in order with `add`; `end_object` returns that object's (line, record) pairs in line
    order. Without `begin` it is a joiner for one object (`finish`)."""

    def __init__(self, max_open: int | None = None):
        self.max_open = max(1, MAX_OPEN if max_open is None else max_open)
        self._open: OrderedDict[str, tuple[str, int, dict]] = OrderedDict()
        self._recent: OrderedDict[str, dict] = OrderedDict()
        self._early: OrderedDict[str, tuple[str, int, dict]] = OrderedDict()  # finished, no opening line seen yet
        self._out: list[tuple[int, dict]] = []
        self.carried: list[tuple[str, int, dict]] = []  # (object, line, record) of earlier objects, closed since
        self.source, self.last = "", True

    def begin(self, source: str, last: bool = True) -> None:
        """The object read next; `last` when no object follows it in the drop."""
        self.source, self.last = source, last
        self._recent.clear()  # records of earlier objects are out already: a late line for one is a record of its own

    def add(self, line: int, kind: str, f: dict) -> None:
        rid = f.get("request_id") or f"#{self.source}:{line}"
        known = lambda r: r in self._open or r in self._recent or r in self._early  # noqa: E731
        if not known(rid):  # recent vLLM: the engine's id is the API's + "-<8 hex>"
            base = _SUFFIX.sub("", rid)
            rid = base if known(base) else rid
        if rid in self._early:
            self._join_early(rid, line, kind, f)
            return
        rec = self._recent.get(rid)
        if rec is None:
            if rid not in self._open:
                rec = {"request_id": f.get("request_id"), "log_format": "vllm", "joined": {"lines": 0}}
                self._open[rid] = (self.source, line, rec)
            rec = self._open[rid][2]
        _merge(rec, kind, f)
        if kind in TERMINAL and rid in self._open and not f.get("delta"):
            source, first, rec = self._open.pop(rid)
            if "prompt" in rec or self.last or rid.startswith("#"):
                self._close(source, first, rid, rec)
            else:  # its opening line may be in an object read later
                self._early[rid] = (source, first, rec)
                if len(self._early) > self.max_open:  # the budget: the oldest is emitted as read
                    _, (src, at, old) = self._early.popitem(last=False)
                    self._close(src, at, None, old)
        while len(self._open) > self.max_open:
            rid, (source, first, rec) = self._open.popitem(last=False)
            rec["joined"]["incomplete"] = True  # the open-request budget was reached before its finish line
            self._close(source, first, None, rec)

    def _join_early(self, rid: str, line: int, kind: str, f: dict) -> None:
        """A line of a request that finished in an object read earlier: an opening line joins it and closes it where
        the request began (this object and line); any other line (a second finish line) is merged and it waits on."""
        source, first, rec = self._early[rid]
        if kind not in OPENING:
            _merge(rec, kind, f)
            return
        del self._early[rid]
        for k in ("ts", "log_time"):  # those were the finish line's (kept as end_ts / end_log_time): the request's
            rec.pop(k, None)          # time is its opening line's
        _merge(rec, kind, f)
        self._close(self.source, line, rid, rec)

    def _flush_early(self) -> None:
        for source, first, rec in self._early.values():
            self._close(source, first, None, rec)
        self._early.clear()

    def _close(self, source: str, line: int, rid: str | None, rec: dict) -> None:
        if source == self.source:
            self._out.append((line, rec))
        else:
            self.carried.append((source, line, rec))
        if rid is not None:
            self._recent[rid] = rec
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)

    def end_object(self) -> list[tuple[int, dict]]:
        """The current object's records (its own requests closed, and all of them open if it is the last object);
        its requests still open otherwise wait for the next objects."""
        if self.last:
            self._flush_early()
            for rid, (source, first, rec) in list(self._open.items()):
                rec["joined"]["open"] = True  # no finish line before the log ended
                self._close(source, first, None, rec)
            self._open.clear()
        out = sorted(self._out, key=lambda t: t[0])
        self._out = []
        for _, rec in out:
            _finalize(rec)
        return out

    def finish(self) -> list[tuple[int, dict]]:
        """One object's joiner: every record, open ones marked."""
        self.last = True
        return self.end_object()

    def take_carried(self, final: bool = False) -> list[tuple[str, int, dict]]:
        """Records of earlier objects closed since the last call (all still open too, marked, when `final`)."""
        if final:
            self._flush_early()
            for source, first, rec in self._open.values():
                rec["joined"]["open"] = True
                self.carried.append((source, first, rec))
            self._open.clear()
        out, self.carried = self.carried, []
        for _, _, rec in out:
            _finalize(rec)
        return out


def _merge(rec: dict, kind: str, f: dict) -> None:
    rec["joined"]["lines"] += 1
    for k in ("ts", "log_time", "model"):  # the first line's time is the request's
        if f.get(k) and k not in rec:
            rec[k] = f[k]
    if kind in OPENING:  # recent vLLM: the prompt on a DEBUG `Request <id> details` line, params on `Received`
        prompt = prompt_text(f.get("prompt"))
        if prompt is not None or "prompt" not in rec:
            rec["prompt"] = prompt
        if rec.get("logged_prompt_token_ids") is None:
            rec["logged_prompt_token_ids"] = token_count(f.get("prompt_token_ids"))
        if f.get("params"):
            rec["sampling"] = _params(f.get("params"))
        return
    if kind == "vllm_output":  # `Generated response <id>[ (streaming delta|complete)]: output: '...'`
        text = prompt_text(f.get("output"))
        if f.get("delta"):
            rec["output_deltas"] = (rec.get("output_deltas") or "") + (text or "")
        else:
            rec["output"] = text
            rec["logged_output_token_ids"] = token_count(f.get("output_token_ids"))
        if f.get("finish_reason") in ("streaming_complete", "None"):  # no finish reason of the model's
            f = {**f, "finish_reason": None}
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
    if rec.get("completion_tokens") is None and rec.get("logged_output_token_ids") is not None:
        rec["completion_tokens"] = rec["logged_output_token_ids"]
    if rec.get("output") is None and rec.get("output_deltas"):
        rec["output"] = rec["output_deltas"]  # a stream whose complete line is missing: its deltas joined
    for k in ("logged_prompt_token_ids", "logged_output_token_ids", "output_deltas"):
        rec.pop(k, None)
    start, end = _clock(rec, ""), _clock(rec, "end_")
    if rec.get("latency_ms") is None and start and end and end >= start and rec["joined"]["lines"] > 1:
        rec["latency_ms"] = (end - start).total_seconds() * 1000.0
    for k in [k for k, v in rec.items() if v is None or v == {}]:
        del rec[k]
