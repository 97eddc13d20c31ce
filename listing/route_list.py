"""Stations along a route: select (geo.corridor) -> rank -> columns, like listing.lists for a disk.

Detour model: the driver leaves the route at its nearest point and comes back to it, 2 × off_route_m of
driving (straight lines, no road factor: the corridor is narrow), burning consumption L/100 km at the
station's effective ¥/L for the driver (rounded half-up to the fen): detour_cost. total_cost = payable
for the fill + detour_cost. Stations without a fresh price of the grade have no effective price, detour
cost or total (null), and are left out of sort=effective and sort=total_cost.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

import numpy as np
from anyio import to_thread

from geo.corridor import CorridorMatches, CorridorQuery, corridor_stations
from geo.errors import InvalidSearch
from geo.snapshot import Snapshot
from listing import columns
from listing.rank import STALE_AFTER_S, driver_context
from listing.sources import ListSources
from pricing.compare import CompareRequest, EngineQuote, Ranked, rank
from pricing.fills import FillRequest

SORTS = ("along", "effective", "total_cost")
_CURSOR = struct.Struct("<2sdq")
_CURSOR_TAG = b"r1"


def encode_cursor(along_m: float, station_id: int) -> str:
    return base64.urlsafe_b64encode(_CURSOR.pack(_CURSOR_TAG, along_m, station_id)).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        tag, along, station_id = _CURSOR.unpack(raw)
    except (binascii.Error, struct.error, ValueError):
        raise InvalidSearch("cursor is not one this service issued") from None
    if tag != _CURSOR_TAG or not math.isfinite(along) or along < 0 or station_id < 1:
        raise InvalidSearch("cursor is not one this service issued")
    return float(along), int(station_id)


@dataclass(frozen=True)
class RouteAsk:
    corridor: CorridorQuery
    grade: str  # normalised: the grade of the effective price, detour cost and wait
    fill: FillRequest
    sort: str = "along"  # along | effective | total_cost
    limit: int = 20
    after: tuple[float, int] | None = None  # sort=along: (along_m, id) of the last item seen
    consumption_l_per_100km: Decimal = Decimal(8)
    driver_id: str | None = None
    prices: bool = False  # column: current prices per grade
    wait: bool = False  # column: expected wait for `grade`


@dataclass(frozen=True)
class RouteList:
    snap: Snapshot
    positions: np.ndarray  # listed stations in order
    along_m: np.ndarray
    off_route_m: np.ndarray
    open_state: np.ndarray
    members: list[bytes]  # per item: the columns' JSON members
    in_corridor: int  # eligible stations in the corridor
    next_cursor: str | None = None


def _take(found: CorridorMatches, index: np.ndarray) -> CorridorMatches:
    return CorridorMatches(found.positions[index], found.along_m[index], found.off_route_m[index])


async def along_route(sources: ListSources, ask: RouteAsk, now: datetime) -> RouteList:
    index = sources.index
    snap = index.snapshot
    open_state = index.open_state(now)
    found = corridor_stations(snap, ask.corridor, open_state)
    in_corridor = len(found.positions)
    engine_quote, member_cut = await driver_context(
        sources, snap, ask.driver_id, ask.grade, now, frozenset(), ask.fill
    )
    request = CompareRequest(
        grade=ask.grade,
        fill=ask.fill,
        now=now,
        stale_after_seconds=STALE_AFTER_S,
        sort="total" if ask.sort == "total_cost" else "price",
        consumption_l_per_100km=ask.consumption_l_per_100km,
        road_factor=Decimal(1),
        member_cut_milli=member_cut,
    )
    cursor = None
    if ask.sort == "along":
        if ask.after is not None:
            after_along, after_id = ask.after
            ids = snap.ids[found.positions]
            later = (found.along_m > after_along) | ((found.along_m == after_along) & (ids > after_id))
            found = _take(found, np.flatnonzero(later))
        if len(found.positions) > ask.limit:
            found = _take(found, np.arange(ask.limit))
            cursor = encode_cursor(float(found.along_m[-1]), int(snap.ids[found.positions[-1]]))
        ranked = await _ranked(sources, snap, found, request, engine_quote)
    else:
        ranked = await _ranked(sources, snap, found, request, engine_quote)
        order = ranked.positions[: ask.limit] if ranked is not None else found.positions[:0]
        row_of = {p: i for i, p in enumerate(found.positions.tolist())}
        found = _take(found, np.asarray([row_of[p] for p in order.tolist()], dtype=np.int64))
    if ranked is not None and len(ranked.positions) > len(found.positions):  # price only the page
        listed = set(found.positions.tolist())
        ranked = ranked.take(np.flatnonzero([p in listed for p in ranked.positions.tolist()]))
    parts: list[columns.Members] = []
    if ask.prices:
        parts.append(
            columns.price_members(sources.prices.book(snap.version), found.positions, now, sources.memo)
        )
    parts.append(columns.effective_members(ranked, found.positions))
    parts.append(detour_members(ranked, found.positions))
    if ask.wait:
        minutes, stale = sources.waits.columns(
            sources.book(), snap.ids[found.positions], ask.grade, now.timestamp()
        )
        parts.append(columns.wait_members(minutes, stale))
    members = [b"".join(item) for item in zip(*parts, strict=True)]
    return RouteList(
        snap, found.positions, found.along_m, found.off_route_m, open_state, members, in_corridor, cursor
    )


async def _ranked(
    sources: ListSources,
    snap: Snapshot,
    found: CorridorMatches,
    request: CompareRequest,
    engine_quote: EngineQuote | None,
) -> Ranked | None:
    """pricing.compare.rank of these stations with their off-route distance as the detour leg: cheapest
    (payable, or total) first, ties by off-route distance, then along the route."""
    prices = sources.prices.book(snap.version).for_grade(request.grade)
    if prices is None or not len(found.positions):
        return None
    request = replace(request, limit=len(found.positions))
    if engine_quote is not None:
        return await to_thread.run_sync(
            rank, prices, found.positions, found.off_route_m, request, engine_quote
        )
    return rank(prices, found.positions, found.off_route_m, request)


def detour_members(ranked: Ranked | None, positions: np.ndarray) -> columns.Members:
    """`,"detour_fuel_litres":"0.32","detour_cost":"2.43","total_cost":"290.95"` (null without a price)."""
    found: dict[int, bytes] = {}
    if ranked is not None:
        fuel, cost, total = ranked.detour_fuel_cl.tolist(), ranked.detour_cost.tolist(), ranked.total.tolist()
        for i, pos in enumerate(ranked.positions.tolist()):
            found[pos] = b',"detour_fuel_litres":"%d.%02d","detour_cost":"%d.%02d","total_cost":"%d.%02d"' % (
                *divmod(fuel[i], 100),
                *divmod(cost[i], 100),
                *divmod(total[i], 100),
            )
    missing = b',"detour_fuel_litres":null,"detour_cost":null,"total_cost":null'
    return [found.get(p, missing) for p in positions.tolist()]
