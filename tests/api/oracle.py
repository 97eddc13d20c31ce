"""The brute-force oracle: PostGIS measures every searchable station (geography, WGS-84 spheroid)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

_SCAN = text(
    """
    SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS d
    FROM stations
    WHERE status <> 'closed'
    ORDER BY d, id
    """
)


def scan(engine: Engine, lon: float, lat: float, radius_m: float, limit: int) -> list[tuple[int, float]]:
    with engine.connect() as conn:
        rows = conn.execute(_SCAN, {"lon": lon, "lat": lat}).all()
    return [(int(r.id), float(r.d)) for r in rows if r.d <= radius_m][:limit]


def assert_same_answer(
    items: list[dict[str, Any]], expected: list[tuple[int, float]], radius_m: float
) -> None:
    """Same stations in the same order, distances within 1 m. Where two stations are within 1 cm of each
    other (a tie the two distance algorithms may break differently), either order is accepted, and a
    station within 1 cm of the radius may be in or out."""
    got = [(int(item["id"]), float(item["distance_m"])) for item in items]
    expected = [e for e in expected if abs(e[1] - radius_m) > 0.01] + [
        e for e in expected if abs(e[1] - radius_m) <= 0.01 and e[0] in {g[0] for g in got}
    ]
    expected.sort(key=lambda e: (e[1], e[0]))
    assert len(got) == len(expected), (got[:5], expected[:5])
    for (gid, gd), (eid, ed) in zip(got, expected, strict=True):
        assert abs(gd - ed) < 1.0, (gid, gd, eid, ed)
        if gid != eid:
            tied = {e[0] for e in expected if abs(e[1] - ed) < 0.01}
            assert gid in tied, (gid, gd, eid, ed)
