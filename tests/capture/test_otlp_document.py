"""The publisher's document text (each resource's part encoded once per batch) is exactly the JSON of
`trace_document`: on generated traces with shared, equal, different and missing resources, errors and parents."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from strata_capture.encode import make_dumps
from strata_capture.core import KINDS
from strata_capture.otlp import DocumentText, trace_document

DUMPS = make_dumps(str)
SHARED = {"service.name": "bot", "service.version": "1.2"}
RESOURCES = st.sampled_from([SHARED, dict(SHARED), {"service.name": "other"}, {}, None])
VALUES = st.text(max_size=8) | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.lists(st.text(max_size=3))
RECORD = st.fixed_dictionaries(
    {"t": st.just("a" * 32), "s": st.text("0123456789abcdef", min_size=16, max_size=16),
     "p": st.none() | st.just("b" * 16), "n": st.text(max_size=6), "k": st.sampled_from(KINDS),
     "b": st.integers(0, 10), "e": st.integers(10, 20), "P": st.integers(1, 9),
     "a": st.dictionaries(st.text(max_size=6), VALUES, max_size=4), "r": RESOURCES},
    optional={"x": st.text(max_size=10)})


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(RECORD, min_size=1, max_size=5), min_size=1, max_size=4))
def test_document_text_is_the_json_of_the_trace_document(traces):
    document = DocumentText(DUMPS)
    for records in traces:
        assert document(records) == DUMPS(trace_document(records))
