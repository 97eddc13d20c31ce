"""What partners (map apps, price-comparison sites) receive: a consistent snapshot of every station with
its prices, a gap-free change feed after the snapshot's cursor, their own POI ids on stations, and signed
webhooks of price changes. No HTTP here: api/routes/partner*.py serves it."""
