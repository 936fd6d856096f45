"""The decorator on the four function kinds, nesting across await and threads, spans, branches, log, errors."""
from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

import strata_capture as sc

from .helpers import published_spans


def spans_of(capture) -> dict[str, dict]:
    assert sc.flush(5)["completed"]
    return {s["name"]: s for s in published_spans(capture.drops)}


def test_sync_function_inputs_by_name_and_output(capture):
    capture()

    @sc.observe(kind="tool")
    def add(a, b, *rest, scale=1):
        return (a + b + sum(rest)) * scale

    assert add(1, 2, 3, scale=2) == 12
    s = spans_of(capture)["add"]
    assert s["attrs"]["input.value"] == '{"a":1,"b":2,"rest":[3],"scale":2}'
    assert s["attrs"]["output.value"] == "12"
    assert s["attrs"]["gen_ai.tool.name"] == "add" and s["parent"] is None
    assert s["resource"]["service.name"] == "test-app"


def test_methods_skip_self_and_name_override(capture):
    capture()

    class Agent:
        @sc.observe(name="plan", kind="agent", version="v2", environment="canary")
        def plan(self, goal):
            return [goal]

    Agent().plan("ship")
    s = spans_of(capture)["plan"]
    assert s["attrs"]["input.value"] == '{"goal":"ship"}'
    assert (s["attrs"]["service.version"], s["attrs"]["deployment.environment.name"]) == ("v2", "canary")
    assert s["attrs"]["gen_ai.operation.name"] == "invoke_agent"


def test_async_generator_and_async_generator_nesting(capture):
    capture()

    @sc.observe(name="leaf", kind="tool")
    async def leaf(i):
        await asyncio.sleep(0)
        return i * 10

    @sc.observe(name="gen")
    def gen(n):
        for i in range(n):
            yield i
        return "done"

    @sc.observe(name="agen")
    async def agen(n):
        for i in range(n):
            yield await leaf(i)  # leaf runs inside agen's span, across awaits

    @sc.observe(name="root", kind="agent")
    async def root():
        items = [x async for x in agen(3)]
        return items + list(gen(2))

    assert asyncio.run(root()) == [0, 10, 20, 0, 1]
    assert sc.flush(5)["completed"]
    spans = published_spans(capture.drops)
    by_name = {}
    for s in spans:
        by_name.setdefault(s["name"], []).append(s)
    root_span = by_name["root"][0]
    assert root_span["parent"] is None and root_span["attrs"]["output.value"] == "[0,10,20,0,1]"
    assert by_name["agen"][0]["parent"] == root_span["span"]
    assert by_name["agen"][0]["attrs"]["output.value"] == "[0,10,20]"
    assert by_name["gen"][0]["parent"] == root_span["span"] and by_name["gen"][0]["attrs"]["output.value"] == "[0,1]"
    assert len(by_name["leaf"]) == 3 and {s["parent"] for s in by_name["leaf"]} == {by_name["agen"][0]["span"]}
    assert len({s["trace"] for s in spans}) == 1


def test_generator_closed_early_and_generator_raising(capture):
    capture()

    @sc.observe(name="numbers")
    def numbers():
        yield from range(100)

    @sc.observe(name="broken")
    def broken():
        yield 1
        raise KeyError("gone")

    g = numbers()
    assert [next(g), next(g)] == [0, 1]
    g.close()
    with pytest.raises(KeyError):
        list(broken())
    spans = spans_of(capture)
    assert spans["numbers"]["attrs"]["output.value"] == "[0,1]"
    assert spans["broken"]["status"] == {"code": 2, "message": "KeyError: 'gone'"}


def test_concurrent_tasks_and_threads_keep_their_parents(capture):
    capture()

    @sc.observe(name="child", kind="tool")
    def child(tag):
        return tag

    @sc.observe(name="task")
    async def task(tag):
        await asyncio.sleep(0.01)
        await asyncio.to_thread(child, tag)  # copies the context into the worker thread
        return tag

    async def main():
        return await asyncio.gather(*(task(i) for i in range(5)))

    asyncio.run(main())

    @sc.observe(name="threaded")
    def threaded():
        ctx = contextvars.copy_context()
        t = threading.Thread(target=ctx.run, args=(child, "t"))
        t.start()
        t.join()

    threaded()
    assert sc.flush(5)["completed"]
    spans = published_spans(capture.drops)
    tasks = {s["span"]: s for s in spans if s["name"] == "task"}
    children = [s for s in spans if s["name"] == "child"]
    assert len(tasks) == 5 and len(children) == 6
    for c in children:
        if c["attrs"]["input.value"] == '{"tag":"t"}':
            assert c["parent"] == next(s["span"] for s in spans if s["name"] == "threaded")
        else:
            parent = tasks[c["parent"]]
            assert parent["attrs"]["output.value"] == c["attrs"]["output.value"]  # its own task, not a sibling's
            assert parent["trace"] == c["trace"]
    assert len({s["trace"] for s in tasks.values()}) == 5


