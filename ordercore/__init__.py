"""Reference order core: a separate service implementing contracts/ordercore.openapi.yaml on its own
schema."""
