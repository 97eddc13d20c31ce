"""Where the current time comes from (an injectable Clock)."""
