-- One station as of :as_of, for one grade or (:grade NULL) every grade: the zone's guide price (tier
-- 'guide') and every station tier.
SELECT 'guide' AS tier, gp.price, gp.currency, gp.source, gp.effective_from, gp.confirmed_at,
       gp.zone_code AS zone_code, gp.grade
FROM station_price_zones z
JOIN guide_prices gp ON gp.province_code = z.province_code AND gp.zone_code = z.zone_code
WHERE z.station_id = :station_id AND (CAST(:grade AS text) IS NULL OR gp.grade = :grade)
  AND gp.effective_from <= :as_of AND (gp.effective_to IS NULL OR gp.effective_to > :as_of)
UNION ALL
SELECT sp.tier, sp.price, sp.currency, sp.source, sp.effective_from, sp.confirmed_at, NULL, sp.grade
FROM station_prices sp
WHERE sp.station_id = :station_id AND (CAST(:grade AS text) IS NULL OR sp.grade = :grade)
  AND sp.effective_from <= :as_of AND (sp.effective_to IS NULL OR sp.effective_to > :as_of)
