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
from listing.pages import RankKey, encode_ranked, keyset_page
from listing.rank import STALE_AFTER_S, by_payable, by_price, by_wait, driver_context
from listing.sources import ListSources
from listing.waits import wait_keys
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
    ranked_after: RankKey | None = None  # sort=price|effective|wait: the cursor (disk.after: distance)


async def nearby(sources: ListSources, ask: NearbyAsk, now: datetime) -> StationList:
    index = sources.index
    snap = index.snapshot
    open_state = index.open_state(now)
    disk = ask.disk
    cursor = None
    if ask.sort == "price":
        within, chords = stations_within(snap, disk, open_state)
        book = sources.prices.book(snap.version)
        positions, chords, cursor = by_price(
            book, snap, ask.grade, within, chords, now, disk.limit, ask.ranked_after
        )
    elif ask.sort == "wait":
        within, chords = stations_within(snap, disk, open_state)
        positions, chords, cursor = by_wait(
            sources, snap, ask.grade, within, chords, disk.limit, now, ask.ranked_after
        )
    elif ask.sort == "effective":  # ranked by _effective below
        positions, chords = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    else:
        page = nearest_stations(snap, disk, open_state)
        positions, chords, cursor = page.positions, page.chords, page.next_cursor
    parts: list[columns.Members] = []
    effective = None
    if ask.fill is not None:
        positions, chords, effective, ranked_cursor = await _effective(
            sources, snap, ask, positions, chords, open_state, now
        )
        if ask.sort == "effective":
            cursor = ranked_cursor
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
) -> tuple[np.ndarray, np.ndarray, columns.Members, str | None]:
    """The effective column; for sort=effective also the order (cheapest for this driver first, within
    the disk, one page after ask.ranked_after) and the next page's cursor."""
    assert ask.grade is not None and ask.fill is not None
    engine_quote, member_cut = await driver_context(
        sources, snap, ask.driver_id or None, ask.grade, now, frozenset(), ask.fill
    )
    if ask.sort == "effective":
        ranked_positions, ranked_chords = stations_within(snap, ask.disk, open_state)
        limit = len(ranked_positions)
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
        members = columns.anonymous_effective_members(book, positions, request, sources.memo)
        return positions, chords, members, None
    ranked = await by_payable(book, ranked_positions, ranked_chords, request, engine_quote)
    cursor = None
    if ask.sort == "effective":
        chord_of = dict(zip(ranked_positions.tolist(), ranked_chords.tolist(), strict=True))
        order = ranked.positions.tolist() if ranked is not None else []
        positions = np.asarray(order, dtype=np.int64)
        chords = np.asarray([chord_of[p] for p in order], dtype=np.float64)
        if ranked is not None:
            page, last = keyset_page(
                ranked.payable, chords, snap.ids[positions], ask.ranked_after, ask.disk.limit
            )
            ranked, positions, chords = ranked.take(page), positions[page], chords[page]
            cursor = encode_ranked("effective", last) if last else None
    return positions, chords, columns.effective_members(ranked, positions), cursor


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
    after: RankKey | None = None  # the cursor of the page before


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
        limit=len(within),
        consumption_l_per_100km=ask.consumption_l_per_100km,
        road_factor=ask.road_factor,
        member_cut_milli=member_cut,
    )
    ranked = await by_payable(book, within, chords, request, engine_quote)
    if ranked is None:
        empty = within[:0]
        return StationList(snap, empty, empty.astype(np.float64), open_state, [], in_radius=len(within))
    ids = snap.ids[ranked.positions]
    minutes: list[float | None] | None = None
    stale: list[bool | None] = []
    if by_wait_first:
        minutes, stale = sources.waits.columns(sources.book(), ids, ask.grade, now.timestamp())
        keys = wait_keys(minutes)
    else:
        keys = ranked.total if ask.sort == "total" else ranked.payable
    page, last = keyset_page(keys, ranked.distance_m, ids, ask.after, ask.limit)
    ranked = ranked.take(page)
    cursor = encode_ranked(f"compare:{ask.sort}", last) if last else None
    parts = [columns.compared_members(ranked)]
    if ask.wait:
        if minutes is None:
            minutes, stale = sources.waits.columns(
                sources.book(), snap.ids[ranked.positions], ask.grade, now.timestamp()
            )
        else:
            minutes, stale = [minutes[i] for i in page.tolist()], [stale[i] for i in page.tolist()]
        parts.append(columns.wait_members(minutes, stale))
    members = _joined(parts, len(ranked.positions))
    return StationList(
        snap, ranked.positions, ranked.distance_m, open_state, members, cursor, in_radius=len(within)
    )
