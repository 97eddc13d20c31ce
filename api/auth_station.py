"""Station authentication: `Authorization: Bearer <key_id>.<secret>` issued by access/ for one station."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from access import credentials

_bearer = HTTPBearer(auto_error=False, description="the station's API credential (key_id.secret)")


class StationUnauthorized(Exception):
    """No station credential, or one that is unknown or revoked."""


class StationForbidden(Exception):
    """A valid credential of another station."""


async def authenticated_station(
    request: Request, given: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> int:
    if given is None or not given.credentials:
        raise StationUnauthorized("a station credential is required: Authorization: Bearer <key_id>.<secret>")
    station_id = await run_in_threadpool(credentials.verify, request.app.state.engine, given.credentials)
    if station_id is None:
        raise StationUnauthorized("unknown or revoked station credential")
    return station_id


StationAuthDep = Annotated[int, Depends(authenticated_station)]
