"""Quality: mine a realistic 20k-row baseline, then staleness must flag every planted change and nothing else."""
from __future__ import annotations

import pytest

from pipeline.core.invariants import check_staleness, discover
from pipeline.core.invariants.synthetic import Drift, generate_entries

from pipeline.core.invariants.quality import NO_DRIFT, PLANTED, SINGLES, flagged, score_clean, score_drift

N = 20_000


@pytest.fixture(scope="module")
def baseline():
    return discover(generate_entries(N, seed=0))


def test_baseline_is_rich(baseline):
    families = {i.family for i in baseline}
    assert families == {"structural", "statistical", "pii", "relational", "semantic", "temporal", "session"}
    assert all(i.confidence >= 0.8 for i in baseline)


def test_drift_flags_every_planted_change_and_nothing_else(baseline):
    score = score_drift(baseline, N)
    assert score["missed"] == {} and set(score["caught"]) == set(PLANTED)
    assert score["unrelated"] == {}, f"flagged without a planted cause: {score['unrelated']}"


def test_each_change_alone_is_caught_by_its_invariants(baseline):
    for change, knobs in SINGLES.items():
        got = flagged(check_staleness(baseline, generate_entries(N, seed=2, drift=Drift(**{**NO_DRIFT, **knobs}))))
        catchers, related = PLANTED[change]
        assert set(catchers) <= set(got), f"{change}: missed {set(catchers) - set(got)}"
        assert set(got) <= set(catchers) | related, f"{change}: also flagged {set(got) - set(catchers) - related}"


def test_same_process_other_seed_flags_nothing(baseline):
    clean = score_clean(baseline, N)
    assert clean["false_alarms"] == {} and clean["max_drop_pp"] < 5
