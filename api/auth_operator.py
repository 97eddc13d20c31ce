"""Operator authentication: `Authorization: Bearer <token>` against settings.operator_token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.services import services_of

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="operatorToken",
    description="the operator token (STATIONS_OPERATOR_TOKEN)",
)


class OperatorUnauthorized(Exception):
    """No operator token, or a wrong one."""


def require_operator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    expected = services_of(request).settings.operator_token.get_secret_value()
    given = credentials.credentials if credentials is not None else ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise OperatorUnauthorized("an operator token is required: Authorization: Bearer <token>")
