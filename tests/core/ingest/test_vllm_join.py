"""vLLM server logs: the lines of one request are joined into one entry (prompt, tokens, latency, ts), interleaved
requests stay apart, unfinished ones are emitted and marked, memory stays bounded. Lines written for these tests."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.readers.request_join import RequestJoiner, prompt_text, token_count

LOG = r"""INFO 05-02 09:00:00 logger.py:37] Received request chatcmpl-aa1: prompt: '<|user|>\nWhat\'s 2+2?<|assistant|>\n', params: SamplingParams(n=1, temperature=0.7, top_p=1.0, max_tokens=256, seed=None), prompt_token_ids: [1, 2, 3, 4, 5], lora_request: None, prompt_adapter_request: None.
INFO 05-02 09:00:00 async_llm_engine.py:173] Added request chatcmpl-aa1.
INFO 05-02 09:00:01 logger.py:37] Received request chatcmpl-bb2: prompt: "It's a test", params: SamplingParams(n=1, temperature=0.0, max_tokens=16), prompt_token_ids: [7, 8, 9], lora_request: None.
INFO 05-02 09:00:02 metrics.py:406] Avg prompt throughput: 5.0 tokens/s, Avg generation throughput: 10.0 tokens/s
INFO 05-02 09:00:03 async_llm_engine.py:140] Finished request chatcmpl-aa1.
INFO 05-02 09:00:04 logger.py:37] Received request chatcmpl-cc3: prompt: 'never finished', params: SamplingParams(max_tokens=8), prompt_token_ids: [1], lora_request: None.
INFO:     10.0.0.1:5000 - "POST /v1/chat/completions HTTP/1.1" 200 OK
INFO 05-02 09:00:05 async_llm_engine.py:180] Aborted request chatcmpl-bb2.
INFO:     10.0.0.1:5001 - "POST /v1/chat/completions HTTP/1.1" 200 OK
"""


def run(tmp_path, text, name="vllm.log"):
    p = tmp_path / name
    p.write_text(text)
    t, r = ingest(str(p))
    return t.to_pylist(), r


def test_interleaved_requests_joined_and_unfinished_marked(tmp_path):
    rows, r = run(tmp_path, LOG)
    assert r.rows_rejected == 0
    vllm = [e for e in rows if e["request_id"]]
    assert [(e["line"], e["request_id"]) for e in vllm] == [(1, "chatcmpl-aa1"), (3, "chatcmpl-bb2"), (6, "chatcmpl-cc3")]
    aa, bb, cc = vllm
    assert (aa["input"], aa["prompt_tokens"], aa["latency_ms"], aa["status"]) == (
        "<|user|>\nWhat's 2+2?<|assistant|>\n", 5, 3000.0, "ok")
    assert json.loads(aa["attributes"])["sampling"] == {"n": 1, "temperature": 0.7, "top_p": 1.0, "max_tokens": 256}
    assert (bb["input"], bb["prompt_tokens"], bb["latency_ms"], bb["status"]) == ("It's a test", 3, 4000.0, "error")
    assert json.loads(bb["attributes"])["finish_reason"] == "abort"
    assert cc["latency_ms"] is None and cc["status"] is None
    assert json.loads(cc["attributes"])["joined"] == {"lines": 1, "open": True}
    assert all(e["error"] is None for e in rows)  # no text field is taken for an error


def test_v1_lines_behind_timestamps_give_ts_and_finish_line_tokens(tmp_path):
    text = (
        "2025-03-01T10:00:00.250Z (APIServer pid=1) INFO 03-01 10:00:00 [logger.py:43] Received request chatcmpl-x9: "
        "prompt: 'Tell me a joke', params: SamplingParams(n=1, temperature=1.0, max_tokens=64), prompt_token_ids: None, "
        "prompt_embeds shape: None, lora_request: None.\n"
        "2025-03-01T10:00:00.300Z (APIServer pid=1) INFO 03-01 10:00:00 [async_llm.py:270] Added request chatcmpl-x9.\n"
        "2025-03-01T10:00:01.800Z (EngineCore pid=9) INFO 03-01 10:00:01 [scheduler.py:1] Request finished: req chatcmpl-x9 "
        "finish_reason=stop prompt_tokens=12 generated_tokens=30 elapsed_s=1.52\n")
    rows, r = run(tmp_path, text)
    assert r.rows_rejected == 0 and len(rows) == 1
    e = rows[0]
    assert (e["request_id"], e["input"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) == (
        "chatcmpl-x9", "Tell me a joke", 12, 30, 1520.0)
    assert e["ts"].isoformat() == "2025-03-01T10:00:00.250000+00:00"


def test_latency_from_iso_prefixes_when_no_elapsed(tmp_path):
    text = ("2025-03-01T10:00:00.000Z INFO 03-01 10:00:00 logger.py:1] Received request r-1: prompt: 'a', params: "
            "SamplingParams(max_tokens=4), prompt_token_ids: [5, 6], lora_request: None.\n"
            "2025-03-01T10:00:02.500Z INFO 03-01 10:00:02 engine.py:1] Finished request r-1.\n")
    rows, _ = run(tmp_path, text)
    assert [(e["request_id"], e["latency_ms"], e["prompt_tokens"]) for e in rows] == [("r-1", 2500.0, 2)]


def test_open_request_budget_evicts_oldest_marked():
    j = RequestJoiner(max_open=2)
    for i, rid in enumerate(("a", "b", "c")):
        j.add(i + 1, "vllm_received", {"request_id": rid, "prompt": f"'{rid}'"})
    j.add(4, "vllm_finished", {"request_id": "b"})
    out = {r["request_id"]: r for _, r in j.finish()}
    assert out["a"]["joined"] == {"lines": 1, "incomplete": True}
    assert out["b"]["joined"] == {"lines": 2} and out["b"]["status"] == "ok"
    assert out["c"]["joined"] == {"lines": 1, "open": True}


def test_second_finish_line_joins_the_finished_request():
    j = RequestJoiner()
    j.add(1, "vllm_received", {"request_id": "r", "prompt": "'p'", "prompt_token_ids": "[1, 2, 3]"})
    j.add(2, "vllm_finished", {"request_id": "r"})
    j.add(3, "vllm_request", {"request_id": "r", "prompt_tokens": 3, "completion_tokens": 9, "latency_ms": 80.0})
    out = j.finish()
    assert len(out) == 1 and (out[0][1]["completion_tokens"], out[0][1]["latency_ms"]) == (9, 80.0)


def test_repr_literals_and_token_lists():
    assert prompt_text("'it\\'s\\n'") == "it's\n" and prompt_text('"say \\"hi\\""') == 'say "hi"'
    assert prompt_text("None") is None and prompt_text("'unterminated") == "unterminated"
    assert (token_count("[1, 2, 3]"), token_count("[]"), token_count("None"), token_count("[1, 2, ...]")) == (3, 0, None, None)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 5000), st.booleans()), min_size=1, max_size=8),
       st.randoms(use_true_random=False))
def test_any_interleaving_joins_each_request_once(reqs, rnd):
    """Reference: each request's own numbers. Received lines come in order, finish lines anywhere after their own."""
    events = [(i, "recv") for i in range(len(reqs))]
    for i, (_, _, finished) in enumerate(reqs):
        if finished:
            pos = rnd.randint(events.index((i, "recv")) + 1, len(events))
            events.insert(pos, (i, "fin"))
    j = RequestJoiner()
    for n, (i, what) in enumerate(events, 1):
        p, g, _ = reqs[i]
        if what == "recv":
            j.add(n, "vllm_received", {"request_id": f"req-{i}", "prompt": repr(f"prompt {i}")})
        else:
            j.add(n, "vllm_request", {"request_id": f"req-{i}", "prompt_tokens": p, "completion_tokens": g})
    out = [r for _, r in j.finish()]
    assert [r["request_id"] for r in out] == [f"req-{i}" for i in range(len(reqs))]
    for i, (p, g, finished) in enumerate(reqs):
        r = out[i]
        assert r["prompt"] == f"prompt {i}"
        assert (r.get("prompt_tokens"), r.get("completion_tokens"), r["joined"].get("open")) == (
            (p, g, None) if finished else (None, None, True))


