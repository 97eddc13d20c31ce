"""The driver: `Authorization: Bearer <JWT>`, signed by the mini-program gateway after WeChat login
(access/driver_tokens.py; OpenAPI scheme `driverToken`, distinct from `operatorToken` and
`stationCredential`).

Optional on pricing and list routes (without it: the platform price, no promotions); the driver's own
routes (/v1/me/...) and checkout refuse to go on without it (401 driver-required). A token that is
present but unsigned, forged, malformed or expired is a 401 invalid-driver-token on every route that
reads it: it never falls back to anonymous. A driver id seen for the first time is a new driver."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from access.driver_tokens import InvalidDriverToken, verify
from api.services import services_of
from checkout.errors import DriverRequired

SCHEME = "driverToken"
_scheme = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME,
    bearerFormat="JWT",
    description="the signed-in driver: a JWT (HS256, `sub` = driver id, `exp` required) the mini-program "
    "gateway signs after WeChat login with STATIONS_DRIVER_TOKEN_KEY",
)


def driver_of(request: Request) -> str | None:
    """The verified driver of the request, None when it carries no Authorization header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidDriverToken("give the driver as Authorization: Bearer <token>")
    services = services_of(request)
    return verify(services.settings.driver_keys(), token.strip(), services.clock.now())


async def _driver(request: Request, _: Annotated[Any, Depends(_scheme)]) -> str | None:
    return driver_of(request)


async def _signed_in(request: Request, _: Annotated[Any, Depends(_scheme)]) -> str:
    driver = driver_of(request)
    if driver is None:
        raise DriverRequired("this route needs the signed-in driver: Authorization: Bearer <driver token>")
    return driver


DriverDep = Annotated[str | None, Depends(_driver)]
SignedInDriverDep = Annotated[str, Depends(_signed_in)]
# An operation where the driver is optional says so: no credential is one of its alternatives (FastAPI
# puts the dependency's scheme first; a plain route, which has no dependency, names both).
DRIVER_OPTIONAL: dict[str, Any] = {"security": [{}]}
DRIVER_OPTIONAL_PLAIN: dict[str, Any] = {"security": [{SCHEME: []}, {}]}
DRIVER_PROBLEMS: dict[int, list[str]] = {401: ["driver-required", "invalid-driver-token"]}
