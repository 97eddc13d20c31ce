"""Station lists: select (a disk of geo.nearby) -> rank -> columns. Nearby search and the price
comparison are two instances; api/ parses the request before and renders the StationList after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from geo.distance import chord_to_metres
from geo.nearby import NearbyQuery, nearest_stations, stations_within
from geo.snapshot import Snapshot
from listing import columns
from listing.rank import STALE_AFTER_S, by_payable, by_price, by_wait, driver_context
from listing.sources import ListSources
from listing.waits import wait_order
from pricing.compare import CompareRequest
from pricing.fills import FillRequest


@dataclass(frozen=True)
class StationList:
    """Listed stations in order (snapshot positions), with what each column adds to every item."""

    snap: Snapshot
    positions: np.ndarray
    distances_m: np.ndarray
    open_state: np.ndarray  # per snapshot position: 1 open, 0 closed, -1 hours unknown
    members: list[bytes] | None = None  # per item: the columns' JSON members, in column order
    next_cursor: str | None = None
    in_radius: int = 0  # compare: the stations selected before ranking


def _joined(parts: list[columns.Members], count: int) -> list[bytes] | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return [b"".join(item) for item in zip(*parts, strict=True)] if count else []


@dataclass(frozen=True)
class NearbyAsk:
    disk: NearbyQuery  # the disk, its filters, page size and cursor
    sort: str  # distance | price | effective | wait
    grade: str  # normalised: the grade of sort=price, effective and wait
    prices: bool = False  # column: current prices per grade
    fill: FillRequest | None = None  # column: what the driver pays for this fill
    driver_id: str | None = None
    wait: bool = False  # column: expected wait for `grade`
    nav_app: str | None = None  # column: navigation links, with this app name as their src/referer


async def nearby(sources: ListSources, ask: NearbyAsk, now: datetime) -> StationList:
    index = sources.index
    snap = index.snapshot
    open_state = index.open_state(now)
    disk = ask.disk
    cursor = None
    if ask.sort == "price":
        within, chords = stations_within(snap, disk, open_state)
        book = sources.prices.book(snap.version)
        positions, chords = by_price(book, ask.grade, within, chords, now, disk.limit)
    elif ask.sort == "wait":
        within, chords = stations_within(snap, disk, open_state)
        positions, chords = by_wait(sources, snap, ask.grade, within, chords, disk.limit, now)
    elif ask.sort == "effective":  # ranked by _effective below
        positions, chords = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    else:
        page = nearest_stations(snap, disk, open_state)
        positions, chords, cursor = page.positions, page.chords, page.next_cursor
    parts: list[columns.Members] = []
    effective = None
    if ask.fill is not None:
        positions, chords, effective = await _effective(
            sources, snap, ask, positions, chords, open_state, now
        )
        if ask.sort == "effective":
            cursor = None
    if ask.prices:
        parts.append(columns.price_members(sources.prices.book(snap.version), positions, now, sources.memo))
    if effective is not None:
        parts.append(effective)
    if ask.wait:
        occupancy = sources.book()
        minutes, stale = sources.waits.columns(occupancy, snap.ids[positions], ask.grade, now.timestamp())
        parts.append(columns.wait_members(minutes, stale))
    if ask.nav_app is not None:
        parts.append(columns.navigation_members(snap, positions, ask.nav_app))
    distances = chord_to_metres(chords)
    return StationList(snap, positions, distances, open_state, _joined(parts, len(positions)), cursor)


async def _effective(
    sources: ListSources,
    snap: Snapshot,
    ask: NearbyAsk,
    positions: np.ndarray,
    chords: np.ndarray,
    open_state: np.ndarray,
    now: datetime,
) -> tuple[np.ndarray, np.ndarray, columns.Members]:
    """The effective column; for sort=effective also the order (cheapest for this driver first, within
    the disk, one page)."""
    assert ask.grade is not None and ask.fill is not None
    engine_quote, member_cut = await driver_context(
        sources, snap, ask.driver_id or None, ask.grade, now, frozenset(), ask.fill
    )
    if ask.sort == "effective":
        ranked_positions, ranked_chords = stations_within(snap, ask.disk, open_state)
        limit = ask.disk.limit
    else:
        ranked_positions, ranked_chords, limit = positions, chords, len(positions)
    book = sources.prices.book(snap.version)
    request = CompareRequest(
        grade=ask.grade,
        fill=ask.fill,
        now=now,
        stale_after_seconds=STALE_AFTER_S,
        limit=limit,
        member_cut_milli=member_cut,
    )
    if ask.sort != "effective" and engine_quote is None and member_cut == 0:
        return positions, chords, columns.anonymous_effective_members(book, positions, request, sources.memo)
    ranked = await by_payable(book, ranked_positions, ranked_chords, request, engine_quote)
    if ask.sort == "effective":
        chord_of = dict(zip(ranked_positions.tolist(), ranked_chords.tolist(), strict=True))
        order = ranked.positions.tolist() if ranked is not None else []
        positions = np.asarray(order, dtype=np.int64)
        chords = np.asarray([chord_of[p] for p in order], dtype=np.float64)
    return positions, chords, columns.effective_members(ranked, positions)


@dataclass(frozen=True)
class CompareAsk:
    disk: NearbyQuery  # the disk and the grade bit (its limit is not used)
    grade: str  # normalised
    fill: FillRequest
    sort: str  # price | total | wait
    limit: int
    include_stale: bool = False
    consumption_l_per_100km: Decimal = Decimal(8)
    road_factor: Decimal = Decimal("1.3")
    channels: frozenset[str] = field(default_factory=frozenset)  # payment channels the driver can use
    driver_id: str | None = None
    wait: bool = False  # column: expected wait


async def compare(sources: ListSources, ask: CompareAsk, now: datetime) -> StationList:
    index = sources.index
    snap = index.snapshot
    book = sources.prices.book(snap.version)
    open_state = index.open_state(now)
    within, chords = stations_within(snap, ask.disk, open_state)
    engine_quote, member_cut = await driver_context(
        sources, snap, ask.driver_id, ask.grade, now, ask.channels, ask.fill
    )
    by_wait_first = ask.sort == "wait"
    request = CompareRequest(
        grade=ask.grade,
        fill=ask.fill,
        now=now,
        stale_after_seconds=STALE_AFTER_S,
        include_stale=ask.include_stale,
        sort="price" if by_wait_first else ask.sort,
        limit=len(within) if by_wait_first else ask.limit,
        consumption_l_per_100km=ask.consumption_l_per_100km,
        road_factor=ask.road_factor,
        member_cut_milli=member_cut,
    )
    ranked = await by_payable(book, within, chords, request, engine_quote)
    if ranked is None:
        empty = within[:0]
        return StationList(snap, empty, empty.astype(np.float64), open_state, [], in_radius=len(within))
    parts = [columns.compared_members(ranked)]
    if ask.wait:
        minutes, stale = sources.waits.columns(
            sources.book(), snap.ids[ranked.positions], ask.grade, now.timestamp()
        )
        if by_wait_first:
            order = wait_order(minutes, ranked.distance_m)[: ask.limit]
            ranked = ranked.take(order)
            parts = [columns.compared_members(ranked)]
            minutes, stale = [minutes[i] for i in order.tolist()], [stale[i] for i in order.tolist()]
        parts.append(columns.wait_members(minutes, stale))
    members = _joined(parts, len(ranked.positions))
    return StationList(snap, ranked.positions, ranked.distance_m, open_state, members, in_radius=len(within))
