"""vLLM requests joined across the objects of one drop (rotated logs, hourly files, several dumps): through the drop
ingest entry point, in both listing orders, with a failing object, counted per object; splitting one log into N files
at any line boundary gives the entries of the single file. Lines written for these tests in vLLM's shapes."""
import json
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.drop_ingest import ingest_drop
from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.rotation import generation, reading_order
from pipeline.core.storage.drops import drop_objects
from pipeline.core.storage.lake import read_entries

T0 = datetime(2026, 12, 1, 10, 0, 0)


def ts(k: int) -> str:
    return (T0 + timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def received(k: int, rid: str, prompt: str, ids: int = 3) -> str:
    return (f"{ts(k)} (APIServer pid=1) INFO 12-01 10:00:00 [logger.py:43] Received request {rid}: prompt: "
            f"{prompt!r}, params: SamplingParams(n=1, temperature=0.7, max_tokens=64), prompt_token_ids: "
            f"{list(range(ids))}, lora_request: None.")


def finished(k: int, rid: str) -> str:
    return f"{ts(k)} (APIServer pid=1) INFO 12-01 10:00:00 [async_llm_engine.py:140] Finished request {rid}."


def req_finished(k: int, rid: str, p: int, g: int, reason: str = "stop", elapsed: float = 1.5) -> str:
    return (f"{ts(k)} (EngineCore pid=2) INFO 12-01 10:00:00 [scheduler.py:1] Request finished: req {rid} "
            f"finish_reason={reason} prompt_tokens={p} generated_tokens={g} elapsed_s={elapsed}")


def aborted(k: int, rid: str) -> str:
    return f"{ts(k)} (APIServer pid=1) INFO 12-01 10:00:00 [async_llm.py:1] Aborted request {rid}."


def chatter(k: int) -> str:
    return f"{ts(k)} (APIServer pid=1) INFO 12-01 10:00:00 [loggers.py:1] Avg prompt throughput: 1.0 tokens/s"


def write_drop(root: Path, files: dict[str, list[str]], key: str = "d1") -> Path:
    folder = root / "drops" / key
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).write_text("".join(line + "\n" for line in lines))
    return folder


def run_drop(root: Path, key: str = "d1"):
    done = ingest_drop(drop_objects(str(root / "drops"), key), str(root / "lake"), key)
    rows = read_entries(str(root / "lake"), key).to_pylist()
    return rows, done.report()


def vllm(rows):
    return sorted((r for r in rows if r["request_id"]), key=lambda r: (r["source"], r["line"]))


def test_rotated_generations_join_oldest_first(tmp_path):
    """`vllm.log.1` is listed after `vllm.log` but is older: a request opened at its end finishes in `vllm.log`."""
    old = [received(0, "chatcmpl-a1", "first"), finished(2, "chatcmpl-a1"), received(3, "chatcmpl-b2", "straddles")]
    new = [chatter(4), req_finished(5, "chatcmpl-b2-0badc0de", 7, 11, elapsed=2.25), received(6, "chatcmpl-c3", "last")]
    write_drop(tmp_path, {"vllm.log": new, "vllm.log.1": old})
    rows, report = run_drop(tmp_path)
    got = [(Path(r["source"]).name, r["line"], r["request_id"], r["input"], r["prompt_tokens"], r["completion_tokens"],
            r["latency_ms"]) for r in vllm(rows)]
    assert got == [("vllm.log", 3, "chatcmpl-c3", "last", 3, None, None),
                   ("vllm.log.1", 1, "chatcmpl-a1", "first", 3, None, 2000.0),
                   ("vllm.log.1", 3, "chatcmpl-b2", "straddles", 7, 11, 2250.0)]
    joined = {r["request_id"]: json.loads(r["attributes"])["joined"] for r in rows}
    assert joined == {"chatcmpl-a1": {"lines": 2}, "chatcmpl-b2": {"lines": 2},
                      "chatcmpl-c3": {"lines": 1, "open": True}}
    counts = {Path(s["url"]).name: (s["rows_read"], s["rows_kept"], s["rows_rejected"], s["rows_skipped"])
              for s in report["sources"]}
    assert counts == {"vllm.log.1": (2, 2, 0, 0), "vllm.log": (1, 1, 0, 1)}
    assert (report["rows_read"], report["rows_kept"], report["objects"]) == (3, 3, 2)


