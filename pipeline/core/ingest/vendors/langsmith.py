"""LangSmith runs -> one entry per trace: {"post": [...], "patch": [...]} batches merged by run id, or run objects.

A run exported with its tree (`Run.dict()`: nested `child_runs`) counts as all its runs, each child's parent being
the run holding it. LLM usage is read from `usage_metadata` (the outputs', or the AIMessage's in `generations`), else
from `llm_output.token_usage` / `llm_output.usage` (OpenAI and Anthropic spellings).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from .base import (VendorAdapter, as_dict, as_list, decode_json, dig, epoch_us, first, flat_mapping, ident, message_text,
                   to_float, to_int)
from .genai_content import tools_in_messages
from .spans import Span, empty_entry, pick_root, trace_entry

RUN_TYPES = ("llm", "chain", "tool", "retriever", "prompt", "embedding", "parser")
_KINDS = {"llm": "llm", "embedding": "embedding", "tool": "tool"}


def _run_id(run: dict) -> Any:
    # JS SDK patches carry no id; the run id is the last dotted_order segment, after its timestamp ("...Z<uuid>")
    dotted = run.get("dotted_order")
    tail = dotted.rsplit(".", 1)[-1].split("Z", 1)[-1] if isinstance(dotted, str) and "Z" in dotted else None
    return ident(first(run.get("id"), tail))


def merge_runs(posts: list, patches: list) -> list[dict]:
    """Create payloads updated by their PATCHes (non-null fields win), in first-seen order."""
    runs: dict[Any, dict] = {}
    for i, run in enumerate(posts + patches):
        if not isinstance(run, dict):
            continue
        rid = _run_id(run)
        key = rid if rid is not None else f"#{i}"
        runs[key] = {**runs.get(key, {}), **{k: v for k, v in run.items() if v is not None}}
    return list(runs.values())


def _unwrap_inputs(inputs: Any) -> Any:
    inputs = decode_json(inputs)
    if isinstance(inputs, dict):
        if "messages" in inputs:
            return inputs["messages"]
        if len(inputs) == 1:
            return next(iter(inputs.values()))
    return inputs


def _unwrap_outputs(outputs: Any) -> Any:
    outputs = message_text(outputs)
    if isinstance(outputs, dict) and len(outputs) == 1:
        return next(iter(outputs.values()))
    return outputs


def run_tree(run: dict, holder: dict | None = None) -> list[dict]:
    """A run and the runs nested in its `child_runs`, depth first; a child without parent or trace id gets its
    holder's."""
    if not isinstance(run, dict):
        return []
    if holder is not None:
        inherited = {"parent_run_id": _run_id(holder), "trace_id": _trace_key(holder)}
        run = {**run, **{k: v for k, v in inherited.items() if run.get(k) is None}}
    children = as_list(run.get("child_runs"))
    out = [{k: v for k, v in run.items() if k != "child_runs"} if children else run]
    for child in children:
        out.extend(run_tree(child, run))
    return out


def _usage(outputs: Any) -> dict:
    """input/output tokens wherever a LangChain LLM run's outputs keep them."""
    message = dig(outputs, "generations", 0, 0, "message")
    meta = first(as_dict(dig(outputs, "usage_metadata")) or None, as_dict(dig(message, "kwargs", "usage_metadata")) or None,
                 as_dict(dig(message, "usage_metadata")) or None)
    if meta:
        return {"in": meta.get("input_tokens"), "out": meta.get("output_tokens")}
    usage = first(as_dict(dig(outputs, "usage")) or None, as_dict(dig(outputs, "llm_output", "token_usage")) or None,
                  as_dict(dig(outputs, "llm_output", "usage")) or None) or {}
    return {"in": first(usage.get("prompt_tokens"), usage.get("input_tokens")),
            "out": first(usage.get("completion_tokens"), usage.get("output_tokens"))}


def _first_token_us(run: dict) -> int | None:
    for ev in as_list(run.get("events")):
        if isinstance(ev, dict) and ev.get("name") == "new_token":
            return epoch_us(ev.get("time"))
    return epoch_us(run.get("first_token_time"))


