"""The circumradius bounds the nearby search relies on hold for fresh samples of cells."""

from __future__ import annotations

import numpy as np
import pytest

from geo import cells
from geo.distance import ecef


def _largest_circumradius(lon: np.ndarray, lat: np.ndarray, res: int) -> float:
    worst = 0.0
    for cell in {cells.cell_of(float(x), float(y), res) for x, y in zip(lon, lat, strict=True)}:
        (clon, clat), vertices = cells.center_and_vertices(cell)
        pts = ecef(np.array([clon] + [v[0] for v in vertices]), np.array([clat] + [v[1] for v in vertices]))
        worst = max(worst, float(np.sqrt(((pts[1:] - pts[0]) ** 2).sum(axis=1)).max()))
    return worst


@pytest.mark.parametrize("res", [5, 7])
def test_bound_holds_worldwide_and_over_china(res: int) -> None:
    rng = np.random.default_rng(2026 + res)
    world_lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 15_000)))
    world_lon = rng.uniform(-180, 180, 15_000)
    china_lon, china_lat = rng.uniform(73, 135, 10_000), rng.uniform(18, 54, 10_000)
    worst = max(
        _largest_circumradius(world_lon, world_lat, res), _largest_circumradius(china_lon, china_lat, res)
    )
    assert worst < cells.CIRCUMRADIUS_BOUND_M[res]
    assert worst > 0.9 * cells.CIRCUMRADIUS_BOUND_M[res] / 1.02 * 0.85  # the bound is not wildly loose
