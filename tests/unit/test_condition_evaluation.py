"""Distribution conditions: what is refused at save, and what each operator means per event."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendout.errors import InvalidInput
from sendout.matching.conditions import MAX_CLAUSES, check_conditions, facts_of, unmet
from sendout.records import Customer


def customer(**fields: Any) -> Customer:
    base: dict[str, Any] = {
        "id": "cust_1",
        "project_id": "proj_1",
        "source_id": "c1",
        "name": None,
        "description": None,
        "email": None,
        "phone": None,
        "birthdate": None,
        "address": None,
        "metadata": {},
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": None,
    }
    return Customer(**{**base, **fields})


def holds(conditions: dict[str, Any], event_metadata: dict[str, Any], **fields: Any) -> bool:
    checked = check_conditions(conditions)
    return unmet(checked, facts_of(event_metadata, customer(**fields))) is None


def on(path: str, **operators: Any) -> dict[str, Any]:
    return {path: {"conditions": {f"${op.rstrip('_')}": value for op, value in operators.items()}}}


# --- refused at save -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (on("order.total", is_=[1]), "conditions.order.total"),
        (on("customer.nickname", is_=["x"]), "conditions.customer.nickname"),
        (on("event.metadata", is_=["x"]), "conditions.event.metadata"),
        ({"event.metadata.plan": {"conditions": {"$like": ["x"]}}}, "unknown operator '$like'"),
        ({"event.metadata.plan": {"conditions": {}}}, "conditions.event.metadata.plan"),
        ({"event.metadata.plan": {"$is": ["x"]}}, "conditions.event.metadata.plan"),
        ({"event.metadata.plan": "pro"}, "conditions.event.metadata.plan"),
        ({"event.metadata.n": {"conditions": {"$more_than": ["soon"]}}}, "$more_than takes one"),
        ({"event.metadata.n": {"conditions": {"$more_than": [1, 2]}}}, "$more_than takes one"),
        ({"event.metadata.n": {"conditions": {"$contains": [1]}}}, "$contains takes strings"),
        ({"event.metadata.n": {"conditions": {"$in": [{"a": 1}]}}}, "$in compares with"),
        ({"event.metadata.n": {"conditions": {"$in": []}}}, "$in needs at least one"),
        ({"event.metadata.n": {"conditions": {"$has_value": False}}}, "$has_value takes true"),
        ({"event.metadata.n": {"conditions": {"$has_value": [1]}}}, "$has_value takes true"),
        ({"junction": "XOR", **on("customer.email", has_value=True)}, "conditions.junction"),
        ({"junction": "OR"}, "names no path"),
        ({"$or": []}, "conditions.$or"),
        ({"$or": [{"$and": [on("customer.email", has_value=True)]}]}, "one level deep"),
        ([], "must be an object"),
    ],
)
def test_a_condition_sendout_cannot_evaluate_is_refused_naming_its_path(
    raw: Any, names: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_conditions(raw)
    assert refused.value.key == "invalid_conditions"
    assert names in refused.value.details


def test_too_many_operators_are_refused() -> None:
    raw = {f"event.metadata.k{i}": {"conditions": {"$has_value": True}} for i in range(51)}
    with pytest.raises(InvalidInput) as refused:
        check_conditions(raw)
    assert f"at most {MAX_CLAUSES}" in refused.value.details


def test_no_conditions_are_stored_as_none() -> None:
    assert check_conditions(None) is None
    assert check_conditions({}) is None


def test_checked_conditions_name_their_junction() -> None:
    assert check_conditions(on("customer.email", has_value=[])) == {
        "junction": "AND",
        "customer.email": {"conditions": {"$has_value": True}},
    }


# --- evaluated per event -------------------------------------------------------------------------


def test_equality_compares_values_without_coercion() -> None:
    assert holds(on("event.metadata.plan", is_=["pro"]), {"plan": "pro"})
    assert not holds(on("event.metadata.plan", is_=["pro"]), {"plan": "Pro"})
    assert holds(on("event.metadata.n", is_=[5]), {"n": 5.0})
    assert not holds(on("event.metadata.n", is_=["5"]), {"n": 5})
    assert not holds(on("event.metadata.flag", is_=[1]), {"flag": True})
    assert holds(on("event.metadata.flag", is_=[True]), {"flag": True})
    assert holds(on("event.metadata.plan", is_not=["free"]), {"plan": "pro"})


def test_a_missing_value_satisfies_only_is_unknown_is_not_and_not_in() -> None:
    for operators in (
        {"is_unknown": True},
        {"is_not": ["x"]},
        {"not_in": ["x"]},
    ):
        assert holds(on("customer.email", **operators), {})
    for operators in (
        {"has_value": True},
        {"is_": ["x"]},
        {"in_": ["x"]},
        {"contains": ["x"]},
        {"more_than": [0]},
    ):
        assert not holds(on("customer.email", **operators), {})
    assert holds(on("customer.metadata.tier", is_unknown=True), {}, metadata={"tier": None})


def test_text_operators_need_a_string() -> None:
    email = {"email": "alex@example.com"}
    assert holds(on("customer.email", ends_with=["@example.com"]), {}, **email)
    assert holds(on("customer.email", starts_with=["bo", "al"]), {}, **email)
    assert holds(on("customer.email", contains=["@ex"]), {}, **email)
    assert not holds(on("event.metadata.n", contains=["1"]), {"n": 12})


def test_order_compares_numbers_with_numbers_and_times_with_times() -> None:
    assert holds(on("event.metadata.total", more_than=[100]), {"total": 100.5})
    assert not holds(on("event.metadata.total", more_than=[100]), {"total": 100})
    assert holds(on("event.metadata.total", more_than_equal=[100]), {"total": 100})
    assert not holds(on("event.metadata.total", less_than=[100]), {"total": "50"})
    assert not holds(on("event.metadata.total", less_than=[100]), {"total": True})
    after = on("customer.birthdate", more_than=["1990-01-01"])
    assert holds(after, {}, birthdate="1990-06-01")
    assert not holds(after, {}, birthdate="1989-12-31")
    at = on("event.metadata.at", less_than_equal=["2026-01-01T00:00:00Z"])
    assert holds(at, {"at": "2025-12-31"})
    assert holds(at, {"at": "2026-01-01T01:00:00+01:00"})
    assert not holds(at, {"at": 20251231})


def test_paths_reach_into_metadata_and_address() -> None:
    raw = {
        **on("customer.address.country", in_=["PL", "DE"]),
        **on("event.metadata.cart.items", more_than=[2]),
    }
    assert holds(raw, {"cart": {"items": 3}}, address={"country": "PL"})
    assert not holds(raw, {"cart": {"items": 3}}, address={"country": "FR"})
    assert not holds(raw, {"cart": 3}, address={"country": "PL"})


def test_junctions_and_one_level_of_nesting() -> None:
    either = {
        "junction": "OR",
        **on("customer.email", has_value=True),
        **on("customer.phone", has_value=True),
    }
    assert holds(either, {}, phone="1")
    assert not holds(either, {})
    nested = {
        **on("event.metadata.plan", is_=["pro"]),
        "$or": [on("customer.email", has_value=True), on("customer.phone", has_value=True)],
    }
    assert holds(nested, {"plan": "pro"}, email="a@b.c")
    assert not holds(nested, {"plan": "pro"})
    assert not holds(nested, {"plan": "free"}, email="a@b.c")


def test_the_failing_path_is_named() -> None:
    raw = check_conditions(
        {**on("event.metadata.plan", is_=["pro"]), **on("customer.email", has_value=True)}
    )
    assert unmet(raw, facts_of({"plan": "pro"}, customer())) == "customer.email ($has_value)"
    assert unmet(raw, facts_of({"plan": "pro"}, customer(email="x@y.z"))) is None


# --- properties ----------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-5, 5, allow_nan=False),
    st.sampled_from(["", "a", "ab", "b", "5"]),
)
operands = st.lists(
    st.one_of(st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "b"])),
    min_size=1,
    max_size=3,
)


def clause(key: str, op: str, operand: Any) -> dict[str, Any]:
    return {f"event.metadata.{key}": {"conditions": {op: operand}}}


@given(value=scalars, values=operands)
def test_in_and_not_in_are_complements(value: Any, values: list[Any]) -> None:
    metadata = {"k": value}
    assert holds(clause("k", "$in", values), metadata) != holds(
        clause("k", "$not_in", values), metadata
    )


@given(value=scalars)
def test_has_value_and_is_unknown_are_complements(value: Any) -> None:
    metadata = {"k": value}
    assert holds(clause("k", "$has_value", True), metadata) != holds(
        clause("k", "$is_unknown", True), metadata
    )


@given(
    value=st.one_of(st.integers(-10, 10), st.floats(-10, 10, allow_nan=False)),
    bound=st.integers(-10, 10),
)
def test_more_than_and_less_than_equal_split_the_numbers(value: float, bound: int) -> None:
    metadata = {"k": value}
    above = holds(clause("k", "$more_than", [bound]), metadata)
    assert above != holds(clause("k", "$less_than_equal", [bound]), metadata)
    assert above == (value > bound)


@given(
    values=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), scalars, max_size=4),
    wanted=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["a", "b"])),
        min_size=1,
        max_size=4,
        unique_by=lambda pair: pair[0],
    ),
    junction=st.sampled_from(["AND", "OR"]),
)
def test_a_junction_combines_its_clauses_as_all_or_any(
    values: dict[str, Any], wanted: list[tuple[str, str]], junction: str
) -> None:
    raw: dict[str, Any] = {"junction": junction}
    for key, expected in wanted:
        raw.update(clause(key, "$is", [expected]))
    each = [holds(clause(key, "$is", [expected]), values) for key, expected in wanted]
    assert holds(raw, values) == (all(each) if junction == "AND" else any(each))