def test_hourly_files_in_key_order_three_objects_interleaved(tmp_path):
    """Two requests open across three hourly files, their finish lines interleaved with another file's own."""
    files = {
        "server-2026-12-01T10.log": [received(0, "r-x", "x"), received(1, "r-y", "y")],
        "server-2026-12-01T11.log": [received(2, "r-z", "z"), finished(3, "r-y"), finished(4, "r-z")],
        "server-2026-12-01T12.log": [aborted(9, "r-x"), finished(10, "r-unknown")],
    }
    write_drop(tmp_path, files)
    rows, report = run_drop(tmp_path)
    got = [(Path(r["source"]).name[-7:], r["line"], r["request_id"], r["input"], r["latency_ms"], r["status"])
           for r in vllm(rows)]
    assert got == [("T10.log", 1, "r-x", "x", 9000.0, "error"), ("T10.log", 2, "r-y", "y", 2000.0, "ok"),
                   ("T11.log", 1, "r-z", "z", 2000.0, "ok"), ("T12.log", 2, "r-unknown", None, None, "ok")]
    assert json.loads(next(r for r in rows if r["request_id"] == "r-x")["attributes"])["finish_reason"] == "abort"
    kept = {Path(s["url"]).name[-7:]: s["rows_kept"] for s in report["sources"]}
    assert kept == {"T10.log": 2, "T11.log": 1, "T12.log": 1}  # the finish line of an unknown request: its own record


def test_finish_line_read_before_its_received_line_joins(tmp_path):
    """Names outside the rotation schemes list `10.log` before `9.log`: the finish lines are read first. Each request
    still comes out once, at its Received line, with its prompt, the finish line's tokens and the span between."""
    files = {
        "10.log": [req_finished(20, "a-1", 7, 3), finished(21, "a-2"), finished(22, "a-lone"), received(23, "a-3", "c")],
        "9.log": [chatter(0), received(10, "a-1", "first"), received(12, "a-2", "second")],
        "11.log": [req_finished(30, "a-3", 5, 1, elapsed=7.0)],
    }
    write_drop(tmp_path, files)
    rows, report = run_drop(tmp_path)
    got = sorted((Path(r["source"]).name, r["line"], r["request_id"], r["input"], r["prompt_tokens"],
                  r["completion_tokens"], r["latency_ms"], str(r["ts"])[:19]) for r in vllm(rows))
    assert got == [("10.log", 3, "a-lone", None, None, None, None, "2026-12-01 10:00:22"),
                   ("10.log", 4, "a-3", "c", 5, 1, 7000.0, "2026-12-01 10:00:23"),
                   ("9.log", 2, "a-1", "first", 7, 3, 1500.0, "2026-12-01 10:00:10"),
                   ("9.log", 3, "a-2", "second", 3, None, 9000.0, "2026-12-01 10:00:12")]
    kept = {Path(s["url"]).name: s["rows_kept"] for s in report["sources"]}
    assert kept == {"10.log": 2, "9.log": 2, "11.log": 0}
    assert report["rows_read"] == report["rows_kept"] == 4


def test_a_failing_object_leaves_the_rest_joined(tmp_path):
    """The middle generation is a dangling link and another object is binary: the request still joins over them."""
    folder = write_drop(tmp_path, {"vllm.log.3": [received(0, "q-1", "spans three")], "vllm.log.1": [chatter(5)],
                                   "vllm.log": [req_finished(9, "q-1", 4, 2)]})
    os.symlink(folder / "missing", folder / "vllm.log.2")
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 4)
    rows, report = run_drop(tmp_path)
    assert [(Path(r["source"]).name, r["line"], r["input"], r["prompt_tokens"], r["completion_tokens"])
            for r in vllm(rows)] == [("vllm.log.3", 1, "spans three", 4, 2)]
    formats = {Path(s["url"]).name: (s["format"], s["rows_kept"]) for s in report["sources"]}
    assert formats["vllm.log.2"] == ("unreadable", 0) and formats["vllm.log.3"] == ("server_log", 1)
    assert formats["blob.bin"][1] == 0 and report["rows_kept"] == 1


def test_open_request_budget_holds_across_objects(tmp_path, monkeypatch):
    from pipeline.core.ingest.readers import request_join

    monkeypatch.setattr(request_join, "MAX_OPEN", 2)
    write_drop(tmp_path, {"a-1.log": [received(i, f"r{i}", f"p{i}") for i in range(4)],
                          "a-2.log": [finished(9, f"r{i}") for i in range(4)]})
    rows, _ = run_drop(tmp_path)
    got = sorted((r["request_id"], Path(r["source"]).name, r["line"], r["input"], json.dumps(
        json.loads(r["attributes"])["joined"], sort_keys=True)) for r in rows)
    # the two oldest were given up (incomplete) when the budget was reached; their finish lines are records of their own
    gone = '{"incomplete": true, "lines": 1}'
    assert got == [("r0", "a-1.log", 1, "p0", gone), ("r0", "a-2.log", 1, None, '{"lines": 1}'),
                   ("r1", "a-1.log", 2, "p1", gone), ("r1", "a-2.log", 2, None, '{"lines": 1}'),
                   ("r2", "a-1.log", 3, "p2", '{"lines": 2}'), ("r3", "a-1.log", 4, "p3", '{"lines": 2}')]


