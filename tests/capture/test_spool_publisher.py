"""Spool bounds, publisher crash recovery (journal), torn lines, orphan timeout, Prometheus metrics."""
from __future__ import annotations

import os
import time

import pytest

import strata_capture as sc
from strata_capture.publisher import Publisher
from strata_capture.sink import make_sink

from .helpers import published_spans


def write_traces(n: int, prefix: str = "s") -> None:
    for i in range(n):
        with sc.span(f"{prefix}{i}", kind="agent"):
            with sc.span(f"{prefix}{i}-tool", kind="tool"):
                pass


def test_full_spool_drops_newest_and_counts(capture):
    capture(max_spool_bytes=40_000, publisher="none")
    write_traces(500)
    stats = sc.stats()
    assert stats["spans_dropped_spool_full"] == stats["spans_dropped"] > 0
    assert stats["spans_written"] + stats["spans_dropped"] == 1000
    sc.get_runtime().writer.seal()
    total = sum(os.path.getsize(os.path.join(capture.spool, n)) for n in os.listdir(capture.spool))
    assert total <= 40_000
    Publisher(capture.spool, make_sink(capture.drops), orphan_timeout_s=600).run(final=True)
    spans = published_spans(capture.drops)
    assert len(spans) == stats["spans_written"]
    names = {s["name"] for s in spans}
    assert "s0" in names and "s0-tool" in names  # the oldest kept, the newest dropped


@pytest.mark.parametrize("crash_at", ["before_commit", "after_commit"])
def test_publisher_killed_mid_round_neither_loses_nor_duplicates(capture, monkeypatch, crash_at):
    capture(publisher="none", segment_bytes=4_000)
    write_traces(300)
    sc.get_runtime().writer.seal()
    pub = Publisher(capture.spool, make_sink(capture.drops), orphan_timeout_s=600)
    import strata_capture.publisher as publisher_mod

    real_apply, real_write = Publisher._apply, publisher_mod._fsync_write

    def crash_apply(self, journal):
        raise SystemExit("killed after the journal was committed")

    def crash_write(path, data):
        if path.endswith("journal.json.tmp"):
            raise SystemExit("killed before the commit")
        real_write(path, data)

    if crash_at == "after_commit":
        monkeypatch.setattr(Publisher, "_apply", crash_apply)
    else:
        monkeypatch.setattr(publisher_mod, "_fsync_write", crash_write)
    with pytest.raises(SystemExit):
        pub.run()
    monkeypatch.setattr(Publisher, "_apply", real_apply)
    monkeypatch.setattr(publisher_mod, "_fsync_write", real_write)
    Publisher(capture.spool, make_sink(capture.drops), orphan_timeout_s=600).run(final=True)
    spans = published_spans(capture.drops)
    assert len(spans) == 600 and len({s["span"] for s in spans}) == 600
    assert not [n for n in os.listdir(capture.spool) if n.endswith((".seg", ".tmp", ".json"))]


def test_torn_line_is_skipped(capture):
    capture(publisher="none")
    write_traces(10)
    rt = sc.get_runtime()
    os.write(rt.writer.fd, b'{"t":"abc","s":"tor')  # a write cut short by a kill or a full disk
    rt.writer.seal()
    report = Publisher(capture.spool, make_sink(capture.drops), orphan_timeout_s=600).run(final=True)
    assert report.torn_lines == 1 and len(published_spans(capture.drops)) == 20


def test_orphans_wait_for_their_root_then_time_out(capture):
    capture(publisher="none", orphan_timeout_s=0.3)
    pub = Publisher(capture.spool, make_sink(capture.drops), orphan_timeout_s=0.3)
    root = sc.span("root", kind="agent").activate()
    with sc.span("early", kind="tool"):
        pass
    sc.get_runtime().writer.seal()
    pub.run()
    assert published_spans(capture.drops) == []  # waiting in carry.jsonl for its root
    time.sleep(0.4)
    pub.run()
    assert [s["name"] for s in published_spans(capture.drops)] == ["early"]
    root.deactivate()
    root.end()


def test_root_after_carry_lands_in_one_document(capture):
    capture(publisher="none")
    pub = Publisher(capture.spool, make_sink(capture.drops), orphan_timeout_s=600)
    with sc.span("root", kind="agent"):
        with sc.span("first", kind="tool"):
            pass
        sc.get_runtime().writer.seal()
        pub.run()  # "first" is carried: its root is still open
    sc.get_runtime().writer.seal()
    pub.run()
    from .helpers import published_docs

    [doc] = published_docs(capture.drops)
    assert sorted(s["name"] for s in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]) == ["first", "root"]


def test_prometheus_metrics(capture):
    from prometheus_client import REGISTRY

    capture(metrics="on", prices={"m1": [1.0, 2.0]})

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (value("strata_capture_llm_calls_total", model="m1", status="ok"),
              value("strata_capture_llm_tokens_total", model="m1", direction="input"),
              value("strata_capture_llm_cost_usd_total", model="m1"),
              value("strata_capture_llm_latency_seconds_count", model="m1"),
              value("strata_capture_branch_decisions_total", from_node="a", to_node="b"))
    sc.log(model="m1", prompt_tokens=1000, completion_tokens=10, latency_ms=300)
    sc.branch("a", "b")
    after = (value("strata_capture_llm_calls_total", model="m1", status="ok"),
             value("strata_capture_llm_tokens_total", model="m1", direction="input"),
             value("strata_capture_llm_cost_usd_total", model="m1"),
             value("strata_capture_llm_latency_seconds_count", model="m1"),
             value("strata_capture_branch_decisions_total", from_node="a", to_node="b"))
    assert [round(a - b, 9) for a, b in zip(after, before)] == [1, 1000, 0.00102, 1, 1]


def test_strata_cli_registration(capture, capsys):
    """`strata capture publish` once the lead registers strata_capture.cli.register in pipeline/cli.py."""
    import argparse

    from strata_capture.cli import register

    capture(publisher="none")
    write_traces(3)
    sc.get_runtime().writer.seal()
    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(["capture", "publish", "--drop-url", capture.drops, "--spool-dir", capture.spool])
    assert args.func(args) == 0
    assert '"spans_published": 6' in capsys.readouterr().out
    assert len(published_spans(capture.drops)) == 6


def test_next_start_publishes_what_an_earlier_process_left(capture, tmp_path):
    capture(drop_url=str(tmp_path / "not-a-dir" / "x"), exit_timeout_s=0.5)
    (tmp_path / "not-a-dir").write_text("a file where the drop folder should be: the sink is down")
    write_traces(5)
    assert not sc.shutdown(timeout=2)["completed"]
    capture(flush_interval_s=0.1)  # the next start, sink back; it writes nothing itself
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(published_spans(capture.drops)) < 10:
        time.sleep(0.1)
    assert len(published_spans(capture.drops)) == 10
