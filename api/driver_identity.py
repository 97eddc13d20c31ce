"""The driver: `X-Driver-Id`, set by the mini-program gateway after WeChat login (an apiKey scheme).

Optional on pricing routes (without it: the platform price, no promotions); checkout refuses to go on
without it (401 driver-required)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader

MAX_DRIVER_ID = 64
_scheme = APIKeyHeader(
    name="X-Driver-Id",
    scheme_name="driverId",
    auto_error=False,
    description=f"the signed-in driver (at most {MAX_DRIVER_ID} characters), set by the mini-program gateway",
)


async def _driver(given: Annotated[str | None, Depends(_scheme)]) -> str | None:
    if given is not None and len(given) > MAX_DRIVER_ID:
        message = f"String should have at most {MAX_DRIVER_ID} characters"
        raise RequestValidationError([{"loc": ("header", "X-Driver-Id"), "msg": message}])
    return given or None


DriverDep = Annotated[str | None, Depends(_driver)]
# An operation where the driver is optional says so: no credential is one of its alternatives.
DRIVER_OPTIONAL: dict[str, Any] = {"security": [{}]}
