"""The hot list routes are PlainRoutes: one registration that serves and is documented, and nothing declared
on it can be skipped silently (a dependency, or any parameter FastAPI would have to solve, is refused)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.responses import Response

from api.app import create_app
from api.plain_route import PlainRoute
from api.settings import Settings


async def _plain(request: Request) -> Response:
    return Response(b"{}", media_type="application/json")


def _authenticated() -> None:
    return None


def test_a_dependency_or_a_solved_parameter_is_refused() -> None:
    router = APIRouter(route_class=PlainRoute)
    router.get("/ok")(_plain)

    async def with_query(request: Request, q: Annotated[str, Query()]) -> Response:
        return Response(b"")

    with pytest.raises(TypeError, match="takes only the request"):
        router.get("/q")(with_query)
    with pytest.raises(TypeError, match="takes only the request"):
        router.get("/dep", dependencies=[Depends(_authenticated)])(_plain)
    guarded = APIRouter(route_class=PlainRoute, dependencies=[Depends(_authenticated)])
    with pytest.raises(TypeError, match="takes only the request"):
        guarded.get("/guarded")(_plain)
    # A dependency added where the router is included is refused when that route is first built.
    app = FastAPI()
    app.include_router(router, dependencies=[Depends(_authenticated)])
    with pytest.raises(TypeError, match="takes only the request"):
        asyncio.run(_get(app, "/ok"))
    bare = FastAPI()
    bare.include_router(router)
    assert asyncio.run(_get(bare, "/ok")) == {}


async def _get(app: FastAPI, path: str) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return (await client.get(path)).json()


def _routes(routes: list[Any]) -> list[Any]:
    """Every route, through FastAPI's included-router wrappers."""
    found = []
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        found += _routes(list(inner)) if inner and not isinstance(route, PlainRoute) else [route]
    return found


def test_nearby_and_compare_are_registered_once_and_documented() -> None:
    app = create_app(Settings.model_validate({"mode": "development", "load_index": False}))
    for path, operation in (
        ("/v1/stations/nearby", "nearbyStations"),
        ("/v1/prices/compare", "comparePrices"),
    ):
        served = [r for r in _routes(app.routes) if getattr(r, "path", None) == path]
        assert len(served) == 1 and isinstance(served[0], PlainRoute), served
        assert app.openapi()["paths"][path]["get"]["operationId"] == operation
