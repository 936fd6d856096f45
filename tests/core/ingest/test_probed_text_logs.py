"""Plain-text server logs probed for generalization: variants of vLLM, TGI/TEI, uvicorn/gunicorn, nginx, Envoy/Istio
behind journald, kubectl, docker compose and Python-logging prefixes, with ANSI colours, CRLF, tracebacks and
progress bars. Shapes follow genuine logs seen in public issue threads and docs; every value was written for these
tests and each expectation was read by hand."""
import json

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.readers.server_log import read_server_log

E = "\x1b"


def run(tmp_path, text: str, name="server.log"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    t, r = ingest(str(p))
    return t.to_pylist(), r


def attrs(e) -> dict:
    return json.loads(e["attributes"]) if e.get("attributes") else {}


def iso(e):
    return e["ts"].isoformat() if e["ts"] else None


def test_old_vllm_sampling_params_after_prefix_pos_and_model_from_args(tmp_path):
    rows, r = run(tmp_path, (
        "INFO 02-01 06:36:10 api_server.py:209] args: Namespace(host=None, port=8000, model='mistralai/Mistral-7B-v0.1', "
        "speculative_model=None, max_log_len=None)\n"
        "INFO 02-01 06:36:12 async_llm_engine.py:436] Received request cmpl-4f1e0a2b-0: prompt: None, prefix_pos: None,"
        "sampling_params: SamplingParams(n=1, best_of=1, temperature=0.2, top_p=1.0, top_k=-1, stop=['USER:'], "
        "max_tokens=128, logprobs=None), prompt_token_ids: [1, 733, 16289, 28793], lora_request: None.\n"
        "INFO 02-01 06:36:15 async_llm_engine.py:110] Finished request cmpl-4f1e0a2b-0.\n"
        "INFO 02-01 06:36:17 metrics.py:161] Avg prompt throughput: 0.8 tokens/s, Avg generation throughput: 12.3 tokens/s\n"))
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (1, 0, 2)
    e = rows[0]
    assert (e["request_id"], e["model"], e["prompt_tokens"], e["latency_ms"], e["status"]) == (
        "cmpl-4f1e0a2b-0", "mistralai/Mistral-7B-v0.1", 4, 3000.0, "ok")
    assert attrs(e)["sampling"] == {"n": 1, "temperature": 0.2, "top_p": 1.0, "max_tokens": 128}


def test_api_server_banner_progress_bars_and_traceback_are_chatter(tmp_path):
    rows, r = run(tmp_path, """INFO 05-10 12:00:00 api_server.py:177] vLLM API server version 0.4.2
INFO 05-10 12:00:00 api_server.py:178] args: Namespace(host='0.0.0.0', port=8000, model='meta-llama/Meta-Llama-3-8B-Instruct', served_model_name=['llama3'])
Loading safetensors checkpoint shards:   0% Completed | 0/4 [00:00<?, ?it/s]
Loading safetensors checkpoint shards: 100% Completed | 4/4 [00:03<00:00,  1.10it/s]
INFO:     Started server process [1]
INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)
INFO 05-10 12:01:00 async_llm_engine.py:529] Received request cmpl-aaa111: prompt: 'Write a haiku about rain', params: SamplingParams(n=1, temperature=0.8, max_tokens=64, seed=7), prompt_token_ids: [128000, 8144, 264, 6520, 39342, 922, 11422], lora_request: None.
INFO 05-10 12:01:02 async_llm_engine.py:120] Finished request cmpl-aaa111.
INFO:     172.17.0.1:50234 - "POST /v1/completions HTTP/1.1" 200 OK
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "/usr/lib/python3.10/site-packages/uvicorn/protocols/http/httptools_impl.py", line 411, in run_asgi
    result = await app(self.scope, self.receive, self.send)
  File "/app/vllm/entrypoints/openai/serving_chat.py", line 88, in create_chat_completion
    raise ValueError("bad template")
ValueError: bad template
INFO:     172.17.0.1:50240 - "POST /v1/chat/completions HTTP/1.1" 500 Internal Server Error
""")
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (3, 0, 13)
    vllm, ok, failed = rows
    assert (vllm["request_id"], vllm["model"], vllm["input"], vllm["prompt_tokens"], vllm["latency_ms"]) == (
        "cmpl-aaa111", "llama3", "Write a haiku about rain", 7, 2000.0)
    assert (ok["line"], ok["status"], failed["line"], failed["status"]) == (9, "ok", 17, "error")


def test_a_line_no_one_reads_after_a_traceback_is_still_rejected(tmp_path):
    rows, r = run(tmp_path, "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'a'\n"
                            "INFO:     1.2.3.4:5 - \"POST /v1/completions HTTP/1.1\" 200 OK\nplain words here\n")
    assert len(rows) == 1 and r.reject_reasons == {"unrecognized line format": 1} and r.rows_skipped == 3


def test_vllm_v1_ray_worker_tag_and_added_request(tmp_path):
    rows, r = run(tmp_path, """(APIServer pid=4711) INFO 02-13 11:33:30 [utils.py:1] non-default args: {'model_tag': 'Qwen/Qwen3-0.6B', 'model': 'Qwen/Qwen3-0.6B'}
(APIServer pid=4711) INFO:     Started server process [4711]
(APIServer pid=4711) INFO 02-13 11:33:33 [logger.py:49] Received request chatcmpl-b1c2d3e4f5a6b7c8: params: SamplingParams(n=1, temperature=0.7, top_p=0.95, max_tokens=100), lora_request: None.
(APIServer pid=4711) INFO 02-13 11:33:33 [async_llm.py:382] Added request chatcmpl-b1c2d3e4f5a6b7c8-9f8e7d6c.
(APIServer pid=4711) INFO:     10.80.1.2:51408 - "POST /v1/chat/completions HTTP/1.1" 200 OK
(APIServer pid=4711) INFO 02-13 11:33:39 [loggers.py:257] Engine 000: Avg prompt throughput: 0.8 tokens/s, Running: 0 reqs
(RayWorkerWrapper pid=312, ip=10.0.0.9) INFO 02-13 11:33:40 [worker.py:10] worker ready
""")
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (2, 0, 5)
    assert (rows[0]["request_id"], rows[0]["model"]) == ("chatcmpl-b1c2d3e4f5a6b7c8", "Qwen/Qwen3-0.6B")
    assert attrs(rows[0])["joined"] == {"lines": 1, "open": True}


def test_journalctl_short_iso_prefix(tmp_path):
    rows, r = run(tmp_path, """2024-05-01T10:00:00+0000 gpu-node-3 vllm[2211]: INFO 05-01 10:00:00 [logger.py:39] Received request chatcmpl-j1: prompt: 'hello there', params: SamplingParams(max_tokens=32), prompt_token_ids: None, lora_request: None.
2024-05-01T10:00:00+0000 gpu-node-3 vllm[2211]: INFO:     127.0.0.1:33000 - "POST /v1/chat/completions HTTP/1.1" 200 OK
2024-05-01T10:00:02+0000 gpu-node-3 vllm[2211]: INFO 05-01 10:00:02 [logger.py:39] Finished request chatcmpl-j1.
2024-05-01T10:00:03.250000+00:00 gpu-node-3 vllm[2211]: INFO:     127.0.0.1:33002 - "POST /v1/chat/completions HTTP/1.1" 400 Bad Request
""")
    assert (len(rows), r.rows_rejected) == (3, 0)
    vllm, a, b = rows
    assert (vllm["request_id"], vllm["input"], vllm["latency_ms"], iso(vllm)) == (
        "chatcmpl-j1", "hello there", 2000.0, "2024-05-01T10:00:00+00:00")
    assert (iso(a), a["status"], iso(b), b["status"]) == (
        "2024-05-01T10:00:00+00:00", "ok", "2024-05-01T10:00:03.250000+00:00", "error")


def test_tgi_router_with_ansi_colours(tmp_path):
    def key(k, v):
        return f"{E}[3m{k}{E}[0m{E}[2m={E}[0m{v}"
    line = (f"{E}[2m2024-06-01T08:00:05.500000Z{E}[0m {E}[32m INFO{E}[0m {E}[1mgenerate{E}[0m{E}[1m{{{E}[0m"
            + key("parameters", "GenerateParameters { temperature: Some(0.5), max_new_tokens: Some(20) }") + " "
            + " ".join(key(k, v) for k, v in (("total_time", '"812.5ms"'), ("validation_time", '"1.2ms"'),
                                               ("queue_time", '"80µs"'), ("inference_time", '"811.2ms"')))
            + f"{E}[1m}}{E}[0m{E}[2m:{E}[0m {E}[2mtext_generation_router::server{E}[0m{E}[2m:{E}[0m "
            f"{E}[2mrouter/src/server.rs{E}[0m{E}[2m:{E}[0m{E}[2m305:{E}[0m Success\n")
    banner = (f"{E}[2m2024-06-01T08:00:00.000001Z{E}[0m {E}[32m INFO{E}[0m {E}[2mtext_generation_launcher{E}[0m"
              f"{E}[2m:{E}[0m Args {{ model_id: \"bigscience/bloom-560m\", port: 80 }}\n")
    rows, r = run(tmp_path, banner + line)
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (1, 0, 1)
    e = rows[0]
    assert (e["latency_ms"], e["status"], e["model"], iso(e)) == (
        812.5, "ok", "bigscience/bloom-560m", "2024-06-01T08:00:05.500000+00:00")


def test_tgi_text_nested_spans_chat_and_failed_request(tmp_path):
    rows, r = run(tmp_path, """2024-06-01T08:00:00.000001Z  INFO text_generation_launcher: Args { model_id: "tiiuae/falcon-7b", sharded: None, port: 80 }
2024-06-01T08:00:10.300000Z  INFO shard-manager: text_generation_launcher: Shard ready in 10.2s rank=0
2024-06-01T08:01:00.000000Z  INFO compat_generate{default_return_full_text=true}:generate_stream{parameters=GenerateParameters { max_new_tokens: Some(50) } total_time="2.250s" validation_time="500µs" queue_time="100µs" inference_time="2.249s" time_per_token="45ms" seed="None"}: text_generation_router::server: router/src/server.rs:500: Success
2024-06-01T08:01:05.000000Z  INFO chat_completions{total_time="1.1s" validation_time="2ms" queue_time="50µs" inference_time="1.09s" time_per_token="22ms" seed="Some(42)"}: text_generation_router::server: router/src/server.rs:420: Success
2024-06-01T08:01:06.000000Z ERROR generate{parameters=GenerateParameters { max_new_tokens: Some(5000) }}: text_generation_router::infer: router/src/infer/mod.rs:66: `inputs` tokens + `max_new_tokens` must be <= 4096
2024-06-01T08:01:07.000000Z  WARN text_generation_router::server: router/src/server.rs:600: Invalid hostname, defaulting to 0.0.0.0
""")
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (3, 0, 3)
    stream, chat, failed = rows
    assert (stream["latency_ms"], stream["status"], stream["model"], iso(stream)) == (
        2250.0, "ok", "tiiuae/falcon-7b", "2024-06-01T08:01:00+00:00")
    assert (chat["latency_ms"], chat["status"]) == (1100.0, "ok")
    assert (failed["status"], failed["latency_ms"], failed["model"]) == ("error", None, "tiiuae/falcon-7b")
    assert failed["error"].startswith("`inputs` tokens")


def test_tei_embedding_spans(tmp_path):
    rows, r = run(tmp_path, """2025-08-09T19:36:02.798333Z  INFO openai_embed{total_time="1.207716998s" tokenization_time="11.2ms" queue_time="686.2µs" inference_time="1.19s"}: text_embeddings_router::http::server: router/src/http/server.rs:1290: Success
2025-08-09T19:36:03.579418Z  INFO embed{total_time="5148us" tokenization_time="0.81ms" queue_time="24µs" inference_time="4.5ms"}: text_embeddings_router::http::server: router/src/http/server.rs:700: Success
""")
    assert (len(rows), r.rows_rejected) == (2, 0)
    assert [(e["latency_ms"], e["status"]) for e in rows] == [(1207.716998, "ok"), (5.148, "ok")]


def test_gunicorn_error_log_lines_among_access_lines_are_skipped(tmp_path):
    rows, r = run(tmp_path, """[2024-05-01 10:00:00 +0000] [1] [INFO] Starting gunicorn 21.2.0
[2024-05-01 10:00:00 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)
[2024-05-01 10:00:00 +0000] [7] [INFO] Booting worker with pid: 7
10.0.0.4 - - [01/May/2024:10:00:05 +0000] "POST /v1/chat/completions HTTP/1.1" 200 734 "-" "OpenAI/Python 1.30.1"
10.0.0.4 - - [01/May/2024:10:00:06 +0000] "POST /v1/chat/completions HTTP/1.1" 429 61 "-" "OpenAI/Python 1.30.1" 0.004
""", "gunicorn.log")
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (2, 0, 3)
    assert [(e["line"], e["status"], e["latency_ms"]) for e in rows] == [(4, "ok", None), (5, "error", 4.0)]


def test_nginx_upstream_time_key_values(tmp_path):
    rows, r = run(tmp_path, """10.2.0.1 - - [01/May/2024:10:00:00 +0000] "POST /v1/chat/completions HTTP/1.1" 200 2048 "-" "litellm/1.40" rt=2.345 uct="0.001" uht="0.300" urt="2.344"
10.2.0.1 - - [01/May/2024:10:00:03 +0000] "POST /v1/chat/completions HTTP/1.1" 502 157 "-" "litellm/1.40" rt=0.012 uct="-" uht="-" urt="0.011"
""", "access.log")
    assert r.rows_rejected == 0
    assert [(e["latency_ms"], e["status"], iso(e)) for e in rows] == [
        (2345.0, "ok", "2024-05-01T10:00:00+00:00"), (12.0, "error", "2024-05-01T10:00:03+00:00")]


def test_istio_proxy_access_lines_and_zap_chatter(tmp_path):
    rows, r = run(tmp_path, (
        "2024-05-01T10:00:00.000000Z\tinfo\txdsproxy\tconnected to delta upstream XDS server\n"
        '[2024-05-01T10:00:01.000Z] "POST /v1/chat/completions HTTP/1.1" 200 - via_upstream - "-" 512 2048 1830 1828 '
        '"-" "OpenAI/Python 1.30.1" "5b2e6f1a-9c3d" "llm.default.svc.cluster.local:8000" "10.8.1.12:8000" '
        "outbound|8000||llm.default.svc.cluster.local 10.8.0.5:47890 10.96.3.4:8000 10.8.0.5:47888 - default\n"
        '[2024-05-01T10:00:03.000Z] "POST /v1/chat/completions HTTP/1.1" 503 UF,URX upstream_reset_before_response_'
        'started{connection_failure} - "-" 512 91 30 - "-" "OpenAI/Python 1.30.1" "6c3f7a2b-0d4e" '
        '"llm.default.svc.cluster.local:8000" "10.8.1.12:8000" outbound|8000||llm - 10.96.3.4:8000 10.8.0.5:1 - default\n'))
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (2, 0, 1)
    ok, failed = rows
    assert (ok["request_id"], ok["latency_ms"], ok["status"], ok["output"], iso(ok)) == (
        "5b2e6f1a-9c3d", 1830.0, "ok", None, "2024-05-01T10:00:01+00:00")
    assert (failed["request_id"], failed["latency_ms"], failed["status"], failed["output"]) == (
        "6c3f7a2b-0d4e", 30.0, "error", None)
    assert attrs(failed)["flags"] == "UF,URX"


def test_envoy_own_log_lines_are_chatter(tmp_path):
    rows, r = run(tmp_path, (
        "[2024-05-01 10:00:00.100][1][info][main] [source/server/server.cc:404] initializing epoch 0\n"
        "[2024-05-01 10:00:00.200][1][warning][config] [source/common/config/grpc_stream.h:201] stream closed\n"
        '[2024-05-01T10:00:06.310Z] "POST /v1/chat/completions HTTP/2" 503 UH 154 19 2 - "-" "python-httpx/0.27" '
        '"-" "llm" "-"\n'))
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (1, 0, 2)
    assert (rows[0]["status"], rows[0]["latency_ms"], rows[0]["request_id"]) == ("error", 2.0, None)


def test_uvicorn_coloured_behind_kubectl_timestamps(tmp_path):
    rows, r = run(tmp_path, (
        f"2024-05-01T10:00:00.123456789Z {E}[32mINFO{E}[0m:     Started server process [1]\n"
        f"2024-05-01T10:00:01.000000000Z {E}[32mINFO{E}[0m:     10.244.0.1:50234 - \"{E}[1mPOST /v1/chat/completions "
        f"HTTP/1.1{E}[0m\" {E}[32m200 OK{E}[0m\n"
        f"2024-05-01T10:00:02.000000000Z {E}[32mINFO{E}[0m:     10.244.0.1:50236 - \"{E}[1mPOST /v1/chat/completions "
        f"HTTP/1.1{E}[0m\" {E}[31m500 Internal Server Error{E}[0m\n"))
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (2, 0, 1)
    assert [(e["status"], iso(e)) for e in rows] == [("ok", "2024-05-01T10:00:01+00:00"),
                                                    ("error", "2024-05-01T10:00:02+00:00")]


def test_compose_crlf_vllm_beside_an_nginx_proxy(tmp_path):
    rows, r = run(tmp_path, (
        "vllm-1  | INFO 05-01 10:00:00 [logger.py:39] Received request chatcmpl-c1: prompt: 'hi', params: "
        "SamplingParams(max_tokens=16), prompt_token_ids: [1, 2, 3], lora_request: None.\r\n"
        "vllm-1  | INFO 05-01 10:00:01 [metrics.py:1] Avg prompt throughput: 1.0 tokens/s\r\n"
        "vllm-1  | INFO 05-01 10:00:01 [engine.py:1] Request finished: req chatcmpl-c1 finish_reason=stop "
        "prompt_tokens=3 generated_tokens=9 elapsed_s=0.75\r\n"
        'proxy-1  | 172.20.0.1 - - [01/May/2024:10:00:01 +0000] "POST /v1/chat/completions HTTP/1.1" 200 511 "-" '
        '"curl/8.4.0" 0.760\r\n'))
    assert (len(rows), r.rows_rejected, r.rows_skipped) == (2, 0, 1)
    vllm, proxy = rows
    assert (vllm["request_id"], vllm["input"], vllm["prompt_tokens"], vllm["completion_tokens"], vllm["latency_ms"]) == (
        "chatcmpl-c1", "hi", 3, 9, 750.0)
    assert (proxy["line"], proxy["status"], proxy["latency_ms"], iso(proxy)) == (
        4, "ok", 760.0, "2024-05-01T10:00:01+00:00")


def test_kserve_access_format_with_logger_and_pid(tmp_path):
    rows, r = run(tmp_path, """2025-05-14 17:45:10.901 1647689 kserve.trace Received request chatcmpl-k1: prompt: 'What is in this image?', params: SamplingParams(n=1, temperature=0.6, max_tokens=256), prompt_token_ids: None, lora_request: None.
2025-05-14 17:45:10.901 uvicorn.access INFO:     127.0.0.1:42226 1647689 - "POST /openai/v1/chat/completions HTTP/1.1" 200 OK
2025-05-14 17:45:13.402 1647689 kserve.trace Finished request chatcmpl-k1.
""")
    assert (len(rows), r.rows_rejected) == (2, 0)
    vllm, access = rows
    assert (vllm["request_id"], vllm["latency_ms"], access["status"], iso(access)) == (
        "chatcmpl-k1", 2501.0, "ok", "2025-05-14T17:45:10.901000+00:00")


def test_python_logging_format_uvicorn_lines():
    # sniffing takes this for CSV today (`10:00:00,123` splits at the comma): the reader is exercised directly
    data = (b"2024-05-01 10:00:00,123 - uvicorn.error - INFO - Started server process [12]\n"
            b'2024-05-01 10:00:01,456 - uvicorn.access - INFO - 10.0.0.1:5555 - "POST /v1/chat/completions HTTP/1.1" 200\n'
            b'2024-05-01 10:00:02,789 - uvicorn.access - INFO - 10.0.0.1:5556 - "POST /v1/chat/completions HTTP/1.1" 422\n')
    parsed = read_server_log(data, "s")
    recs = [json.loads(x) for x in parsed.records.column("raw").to_pylist()]
    assert (parsed.rejects, parsed.skipped) == ([], 1)
    assert [(x["status"], x["ts"]) for x in recs] == [(200, "2024-05-01 10:00:01.456"), (422, "2024-05-01 10:00:02.789")]
