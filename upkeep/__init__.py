"""Upkeep of the database: day partitions ahead, old ones dropped, outboxes and the change log pruned, in
one round run by one worker at a time (upkeep/rounds.py)."""
