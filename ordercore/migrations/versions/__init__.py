"""Order-core migrations."""
