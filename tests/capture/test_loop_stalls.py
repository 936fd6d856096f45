"""The wrapper never stalls an asyncio loop: concurrent streamed calls through the real `openai` client against a
loopback server in another process, asyncio debug mode with `slow_callback_duration = 1 ms`. The assertions are on
strata_capture's own sections (thread CPU per call and per loop callback, measured by `LoopProbe`), not on the loop's
wall-clock stalls, which a loaded machine and the client's own work produce with or without the wrapper."""
from __future__ import annotations

import asyncio

import openai

import strata_capture as sc

from .helpers import published_spans
from .loop_probe import LoopProbe
from .sse_server import ServerProcess, reply_text

MSG = [{"role": "user", "content": "What is the capital of France? Reply briefly."}]
LIMIT_US = 1000.0


async def _streams(client, n: int) -> list[str]:
    async def one() -> str:
        stream = await client.chat.completions.create(model="gpt-4o", messages=MSG, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream])
    return await asyncio.gather(*(one() for _ in range(n)))


def _run(base_url: str, n: int) -> tuple[list[str], dict]:
    async def main() -> tuple[list[str], dict]:
        asyncio.get_running_loop().slow_callback_duration = 0.001
        client = sc.wrap_openai(openai.AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0, timeout=300))
        await _streams(client, 5)  # connections and first-use imports outside the measurement
        with LoopProbe() as probe:
            got = await _streams(client, n)
        return got, probe.summary()
    return asyncio.run(main(), debug=True)


def _check(summary: dict, n: int, chunks: int) -> None:
    assert summary["start_calls"] == summary["after_calls"] == n  # every call went through our sections
    assert summary["add_calls"] == n * chunks
    assert summary["finish_calls"] >= n
    assert summary["slow_from_our_code"] == 0  # no loop callback spent 1 ms in strata_capture code
    for section in ("start", "after", "add", "finish"):
        assert summary[f"{section}_p99_us"] < LIMIT_US, (section, summary)
    assert summary["ours_per_callback_p99_us"] < LIMIT_US


def test_200_concurrent_streams_spend_under_1ms_per_callback_in_capture_code(capture):
    capture()
    n, words = 200, 3
    with ServerProcess(words) as base_url:
        got, summary = _run(base_url, n)
    assert got == [reply_text(words)] * n
    _check(summary, n, words + 2)  # a role chunk, the content chunks, a finish chunk
    assert sc.flush(10)["completed"]
    llm = [s for s in published_spans(capture.drops) if s["name"] == "chat gpt-4o"]
    assert len(llm) == n + 5 and all(s["attrs"]["strata.stream.end"] == "exhausted" for s in llm)
    assert all('"Hello there there"' in s["attrs"]["gen_ai.output.messages"] for s in llm)
