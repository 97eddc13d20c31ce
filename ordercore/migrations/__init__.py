"""Alembic environment of the order core (a package only so that type checkers tell it from alembic/)."""
