"""Price-change events for webhooks, derived from the change log: each new price window (a change-log
'price' insert) is an event with the window's price and the one it follows; each active subscription it
matches (region, brand, grade, tier, |change| >= threshold) gets a pending delivery, enqueued in the
transaction that moves the delivery worker's cursor past it (so none is enqueued twice or lost).

A price corrected in place (the same window, a new price) is not an event; nor is a window deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, text

from changelog import Change, Cursor, ResyncNeeded, cursor_at_head, read_changes
from geo.coords import CoordSystem, from_wgs84
from partners.errors import FeedResyncRequired, ReplayTooLarge
from pricing.money import price_text
from timekeeping.rfc3339 import instant_text

_WINDOWS = text(
    """
    SELECT sp.id, sp.station_id, sp.grade, sp.tier, sp.price, sp.currency, sp.effective_from,
           prev.price AS previous_price, s.name, s.brand, s.adcode, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
    FROM station_prices AS sp
    JOIN stations AS s ON s.id = sp.station_id
    LEFT JOIN LATERAL (
        SELECT p.price FROM station_prices AS p
        WHERE p.station_id = sp.station_id AND p.grade = sp.grade AND p.tier = sp.tier
          AND p.effective_to = sp.effective_from AND p.currency = sp.currency
        LIMIT 1
    ) AS prev ON true
    WHERE sp.id = ANY(:ids)
    """
)
_ACTIVE = text(
    "SELECT id, partner_id, coord, adcode, brands, grades, tiers, threshold FROM webhook_subscriptions "
    "WHERE active"
)
_ONE_SUB = text(
    "SELECT id, partner_id, coord, adcode, brands, grades, tiers, threshold FROM webhook_subscriptions "
    "WHERE id = :id"
)
_POI = text("SELECT partner_id, station_id, poi_id FROM partner_poi_ids WHERE station_id = ANY(:ids)")
_ENQUEUE = text(
    """
    INSERT INTO webhook_deliveries (subscription_id, event_id, seq, change_id, station_id, payload,
                                    next_attempt_at, created_at)
    VALUES (:subscription_id, :event_id, :seq, :change_id, :station_id, CAST(:payload AS jsonb), :now, :now)
    ON CONFLICT (subscription_id, event_id) WHERE state = 'pending' DO NOTHING
    """
)
_LOCK_CURSOR = text("SELECT cursor FROM webhook_cursor FOR UPDATE")
_MOVE_CURSOR = text("UPDATE webhook_cursor SET cursor = :cursor, updated_at = :now")
PAGE = 2_000


@dataclass(frozen=True)
class Target:
    id: int
    partner_id: int
    coord: str
    adcode: str | None
    brands: list[str]
    grades: list[str]
    tiers: list[str]
    threshold: Decimal


@dataclass
class Enqueued:
    changes: int = 0  # change-log rows read
    events: int = 0  # price windows seen
    deliveries: int = 0  # deliveries enqueued
    cursor: str = ""
    resynced: bool = False  # the worker's cursor was pruned: it jumped to the head (events lost)


def _region_matches(wanted: str | None, adcode: str | None) -> bool:
    if wanted is None:
        return True
    if adcode is None:
        return False
    prefix = wanted[:2] if wanted.endswith("0000") else wanted[:4] if wanted.endswith("00") else wanted
    return adcode.startswith(prefix)


def matches(t: Target, w: Any) -> bool:
    if not _region_matches(t.adcode, w.adcode):
        return False
    if (t.brands and w.brand not in t.brands) or (t.grades and w.grade not in t.grades):
        return False
    if w.tier not in t.tiers:
        return False
    if w.previous_price is None:
        return True  # a first price of this grade and tier: always news
    return abs(Decimal(w.price) - Decimal(w.previous_price)) >= t.threshold


def _payload(change: Change, w: Any, t: Target, poi: dict[tuple[int, int], str]) -> dict[str, Any]:
    lon, lat = from_wgs84(float(w.lon), float(w.lat), CoordSystem(t.coord))
    price, currency = Decimal(w.price), w.currency
    previous = None if w.previous_price is None else Decimal(w.previous_price)
    return {
        "event_id": f"price.{w.id}",
        "type": "price.changed",
        "subscription_id": t.id,
        "cursor": str(Cursor.after(change.seq)),
        "seq": change.seq,
        "committed_at": instant_text(change.committed_at),
        "station": {
            "id": int(w.station_id),
            "poi_id": poi.get((t.partner_id, int(w.station_id))),
            "name": w.name,
            "brand": w.brand,
            "adcode": w.adcode,
            "coord": t.coord,
            "location": {"lon": round(lon, 6), "lat": round(lat, 6)},
        },
        "grade": w.grade,
        "tier": w.tier,
        "currency": currency,
        "price": price_text(price, currency),
        "previous_price": None if previous is None else price_text(previous, currency),
        "change": None if previous is None else price_text(price - previous, currency),
        "effective_from": instant_text(w.effective_from),
    }


def enqueue_changes(
    conn: Connection, changes: Sequence[Change], targets: Sequence[Target], now: datetime
) -> tuple[int, int]:
    """Pending deliveries for the price windows these changes inserted; (events, deliveries)."""
    inserted = [c for c in changes if c.entity == "price" and c.op == "I" and c.entity_id is not None]
    if not inserted or not targets:
        return len(inserted), 0
    windows = {int(w.id): w for w in conn.execute(_WINDOWS, {"ids": [c.entity_id for c in inserted]})}
    station_ids = sorted({int(w.station_id) for w in windows.values()})
    poi = {(int(p), int(s)): i for p, s, i in conn.execute(_POI, {"ids": station_ids})}
    rows = []
    for c in inserted:
        w = windows.get(int(c.entity_id or 0))
        if w is None:  # deleted since (its station too, maybe)
            continue
        for t in targets:
            if matches(t, w):
                payload = _payload(c, w, t, poi)
                rows.append(
                    {
                        "subscription_id": t.id,
                        "event_id": payload["event_id"],
                        "seq": c.seq,
                        "change_id": c.id,
                        "station_id": int(w.station_id),
                        "payload": orjson.dumps(payload).decode(),
                        "now": now,
                    }
                )
    enqueued = sum(conn.execute(_ENQUEUE, row).rowcount for row in rows)  # pending duplicates: 0
    return len(inserted), enqueued


def enqueue_step(conn: Connection, now: datetime, limit: int = PAGE) -> Enqueued:
    """One page of the log after the worker's stored cursor, enqueued, the cursor moved (the caller's
    transaction; the cursor row is locked until it commits). A fresh worker starts at the head."""
    done = Enqueued()
    stored = conn.execute(_LOCK_CURSOR).scalar()
    cursor = stored if stored is not None else cursor_at_head(conn)
    try:
        page = read_changes(conn, cursor, limit)
    except ResyncNeeded:
        done.cursor, done.resynced = cursor_at_head(conn), True
        conn.execute(_MOVE_CURSOR, {"cursor": done.cursor, "now": now})
        return done
    targets = [Target(*r) for r in conn.execute(_ACTIVE)]
    done.events, done.deliveries = enqueue_changes(conn, page.changes, targets, now)
    done.changes, done.cursor = len(page.changes), page.cursor
    if page.cursor != stored:
        conn.execute(_MOVE_CURSOR, {"cursor": page.cursor, "now": now})
    return done


def replay(conn: Connection, subscription_id: int, after: str, now: datetime, max_changes: int) -> Enqueued:
    """Enqueue again, for one subscription, the events after cursor `after` up to where the worker stands
    (what follows, the worker enqueues); pending duplicates are skipped. Raises FeedResyncRequired
    (pruned), InvalidCursor, ReplayTooLarge (more than max_changes rows between the cursor and the worker)."""
    done = Enqueued()
    stored = conn.execute(_LOCK_CURSOR).scalar()
    if stored is None:  # the worker has not started: it will start here
        stored = cursor_at_head(conn)
        conn.execute(_MOVE_CURSOR, {"cursor": stored, "now": now})
    until = Cursor.parse(stored)
    target = Target(*conn.execute(_ONE_SUB, {"id": subscription_id}).one())
    cursor = after
    while Cursor.parse(cursor) < until:
        try:
            page = read_changes(conn, cursor, PAGE)
        except ResyncNeeded as exc:
            raise FeedResyncRequired(str(exc)) from None
        if not page.changes:
            break
        wanted = [c for c in page.changes if Cursor(c.seq, c.id) <= until]  # what the worker read
        events, deliveries = enqueue_changes(conn, wanted, [target], now)
        done.changes += len(wanted)
        done.events += events
        done.deliveries += deliveries
        if done.changes > max_changes:
            raise ReplayTooLarge(f"more than {max_changes} changes to replay: replay from a later cursor")
        cursor = page.cursor
    done.cursor = stored
    return done
