"""`ahead`: chunks computed on a helper thread reach the lake writer in order, errors surface in the writer's thread,
and a writer that stops early stops (and closes) the producer."""
import threading

import pytest

from pipeline.core.ingest.drop_ingest import ahead


def test_order_and_values_are_kept():
    assert list(ahead(iter(range(50)))) == list(range(50))
    assert list(ahead(iter([]))) == []


def test_a_producer_error_reaches_the_consumer_after_the_chunks_before_it():
    def gen():
        yield 1
        yield 2
        raise ValueError("bad chunk")

    got = []
    with pytest.raises(ValueError, match="bad chunk"):
        for c in ahead(gen()):
            got.append(c)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_closes_the_producer():
    closed = threading.Event()

    def gen():
        try:
            for i in range(1000):
                yield i
        finally:
            closed.set()

    it = ahead(gen())
    assert next(it) == 0
    it.close()
    assert closed.wait(5)
    assert not any(t.name == "strata-ingest-ahead" and t.is_alive() for t in threading.enumerate())