def test_exception_is_recorded_and_reraised_unchanged(capture):
    capture()

    class Boom(Exception):
        pass

    @sc.observe(name="fails")
    def fails():
        raise Boom("card 4111 1111 1111 1111 declined")

    with pytest.raises(Boom):
        fails()
    s = spans_of(capture)["fails"]
    assert s["status"]["code"] == 2 and s["status"]["message"] == "Boom: card <CREDIT_CARD> declined"


def test_span_context_manager_branch_log_and_trace_context(capture):
    capture(prices={"gpt-4o": [2.5, 10.0]})

    async def flow():
        async with sc.trace_context(session_id="sess-1", user_id="user-9", request_id="req-7", prompt_version="p3"):
            async with sc.span("agent", kind="agent", input="route me") as root:
                sc.branch("router", "human_review", condition="confidence < 0.5", result=True)
                with sc.span("search", kind="tool", input={"q": "x"}) as t:
                    t.set_output(["a"])
                sc.log(model="gpt-4o", input="q", output="a", prompt_tokens=1000, completion_tokens=100,
                       latency_ms=250, tool_calls=["lookup"])
                root.set_output("done")

    asyncio.run(flow())
    spans = spans_of(capture)
    root = spans["agent"]
    assert root["attrs"]["session.id"] == "sess-1" and root["attrs"]["strata.request_id"] == "req-7"
    assert root["attrs"]["strata.prompt_version"] == "p3" and root["attrs"]["user.id"] == "user-9"
    b = spans["branch router->human_review"]
    assert (b["attrs"]["strata.branch.from"], b["attrs"]["strata.branch.to"]) == ("router", "human_review")
    assert b["attrs"]["strata.branch.condition"] == "confidence < 0.5" and b["attrs"]["strata.branch.result"] is True
    assert b["parent"] == root["span"] and b["start"] == b["end"]
    call = spans["llm_call"]
    assert call["attrs"]["gen_ai.usage.cost"] == pytest.approx(1000 * 2.5e-6 + 100 * 10e-6)
    assert call["end"] - call["start"] == 250_000_000
    assert spans["lookup"]["parent"] == call["parent"] == root["span"]


def test_sampling_keeps_whole_traces(capture):
    capture(sample_rate=0.5)

    @sc.observe(name="leaf")
    def leaf():
        return 1

    @sc.observe(name="root")
    def root():
        return leaf()

    for _ in range(400):
        root()
    spans = published_spans(capture.drops) if sc.flush(5)["completed"] else []
    roots = [s for s in spans if s["name"] == "root"]
    leaves = [s for s in spans if s["name"] == "leaf"]
    assert 120 < len(roots) < 280  # binomial(400, 0.5): far outside is a bug
    assert {s["trace"] for s in leaves} == {s["trace"] for s in roots}
    assert sc.stats()["spans_sampled_out"] == 400 - len(roots)


def test_send_and_throw_reach_the_decorated_generators(capture):
    capture()

    @sc.observe(name="echo")
    def echo():
        received = []
        while True:
            try:
                x = yield len(received)
            except ValueError:
                received.append("handled")
                continue
            if x is None:
                return received
            received.append(x)

    @sc.observe(name="aecho")
    async def aecho():
        while True:
            try:
                x = yield "ready"
            except KeyError:
                yield "recovered"

    g = echo()
    assert next(g) == 0 and g.send("a") == 1 and g.throw(ValueError("x")) == 2
    with pytest.raises(StopIteration) as stop:
        g.send(None)
    assert stop.value.value == ["a", "handled"]

    async def drive():
        ag = aecho()
        first = await ag.__anext__()
        second = await ag.athrow(KeyError("k"))
        await ag.aclose()
        return first, second

    assert asyncio.run(drive()) == ("ready", "recovered")
    spans = spans_of(capture)
    assert spans["echo"]["attrs"]["output.value"] == "[0,1,2]" and spans["echo"]["status"] == {}
    assert spans["aecho"]["attrs"]["output.value"] == '["ready","recovered"]'
