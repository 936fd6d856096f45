"""`@observe` for sync, async, generator and async-generator functions: inputs by parameter name, the return value
(or the yielded items) as output, exceptions recorded and re-raised unchanged."""
from __future__ import annotations

import functools
from typing import Any, Callable

from .core import Span
from .encode import esc
from .runtime import get_runtime

MAX_YIELDED = 100  # yielded items kept as a generator's output


_SIMPLE: dict[type, Callable[[Any], str]] = {str: esc, int: int.__repr__, bool: lambda b: "true" if b else "false",
                                             type(None): lambda _: "null"}  # what the C encoder writes for each


def _simple_members(keys: list[str], values: Any) -> list[str] | None:
    """`"key":value` JSON members when every value's exact type is str, int, bool or None; else None."""
    parts = []
    for key, value in zip(keys, values):
        encode = _SIMPLE.get(type(value))
        if encode is None:
            return None
        parts.append(key + encode(value))
    return parts


def binder(fn: Callable, text: bool = True) -> Callable[[tuple, dict], Any]:
    """(args, kwargs) -> the call's input by parameter name, {parameter: value}, precomputed from the signature (no
    `Signature.bind` per call; `self`/`cls` left out). With `text`, when every argument is a plain str, int, bool or
    None its compact JSON text is built directly: `content_text` takes a str as is, so the span gets the very text
    the dict would have given, without building the dict and running the generic encoder on it."""
    import inspect  # deferred: keeps `import strata_capture` fast

    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
    skip_first = bool(positional) and positional[0] in ("self", "cls")
    first = 1 if skip_first else 0
    keys = [esc(name) + ":" for name in positional][first:]

    def bind(args: tuple, kwargs: dict) -> Any:
        # fast only where the dict below is just the arguments in order: no overflow into *args, and keywords
        # alone (a keyword may repeat a positional name, or be the `self` the dict drops)
        if text and len(args) <= len(positional) and not (kwargs and (args or skip_first)):
            try:
                parts = (_simple_members(keys, args[first:]) if args else
                         _simple_members([esc(k) + ":" for k in kwargs], kwargs.values()))
            except ValueError:  # an int past the digit limit: the dict path degrades it as it always did
                parts = None
            if parts is not None:
                return "{" + ",".join(parts) + "}"
        out = dict(zip(positional, args))
        if len(args) > len(positional):
            out[varargs or "args"] = list(args[len(positional):])
        if kwargs:
            out.update(kwargs)
        if skip_first:
            out.pop(positional[0], None)
        return out

    return bind


def observe(fn: Callable | None = None, *, name: str | None = None, kind: str = "chain", version: str | None = None,
            environment: str | None = None, capture_input: bool = True, capture_output: bool = True) -> Any:
    """Trace a function: `@observe`, or `@observe(kind="agent", name=..., version=..., environment=...)`."""
    if fn is None:
        return lambda f: observe(f, name=name, kind=kind, version=version, environment=environment,
                                 capture_input=capture_input, capture_output=capture_output)
    import inspect

    span_name = name or getattr(fn, "__name__", None) or "function"
    bind = binder(fn)

    def start(args: tuple, kwargs: dict) -> Span | None:
        try:
            s = Span(span_name, kind, version=version, environment=environment)
            if capture_input and s.sampled:
                s.set_input(bind(args, kwargs))
            return s.activate()
        except Exception:  # noqa: BLE001 - capture never breaks the call
            get_runtime().count("internal_errors")
            return None

    def finish(s: Span | None, output: Any = None, exc: BaseException | None = None, has_output: bool = False) -> None:
        if s is None:
            return
        try:
            s.deactivate()
            if exc is not None:
                s.record_exception(exc)
            elif has_output and capture_output:
                s.set_output(output)
            s.end()
        except Exception:  # noqa: BLE001
            get_runtime().count("internal_errors")

    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
            s = start(args, kwargs)
            if s is not None:
                s.deactivate()
            items: list = []
            agen = fn(*args, **kwargs)
            try:
                sent, thrown = None, None
                while True:
                    if s is not None:
                        s.activate()
                    try:
                        item = await (agen.athrow(thrown) if thrown is not None else agen.asend(sent))
                    except StopAsyncIteration:
                        break
                    finally:
                        if s is not None:
                            s.deactivate()
                    thrown = None
                    if len(items) < MAX_YIELDED:
                        items.append(item)
                    try:
                        sent = yield item
                    except GeneratorExit:
                        raise
                    except BaseException as exc:  # athrow(): forwarded to the user's generator
                        thrown, sent = exc, None
            except GeneratorExit:
                await agen.aclose()
                finish(s, items, has_output=True)
                raise
            except BaseException as exc:
                finish(s, exc=exc)
                raise
            finish(s, items, has_output=True)
        return agen_wrapper

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            s = start(args, kwargs)
            if s is not None:
                s.deactivate()
            items: list = []
            gen = fn(*args, **kwargs)
            try:
                sent, thrown = None, None
                while True:
                    if s is not None:
                        s.activate()
                    try:
                        item = gen.throw(thrown) if thrown is not None else gen.send(sent)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    finally:
                        if s is not None:
                            s.deactivate()
                    thrown = None
                    if len(items) < MAX_YIELDED:
                        items.append(item)
                    try:
                        sent = yield item
                    except GeneratorExit:
                        raise
                    except BaseException as exc:  # throw(): forwarded to the user's generator
                        thrown, sent = exc, None
            except GeneratorExit:
                gen.close()
                finish(s, items, has_output=True)
                raise
            except BaseException as exc:
                finish(s, exc=exc)
                raise
            finish(s, items, has_output=True)
            return result
        return gen_wrapper

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            s = start(args, kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                finish(s, exc=exc)
                raise
            finish(s, result, has_output=True)
            return result
        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        s = start(args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            finish(s, exc=exc)
            raise
        finish(s, result, has_output=True)
        return result
    return wrapper


track = observe  # the name LangSmith/behavioral-drift users reach for
