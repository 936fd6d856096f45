"""wrap_openai with the real `openai` client against a loopback server speaking the OpenAI wire format: plain, raw
and streamed calls, sync and async, every stream exit path, with and without usage, tool-call deltas, responses."""
from __future__ import annotations

import asyncio
import gc

import openai
import pytest

import strata_capture as sc

from .helpers import published_spans
from .openai_server import OpenAIHandler

MSG = [{"role": "user", "content": "Say hello to jane@example.com"}]


@pytest.fixture
def llm(httpserver):
    handler = OpenAIHandler()
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    httpserver.expect_request("/v1/responses").respond_with_handler(handler)
    handler.base_url = httpserver.url_for("/v1")
    return handler


def llm_spans(capture) -> list[dict]:
    assert sc.flush(5)["completed"]
    return [s for s in published_spans(capture.drops) if s["attrs"].get("strata.span.kind") == "llm"]


def test_plain_call_records_model_usage_content_and_leaves_request_alone(capture, llm):
    capture(prices={"gpt-4o-2024-08-06": [2.5, 10.0]})
    client = sc.wrap_openai(openai.OpenAI(base_url=llm.base_url, api_key="k", max_retries=0))
    other = openai.OpenAI(base_url=llm.base_url, api_key="k", max_retries=0)  # not wrapped: untouched
    out = client.chat.completions.create(model="gpt-4o", messages=MSG, temperature=0.2)
    other.chat.completions.create(model="gpt-4o", messages=MSG)
    assert out.choices[0].message.content == "Hello there, friend"
    assert llm.requests[0] == {"model": "gpt-4o", "messages": MSG, "temperature": 0.2}
    [s] = llm_spans(capture)
    a = s["attrs"]
    assert (a["gen_ai.request.model"], a["gen_ai.response.model"]) == ("gpt-4o", "gpt-4o-2024-08-06")
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (11, 4)
    assert a["gen_ai.usage.cost"] == pytest.approx(11 * 2.5e-6 + 4 * 10e-6)
    assert a["gen_ai.input.messages"] == '[{"role":"user","content":"Say hello to <EMAIL>"}]'
    assert '"content":"Hello there, friend"' in a["gen_ai.output.messages"]
    assert a["gen_ai.response.finish_reasons"] == ["stop"] and a["gen_ai.request.temperature"] == 0.2


def test_raw_response_and_http_error(capture, llm):
    capture()
    client = sc.wrap_openai(openai.OpenAI(base_url=llm.base_url, api_key="k", max_retries=0))
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MSG)
    assert raw.parse().choices[0].message.content == "Hello there, friend"
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "fail"}])
    ok, failed = llm_spans(capture)
    assert ok["attrs"]["gen_ai.usage.output_tokens"] == 4
    assert failed["status"]["code"] == 2 and failed["attrs"]["error.type"] == "InternalServerError"


def consume_sync(stream, how: str) -> list:
    seen = []
    if how == "exhaust":
        seen = list(stream)
    elif how == "break":
        for chunk in stream:
            seen.append(chunk)
            break
        del stream
        gc.collect()
    elif how == "close":
        seen.append(next(stream))
        stream.close()
    elif how == "with":
        with stream as s:
            seen.append(next(s))
    elif how == "error":
        with pytest.raises(openai.APIError):
            for chunk in stream:
                seen.append(chunk)
    return seen


async def consume_async(stream, how: str) -> list:
    seen = []
    if how == "exhaust":
        seen = [c async for c in stream]
    elif how == "break":
        async for chunk in stream:
            seen.append(chunk)
            break
        del stream
        gc.collect()
    elif how == "close":
        seen.append(await stream.__anext__())
        await stream.close()
    elif how == "with":
        async with stream as s:
            seen.append(await s.__anext__())
    elif how == "error":
        with pytest.raises(openai.APIError):
            async for chunk in stream:
                seen.append(chunk)
    return seen


END = {"exhaust": "exhausted", "break": "garbage_collected", "close": "closed", "with": "closed", "error": "error"}


