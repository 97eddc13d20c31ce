"""What the scenarios need from the database before a run, written to one JSON file the locust process reads:
the city centres drivers search around (those of the catalogue's stations), stations with their fueling
positions and nozzles (checkout names a position and a nozzle), and station systems with a fresh credential
each (revoked after the run)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from access.credentials import issue, revoke
from demodata.cities import CITIES
from occupancy.layouts import load_layouts

# Open stations with at least one nozzle, nearest to a point first.
_NEAREST = text(
    """SELECT s.id, ST_Distance(s.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
         FROM stations s
        WHERE s.status = 'open'
          AND EXISTS (SELECT 1 FROM fueling_positions p JOIN nozzles n ON n.position_id = p.id
                      WHERE p.station_id = s.id)
        ORDER BY s.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), s.id
        LIMIT :n"""
)
NEAR_M = 30_000.0  # a centre is used when its nearest station lies within this


@dataclass(frozen=True, slots=True)
class Centre:
    name: str
    lon: float  # WGS-84
    lat: float


@dataclass(slots=True)
class StationLayout:
    station_id: int
    nozzles: list[tuple[int, int, str]]  # (position, nozzle, grade)


@dataclass(slots=True)
class StationSystem:
    station_id: int
    key_id: str
    token: str
    nozzles: list[tuple[int, int, str]]


@dataclass(slots=True)
class Plan:
    seed: int
    centres: list[Centre]
    layouts: dict[int, StationLayout]
    systems: list[StationSystem]
    partner: dict[str, Any] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        body = asdict(self)
        body["layouts"] = {str(k): v for k, v in body["layouts"].items()}
        path.write_text(json.dumps(body, ensure_ascii=False, indent=1))


def read_plan(path: Path) -> Plan:
    raw = json.loads(path.read_text())
    return Plan(
        seed=int(raw["seed"]),
        centres=[Centre(**c) for c in raw["centres"]],
        layouts={
            int(k): StationLayout(int(v["station_id"]), [tuple(n) for n in v["nozzles"]])
            for k, v in raw["layouts"].items()
        },
        systems=[
            StationSystem(s["station_id"], s["key_id"], s["token"], [tuple(n) for n in s["nozzles"]])
            for s in raw["systems"]
        ],
        partner=dict(raw.get("partner") or {}),
    )


def _nozzles(layout: dict[int, Any]) -> list[tuple[int, int, str]]:
    return [
        (p.number, nozzle, grade)
        for p in layout.values()
        for nozzle, grade in sorted(p.nozzle_grades.items())
    ]


def make_plan(
    engine: Engine, *, seed: int, centres: int = 12, per_centre: int = 25, systems: int = 20
) -> Plan:
    """Centres: the most populous cities that have stations within 30 km; per centre the `per_centre`
    nearest stations' layouts; `systems` of those stations (spread over the centres) get a credential."""
    chosen: list[Centre] = []
    near: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for city in sorted(CITIES, key=lambda c: (-c.population, c.adcode)):
            if len(chosen) >= centres:
                break
            rows = conn.execute(_NEAREST, {"lon": city.lon, "lat": city.lat, "n": per_centre}).all()
            if not rows or float(rows[0][1]) > NEAR_M:
                continue
            chosen.append(Centre(city.name, city.lon, city.lat))
            near[city.name] = [int(r[0]) for r in rows]
        ids = sorted({sid for found in near.values() for sid in found})
        layouts = load_layouts(conn, ids)
    stations = {
        sid: StationLayout(sid, _nozzles(layouts[sid]))
        for sid in ids
        if sid in layouts and _nozzles(layouts[sid])
    }
    # Station systems: round-robin over the centres, nearest first, so every city has some live forecourts.
    picked: list[int] = []
    rank = 0
    while len(picked) < systems and rank < per_centre:
        for c in chosen:
            found = near[c.name]
            if rank < len(found) and found[rank] in stations and found[rank] not in picked:
                picked.append(found[rank])
                if len(picked) >= systems:
                    break
        rank += 1
    issued = [issue(engine, sid) for sid in picked]
    return Plan(
        seed=seed,
        centres=chosen,
        layouts=stations,
        systems=[
            StationSystem(i.station_id, i.key_id, i.token, stations[i.station_id].nozzles) for i in issued
        ],
    )


def revoke_plan(engine: Engine, plan: Plan) -> int:
    """Revoke the run's station credentials; how many were still live."""
    return sum(revoke(engine, s.key_id) for s in plan.systems)


def distance_m(a: Centre, b: Centre) -> float:
    """Great-circle distance between two centres (spherical; enough to pick road trips)."""
    la1, la2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lon - a.lon)
    c = math.sin(la1) * math.sin(la2) + math.cos(la1) * math.cos(la2) * math.cos(dl)
    return 6_371_000.0 * math.acos(max(-1.0, min(1.0, c)))
