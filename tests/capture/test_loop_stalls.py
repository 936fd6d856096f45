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
    for section in ("start", "after", "add", "finish"):  # one call of any of our sections: under 1 ms of CPU
        assert summary[f"{section}_p99_us"] < LIMIT_US, (section, summary)
    # the loop's slow callbacks are the client's own work: our code is a small share of their CPU (measured 1-3%).
    # (How many our share tipped over the limit is reported by the benchmark, not asserted: any added work tips the
    # few callbacks that were just under it, a count that depends on the machine.)
    assert summary["our_share_of_slow_cpu"] < 0.15, summary


def test_200_concurrent_streams_spend_under_1ms_per_callback_in_capture_code(capture):
    capture()
    n, words = 200, 3
    with ServerProcess(words) as base_url:
        got, summary = _run(base_url, n)
    assert got == [reply_text(words)] * n
    _check(summary, n, words + 2)  # a role chunk, the content chunks, a finish chunk
    assert summary["callbacks_with_1ms_of_our_code"] == 0, summary  # measured: at most ~0.3 ms
    assert sc.flush(10)["completed"]
    llm = [s for s in published_spans(capture.drops) if s["name"] == "chat gpt-4o"]
    assert len(llm) == n + 5 and all(s["attrs"]["strata.stream.end"] == "exhausted" for s in llm)
    assert all('"Hello there there"' in s["attrs"]["gen_ai.output.messages"] for s in llm)


def test_long_streams_with_numbers_finalize_under_1ms(capture):
    """20 concurrent streams of 300 chunks (~6,800 characters of text with numbers in it): folding a chunk and
    finalizing the span (join, PII scrub, serialize, spool write) each stay under 1 ms of CPU (measured ~10 us and
    ~0.4 ms). When the client reads a whole buffered stream in one callback, that callback folds every chunk: our
    code may then add up past 1 ms in it, next to ~50 ms of the client's own work (the share is what is asserted)."""
    capture()
    n, words, word = 20, 300, "sold 12 units in 2023,"
    with ServerProcess(words, word) as base_url:
        got, summary = _run(base_url, n)
    assert got == [reply_text(words, word)] * n and len(got[0]) > 6_500
    _check(summary, n, words + 2)
    assert sc.flush(10)["completed"]
    llm = [s for s in published_spans(capture.drops) if s["name"] == "chat gpt-4o"]
    assert len(llm) == n + 5 and all("sold 12 units in 2023," in s["attrs"]["gen_ai.output.messages"] for s in llm)
