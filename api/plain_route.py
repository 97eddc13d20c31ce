"""A route served by its endpoint alone: `async endpoint(request) -> Response`, with no dependency solving.

The hot list routes (nearby, compare) parse their own query with a pydantic model and render bytes; FastAPI's
per-request dependency machinery cost more than their search (profiled). This is still the one registered
route that OpenAPI documents and that serves: a route of this class that declares anything to solve (a
dependency, a router dependency, a typed parameter) is refused with a TypeError when it is built (a
dependency added where its router is included: when FastAPI first builds it for a request), so nothing
added to it is skipped silently. A query parameter it does not document is refused (api/checked_route.py)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, _effective_route_context_var
from starlette.responses import Response

from api.checked_route import checking_query, documented_query_names


def _refuse_anything_to_solve(dependant: Dependant, path: str) -> None:
    d = dependant
    solved = d.dependencies or d.path_params or d.query_params or d.header_params or d.cookie_params
    if solved or d.body_params:
        raise TypeError(f"{path}: a PlainRoute takes only the request; its dependencies would never run")


class PlainRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Called when the route is built and again for each router that includes it (FastAPI 0.165 passes
        # an include's own dependencies in a context): either way, nothing may be left to solve.
        context = _effective_route_context_var.get()
        effective = context if context is not None and context.original_route is self else self
        _refuse_anything_to_solve(effective.dependant, self.path)
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return checking_query(endpoint, documented_query_names(self.openapi_extra))


def install_plain_routes(app: FastAPI, router: APIRouter) -> None:
    """Register each route of `router` (all PlainRoutes) on the app's own router, once, as declared, and
    match them first (after the PlainRoutes before them): the routes FastAPI and the docs add earlier
    (/openapi.json, /docs, /redoc) cost ~3 µs each to pass over, and no PlainRoute path overlaps them.

    Not through include_router: FastAPI 0.165 serves an included router's routes through a nested layer
    (measured in-process: ~40 µs of a ~200 µs nearby request)."""
    for route in router.routes:
        if not isinstance(route, PlainRoute) or route.dependencies:
            raise TypeError(f"{getattr(route, 'path', route)}: only PlainRoutes without dependencies")
        app.router.add_api_route(
            route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            name=route.name,
            operation_id=route.operation_id,
            summary=route.summary,
            description=route.description,
            tags=route.tags,
            response_model=None,
            responses=route.responses,
            openapi_extra=route.openapi_extra,
            include_in_schema=route.include_in_schema,
            route_class_override=PlainRoute,
        )
        routes = app.router.routes
        added = routes.pop()
        routes.insert(sum(isinstance(r, PlainRoute) for r in routes), added)
