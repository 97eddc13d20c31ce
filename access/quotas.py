"""Partner quotas (issue 15, part 2): a token bucket per key and a daily quota per partner, shared by every
worker and node because the state is in PostgreSQL.

Each request runs `partner_take` (migration 0012) once: one round trip that checks the key is live, takes
a token from the key's bucket (UNLOGGED table: no WAL) and counts the request in the partner's China day
(`synchronous_commit` off for that transaction: no fsync wait). The bucket refills continuously at
`rate_per_second` up to `burst`; a request that finds less than one token is refused and takes nothing.
The day is the China day (Asia/Shanghai, UTC+8 all year) of the injected clock's `now`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Engine, text

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
OUTCOMES = ("ok", "revoked", "rate", "quota")


def china_day(now: datetime) -> date:
    return now.astimezone(CHINA).date()


def seconds_to_next_day(now: datetime) -> float:
    local = now.astimezone(CHINA)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), CHINA)
    return (midnight - local).total_seconds()


@dataclass(frozen=True, slots=True)
class Take:
    """One request's outcome: 'ok', 'revoked' (key no longer live), 'rate' (bucket empty) or 'quota'
    (the day's quota used up); the bucket after it, and the day's usage."""

    outcome: str
    tokens: float
    burst: int
    rate_per_second: float
    used_today: int
    daily_quota: int | None
    seconds_to_next_day: float

    @property
    def remaining(self) -> int:
        """Requests the bucket allows now (what RateLimit-Remaining says)."""
        return max(0, math.floor(self.tokens))

    @property
    def seconds_to_full(self) -> float:
        return max(0.0, (self.burst - self.tokens) / self.rate_per_second) if self.rate_per_second else 0.0

    @property
    def seconds_to_next_token(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate_per_second) if self.rate_per_second else 0.0

    @property
    def quota_left(self) -> int | None:
        return None if self.daily_quota is None else max(0, self.daily_quota - self.used_today)


_TAKE = text("SELECT outcome, level, burst, rate, used, quota FROM partner_take(:k, :p, :now, :day)")


def take(engine: Engine, key_id: str, partner_id: int, now: datetime) -> Take:
    """Count one request of this key (one round trip, committed)."""
    with engine.begin() as conn:
        row = conn.execute(_TAKE, {"k": key_id, "p": partner_id, "now": now, "day": china_day(now)}).one()
    return Take(
        str(row[0]),
        float(row[1]),
        int(row[2]),
        float(row[3]),
        int(row[4] or 0),
        None if row[5] is None else int(row[5]),
        seconds_to_next_day(now),
    )


@dataclass(frozen=True, slots=True)
class DayUsage:
    day: date
    served: int
    refused: int


def usage(engine: Engine, partner_id: int, now: datetime, days: int) -> list[DayUsage]:
    """The partner's requests served and refused on each of the last `days` China days (today first; days
    without a request count zero)."""
    today = china_day(now)
    first = today - timedelta(days=days - 1)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT day, served, refused FROM partner_usage "
                "WHERE partner_id = :p AND day BETWEEN :first AND :today"
            ),
            {"p": partner_id, "first": first, "today": today},
        ).all()
    found = {r[0]: (int(r[1]), int(r[2])) for r in rows}
    out = []
    for back in range(days):
        day = today - timedelta(days=back)
        served, refused = found.get(day, (0, 0))
        out.append(DayUsage(day, served, refused))
    return out
