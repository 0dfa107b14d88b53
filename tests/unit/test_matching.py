"""Which distributions a custom event triggers: active, on this event, oldest first. Pure."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from sendout.matching.match import CUSTOM_EVENT_TRIGGER, matching_distributions
from sendout.records import Distribution
from support.storage import distribution


def made(distribution_id: str, created_at: str, **changes: str) -> Distribution:
    return replace(distribution(distribution_id), created_at=created_at, **changes)


def ids(found: list[Distribution]) -> list[str]:
    return [d.id for d in found]


def test_only_active_distributions_match() -> None:
    at = "2026-01-01T00:00:00.000Z"
    candidates = [made("distr_a", at), made("distr_p", at, status="PAUSED")]
    candidates.append(made("distr_d", at, status="DELETED"))
    assert ids(matching_distributions(candidates, "sign_up")) == ["distr_a"]


def test_only_the_custom_event_trigger_matches() -> None:
    at = "2026-01-01T00:00:00.000Z"
    candidates = [made("distr_a", at), made("distr_o", at, trigger_type="order.paid")]
    assert ids(matching_distributions(candidates, "sign_up")) == ["distr_a"]


def test_only_distributions_on_this_event_name_match() -> None:
    at = "2026-01-01T00:00:00.000Z"
    candidates = [made("distr_a", at), made("distr_b", at, trigger_event="purchase")]
    assert ids(matching_distributions(candidates, "purchase")) == ["distr_b"]
    assert matching_distributions(candidates, "nothing") == []


def test_the_oldest_comes_first_and_the_id_breaks_ties() -> None:
    candidates = [
        made("distr_c", "2026-01-01T00:00:02.000Z"),
        made("distr_b", "2026-01-01T00:00:01.000Z"),
        made("distr_z", "2026-01-01T00:00:00.000Z"),
        made("distr_a", "2026-01-01T00:00:01.000Z"),
    ]
    assert ids(matching_distributions(candidates, "sign_up")) == [
        "distr_z",
        "distr_a",
        "distr_b",
        "distr_c",
    ]


distributions = st.builds(
    made,
    st.text("abc", min_size=1, max_size=3).map(lambda s: f"distr_{s}"),
    st.sampled_from([f"2026-01-01T00:00:0{i}.000Z" for i in range(2)]),
    status=st.sampled_from(["ACTIVE", "ACTIVE", "PAUSED", "DELETED"]),
    trigger_type=st.sampled_from([CUSTOM_EVENT_TRIGGER, CUSTOM_EVENT_TRIGGER, "order.paid"]),
    trigger_event=st.sampled_from(["sign_up", "purchase"]),
)


@given(st.lists(distributions, max_size=16), st.sampled_from(["sign_up", "purchase", "x"]))
def test_the_result_is_exactly_the_matching_input_sorted_by_age_then_id(
    candidates: list[Distribution], event_name: str
) -> None:
    result = matching_distributions(candidates, event_name)
    wanted = [
        d
        for d in candidates
        if d.status == "ACTIVE"
        and d.trigger_type == CUSTOM_EVENT_TRIGGER
        and d.trigger_event == event_name
    ]
    assert sorted(map(id, result)) == sorted(map(id, wanted)), "the same objects, each once"
    keys = [(d.created_at, d.id) for d in result]
    assert keys == sorted(keys)
