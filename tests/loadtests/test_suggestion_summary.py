"""The evaluation's count of suggestions against what the drivers found."""

from __future__ import annotations

from loadtests.wait_scoring import Scored, suggestion_summary


def _row(real: float, est: float, suggested: int | None, holiday: bool = True) -> Scored:
    return Scored(
        1,
        0.0,
        "92",
        True,
        real,
        est,
        0.0,
        est,
        0.0,
        0.0,
        "inferred_queue",
        est,
        holiday,
        False,
        0.0,
        suggested,
    )


def test_suggestions_are_counted_against_the_real_waits() -> None:
    rows = [
        _row(0.0, 0.0, 2),  # right
        _row(3.0, 0.0, 1),  # named, but the driver waited 3 min
        _row(2.0, 1.5, 3),  # named while the answer itself expected a wait
        _row(0.0, 0.4, None),  # a position was free, none named
        _row(4.0, 4.0, None),  # right: none free
        _row(0.0, 0.0, 1, holiday=False),
    ]
    got = suggestion_summary(rows)
    assert got["holiday no counts"] == {
        "answers": 5,
        "suggested": 3,
        "then_waited": 2,
        "expected_wait": 1,
        "none_but_free": 1,
        "free_on_arrival": 2,
    }
    assert got["normal no counts"]["suggested"] == 1 and got["normal no counts"]["then_waited"] == 0
    assert set(got) == {"holiday no counts", "normal no counts"}
