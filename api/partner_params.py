"""What the partner routes share: the partner of the request with the scopes a route needs, its
coordinate system (coord= or the account's default), and the long-poll signal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from api.auth_partner import PARTNER_PROBLEMS, Partner, PartnerForbidden, partner_with
from api.coord_text import COORD_PATTERN
from api.problems import merge
from geo.coords import CoordSystem

__all__ = ["PARTNER_PROBLEMS", "Partner", "also_needs", "coord_for"]

CoordQuery = Annotated[
    str | None,
    Query(
        description="coordinate system of every location: wgs84, gcj02, bd09; default: your account's",
        json_schema_extra={"pattern": COORD_PATTERN},
    ),
]
PROBLEMS = merge(PARTNER_PROBLEMS, {400: ["invalid-coordinates"]})


def coord_for(partner: Partner, coord: str | None) -> CoordSystem:
    return CoordSystem.parse(coord if coord is not None else partner.coord)


def also_needs(partner: Partner, *scopes: str) -> None:
    """A route needing more than the one scope its dependency checked (the quota is taken once)."""
    missing = [s for s in scopes if s not in partner.scopes]
    if missing:
        raise PartnerForbidden(f"this key lacks the scope {', '.join(missing)}")


StationsReader = Annotated[Partner, Depends(partner_with("stations:read"))]
FeedReader = Annotated[Partner, Depends(partner_with("feed:read"))]
WebhookManager = Annotated[Partner, Depends(partner_with("webhooks:manage"))]