def run_span(run: dict) -> Span:
    meta = as_dict(dig(run, "extra", "metadata"))
    outputs = decode_json(run.get("outputs"))
    usage = as_dict(dig(outputs, "usage_metadata"))
    tokens = _usage(outputs)
    kind = _KINDS.get(str(run.get("run_type") or "").lower(), "other")
    error = run.get("error")
    detail = {
        "run_type": run.get("run_type"),
        "finish_reason": dig(outputs, "choices", 0, "finish_reason"),
        "system_fingerprint": dig(outputs, "system_fingerprint"),
        "service_tier": dig(outputs, "service_tier"),
        "input_token_details": usage.get("input_token_details"),
        "output_token_details": usage.get("output_token_details"),
        "invocation_params": dig(run, "extra", "invocation_params"),
        "ls_model_type": meta.get("ls_model_type"),
    }
    return Span(
        span_id=_run_id(run),
        parent_id=run.get("parent_run_id"),
        name=run.get("name"),
        kind=kind,
        start_us=epoch_us(run.get("start_time")),
        end_us=epoch_us(run.get("end_time")),
        input=_unwrap_inputs(run.get("inputs")),
        output=_unwrap_outputs(outputs),
        model=first(dig(outputs, "model"), meta.get("ls_model_name"), dig(outputs, "llm_output", "model_name"),
                    dig(outputs, "llm_output", "model"), dig(run, "inputs", "model"),
                    dig(run, "extra", "invocation_params", "model")),
        provider=meta.get("ls_provider"),
        prompt_tokens=to_int(first(tokens["in"], run.get("prompt_tokens"))),
        completion_tokens=to_int(first(tokens["out"], run.get("completion_tokens"))),
        first_token_us=_first_token_us(run) if kind in ("llm", "embedding") else None,
        cost_usd=to_float(run.get("total_cost")),
        failed=bool(error) or str(run.get("status") or "").lower() == "error",
        error=str(error) if error else None,
        requested_tools=tools_in_messages(outputs) if str(run.get("run_type") or "").lower() == "llm" else [],
        session_id=first(meta.get("session_id"), meta.get("thread_id"), meta.get("conversation_id")),
        user_id=first(meta.get("user_id"), meta.get("ls_user_id")),
        version=first(meta.get("revision_id"), meta.get("version")),
        environment=first(meta.get("environment"), meta.get("env")),
        service=run.get("session_name"),
        detail={k: v for k, v in detail.items() if v is not None},
    )


def _trace_key(run: dict) -> Any:
    dotted = run.get("dotted_order")
    root_from_dotted = dotted.split(".", 1)[0].split("Z", 1)[-1] if isinstance(dotted, str) and "Z" in dotted else None
    return ident(first(run.get("trace_id"), root_from_dotted, _run_id(run)))


def expand(rec: dict) -> list[dict]:
    batch = "post" in rec or "patch" in rec
    runs = merge_runs(as_list(rec.get("post")), as_list(rec.get("patch"))) if batch else run_tree(rec)
    if not runs:
        return [empty_entry({"reason": "no runs"})]
    traces: dict[Any, list[dict]] = defaultdict(list)
    for run in runs:
        traces[_trace_key(run)].append(run)
    out = []
    for trace_id, trace_runs in traces.items():
        spans = [run_span(r) for r in trace_runs]
        root = pick_root(spans)
        ttft = next((t for t in map(_first_token_us, trace_runs) if t is not None), None)
        detail = {
            "run_count": len(trace_runs),
            "run_types": sorted({str(r.get("run_type")) for r in trace_runs}),
            "tags": sorted({str(t) for r in trace_runs for t in as_list(r.get("tags"))}),
            "sdk": dig(trace_runs[0], "extra", "runtime", "sdk"),
            "sdk_version": dig(trace_runs[0], "extra", "runtime", "sdk_version"),
            "time_to_first_token_ms": (ttft - root.start_us) / 1000.0 if ttft and root and root.start_us else None,
        }
        out.append(trace_entry(spans, trace_id, detail=detail))
    return out


def spans(rec: dict) -> list:
    """(trace id, span) per run: runs of one trace on several lines or in several files are grouped by the ingest trace
    stage (a post/patch batch is merged first)."""
    batch = "post" in rec or "patch" in rec
    runs = merge_runs(as_list(rec.get("post")), as_list(rec.get("patch"))) if batch else run_tree(rec)
    return [(_trace_key(run), run_span(run)) for run in runs if isinstance(run, dict)]


def _is_run(v: Any) -> bool:
    return isinstance(v, dict) and (v.get("run_type") in RUN_TYPES or "dotted_order" in v)


def detect(rec: dict) -> float:
    if isinstance(rec.get("post"), list) or isinstance(rec.get("patch"), list):
        runs = as_list(rec.get("post")) + as_list(rec.get("patch"))
        if any(_is_run(r) for r in runs):
            return 1.0
        return 0.6 if not runs and "post" in rec and "patch" in rec else 0.0
    if rec.get("run_type") in RUN_TYPES and any(k in rec for k in ("dotted_order", "trace_id", "inputs", "start_time")):
        return 0.9
    return 0.0


ADAPTER = VendorAdapter("langsmith", detect, flat_mapping(), expand, spans=spans)
