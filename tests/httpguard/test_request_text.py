"""The edge's text checks (httpguard/text.py) against plain reference computations, on random inputs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.query_string import ParameterErrors, query_dict
from httpguard.text import json_findings, json_too_deep, query_findings, text_problem

# Text with what makes the pre-scans hard: brackets, quotes, backslashes, escapes' look-alikes, NUL,
# lone surrogates and astral characters.
tricky = st.text(st.sampled_from(list('[]{}"\\u0dD8 a\x00\ud800\udfff\U0001f600é')), max_size=12)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky, inner, max_size=4),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


def bad_strings(value: Any) -> int:
    if isinstance(value, str):
        return int(text_problem(value) is not None)
    if isinstance(value, list):
        return sum(bad_strings(v) for v in value)
    if isinstance(value, dict):
        return sum(1 if text_problem(k) else bad_strings(v) for k, v in value.items())
    return 0


@settings(max_examples=300, deadline=None)
@given(values, st.integers(0, 8))
def test_depth_prescan_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    body = json.dumps(value).encode()  # ensure_ascii: escapes, never raw surrogates
    assert json_too_deep(body, limit) == (depth(value) > limit)


@settings(max_examples=300, deadline=None)
@given(values)
def test_findings_are_exactly_the_strings_that_cannot_be_stored(value: Any) -> None:
    body = json.dumps(value)
    # As a reader of the text sees it: "\\ud800\\udfff" there is one (astral) character, not two.
    assert len(json_findings(body.encode())) == bad_strings(json.loads(body))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=8), st.binary(max_size=8))
def test_query_findings_flag_exactly_what_does_not_decode_to_storable_text(name: bytes, value: bytes) -> None:
    raw = (quote_from_bytes(name, safe="") + "=" + quote_from_bytes(value, safe="")).encode()

    def storable(data: bytes) -> bool:
        try:
            return "\x00" not in data.decode("utf-8")
        except UnicodeDecodeError:
            return False

    assert bool(query_findings(raw)) == (not storable(name) or not storable(value))


def test_raw_bytes_that_are_not_utf8_are_a_finding() -> None:
    assert json_findings(b'{"a": "\xed\xa0\x80"}')[0]["message"].startswith("the body is not valid UTF-8")
    assert json_findings('{"a": "é😀"}'.encode()) == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=8), st.binary(max_size=8))
def test_the_hand_parser_refuses_what_does_not_decode_and_reads_the_rest(name: bytes, value: bytes) -> None:
    """nearby's and compare's own parser (it answered 500 for `grade=%ff`), whatever runs in front of it."""
    raw = (quote_from_bytes(name, safe="") + "=" + quote_from_bytes(value, safe="")).encode()
    if query_findings(raw):
        with pytest.raises(ParameterErrors) as refused:
            query_dict(raw)
        assert refused.value.errors == query_findings(raw)
    elif name:
        assert query_dict(raw) == {name.decode(): value.decode()}
