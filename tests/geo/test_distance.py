"""Chord-based distances agree with the WGS-84 geodesic (pyproj/GeographicLib) to millimetres."""

from __future__ import annotations

import numpy as np
import pyproj

from geo.distance import chord_to_metres, ecef, metres_to_chord


def test_chord_distance_matches_the_geodesic_below_60_km() -> None:
    geod = pyproj.Geod(ellps="WGS84")
    rng = np.random.default_rng(1)
    n = 50_000
    lat1 = rng.uniform(-70, 70, n)
    lon1 = rng.uniform(-180, 180, n)
    want = rng.uniform(0, 60_000, n)
    lon2, lat2, _ = geod.fwd(lon1, lat1, rng.uniform(0, 360, n), want)
    got = chord_to_metres(np.linalg.norm(ecef(lon1, lat1) - ecef(np.asarray(lon2), np.asarray(lat2)), axis=1))
    assert np.max(np.abs(got - want)) < 0.005


def test_metres_to_chord_inverts_chord_to_metres() -> None:
    for metres in (0.0, 1.0, 999.5, 5_000.0, 50_000.0, 200_000.0):
        assert abs(float(chord_to_metres(np.array(metres_to_chord(metres)))) - metres) < 1e-6
