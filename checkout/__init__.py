"""Checkout: turn a signed quote into an order at the order core, exactly once (no HTTP framework here)."""
