"""Capture SDK benchmark: CPU per decorated call and per wrapped OpenAI call, next to an undecorated call and (when
installed) Langfuse's `@observe`, OpenLLMetry's OpenAI instrumentation and a raw OpenTelemetry span, in the same run;
spool throughput; RSS growth over 1M spans with the sink down; event-loop stalls with 1,000 concurrent streamed calls
in asyncio debug mode (plain and wrapped clients in the same process, rounds interleaved, the server in its own
process; each slow callback attributed by `tests/capture/loop_probe.py`); `import strata_capture` time.
Two figures per library for the decorator: call-path CPU (best of blocks) and process CPU including delivery (the
calls plus publishing, or exporting to a loopback OTLP receiver in another process, every span they made).

Each measurement runs in a fresh subprocess. The last line is one JSON object with the figures.
BENCH_CAPTURE_SPANS (default 1,000,000) sets the RSS run's span count; BENCH_CAPTURE_CALLS (default 20,000) the
per-call runs' call count.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPANS = int(os.environ.get("BENCH_CAPTURE_SPANS", "1000000"))
CALLS = int(os.environ.get("BENCH_CAPTURE_CALLS", "20000"))

MEASURE = r'''
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
kind, n, tmp = sys.argv[2], int(sys.argv[3]), sys.argv[4]

def cpu_per_call(fn, n, blocks=5):
    """CPU microseconds per call: the best of `blocks` blocks (the least disturbed by other load)."""
    for _ in range(min(n // 10, 2000)):
        fn()
    best = float("inf")
    for _ in range(blocks):
        t = time.process_time()
        for _ in range(n // blocks):
            fn()
        best = min(best, (time.process_time() - t) / (n // blocks) * 1e6)
    return best

def configure():
    import strata_capture as sc
    sc.configure(spool_dir=os.path.join(tmp, kind), service="bench", metrics="off", flush_interval_s=3600)
    return sc

def chat_client(cls_name="OpenAI", stream=False):
    import httpx2, openai
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}}
    chunks = [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in ("Hel", "lo", "!")]
    sse = ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()
    raw = json.dumps(body).encode()
    def handler(request):
        if b'"stream":true' in request.content or b'"stream": true' in request.content:
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse)
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=raw)
    cls = getattr(openai, cls_name)
    http = (httpx2.AsyncClient if cls_name.startswith("Async") else httpx2.Client)(transport=httpx2.MockTransport(handler))
    return cls(api_key="k", base_url="http://llm.invalid/v1", http_client=http, max_retries=0)

MSG = [{"role": "user", "content": "What is the capital of France? Reply briefly."}]
out = {}
if kind == "plain":
    def f(question, user):
        return question
    out["us"] = cpu_per_call(lambda: f("what is the refund policy?", "u1"), n)
elif kind == "floor":  # the least any durable logger does per call: one json.dumps and one os.write
    fd = os.open(os.path.join(tmp, "floor.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    def f(question, user):
        os.write(fd, (json.dumps({"t": "0" * 32, "s": "0" * 16, "n": "f", "b": time.time_ns(),
                                  "a": {"input.value": json.dumps({"question": question, "user": user})}}) + "\n").encode())
        return question
    out["us"] = cpu_per_call(lambda: f("what is the refund policy?", "u1"), n)
elif kind == "decorator":
    sc = configure()
    @sc.observe
    def f(question, user):
        return question
    out["us"] = cpu_per_call(lambda: f("what is the refund policy?", "u1"), n)
    out["written"] = sc.stats().get("spans_written", 0)
elif kind == "span":
    sc = configure()
    def f():
        with sc.span("step", kind="tool"):
            pass
    out["us"] = cpu_per_call(f, n)
    out["spans_per_cpu_s"] = 1e6 / out["us"]
elif kind == "langfuse":  # keys set, exporter pointed at a closed loopback port: the SDK does all its work
    os.environ.update(LANGFUSE_PUBLIC_KEY="pk-lf-bench", LANGFUSE_SECRET_KEY="sk-lf-bench",
                      LANGFUSE_HOST="http://127.0.0.1:9", LANGFUSE_BASE_URL="http://127.0.0.1:9")
    from langfuse import observe
    @observe()
    def f(question, user):
        return question
    out["us"] = cpu_per_call(lambda: f("what is the refund policy?", "u1"), n)
elif kind == "decorator_total":  # calls + publishing every span (seal, OTLP/JSON, gzip, into a local drop)
    import strata_capture as sc
    sc.configure(spool_dir=os.path.join(tmp, kind), service="bench", metrics="off", flush_interval_s=3600,
                 drop_url=os.path.join(tmp, "drops_total"))
    @sc.observe
    def f(question, user):
        return question
    def total(k):
        t = time.process_time()
        for _ in range(k):
            f("what is the refund policy?", "u1")
        done = sc.flush(timeout=600)
        assert done["completed"] and done["spans_published"] == k, done
        return (time.process_time() - t) / k * 1e6
    total(min(n // 10, 2000))  # first-use imports of the publisher and the sink
    out["us"] = min(total(n // 3) for _ in range(3))
elif kind == "langfuse_total":  # calls + flush() exporting every span (to BENCH_OTLP_URL, or a closed port)
    import urllib.request
    url = os.environ.get("BENCH_OTLP_URL", "http://127.0.0.1:9")
    os.environ.update(LANGFUSE_PUBLIC_KEY="pk-lf-bench", LANGFUSE_SECRET_KEY="sk-lf-bench", LANGFUSE_HOST=url,
                      LANGFUSE_BASE_URL=url)
    from langfuse import get_client, observe
    @observe()
    def f(question, user):
        return question
    client = get_client()
    def total(k):
        t = time.process_time()
        for _ in range(k):
            f("what is the refund policy?", "u1")
        client.flush()
        return (time.process_time() - t) / k * 1e6
    rounds = 3 if "BENCH_OTLP_URL" in os.environ else 1
    total(min(n // 10, 2000))
    out["us"] = min(total(n // rounds) for _ in range(rounds))
    out["calls"] = min(n // 10, 2000) + n // rounds * rounds
    if "BENCH_OTLP_URL" in os.environ:
        out.update(json.loads(urllib.request.urlopen(url + "/count", timeout=10).read()))
elif kind == "otel":
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    provider = TracerProvider()
    try:  # exported like a real deployment would, to a closed loopback port
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")))
    except ImportError:
        pass
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("bench")
    def f():
        with tracer.start_as_current_span("step"):
            pass
    out["us"] = cpu_per_call(f, n)
elif kind == "wrapper_stub":  # the wrapper's own CPU: a create() that returns a parsed ChatCompletion at once
    from openai.types.chat import ChatCompletion
    from strata_capture.openai_wrap import wrap_openai
    done = ChatCompletion.model_validate({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}})
    class Completions:
        def create(self, **kw):
            return done
    class Chat:
        completions = None
    class Client:
        pass
    plain, wrapped = Client(), Client()
    for c in (plain, wrapped):
        c.chat = Chat()
        c.chat.completions = Completions()
    sc = configure()
    wrap_openai(wrapped)
    a = cpu_per_call(lambda: plain.chat.completions.create(model="gpt-4o", messages=MSG), n)
    b = cpu_per_call(lambda: wrapped.chat.completions.create(model="gpt-4o", messages=MSG), n)
    out.update(plain_us=a, wrapped_us=b, us=b - a)
elif kind == "openai_ab":  # real client on a mock transport, unwrapped and wrapped blocks interleaved
    plain, wrapped = chat_client(), chat_client()
    sc = configure()
    sc.wrap_openai(wrapped)
    best = {"plain": float("inf"), "wrapped": float("inf")}
    for _ in range(6):
        for name, c in (("plain", plain), ("wrapped", wrapped)):
            best[name] = min(best[name], cpu_per_call(lambda: c.chat.completions.create(model="gpt-4o", messages=MSG), n // 6, blocks=1))
    out.update(plain_us=best["plain"], wrapped_us=best["wrapped"], us=best["wrapped"] - best["plain"])
elif kind == "openai_openllmetry":  # same process: the plain client first, then instrumented (it patches classes)
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    client = chat_client()
    call = lambda: client.chat.completions.create(model="gpt-4o", messages=MSG)  # noqa: E731
    plain = cpu_per_call(call, n)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")))
    trace.set_tracer_provider(provider)
    OpenAIInstrumentor().instrument()
    client = chat_client()
    instrumented = cpu_per_call(call, n)
    out.update(plain_us=plain, instrumented_us=instrumented, us=instrumented - plain)
elif kind == "publish":  # the publisher's CPU per span: convert to OTLP/JSON, gzip, move into a local drop
    sc = configure()
    @sc.observe
    def f(question, user):
        return question
    for _ in range(n):
        f("what is the refund policy?", "u1")
    sc.get_runtime().writer.seal()
    from strata_capture.publisher import Publisher
    from strata_capture.sink import make_sink
    t = time.process_time()
    report = Publisher(os.path.join(tmp, kind), make_sink(os.path.join(tmp, "drops")), 600).run(final=True)
    out.update(us=(time.process_time() - t) / n * 1e6, published=report.spans_published)
elif kind == "rss":
    sc = configure()
    import strata_capture.runtime as rt
    sc.configure(spool_dir=os.path.join(tmp, "rss"), service="bench", metrics="off", flush_interval_s=0.5,
                 drop_url="/dev/null/unreachable", segment_age_s=1.0)  # a sink that always fails
    @sc.observe
    def f(question, user):
        return question
    def rss_mb():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    for _ in range(20000):
        f("what is the refund policy?", "u1")
    time.sleep(1.2)  # let the publisher fail at least once, so its imports and buffers are in the baseline
    before = rss_mb()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        f("what is the refund policy?", "u1")
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update(rss_growth_mb=rss_mb() - before, peak_over_baseline_mb=peak - before, spans_per_s=n / wall,
               spans_per_cpu_s=n / cpu,
               written=sc.stats().get("spans_written", 0), publish_errors=sc.stats().get("publish_errors", 0))
    sizes = sum(os.path.getsize(os.path.join(r, x)) for r, _, fs in os.walk(os.path.join(tmp, "rss")) for x in fs)
    out["spool_mb"] = sizes / 2**20
elif kind == "loop":  # plain and wrapped clients, rounds interleaved; the server in its own process
    import asyncio, logging, openai
    from tests.capture.loop_probe import LoopProbe
    from tests.capture.sse_server import ServerProcess, reply_text
    stalls = []
    class Catch(logging.Handler):
        def emit(self, record):
            if "took" in record.getMessage():
                stalls.append(float(record.args[-1]) if record.args else 0.0)
    logging.getLogger("asyncio").addHandler(Catch())
    sc = configure()
    async def streams(client, n):
        async def one():
            stream = await client.chat.completions.create(model="gpt-4o", messages=MSG, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream])
        got = await asyncio.gather(*(one() for _ in range(n)))
        assert got == [reply_text(3)] * n
    async def main(url):
        asyncio.get_running_loop().slow_callback_duration = 0.001
        clients = {"plain": openai.AsyncOpenAI(base_url=url, api_key="k", max_retries=0, timeout=600),
                   "wrapped": sc.wrap_openai(openai.AsyncOpenAI(base_url=url, api_key="k", max_retries=0, timeout=600))}
        for c in clients.values():
            await streams(c, 20)  # connections and first-use imports
        for rnd in range(2):
            for name, c in clients.items():
                stalls.clear()
                with LoopProbe() as probe:
                    t = time.perf_counter()
                    await streams(c, n)
                    sec = time.perf_counter() - t
                out[f"{name}_{rnd}"] = {"seconds": sec, "stalls": len(stalls), "worst_ms": max(stalls, default=0) * 1e3,
                                        **probe.summary()}
    with ServerProcess(3) as url:
        asyncio.run(main(url), debug=True)
print(json.dumps(out))
'''


def measure(kind: str, n: int, tmp: str, env: dict | None = None) -> dict | None:
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(REPO), kind, str(n), tmp], capture_output=True,
                          text=True, cwd=str(REPO), env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        if "ModuleNotFoundError" in proc.stderr:
            return None  # the comparison library is not installed
        raise RuntimeError(f"{kind}: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def otlp_receiver():
    """The URL of a loopback OTLP/HTTP receiver in its own process (its CPU is not the measured process's)."""
    proc = subprocess.Popen([sys.executable, str(REPO / "bench" / "otlp_receiver.py")], stdout=subprocess.PIPE,
                            text=True)
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.terminate()
        proc.wait(10)


def with_delivery(tmp: str, ours: float, publisher: float, langfuse: float | None) -> dict:
    """Process CPU per call including getting its span out (same method both sides: calls, then a flush that
    delivers every span; best of 3 rounds): ours publishes into a local drop, Langfuse exports OTLP/HTTP (gzip) to a
    loopback receiver that accepts everything, so every span is encoded and sent."""
    n = max(CALLS // 4, 1500)
    total = measure("decorator_total", n, tmp)["us"]
    print(f"CPU including delivery (calls + publishing/exporting every span, process CPU, best of 3 rounds):")
    print(f"  strata_capture @observe + publish    {total:8.2f} us per call  (decorator + publisher measured apart: "
          f"{ours + publisher:.2f} us)")
    figs = {"decorator_total_us": round(total, 2), "decorator_plus_publisher_us": round(ours + publisher, 2)}
    if langfuse is None:
        return figs
    with otlp_receiver() as url:
        lf = measure("langfuse_total", n, tmp, {"BENCH_OTLP_URL": url})
    closed = measure("langfuse_total", n, tmp)
    print(f"  Langfuse @observe + flush()          {lf['us']:8.2f} us per call  ours is {lf['us'] / total:,.1f}x cheaper "
          f"(to a loopback OTLP receiver: {lf['spans']:,} of {lf['calls']:,} spans received)")
    print(f"  Langfuse, exporter at a closed port  {closed['us']:8.2f} us per call  (every batch still encoded and "
          f"compressed; the refused POST retried with backoff sleeps, which take wall time, not CPU)")
    print(f"call-path CPU: ours {ours:.2f} us, Langfuse {langfuse:.2f} us = {langfuse / ours:.1f}x; including delivery: "
          f"ours {total:.2f} us, Langfuse {lf['us']:.2f} us = {lf['us'] / total:.1f}x")
    figs.update(langfuse_total_us=round(lf["us"], 2), langfuse_total_ratio=round(lf["us"] / total, 1),
                langfuse_total_spans_received=lf["spans"], langfuse_total_calls=lf["calls"],
                langfuse_total_closed_port_us=round(closed["us"], 2))
    return figs


STDLIB_DEPS = "json, re, threading, random, contextvars, fcntl, functools, errno, atexit, hashlib, math, typing"


def import_ms(flags: list[str], runs: int = 9, what: str = "strata_capture") -> float:
    """Best of `runs` fresh interpreters (the least disturbed by other load)."""
    code = f"import time; t = time.perf_counter(); import {what}; print((time.perf_counter() - t) * 1000)"
    return min(float(subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True,
                                    cwd=str(REPO), check=True).stdout) for _ in range(runs))


def own_import_ms(runs: int = 5) -> float:
    """Self time of the strata_capture modules alone (-X importtime), best of `runs`."""
    best = float("inf")
    for _ in range(runs):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import strata_capture"], capture_output=True,
                             text=True, cwd=str(REPO), check=True).stderr
        own = sum(int(line.split("|")[0].split(":")[1]) for line in err.splitlines()
                  if line.strip().endswith(("strata_capture",)) or "strata_capture." in line)
        best = min(best, own / 1000)
    return best


