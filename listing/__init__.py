"""Station lists, transport-free: select (geo/) -> rank -> optional columns (prices, effective price,
wait)."""
