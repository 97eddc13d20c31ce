-- Per quote: the guide price of the station's zone and grade, and the station's pump and platform
-- prices in force at effective_from.
SELECT t.i,
       g.price, g.currency, g.province_code, g.zone_code, g.effective_from,
       pu.price, pu.currency, pu.effective_from,
       pl.price, pl.currency, pl.effective_from
FROM unnest(%s::int[], %s::bigint[], %s::text[], %s::timestamptz[]) AS t(i, station_id, grade, at)
LEFT JOIN station_price_zones z ON z.station_id = t.station_id
LEFT JOIN LATERAL (
    SELECT gp.price, gp.currency, gp.province_code, gp.zone_code, gp.effective_from FROM guide_prices gp
    WHERE gp.province_code = z.province_code AND gp.zone_code = z.zone_code AND gp.grade = t.grade
      AND gp.effective_from <= t.at AND (gp.effective_to IS NULL OR gp.effective_to > t.at)
) g ON true
LEFT JOIN LATERAL (
    SELECT sp.price, sp.currency, sp.effective_from FROM station_prices sp
    WHERE sp.station_id = t.station_id AND sp.grade = t.grade AND sp.tier = 'pump'
      AND sp.effective_from <= t.at AND (sp.effective_to IS NULL OR sp.effective_to > t.at)
) pu ON true
LEFT JOIN LATERAL (
    SELECT sp.price, sp.currency, sp.effective_from FROM station_prices sp
    WHERE sp.station_id = t.station_id AND sp.grade = t.grade AND sp.tier = 'platform'
      AND sp.effective_from <= t.at AND (sp.effective_to IS NULL OR sp.effective_to > t.at)
) pl ON true
