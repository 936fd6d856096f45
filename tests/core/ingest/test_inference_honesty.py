"""Generic inference prefers no answer to a wrong one: look-alike fields are refused, with the reason kept."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.field_values import FIELD_BUDGET, collect
from pipeline.core.ingest.schema_infer import infer_schema
from pipeline.core.ingest.summary import summarize, summary_text


def roles(records):
    s = infer_schema(records)
    return {a.role: a.path for a in s.assignments}, s


def exchange(i):
    return {"request": {"body": {"messages": [{"role": "user", "content": f"question {i}"}],
                                 "tools": [{"name": "offered", "description": "d"}],
                                 "guardrailConfig": {"trace": "enabled"}}},
            "response": {"status": {"code": 200, "message": "OK"},
                         "body": {"usage": {"inputTokens": 5 + i, "outputTokens": 7},
                                  "details": [{"modality": "TEXT", "tokenCount": 5}],
                                  "a": {"b": {"c": {"d": {"e": {"answer": f"the model's answer number {i}"}}}}}}}}


def test_look_alikes_are_refused_and_deep_fields_found():
    got, s = roles([exchange(i) for i in range(20)])
    assert got.get("trace_id") is None and "trace_id" in s.left_empty  # "enabled" is a setting, not an id
    assert got["output"] == "$.response.body.a.b.c.d.e.answer"  # 7 levels deep; "OK" is a status word
    assert got.get("tool_calls") is None  # offered tool definitions are no calls
    assert got["input"] == "$.request.body.messages" and got["completion_tokens"] == "$.response.body.usage.outputTokens"


def test_numeric_session_id_is_an_id_and_epoch_numbers_alone_are_no_timestamps():
    recs = [{"session_id": 1234567890 + i, "match": str(1234561666 + i), "prompt": f"p{i}", "response": f"r{i}"}
            for i in range(10)]
    got, _ = roles(recs)
    assert got["session_id"] == "$.session_id" and "ts" not in got


def test_summary_names_empty_roles(tmp_path):
    from pipeline.core.ingest.engine import ingest

    p = tmp_path / "x.jsonl"
    p.write_text("\n".join(json.dumps({"call": exchange(i)}) for i in range(5)))  # no adapter: inference
    table, result = ingest(str(p))
    text = summary_text(summarize(table, result))
    assert "trace_id left empty: best candidate `$.call.request.body.guardrailConfig.trace`" in text


def test_field_budget_is_noted():
    wide = [{f"k{j}": j for j in range(FIELD_BUDGET + 10)}]
    assert collect(wide).budget_hit
    assert infer_schema(wide).notes and "field budget" in infer_schema(wide).notes[0]


@settings(max_examples=40, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
                    lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=8), c, max_size=4)),
                    max_leaves=30))
def test_any_record_infers_without_crashing(value):
    s = infer_schema([{"v": value}, {"v": value}])
    assert all(a.confidence >= 0.3 for a in s.assignments)
