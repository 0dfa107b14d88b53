"""Code generation from code_config: shape, uniqueness, the capacity refusal. Pure."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendout.errors import InvalidInput
from sendout.promotions.codes import DEFAULT_CHARSET, code_config, generate_codes


def seeded(seed: int):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    return lambda n: rng.randbytes(n)


def test_pattern_prefix_and_postfix_shape_every_code() -> None:
    config = code_config({"pattern": "SPR-##-##", "charset": "AB", "prefix": "X", "postfix": "-Z"})
    codes = generate_codes(config, 16, randbytes=seeded(1))
    assert len(set(codes)) == 16
    for code in codes:
        assert code.startswith("XSPR-") and code.endswith("-Z") and len(code) == 12
        assert set(code[5:7] + code[8:10]) <= {"A", "B"}
    assert config.as_json() == {
        "pattern": "SPR-##-##",
        "length": 4,
        "charset": "AB",
        "prefix": "X",
        "postfix": "-Z",
    }


def test_defaults_are_eight_alphanumerics() -> None:
    config = code_config(None)
    [code] = generate_codes(config, 1, randbytes=seeded(2))
    assert len(code) == 8 and set(code) <= set(DEFAULT_CHARSET)


def test_the_whole_space_can_be_used_and_no_more() -> None:
    config = code_config({"pattern": "###", "charset": "0123456789"})
    codes = generate_codes(config, 1000, randbytes=seeded(3))
    assert sorted(codes) == [f"{i:03d}" for i in range(1000)]
    with pytest.raises(InvalidInput) as too_many:
        generate_codes(config, 1001)
    assert too_many.value.key == "invalid_code_config"
    assert "1000" in too_many.value.details


def test_taken_codes_are_never_produced() -> None:
    config = code_config({"pattern": "##", "charset": "0123456789"})
    taken = {f"{i:02d}" for i in range(95)}
    assert sorted(generate_codes(config, 5, taken=taken, randbytes=seeded(4))) == [
        "95",
        "96",
        "97",
        "98",
        "99",
    ]
    with pytest.raises(InvalidInput):
        generate_codes(config, 6, taken=taken)


@pytest.mark.parametrize(
    "raw",
    [
        {"pattern": "no-hash"},
        {"length": 0},
        {"length": "8"},
        {"charset": "ä"},
        {"length": 101},
        {"prefix": 3},
    ],
)
def test_bad_configs_are_refused(raw: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as refused:
        code_config(raw)
    assert refused.value.key == "invalid_code_config"


@given(
    charset=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1),
    length=st.integers(1, 12),
    count=st.integers(0, 300),
    seed=st.integers(0, 2**32),
)
def test_codes_are_distinct_and_drawn_from_the_charset(
    charset: str, length: int, count: int, seed: int
) -> None:
    config = code_config({"charset": charset, "length": length})
    if count > config.capacity:
        with pytest.raises(InvalidInput):
            generate_codes(config, count, randbytes=seeded(seed))
        return
    codes = generate_codes(config, count, randbytes=seeded(seed))
    assert len(codes) == count == len(set(codes))
    assert all(len(c) == length and set(c) <= set(charset) for c in codes)
