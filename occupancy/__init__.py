"""Live pump occupancy and queue-time estimates (no HTTP here: api/ maps this to routes)."""