@pytest.mark.parametrize("how", list(END))
@pytest.mark.parametrize("usage", ["none", "requested", "injected"])
@pytest.mark.parametrize("flavor", ["sync", "async"])
def test_stream_exit_paths(capture, llm, how, usage, flavor):
    capture(inject_stream_usage=usage == "injected")
    content = "explode" if how == "error" else "hi"
    kwargs = {"model": "gpt-4o", "messages": [{"role": "user", "content": content}], "stream": True}
    if usage == "requested":
        kwargs["stream_options"] = {"include_usage": True}
    if flavor == "sync":
        client = sc.wrap_openai(openai.OpenAI(base_url=llm.base_url, api_key="k", max_retries=0))
        seen = consume_sync(client.chat.completions.create(**kwargs), how)
    else:
        async def run():
            client = sc.wrap_openai(openai.AsyncOpenAI(base_url=llm.base_url, api_key="k", max_retries=0))
            return await consume_async(await client.chat.completions.create(**kwargs), how)
        seen = asyncio.run(run())
    sent = llm.requests[-1]
    assert ("stream_options" in sent) == (usage != "none")  # never changed unless injection is on
    [s] = llm_spans(capture)  # finalized exactly once
    a = s["attrs"]
    assert a["strata.stream.end"] == END[how] and a["strata.ttft_ms"] >= 0
    if how == "error":
        assert s["status"]["code"] == 2
    if how == "exhaust":
        assert '"content":"Hello there, friend"' in a["gen_ai.output.messages"]
        usage_chunks = [c for c in seen if not c.choices]
        assert len(usage_chunks) == (1 if usage == "requested" else 0)  # the injected one is hidden
        if usage == "none":
            assert "gen_ai.usage.input_tokens" not in a
        else:
            assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (11, 4)


def test_stream_tool_call_deltas_are_merged(capture, llm):
    capture()
    client = sc.wrap_openai(openai.OpenAI(base_url=llm.base_url, api_key="k", max_retries=0))
    chunks = list(client.chat.completions.create(model="gpt-4o", stream=True,
                                                 messages=[{"role": "user", "content": "weather?"}]))
    assert len(chunks) == 5
    [s] = llm_spans(capture)
    assert '"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather",' \
           '"arguments":"{\\"city\\":\\"Paris\\"}"}}]' in s["attrs"]["gen_ai.output.messages"]
    assert s["attrs"]["gen_ai.response.finish_reasons"] == ["tool_calls"]


def test_responses_api_plain_and_streamed_sync_and_async(capture, llm):
    capture()
    client = sc.wrap_openai(openai.OpenAI(base_url=llm.base_url, api_key="k", max_retries=0))
    assert client.responses.create(model="gpt-4o", input="hello", instructions="be brief").output_text == \
        "Hello there, friend"
    events = [e.type for e in client.responses.create(model="gpt-4o", input="hello", stream=True)]
    assert events[-1] == "response.completed"

    async def run():
        aclient = sc.wrap_openai(openai.AsyncOpenAI(base_url=llm.base_url, api_key="k", max_retries=0))
        r = await aclient.responses.create(model="gpt-4o", input="hello")
        return r.output_text

    assert asyncio.run(run()) == "Hello there, friend"
    spans = llm_spans(capture)
    assert len(spans) == 3
    for s in spans:
        a = s["attrs"]
        assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (7, 3)
        assert a["gen_ai.operation.name"] == "responses"
        assert "Hello there, friend" in a["gen_ai.output.messages"]
    assert '"role":"system","content":"be brief"' in spans[0]["attrs"]["gen_ai.input.messages"]


def test_azure_client_is_wrapped_too(capture, llm):
    capture()
    client = openai.AzureOpenAI(azure_endpoint=llm.base_url.rsplit("/v1", 1)[0], api_key="k",
                                api_version="2024-06-01", max_retries=0)
    sc.wrap_openai(client)
    assert getattr(client.chat.completions.create, "strata_capture_original", None) is not None
    assert sc.wrap_openai(client) is client  # wrapping twice is a no-op
