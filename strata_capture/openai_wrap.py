"""`wrap_openai(client)`: traces `chat.completions.create` and `responses.create` (plain, raw and streamed, sync and
async) on that client instance only. The request is passed on unchanged unless `inject_stream_usage` is set."""
from __future__ import annotations

from typing import Any

from .core import Span
from .logrec import set_usage
from .runtime import get_runtime
from .streams import AsyncStreamProxy, StreamProxy, field_of

_PARAMS = {"temperature": "gen_ai.request.temperature", "max_tokens": "gen_ai.request.max_tokens",
           "max_completion_tokens": "gen_ai.request.max_tokens", "max_output_tokens": "gen_ai.request.max_tokens",
           "top_p": "gen_ai.request.top_p", "seed": "gen_ai.request.seed"}


def _start(op: str, kwargs: dict, provider: str) -> Span:
    model = kwargs.get("model")
    op_name = "chat" if op == "chat" else "responses"
    s = Span(f"{op_name} {model}" if model else op_name, "llm")
    if not s.sampled:
        return s
    a = s.attrs
    a["gen_ai.operation.name"] = op_name
    a["gen_ai.provider.name"] = provider
    if isinstance(model, str):
        a["gen_ai.request.model"] = model
    if len(kwargs) > 2:  # more than model and messages/input: sampling parameters, stream
        for key, v in kwargs.items():
            attr = _PARAMS.get(key)
            if attr is not None and isinstance(v, (int, float)) and not isinstance(v, bool):
                a[attr] = v
        if kwargs.get("stream"):
            a["gen_ai.request.stream"] = True
    if op == "chat":
        s.set_input(kwargs.get("messages"))
    else:
        prompt = kwargs.get("input")
        instructions = kwargs.get("instructions")
        s.set_input([{"role": "system", "content": instructions}, {"role": "user", "content": prompt}]
                    if instructions else prompt)
    return s


def record_response(s: Span, response: Any) -> None:
    """Model, id, usage and output of a ChatCompletion or a Responses API response: only the fields needed are read
    (plain attribute reads on the pydantic objects; nothing is dumped but the output message)."""
    if isinstance(response, dict):
        model, rid, usage, choices = (response.get("model"), response.get("id"), response.get("usage"),
                                      response.get("choices"))
        first = reasons = None
    else:
        model, rid = getattr(response, "model", None), getattr(response, "id", None)
        usage, choices = getattr(response, "usage", None), getattr(response, "choices", None)
        try:  # openai's Choice objects: plain attribute reads
            first = choices[0].message if choices else None
            reasons = [c.finish_reason for c in choices] if choices is not None else None
        except Exception:  # noqa: BLE001 - other shapes: the careful reads below
            first = reasons = None
    a = s.attrs
    if model:
        a["gen_ai.response.model"] = model
    if isinstance(rid, str):
        a["gen_ai.response.id"] = rid
    prompt = completion = None
    if usage is not None:
        prompt, completion = field_of(usage, "prompt_tokens"), field_of(usage, "completion_tokens")
        if prompt is None:
            prompt, completion = field_of(usage, "input_tokens"), field_of(usage, "output_tokens")
    set_usage(s, model or a.get("gen_ai.request.model"), prompt, completion)
    if choices is not None:
        if first is None and choices:
            first = field_of(choices[0], "message")
        s.set_output([_message(first)] if choices else [])
        if reasons is None:
            reasons = [field_of(c, "finish_reason") for c in choices]
        reasons = [r for r in reasons if r]
        if reasons:
            a["gen_ai.response.finish_reasons"] = reasons
    else:
        try:
            text = response.output_text
        except Exception:  # noqa: BLE001
            text = None
        s.set_output([{"role": "assistant", "content": text}] if text is not None else field_of(response, "output"))