def test_reading_order_of_rotated_names():
    class O:
        def __init__(self, path):
            self.path = path

    names = ["app.log", "app.log.1", "app.log.10.gz", "app.log.2.gz", "other.jsonl", "vllm.log", "vllm.log-20261130",
             "vllm.log-20261201.gz", "x.00", "x.01", "z.log.2026-12-01_10-00-00", "z.log.2026-12-01_11-00-00"]
    got = [o.path.rsplit("/", 1)[1] for o in reading_order([O(f"/d/{n}") for n in sorted(names)])]
    assert got == ["app.log.10.gz", "app.log.2.gz", "app.log.1", "app.log", "other.jsonl", "vllm.log-20261130",
                   "vllm.log-20261201.gz", "vllm.log", "x.00", "x.01", "z.log.2026-12-01_10-00-00",
                   "z.log.2026-12-01_11-00-00"]
    assert generation("server-2026-12-01T10.log") is None and generation("part.00") is None
    assert [o.path for o in reading_order([O("/a/v.log"), O("/b/v.log.1")])] == ["/a/v.log", "/b/v.log.1"]


def _log(plan) -> list[str]:
    """One vLLM log from drawn requests: (prompt token ids, finish kind, gap in lines before the finish)."""
    events = []
    for i, (ids, kind, gap) in enumerate(plan):
        events.append((2 * i, 0, received(0, f"chatcmpl-{i:03d}", f"prompt {i}\n'{i}'", ids)))
        if kind == "never":
            continue
        at = 2 * i + 1 + gap
        rid = f"chatcmpl-{i:03d}"
        events.append((at, 1, {"finished": finished(0, rid), "aborted": aborted(0, rid),
                               "tokens": req_finished(0, f"{rid}-1a2b3c4d", ids, i + 1, "length", 0.5 + i)}[kind]))
        if i % 5 == 4:
            events.append((at, 2, finished(0, f"orphan-{i}")))  # a finish line whose request never got a Received line
    lines = [e[2] for e in sorted(events, key=lambda e: (e[0], e[1]))]
    out = []
    for k, line in enumerate(lines):  # clocks follow the line order, so latencies from timestamps are well-defined
        out.append(ts(3 * k) + line[len(ts(0)):])
        if k % 3 == 1:
            out.append(chatter(3 * k + 1))
    return out


def _key(rows):
    def one(r):
        a = json.loads(r["attributes"])
        return (r["request_id"], r["input"], r["prompt_tokens"], r["completion_tokens"], r["latency_ms"], r["status"],
                a.get("finish_reason"), json.dumps(a.get("joined"), sort_keys=True))
    return sorted(map(one, rows), key=repr)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["finished", "aborted", "tokens", "never"]),
                          st.integers(0, 6)), min_size=1, max_size=9),
       st.lists(st.integers(0, 10_000), max_size=4), st.booleans())
def test_splitting_a_log_into_files_changes_no_entry(plan, cuts, rotated):
    lines = _log(plan)
    bounds = sorted({c % (len(lines) + 1) for c in cuts})
    parts = [lines[a:b] for a, b in zip([0, *bounds], [*bounds, len(lines)])]
    names = ([f"vllm.log.{len(parts) - 1 - i}" if i < len(parts) - 1 else "vllm.log" for i in range(len(parts))]
             if rotated else [f"server-2026-12-01T{10 + i}.log" for i in range(len(parts))])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "one").mkdir()
        (root / "one" / "vllm.log").write_text("".join(line + "\n" for line in lines))
        single, r1 = ingest(str(root / "one"))
        (root / "many").mkdir()
        for name, part in zip(names, parts):
            (root / "many" / name).write_text("".join(line + "\n" for line in part))
        split, rn = ingest(str(root / "many"))
    assert _key(split.to_pylist()) == _key(single.to_pylist())
    assert (rn.rows_kept, rn.rows_rejected, rn.rows_skipped) == (r1.rows_kept, r1.rows_rejected, r1.rows_skipped)
    assert rn.rows_kept == sum(s.rows_kept for s in rn.sources)
