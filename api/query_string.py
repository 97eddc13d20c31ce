"""The query string of the list routes, read without FastAPI's per-parameter machinery (see
api/list_params.py), and the 400 problem that names each refused parameter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from pydantic import ValidationError

from httpguard.text import query_findings


class ParameterErrors(ValueError):
    """Refused parameters: each {"in", "name", "message"} (a 400 problem, invalid-parameter unless the
    refusal has a more precise type: unknown-parameter, unknown-brand ...; a 404 region-not-found names
    the parameter the same way)."""

    def __init__(
        self,
        errors: list[dict[str, str]],
        slug: str = "invalid-parameter",
        title: str = "Invalid request parameters",
        lead: str = "invalid value for",
        status: int = 400,
        detail: str | None = None,
    ) -> None:
        super().__init__(detail or f"{lead}: " + ", ".join(e["name"] for e in errors))
        self.errors = errors
        self.slug = slug
        self.title = title
        self.status = status


def parameter_names(raw: bytes) -> list[str]:
    """The names of a query string, in order, repeats kept (values are not decoded)."""
    names = []
    for part in raw.decode("latin-1").split("&"):
        if part:
            name = part.partition("=")[0]
            if "%" in name or "+" in name:
                name = unquote_plus(name, errors="replace")
            names.append(name)
    return names


def refuse_unknown(raw: bytes, known: frozenset[str]) -> None:
    """ParameterErrors (unknown-parameter) naming every query parameter the route does not take: a typo
    (`grdae=95`) or a filter it lacks must not be ignored silently."""
    if not raw:
        return
    unknown = [n for n in dict.fromkeys(parameter_names(raw)) if n not in known]
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise ParameterErrors(
            [
                {"in": "query", "name": n, "message": f"unknown parameter; this route takes: {takes}"}
                for n in unknown
            ],
            slug="unknown-parameter",
            title="Unknown query parameters",
            lead="unknown parameters",
        )


def query_dict(raw: bytes) -> dict[str, str]:
    """The query string as a dict (last value wins), decoding only what needs decoding. A name or value
    that is not UTF-8 once percent-decoded, or holds NUL, is a ParameterErrors naming it."""
    out: dict[str, str] = {}
    for part in raw.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            try:
                name, value = unquote_plus(name, errors="strict"), unquote_plus(value, errors="strict")
            except UnicodeDecodeError:
                raise ParameterErrors(query_findings(part.encode("latin-1"))) from None
            if "\x00" in name or "\x00" in value:
                raise ParameterErrors(query_findings(part.encode("latin-1"))) from None
        out[name] = value
    return out


def repeated(raw: bytes, name: str) -> list[str]:
    """Every value of a repeatable parameter (`pay=a&pay=b`), in order."""
    if f"{name}=".encode() not in raw:
        return []
    return [v for k, v in parse_qsl(raw.decode("latin-1")) if k == name]


def refused(exc: ValidationError) -> list[dict[str, str]]:
    """A query model's validation errors as problem items."""
    return [{"in": "query", "name": str(err["loc"][0]), "message": err["msg"]} for err in exc.errors()]


def openapi_parameters(schema: dict[str, Any], explode: Iterable[str] = ()) -> list[dict[str, Any]]:
    """OpenAPI query parameters from a query model's JSON schema (`Model.model_json_schema()`)."""
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        field = {k: v for k, v in prop.items() if k not in ("title", "description")}
        parameter = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": field,
            "description": prop.get("description", ""),
        }
        if name in explode:
            parameter["explode"] = True
        out.append(parameter)
    return out