def _message(msg: Any) -> Any:
    """A chat message as a plain dict (cheaper than the model's own dump); tool calls dumped only when present."""
    if msg is None or isinstance(msg, dict):
        return msg
    try:
        out = {"role": getattr(msg, "role", None), "content": getattr(msg, "content", None)}
        calls = getattr(msg, "tool_calls", None)
        refusal = getattr(msg, "refusal", None)
    except Exception:  # noqa: BLE001 - a hostile property: the careful reads
        out = {"role": field_of(msg, "role"), "content": field_of(msg, "content")}
        calls, refusal = field_of(msg, "tool_calls"), field_of(msg, "refusal")
    if calls:
        out["tool_calls"] = calls
    if refusal:
        out["refusal"] = refusal
    return out


_RAW_TYPES: dict[type, bool] = {}


def _is_raw(result: Any) -> bool:
    """openai's LegacyAPIResponse (from `.with_raw_response`), told apart by class attributes, cached per class."""
    cls = type(result)
    raw = _RAW_TYPES.get(cls)
    if raw is None:
        raw = _RAW_TYPES[cls] = (callable(getattr(cls, "parse", None))
                                 and "http_response" in getattr(cls, "__annotations__", {}))
    return raw


def _wrap_sync(orig, op: str, provider: str):
    def create(*args: Any, **kwargs: Any) -> Any:
        try:
            s = _start(op, kwargs, provider)
            call_kwargs, injected = _maybe_inject(op, kwargs)
        except Exception:  # noqa: BLE001 - capture trouble never blocks the call
            get_runtime().count("internal_errors")
            return orig(*args, **kwargs)
        try:
            result = orig(*args, **call_kwargs)
        except BaseException as exc:
            s.record_exception(exc)
            s.end()
            raise
        return _after(s, result, op, injected, StreamProxy, kwargs)
    create.__wrapped__ = orig
    create.strata_capture_original = orig
    return create


def _wrap_async(orig, op: str, provider: str):
    async def create(*args: Any, **kwargs: Any) -> Any:
        try:
            s = _start(op, kwargs, provider)
            call_kwargs, injected = _maybe_inject(op, kwargs)
        except Exception:  # noqa: BLE001
            get_runtime().count("internal_errors")
            return await orig(*args, **kwargs)
        try:
            result = await orig(*args, **call_kwargs)
        except BaseException as exc:
            s.record_exception(exc)
            s.end()
            raise
        return _after(s, result, op, injected, AsyncStreamProxy, kwargs)
    create.__wrapped__ = orig
    create.strata_capture_original = orig
    return create


def _maybe_inject(op: str, kwargs: dict) -> tuple[dict, bool]:
    if (op == "chat" and kwargs.get("stream") and get_runtime().settings.inject_stream_usage
            and kwargs.get("stream_options") is None):
        return {**kwargs, "stream_options": {"include_usage": True}}, True
    return kwargs, False


def _after(s: Span, result: Any, op: str, injected: bool, proxy, kwargs: dict) -> Any:
    try:
        if _is_raw(result):
            if kwargs.get("stream"):
                s.attrs["strata.raw_stream"] = True  # the caller parses the stream: content is not seen here
            else:
                record_response(s, result.parse())  # parse() caches: the caller gets the same object
            s.end()
            return result
        if kwargs.get("stream"):
            return proxy(result, s, op, injected, record_response)
        if s.sampled:  # a sampled-out (or disabled) call reads nothing from the response
            record_response(s, result)
        s.end()
    except Exception:  # noqa: BLE001
        get_runtime().count("internal_errors")
    return result


def _patch(resource: Any, op: str, provider: str) -> None:
    orig = resource.create
    if getattr(orig, "strata_capture_original", None) is not None:
        return  # already wrapped
    import inspect

    wrap = _wrap_async if inspect.iscoroutinefunction(inspect.unwrap(orig)) else _wrap_sync
    resource.create = wrap(orig, op, provider)
    for cached in ("with_raw_response", "with_streaming_response"):  # rebuilt around the wrapped create
        resource.__dict__.pop(cached, None)


def wrap_openai(client: Any) -> Any:
    """Trace this OpenAI / AsyncOpenAI / AzureOpenAI client (only this instance); returns the client."""
    provider = "azure.ai.openai" if "Azure" in type(client).__name__ else "openai"
    try:
        _patch(client.chat.completions, "chat", provider)
    except AttributeError:
        pass
    try:
        _patch(client.responses, "responses", provider)
    except AttributeError:
        pass
    return client
