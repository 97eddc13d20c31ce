"""Routes that refuse query parameters they do not take (400 unknown-parameter naming each), before
anything else runs: what a route takes is what it documents, so a typo or a filter it lacks is never
silently ignored. `CheckedRoute` for the routers of api/routes/ (the names of every query parameter its
dependencies read), `known_query_names` for the plain list routes (the parameters they document)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, _effective_route_context_var
from pydantic import BaseModel
from starlette.responses import Response

from api.query_string import refuse_unknown

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def documented_query_names(openapi_extra: dict[str, Any] | None) -> frozenset[str]:
    parameters = (openapi_extra or {}).get("parameters", ())
    return frozenset(p["name"] for p in parameters if p.get("in") == "query")


def query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter a dependant reads, its sub-dependencies' too (a query model's fields)."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        for field in current.query_params:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names.update(f.alias or n for n, f in annotation.model_fields.items())
            else:
                names.add(field.alias)
        stack.extend(current.dependencies)
    return frozenset(names)


def checking_query(handler: Handler, known: frozenset[str]) -> Handler:
    async def checked(request: Request) -> Response:
        refuse_unknown(request.scope["query_string"], known)
        return await handler(request)

    return checked


class CheckedRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        context = _effective_route_context_var.get()  # an include's dependencies count too
        effective = context if context is not None and context.original_route is self else self
        known = query_names(effective.dependant or self.dependant) | documented_query_names(
            self.openapi_extra
        )
        return checking_query(handler, known)
