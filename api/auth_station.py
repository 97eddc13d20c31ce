"""Station staff authentication: `Authorization: Bearer <key_id>.<secret>` issued by access/ for one
station and one role (station_admin, cashier, attendant: access/credentials.py). `staff_in(*roles)` is a
route's dependency: 401 without a live credential, 403 `role-forbidden` for a credential of another role;
the route compares the credential's station with the one it acts on (403 `forbidden`).

A scrypt check costs ~50 ms of CPU, too much for controllers posting batches many times a second, so
each worker remembers successful checks (keyed by the token's SHA-256, never the token) in a bounded
cache. An entry older than `station_auth_cache_seconds` (default 30 s) is re-checked with one indexed
query (is the key id still unrevoked? its secret never changes) instead of another scrypt: a revoked
credential stops working within that time, not at once. Failed checks are never cached.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from access import credentials
from access.credentials import Staff
from access.token_cache import VerifiedCache, token_key
from api.services import services_of

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="stationCredential",
    bearerFormat="<key_id>.<secret>",
    description="the station's API credential, issued with `python -m access.cli issue STATION_ID`",
)


class StationUnauthorized(Exception):
    """No station credential, or one that is unknown or revoked."""


class StationForbidden(Exception):
    """A valid credential of another station."""


class RoleForbidden(Exception):
    """A valid credential whose role may not do this."""


VerifiedTokens = VerifiedCache[Staff]  # station credentials a worker checked (api/services.py)


async def authenticated_staff(
    request: Request, given: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Staff:
    if given is None or not given.credentials:
        raise StationUnauthorized("a station credential is required: Authorization: Bearer <key_id>.<secret>")
    services = services_of(request)
    cache = services.verified_tokens
    token = given.credentials.strip()
    key = token_key(token)
    known = cache.lookup(key)
    if known is not None:
        if not known[1]:
            return known[0]
        staff = await run_in_threadpool(credentials.live_station, services.engine, token.partition(".")[0])
        if staff != known[0]:
            cache.drop(key)
            raise StationUnauthorized("unknown or revoked station credential")
        cache.put(key, staff)
        return staff
    found = await run_in_threadpool(credentials.verify, services.engine, given.credentials)
    if found is None:
        raise StationUnauthorized("unknown or revoked station credential")
    cache.put(key, found)
    return found


def staff_in(*roles: str) -> Callable[..., Coroutine[Any, Any, Staff]]:
    """The dependency of a station route that these roles may use."""
    unknown = set(roles) - set(credentials.ROLES)
    if unknown or not roles:
        raise ValueError(f"roles {roles!r}: choose from {credentials.ROLES}")

    async def staff_in_role(staff: Annotated[Staff, Depends(authenticated_staff)]) -> Staff:
        if staff.role not in roles:
            raise RoleForbidden(f"a {staff.role} credential may not do this (only {', '.join(roles)})")
        return staff

    staff_in_role.__name__ = "staff_in_" + "_".join(roles)
    return staff_in_role


def at_station(staff: Staff, station_id: int) -> None:
    """Refuse (403) a credential of another station than the one the request acts on."""
    if staff.station_id != station_id:
        raise StationForbidden(f"this credential belongs to station {staff.station_id}, not {station_id}")


# 401 and 403 of a station route (its problem_responses).
STAFF_PROBLEMS: dict[int, list[str]] = {401: ["unauthorized"], 403: ["forbidden", "role-forbidden"]}
StationAdminDep = Annotated[Staff, Depends(staff_in("station_admin"))]
# The controller's nozzle events and queue counts: the station admin's credential (every credential issued
# before roles existed) or an attendant's at the forecourt.
ForecourtDep = Annotated[Staff, Depends(staff_in("station_admin", "attendant"))]
CashierDep = Annotated[Staff, Depends(staff_in("cashier"))]
AttendantDep = Annotated[Staff, Depends(staff_in("attendant"))]


async def _admin_station(staff: StationAdminDep) -> int:
    return staff.station_id


# The station of a station_admin credential: what StationAuthDep meant before roles (kept for routes that
# take only the station id; new routes say which roles they admit with staff_in).
StationAuthDep = Annotated[int, Depends(_admin_station)]
