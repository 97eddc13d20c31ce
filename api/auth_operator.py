"""Operator authentication: `Authorization: Bearer <token>` against settings.operator_token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="the operator token (STATIONS_OPERATOR_TOKEN)")


class OperatorUnauthorized(Exception):
    """No operator token, or a wrong one."""


def require_operator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    expected: str = request.app.state.settings.operator_token.get_secret_value()
    given = credentials.credentials if credentials is not None else ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise OperatorUnauthorized("an operator token is required: Authorization: Bearer <token>")
