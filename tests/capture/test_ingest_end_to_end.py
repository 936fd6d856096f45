"""Application -> SDK -> drop on file:// and s3:// (moto) -> Strata's existing ingest: zero rejects, one entry per
trace, tool names in call order, model/tokens/latency/input/output; scrubbed content holds no PII by the invariant
family's detector, raw content with planted PII does."""
from __future__ import annotations

import json
import time

import openai
import pytest
import s3fs
from moto.server import ThreadedMotoServer

import strata_capture as sc
from pipeline.core.ingest.drop_ingest import ingest_drop
from pipeline.core.storage.drops import list_drops
from pipeline.core.invariants.text_scan import detect_pii_in_strings
from pipeline.core.storage.lake import read_entries

from .helpers import ingest_one_drop
from .openai_server import OpenAIHandler

CREDS = {"key": "testing", "secret": "testing"}
QUESTIONS = ["Where is my order? I'm jane.doe@example.com", "Refund to card 4111 1111 1111 1111 please",
             "Weather in Paris?"]


def run_app(base_url: str) -> None:
    client = sc.wrap_openai(openai.OpenAI(base_url=base_url, api_key="k", max_retries=0))

    @sc.observe(kind="tool")
    def lookup_order(email):
        return {"status": "shipped"}

    @sc.observe(kind="tool")
    def issue_refund(amount):
        return "ok"

    @sc.observe(kind="agent", name="support_agent")
    def agent(question):
        sc.branch("router", "orders" if "order" in question else "refunds", condition="keyword")
        lookup_order(email="someone")
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])
        issue_refund(amount=3)
        stream = client.chat.completions.create(model="gpt-4o", stream=True, stream_options={"include_usage": True},
                                                messages=[{"role": "user", "content": "summarize"}])
        summary = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        return reply.choices[0].message.content + " / " + summary

    for i, q in enumerate(QUESTIONS):
        with sc.trace_context(session_id=f"s{i}", user_id="u1"):
            agent(q)


@pytest.fixture
def llm(httpserver):
    handler = OpenAIHandler()
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    return httpserver.url_for("/v1")


def check_entries(rows: list[dict]) -> None:
    assert len(rows) == len(QUESTIONS)  # one entry per trace
    by_input = {json.loads(r["input"])["question"]: r for r in rows}
    assert set(by_input) == {"Where is my order? I'm <EMAIL>", "Refund to card <CREDIT_CARD> please",
                             "Weather in Paris?"}
    for r in rows:
        assert r["tool_calls"] == ["lookup_order", "issue_refund"]  # call order
        assert r["model"] == "gpt-4o-2024-08-06" and r["provider"] == "openai" and r["service"] == "shop-bot"
        assert (r["prompt_tokens"], r["completion_tokens"]) == (22, 8)  # two calls, 11 + 4 each
        assert r["output"] == "Hello there, friend / Hello there, friend"
        assert r["latency_ms"] > 0 and r["status"] == "ok" and r["version"] == "2.1.0"
        assert r["session_id"].startswith("s") and r["user_id"] == "u1"
        assert json.loads(r["attributes"])["vendor_detail"]["llm_calls"] == 2


def test_file_drop_ingests_one_entry_per_trace(tmp_path, llm):
    drops = tmp_path / "drops"
    sc.configure(drop_url=f"file://{drops}", spool_dir=str(tmp_path / "spool"), service="shop-bot", version="2.1.0",
                 environment="prod", flush_interval_s=3600, metrics="off")
    try:
        run_app(llm)
        assert sc.flush(10)["completed"]
    finally:
        sc.shutdown()
    listed = list_drops(str(drops))  # what new_log_drop_sensor sees: the hour folder, never _staging
    assert [d.key for d in listed] == [f"capture-shop-bot-{time.strftime('%Y%m%dT%H', time.gmtime())}"] or \
        all(d.key.startswith("capture-shop-bot-") for d in listed)
    result = ingest_drop(listed[0].url, str(tmp_path / "lake"), listed[0].key)
    assert result.result.summary()["rows_rejected"] == 0
    rows = read_entries(str(tmp_path / "lake"), listed[0].key).to_pylist()
    check_entries(rows)
    texts = [r["input"] for r in rows] + [r["output"] for r in rows]
    assert detect_pii_in_strings(texts) == [set()] * len(texts)


