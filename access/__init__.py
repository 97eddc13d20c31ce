"""Per-station API credentials (tokens '<key_id>.<secret>'; only a salted scrypt hash is stored)."""
