"""Serving the app: worker processes that each accept on their own SO_REUSEPORT socket."""