def test_older_received_line_with_sampling_params(tmp_path):
    text = ("INFO 01-10 08:00:00 async_llm_engine.py:371] Received request cmpl-41c2-0: prompt: 'Hello', "
            "sampling_params: SamplingParams(n=1, temperature=0.2, max_tokens=32), prompt_token_ids: [9, 8], "
            "lora_request: None.\n"
            "INFO 01-10 08:00:00 metrics.py:1] Avg prompt throughput: 0.0 tokens/s\n"
            "INFO 01-10 08:00:01 async_llm_engine.py:111] Finished request cmpl-41c2-0.\n")
    rows, r = run(tmp_path, text)
    assert r.rows_rejected == 0 and r.rows_skipped == 1
    assert [(e["request_id"], e["input"], e["prompt_tokens"], e["latency_ms"]) for e in rows] == [
        ("cmpl-41c2-0", "Hello", 2, 1000.0)]
    assert json.loads(rows[0]["attributes"])["sampling"] == {"n": 1, "temperature": 0.2, "max_tokens": 32}


def test_engine_id_with_random_suffix_joins_the_api_id(tmp_path):
    """Recent vLLM logs the API id on `Received request` and `<api id>-<8 hex>` on the scheduler's finish line."""
    text = ("(APIServer pid=1) INFO 09-18 11:34:58 [logger.py:40] Received request chatcmpl-5f0e: prompt: 'hi', "
            "params: SamplingParams(max_tokens=10), prompt_token_ids: None, lora_request: None.\n"
            "(EngineCore pid=2) INFO 09-18 11:35:00 [scheduler.py:1] Request finished: req chatcmpl-5f0e-1a2b3c4d "
            "finish_reason=stop prompt_tokens=9 generated_tokens=4 elapsed_s=1.9\n"
            "(EngineCore pid=2) INFO 09-18 11:35:01 [scheduler.py:1] Request finished: req chatcmpl-77aa-0badc0de "
            "finish_reason=length prompt_tokens=3 generated_tokens=10 elapsed_s=0.5\n")
    rows, _ = run(tmp_path, text)
    assert [(e["request_id"], e["input"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) for e in rows] == [
        ("chatcmpl-5f0e", "hi", 9, 4, 1900.0), ("chatcmpl-77aa-0badc0de", None, 3, 10, 500.0)]


def test_recent_vllm_details_received_and_generated_response_lines(tmp_path):
    """Recent vLLM: the prompt on a DEBUG `details` line before `Received` (params only); `--enable-log-outputs`
    writes the answer (`Generated response`), streamed requests as deltas and a complete line."""
    text = ("2025-10-01T10:00:00.000Z DEBUG 10-01 10:00:00 [logger.py:40] Request chatcmpl-n1 details: prompt: "
            "'<|user|>hi', prompt_token_ids: [1, 2, 3, 4], prompt_embeds shape: None.\n"
            "2025-10-01T10:00:00.001Z INFO 10-01 10:00:00 [logger.py:49] Received request chatcmpl-n1: params: "
            "SamplingParams(n=1, temperature=0.2, max_tokens=50), lora_request: None.\n"
            "2025-10-01T10:00:00.002Z INFO 10-01 10:00:00 [logger.py:49] Received request chatcmpl-s2: params: "
            "SamplingParams(n=1, max_tokens=9), lora_request: None.\n"
            "2025-10-01T10:00:01.250Z INFO 10-01 10:00:01 [logger.py:70] Generated response chatcmpl-n1: output: "
            "'Hello! How can I help?', output_token_ids: [5, 6, 7], finish_reason: stop\n"
            "2025-10-01T10:00:01.300Z INFO 10-01 10:00:01 [logger.py:70] Generated response chatcmpl-s2 (streaming "
            "delta): output: 'Bon', output_token_ids: [8], finish_reason: None\n"
            "2025-10-01T10:00:01.400Z INFO 10-01 10:00:01 [logger.py:70] Generated response chatcmpl-s2 (streaming "
            "delta): output: 'jour', output_token_ids: [9], finish_reason: length\n"
            "2025-10-01T10:00:01.500Z INFO 10-01 10:00:01 [logger.py:70] Generated response chatcmpl-s2 (streaming "
            "complete): output: 'Bonjour', output_token_ids: None, finish_reason: streaming_complete\n")
    rows, r = run(tmp_path, text)
    assert r.rows_rejected == 0 and r.rows_skipped == 0
    got = [(e["request_id"], e["input"], e["output"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"],
            e["status"], json.loads(e["attributes"]).get("finish_reason")) for e in rows]
    assert got == [("chatcmpl-n1", "<|user|>hi", "Hello! How can I help?", 4, 3, 1250.0, "ok", "stop"),
                   ("chatcmpl-s2", None, "Bonjour", None, None, 1498.0, "ok", "length")]
    assert json.loads(rows[0]["attributes"])["sampling"] == {"n": 1, "temperature": 0.2, "max_tokens": 50}


def test_stream_deltas_without_a_complete_line_are_joined():
    j = RequestJoiner()
    j.add(1, "vllm_received", {"request_id": "r", "params": "SamplingParams(max_tokens=4)"})
    for n, piece in ((2, "'a'"), (3, "'b'")):
        j.add(n, "vllm_output", {"request_id": "r", "output": piece, "delta": "delta", "finish_reason": "None"})
    (_, rec), = j.finish()
    assert (rec["output"], rec["joined"]) == ("ab", {"lines": 3, "open": True})
