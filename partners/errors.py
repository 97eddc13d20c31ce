"""Partner-feed errors, without HTTP (api/errors.py maps each to a status and a problem type)."""

from __future__ import annotations


class PartnerFeedError(Exception):
    pass


class FeedResyncRequired(PartnerFeedError):
    """The cursor needs changes retention has deleted (or the catalogue was truncated, or one transaction
    is too large to page): take a new snapshot and follow from its cursor."""


class PoiIdTaken(PartnerFeedError):
    """This partner already gave the POI id to another station."""


class PoiIdNotFound(PartnerFeedError):
    """This partner has no station under that POI id (or no POI id on that station)."""


class SubscriptionNotFound(PartnerFeedError):
    """No such webhook subscription of this partner."""


class InvalidSubscription(PartnerFeedError):
    """A subscription the delivery worker could not serve (an address that is not http(s), a filter that
    matches nothing the catalogue knows)."""


class ReplayTooLarge(PartnerFeedError):
    """More changes between the replay's cursor and the worker than one replay reads."""
