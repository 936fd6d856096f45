"""SDK drops through the Dagster checks: `log_entries_pii_free` passes on scrubbed content and fails on raw content
with planted PII, against a baseline mined from earlier SDK drops."""
from __future__ import annotations

import dagster as dg

import strata_capture as sc
from assets.ingest import log_entries
from assets.invariant_checks import family_checks
from assets.invariants import invariants
from pipeline.partitions import log_drops
from tests.dagster.conftest import deployment  # noqa: F401 - fixture

TRACES = 150
CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004"]


def write_sdk_drop(folder, content: str, leak: bool, spool) -> None:
    """One support-bot drop through the SDK; with `leak`, every fifth answer holds an e-mail and a card number."""
    sc.configure(drop_url=str(folder), spool_dir=str(spool), service="support-bot", content=content,
                 flush_interval_s=3600, metrics="off")
    try:
        for i in range(TRACES):
            with sc.span("answer", kind="agent", input={"ticket": f"ticket {i} about an invoice"}) as root:
                answer = f"Your invoice {i} is paid; the refund takes five days."
                if leak and i % 5 == 0:
                    answer += f" Contact jane.doe{i}@example.com, card {CARDS[i % 2]}."
                sc.log(model="gpt-4o-mini", input=f"ticket {i} about an invoice", output=answer, prompt_tokens=40 + i % 7,
                       completion_tokens=12 + i % 5, latency_ms=300 + i % 50, tool_calls=["lookup_invoice"])
                root.set_output(answer)
        assert sc.flush(20)["completed"]
    finally:
        sc.shutdown()


def pii_check(result):
    (e,) = [e.asset_check_evaluation_data for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and e.asset_check_evaluation_data.check_name == "log_entries_pii_free"]
    return e


def test_pii_free_check_on_scrubbed_and_raw_sdk_drops(deployment, tmp_path):  # noqa: F811
    res = deployment["resources"]
    instance = dg.DagsterInstance.ephemeral()
    drops = deployment["drops"]
    plan = [("base-1", "scrub", False), ("base-2", "scrub", False), ("scrubbed-leak", "scrub", True),
            ("raw-leak", "raw", True)]
    for key, content, leak in plan:
        write_sdk_drop(drops / key, content, leak, tmp_path / f"spool-{key}")
    instance.add_dynamic_partitions(log_drops.name, [k for k, _, _ in plan])
    for key in ("base-1", "base-2"):
        assert dg.materialize([log_entries], partition_key=key, instance=instance, resources=res).success
    assert dg.materialize([invariants], instance=instance, resources=res).success

    scrubbed = dg.materialize([log_entries, *family_checks], partition_key="scrubbed-leak", instance=instance,
                              resources=res, raise_on_error=False)
    check = pii_check(scrubbed)
    assert check.passed is True and check.metadata["checked"].value >= 1  # compared, and nothing leaked

    raw = dg.materialize([log_entries, *family_checks], partition_key="raw-leak", instance=instance, resources=res,
                         raise_on_error=False)
    check = pii_check(raw)
    assert check.passed is False and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["violated"].value >= 1
    assert "jane.doe" not in (check.description or "")  # the finding names the invariant, never the value