def main() -> None:
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        plain = measure("plain", CALLS, tmp)["us"]
        floor = measure("floor", CALLS, tmp)["us"]
        ours = measure("decorator", CALLS, tmp)["us"]
        span_cm = measure("span", CALLS, tmp)
        print(f"undecorated call            {plain:8.2f} us CPU")
        print(f"json.dumps + os.write       {floor:8.2f} us CPU  (reference: the least a durable logger does)")
        print(f"strata_capture @observe     {ours:8.2f} us CPU  (goal <= 20 us) = {ours / floor:.1f}x the reference")
        print(f"strata_capture span()       {span_cm['us']:8.2f} us CPU  = {span_cm['spans_per_cpu_s']:,.0f} spans/s per core into the spool (goal >= 50,000)")
        figures.update(plain_us=round(plain, 2), floor_us=round(floor, 2), decorator_vs_floor=round(ours / floor, 2),
                       decorator_us=round(ours, 2), span_us=round(span_cm["us"], 2),
                       spool_spans_per_cpu_s=round(span_cm["spans_per_cpu_s"]))
        for kind, label in (("langfuse", "Langfuse @observe"), ("otel", "OpenTelemetry span + OTLP")):
            m = measure(kind, max(CALLS // 4, 1000), tmp)
            if m is None:
                print(f"{label:<27} not installed: skipped")
                figures[f"{kind}_us"] = None
            else:
                print(f"{label:<27} {m['us']:8.2f} us CPU  ours is {m['us'] / ours:,.1f}x cheaper")
                figures[f"{kind}_us"] = round(m["us"], 2)
                figures[f"{kind}_ratio"] = round(m["us"] / ours, 1)
        stub = measure("wrapper_stub", CALLS, tmp)
        print(f"wrap_openai, its own CPU     {stub['us']:8.2f} us added per non-streamed call (goal <= 30 us; "
              f"create() stubbed to return a parsed ChatCompletion)")
        calls = max(CALLS // 10, 600)
        ab = measure("openai_ab", calls, tmp)
        base = ab["plain_us"]
        print(f"OpenAI call on a mock transport {base:7.1f} us CPU; wrapped {ab['wrapped_us']:.1f} us "
              f"({ab['us']:+.1f} us, interleaved blocks, best of 6)")
        figures.update(wrapper_added_us=round(stub["us"], 2), openai_call_us=round(base, 1),
                       openai_wrapped_us=round(ab["wrapped_us"], 1), openai_ab_added_us=round(ab["us"], 1))
        try:
            ollm = measure("openai_openllmetry", calls, tmp)
        except RuntimeError as exc:  # installed but incompatible with this openai: say so, keep the other figures
            print(f"OpenLLMetry instrumentation  failed: {exc}")
            ollm = None
        if ollm is None:
            print("OpenLLMetry instrumentation  not installed (or failed): skipped")
            figures["openllmetry_added_us"] = None
        else:
            print(f"OpenLLMetry OpenAI instrumentation (OTLP export to a closed port): {ollm['plain_us']:.1f} -> "
                  f"{ollm['instrumented_us']:.1f} us per call, {ollm['us']:+.1f} us (same process, before/after)")
            figures["openllmetry_added_us"] = round(ollm["us"], 1)
        pub = measure("publish", min(SPANS, 100_000), tmp)
        print(f"publisher (background), CPU per span {pub['us']:8.2f} us  (convert, gzip, move into the drop; "
              f"{pub['published']:,} spans)")
        figures["publisher_us_per_span"] = round(pub["us"], 2)
        figures.update(with_delivery(tmp, ours, pub["us"], figures.get("langfuse_us")))
        rss = measure("rss", SPANS, tmp)
        print(f"{SPANS:,} decorated calls, sink down: {rss['spans_per_s']:,.0f} spans/s wall, "
              f"{rss['spans_per_cpu_s']:,.0f} per CPU-second, RSS growth {rss['rss_growth_mb']:.1f} MB (goal <= 5 MB "
              f"per 1M; peak {rss['peak_over_baseline_mb']:.1f} MB over the baseline), spool {rss['spool_mb']:,.0f} MB, {rss['publish_errors']} failed publish rounds")
        figures.update(rss_spans=SPANS, rss_growth_mb=round(rss["rss_growth_mb"], 2),
                       rss_peak_over_baseline_mb=round(rss["peak_over_baseline_mb"], 2),
                       sink_down_spans_per_s=round(rss["spans_per_s"]), spool_mb=round(rss["spool_mb"], 1))
        loop = measure("loop", 1000, tmp)
        for rnd in (0, 1):
            p, w = loop[f"plain_{rnd}"], loop[f"wrapped_{rnd}"]
            print(f"1,000 concurrent streams, asyncio debug, round {rnd + 1}: callbacks over 1 ms plain {p['stalls']} "
                  f"(worst {p['worst_ms']:.0f} ms, {p['seconds']:.1f} s), wrapped {w['stalls']} (worst "
                  f"{w['worst_ms']:.0f} ms, {w['seconds']:.1f} s); over 1 ms of CPU: plain {p['slow_cpu_over_limit']}, "
                  f"wrapped {w['slow_cpu_over_limit']}; in one GC: plain {p['slow_gc_over_limit']}, wrapped "
                  f"{w['slow_gc_over_limit']}")
            print(f"    wrapped: {w['slow_with_our_code']} slow callbacks ran capture code, {w['slow_tipped_by_our_code']} "
                  f"would have used under 1 ms of CPU without it, {w['callbacks_with_1ms_of_our_code']} spent 1 ms in "
                  f"it; capture share of the slow callbacks' CPU {w['our_share_of_slow_cpu']:.1%}; capture code per "
                  f"callback p99 {w['ours_per_callback_p99_us']:.0f} us, max {w['ours_per_callback_max_us']:.0f} us; "
                  f"per call p99: start {w['start_p99_us']:.0f}, after {w['after_p99_us']:.0f}, chunk "
                  f"{w['add_p99_us']:.0f}, finalize {w['finish_p99_us']:.0f} us (thread CPU, GC apart)")
        both = [loop[f"wrapped_{r}"] for r in (0, 1)]
        figures.update(stalls_plain=[loop[f"plain_{r}"]["stalls"] for r in (0, 1)],
                       stalls_wrapped=[w["stalls"] for w in both],
                       stalls_wrapped_with_capture_code=[w["slow_with_our_code"] for w in both],
                       stalls_tipped_by_capture_code=[w["slow_tipped_by_our_code"] for w in both],
                       callbacks_with_1ms_of_capture_code=sum(w["callbacks_with_1ms_of_our_code"] for w in both),
                       capture_share_of_slow_cpu=round(max(w["our_share_of_slow_cpu"] for w in both), 4),
                       capture_us_per_callback_max=round(max(w["ours_per_callback_max_us"] for w in both)),
                       capture_finalize_p99_us=round(max(w["finish_p99_us"] for w in both)))
    cold, bare, deps = import_ms([]), import_ms(["-S"]), import_ms(["-S"], what=STDLIB_DEPS)
    print(f"import strata_capture: {cold:.1f} ms (goal <= 30 ms); in a bare interpreter (-S) {bare:.1f} ms, of which "
          f"{deps:.1f} ms are the standard-library modules it uses (reference, same run); best of 9 each")
    own = own_import_ms()
    print(f"strata_capture's own modules (self time, -X importtime): {own:.1f} ms")
    figures.update(import_ms=round(cold, 1), import_ms_no_site=round(bare, 1), import_stdlib_deps_ms=round(deps, 1),
                   import_own_modules_ms=round(own, 1))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
