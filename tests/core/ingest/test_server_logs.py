"""Text server logs behind common prefixes, `unrecognized line format` rejects, and honest exit codes."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.readers.server_log import read_server_log, strip_prefixes

ROOT = Path(__file__).resolve().parents[3]

VLLM = b"""api-1   | (APIServer pid=1) INFO:     10.0.0.5:4242 - "POST /v1/chat/completions HTTP/1.1" 200 OK
api-1   | (EngineCore pid=7) INFO 03-01 10:00:00 [scheduler.py:1] Request finished: req chatcmpl-abc finish_reason=length prompt_tokens=120 generated_tokens=64 elapsed_s=1.25
api-1   | (APIServer pid=1) INFO 03-01 10:00:07 [loggers.py:1] Engine 000: Avg prompt throughput: 1.0 tokens/s
api-1   | (APIServer pid=1) INFO:     127.0.0.1:1 - "GET /health HTTP/1.1" 200 OK
"""


def run(tmp_path, data: bytes, name="server.log"):
    p = tmp_path / name
    p.write_bytes(data)
    return ingest(str(p))


def test_vllm_log_behind_docker_compose_prefix(tmp_path):
    t, r = run(tmp_path, VLLM)
    assert r.rows_rejected == 0 and r.rows_skipped == 2 and t.num_rows == 2
    access, finished = t.to_pylist()
    assert (access["line"], access["status"]) == (1, "ok")
    assert (finished["request_id"], finished["prompt_tokens"], finished["completion_tokens"], finished["latency_ms"]) == (
        "chatcmpl-abc", 120, 64, 1250.0)


@pytest.mark.parametrize("prefix", ["web-1  | ", "[pod/api-7d9/nginx] ", "2024-05-01T10:00:00.123456789Z ",
                                    "May  1 10:00:00 host nginx[123]: ", "2024-05-01T10:00:00Z stdout F "])
def test_nginx_behind_prefixes_with_extra_fields(tmp_path, prefix):
    line = '10.1.2.3 - - [01/May/2024:10:00:00 +0000] "POST /v1/completions HTTP/1.1" 502 12 "-" "curl/8" 0.250 up=1\n'
    t, r = run(tmp_path, (prefix + line).encode() * 3)
    assert (t.num_rows, r.rows_rejected) == (3, 0)
    e = t.to_pylist()[0]
    assert (e["status"], e["latency_ms"], e["ts"].isoformat()) == ("error", 250.0, "2024-05-01T10:00:00+00:00")


def test_tgi_and_envoy_lines(tmp_path):
    data = (b'2024-05-01T10:00:00.1Z  INFO generate{parameters=GenerateParameters { max_new_tokens: 20 } '
            b'total_time="1.5s" validation_time="10us" queue_time="5ms" inference_time="1.4s"}: '
            b'text_generation_router::server: router/src/server.rs:305: Success\n'
            b'[2024-05-01T10:00:01.000Z] "POST /v1/chat/completions HTTP/2" 200 - 154 900 226 100 "10.0.0.1" '
            b'"python-httpx" "9f1c-77" "llm" "10.0.2.1:80"\n')
    t, r = run(tmp_path, data)
    assert r.rows_rejected == 0
    tgi, envoy = t.to_pylist()
    assert tgi["latency_ms"] == 1500.0
    assert (envoy["request_id"], envoy["latency_ms"]) == ("9f1c-77", 226.0)


def test_unrecognized_lines_are_named_and_sampled(tmp_path):
    t, r = run(tmp_path, b"@@ hunk 1 @@\n+ added line\nplain words here\n", "notes.txt")
    assert t.num_rows == 0 and r.reject_reasons == {"unrecognized line format": 3}
    assert r.summary()["unrecognized_lines"][0] == "@@ hunk 1 @@"
    assert r.parse_rate == 0.0 and r.problems()


def test_nothing_read_is_n_a_not_100_percent():
    from pipeline.core.ingest.engine import IngestResult
    from pipeline.core.ingest.summary import rate

    assert IngestResult().parse_rate is None and rate(None) == "n/a" and IngestResult().problems() == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
                        max_size=80), max_size=12))
def test_any_text_is_read_or_rejected_line_by_line(lines):
    data = "\n".join(lines).encode("utf-8")
    parsed = read_server_log(data, "s")
    n_nonblank = sum(1 for ln in lines if ln.strip()) if data else 0
    assert parsed.records.num_rows + len(parsed.rejects) + getattr(parsed, "skipped", 0) <= max(n_nonblank, 0) + 0
    assert all(r.reason in ("unrecognized line format", "invalid UTF-8") or r.reason.startswith(("not an access",
               "access log")) for r in parsed.rejects)


def test_prefix_stripping_is_idempotent_on_clean_lines():
    import pyarrow as pa

    clean = pa.array(['INFO:     1.2.3.4:5 - "GET / HTTP/1.1" 200 OK'], pa.large_string())
    assert strip_prefixes(clean).to_pylist() == clean.to_pylist()


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)


def test_exit_codes(tmp_path):
    bad = tmp_path / "bad.log"
    bad.write_text("nothing\nreadable\nhere\n")
    done = cli("summary", str(bad), cwd=tmp_path)
    assert done.returncode == 1 and "no entries" in done.stderr and "n/a" in done.stdout
    good = tmp_path / "good.log"
    good.write_bytes(VLLM)
    done = cli("summary", str(good), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    half = tmp_path / "half.log"
    half.write_bytes(VLLM.splitlines(keepends=True)[1] + b"garbage one\ngarbage two\n")
    done = cli("ingest", str(half), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1 and "67% of rows rejected" in done.stderr
    cfg = tmp_path / "strata.yml"
    cfg.write_text("reading:\n  max_reject_share: 0.9\n")
    done = cli("--config", str(cfg), "ingest", str(half), "--out", str(tmp_path / "out2"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout


def test_yaml_cassette_is_read_as_exchanges(tmp_path):
    import gzip

    body = gzip.compress(json.dumps({"id": "c1", "object": "chat.completion", "created": 1709819153, "model": "m-1",
                                     "choices": [{"message": {"role": "assistant", "content": "Hi!"}}],
                                     "usage": {"prompt_tokens": 3, "completion_tokens": 1}}).encode())
    import base64

    b64 = base64.b64encode(body).decode()
    text = ("interactions:\n- request:\n    body: '{\"model\": \"m-1\", \"messages\": [{\"role\": \"user\", \"content\": \"yo\"}]}'\n"
            "    method: POST\n    uri: https://api.mistral.ai/v1/chat/completions\n  response:\n    body:\n"
            f"      string: !!binary |\n        {b64}\n    headers:\n      Date:\n      - Thu, 07 Mar 2024 13:45:53 GMT\n"
            "    status:\n      code: 200\n      message: OK\nversion: 1\n")
    t, r = run(tmp_path, text.encode(), "cassette.yaml")
    [e] = t.to_pylist()
    assert (e["output"], e["provider"], e["prompt_tokens"], e["status"]) == ("Hi!", "mistral", 3, "ok")
    assert json.loads(e["input"]) == [{"role": "user", "content": "yo"}]


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, n in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{n}: &{n} [" + ",".join([f"*{prev}"] * 9) + "]")
    from pipeline.core.ingest.readers.yaml_doc import read_yaml_records

    parsed = read_yaml_records(("\n".join(lines) + "\n").encode(), "bomb.yaml")
    assert parsed.num_records == 0
    assert [r.reason for r in parsed.rejects] == ["YAML document too large once its aliases are expanded"]
