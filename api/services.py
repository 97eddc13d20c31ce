"""The worker's services, built once by the app lifespan and handed to routes through one dependency.

Nothing else is kept on `app.state`: `services_of(request)` (the plain accessor, for handlers that skip
FastAPI's dependency solving) and `ServicesDep` (for every other route) are the only ways in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine

from access.partners import KeyHolder
from access.token_cache import VerifiedCache
from api.settings import Settings
from checkout.reconcile import Reconciler
from checkout.service import CheckoutService
from db.read_routing import ReadRouting
from geo.live_index import LiveIndex
from geo.province_outlines import ProvinceOutlines
from listing.sources import ListSources
from occupancy.feed import LiveFeed
from pricing.live_prices import LivePrices
from timekeeping.clock import Clock

if TYPE_CHECKING:  # api.auth_station reads the services
    from api.auth_station import VerifiedTokens
    from api.commit_signal import CommitSignal
    from api.live_changes import ChangeFollower


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock  # where every route and background task reads the time
    engine: Engine
    index: LiveIndex  # stations, in memory
    prices: LivePrices  # the price book of each catalogue version
    occupancy: LiveFeed  # the live occupancy book and the tail that feeds it
    checkout: CheckoutService
    reconciler: Reconciler  # order-core callbacks and the sweep
    lists: ListSources  # what station lists read (index, prices, occupancy, waits, database)
    verified_tokens: VerifiedTokens  # station credentials checked recently
    partner_keys: VerifiedCache[KeyHolder]  # partner keys checked recently (api/auth_partner.py)
    provinces: ProvinceOutlines  # the map page's basemap, read on first use
    changes: ChangeFollower | None = None  # the change-log follower (None when the index is not loaded)
    commits: CommitSignal | None = None  # wakes long-polls of the partner feed at each commit
    reads: ReadRouting | None = None  # where the worker's loads and change-log reads go (a replica or not)


def install(app: FastAPI, services: Services) -> None:
    """The lifespan's one write to app.state."""
    app.state.services = services


def services_of(request: Request) -> Services:
    services = request.app.state.services
    assert isinstance(services, Services)
    return services


async def _services(request: Request) -> Services:
    return services_of(request)


ServicesDep = Annotated[Services, Depends(_services)]