def test_s3_drop_ingests_and_raw_content_keeps_planted_pii(tmp_path, llm, monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                     ("AWS_DEFAULT_REGION", "us-east-1")):
            monkeypatch.setenv(k, v)
        opts = {**CREDS, "client_kwargs": {"endpoint_url": endpoint}}
        fs = s3fs.S3FileSystem(**opts, skip_instance_cache=True)
        fs.mkdir("capture-bucket")
        sc.configure(drop_url="s3://capture-bucket/drops", storage_options=opts, spool_dir=str(tmp_path / "spool"),
                     service="shop-bot", version="2.1.0", flush_interval_s=3600, metrics="off")
        try:
            run_app(llm)
            assert sc.flush(15)["completed"]
        finally:
            sc.shutdown()
        [drop] = list_drops("s3://capture-bucket/drops", opts)
        result = ingest_drop(drop.url, str(tmp_path / "lake"), drop.key, storage_options=opts)
        assert result.result.summary()["rows_rejected"] == 0
        check_entries(read_entries(str(tmp_path / "lake"), drop.key).to_pylist())

        sc.configure(drop_url="s3://capture-bucket/raw", storage_options=opts, spool_dir=str(tmp_path / "spool2"),
                     service="shop-bot", version="2.1.0", content="raw", flush_interval_s=3600, metrics="off")
        try:
            run_app(llm)
            assert sc.flush(15)["completed"]
        finally:
            sc.shutdown()
        [raw] = list_drops("s3://capture-bucket/raw", opts)
        ingest_drop(raw.url, str(tmp_path / "lake"), "raw", storage_options=opts)
        rows = read_entries(str(tmp_path / "lake"), "raw").to_pylist()
        found = detect_pii_in_strings([r["input"] for r in rows])
        assert sorted(map(sorted, found)) == [[], ["credit_card"], ["email"]]
    finally:
        server.stop()


def test_demo_drop_written_through_the_sdk(tmp_path):
    from strata_capture.demo import write_demo_drop

    report = write_demo_drop(str(tmp_path / "drops"), traces=20)
    assert report["completed"] and report["spans_published"] > 0
    rows = ingest_one_drop(str(tmp_path / "drops"), str(tmp_path / "lake"))
    assert len(rows) == 20
    assert {r["service"] for r in rows} == {"support-bot"} and all(r["prompt_tokens"] for r in rows)
    assert any(r["tool_calls"] == ["lookup_order", "issue_refund"] for r in rows)
    texts = [r["input"] for r in rows] + [r["output"] for r in rows]
    assert detect_pii_in_strings(texts) == [set()] * len(texts)
    # the demo's clock is seeded: a second run writes the same latencies, so the demo's figures repeat
    write_demo_drop(str(tmp_path / "again"), traces=20)
    again = ingest_one_drop(str(tmp_path / "again"), str(tmp_path / "lake2"))
    latencies = sorted((r["input"], r["latency_ms"]) for r in rows)
    assert latencies == sorted((r["input"], r["latency_ms"]) for r in again)
    assert len({lat for _, lat in latencies}) > 10 and all(20 < lat < 400 for _, lat in latencies)


def test_request_id_and_prompt_version_fill_their_columns(tmp_path, llm):
    """trace_context(request_id=, prompt_version=) -> the entry's request_id and version (the prompt version wins over
    the service version, which stays in vendor_detail); a trace without them keeps the trace id and service version."""
    drops = tmp_path / "drops"
    sc.configure(drop_url=f"file://{drops}", spool_dir=str(tmp_path / "spool"), service="shop-bot", version="2.1.0",
                 flush_interval_s=3600, metrics="off")
    client = sc.wrap_openai(openai.OpenAI(base_url=llm, api_key="k", max_retries=0))

    @sc.observe(kind="agent")
    def agent(question):
        return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])

    try:
        for i in range(3):
            with sc.trace_context(session_id=f"s{i}", request_id=f"req-{i}", prompt_version=f"p{i % 2}"):
                agent(f"question {i}")
        agent("no context")
        assert sc.flush(10)["completed"]
    finally:
        sc.shutdown()
    rows = ingest_one_drop(str(drops), str(tmp_path / "lake"))
    assert len(rows) == 4  # one entry per trace
    by_request = {r["request_id"]: r for r in rows}
    for i in range(3):
        r = by_request[f"req-{i}"]
        assert (r["version"], r["session_id"]) == (f"p{i % 2}", f"s{i}")
        assert json.loads(r["attributes"])["vendor_detail"]["service_version"] == "2.1.0"
    [plain] = [r for r in rows if not r["request_id"].startswith("req-")]
    assert plain["request_id"] == plain["trace_id"] and plain["version"] == "2.1.0"
    assert "service_version" not in json.loads(plain["attributes"])["vendor_detail"]
