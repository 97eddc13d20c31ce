"""The OpenAPI document as served: FastAPI's, with the Problem schema and without FastAPI's 422.

Validation answers 400 `invalid-parameter` (api/errors.py), which every route declares through
api/problems.py; the 422 `HTTPValidationError` FastAPI adds by itself to routes with parameters describes
an answer the service never gives, so it is removed here with its schemas.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.examples import add_examples
from api.problems import Problem

_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("/HTTPValidationError")


def _problem_components() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, "Problem": schema}


def contract(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            for status in [s for s, r in responses.items() if _is_fastapi_validation(r)]:
                del responses[status]
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    schemas.update(_problem_components())
    schemas["JsonValue"] = JSON_VALUE
    schemas["JsonObject"] = JSON_OBJECT
    for schema in _schemas(spec):
        _no_nul(schema)
    add_examples(spec)
    return spec


# httpguard/ refuses NUL in any text of a request (PostgreSQL cannot store it): every free string says so.
NO_NUL = r"^[^\x00]*$"


JSON_OBJECT_REF = {"$ref": "#/components/schemas/JsonObject"}
_TEXT_OR_SCALAR: list[dict[str, Any]] = [
    {"type": "string", "pattern": NO_NUL},
    {"type": ["number", "boolean", "null"]},
    JSON_OBJECT_REF,
]
# Recursion only through objects (generated TypeScript cannot alias an array of itself); an array inside an
# array is not described, which only the order core's callback, answering 401 before reading, takes.
JSON_VALUE: dict[str, Any] = {
    "description": "a JSON value without NUL in its text (httpguard/ refuses that before routing)",
    "anyOf": [*_TEXT_OR_SCALAR, {"type": "array", "items": {"anyOf": _TEXT_OR_SCALAR}}],
}
JSON_OBJECT: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": NO_NUL},
    "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
}


def _schemas(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(spec.get("components", {}).get("schemas", {}).values())
    for operations in spec.get("paths", {}).values():
        for op in operations.values():
            found += [p["schema"] for p in op.get("parameters", []) if "schema" in p]
            found += [
                c["schema"] for c in op.get("requestBody", {}).get("content", {}).values() if "schema" in c
            ]
    return found


def _no_nul(schema: Any) -> None:
    if isinstance(schema, list):
        for item in schema:
            _no_nul(item)
        return
    if not isinstance(schema, dict):
        return
    free = schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema)
    if free:
        schema["pattern"] = NO_NUL
    if schema.get("type") == "object" and "propertyNames" not in schema:
        schema["propertyNames"] = {"pattern": NO_NUL}
    for key, value in schema.items():
        if key not in ("example", "examples", "default", "const", "enum"):
            _no_nul(value)


def install_contract(app: FastAPI) -> None:
    """`app.openapi()` (and /openapi.json) serve `contract(app)`, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = contract(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
