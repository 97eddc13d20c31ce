"""Encoded polylines: Google's published example, precision 6, round trips, and every malformed shape."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import polyline
from geo.errors import InvalidRoute

GOOGLE = "_p~iF~ps|U_ulLnnqC_mqNvxq`@"  # developers.google.com/maps/documentation/utilities/polylinealgorithm


def test_googles_example_decodes_to_its_points() -> None:
    lons, lats = polyline.decode(GOOGLE)
    assert lats.tolist() == [38.5, 40.7, 43.252]
    assert lons.tolist() == [-120.2, -120.95, -126.453]
    assert polyline.encode(lons.tolist(), lats.tolist()) == GOOGLE


def test_precision_6_reads_a_tenth_of_the_step() -> None:
    text = polyline.encode([102.712345, 102.7], [25.040612, 25.0], precision=6)
    lons, lats = polyline.decode(text, precision=6)
    assert lons.tolist() == [102.712345, 102.7]
    assert lats.tolist() == [25.040612, 25.0]
    lons5, _ = polyline.decode(text, precision=5)
    assert lons5[0] == pytest.approx(1027.12345)


@given(
    st.lists(
        st.tuples(st.integers(-18_000_000, 18_000_000), st.integers(-9_000_000, 9_000_000)),
        min_size=1,
        max_size=50,
    )
)
def test_round_trip(points: list[tuple[int, int]]) -> None:
    lons = [x / 1e5 for x, _ in points]
    lats = [y / 1e5 for _, y in points]
    got_lons, got_lats = polyline.decode(polyline.encode(lons, lats))
    assert got_lons.tolist() == lons
    assert got_lats.tolist() == lats


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("_p~iF~ps|U_ulL", "latitude without its longitude"),
        ("_p~iF~ps|U_", "ends inside a value"),
        ("_p~iF ps|U", "only the characters"),
        ("_p~iF~ps|U中", "only the characters"),
        ("~~~~~~~~~~?", "too long"),
    ],
)
def test_malformed_polylines_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidRoute, match=message):
        polyline.decode(text)


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(InvalidRoute, match="precision"):
        polyline.decode(GOOGLE, precision=7)


def test_pattern_accepts_what_decodes() -> None:
    import re

    assert re.fullmatch(polyline.PATTERN, GOOGLE)
    assert not re.fullmatch(polyline.PATTERN, "_p~iF~ps|U_ulL")
    assert np.isfinite(polyline.decode(GOOGLE)[0]).all()
